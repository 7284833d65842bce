"""Text extracts: bytes -> decoded text -> rows of cells with their line numbers, and the parts
every text family shares (the `数据库：`/`指标：`/`时间：` preamble, the header row, the body).

Decoding happens here, in Python: UTF-8 (with or without BOM) first, then GB18030 (a superset
of GBK and GB2312). Portal exports of the current kind end every cell with a tab before the
comma; cells are kept raw here and cleaned by the readers.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.values import clean_cell

_PREAMBLE_KEY = re.compile(r"^\s*(?P<key>[^:：,]{1,12})\s*[:：]\s*(?P<value>.*)$")
PREAMBLE_KEYS = {  # the portal's words, then the English export's
    "数据库": "database", "指标": "indicator", "时间": "time", "单位": "unit", "地区": "region",
    "database": "database", "indicator": "indicator", "time": "time", "unit": "unit",
}


# control characters other than tab and line ends: their count tells binary from text
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class TextRow:
    line: int  # 1-based line where the record starts
    cells: list[str]  # raw cells as the CSV parser gives them

    def cell(self, index: int) -> str:
        return clean_cell(self.cells[index]) if index < len(self.cells) else ""

    @property
    def is_blank(self) -> bool:
        return not any(clean_cell(c) for c in self.cells)


@dataclass
class TextTable:
    """A text extract split into its preamble, header row and body rows."""

    encoding: str
    preamble: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (value, line)
    header: TextRow | None = None
    body: list[TextRow] = field(default_factory=list)

    @property
    def header_cells(self) -> list[str]:
        """Header cells, cleaned, without the empty cells a trailing comma adds."""
        assert self.header is not None
        cells = [clean_cell(c) for c in self.header.cells]
        while cells and not cells[-1]:
            cells.pop()
        return cells


# how much of a file is looked at before the rest is read: a file that is no table says so in
# its first lines, and is refused without reading (and decoding, and splitting) all of it; the
# readers judge the header and at most HEAD_ROWS rows under it
HEAD_BYTES = 1 << 20
HEAD_ROWS = 500

_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _open_regular(path: Path, display_name: str) -> int:
    """A descriptor of the file, once it is known to be a regular file: a named pipe, a
    device or a socket is refused without waiting on it (opened non-blocking, judged by
    fstat), a link loop and a missing file are said in one line."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        found = "no such file"
        if os.path.islink(path):
            found = f"a symbolic link to {os.readlink(path)}, which does not exist"
        raise ExtractError(display_name, "whole file", "an existing file", found) from exc
    except IsADirectoryError as exc:
        raise ExtractError(display_name, "whole file", "a file", "a directory") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExtractError(display_name, "whole file", "a regular file",
                               "a symbolic link loop (the link leads back to itself)") from exc
        raise ExtractError(display_name, "whole file", "a readable file", str(exc)) from exc
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        os.set_blocking(fd, True)
        return fd
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise ExtractError(display_name, "whole file", "a file", "a directory")
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
    raise ExtractError(display_name, "whole file", "a regular file (a download saved on disk)", kind)


def read_bytes(path: Path, display_name: str,
               first_look: Callable[[bytes], None] | None = None) -> bytes:
    """The file's bytes. A file longer than HEAD_BYTES is shown to `first_look` by its first
    HEAD_BYTES before the rest is read: it raises when they show the file is no table."""
    fd = _open_regular(Path(path), display_name)
    try:
        with os.fdopen(fd, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            if len(head) < HEAD_BYTES or first_look is None:
                return head + handle.read() if len(head) == HEAD_BYTES else head
            first_look(head)
            handle.seek(0)
            return handle.read()
    except OSError as exc:
        raise ExtractError(display_name, "whole file", "a readable file", str(exc)) from exc


_UTF8_BOM = b"\xef\xbb\xbf"
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MARKUP_STARTS = ("<!doctype html", "<html", "<table", "<?xml")


def _position(text: str) -> tuple[int, int]:
    """(1-based line, 1-based character in that line) just after `text`."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return normalised.count("\n") + 1, len(normalised) - (normalised.rfind("\n") + 1) + 1


def _undecodable(data: bytes, exc: UnicodeDecodeError, encoding: str, display_name: str,
                 expected: str) -> ExtractError:
    """An error at the first byte that does not decode in `encoding`, with its line."""
    before = data[: exc.start].decode(encoding, errors="replace")
    line, character = _position(before)
    label = {"utf-8": "UTF-8", "gb18030": "GB18030"}[encoding]
    return ExtractError(
        display_name,
        f"line {line}, character {character}",
        expected,
        f"bytes that are not {label} ({data[exc.start : exc.start + 4]!r})",
    )


def _is_utf8_so_far(data: bytes, exc: UnicodeDecodeError) -> bool:
    """Whether the bytes before a UTF-8 error are clearly UTF-8 (Chinese text): the file is
    then UTF-8 with bad bytes, not GB18030, and must not be read as GB18030."""
    before = data[: exc.start].decode("utf-8", errors="replace")
    return len(_CJK_CHAR.findall(before)) >= 2


def _mojibake_original(text: str) -> str | None:
    """What a text read as before it went through Latin-1 (or Windows-1252) by mistake, if
    it did: no Chinese at all, accented letters in runs, and Chinese once the bytes are
    restored. Isolated accents (`Région`) are not taken for mojibake."""
    if text.isascii() or _CJK_CHAR.search(text):
        return None
    high = [index for index, ch in enumerate(text) if ord(ch) >= 0x80]
    if len(high) < 4:
        return None
    in_runs = sum(
        1
        for index in high
        if (index > 0 and ord(text[index - 1]) >= 0x80)
        or (index + 1 < len(text) and ord(text[index + 1]) >= 0x80)
    )
    if in_runs < 0.9 * len(high):
        return None
    for wrong in ("latin-1", "cp1252"):
        try:
            restored = text.encode(wrong)
        except UnicodeEncodeError:
            continue
        for right in ("utf-8", "gb18030"):
            try:
                original = restored.decode(right)
            except UnicodeDecodeError:
                continue
            if len(_CJK_CHAR.findall(original)) >= 2:
                return original
    return None


def _check_decoded(text: str, display_name: str) -> None:
    """Refuse text that decoded but is not a table export: mojibake, web pages."""
    original = _mojibake_original(text)
    if original is not None:
        lines, restored_lines = text.splitlines(), original.splitlines()
        number = next(i for i, line in enumerate(lines) if any(ord(ch) >= 0x80 for ch in line))
        shown = lines[number].strip()[:40]
        restored = restored_lines[number].strip()[:20] if number < len(restored_lines) else ""
        raise ExtractError(
            display_name,
            f"line {number + 1}",
            "text in UTF-8 or GB18030, not mojibake (Chinese text saved again as Latin-1 or "
            "Windows-1252; use the file as downloaded)",
            f"'{shown}', which reads '{restored}' once its bytes are restored",
        )
    if text.lstrip("\ufeff \t\r\n").lower().startswith(_MARKUP_STARTS):
        raise ExtractError(
            display_name,
            "whole file",
            "a text extract (CSV) or a workbook (.xlsx, .xls)",
            "an HTML or XML document (a web page saved under the file's name)",
        )


def decode(data: bytes, display_name: str) -> tuple[str, str]:
    """(text, encoding name). Empty and binary files, mojibake and web pages are errors."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise ExtractError(
                display_name, "whole file", "UTF-16 text after its byte-order mark", str(exc)
            ) from exc
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ExtractError(display_name, "whole file", "a non-empty extract", "an empty file")
    if b"\x00" in data[:65536]:
        raise ExtractError(
            display_name,
            "whole file",
            "a text extract (CSV) or a workbook (.xlsx, .xls)",
            "binary content (NUL bytes)",
        )
    has_bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM) :] if has_bom else data  # error offsets count from here
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        if has_bom or _is_utf8_so_far(body, utf8_error):
            raise _undecodable(body, utf8_error, "utf-8", display_name,
                               "UTF-8 text (the file is UTF-8 up to here)") from utf8_error
        try:
            text, encoding = data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_error:
            raise _undecodable(data, gb_error, "gb18030", display_name,
                               "text in UTF-8 or GB18030/GBK") from gb_error
    controls = len(_CONTROL_CHARACTERS.findall(text))
    if controls > max(4, len(text) // 100):
        raise ExtractError(
            display_name,
            "whole file",
            "a text extract (CSV) or a workbook (.xlsx, .xls)",
            "binary content (control characters)",
        )
    _check_decoded(text, display_name)
    return text, encoding


def iter_rows(text: str, display_name: str) -> Iterator[TextRow]:
    """CSV records with the line each starts on (quoted notes may span several lines), as the
    reader reaches them."""
    # Excel's "Unicode text" export separates by tabs; everything else here by commas.
    delimiter = "\t" if "," not in text and "\t" in text else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_line = 0
    try:
        for cells in reader:
            yield TextRow(line=previous_line + 1, cells=cells)
            previous_line = reader.line_num
    except csv.Error as exc:
        raise ExtractError(
            # the record that starts there is the broken one (its quote may never close)
            display_name, f"line {previous_line + 1}", "well-formed CSV (balanced quotes)", str(exc)
        ) from exc


def split_rows(text: str, display_name: str) -> list[TextRow]:
    """Every CSV record with the line it starts on (iter_rows)."""
    return list(iter_rows(text, display_name))


def labelled_entry(text: str) -> tuple[str, str] | None:
    """('indicator', '地区生产总值(亿元)') for `指标：地区生产总值(亿元)`, likewise 数据库,
    时间, 单位 and their English forms; None for any other text."""
    match = _PREAMBLE_KEY.match(text)
    if not match:
        return None
    key = PREAMBLE_KEYS.get(harmonise.normalise_label(match.group("key")))
    return (key, match.group("value").strip()) if key else None


def preamble_entry(row: TextRow) -> tuple[str, str] | None:
    """(key, value) for a preamble line (one non-empty cell), else None."""
    filled = [clean_cell(c) for c in row.cells if clean_cell(c)]
    if len(filled) != 1:
        return None
    return labelled_entry(filled[0])


def _is_title(row: TextRow) -> bool:
    """A one-cell line above the header such as `表3-9 各地区生产总值(亿元)`."""
    filled = [c for c in row.cells if clean_cell(c)]
    return len(filled) == 1 and bool(row.cell(0)) and not harmonise.is_non_data_row(row.cell(0))


def _split_table(rows: Iterable[TextRow], body_limit: int | None = None
                 ) -> tuple[dict[str, tuple[str, int]], TextRow | None, list[TextRow]]:
    """The preamble (key -> (value, line)), the header row (the first non-blank row that is
    neither a preamble line nor the first title line; None if there is none) and the rows
    after it (at most `body_limit`: the rows are then read no further)."""
    preamble: dict[str, tuple[str, int]] = {}
    header: TextRow | None = None
    body: list[TextRow] = []
    for row in rows:
        if header is not None:
            if body_limit is not None and len(body) >= body_limit:
                break
            body.append(row)
            continue
        if row.is_blank:
            continue
        entry = preamble_entry(row)
        if entry is None and _is_title(row) and "title" not in preamble:
            entry = ("title", row.cell(0))
        if entry is None:
            header = row
        else:
            preamble[entry[0]] = (entry[1], row.line)
    return preamble, header, body


def parse_table(text: str, encoding: str, display_name: str) -> TextTable:
    """Preamble lines (and one title line), then the first other non-blank row as header,
    then the body."""
    rows = split_rows(text, display_name)
    preamble, header, body = _split_table(rows)
    if header is None:
        raise ExtractError(
            display_name, f"line {rows[-1].line if rows else 1}", "a table header row", "no table"
        )
    return TextTable(encoding=encoding, preamble=preamble, header=header, body=body)


def head_table(head: bytes, display_name: str) -> TextTable | None:
    """The table as far as the file's first bytes show it: its preamble, header and the
    complete rows after it (at most HEAD_ROWS), for the file to be judged (and refused) before
    the rest is read. None when the head cannot judge (no header yet, or no row under it).
    Raises the errors its lines show: binary or undecodable bytes, broken CSV, a line longer
    than the head."""
    end = max(head.rfind(b"\n"), head.rfind(b"\r"))
    if end < 0:
        raise ExtractError(display_name, "line 1", "lines of a table (a header row, then a row per province "
                           "or year)", f"no line end in the first {len(head):,} bytes")
    cut = head[: end + 1]  # complete lines: a line end never falls inside a UTF-8 or GB18030 character
    if not cut.strip(b" \t\r\n\xef\xbb\xbf"):
        return None
    text, encoding = decode(cut, display_name)

    def rows() -> Iterator[TextRow]:
        try:
            yield from iter_rows(text, display_name)
        except ExtractError as err:
            # a quoted cell that runs past the head (a longer one is refused by the CSV
            # reader's field limit): the rows before it are judged
            if err.found != "unexpected end of data":
                raise

    preamble, header, body = _split_table(rows(), body_limit=HEAD_ROWS)
    if header is None or not any(not row.is_blank for row in body):
        return None
    return TextTable(encoding=encoding, preamble=preamble, header=header, body=body)


def body_rows(table: TextTable, file: str) -> list[TextRow]:
    """The rows of the table proper: blank rows skipped, everything from the first note
    (`注：`, `数据来源：`, `Source:`) on is the footer and is set aside. A header with no row
    under it is an error: a truncated download, not an empty table."""
    rows: list[TextRow] = []
    notes: dict[str, bool] = {}  # first cells repeat (a long file's provinces): judge each once
    for row in table.body:
        if row.is_blank:
            continue
        first = row.cell(0)
        if first and first not in notes:
            notes[first] = harmonise.is_non_data_row(first)
        if first and notes[first]:
            break  # a row with an empty first cell but data is kept: readers reject it
        rows.append(row)
    if not rows:
        assert table.header is not None
        raise ExtractError(
            file,
            f"line {table.header.line}",
            "rows of data under the header",
            "a header only (no data rows)",
        )
    return rows


def column_labels(table: TextTable, file: str, expected: str) -> Iterator[tuple[int, str, str]]:
    """(column index, label, where) for each header cell after the first (which heads the
    row labels); an empty one is an error saying `expected` belongs there."""
    assert table.header is not None
    cells = table.header_cells
    for index in range(1, len(cells)):
        where = f"line {table.header.line}, column {index + 1}"
        if not cells[index]:
            raise ExtractError(file, where, expected, "an empty header")
        yield index, cells[index], where


def data_rows(table: TextTable, file: str) -> Iterator[TextRow]:
    """The body rows (see `body_rows`), each checked as it is read to be as wide as the
    header (a row's own errors come before a later row's width)."""
    width = len(table.header_cells)
    for row in body_rows(table, file):
        check_width(row, width, file)
        yield row


def header_roles(cells: list[str], names: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """{role: column index} for the header cells that name a role (`names`: role -> the
    normalised names that mean it); the first such cell of each role counts."""
    roles: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = harmonise.normalise_label(cell)
        for role, words in names.items():
            if name in words and role not in roles:
                roles[role] = index
                break
    return roles


def check_width(row: TextRow, width: int, display_name: str) -> None:
    """A data row has as many cells as the header (trailing empty cells aside)."""
    if len(row.cells) < width:
        raise ExtractError(
            display_name,
            f"line {row.line}",
            f"{width} cells as in the header",
            f"{len(row.cells)} cells (a short row)",
        )
    extra = [c for c in row.cells[width:] if clean_cell(c)]
    if extra:
        raise ExtractError(
            display_name,
            f"line {row.line}, column {width + 1}",
            f"at most {width} cells as in the header",
            f"'{clean_cell(extra[0])}' beyond the header",
        )
