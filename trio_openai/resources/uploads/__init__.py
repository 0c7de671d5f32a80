"""``client.uploads``: one module per URL path (``/uploads``, ``/uploads/{id}/parts``);
their public classes are re-exported here."""

from .parts import Parts as Parts
from .uploads import Uploads as Uploads

__all__ = ["Parts", "Uploads"]
