"""Data frames researchers share compiled panels in: Stata `.dta` (pyreadstat), R `.rds` /
`.rda` / `.RData` (pyreadr) and Parquet (duckdb). Recognised by their first bytes, read into
a data frame, then through the same rules as a tidy file.

A frame is read as
- long: columns province, year, value, optionally indicator, unit and a breakdown column
  (`合计` and its parts: one breakdown value is the indicator, the total by default);
- wide: a province column and one column per year (`2019`, `y2019`, `X2019`).
Column roles come from the manifest's `columns` (role -> column name) or from the column names
(the tidy synonyms, English or Chinese). Provenance: `source_row` is the frame's row (1-based,
the header not counted), `source_col` the column's position (1-based), `sheet` the R object's
name (None for a file that holds one unnamed frame).
"""

from __future__ import annotations

import bz2
import lzma
import math
import re
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.sheets import given_for, requested_sheets
from provpanel.extracts.tidy import COLUMN_SYNONYMS
from provpanel.extracts.values import (
    ColumnMeaning,
    ExtractValue,
    ValueCollector,
    clean_cell,
    parse_year,
    resolve_meaning,
)

CONTAINER_NAMES = {
    "dta": "Stata .dta file",
    "rds": "R .rds file",
    "rdata": "R data file (.rda, .RData)",
    "parquet": "Parquet file",
}
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
ROLES = ("province", "year", "value", "indicator", "unit", "breakdown")
BREAKDOWN_NAMES = frozenset(
    {"breakdown", "category", "type", "component", "分类", "类别", "类型", "构成", "分组", "项目"}
)
TOTAL_LABELS = frozenset({"合计", "总计", "总数", "总量", "total", "all", "全部"})

# Stata formats 104-115 begin with their version byte, the byte order (1 or 2) and 1;
# formats 117 and later with the text `<stata_dta>`.
_OLD_DTA_VERSIONS = frozenset({104, 105, 108, 110, 111, 112, 113, 114, 115})
_RDATA_STARTS = (b"RDX2\n", b"RDX3\n", b"RDA2\n", b"RDA3\n", b"RDB2\n", b"RDB3\n")
_RDS_STARTS = (b"X\n\x00\x00\x00\x02", b"X\n\x00\x00\x00\x03", b"A\n2\n", b"A\n3\n",
               b"B\n\x02\x00\x00\x00", b"B\n\x03\x00\x00\x00")
_WIDE_YEAR = re.compile(r"^[A-Za-z_]{0,4}\s*(\d{4})\s*年?$")


def _decompressed_start(data: bytes, size: int = 16) -> bytes:
    """The first bytes of a gzip, bzip2 or xz stream (how R compresses its files), else the
    bytes themselves. A broken stream gives what could be read (then no container matches)."""
    if data.startswith(b"\x1f\x8b"):
        decompressor: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif data.startswith(b"BZh"):
        decompressor = bz2.BZ2Decompressor()
    elif data.startswith(b"\xfd7zXZ\x00"):
        decompressor = lzma.LZMADecompressor()
    else:
        return data[:size]
    out = b""
    try:
        for start in range(0, len(data), 1 << 16):  # bzip2 yields only whole blocks
            out += decompressor.decompress(data[start : start + (1 << 16)])
            if len(out) >= size:
                break
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        pass
    return out[:size]


def container_kind(data: bytes) -> str | None:
    """'dta', 'rds', 'rdata' or 'parquet' from a file's first bytes, None for anything else."""
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"<stata_dta>"):
        return "dta"
    if len(data) >= 4 and data[0] in _OLD_DTA_VERSIONS and data[1] in (1, 2) and data[2] == 1:
        return "dta"
    start = _decompressed_start(data)
    if start.startswith(_RDATA_STARTS):
        return "rdata"
    if start.startswith(_RDS_STARTS):
        return "rds"
    return None


def check_not_compressed(data: bytes, file: str) -> None:
    """A compressed stream that is no container (a truncated .rda, a zipped CSV) is an error
    that says so, not `binary content`."""
    for magic, name in _COMPRESSED.items():
        if data.startswith(magic):
            raise ExtractError(
                file,
                "whole file",
                "an R data file (.rda, .rds), a Stata or Parquet file, a workbook or a text extract",
                f"a {name} stream that does not start like an R data file (truncated, or "
                "another compressed content)",
            )


def _load(path: Path, kind: str, file: str) -> list[tuple[str | None, Any, dict[str, str]]]:
    """(object name, data frame, column labels) for every data frame of the file."""
    try:
        if kind == "dta":
            import pyreadstat

            frame, meta = pyreadstat.read_dta(str(path))
            labels = {name: label for name, label in zip(meta.column_names, meta.column_labels)
                      if label}
            return [(None, frame, labels)]
        if kind in ("rds", "rdata"):
            import pyreadr

            result = pyreadr.read_r(str(path))
            return [(name, frame, {}) for name, frame in result.items()]
        import duckdb

        with duckdb.connect() as con:
            frame = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
        return [(None, frame, {})]
    except Exception as exc:  # any library error on a broken container is bad input
        raise ExtractError(
            file, "whole file", f"a readable {CONTAINER_NAMES[kind]}", f"{type(exc).__name__}: {exc}"
        ) from exc


def read_container(
    path: Path,
    kind: str,
    *,
    file: str,
    indicator: str | None,
    unit: str | None,
    sheet: str | None = None,
    sheets: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
    breakdown: Mapping[str, str] | None = None,
) -> list[ExtractValue]:
    """Every value of a container file. `sheet`/`sheets` choose R objects by name (like the
    sheets of a workbook); a file with several frames and no choice is an error."""
    frames = _load(path, kind, file)
    if not frames:
        raise ExtractError(
            file, "whole file", "a data frame (other R objects are not read)", "no data frame"
        )
    names = [name for name, _frame, _labels in frames]
    selection = requested_sheets(sheet, sheets)
    if selection is None and len(frames) == 1:
        selection = {names[0]: None}
    elif selection is None:
        raise ExtractError(
            file,
            "whole file",
            "one data frame, or the object to read named with --sheet or the manifest's `sheets`",
            f"{len(frames)} data frames ({', '.join(repr(n) for n in names)})",
        )
    by_name = {name: (frame, labels) for name, frame, labels in frames}
    collector = ValueCollector(file)
    for name, spec in selection.items():
        if name not in by_name:
            raise ExtractError(
                file,
                f"object '{name}'",
                f"a data frame of the file ({', '.join(repr(n) for n in names)})",
                "no such object",
            )
        frame, labels = by_name[name]
        frame_indicator, frame_unit = given_for(spec, indicator, unit)
        read_frame(frame, collector, sheet=name, labels=labels, indicator=frame_indicator,
                   unit=frame_unit, columns=columns, breakdown=breakdown)
    return collector.values


# ---------------------------------------------------------------- one frame


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
