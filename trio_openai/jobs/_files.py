"""The files a job makes beside the user's: new versions put in place atomically,
scratch files created exclusively.

Theory of operation
-------------------
The jobs write files whose names derive from a name the user gave: the rewritten
OUTPUT (``retry_failed``, or a file of an earlier version put back to one line per
record), the Batch API state file ``OUTPUT.batches.json`` and the chunks uploaded as
batch inputs. Opening a predictable name with ``open(name, "wb")`` follows a
symbolic link planted at that name by anyone who can write to the directory, and
truncates whatever it points to (the user's own files: the classic temporary-file
attack). So:

- :func:`replace_file` writes a new version of a file into a temporary file made by
  :func:`tempfile.mkstemp` in the same directory (a random name, created with
  ``O_CREAT | O_EXCL``, which fails on any existing name, a link included; mode
  0600), ``fsync`` s it, renames it over the target (``os.replace`` replaces a link,
  never what it points to) and ``fsync`` s the directory. A crash leaves the old
  version or the new one, and at worst a stray temporary file, never a mix. The new
  version keeps the permission bits of the file it replaces (an OUTPUT the user made
  readable stays readable); a file that did not exist is 0600.
- :func:`create_private` creates a scratch file with ``O_CREAT | O_EXCL`` (and
  ``O_NOFOLLOW`` where the system has it), mode 0600.

Rules kept: synchronous I/O, like the rest of the file passes; a temporary file is
removed when writing it fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

__all__ = ["create_private", "fsync_dir", "replace_file"]

_NEW_FILE_MODE = 0o600


@contextlib.contextmanager
def replace_file(path: str) -> Iterator[IO[bytes]]:
    """A binary file whose content becomes ``path`` 's when the block ends without error.

    Raises:
        OSError: the directory is not writable, the disk is full...; ``path`` is
            unchanged and the temporary file removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = _NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if mode != _NEW_FILE_MODE and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):  # cleanup only; the error goes on
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def create_private(path: str) -> IO[bytes]:
    """Create ``path`` for writing (0600); fail if anything, a link included, is there.

    Raises:
        FileExistsError: the name is taken.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(path, flags, _NEW_FILE_MODE), "wb")


def fsync_dir(directory: str) -> None:
    """``fsync`` a directory, so a rename in it survives a power loss."""
    if sys.platform == "win32":  # pragma: no cover - directories cannot be fsynced there
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
