"""``client.audio``: one module per URL path (``/audio/transcriptions``,
``/audio/translations``, ``/audio/speech``); their public classes are re-exported here."""

from .audio import Audio as Audio
from .speech import Speech as Speech
from .transcriptions import Transcriptions as Transcriptions
from .translations import Translations as Translations

__all__ = ["Audio", "Speech", "Transcriptions", "Translations"]
