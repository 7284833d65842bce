"""Failures of the machine rather than of the data (a permission, a full disk, a read-only
home, a closed pipe, a missing editions folder) as one line that names the path and says what
to do, instead of a traceback; and output whose reader left, which stops the output, not the
work (`outlive_closed_output`).

The operating system's words are matched in text too: an error raised inside a Dagster step or
by DuckDB reaches the command line as a message, not as an OSError.
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_ACCESS = ("this user ({user}) may not {verb} it: give it access (chmod/chown), or point "
           "PROVPANEL_HOME / PROVPANEL_EDITIONS at folders it may use")
_FULL = ("no space left on the device: free space there, or set PROVPANEL_HOME to a disk with room, "
         "and run again")
_READ_ONLY = "the file system is read-only: set PROVPANEL_HOME to a writable folder"
_QUOTA = "disk quota exceeded: free space in your quota, or set PROVPANEL_HOME elsewhere, and run again"

# a folder we must create (PROVPANEL_HOME and those under it) is a file
_NOT_A_FOLDER = "a file is where a folder must be: point PROVPANEL_HOME at a folder (or remove the file)"

_BY_ERRNO = {errno.EACCES: _ACCESS, errno.EPERM: _ACCESS, errno.ENOSPC: _FULL, errno.EROFS: _READ_ONLY,
             errno.EDQUOT: _QUOTA, errno.ENOTDIR: _NOT_A_FOLDER}
# the same failures as the operating system (and DuckDB, which quotes it) words them
_BY_TEXT = (("No space left on device", _FULL), ("Disk quota exceeded", _QUOTA),
            ("Read-only file system", _READ_ONLY), ("readonly database", _READ_ONLY),
            ("Permission denied", _ACCESS))
# '/a/path' after [Errno n] ..., or "a path" in DuckDB's "Could not write file "...": ..."
_QUOTED_PATH = re.compile(r"""['"](/[^'"]+)['"]""")


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid())


def _advice(template: str, verb: str = "read or write") -> str:
    return template.format(user=_user(), verb=verb)


def os_error_line(err: OSError) -> str | None:
    """'PATH: what went wrong: what to do' for an OSError of the environment, None for others."""
    template = _BY_ERRNO.get(err.errno or 0)
    if isinstance(err, FileExistsError) and err.filename and not Path(os.fsdecode(err.filename)).is_dir():
        template = _NOT_A_FOLDER  # mkdir of a folder that is a file
    if template is None:
        return None
    path = err.filename
    if err.errno in (errno.EACCES, errno.EPERM):
        path = _blocking_folder(err.filename)
    elif template is _NOT_A_FOLDER and err.filename:
        # name the file that stands in the way, not the folder beneath it
        path = next((str(p) for p in reversed(Path(os.fsdecode(err.filename)).parents) if p.is_file()), path)
    path = path or "(unknown path)"
    if err.filename2:
        path = f"{path} -> {err.filename2}"
    return f"{path}: {_advice(template)}"


def _blocking_folder(filename) -> str | None:
    """The outermost folder on the way to `filename` that this user may not enter (an
    unreadable edition folder is named, not a file inside it), else `filename`."""
    if not filename:
        return None
    path = Path(os.fsdecode(filename))
    for folder in reversed(path.parents):
        if folder.is_dir() and not os.access(folder, os.R_OK | os.X_OK):
            return str(folder)
    return str(path)


def with_advice(message: str, home: Path | None = None) -> str:
    """A message (a step's error, a DuckDB or dbt error) cut to its first line, with what to do
    added, when it is a failure of the environment; unchanged otherwise. The path named is the
    one quoted on the line that says what failed, else `home` (everything we write is under it)."""
    lines = message.strip().splitlines()
    for words, template in _BY_TEXT:
        saying = next((line for line in lines if words.lower() in line.lower()), None)
        if saying is not None:
            found = _QUOTED_PATH.search(saying)
            named = found.group(1) if found else (str(home) if home is not None else None)
            where = f"{named}: " if named else ""
            return f"{' '.join(lines[0].split())} ({where}{_advice(template)})"
    return message


# SQLite (Dagster's run storage) words a full disk either way, and names no path
_SQLITE_STORAGE = ("database or disk is full", "disk I/O error", "unable to open database file")
_NEARLY_FULL_BYTES = 32 * 1024 * 1024


def environment_error_line(err: BaseException, home: Path | None = None) -> str | None:
    """One line for an exception that a broken environment explains, None for anything else
    (a bug keeps its traceback). `home`: PROVPANEL_HOME, named when SQLite (Dagster's
    storage under it) fails without saying where."""
    if isinstance(err, OSError):
        line = os_error_line(err)
        if line is not None:
            return line
    text = str(err).strip()
    first = text.splitlines()[0] if text else ""
    if home is not None and any(words in first for words in _SQLITE_STORAGE):
        storage = Path(home) / "dagster"
        if _free_bytes(home) < _NEARLY_FULL_BYTES:
            return f"{storage}: Dagster's storage could not be written ({first}): {_advice(_FULL)}"
        return (f"{storage}: Dagster's storage could not be written ({first}): check that the disk "
                "holding PROVPANEL_HOME has room and can be written, and run again")
    advised = with_advice(text, home)
    return advised if advised != text else None


def _free_bytes(path: Path) -> int:
    import shutil

    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def editions_folder_problem(editions: Path) -> str | None:
    """What is wrong with the editions folder (PROVPANEL_EDITIONS), None when it is a folder."""
    source = "PROVPANEL_EDITIONS" if os.environ.get("PROVPANEL_EDITIONS") else "the editions folder"
    if editions.is_dir():
        return None
    if editions.exists():
        return (f"{editions}: {source} names a file, not a folder: point it at the folder that holds "
                "one folder per edition")
    return (f"{editions}: {source} names a folder that does not exist: create it (one folder per "
            "edition, each with a manifest.yml) or point PROVPANEL_EDITIONS at the one you have")


# The reader of a standard stream is gone: it left (`| head` exited: EPIPE) or the terminal closed (EIO).
_READER_GONE = (errno.EPIPE, errno.EIO)


def _point_at_devnull(fd: int) -> None:
    """/dev/null takes the place of descriptor `fd`: every later write to it, this process's
    and its future children's, succeeds without effect."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


def silence_closed_stdout() -> None:
    """After a BrokenPipeError (`provpanel parse FILE | head`): the reader is gone, so point
    stdout at /dev/null, or the interpreter's last flush raises again at exit."""
    try:
        _point_at_devnull(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def reopen_closed_standard_streams() -> None:
    """stdin, stdout or stderr closed when provpanel started (`provpanel build >&-`): /dev/null
    takes its place, so no file opened later becomes descriptor 1 or 2 and receives output
    (ours, or a child process's), and the stream Python left as None writes nowhere."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
            os.set_inheritable(fd, True)  # the children's standard streams too
        except OSError:
            continue
        if getattr(sys, name) is None and fd:
            setattr(sys, name, io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                                line_buffering=True))


class _StreamWithoutReader(io.RawIOBase):
    """A standard stream's descriptor whose reader may go: the first write that finds it gone
    points the descriptor at /dev/null, and that write and every later one succeed, dropped.
    Each write is written whole."""

    def __init__(self, fd: int):
        super().__init__()
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        try:
            return os.isatty(self._fd)
        except OSError:
            return False

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        written = 0
        while written < len(view):
            try:
                written += os.write(self._fd, view[written:])
            except OSError as err:
                if err.errno not in _READER_GONE:
                    raise  # e.g. a full disk under a redirected stream: said, and not kept to be retried
                _point_at_devnull(self._fd)
                break
        return len(view)


def _flush_or_drop(stream) -> None:
    try:
        stream.flush()
    except OSError as err:
        if err.errno not in _READER_GONE:
            raise
        _point_at_devnull(stream.fileno())
        stream.flush()  # what was buffered goes to /dev/null


@contextmanager
def outlive_closed_output() -> Iterator[None]:
    """For work that is not its output (a build, a removal's rebuild, a fetch, an export): a
    reader that leaves (`provpanel build | head -3`) or a terminal that closes stops the output,
    never the work. stdout and stderr write through `_StreamWithoutReader`, so the first write
    that finds the reader gone points the descriptor at /dev/null: no BrokenPipeError reaches
    a print, a log handler (Dagster's, warnings) or the interpreter's last flush, and the child
    processes started after it write to /dev/null too. A hang-up (SIGHUP) is ignored, by the
    child processes too, as `nohup` would. The exit status is then the work's. Streams a
    caller replaced (a test's capture) are left as they are."""
    replaced = []
    for name, fd, errors in (("stdout", 1, "strict"), ("stderr", 2, "backslashreplace")):
        stream = getattr(sys, name)
        if stream is not None and stream is not getattr(sys, f"__{name}__"):
            continue
        try:
            if stream is not None:
                _flush_or_drop(stream)
                fd = stream.fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            continue
        # written through, unbuffered: a write that fails is not kept to fail again at the next flush
        # (Dagster's flush before it gives a step's captured descriptor back, the interpreter's at exit)
        wrapper = io.TextIOWrapper(
            _StreamWithoutReader(fd), encoding=getattr(stream, "encoding", None) or "utf-8",
            errors=getattr(stream, "errors", None) or errors, line_buffering=getattr(stream, "line_buffering", True),
            write_through=True)
        setattr(sys, name, wrapper)
        replaced.append((name, stream, wrapper))
    hang_up = None
    if threading.current_thread() is threading.main_thread():
        hang_up = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        yield
    finally:
        if hang_up is not None:
            signal.signal(signal.SIGHUP, hang_up)
        for name, stream, wrapper in replaced:
            with suppress(OSError, ValueError):
                wrapper.flush()
            if getattr(sys, name) is wrapper and stream is not None:
                setattr(sys, name, stream)
