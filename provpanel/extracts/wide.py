"""Provinces as rows, years as columns: the portal exports (classic GB18030 with a `指标：`
line, current UTF-8 with `\\t,` separators and maybe no `指标：` line) and the English export
(`Region,2019,2018,...`). One reader serves all three: they differ only in bytes and names."""

from __future__ import annotations

from provpanel.errors import ExtractError
from provpanel.extracts.grid import read_province_rows
from provpanel.extracts.text import TextRow, TextTable
from provpanel.extracts.values import (
    ExtractValue,
    parse_year,
    resolve_meaning,
    title_names_indicator,
)


def header_years(header: TextRow, cells: list[str], file: str) -> dict[int, int]:
    """{column index: year} for the header cells after the first; each year once."""
    years: dict[int, int] = {}
    first_seen: dict[int, int] = {}
    for index in range(1, len(cells)):
        year = parse_year(cells[index])
        where = f"line {header.line}, column {index + 1}"
        if year is None:
            raise ExtractError(file, where, "a year such as 2017 or 2017年", f"'{cells[index]}'")
        if year in first_seen:
            raise ExtractError(
                file,
                where,
                f"each year once in the header ({year} is already column {first_seen[year]})",
                f"'{cells[index]}' again",
            )
        first_seen[year] = index + 1
        years[index] = year
    return years


def file_meaning(table: TextTable, file: str, indicator: str | None, unit: str | None):
    """What the numbers are: the `指标：` line (or a title line) and `单位：`, checked against
    the caller's."""
    label = table.preamble.get("indicator")
    where = f"line {label[1]} (指标：)" if label else "whole file (no 指标： line)"
    title = table.preamble.get("title")
    if label is None and title is not None and title_names_indicator(title[0], indicator):
        label, where = title, f"line {title[1]} (title)"
    printed_unit = table.preamble.get("unit")
    return resolve_meaning(
        file=file, file_label=label[0] if label else None, file_label_where=where,
        file_unit=printed_unit[0] if printed_unit else None,
        given_indicator=indicator, given_unit=unit,
    )


def read_wide(
    table: TextTable, *, file: str, indicator: str | None, unit: str | None
) -> list[ExtractValue]:
    assert table.header is not None
    cells = table.header_cells
    years = header_years(table.header, cells, file)
    meaning = file_meaning(table, file, indicator, unit)
    return read_province_rows(table, file, {index: (meaning, year) for index, year in years.items()})
