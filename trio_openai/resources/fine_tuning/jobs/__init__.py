"""``client.fine_tuning.jobs``: ``/fine_tuning/jobs`` and its ``checkpoints``."""

from .checkpoints import Checkpoints as Checkpoints
from .jobs import Jobs as Jobs

__all__ = ["Checkpoints", "Jobs"]
