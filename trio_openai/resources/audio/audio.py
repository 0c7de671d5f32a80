"""``client.audio``: the namespace of the audio services."""

from __future__ import annotations

from .._base import Resource
from .speech import Speech
from .transcriptions import Transcriptions
from .translations import Translations

__all__ = ["Audio"]


class Audio(Resource):
    """``client.audio``."""

    __slots__ = ()

    @property
    def transcriptions(self) -> Transcriptions:
        return Transcriptions(self._client)

    @property
    def speech(self) -> Speech:
        return Speech(self._client)

    @property
    def translations(self) -> Translations:
        return Translations(self._client)
