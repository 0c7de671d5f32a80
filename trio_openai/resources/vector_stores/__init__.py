"""``client.vector_stores``: one module per URL path (``/vector_stores``, its
``files`` and ``file_batches``); their public classes are re-exported here."""

from .file_batches import FileBatches as FileBatches
from .files import Files as Files
from .vector_stores import VectorStores as VectorStores

__all__ = ["FileBatches", "Files", "VectorStores"]
