"""The indicator suite: every catalog indicator's stored values, per edition and file, checked
for unit slips (a factor of 10, 100, 1,000, 10,000 in one cell, a province's series or a file).

It runs on `raw.extract_values` of all stored editions (not on the panel), so a failure names
the edition, file, province and year of the value. Each row of the validated frame is one
(cell, check) pair: a statistic and its indicator's bounds from thresholds.yml (section
`indicators`), with what the cell was compared with.

- yoy_ratio: a value over the same province's neighbouring observed year (within
  `max_gap_years`, annualised across empty years): the same edition's, else the nearest other
  edition's (earlier editions first). Always the later value over the earlier one. Catches a slipped cell, a slipped part of
  a series, and an edition whose slipped series meets another edition's years.
- ratio_to_median: the value per unit of GDP (or per person), over the median of that ratio
  across the units of the same edition, file and year. Catches a province's whole series where
  the indicator's spread across provinces allows it.
- median_ratio: that median itself, against absolute bounds (for indicators whose ratio to GDP
  or population is stable): a whole file, in an edition with nothing to compare with. One row
  per edition, file and year (province 'all').
- revision_ratio: the value over the same cell in the latest earlier edition, unless the
  revising edition's manifest declares the revision (`revisions:`, docs/editions.md).
- parts_sum: the parts of a total in the same edition (the three sectors' value added, exports
  and imports) over the total (GDP, trade): an accounting identity.
- ratio_pair: one indicator over another of the same edition (else the nearest edition's), e.g.
  patents granted over applications, named at both cells.
- per_unit_ratio: the value per unit of GDP or population, per cell, against absolute bounds
  where a limit exists (employment per resident, subscriptions per person, ...).

A declared exception in an edition's manifest (`exceptions:`) lets a check's cells of that
edition, indicator, years (and provinces) pass; it is stored in raw.declared_exceptions and
shown by `provpanel diff`. The suite runs when an edition is ingested (on the new edition
against the stored ones: `validate_new_edition`), before anything is stored, and again on the
panel's raw tables after the build.

The statistics are derived in DuckDB (a county edition has over a million cells); Great
Expectations then checks `minimum <= statistic <= maximum` on every row. Empty cells, absent
indicators and zeros (no scale) are not checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from expectations.gx_runner import SuiteOutcome, run_suite
from expectations.thresholds import load_thresholds
from provpanel.config import duckdb_memory_limit
from provpanel.edition_manifest import IDENTITY_CHECKS
from provpanel.number_text import readable_number

CHECKS = ("yoy_ratio", "ratio_to_median", "median_ratio", "revision_ratio", *IDENTITY_CHECKS)
# what a row's cell was compared with: the neighbouring year's cell (yoy_ratio); the file's
# units that year, per unit of `denominator` (ratio_to_median, median_ratio: compared_value is
# the median); the same cell in the latest earlier edition (revision_ratio)
COMPARED = ["compared_edition", "compared_file", "compared_year", "compared_value", "denominator"]
INDEX_COLUMNS = ["edition", "file", "sheet", "province_code", "year", "indicator", "value", "check", "bound",
                 *COMPARED]
FRAME_COLUMNS = [*INDEX_COLUMNS[:8], "statistic", "minimum", "maximum", *INDEX_COLUMNS[8:]]
DECLARED_REVISION_COLUMNS = ["edition", "indicator", "first_year", "last_year", "reason"]
DECLARED_EXCEPTION_COLUMNS = ["edition", "check_name", "indicator", "province_code", "first_year", "last_year", "reason"]
# What the suite checks (CHECKS), as the Dagster asset checks describe it: at ingest, on the new
# edition (orchestration/defs/ingest.py), and after the build, on every stored edition (defs/validate.py)
_WHAT_IS_CHECKED = (
    "year-on-year ratios, the ratio to GDP or population against the other provinces of the same file "
    "and year, whole-file medians, revisions between editions beyond the stated share unless the manifest "
    "declares them, and the identities between indicators (sectors sum to GDP, exports and imports to "
    "trade, patents granted against applications, per-capita bounds) unless the manifest declares an "
    "exception. Catches unit slips (x10 ... x10,000) in a cell, a series or a file."
)
INGEST_DESCRIPTION = ("Great Expectations suite on the edition's catalog values against the stored editions, "
                      "before they are stored: " + _WHAT_IS_CHECKED)
STORED_DESCRIPTION = ("Great Expectations suite on every catalog indicator's stored values, per edition and "
                      "file (raw.extract_values): " + _WHAT_IS_CHECKED)
TEXT_COLUMNS = ["edition", "file", "sheet", "province_code", "indicator", "check", "bound", "compared_edition",
                "compared_file", "denominator"]


def _province_indicators() -> list[str]:
    from expectations.raw_suite import province_scope_indicators

    return sorted(province_scope_indicators())


def bounds_table(thresholds: Mapping) -> pd.DataFrame:
    """(check, indicator, minimum, maximum, bound) for every bounded check of every indicator of
    province scope; `bound` names the threshold it comes from."""
    rows = []
    for indicator in _province_indicators():
        for check in CHECKS:
            if check in IDENTITY_CHECKS:
                continue
            if check == "revision_ratio":
                share = float(thresholds["max_revision_share"])
                bounds, key = [1 - share, 1 + share], "max_revision_share"
            else:
                table = thresholds[f"{check}_bounds"]
                name = indicator if indicator in table else "default"
                bounds, key = table.get(name), f"{check}_bounds.{name}"
            if bounds:
                rows.append((check, indicator, float(bounds[0]), float(bounds[1]),
                             f"[{float(bounds[0]):g}, {float(bounds[1]):g}] (thresholds.yml indicators.{key})"))
    rows.extend(_identity_bounds(thresholds))
    return pd.DataFrame(rows, columns=["check", "indicator", "minimum", "maximum", "bound"])


def _identity_bounds(thresholds: Mapping) -> list[tuple]:
    def text(low, high, key: str, what: str = "") -> str:
        return f"{what}[{float(low):g}, {float(high):g}] (thresholds.yml indicators.{key})"

    rows = []
    for total, spec in (thresholds.get("parts_sum") or {}).items():
        low, high = spec["bounds"]
        rows.append(("parts_sum", total, float(low), float(high),
                     text(low, high, f"parts_sum.{total}", f"{' + '.join(spec['parts'])} over {total} ")))
    for indicator, spec in (thresholds.get("ratio_pair") or {}).items():
        low, high = spec["bounds"]
        bound = text(low, high, f"ratio_pair.{indicator}", f"{indicator} over {spec['over']} ")
        rows.append(("ratio_pair", indicator, float(low), float(high), bound))
        rows.append(("ratio_pair", spec["over"], float(low), float(high), bound))
    for indicator, bounds in (thresholds.get("per_unit_bounds") or {}).items():
        if bounds:
            rows.append(("per_unit_ratio", indicator, float(bounds[0]), float(bounds[1]),
                         text(bounds[0], bounds[1], f"per_unit_bounds.{indicator}")))
    return rows


def _parts_table(thresholds: Mapping) -> pd.DataFrame:
    rows = [(total, part, len(spec["parts"]), " + ".join(spec["parts"]))
            for total, spec in (thresholds.get("parts_sum") or {}).items() for part in spec["parts"]]
    return pd.DataFrame(rows, columns=["total", "part", "n_parts", "parts_label"])


def _pairs_table(thresholds: Mapping) -> pd.DataFrame:
    rows = [(indicator, spec["over"]) for indicator, spec in (thresholds.get("ratio_pair") or {}).items()]
    return pd.DataFrame(rows, columns=["indicator", "over"])


def _denominator_table(thresholds: Mapping) -> pd.DataFrame:
    per = thresholds["per"]
    return pd.DataFrame([(i, per.get(i, per["default"])) for i in _province_indicators()],
                        columns=["indicator", "denominator"])


# the cells checked: catalog indicators of province scope, provinces only (the national row has
# the raw suite's check), positive finite values (zero carries no scale)
CELLS_SQL = """
CREATE OR REPLACE TEMP TABLE cells AS
SELECT edition, file, coalesce(sheet, '') AS sheet, province_code, year::INTEGER AS year, indicator,
       value::DOUBLE AS value
FROM input_values
WHERE in_catalog AND province_code <> '00' AND isfinite(value) AND value > 0
  AND indicator IN (SELECT indicator FROM input_denominators)
"""

STATISTICS_SQL = """
WITH edition_rank AS (
    SELECT edition, row_number() OVER (ORDER BY published NULLS FIRST, edition) AS rank
    FROM (SELECT DISTINCT edition FROM cells) LEFT JOIN input_editions USING (edition)
),
-- one value per edition and cell: the first file's (dbt collapses an edition the same way)
per_edition AS (
    SELECT edition, province_code, year, indicator, arg_min(value, {'f': file, 's': sheet}) AS value,
           min(file) AS file, any_value(rank) AS rank
    FROM cells JOIN edition_rank USING (edition)
    GROUP BY edition, province_code, year, indicator
),
-- each edition's view: its own cells, else the nearest other edition's (earlier ones first)
views AS (
    SELECT view, province_code, year, indicator, best.value, best.source_edition, best.source_file
    FROM (
        SELECT o.edition AS view, p.province_code, p.year, p.indicator,
               arg_min({'value': p.value, 'source_edition': p.edition, 'source_file': p.file},
                       CASE WHEN p.rank <= o.rank THEN o.rank - p.rank ELSE 1000000 + p.rank - o.rank END) AS best
        FROM edition_rank AS o CROSS JOIN per_edition AS p
        GROUP BY o.edition, p.province_code, p.year, p.indicator
    )
),
pairs AS (
    SELECT view AS edition, province_code, indicator, year, value, source_edition, source_file,
           lag(year) OVER w AS other_year, lag(value) OVER w AS other_value,
           lag(source_edition) OVER w AS other_edition, lag(source_file) OVER w AS other_file
    FROM views
    WINDOW w AS (PARTITION BY view, province_code, indicator ORDER BY year)
),
-- a pair is named at the edition's own cell: the later one if it is the edition's, else the earlier;
-- across empty years the ratio is annualised (its k-th root over k years)
yoy_pairs AS (
    SELECT edition, province_code, indicator, year, pow(value / other_value, 1 / (year - other_year)) AS statistic,
           other_edition AS compared_edition, other_file AS compared_file, other_year AS compared_year,
           other_value AS compared_value
    FROM pairs
    WHERE other_year IS NOT NULL AND year - other_year <= $max_gap AND source_edition = edition
    UNION ALL
    SELECT edition, province_code, indicator, other_year, pow(value / other_value, 1 / (year - other_year)),
           source_edition, source_file,
           year, value
    FROM pairs
    WHERE other_year IS NOT NULL AND year - other_year <= $max_gap AND source_edition <> edition
      AND other_edition = edition
),
ratios AS (
    SELECT c.*, d.denominator, c.value / v.value AS ratio, v.value AS per_value, v.source_edition AS per_edition,
           v.source_file AS per_file
    FROM cells AS c
    JOIN input_denominators AS d USING (indicator)
    JOIN views AS v ON v.view = c.edition AND v.province_code = c.province_code AND v.year = c.year
                   AND v.indicator = d.denominator
),
blocks AS (
    SELECT edition, file, sheet, indicator, year, any_value(denominator) AS denominator,
           median(ratio) AS median
    FROM ratios
    GROUP BY edition, file, sheet, indicator, year
    HAVING count(*) >= $min_units
),
previous_edition AS (
    SELECT edition, file, sheet, province_code, year, indicator, value, previous.edition AS compared_edition,
           previous.file AS compared_file, previous.value AS compared_value
    FROM (
        SELECT c.edition, c.file, c.sheet, c.province_code, c.year, c.indicator, any_value(c.value) AS value,
               arg_max({'edition': p.edition, 'file': p.file, 'value': p.value}, p.rank) AS previous
        FROM cells AS c
        JOIN edition_rank AS o USING (edition)
        JOIN per_edition AS p ON p.province_code = c.province_code AND p.year = c.year
                             AND p.indicator = c.indicator AND p.rank < o.rank
        GROUP BY c.edition, c.file, c.sheet, c.province_code, c.year, c.indicator
    )
),
-- the parts of a total in the same edition (one vintage), when every part is there
part_sums AS (
    SELECT p.edition, p.province_code, p.year, s.total AS indicator, sum(p.value) AS parts,
           min(p.file) AS parts_file, any_value(s.parts_label) AS parts_label
    FROM per_edition AS p JOIN input_parts AS s ON s.part = p.indicator
    GROUP BY p.edition, p.province_code, p.year, s.total
    HAVING count(*) = any_value(s.n_parts)
),
checked AS (
    SELECT c.edition, c.file, c.sheet, c.province_code, c.year, c.indicator, c.value, 'yoy_ratio' AS "check",
           y.statistic, y.compared_edition, y.compared_file, y.compared_year, y.compared_value,
           NULL AS denominator
    FROM cells AS c JOIN yoy_pairs AS y USING (edition, province_code, indicator, year)
    UNION ALL
    SELECT r.edition, r.file, r.sheet, r.province_code, r.year, r.indicator, r.value, 'ratio_to_median',
           r.ratio / b.median, r.edition, r.file, r.year, b.median, r.denominator
    FROM ratios AS r JOIN blocks AS b USING (edition, file, sheet, indicator, year)
    UNION ALL
    SELECT edition, file, sheet, 'all', year, indicator, NULL, 'median_ratio', median, edition, file, year,
           median, denominator
    FROM blocks
    UNION ALL
    SELECT edition, file, sheet, province_code, year, indicator, value, 'revision_ratio',
           value / compared_value, compared_edition, compared_file, year, compared_value, NULL
    FROM previous_edition AS r
    WHERE NOT EXISTS (
        SELECT 1 FROM input_declared AS d
        WHERE d.edition = r.edition AND d.indicator = r.indicator AND r.year BETWEEN d.first_year AND d.last_year)
    UNION ALL
    SELECT c.edition, c.file, c.sheet, c.province_code, c.year, c.indicator, c.value, 'parts_sum',
           s.parts / c.value, c.edition, s.parts_file, c.year, s.parts, s.parts_label
    FROM cells AS c JOIN part_sums AS s USING (edition, province_code, year, indicator)
    UNION ALL
    -- an indicator over another, at the first one's cell and at the other's (same statistic)
    SELECT c.edition, c.file, c.sheet, c.province_code, c.year, c.indicator, c.value, 'ratio_pair',
           c.value / v.value, v.source_edition, v.source_file, c.year, v.value, p.over
    FROM cells AS c JOIN input_pairs AS p ON p.indicator = c.indicator
    JOIN views AS v ON v.view = c.edition AND v.province_code = c.province_code AND v.year = c.year
                   AND v.indicator = p.over
    UNION ALL
    SELECT c.edition, c.file, c.sheet, c.province_code, c.year, c.indicator, c.value, 'ratio_pair',
           v.value / c.value, v.source_edition, v.source_file, c.year, v.value, p.indicator
    FROM cells AS c JOIN input_pairs AS p ON p.over = c.indicator
    JOIN views AS v ON v.view = c.edition AND v.province_code = c.province_code AND v.year = c.year
                   AND v.indicator = p.indicator
    UNION ALL
    SELECT edition, file, sheet, province_code, year, indicator, value, 'per_unit_ratio', ratio, per_edition,
           per_file, year, per_value, denominator
    FROM ratios
)
SELECT checked.edition, checked.file, checked.sheet, checked.province_code, checked.year, checked.indicator,
       checked.value, checked."check", checked.statistic, b.minimum, b.maximum, b.bound,
       checked.compared_edition, checked.compared_file, checked.compared_year, checked.compared_value,
       checked.denominator
FROM checked JOIN input_bounds AS b USING ("check", indicator)
WHERE NOT EXISTS (  -- an exception the edition's manifest declares (either indicator of an identity)
    SELECT 1 FROM input_exceptions AS x
    WHERE x.edition = checked.edition AND x.check_name = checked."check"
      AND (x.indicator = checked.indicator OR x.indicator = checked.denominator)
      AND (x.province_code IS NULL OR x.province_code = checked.province_code)
      AND checked.year BETWEEN x.first_year AND x.last_year)
"""


def _fetch_frame(con: duckdb.DuckDBPyConnection, thresholds: Mapping) -> pd.DataFrame:
    """The statistics, with text columns as pandas categoricals (a county frame has millions of
    rows of a few dozen distinct texts)."""
    con.execute(CELLS_SQL)
    con.execute(f"CREATE OR REPLACE TEMP TABLE indicator_checks AS {STATISTICS_SQL}",
                {"max_gap": int(thresholds["max_gap_years"]), "min_units": int(thresholds["min_units"])})
    # texts as ENUMs, which DuckDB hands to pandas as categoricals
    selected = []
    for column in FRAME_COLUMNS:
        if column in TEXT_COLUMNS:
            con.execute(f'CREATE OR REPLACE TEMP TYPE enum_{column} AS ENUM '
                        f'(SELECT DISTINCT "{column}" FROM indicator_checks WHERE "{column}" IS NOT NULL)')
            selected.append(f'"{column}"::enum_{column} AS "{column}"')
        else:
            selected.append(f'"{column}"')
    frame = con.execute(f"SELECT {', '.join(selected)} FROM indicator_checks").df()
    con.execute("DROP TABLE indicator_checks")
    con.execute("DROP TABLE cells")
    frame["year"] = frame["year"].astype("int64")
    return frame[FRAME_COLUMNS]


def _connect() -> duckdb.DuckDBPyConnection:
    # a county warehouse has ~1.5 million cells per edition: spill to disk rather than hold
    # gigabytes (the limit of dbt's profile, read from it)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{duckdb_memory_limit()}'")
    return con


def _register_inputs(con, thresholds: Mapping, declared: pd.DataFrame | None,
                     exceptions: pd.DataFrame | None = None) -> None:
    con.register("input_bounds", bounds_table(thresholds))
    con.register("input_denominators", _denominator_table(thresholds))
    con.register("input_parts", _parts_table(thresholds))
    con.register("input_pairs", _pairs_table(thresholds))
    declared = declared if declared is not None else pd.DataFrame(columns=DECLARED_REVISION_COLUMNS)
    con.register("input_declared", declared.astype({"first_year": "int64", "last_year": "int64"})
                 .reindex(columns=DECLARED_REVISION_COLUMNS))
    exceptions = exceptions if exceptions is not None else pd.DataFrame(columns=DECLARED_EXCEPTION_COLUMNS)
    con.register("input_exceptions", exceptions.reindex(columns=DECLARED_EXCEPTION_COLUMNS).astype(
        {"edition": object, "check_name": object, "indicator": object, "province_code": object,
         "first_year": "int64", "last_year": "int64", "reason": object}))


def prepare_indicator_frame(values: pd.DataFrame, published: Mapping[str, object],
                            declared_revisions: pd.DataFrame | None = None,
                            thresholds: Mapping | None = None,
                            exceptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The validated frame from DataFrames: `values` with the columns of raw.extract_values
    (edition, file, sheet, province_code, year, indicator, value, in_catalog), `published`
    edition -> date, `declared_revisions` with DECLARED_REVISION_COLUMNS, `exceptions` with
    DECLARED_EXCEPTION_COLUMNS."""
    thresholds = thresholds or load_thresholds()["indicators"]
    with _connect() as con:
        frame = values[["edition", "file", "sheet", "province_code", "year", "indicator", "value", "in_catalog"]]
        con.register("input_values", frame.astype({"sheet": object, "in_catalog": bool}))
        con.register("input_editions", pd.DataFrame(
            {"edition": list(published), "published": [str(p) for p in published.values()]}))
        _register_inputs(con, thresholds, declared_revisions, exceptions)
        return _fetch_frame(con, thresholds)


def _stored_table(con, name: str) -> pd.DataFrame | None:
    from provpanel.warehouse import table_exists

    if not table_exists(con, *name.split("."), database="warehouse"):
        return None
    return con.execute(f"SELECT * FROM warehouse.{name}").df()


def prepare_indicator_frame_from_warehouse(warehouse_path, thresholds: Mapping | None = None) -> pd.DataFrame:
    """The validated frame from a warehouse's raw tables (opened read-only)."""
    from provpanel.raw_schema import DECLARED_EXCEPTIONS, DECLARED_REVISIONS

    thresholds = thresholds or load_thresholds()["indicators"]
    with _connect() as con:
        quoted = str(warehouse_path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS warehouse (READ_ONLY)")
        con.execute("CREATE TEMP VIEW input_values AS SELECT edition, file, sheet, province_code, year, indicator, "
                    "value, in_catalog FROM warehouse.raw.extract_values")
        con.execute("CREATE TEMP VIEW input_editions AS SELECT edition, published::VARCHAR AS published "
                    "FROM warehouse.raw.editions")
        _register_inputs(con, thresholds, _stored_table(con, DECLARED_REVISIONS.name),
                         _stored_table(con, DECLARED_EXCEPTIONS.name))
        return _fetch_frame(con, thresholds)


def prepare_new_edition_frame(values: pd.DataFrame, edition: str, published: object,
                              declared_revisions: pd.DataFrame, exceptions: pd.DataFrame,
                              warehouse_path, thresholds: Mapping | None = None) -> pd.DataFrame:
    """The rows that judge a new edition before it is stored: its values beside the stored
    editions' (an older copy of the same edition left out), keeping every row about one of its
    cells or comparing another edition's cell with one of its cells."""
    from provpanel.raw_schema import DECLARED_EXCEPTIONS, DECLARED_REVISIONS

    thresholds = thresholds or load_thresholds()["indicators"]
    columns = ["edition", "file", "sheet", "province_code", "year", "indicator", "value", "in_catalog"]
    new = values.reindex(columns=columns).astype({"sheet": object, "in_catalog": bool})
    with _connect() as con:
        con.register("new_values", new)
        stored_revisions = stored_exceptions = None
        if warehouse_path is not None and Path(warehouse_path).exists():
            quoted = str(warehouse_path).replace("'", "''")
            con.execute(f"ATTACH '{quoted}' AS warehouse (READ_ONLY)")
            con.execute(f"CREATE TEMP TABLE stored_values AS SELECT {', '.join(columns)} "
                        "FROM warehouse.raw.extract_values WHERE edition <> ?", [edition])
            con.execute("CREATE TEMP VIEW input_values AS SELECT * FROM new_values UNION ALL BY NAME "
                        "SELECT * FROM stored_values")
            con.execute("CREATE TEMP TABLE input_editions AS SELECT edition, published::VARCHAR AS published "
                        "FROM warehouse.raw.editions WHERE edition <> ?", [edition])
            stored_revisions = _stored_table(con, DECLARED_REVISIONS.name)
            stored_exceptions = _stored_table(con, DECLARED_EXCEPTIONS.name)
        else:
            con.execute("CREATE TEMP VIEW input_values AS SELECT * FROM new_values")
            con.execute("CREATE TEMP TABLE input_editions (edition VARCHAR, published VARCHAR)")
        con.execute("INSERT INTO input_editions VALUES (?, ?)", [edition, str(published)])

        def joined(stored: pd.DataFrame | None, mine: pd.DataFrame, names: list[str]) -> pd.DataFrame:
            frames = [mine.reindex(columns=names)]
            if stored is not None and len(stored):
                frames.append(stored.loc[stored["edition"] != edition].reindex(columns=names))
            return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

        _register_inputs(con, thresholds, joined(stored_revisions, declared_revisions, DECLARED_REVISION_COLUMNS),
                         joined(stored_exceptions, exceptions, DECLARED_EXCEPTION_COLUMNS))
        frame = _fetch_frame(con, thresholds)
    about = (frame["edition"].astype(object) == edition) | (frame["compared_edition"].astype(object) == edition)
    return frame.loc[about].reset_index(drop=True)


def validate_new_edition(values: pd.DataFrame, edition: str, published: object,
                         declared_revisions: pd.DataFrame, exceptions: pd.DataFrame, warehouse_path,
                         *, thresholds: Mapping | None = None, docs_dir=None) -> SuiteOutcome:
    """The suite on a new edition's values, against the stored editions, before it is stored."""
    frame = prepare_new_edition_frame(values, edition, published, declared_revisions, exceptions,
                                      warehouse_path, thresholds)
    return validate_indicator_frame(frame, docs_dir=docs_dir)


def build_indicator_suite():
    import great_expectations as gx

    E = gx.expectations
    suite = gx.ExpectationSuite(name="indicator_values")
    # every row: its indicator's bounds for its check (thresholds.yml, section indicators)
    suite.add_expectation(E.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="statistic", column_B="minimum", or_equal=True, ignore_row_if="either_value_is_missing"))
    suite.add_expectation(E.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="maximum", column_B="statistic", or_equal=True, ignore_row_if="either_value_is_missing"))
    return suite


def validate_indicator_frame(frame: pd.DataFrame, docs_dir=None) -> SuiteOutcome:
    return run_suite("indicator_values", frame, build_indicator_suite, INDEX_COLUMNS, docs_dir=docs_dir)


def validate_indicators(values: pd.DataFrame, published: Mapping[str, object],
                        declared_revisions: pd.DataFrame | None = None, *, thresholds: Mapping | None = None,
                        docs_dir=None) -> SuiteOutcome:
    frame = prepare_indicator_frame(values, published, declared_revisions, thresholds)
    return validate_indicator_frame(frame, docs_dir=docs_dir)


def _fmt(value) -> str:
    """A cell's value whole (113289.8, 1008830: 7 significant digits, no exponent), a ratio
    without float noise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return readable_number(value, 7) if isinstance(value, (int, float)) else str(value)


def _compared_text(row: Mapping) -> str:
    check = row["check"]
    source = f"{row['compared_edition']}/{row['compared_file']}"
    if check == "parts_sum":
        gap = row["compared_value"] - row["value"]
        return (f"its parts {row['denominator']} in {source}: sum {_fmt(row['compared_value'])}, "
                f"gap {_fmt(gap)} ({_fmt(100 * gap / row['value'])} %)")
    if check in ("ratio_pair", "per_unit_ratio"):
        return f"{row['denominator']} = {_fmt(row['compared_value'])} in {source}, {row['compared_year']}"
    if check in ("ratio_to_median", "median_ratio"):
        return (f"the median {row['indicator']} per {row['denominator']} of the file's units that year: "
                f"{_fmt(row['compared_value'])}")
    where = f"{row['compared_edition']}/{row['compared_file']}, {row['compared_year']}: {_fmt(row['compared_value'])}"
    return where + (" (revision not declared in the manifest)" if check == "revision_ratio" else "")


def failing_cells(outcome: SuiteOutcome) -> list[dict]:
    """The failing rows of both expectations (statistic below its minimum, above its maximum)."""
    return [row for failure in outcome.failures for row in failure.failing_rows]


def failure_lines(outcome: SuiteOutcome, limit: int = 10, first_edition: str | None = None) -> list[str]:
    """First one line per edition and file with failing cells (how many, by check), then one line
    per failing cell: edition/file, province, year, indicator, value, the check's statistic, its
    bound and what the cell was compared with (a jump between two editions fails on both sides).
    `first_edition`: that edition's files and cells come first (the edition being ingested)."""
    cells = failing_cells(outcome)
    if first_edition is not None:
        cells = sorted(cells, key=lambda row: row["edition"] != first_edition)
    per_file: dict[tuple[str, str], dict[str, int]] = {}
    for row in cells:
        checks = per_file.setdefault((row["edition"], row["file"]), {})
        checks[row["check"]] = checks.get(row["check"], 0) + 1
    summary = [f"{edition}/{file}: {sum(checks.values())} failing cells ("
               + ", ".join(f"{check} {n}" for check, n in sorted(checks.items())) + ")"
               for (edition, file), checks in sorted(per_file.items(), key=lambda item: (
                   item[0][0] != first_edition, -sum(item[1].values())))]
    lines = []
    for row in sorted(cells, key=lambda r: (r["edition"] != first_edition, r["edition"], r["file"], r["check"],
                                            str(r["province_code"]), r["year"])):
        sheet = f" [{row['sheet']}]" if row.get("sheet") else ""
        lines.append(f"{row['edition']}/{row['file']}{sheet}: province {row['province_code']}, year {row['year']}, "
                     f"{row['indicator']} = {_fmt(row['value'])}: {row['check']} {_fmt(row['statistic'])} outside "
                     f"{row['bound']}; compared with {_compared_text(row)}")
    shown = lines[:limit] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])
    return summary + shown
