"""``client.audio``: one module per URL path (``/audio/transcriptions``,
``/audio/speech``); their public classes are re-exported here."""

from .audio import Audio as Audio
from .speech import Speech as Speech
from .transcriptions import Transcriptions as Transcriptions

__all__ = ["Audio", "Speech", "Transcriptions"]
