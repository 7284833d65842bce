"""One data frame of a container (`provpanel.extracts.frames`) into values, read as
- long: columns province, year, value, optionally indicator, unit and a breakdown column
  (`合计` and its parts: one breakdown value is the indicator, the total by default);
- wide: a province column and one column per year (`2019`, `y2019`, `X2019`).
Column roles come from the manifest's `columns` (role -> column name) or from the column names
(the tidy synonyms, English or Chinese). Provenance: `source_row` is the frame's row (1-based,
the header not counted), `source_col` the column's position (1-based), `sheet` the R object's
name (None for a file that holds one unnamed frame).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.tidy import COLUMN_SYNONYMS
from provpanel.extracts.values import (
    ColumnMeaning,
    ValueCollector,
    clean_cell,
    parse_year,
    resolve_meaning,
)

ROLES = ("province", "year", "value", "indicator", "unit", "breakdown")
BREAKDOWN_NAMES = frozenset(
    {"breakdown", "category", "type", "component", "分类", "类别", "类型", "构成", "分组", "项目"}
)
TOTAL_LABELS = frozenset({"合计", "总计", "总数", "总量", "total", "all", "全部"})
_WIDE_YEAR = re.compile(r"^[A-Za-z_]{0,4}\s*(\d{4})\s*年?$")


def _cells(frame: Any, index: int) -> list[Any]:
    """A column's cells as Python values, missing ones (NaN, NA, None) as None."""
    cells = frame.iloc[:, index].tolist()
    return [None if _is_missing(cell) else cell for cell in cells]


def _is_missing(cell: Any) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float):
        return math.isnan(cell)
    return type(cell).__name__ in ("NAType", "NaTType")


def _frame_where(sheet: str | None, names: list[str]) -> Callable[[str | None, int, int], str]:
    prefix = f"object '{sheet}', " if sheet is not None else ""

    def where(_sheet: str | None, row: int, col: int) -> str:
        return f"{prefix}row {row}, column {col} ('{names[col - 1]}')"

    return where


def _column_roles(names: list[str], columns: Mapping[str, str] | None, where: str,
                  file: str) -> dict[str, int]:
    """{role: column index}: the manifest's names first, then the names' synonyms."""
    roles: dict[str, int] = {}
    for role, name in (columns or {}).items():
        if role not in ROLES:
            raise ExtractError(file, f"{where}column roles", f"a role among {', '.join(ROLES)}",
                               f"'{role}'")
        if name not in names:
            raise ExtractError(
                file,
                f"{where}column roles",
                f"a column named '{name}' for the role {role} (columns: {', '.join(names)})",
                "no such column",
            )
        roles[role] = names.index(name)
    taken = set(roles.values())
    synonyms = dict(COLUMN_SYNONYMS, breakdown=BREAKDOWN_NAMES)
    for index, name in enumerate(names):
        if index in taken:
            continue
        normalised = harmonise.normalise_label(name)
        for role, words in synonyms.items():
            if role not in roles and normalised in words:
                roles[role] = index
                taken.add(index)
                break
    return roles


def _breakdown_column(frame: Any, names: list[str], roles: dict[str, int]) -> int | None:
    """The breakdown column: the manifest's, a named one, or a text column without a role
    that holds a total label (`合计`)."""
    if "breakdown" in roles:
        return roles["breakdown"]
    taken = set(roles.values())
    for index in range(len(names)):
        if index in taken:
            continue
        labels = {harmonise.normalise_label(cell) for cell in _cells(frame, index)
                  if isinstance(cell, str)}
        if labels & TOTAL_LABELS:
            return index
    return None


def _unnamed_breakdown(frame: Any, names: list[str], roles: dict[str, int]) -> int | None:
    """A column without a role that splits repeated province-years (`发明`, `外观设计` without
    a total): returned so that the error lists its values, rather than a duplicate cell."""
    keys = [roles[role] for role in ("province", "year", "indicator") if role in roles]
    key_frame = frame.iloc[:, keys]
    if not key_frame.duplicated().any():
        return None
    grouped = frame.groupby([frame.iloc[:, i] for i in keys], dropna=False, sort=False)
    for index in range(len(names)):
        if index in roles.values():
            continue
        if (grouped[frame.columns[index]].nunique(dropna=False) > 1).any():
            return index
    return None


def _breakdown_rows(frame: Any, names: list[str], roles: dict[str, int],
                    breakdown: Mapping[str, str] | None, file: str, where: str) -> list[bool] | None:
    """Which rows hold the indicator (None: every row). The breakdown value is the manifest's,
    else the only one, else the total; anything else is an error listing the values."""
    index = _breakdown_column(frame, names, roles)
    wanted = (breakdown or {}).get("value")
    if index is None:
        index = _unnamed_breakdown(frame, names, roles)
    if index is None:
        if wanted is not None:
            raise ExtractError(
                file, f"{where}breakdown", "a breakdown column (name it: breakdown.column)",
                f"none among the columns {', '.join(names)}",
            )
        return None
    cells = [clean_cell(cell) for cell in _cells(frame, index)]
    values = list(dict.fromkeys(cells))
    shown = ", ".join(f"'{v}'" for v in values[:20]) + (" ..." if len(values) > 20 else "")
    column = f"{where}column {index + 1} ('{names[index]}', breakdown)"
    if wanted is not None:
        keep = harmonise.normalise_label(wanted)
        if keep not in {harmonise.normalise_label(v) for v in values}:
            raise ExtractError(file, column, f"the breakdown value '{wanted}' the manifest names",
                               f"only {shown}")
    elif len(values) == 1:
        keep = harmonise.normalise_label(values[0])
    else:
        totals = [v for v in values if harmonise.normalise_label(v) in TOTAL_LABELS]
        if len(totals) != 1:
            raise ExtractError(
                file,
                column,
                "a total row (合计, 总计, total) or the breakdown value to read named in the "
                "manifest (breakdown: {value: ...}) or with --breakdown",
                f"the values {shown}",
            )
        keep = harmonise.normalise_label(totals[0])
    return [harmonise.normalise_label(cell) == keep for cell in cells]


def _label_unit(label: str | None) -> str | None:
    """The unit a column label states (`GDP (亿元)` or a label that is a unit)."""
    if not label:
        return None
    if harmonise.lookup_unit(label) is not None:
        return label
    _name, unit = harmonise.split_unit(label)
    return unit if unit and harmonise.lookup_unit(unit) else None


def frame_province(label: Any, *, file: str, where: str) -> str:
    """A province cell: a name, a two-digit code or a six-digit region code (`440000`)."""
    if isinstance(label, float) and label.is_integer():
        label = int(label)
    text = clean_cell(label)
    if text in harmonise.province_codes():
        return text
    if len(text) == 6 and text.isdigit() and text.endswith("0000") and (
        text[:2] in harmonise.province_codes() or text == "000000"
    ):
        return text[:2]
    return harmonise.resolve_province(text, file=file, where=where)


def _year_of(cell: Any) -> int | None:
    if hasattr(cell, "year") and not isinstance(cell, (int, float, str)):
        return int(cell.year)  # a Stata or Parquet date column
    return parse_year(cell)


def read_frame(
    frame: Any,
    collector: ValueCollector,
    *,
    sheet: str | None,
    labels: Mapping[str, str],
    indicator: str | None,
    unit: str | None,
    columns: Mapping[str, str] | None,
    breakdown: Mapping[str, str] | None,
) -> None:
    file = collector.file
    names = [str(name) for name in frame.columns]
    prefix = f"object '{sheet}', " if sheet is not None else ""
    collector.where = _frame_where(sheet, names)
    if len(frame) == 0:
        raise ExtractError(file, f"{prefix}whole frame", "rows of data under the column names",
                           f"a frame with columns {names} and no rows")
    breakdown_columns = dict(columns or {})
    if breakdown and breakdown.get("column"):
        breakdown_columns["breakdown"] = breakdown["column"]
    roles = _column_roles(names, breakdown_columns, prefix, file)
    if all(role in roles for role in ("province", "year", "value")):
        _read_long(frame, collector, names, roles, sheet=sheet, labels=labels,
                   indicator=indicator, unit=unit, breakdown=breakdown, prefix=prefix)
        return
    year_columns = {i: int(m.group(1)) for i, name in enumerate(names)
                    if i not in roles.values() and (m := _WIDE_YEAR.match(name.strip()))}
    if "province" in roles and year_columns:
        _read_wide(frame, collector, names, roles["province"], year_columns, sheet=sheet,
                   indicator=indicator, unit=unit)
        return
    raise ExtractError(
        file,
        f"{prefix}column names",
        "columns province, year, value (a long frame) or a province column and one column "
        "per year (a wide frame); name them in the manifest's `columns` (e.g. columns: "
        "{province: prov, year: yr, value: val})",
        f"columns {names}",
    )


def _read_long(frame: Any, collector: ValueCollector, names: list[str], roles: dict[str, int], *,
               sheet: str | None, labels: Mapping[str, str], indicator: str | None,
               unit: str | None, breakdown: Mapping[str, str] | None, prefix: str) -> None:
    file = collector.file
    where = collector.where
    keep = _breakdown_rows(frame, names, roles, breakdown, file, prefix)
    provinces_col, years_col, values_col = roles["province"], roles["year"], roles["value"]
    provinces, years, values = (_cells(frame, provinces_col), _cells(frame, years_col),
                                _cells(frame, values_col))
    indicators = _cells(frame, roles["indicator"]) if "indicator" in roles else None
    units = _cells(frame, roles["unit"]) if "unit" in roles else None
    column_unit = _label_unit(labels.get(names[values_col]))
    meanings: dict[tuple[str | None, str | None], ColumnMeaning] = {}
    province_codes: dict[str, str] = {}
    for number in range(len(values)):
        if keep is not None and not keep[number]:
            continue
        row = number + 1
        label = clean_cell(provinces[number])
        province = province_codes.get(label)
        if province is None:
            province = province_codes[label] = frame_province(
                provinces[number], file=file, where=where(sheet, row, provinces_col + 1))
        year = _year_of(years[number])
        if year is None:
            raise ExtractError(file, where(sheet, row, years_col + 1), "a year such as 2017",
                               f"'{clean_cell(years[number])}'")
        indicator_label = None
        if indicators is not None:
            indicator_label = clean_cell(indicators[number]) or None
            if indicator_label is None:
                raise ExtractError(file, where(sheet, row, roles["indicator"] + 1),
                                   "an indicator code or label", "an empty cell")
        printed_unit = (clean_cell(units[number]) or None) if units is not None else column_unit
        key = (indicator_label, printed_unit)
        if key not in meanings:
            meanings[key] = resolve_meaning(
                file=file, file_label=indicator_label,
                file_label_where=(where(sheet, row, roles["indicator"] + 1) if indicator_label
                                  else f"{prefix}whole frame (no indicator column)"),
                file_unit=printed_unit, given_indicator=indicator, given_unit=unit,
            )
        collector.add(raw=values[number], meaning=meanings[key], province_code=province,
                      year=year, row=row, col=values_col + 1, sheet=sheet)


def _read_wide(frame: Any, collector: ValueCollector, names: list[str], province_col: int,
               year_columns: dict[int, int], *, sheet: str | None, indicator: str | None,
               unit: str | None) -> None:
    file = collector.file
    prefix = f"object '{sheet}', " if sheet is not None else ""
    meaning = resolve_meaning(
        file=file, file_label=None,
        file_label_where=f"{prefix}whole frame (a wide frame names no indicator)",
        file_unit=None, given_indicator=indicator, given_unit=unit,
    )
    provinces = _cells(frame, province_col)
    columns = {index: _cells(frame, index) for index in year_columns}
    for number, label in enumerate(provinces):
        row = number + 1
        if label is None or harmonise.is_non_data_row(label):
            continue
        province = frame_province(label, file=file,
                                  where=collector.where(sheet, row, province_col + 1))
        for index, year in year_columns.items():
            collector.add(raw=columns[index][number], meaning=meaning, province_code=province,
                          year=year, row=row, col=index + 1, sheet=sheet)
