"""``client.fine_tuning``: one module per URL path (``/fine_tuning/jobs``, its
``checkpoints``); their public classes are re-exported here."""

from .fine_tuning import FineTuning as FineTuning
from .jobs import Checkpoints as Checkpoints
from .jobs import Jobs as Jobs

__all__ = ["Checkpoints", "FineTuning", "Jobs"]
