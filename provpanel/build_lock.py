"""One build per home at a time: an advisory lock that the kernel drops if the build dies.

A second `provpanel build` on the same PROVPANEL_HOME refuses at once with a clear message
(or waits, with --wait). A SIGKILLed build leaves no stale lock behind: the lock belongs to
the open file descriptor, not to the file.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path


class BuildInProgressError(RuntimeError):
    pass


@contextmanager
def build_lock(home: Path, *, wait_seconds: float = 0.0):
    home.mkdir(parents=True, exist_ok=True)
    path = home / "build.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
                    raise BuildInProgressError(
                        f"another build is running on {home} ({holder}); wait for it to finish, "
                        "or run with --wait to queue behind it"
                    ) from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {datetime.now().isoformat(timespec='seconds')}".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock
