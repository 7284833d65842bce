"""Years as rows, provinces as columns (`"时间","北京市","天津市",...` / `"2003年","5267 ",...`),
the portal's transposed layout; values may be quoted and padded."""

from __future__ import annotations

from provpanel import harmonise
from provpanel.extracts.grid import read_year_rows
from provpanel.extracts.text import TextTable
from provpanel.extracts.values import ExtractValue
from provpanel.extracts.wide import file_meaning


def read_transposed(
    table: TextTable, *, file: str, indicator: str | None, unit: str | None
) -> list[ExtractValue]:
    assert table.header is not None
    cells = table.header_cells
    provinces = {
        index: harmonise.resolve_province(
            cells[index], file=file, where=f"line {table.header.line}, column {index + 1}"
        )
        for index in range(1, len(cells))
    }
    meaning = file_meaning(table, file, indicator, unit)
    columns = {index: (meaning, province) for index, province in provinces.items()}
    return read_year_rows(table, file, columns, example_year=2003)
