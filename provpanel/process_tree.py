"""A build's processes end with the build, however it ends.

A build runs Dagster in-process; its children are dbt (through dagster-dbt), the partial parse,
the edition readers and Dagster's compute-log `tail`s, and theirs (dbt's multiprocessing resource
tracker). `process_tree()` around the build makes sure none outlives it:

- every process started inside it inherits a mark in its environment (PROVPANEL_PROCESS_TREE,
  a token of this build), so the tree's processes are found even after their parent died and
  they were handed to init;
- SIGTERM kills the tree (SIGTERM, then SIGKILL after a grace period), reaps it, then ends the
  build by SIGTERM as before (exit status 143 in a shell);
- a watchdog process waits on a pipe only the build holds: when the build ends, however (SIGKILL
  included), the pipe closes and the watchdog kills whatever still carries the mark;
- the build is the child subreaper of its tree (Linux): a grandchild whose parent ended (dbt's
  resource tracker after dbt) is handed to the build, not to init, and the build reaps it, so
  nothing of the tree is left defunct; the build's own resource tracker is stopped and reaped
  when the process exits (`stop_resource_tracker_at_exit`).

Ctrl-C (SIGINT) is Dagster's to handle (it stops dbt and fails the run); whatever is left when
the interrupted build unwinds is killed on the way out, as after any other end.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

TREE_VARIABLE = "PROVPANEL_PROCESS_TREE"
GRACE_SECONDS = 5.0  # from SIGTERM to SIGKILL for what is left of a tree
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37


def _tokens(environment_value: str | None) -> list[str]:
    return (environment_value or "").split()


def _own_token() -> str | None:
    """This process's token when it is already inside process_tree() (nested use)."""
    prefix = f"{os.getpid()}-"
    return next((token for token in _tokens(os.environ.get(TREE_VARIABLE)) if token.startswith(prefix)), None)


def marked_processes(token: str, exclude: set[int] = frozenset()) -> list:
    """The processes whose environment carries `token` (those started inside the tree, wherever
    they now hang), this one and `exclude` left out."""
    import psutil

    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid() or process.pid in exclude:
            continue
        try:
            if token in _tokens(process.environ().get(TREE_VARIABLE)):
                found.append(process)
        except (psutil.Error, OSError):  # gone, a zombie (no environment), another user's
            continue
    return found


def end_processes(processes: list, grace: float = GRACE_SECONDS, reap_children: bool = False) -> None:
    """SIGTERM to each, SIGKILL to those alive after `grace` seconds; those that were this
    process's children are reaped once ended (no one else is to read the status of a process
    killed here). reap_children: wait on every child of this process meanwhile (this process
    is ending: no child's status is awaited by anyone else)."""
    import psutil

    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    deadline = time.monotonic() + grace
    killed = False
    while True:
        if reap_children:
            _reap_any_child()
        alive = [p for p in processes if _running(p)]
        if not alive:
            break
        if time.monotonic() >= deadline:
            if killed:
                break
            for process in alive:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            killed, deadline = True, time.monotonic() + grace
        time.sleep(0.05)
    if reap_children:
        _reap_any_child()
    for process in processes:
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if process.ppid() == os.getpid() and process.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(process.pid, os.WNOHANG)


def _running(process) -> bool:
    """Alive and not a zombie (a zombie has ended; its parent has yet to reap it)."""
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _reap_any_child() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _prctl(option: int, value: int = 0) -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    if option == _PR_GET_CHILD_SUBREAPER:
        flag = ctypes.c_int(0)
        return flag.value if libc.prctl(option, ctypes.byref(flag), 0, 0, 0) == 0 else None
    return libc.prctl(option, value, 0, 0, 0)


class _Reaper(threading.Thread):
    """Reaps the tree's orphans handed to this process (it is their subreaper) once they end.
    An orphan is recognised as a process seen earlier as a grandchild (dbt's resource tracker,
    seen while dbt ran) that is now a child; this process's own children are left to whoever
    started them (their exit status is theirs to read)."""

    def __init__(self):
        super().__init__(name="provpanel-reaper", daemon=True)
        self._stopping = threading.Event()
        self._grandchildren: dict[int, float] = {}  # pid -> start time, seen with another parent

    def run(self) -> None:
        while not self._stopping.wait(0.5):
            self.sweep()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
        self.sweep()

    def sweep(self) -> None:
        import psutil

        me = os.getpid()
        try:
            tree = psutil.Process(me).children(recursive=True)
        except psutil.Error:
            return
        for process in tree:
            try:
                parent, started = process.ppid(), process.create_time()
                if parent != me:
                    self._grandchildren[process.pid] = started
                elif (self._grandchildren.get(process.pid) == started
                      and process.status() == psutil.STATUS_ZOMBIE):
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(process.pid, os.WNOHANG)
                    del self._grandchildren[process.pid]
            except psutil.Error:
                continue


# this package first on the path (`python -m` would look in the working folder first)
_WATCHDOG = "import sys; sys.path.insert(0, sys.argv[1]); from provpanel.process_tree import _watch; _watch(sys.argv[2])"


def _start_watchdog(token: str) -> subprocess.Popen | None:
    """The watchdog (`_watch`), its stdin a pipe only this process holds."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        return subprocess.Popen([sys.executable, "-c", _WATCHDOG, package_parent, token],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None  # no watchdog: SIGTERM and the way out still end the tree


def _stop_watchdog(watchdog: subprocess.Popen | None, spare: int | None) -> None:
    """Tell the watchdog the build ended well: it spares `spare` (this process's resource
    tracker), ends the tree's leftovers (none by now) and exits."""
    if watchdog is None:
        return
    with contextlib.suppress(OSError):
        if spare:
            watchdog.stdin.write(f"{spare}\n".encode())
        watchdog.stdin.close()
    try:
        watchdog.wait(timeout=GRACE_SECONDS * 3)
    except subprocess.TimeoutExpired:
        watchdog.kill()
        watchdog.wait()


def _end_resource_tracker(wait: bool) -> None:
    """End this process's multiprocessing resource tracker as the process's exit does: the
    semaphores' finalizers first (multiprocessing's exit runs them before the tracker sees the
    end, so none is reported leaked), then our end of its pipe closed (it ignores SIGTERM and
    ends when the pipe closes). wait: reap it too."""
    tracker = getattr(sys.modules.get("multiprocessing.resource_tracker"), "_resource_tracker", None)
    if getattr(tracker, "_fd", None) is None:
        return
    try:
        from multiprocessing import util

        util._run_finalizers(0)
        if wait:
            tracker._stop()
        else:
            os.close(tracker._fd)
            tracker._fd = None
    except (AttributeError, OSError):  # reaped already (ChildProcessError), or another Python's tracker
        pass


def _resource_tracker_pid() -> int | None:
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    return getattr(getattr(tracker, "_resource_tracker", None), "_pid", None)


@contextlib.contextmanager
def process_tree() -> Iterator[None]:
    """Run the block as the owner of every process it starts (see the module's docstring).
    Nested use is the outer one's. SIGTERM is handled only from the main thread."""
    if _own_token() is not None:
        yield
        return
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    inherited = os.environ.get(TREE_VARIABLE)
    os.environ[TREE_VARIABLE] = " ".join([*_tokens(inherited), token])  # an outer tree's mark kept
    watchdog = _start_watchdog(token)
    was_subreaper = _prctl(_PR_GET_CHILD_SUBREAPER)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    reaper = _Reaper()
    reaper.start()

    def terminate(signum, _frame):
        # no printing here: the main thread may be inside a write
        import psutil

        try:
            tree = psutil.Process().children(recursive=True)
        except psutil.Error:
            tree = []
        pids = {process.pid for process in tree}
        tree += [process for process in marked_processes(token) if process.pid not in pids]
        _end_resource_tracker(wait=False)
        end_processes(tree, reap_children=True)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        # what the block left running (nothing, normally), but not this process's resource
        # tracker, which serves the process until it exits
        tracker = _resource_tracker_pid()
        end_processes(marked_processes(token, exclude={pid for pid in (watchdog and watchdog.pid, tracker) if pid}))
        reaper.stop()
        if not was_subreaper:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)
        _stop_watchdog(watchdog, spare=tracker)
        if inherited is None:
            os.environ.pop(TREE_VARIABLE, None)
        else:
            os.environ[TREE_VARIABLE] = inherited


def stop_resource_tracker_at_exit() -> None:
    """Stop and reap this process's resource tracker when the interpreter exits (dbt's
    manifest starts one in a build). Left alone it outlives the process by a moment, is handed
    to init and stays defunct until init reaps it."""
    import atexit

    atexit.register(_end_resource_tracker, wait=True)


def _watch(token: str) -> None:
    """The watchdog: wait until the build closes our stdin (it ended, or was killed), then end
    every process still carrying its token, but those the build named on stdin as it ended
    well. Ctrl-C and a closed terminal are the build's to answer: this process outlives them to
    clean up after it."""
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    said = b""
    try:
        while chunk := os.read(0, 4096):
            said += chunk
    except OSError as err:
        if err.errno not in (errno.EBADF, errno.EIO):
            raise
    spared = {int(word) for word in said.split() if word.isdigit()}
    end_processes(marked_processes(token, exclude=spared))

