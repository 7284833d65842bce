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

The statistics are derived in DuckDB (a county edition has over a million cells); Great
Expectations then checks `minimum <= statistic <= maximum` on every row. Empty cells, absent
indicators and zeros (no scale) are not checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import duckdb
import pandas as pd

from expectations.gx_runner import SuiteOutcome, run_suite
from expectations.thresholds import load_thresholds

CHECKS = ("yoy_ratio", "ratio_to_median", "median_ratio", "revision_ratio")
# what a row's cell was compared with: the neighbouring year's cell (yoy_ratio); the file's
# units that year, per unit of `denominator` (ratio_to_median, median_ratio: compared_value is
# the median); the same cell in the latest earlier edition (revision_ratio)
COMPARED = ["compared_edition", "compared_file", "compared_year", "compared_value", "denominator"]
INDEX_COLUMNS = ["edition", "file", "sheet", "province_code", "year", "indicator", "value", "check", "bound",
                 *COMPARED]
FRAME_COLUMNS = [*INDEX_COLUMNS[:8], "statistic", "minimum", "maximum", *INDEX_COLUMNS[8:]]
DECLARED_REVISION_COLUMNS = ["edition", "indicator", "first_year", "last_year", "reason"]
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
    return pd.DataFrame(rows, columns=["check", "indicator", "minimum", "maximum", "bound"])


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
    SELECT c.*, d.denominator, c.value / v.value AS ratio
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
)
SELECT checked.edition, checked.file, checked.sheet, checked.province_code, checked.year, checked.indicator,
       checked.value, checked."check", checked.statistic, b.minimum, b.maximum, b.bound,
       checked.compared_edition, checked.compared_file, checked.compared_year, checked.compared_value,
       checked.denominator
FROM checked JOIN input_bounds AS b USING ("check", indicator)
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
    # gigabytes (the limit of dbt's profile)
    con = duckdb.connect()
    con.execute("SET memory_limit = '700MB'")
    return con


def _register_inputs(con, thresholds: Mapping, declared: pd.DataFrame | None) -> None:
    con.register("input_bounds", bounds_table(thresholds))
    con.register("input_denominators", _denominator_table(thresholds))
    declared = declared if declared is not None else pd.DataFrame(columns=DECLARED_REVISION_COLUMNS)
    con.register("input_declared", declared.astype({"first_year": "int64", "last_year": "int64"})
                 .reindex(columns=DECLARED_REVISION_COLUMNS))


def prepare_indicator_frame(values: pd.DataFrame, published: Mapping[str, object],
                            declared_revisions: pd.DataFrame | None = None,
                            thresholds: Mapping | None = None) -> pd.DataFrame:
    """The validated frame from DataFrames: `values` with the columns of raw.extract_values
    (edition, file, sheet, province_code, year, indicator, value, in_catalog), `published`
    edition -> date, `declared_revisions` with DECLARED_REVISION_COLUMNS."""
    thresholds = thresholds or load_thresholds()["indicators"]
    with _connect() as con:
        frame = values[["edition", "file", "sheet", "province_code", "year", "indicator", "value", "in_catalog"]]
        con.register("input_values", frame.astype({"sheet": object, "in_catalog": bool}))
        con.register("input_editions", pd.DataFrame(
            {"edition": list(published), "published": [str(p) for p in published.values()]}))
        _register_inputs(con, thresholds, declared_revisions)
        return _fetch_frame(con, thresholds)


def prepare_indicator_frame_from_warehouse(warehouse_path, thresholds: Mapping | None = None) -> pd.DataFrame:
    """The validated frame from a warehouse's raw tables (opened read-only)."""
    from provpanel.raw_schema import DECLARED_REVISIONS
    from provpanel.warehouse import table_exists

    thresholds = thresholds or load_thresholds()["indicators"]
    with _connect() as con:
        quoted = str(warehouse_path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS warehouse (READ_ONLY)")
        con.execute("CREATE TEMP VIEW input_values AS SELECT edition, file, sheet, province_code, year, indicator, "
                    "value, in_catalog FROM warehouse.raw.extract_values")
        con.execute("CREATE TEMP VIEW input_editions AS SELECT edition, published::VARCHAR AS published "
                    "FROM warehouse.raw.editions")
        has_declared = table_exists(con, *DECLARED_REVISIONS.name.split("."), database="warehouse")
        declared = (con.execute(f"SELECT * FROM warehouse.{DECLARED_REVISIONS.name}").df() if has_declared
                    else None)
        _register_inputs(con, thresholds, declared)
        return _fetch_frame(con, thresholds)


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
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.6g}" if isinstance(value, (int, float)) else str(value)


def _compared_text(row: Mapping) -> str:
    check = row["check"]
    if check in ("ratio_to_median", "median_ratio"):
        return (f"the median {row['indicator']} per {row['denominator']} of the file's units that year: "
                f"{_fmt(row['compared_value'])}")
    where = f"{row['compared_edition']}/{row['compared_file']}, {row['compared_year']}: {_fmt(row['compared_value'])}"
    return where + (" (revision not declared in the manifest)" if check == "revision_ratio" else "")


def failing_cells(outcome: SuiteOutcome) -> list[dict]:
    """The failing rows of both expectations (statistic below its minimum, above its maximum)."""
    return [row for failure in outcome.failures for row in failure.failing_rows]


def failure_lines(outcome: SuiteOutcome, limit: int = 10) -> list[str]:
    """First one line per edition and file with failing cells (how many, by check), then one line
    per failing cell: edition/file, province, year, indicator, value, the check's statistic, its
    bound and what the cell was compared with (a jump between two editions fails on both sides)."""
    cells = failing_cells(outcome)
    per_file: dict[tuple[str, str], dict[str, int]] = {}
    for row in cells:
        checks = per_file.setdefault((row["edition"], row["file"]), {})
        checks[row["check"]] = checks.get(row["check"], 0) + 1
    summary = [f"{edition}/{file}: {sum(checks.values())} failing cells ("
               + ", ".join(f"{check} {n}" for check, n in sorted(checks.items())) + ")"
               for (edition, file), checks in sorted(per_file.items(), key=lambda item: -sum(item[1].values()))]
    lines = []
    for row in sorted(cells, key=lambda r: (r["edition"], r["file"], r["check"], str(r["province_code"]), r["year"])):
        sheet = f" [{row['sheet']}]" if row.get("sheet") else ""
        lines.append(f"{row['edition']}/{row['file']}{sheet}: province {row['province_code']}, year {row['year']}, "
                     f"{row['indicator']} = {_fmt(row['value'])}: {row['check']} {_fmt(row['statistic'])} outside "
                     f"{row['bound']}; compared with {_compared_text(row)}")
    shown = lines[:limit] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])
    return summary + shown
