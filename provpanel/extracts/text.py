"""Text extracts: bytes -> decoded text -> rows of cells with their line numbers, and the parts
every text family shares (the `数据库：`/`指标：`/`时间：` preamble, the header row, the body).

Decoding happens here, in Python: UTF-8 (with or without BOM) first, then GB18030 (a superset
of GBK and GB2312). Portal exports of the current kind end every cell with a tab before the
comma; cells are kept raw here and cleaned by the readers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
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


def read_bytes(path: Path, display_name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ExtractError(display_name, "whole file", "an existing file", "no such file") from exc
    except IsADirectoryError as exc:
        raise ExtractError(display_name, "whole file", "a file", "a directory") from exc
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
    if _CJK_CHAR.search(text):
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


def split_rows(text: str, display_name: str) -> list[TextRow]:
    """CSV records with the line each starts on (quoted notes may span several lines)."""
    # Excel's "Unicode text" export separates by tabs; everything else here by commas.
    delimiter = "\t" if "," not in text and "\t" in text else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[TextRow] = []
    previous_line = 0
    try:
        for cells in reader:
            rows.append(TextRow(line=previous_line + 1, cells=cells))
            previous_line = reader.line_num
    except csv.Error as exc:
        raise ExtractError(
            # the record that starts there is the broken one (its quote may never close)
            display_name, f"line {previous_line + 1}", "well-formed CSV (balanced quotes)", str(exc)
        ) from exc
    return rows


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


def parse_table(text: str, encoding: str, display_name: str) -> TextTable:
    """Preamble lines (and one title line), then the first other non-blank row as header,
    then the body."""
    table = TextTable(encoding=encoding)
    rows = split_rows(text, display_name)
    index = 0
    while index < len(rows):
        row = rows[index]
        entry = None if row.is_blank else preamble_entry(row)
        if row.is_blank:
            index += 1
            continue
        if entry is None and _is_title(row) and "title" not in table.preamble:
            entry = ("title", row.cell(0))
        if entry is None:
            break
        table.preamble[entry[0]] = (entry[1], row.line)
        index += 1
    if index >= len(rows):
        raise ExtractError(
            display_name, f"line {rows[-1].line if rows else 1}", "a table header row", "no table"
        )
    table.header = rows[index]
    table.body = rows[index + 1 :]
    return table


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
