"""Atomic file writes: a temporary file in the target's folder, flushed, then renamed.

A write that fails at any point (a full disk, a crash, an exception while producing the
contents) leaves the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", **kwargs) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success it replaces ``path``.

    Parameters
    ----------
    path : str or Path
        The file to write (created or replaced).
    mode : str
        ``"wb"`` or ``"w"``; further keyword arguments go to ``open`` (``encoding``,
        ``newline``).

    Raises
    ------
    OSError
        If the folder cannot be written; the old file is then untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}.")
    path = Path(path)
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, mode, **kwargs) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            # keep the permissions of the file being replaced
            with contextlib.suppress(OSError):
                os.chmod(temporary, path.stat().st_mode & 0o7777)
        else:
            with contextlib.suppress(OSError):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as file:
        file.write(data)
