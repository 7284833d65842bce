"""Workbooks: `.xlsx` (openpyxl, read-only) and legacy `.xls` (xlrd).

A sheet holds one or more blocks, each: an optional title row (one text cell, e.g.
`地区生产总值(亿元)`), a header row (a corner cell, then years), province rows. Blocks end at a
blank row, a note, or the next title. Province names are read from column A.

What a block holds comes from, in order: the `sheets` mapping or the indicator argument (the
manifest), the block's title (which must then agree), the corner cell when it names a unit
(`hundred million CNY( at current price)`) or a catalog indicator, and last the sheet name
when it is a known catalog label (`GDP`). Nothing else is guessed.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.sheets import given_for, requested_sheets
from provpanel.extracts.text import labelled_entry
from provpanel.extracts.values import (
    ColumnMeaning,
    ExtractValue,
    ValueCollector,
    clean_cell,
    column_letter,
    looks_numeric,
    parse_year,
    resolve_meaning,
    title_names_indicator,
)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
REGION_WORDS = frozenset(
    {"地区", "省份", "省", "地区名称", "省市", "省区", "region", "province", "provinces", "area"}
)


def workbook_kind(data: bytes) -> str | None:
    """'xlsx' or 'xls' from the file's first bytes, None for anything else."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    return None


# a formula cell in a sheet's XML: <c ...><f>SUM(B2:B9)</f>[<v>cached</v>]</c>
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


@dataclass(frozen=True)
class MergedRange:
    """A merged range of a sheet, 1-based and inclusive."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def ref(self) -> str:
        return (f"{column_letter(self.min_col)}{self.min_row}:"
                f"{column_letter(self.max_col)}{self.max_row}")


# <mergeCell ref="B5:C5"/> in a sheet's XML (a read-only openpyxl sheet does not list them)
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\sref="([A-Za-z]+)(\d+):([A-Za-z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def _xlsx_merged_ranges(sheet: Any) -> list[MergedRange]:
    """The merged ranges of a read-only openpyxl sheet, from its XML (the <mergeCells> list
    follows the cells)."""
    source = sheet._get_source()  # the sheet's XML in the archive, as openpyxl opens it
    try:
        xml = source.read()
    finally:
        source.close()
    if b"mergeCell" not in xml:
        return []
    return [MergedRange(int(r1), _column_number(c1), int(r2), _column_number(c2))
            for c1, r1, c2, r2 in _MERGE_CELL.findall(xml)]


@dataclass
class _Book:
    kind: str
    handle: Any
    file: str = ""
    formulas: Any = None  # a second, formula-reading handle, only for workbooks with formulas

    @property
    def sheet_names(self) -> list[str]:
        if self.kind == "xlsx":
            return list(self.handle.sheetnames)
        return list(self.handle.sheet_names())

    def rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        """(1-based row number, cell values) for every row, empty rows included."""
        if self.kind == "xlsx":
            sheet = self.handle[name]
            sheet.reset_dimensions()  # some writers record a wrong used range
            rows = sheet.iter_rows(min_row=1, values_only=True)
            if self.formulas is None:
                for number, values in enumerate(rows, 1):
                    yield number, list(values)
                return
            formula_sheet = self.formulas[name]
            formula_sheet.reset_dimensions()
            pairs = itertools.zip_longest(rows, formula_sheet.iter_rows(min_row=1, values_only=True))
            for number, (values, written) in enumerate(pairs, 1):
                values = list(values or ())
                for col, text in enumerate(written or (), 1):
                    if isinstance(text, str) and text.startswith("=") and (
                            col > len(values) or values[col - 1] is None):
                        # a formula whose result was never saved (a file written by a script,
                        # not by a spreadsheet program) would read as an empty cell
                        raise ExtractError(
                            self.file, f"sheet '{name}', cell {column_letter(col)}{number}",
                            "a value: the formula's result is not saved in the file; open the workbook "
                            "in Excel or LibreOffice and save it, so that the results are stored",
                            f"the formula '{text}' without a saved result")
                yield number, values
            return
        import xlrd

        sheet = self.handle.sheet_by_name(name)
        for index in range(sheet.nrows):
            values: list[Any] = []
            for cell in sheet.row(index):
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    values.append(None)
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    values.append(xlrd.error_text_from_code.get(cell.value, "#ERROR"))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    values.append(bool(cell.value))
                else:
                    values.append(cell.value)
            yield index + 1, values

    def merged_ranges(self, name: str) -> dict[int, list[MergedRange]]:
        """The sheet's merged ranges, by each row they cover."""
        if self.kind == "xlsx":
            found = _xlsx_merged_ranges(self.handle[name])
        else:
            found = [MergedRange(rlo + 1, clo + 1, rhi, chi)
                     for rlo, rhi, clo, chi in self.handle.sheet_by_name(name).merged_cells]
        by_row: dict[int, list[MergedRange]] = {}
        for merged in found:
            for row in range(merged.min_row, merged.max_row + 1):
                by_row.setdefault(row, []).append(merged)
        return by_row

    def close(self) -> None:
        if self.kind == "xlsx":
            self.handle.close()
            if self.formulas is not None:
                self.formulas.close()
        else:
            self.handle.release_resources()


def _open(data: bytes, kind: str, file: str) -> _Book:
    try:
        if kind == "xlsx":
            import openpyxl

            handle = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        else:
            import xlrd

            # formatting_info: the sheets' merged ranges (Sheet.merged_cells)
            handle = xlrd.open_workbook(file_contents=data, on_demand=True, formatting_info=True)
    except Exception as exc:  # any library error on a broken file is bad input
        raise ExtractError(
            file, "whole file", f"a readable .{kind} workbook", f"{type(exc).__name__}: {exc}"
        ) from exc
    return _Book(kind, handle, file, _formula_handle(data) if kind == "xlsx" else None)


def _formula_handle(data: bytes) -> Any:
    """A formula-reading view of an .xlsx, only when one of its sheets holds a formula (most
    downloads hold none, and a second parse would double the cost of reading them)."""
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        has_formula = any(
            _FORMULA_TAG.search(archive.read(member))
            for member in archive.namelist()
            if member.startswith("xl/worksheets/") and member.endswith(".xml")
        )
    if not has_formula:
        return None
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)


def _find_sheet(name: str, available: list[str], file: str) -> str:
    """The workbook's sheet for a requested name; surrounding spaces are forgiven only when
    that leaves exactly one candidate (`employment ` has a trailing space in a real file)."""
    if name in available:
        return name
    loose = [sheet for sheet in available if sheet.strip() == name.strip()]
    if len(loose) == 1:
        return loose[0]
    shown = ", ".join(repr(s) for s in available[:12])
    if len(available) > 12:
        shown += f", ... {len(available) - 12} more"
    raise ExtractError(
        file, f"sheet '{name}'", f"a sheet of the workbook ({shown})", "no such sheet"
    )


def read_workbook(
    data: bytes,
    kind: str,
    *,
    file: str,
    indicator: str | None,
    unit: str | None,
    sheet: str | None,
    sheets: Mapping[str, Any] | None,
) -> list[ExtractValue]:
    book = _open(data, kind, file)
    try:
        available = book.sheet_names
        selection = requested_sheets(sheet, sheets)
        collector = ValueCollector(file)
        tables = 0
        for requested, spec in (selection or {name: None for name in available}).items():
            name = _find_sheet(requested, available, file)
            sheet_indicator, sheet_unit = given_for(spec, indicator, unit)
            tables += _read_sheet(book, name, collector, file=file, indicator=sheet_indicator,
                                  unit=sheet_unit, required=selection is not None)
        if not tables:  # an empty workbook is refused as a header-only file is
            shown = ", ".join(repr(name) for name in available[:12])
            raise ExtractError(
                file, "whole file",
                "a table in at least one sheet: a header row with years (e.g. 地区, 2019, 2020) and "
                "province rows", f"no table in any sheet ({shown or 'no sheets'})")
        return collector.values
    except ExtractError:
        raise
    except Exception as exc:  # a workbook that opens but breaks while reading
        raise ExtractError(
            file, "whole file", f"a readable .{kind} workbook", f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        book.close()


def _is_header(cells: list[Any]) -> bool:
    """A row whose column A is not a province and whose other cells are mostly years."""
    if cells and cells[0] is not None and harmonise.lookup_province(cells[0]) is not None:
        return False
    others = [value for value in cells[1:] if clean_cell(value)]
    years = [parse_year(value) for value in others]
    found = [year for year in years if year is not None]
    if not others or len(found) * 2 < len(others):
        return False
    # Years in a header run one way; a data row of year-like numbers (a population of 2154
    # under a misspelt province) rarely does.
    steps = [later - earlier for earlier, later in itertools.pairwise(found)]
    return all(step > 0 for step in steps) or all(step < 0 for step in steps)


def _block_years(cells: list[Any], sheet: str, row: int, file: str) -> dict[int, int]:
    years: dict[int, int] = {}
    first_seen: dict[int, str] = {}
    for index in range(1, len(cells)):
        if not clean_cell(cells[index]):
            continue
        cell = f"{column_letter(index + 1)}{row}"
        year = parse_year(cells[index])
        if year is None:
            raise ExtractError(
                file, f"sheet '{sheet}', cell {cell}", "a year such as 2017", f"'{cells[index]}'"
            )
        if year in first_seen:
            raise ExtractError(
                file,
                f"sheet '{sheet}', cell {cell}",
                f"each year once in the header ({year} is already in cell {first_seen[year]})",
                f"'{clean_cell(cells[index])}' again",
            )
        first_seen[year] = cell
        years[index] = year
    return years


def _block_meaning(
    *,
    sheet: str,
    row: int,
    corner: str,
    title: tuple[str, int] | None,
    printed_unit: tuple[str, int] | None,
    file: str,
    indicator: str | None,
    unit: str | None,
) -> ColumnMeaning:
    label: str | None = None
    label_where = f"sheet '{sheet}', cell A{row}"
    file_unit: str | None = printed_unit[0] if printed_unit else None
    if title is not None and title_names_indicator(title[0], indicator):
        label, label_where = title[0], f"sheet '{sheet}', cell A{title[1]}"
    if corner and harmonise.normalise_label(corner) not in REGION_WORDS:
        if harmonise.lookup_unit(corner) is not None and file_unit is None:
            file_unit = corner
        elif label is None:
            code, corner_unit = harmonise.resolve_indicator(corner)
            if code and (corner_unit is None or harmonise.lookup_unit(corner_unit)):
                label = corner
        # any other corner text is a free description and says nothing we can check
    if label is None and indicator is None:
        code, _unit = harmonise.resolve_indicator(sheet)
        if code is not None:
            label, label_where = sheet.strip(), f"sheet '{sheet}' (sheet name)"
    return resolve_meaning(
        file=file, file_label=label, file_label_where=label_where, file_unit=file_unit,
        given_indicator=indicator, given_unit=unit,
        given_where=f"sheet '{sheet}': indicator given for it",
    )


def _read_sheet(
    book: _Book,
    sheet: str,
    collector: ValueCollector,
    *,
    file: str,
    indicator: str | None,
    unit: str | None,
    required: bool,
) -> int:
    """Read the sheet's tables into the collector; the number of tables (blocks) found."""
    merged = book.merged_ranges(sheet)
    title: tuple[str, int] | None = None
    printed_unit: tuple[str, int] | None = None  # a `单位：亿元` line above the header
    blocks = 0
    years: dict[int, int] | None = None
    meaning: ColumnMeaning | None = None
    header_row: int | None = None  # the open block's header, until a province row is read
    for row, cells in book.rows(sheet):
        filled = [value for value in cells if clean_cell(value)]
        if not filled:
            years = meaning = None  # a blank row ends a block
            continue
        first = cells[0] if cells else None
        if _is_header(cells):
            _check_not_merged(merged, row, 2, sheet, file)  # a merged year cell
            _check_block_has_rows(header_row, sheet, file)
            header_row = row
            years = _block_years(cells, sheet, row, file)
            meaning = _block_meaning(
                sheet=sheet, row=row, corner=clean_cell(first), title=title,
                printed_unit=printed_unit, file=file, indicator=indicator, unit=unit,
            )
            title = printed_unit = None
            blocks += 1
            continue
        is_province = clean_cell(first) and harmonise.lookup_province(first) is not None
        if years is None or meaning is None:
            if len(filled) > 1 and any(looks_numeric(value) for value in cells[1:]):
                # numbers with no year header above them: never skipped silently
                raise ExtractError(
                    file,
                    f"sheet '{sheet}', cell A{row}",
                    "a header row with years (e.g. 地区, 2019, 2020) above the rows of values",
                    f"a row of values outside a table ('{clean_cell(first)}')",
                )
            if len(filled) == 1 and clean_cell(first) and not harmonise.is_non_data_row(first):
                entry = labelled_entry(clean_cell(first))
                if entry is None:
                    title = (clean_cell(first), row)
                elif entry[0] == "indicator":
                    title = (entry[1], row)
                elif entry[0] == "unit":
                    printed_unit = (entry[1], row)
            continue  # free text above or between tables (titles, notes)
        if clean_cell(first) and harmonise.is_non_data_row(first):
            years = meaning = None  # a note ends the block
            continue
        if len(filled) == 1 and clean_cell(first) and not is_province:
            years = meaning = None  # the title of the next block
            title = (clean_cell(first), row)
            continue
        _check_not_merged(merged, row, 1, sheet, file)
        province = harmonise.resolve_province(
            clean_cell(first), file=file, where=f"sheet '{sheet}', cell A{row}"
        )
        header_row = None
        for index, year in years.items():
            raw = cells[index] if index < len(cells) else None
            collector.add(raw=raw, meaning=meaning, province_code=province, year=year,
                          row=row, col=index + 1, sheet=sheet)
    _check_block_has_rows(header_row, sheet, file)
    if blocks == 0 and required:
        raise ExtractError(
            file,
            f"sheet '{sheet}'",
            "a table: a header row with years (e.g. 地区, 2019, 2020) and province rows",
            "no table",
        )
    return blocks


def _check_not_merged(merged: dict[int, list[MergedRange]], row: int, first_col: int, sheet: str,
                      file: str) -> None:
    """A merged range over a table's cells (a header's years, a province row) holds one value
    where the table has several cells: the others would read as empty and be lost. Titles and
    notes may be merged; the table's cells may not (the corner cell of a header may)."""
    for found in merged.get(row, ()):
        if found.max_col >= first_col:
            raise ExtractError(
                file, f"sheet '{sheet}', merged range {found.ref} in the data area",
                "one value per cell in a table's header and province rows (unmerge the range in the "
                "workbook and give each cell its value)",
                "cells merged into one (all but the first would read as empty)")


def _check_block_has_rows(header_row: int | None, sheet: str, file: str) -> None:
    """A year header with no province row under it is a truncated table, not an empty one."""
    if header_row is not None:
        raise ExtractError(
            file,
            f"sheet '{sheet}', row {header_row}",
            "province rows under the header",
            "a header only (no data rows)",
        )
