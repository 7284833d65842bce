"""`provpanel ui`: run `dagster dev` so that it stops when asked, however it was started.

`dagster dev` alone misbehaves in two ways (STACK.md): started in the background of a
non-interactive shell it ignores SIGTERM and SIGINT (the shell leaves SIGINT ignored and
Dagster maps SIGTERM onto SIGINT's handler), and when it is killed outright its webserver and
daemon live on and hold the port. So `provpanel ui` stays as a small supervisor instead of
exec'ing: `dagster dev` runs as its child, in a process group of its own, with SIGINT restored
and a parent-death signal (Linux); SIGTERM, SIGINT and SIGHUP to the supervisor are passed on
as SIGINT to that group (Dagster's own shutdown), and what is left after a grace period is
killed. If the supervisor itself is killed (SIGKILL), the kernel sends `dagster dev` SIGINT,
which shuts its webserver and daemon down.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 20.0  # dagster dev waits for its webserver and daemon; then the group is killed
_PR_SET_PDEATHSIG = 1


def dagster_dev_argv(host: str, port: int, working_directory: Path) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    return [str(dagster), "dev", "-m", "orchestration.definitions", "-d", str(working_directory),
            "-h", host, "-p", str(port)]


def _prepare_child(parent_pid: int) -> None:
    """In the child before exec: default SIGINT (so Dagster's shutdown can be triggered), and on
    Linux SIGINT when the supervisor dies, whatever killed it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0)
        if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
            os._exit(1)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def run_dagster_dev(argv: list[str], *, cwd: Path, env: dict | None = None,
                    grace_seconds: float = GRACE_SECONDS) -> int:
    """Run argv (dagster dev) as a supervised child until it exits or a stop signal arrives.
    Returns the child's exit code, or 128 + the signal's number when a stop was asked for."""
    parent_pid = os.getpid()
    requested: list[int] = []
    child: subprocess.Popen | None = None

    def request_stop(signum, _frame):
        if not requested:
            requested.append(signum)
        if child is not None:
            # the whole group: dagster dev and its webserver, daemon and code server
            _signal_group(child.pid, signal.SIGINT)

    previous = {signum: signal.signal(signum, request_stop) for signum in STOP_SIGNALS}
    try:
        # preexec_fn: the CLI runs no other thread at this point
        child = subprocess.Popen(argv, cwd=cwd, env=env, process_group=0,
                                 preexec_fn=lambda: _prepare_child(parent_pid))  # noqa: PLW1509
        if requested:  # a signal arrived while the child was being started
            _signal_group(child.pid, signal.SIGINT)
        while True:
            try:
                returncode = child.wait(timeout=grace_seconds if requested else None)
                break
            except subprocess.TimeoutExpired:
                _signal_group(child.pid, signal.SIGKILL)
                returncode = child.wait()
                break
        # anything of the group still alive (a grandchild that ignored the shutdown) goes too
        _signal_group(child.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 + requested[0] if requested else returncode
