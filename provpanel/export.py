"""`provpanel export`: the published panel as a file for Stata (.dta), R and spreadsheets (.csv)
or Parquet.

It reads marts.province_year_panel of the published snapshot (one connection, so one version)
and writes:
- dta: Stata 14+ (format 118, UTF-8), every variable labelled from the first sentence of its
  column comment, the meaning first and no internal model names, cut at a word after the
  meaning (at most 80 characters, Stata's limit; the full text stays in the comment); booleans as 0/1 integers; a string null
  as "" (Stata has no string missing); names are the panel's (at most 32 characters, checked).
- csv: UTF-8, a header line, booleans as 0/1, nulls as empty fields, numbers in full.
- parquet: the table as it is (booleans stay booleans), written by DuckDB, with its table and
  column comments as key-value metadata (provpanel.publish.parquet_descriptions).
An existing file is never overwritten unless asked (`force`): an analyst's edited copy is not
silently replaced, and --force replaces only a file of the format written; a path provpanel
keeps (PROVPANEL_HOME, the editions folder) is never written (provpanel.user_files). The file
appears whole or not at all (written aside, then renamed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from provpanel.config import Paths
from provpanel.user_files import OutputRefused, check_output_file, write_aside

PANEL_TABLE = "marts.province_year_panel"
FORMATS = ("dta", "csv", "parquet")
STATA_LABEL_MAX = 80
STATA_NAME_MAX = 32
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ExportError(Exception):
    """The panel cannot be exported (no snapshot, the file exists, a name Stata refuses)."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    columns: int


def default_path(fmt: str) -> Path:
    """./province_year_panel.<ext> in the current folder."""
    return Path.cwd() / f"province_year_panel.{fmt}"


# a parenthesis that names the pipeline's internals (a dbt model, a dbt var, a docs file): the
# full comment keeps it, a Stata label has no room for it
_INTERNAL_ASIDE = re.compile(r"\s*\((?:[^()]|\([^()]*\))*?\b(?:int_|stg_|var |docs/)(?:[^()]|\([^()]*\))*\)")
# "TU, trade openness: definition" / "FDI: actually utilised FDI / GDP"
_CODE_THEN_MEANING = re.compile(r"^(?P<code>[A-Z][A-Za-z0-9_]{0,9})(?:,|:) (?P<meaning>[^:]+?)(?:: (?P<rest>.+))?$")
# "HUM = ln(h * L), human capital stock"
_CODE_FORMULA_MEANING = re.compile(r"^(?P<code>[A-Z][A-Za-z0-9_]{0,9}) = (?P<rest>[^,]+), (?P<meaning>[^,]+)$")


def stata_label(comment: str | None) -> str:
    """A Stata label from a column comment: its first sentence without the pipeline's internal
    names, the meaning first ("Trade openness (TU): ..."), cut to Stata's 80 characters at a
    word after the meaning, never before it. The full text stays in the comment and docs/."""
    if not comment:
        return ""
    text = _INTERNAL_ASIDE.sub("", " ".join(comment.split()))
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;").strip()
    shape = _CODE_THEN_MEANING.match(first) or _CODE_FORMULA_MEANING.match(first)
    if shape:
        meaning = f"{shape['meaning'][:1].upper()}{shape['meaning'][1:]} ({shape['code']})"
        rest = f": {shape['rest']}" if shape["rest"] else ""
    else:
        meaning, rest = first, ""
    return _cut(meaning + rest, keep=len(meaning))


def _cut(label: str, *, keep: int) -> str:
    """At most STATA_LABEL_MAX characters, cut at a word; the first `keep` (the meaning) are
    cut only when they alone exceed the limit."""
    if len(label) <= STATA_LABEL_MAX:
        return label
    cut = label[: STATA_LABEL_MAX - 1]
    at_word = cut.rfind(" ")
    if at_word >= min(keep, STATA_LABEL_MAX - 1) or (at_word > 0 and keep >= STATA_LABEL_MAX):
        cut = cut[:at_word]
    return cut.rstrip(" ,:;(") + "…"


def read_panel(database: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The panel in (province_code, year) order and its column comments."""
    from provpanel.warehouse import open_warehouse

    with open_warehouse(database, read_only=True, wait_seconds=0) as con:
        comments = _column_comments(con)
        return con.execute(f"SELECT * FROM {PANEL_TABLE} ORDER BY province_code, year").df(), comments


def _column_comments(con) -> dict[str, str]:
    schema, table = PANEL_TABLE.split(".")
    comments = con.execute(
        """SELECT column_name, comment FROM duckdb_columns()
           WHERE schema_name = ? AND table_name = ? ORDER BY column_index""", [schema, table]).fetchall()
    if not comments:
        raise ExportError(f"the snapshot has no table {PANEL_TABLE}")
    return {name: comment or "" for name, comment in comments}


def export_panel(database: Path, fmt: str, out: Path | None = None, *, force: bool = False,
                 paths: Paths | None = None) -> ExportResult:
    """Write the published panel to `out` (default ./province_year_panel.<fmt>): never a path
    provpanel keeps, and with `force` only over the user's own file of the format
    (provpanel.user_files)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out) if out is not None else default_path(fmt)
    try:
        check_output_file(out, fmt, force=force, paths=paths)
    except OutputRefused as err:
        raise ExportError(str(err)) from None
    if not Path(database).exists():
        raise ExportError(f"{database}: no published snapshot; run `provpanel build` first")
    with write_aside(out) as partial:
        if fmt == "parquet":
            rows, columns = _write_parquet(database, partial)
        else:
            frame, comments = read_panel(database)
            rows, columns = len(frame), len(frame.columns)
            if fmt == "dta":
                _write_dta(frame, comments, partial)
            else:
                _write_csv(frame, partial)
    return ExportResult(out, rows, columns)


def _write_parquet(database: Path, path: Path) -> tuple[int, int]:
    from provpanel.publish import kv_metadata, parquet_descriptions
    from provpanel.warehouse import open_warehouse

    with open_warehouse(database, read_only=True, wait_seconds=0) as con:
        n_columns = len(_column_comments(con))
        literal = "'" + str(path).replace("'", "''") + "'"
        # the column comments travel as the file's key-value metadata, as in published/parquet/
        descriptions = kv_metadata(parquet_descriptions(con, *PANEL_TABLE.split(".")))
        con.execute(f"COPY (SELECT * FROM {PANEL_TABLE} ORDER BY province_code, year) "
                    f"TO {literal} (FORMAT parquet, KV_METADATA {descriptions})")
        rows = con.execute(f"SELECT count(*) FROM {PANEL_TABLE}").fetchone()[0]
    return rows, n_columns


def _booleans_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as 0/1 (nullable: a null stays missing)."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_bool_dtype(out[name]) or _is_object_boolean(out[name]):
            out[name] = out[name].astype("boolean").astype("Int8")
    return out


def _is_object_boolean(series: pd.Series) -> bool:
    values = series.dropna()
    return series.dtype == object and len(values) > 0 and all(isinstance(v, bool) for v in values)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _booleans_as_integers(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _write_dta(frame: pd.DataFrame, comments: dict[str, str], path: Path) -> None:
    import pyreadstat

    for name in frame.columns:
        if len(name) > STATA_NAME_MAX or not _NAME.match(name):
            raise ExportError(f"{PANEL_TABLE}: column {name!r} is not a Stata name "
                              f"(letters, digits, _; at most {STATA_NAME_MAX} characters)")
    out = _booleans_as_integers(frame)
    for name in out.columns:
        series = out[name]
        if pd.api.types.is_integer_dtype(series):
            # Stata's long is 32-bit: a missing value or a larger number goes as a double
            fits = series.dropna().between(-(2**31) + 1, 2**31 - 1).all()
            out[name] = series.astype("int32") if fits and not series.isna().any() else series.astype("float64")
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            out[name] = series.astype(object).where(series.notna(), "").astype(str)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[name] = series
        else:
            out[name] = series.astype("float64")
    labels = [stata_label(comments.get(name)) for name in out.columns]
    pyreadstat.write_dta(out, str(path), file_label="provpanel: marts.province_year_panel",
                         column_labels=labels, version=14)
