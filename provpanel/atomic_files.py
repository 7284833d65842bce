"""Write a file so that a reader sees the old content or the new, never a part: the bytes go
to a hidden file beside the target, are flushed to disk (fsync), and the file is renamed onto
the target (a rename within a folder is atomic)."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Replace `path` with `data` (text is written as UTF-8) all at once. On any failure the
    old file is left untouched and no partial file is left behind."""
    path = Path(path)
    # the pid keeps two processes writing the same file from sharing one partial
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with partial.open("wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
