"""Read one downloaded extract, whatever its format family, into `ExtractValue`s.

    values = read_extract(path, indicator="patents_granted")
    detect_format(path)  # 'portal_classic', 'portal_current', 'cross_section', 'transposed',
                         # 'english', 'workbook', 'tidy', 'portal_long', 'national_table',
                         # 'portal_json' (a saved portal answer),
                         # or a data-frame container: 'dta', 'rds', 'rdata', 'parquet'

The family is chosen by content, never by file name. Every expected problem with the input
is an `provpanel.errors.ExtractError` naming the file, the place and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provpanel.errors import ExtractError
from provpanel.extracts.cross_section import read_cross_section
from provpanel.extracts.detect import FORMATS, classify_table
from provpanel.extracts.frames import check_not_compressed, container_kind, read_container
from provpanel.extracts.national import read_national_table
from provpanel.extracts.portal_json import looks_like_portal_json, read_portal_json
from provpanel.extracts.portal_long import read_portal_long
from provpanel.extracts.text import decode, head_table, parse_table, read_bytes
from provpanel.extracts.tidy import read_tidy
from provpanel.extracts.transposed import read_transposed
from provpanel.extracts.values import NOT_AVAILABLE_MARKERS, ExtractValue
from provpanel.extracts.wide import read_wide
from provpanel.extracts.workbook import read_workbook, workbook_kind

__all__ = [
    "FORMATS",
    "NOT_AVAILABLE_MARKERS",
    "ExtractError",
    "ExtractValue",
    "detect_format",
    "read_extract",
]

_TEXT_READERS = {
    "portal_classic": read_wide,
    "portal_current": read_wide,
    "english": read_wide,
    "cross_section": read_cross_section,
    "transposed": read_transposed,
    "tidy": read_tidy,
    "portal_long": read_portal_long,
    "national_table": read_national_table,
}


_LINE = re.compile(r"^line (\d+)\b")


def _first_look(head: bytes, file: str, indicator: str | None = None, unit: str | None = None) -> None:
    """Judge a long text file by its first bytes (text.HEAD_BYTES) before the rest is read: the
    errors its complete lines show (not a table header, a bad row) are raised as reading the
    whole file would raise them, so a huge file of junk is refused in bounded memory.
    Workbooks, data-frame containers and portal answers are left to their readers."""
    if workbook_kind(head) or container_kind(head) or looks_like_portal_json(head):
        return
    check_not_compressed(head, file)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: decoded whole
        return
    table = head_table(head, file)
    if table is None:
        return
    last_line = table.body[-1].line if table.body else table.header.line
    try:
        _TEXT_READERS[classify_table(table, file)](table, file=file, indicator=indicator, unit=unit)
    except ExtractError as err:
        found = _LINE.match(err.where)
        if found and int(found.group(1)) <= last_line:
            raise  # a line the head holds whole: the whole file says the same
        # anything else (a whole-file rule, the manifest's arguments) is judged on the whole file


def _read(path: Path, file: str, *, indicator: str | None = None, unit: str | None = None,
          judge_head: bool = True) -> bytes:
    return read_bytes(path, file, (lambda head: _first_look(head, file, indicator, unit)) if judge_head else None)


def detect_format(path: str | Path, *, display_name: str | None = None) -> str:
    """The format family of a file, from its bytes."""
    path = Path(path)
    file = display_name or str(path)
    data = _read(path, file)
    if workbook_kind(data):
        return "workbook"
    container = container_kind(data)
    if container:
        return container
    check_not_compressed(data, file)
    if looks_like_portal_json(data):
        return "portal_json"
    text, encoding = decode(data, file)
    return classify_table(parse_table(text, encoding, file), file)


def read_extract(
    path: str | Path,
    *,
    indicator: str | None = None,
    unit: str | None = None,
    sheet: str | None = None,
    sheets: Mapping[str, Any] | None = None,
    display_name: str | None = None,
    columns: Mapping[str, str] | None = None,
    breakdown: Mapping[str, str] | None = None,
) -> list[ExtractValue]:
    """Every value of one extract, in file order, with its provenance.

    `indicator`/`unit` come from the manifest or the --indicator flag; `sheet` restricts a
    workbook to one sheet (an R file to one object); `sheets` maps sheet name -> {indicator,
    unit}; `columns` (role -> column name) and `breakdown` ({column, value}) say how a data
    frame's columns are read; `display_name` is how the file is named in error messages
    (default: the path)."""
    path = Path(path)
    file = display_name or str(path)
    # a text file read with sheets or column roles is refused for that, before its lines
    data = _read(path, file, indicator=indicator, unit=unit,
                 judge_head=not (sheet is not None or sheets or columns or breakdown))
    kind = workbook_kind(data)
    if kind:
        return read_workbook(
            data, kind, file=file, indicator=indicator, unit=unit, sheet=sheet, sheets=sheets
        )
    container = container_kind(data)
    if container:
        return read_container(path, container, file=file, indicator=indicator, unit=unit,
                              sheet=sheet, sheets=sheets, columns=columns, breakdown=breakdown)
    if columns or breakdown:
        raise ExtractError(
            file, "column roles", "a data frame (.dta, .rds, .rda, .parquet) when `columns` or "
            "`breakdown` is given", "a file that is not a data frame",
        )
    check_not_compressed(data, file)
    if looks_like_portal_json(data):  # an answer of the portal's query interface (provpanel fetch)
        if sheet is not None or sheets:
            raise ExtractError(file, "sheet selection", "a workbook (.xlsx, .xls) when sheets are named",
                               "a portal JSON answer")
        return read_portal_json(data, file=file, indicator=indicator, unit=unit)
    text, encoding = decode(data, file)  # binary, empty, mojibake: said before anything else
    if sheet is not None or sheets:
        raise ExtractError(
            file, "sheet selection", "a workbook (.xlsx, .xls) when sheets are named", "a text file"
        )
    table = parse_table(text, encoding, file)
    family = classify_table(table, file)
    return _TEXT_READERS[family](table, file=file, indicator=indicator, unit=unit)
