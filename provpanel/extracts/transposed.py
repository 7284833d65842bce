"""Years as rows, provinces as columns (`"时间","北京市","天津市",...` / `"2003年","5267 ",...`),
the portal's transposed layout; values may be quoted and padded."""

from __future__ import annotations

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.text import TextTable, body_rows, check_width
from provpanel.extracts.values import ExtractValue, ValueCollector, parse_year
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
    collector = ValueCollector(file)
    for row in body_rows(table, file):
        check_width(row, len(cells), file)
        year = parse_year(row.cell(0))
        if year is None:
            raise ExtractError(
                file,
                f"line {row.line}, column 1",
                "a year such as 2003 or 2003年",
                f"'{row.cell(0)}'",
            )
        for index, province in provinces.items():
            collector.add_text_cell(row, index, meaning=meaning, province_code=province, year=year)
    return collector.values
