"""What every reader produces, and the rules they share: numbers, years, what a column means,
and the duplicate check.

Cell conventions (decided here, the same for every format):
- an empty cell is "not published": it produces no value, never a zero;
- the yearbook markers `…`, `……`, `...`, `-`, `--`, `—`, `——` mean "not available" and are
  treated like an empty cell (the printed yearbook uses them where the portal leaves the
  cell empty); anything else that is not a plain number (NBS prints no thousands separators,
  no footnote marks) is an error;
- the same province-year-indicator twice in one file is an error, even with equal values:
  a file that repeats a cell is not the table its manifest describes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from provpanel import harmonise
from provpanel.errors import ExtractError

NOT_AVAILABLE_MARKERS = frozenset({"…", "……", "...", "-", "--", "—", "——", "－"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_YEAR = re.compile(r"^(\d{4})\s*(年|年度)?$")
_PADDING = " \t\r\n\u3000\"'"


class ExtractValue(NamedTuple):
    """One value read from a cell, with its provenance. A named tuple, not a dataclass: a
    county-level edition has over a million of them, and a tuple is built several times faster."""

    province_code: str  # '00' for the national row
    year: int
    indicator: str  # catalog code, or the original label when not in the catalog
    value: float  # in `unit`
    unit: str | None  # canonical unit code (or the printed unit when not in the catalog)
    source_value: str  # the cell text as read (surrounding padding removed)
    source_unit: str | None
    in_catalog: bool
    sheet: str | None
    source_row: int  # 1-based row/line of the cell in the file or sheet
    source_col: int  # 1-based column of the cell


@dataclass(frozen=True)
class ColumnMeaning:
    """What the numbers of one column (or block, or tidy series) are."""

    indicator: str
    in_catalog: bool
    unit: str | None  # stored unit
    source_unit: str | None  # printed unit (file, manifest or flag)
    multiplier: Decimal  # printed value x multiplier = stored value


def column_letter(number: int) -> str:
    """Spreadsheet column name of a 1-based column number: 1 -> A, 28 -> AB."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_where(sheet: str | None, row: int, col: int) -> str:
    """How an error names a cell: `sheet 'GDP', cell C7` in a workbook, `line 7, column 3`
    in a text file."""
    if sheet is not None:
        return f"sheet '{sheet}', cell {column_letter(col)}{row}"
    return f"line {row}, column {col}"


def clean_cell(raw: object) -> str:
    """Cell text without the padding portal exports add (tabs, spaces, quotes)."""
    if raw is None:
        return ""
    return str(raw).strip(_PADDING)


def cell_text(raw: object) -> str:
    """How a cell is recorded as `source_value`: workbook numbers without a spurious `.0`."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return repr(raw)
    return clean_cell(raw)


def looks_numeric(raw: object) -> bool:
    """Whether a cell holds a number (a workbook number or plain numeric text)."""
    if isinstance(raw, bool):
        return False
    if isinstance(raw, (int, float)):
        return True
    return _NUMBER.match(clean_cell(raw)) is not None


def parse_number(raw: object, *, file: str, where: str) -> Decimal | None:
    """The exact value of a cell, None when it is empty or a not-available marker."""
    if isinstance(raw, bool):
        raise ExtractError(file, where, "a number or an empty cell", repr(raw))
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            raise ExtractError(file, where, "a finite number", repr(raw))
        return Decimal(repr(raw))
    if raw is not None and not isinstance(raw, str):
        raise ExtractError(
            file, where, "a number or an empty cell", f"'{raw}' ({type(raw).__name__})"
        )
    text = clean_cell(raw)
    if not text or text in NOT_AVAILABLE_MARKERS:
        return None
    if not _NUMBER.match(text):
        raise ExtractError(
            file,
            where,
            "a number without thousands separators or notes, an empty cell, or a "
            "not-available marker (…, -, --)",
            f"'{text}'",
        )
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise ExtractError(file, where, "a number", f"'{text}'") from exc
    as_float = float(number)
    if not math.isfinite(as_float) or (as_float == 0 and number != 0):
        # 1e400 would be stored as inf, 1e-400 as 0: neither is what the cell says
        raise ExtractError(file, where, "a number within the range of a double (about 1e-308 to 1e308)",
                           f"'{text}'")
    return number


def parse_year(raw: object) -> int | None:
    """2017 for `2017`, `2017年`, `"2017 "` or a workbook number 2017.0; None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        if float(raw).is_integer() and 1800 <= raw <= 2200:
            return int(raw)
        return None
    match = _YEAR.match(clean_cell(raw))
    if not match:
        return None
    year = int(match.group(1))
    return year if 1800 <= year <= 2200 else None


def catalog_code(indicator: str, *, file: str, where: str) -> str:
    """A caller's indicator (manifest or --indicator flag): a catalog code or a known label."""
    text = clean_cell(indicator)
    if text in harmonise.catalog():
        return text
    code, _unit = harmonise.resolve_indicator(text)
    if code is None:
        raise ExtractError(
            file,
            where,
            f"a catalog indicator code ({', '.join(sorted(harmonise.catalog()))})",
            f"'{indicator}'",
        )
    return code


def resolve_meaning(
    *,
    file: str,
    file_label: str | None,
    file_label_where: str,
    file_unit: str | None,
    given_indicator: str | None,
    given_unit: str | None,
    given_where: str = "argument indicator",
) -> ColumnMeaning:
    """Combine what the file says (`file_label`, `file_unit`) with what the manifest or the
    --indicator flag says. The file's own label wins only if both agree; no label anywhere
    is an error, the pipeline never guesses the indicator."""
    given_code = (
        catalog_code(given_indicator, file=file, where=given_where) if given_indicator else None
    )
    if file_label is not None:
        code, label_unit = harmonise.resolve_indicator(file_label)
        file_unit = file_unit or label_unit
        if given_code is not None and code != given_code:
            raise ExtractError(
                file,
                file_label_where,
                f"the indicator the manifest/--indicator names ('{given_code}')",
                f"'{clean_cell(file_label)}'"
                + (f" (catalog '{code}')" if code else " (not in the catalog)"),
            )
        if code is None:
            # Not a catalog indicator: kept under its own label; a known printed unit becomes its
            # canonical code (万元 -> cny_100m, x 0.0001), an unknown one is kept as printed.
            printed = file_unit or given_unit
            known = harmonise.lookup_unit(printed) if printed else None
            return ColumnMeaning(
                indicator=harmonise.indicator_label(file_label),
                in_catalog=False,
                unit=known[0] if known else printed,
                source_unit=printed,
                multiplier=known[1] if known else Decimal(1),
            )
    elif given_code is None:
        raise ExtractError(
            file,
            file_label_where,
            "an indicator: this file names none (no 指标： line, title or indicator column), "
            "so give --indicator or the manifest's `indicator`",
            "no indicator",
        )
    else:
        code = given_code

    if file_unit and given_unit and not harmonise.same_unit(file_unit, given_unit):
        raise ExtractError(
            file,
            file_label_where,
            f"the unit the manifest/--unit gives ('{given_unit}')",
            f"'{file_unit}'",
        )
    printed = file_unit or given_unit
    if printed is None:
        # Never assume the catalog's unit: a manifest that forgets it would store a file in
        # 万元 as if it were 亿元 with every check green.
        raise ExtractError(
            file,
            file_label_where,
            f"a unit for '{code}': this file states none (no 单位 line, unit column or "
            "bracketed unit), so give the manifest's `unit:` (or --unit), e.g. "
            f"unit: {_example_unit(code)}",
            "no unit",
        )
    unit_where = file_label_where if file_unit else "argument unit"
    stored = harmonise.check_unit(printed, code, file=file, where=unit_where)
    multiplier = harmonise.unit_multiplier(printed, code, file=file, where=unit_where)
    return ColumnMeaning(code, True, stored, printed, multiplier)


def _example_unit(code: str) -> str:
    """A printed unit of the indicator's canonical unit, for the hint of an error."""
    wanted = harmonise.canonical_unit(code)
    for label, (unit_code, factor) in harmonise.unit_labels().items():
        if unit_code == wanted and factor == 1:
            return label
    return wanted


def title_names_indicator(title: str, given_indicator: str | None) -> bool:
    """Whether a table title counts as the file's own indicator label. Titles are free text
    (`表3-9 各地区生产总值`): one counts when it is a catalog label, or when nothing else
    names the indicator (it is then kept as a non-catalog label)."""
    return given_indicator is None or harmonise.resolve_indicator(title)[0] is not None


class ValueCollector:
    """Gathers a file's values in order and refuses a province-year-indicator seen twice.

    A cell's place is put into words only for an error: a county-level edition has over a
    million cells, and formatting each place would cost as much as reading the number."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: list[ExtractValue] = []
        self.where = cell_where  # how a cell is named in errors; frames name their columns
        self._seen: dict[tuple[str, int, str], tuple[str | None, int, int]] = {}

    def add_text_cell(self, row: Any, index: int, *, meaning: ColumnMeaning, province_code: str,
                      year: int) -> None:
        """A cell of a text file: located by its line and 1-based column."""
        self.add(raw=row.cells[index], meaning=meaning, province_code=province_code, year=year,
                 row=row.line, col=index + 1)

    def add(
        self,
        *,
        raw: Any,
        meaning: ColumnMeaning,
        province_code: str,
        year: int,
        row: int,
        col: int,
        sheet: str | None = None,
    ) -> None:
        try:
            number = parse_number(raw, file=self.file, where="")
        except ExtractError as error:
            raise ExtractError(self.file, self.where(sheet, row, col), error.expected, error.found) from None
        if number is None:
            return
        key = (province_code, year, meaning.indicator)
        if key in self._seen:
            raise ExtractError(
                self.file,
                self.where(sheet, row, col),
                f"one value per province, year and indicator (province {province_code}, "
                f"{year}, '{meaning.indicator}' already read at {self.where(*self._seen[key])})",
                f"a second value '{cell_text(raw)}'",
            )
        self._seen[key] = (sheet, row, col)
        self.values.append(
            ExtractValue(
                province_code=province_code,
                year=year,
                indicator=meaning.indicator,
                value=float(number * meaning.multiplier),
                unit=meaning.unit,
                source_value=cell_text(raw),
                source_unit=meaning.source_unit,
                in_catalog=meaning.in_catalog,
                sheet=sheet,
                source_row=row,
                source_col=col,
            )
        )
