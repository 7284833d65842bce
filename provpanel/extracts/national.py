"""A national table: years as rows, one column per series, each header with its unit
(`,人民币对日元汇率(日元=100),...,人民币对美元汇率(美元=100)` / `2001年,6.8075,,106.08,827.7`).
Every value is national (province code `00`). A column whose label is a catalog indicator
(`人民币对美元汇率` -> exchange_rate) is converted like any catalog value; the others are kept
under their own label and printed unit, unconverted, as every reader keeps non-catalog columns.
"""

from __future__ import annotations

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.grid import read_year_rows
from provpanel.extracts.text import TextTable, column_labels
from provpanel.extracts.values import (
    ColumnMeaning,
    ExtractValue,
    catalog_code,
    parse_year,
    resolve_meaning,
)

# a corner cell that says "the rows are years" (or says nothing)
CORNER_WORDS = frozenset({"", "时间", "年份", "年", "年度", "year", "years", "time", "指标"})


def is_national_table(table: TextTable) -> bool:
    """Years down the first column, series (not provinces, not years) across the header."""
    cells = table.header_cells
    if not cells or harmonise.normalise_label(cells[0]) not in CORNER_WORDS:
        return False
    rest = cells[1:]
    if not rest or any(harmonise.lookup_province(c) or parse_year(c) for c in rest):
        return False
    first = next((row for row in table.body if not row.is_blank), None)
    return first is not None and parse_year(first.cell(0)) is not None


def _meanings(table: TextTable, file: str, indicator: str | None,
              unit: str | None) -> dict[int, ColumnMeaning]:
    """Each column's meaning. The manifest's indicator (and unit) apply to the column(s) whose
    label is that indicator; a single column takes them whatever its label."""
    assert table.header is not None
    cells = table.header_cells
    given = catalog_code(indicator, file=file, where="argument indicator") if indicator else None
    targets = {index for index in range(1, len(cells))
               if given and harmonise.resolve_indicator(cells[index])[0] == given}
    if given and not targets:
        if len(cells) != 2:
            raise ExtractError(
                file,
                f"line {table.header.line}",
                f"a column whose label is the indicator '{given}' the manifest names",
                f"the columns {cells[1:]}",
            )
        targets = {1}
    meanings: dict[int, ColumnMeaning] = {}
    for index, label, where in column_labels(table, file, "a series label with its unit"):
        chosen = index in targets
        _label, label_unit = harmonise.split_unit(label)
        code, _unit = harmonise.resolve_indicator(label)
        meanings[index] = resolve_meaning(
            file=file,
            file_label=label if code is not None or not chosen else None,
            file_label_where=where,
            file_unit=label_unit if code is None and chosen else None,
            given_indicator=given if chosen else None,
            given_unit=unit if chosen else None,
        )
    return meanings


def read_national_table(
    table: TextTable, *, file: str, indicator: str | None, unit: str | None
) -> list[ExtractValue]:
    meanings = _meanings(table, file, indicator, unit)
    columns = {index: (meaning, harmonise.NATIONAL_CODE) for index, meaning in meanings.items()}
    return read_year_rows(table, file, columns, example_year=2001)
