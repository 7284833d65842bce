"""The two grid layouts of text extracts, read cell by cell once each column is understood:
a province a row (the wide exports, the cross-section) and a year a row (the transposed
export, the national table). Column 1 labels the row; every other column has its meaning
and the coordinate the row label does not give."""

from __future__ import annotations

from collections.abc import Mapping

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.text import TextTable, data_rows
from provpanel.extracts.values import ColumnMeaning, ExtractValue, ValueCollector, parse_year


def read_province_rows(
    table: TextTable, file: str, columns: Mapping[int, tuple[ColumnMeaning, int]]
) -> list[ExtractValue]:
    """Rows led by a province; `columns`: {column index: (meaning, year)}."""
    collector = ValueCollector(file)
    for row in data_rows(table, file):
        province = harmonise.resolve_province(
            row.cell(0), file=file, where=f"line {row.line}, column 1"
        )
        for index, (meaning, year) in columns.items():
            collector.add_text_cell(row, index, meaning=meaning, province_code=province, year=year)
    return collector.values


def read_year_rows(
    table: TextTable,
    file: str,
    columns: Mapping[int, tuple[ColumnMeaning, str]],
    *,
    example_year: int,
) -> list[ExtractValue]:
    """Rows led by a year; `columns`: {column index: (meaning, province code)}.
    `example_year` is the year an error shows as an example (one the layout is known for)."""
    collector = ValueCollector(file)
    for row in data_rows(table, file):
        year = parse_year(row.cell(0))
        if year is None:
            raise ExtractError(
                file,
                f"line {row.line}, column 1",
                f"a year such as {example_year} or {example_year}年",
                f"'{row.cell(0)}'",
            )
        for index, (meaning, province) in columns.items():
            collector.add_text_cell(row, index, meaning=meaning, province_code=province, year=year)
    return collector.values
