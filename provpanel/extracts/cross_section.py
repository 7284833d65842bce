"""One year, provinces as rows, several indicators as columns, each header with its unit
(`时间：2021年` / `地区,地区生产总值 (亿元),第三产业增加值 (亿元),...`). Columns that are not
in the catalog (per-capita GDP, sector detail) are kept under their own label and unit."""

from __future__ import annotations

import re

from provpanel.errors import ExtractError
from provpanel.extracts.grid import read_province_rows
from provpanel.extracts.text import TextTable, column_labels
from provpanel.extracts.values import ExtractValue, resolve_meaning

_ONE_YEAR = re.compile(r"^\s*(\d{4})\s*年?\s*$")


def table_year(table: TextTable, file: str) -> int:
    """The single year of the `时间：` line."""
    time = table.preamble.get("time")
    if time is None:
        raise ExtractError(
            file,
            "preamble",
            "a 时间： line naming the year of a cross-section (e.g. 时间：2021年)",
            "no 时间： line",
        )
    match = _ONE_YEAR.match(time[0])
    if not match:
        raise ExtractError(
            file, f"line {time[1]} (时间：)", "one year such as 2021年", f"'{time[0]}'"
        )
    return int(match.group(1))


def read_cross_section(
    table: TextTable, *, file: str, indicator: str | None, unit: str | None
) -> list[ExtractValue]:
    year = table_year(table, file)
    columns = {}
    for index, label, where in column_labels(table, file, "an indicator label with its unit"):
        meaning = resolve_meaning(
            file=file, file_label=label, file_label_where=where, file_unit=None,
            given_indicator=indicator, given_unit=unit,
        )
        columns[index] = (meaning, year)
    return read_province_rows(table, file, columns)
