"""The files a command writes for the user (`provpanel export`, `provpanel coverage --plot`).

Every such writer asks `check_output_file` first, before any work:
- a path provpanel keeps (`provpanel.config.kept_by_provpanel`: anything under PROVPANEL_HOME,
  the editions folder), also through a symbolic link, is refused whatever --force says;
- an existing file is kept unless --force, and --force replaces only the user's own regular
  file of the kind being written, told by its content (a CSV never replaces a DuckDB
  database, a Parquet file, a folder or a named pipe);
- the file is then written aside and renamed into place (`write_aside`): it appears whole or
  not at all, and a link at the path is replaced, never written through.
Each refusal is one line naming the path and why (`OutputRefused`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from provpanel.config import Paths, kept_by_provpanel

# what each writer writes, as a message names it
KINDS = {
    "csv": "a CSV file",
    "dta": "a Stata file",
    "parquet": "a Parquet file",
    "png": "a PNG image",
    "svg": "an SVG image",
    "pdf": "a PDF document",
}
# what a file found at the path is, told by its first bytes
_FOUND = {
    "duckdb": "a DuckDB database",
    "sqlite": "an SQLite database",
    "parquet": "a Parquet file",
    "dta": "a Stata file",
    "png": "a PNG image",
    "pdf": "a PDF document",
    "svg": "an SVG image",
    "zip": "a ZIP archive (a workbook, a document)",
    "gzip": "a compressed file",
    "text": "a text file",
    "binary": "a binary file",
    "empty": "an empty file",
}
# the kinds of existing file --force may replace with each kind written
_REPLACEABLE = {
    "csv": {"text", "empty"},
    "dta": {"dta", "empty"},
    "parquet": {"parquet", "empty"},
    "png": {"png", "empty"},
    "svg": {"svg", "empty"},
    "pdf": {"pdf", "empty"},
}
_HEAD_BYTES = 4096


class OutputRefused(Exception):
    """The path cannot be written for the user: one line naming it and why."""


def file_kind(path: Path) -> str:
    """What a regular file holds, from its first bytes (a key of _FOUND)."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head:
        return "empty"
    if head[8:12] == b"DUCK":
        return "duckdb"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    # Stata 13+ (formats 117-119) start with a tag; 8-12 (113-115) with the format byte
    if head.startswith(b"<stata_dta>") or (len(head) > 3 and head[0] in (0x71, 0x72, 0x73)
                                           and head[1] in (1, 2) and head[2] == 1):
        return "dta"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if b"\x00" in head:
        return "binary"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in lowered:
        return "svg"
    return "text"


def _what_is_there(path: Path) -> str | None:
    """What stands at the path when it is not a regular file (None for a regular file or nothing)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return None  # a dangling link: the file written replaces the link
        except (OSError, RuntimeError):
            return "a symbolic link that resolves nowhere (a loop)"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def check_output_file(path: str | os.PathLike, kind: str, *, force: bool, option: str = "--out",
                      paths: Paths | None = None) -> Path:
    """The path, once it may be written with `kind` (a key of KINDS); else OutputRefused."""
    path = Path(path)
    kept = kept_by_provpanel(path, paths)
    if kept is not None:
        resolved = os.path.realpath(path)
        through = f" (it resolves to {resolved})" if Path(resolved) != Path(os.path.abspath(path)) else ""
        raise OutputRefused(f"{path}{through}: provpanel keeps {kept} there; write your file outside "
                            f"PROVPANEL_HOME and the editions folder (--force does not change this)")
    there = _what_is_there(path)
    if there is not None:
        raise OutputRefused(f"{path}: is {there}; expected a path for {KINDS[kind]}: choose another {option}")
    if path.exists():
        if not force:
            raise OutputRefused(f"{path}: exists; give --force to overwrite it, or another {option}")
        found = file_kind(path)
        if found not in _REPLACEABLE[kind]:
            raise OutputRefused(f"{path}: is {_FOUND[found]}, not {KINDS[kind]}: --force replaces only "
                                f"{KINDS[kind]}; choose another {option}")
    folder = path.parent
    if not folder.is_dir():
        raise OutputRefused(f"{folder}: no such folder")
    return path


@contextmanager
def write_aside(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed onto `path` when the block ends
    without an error, removed otherwise (the file appears whole or not at all)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_user_file(path: str | os.PathLike, kind: str, write: Callable[[Path], object], *, force: bool,
                    option: str = "--out", paths: Paths | None = None) -> Path:
    """Check the path (check_output_file), then write it aside with `write(partial)` and rename."""
    path = check_output_file(path, kind, force=force, option=option, paths=paths)
    with write_aside(path) as partial:
        write(partial)
    return path
