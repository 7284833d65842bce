"""The raw suite: what one edition's extracted values must satisfy before they are stored.

It runs inside the ingest step on the DataFrame just read, so a failure stores nothing.
"""

from __future__ import annotations

import csv
from datetime import date

import pandas as pd

from expectations.gx_runner import SuiteOutcome, run_suite
from expectations.thresholds import load_thresholds
from provpanel.config import SEEDS_DIR

INDEX_COLUMNS = ["file", "sheet", "source_row", "source_col", "province_code", "year", "indicator", "value"]
GRAIN = ["edition", "file", "sheet", "province_code", "year", "indicator"]

# What the suite checks, as the Dagster asset check describes it (orchestration/defs/ingest.py)
DESCRIPTION = (
    "Great Expectations suite on the edition's values before they are stored: known province codes, "
    "years within the stated span, non-negative values where the indicator cannot be negative, one value "
    "per edition-file-sheet-province-year-indicator, the provinces' sum against the national total where a "
    "file gives the total and every province, and no missing edition, file, checksum, province, year, indicator or value."
)
NATIONAL_CODE = "00"
# Before 1949 there is no People's Republic series; after this year nothing is published yet.
EARLIEST_YEAR = 1949


def _seed_rows(name: str) -> list[dict]:
    with open(SEEDS_DIR / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def known_province_codes() -> set[str]:
    """The geography's units (the 31 provinces unless PROVPANEL_GEOGRAPHY says otherwise) and
    the national total."""
    from provpanel.harmonise import panel_unit_codes

    return set(panel_unit_codes()) | {NATIONAL_CODE}


def non_negative_indicators() -> set[str]:
    return {r["indicator"] for r in _seed_rows("indicator_catalog.csv") if r["non_negative"].lower() == "true"}


def prepare_raw_frame(values: pd.DataFrame, stated_spans: dict[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Add the derived columns the expectations read: the span each row must fall in, and the
    value where the indicator cannot be negative."""
    frame = values.copy()
    frame["sheet"] = frame["sheet"].fillna("")
    spans = stated_spans or {}
    default_span = (EARLIEST_YEAR, date.today().year)
    files = frame["file"].astype(object)
    file_spans = {name: spans.get(name, default_span) for name in files.unique()}
    frame["span_first_year"] = files.map({f: span[0] for f, span in file_spans.items()}).astype("int64")
    frame["span_last_year"] = files.map({f: span[1] for f, span in file_spans.items()}).astype("int64")
    frame["years_outside_stated_span"] = (
        (frame["year"] < frame["span_first_year"]) | (frame["year"] > frame["span_last_year"])
    ).astype(int)
    must_be_non_negative = frame["indicator"].isin(non_negative_indicators()) & frame["in_catalog"].astype(bool)
    frame["value_required_non_negative"] = frame["value"].where(must_be_non_negative)
    frame["provinces_sum_to_national_ratio"] = _provinces_sum_to_national_ratio(frame)
    return frame


def _provinces_sum_to_national_ratio(frame: pd.DataFrame) -> pd.Series:
    """On each national row: the sum of the provinces of the same file, sheet, indicator and
    year over the national value, where all provinces are given (else null: not comparable)."""
    block = ["file", "sheet", "indicator", "year"]
    catalog = frame["in_catalog"].astype(bool) & frame["indicator"].isin(province_scope_indicators())
    provinces = frame[catalog & (frame["province_code"] != NATIONAL_CODE)]
    sums = provinces.groupby(block, dropna=False).agg(
        provinces_sum=("value", "sum"), provinces_given=("province_code", "nunique"))
    complete = sums[sums["provinces_given"] == len(known_province_codes()) - 1]["provinces_sum"]
    national = frame[catalog & (frame["province_code"] == NATIONAL_CODE)]
    ratio = national.join(complete, on=block)["provinces_sum"] / national["value"]
    return ratio.reindex(frame.index)


def province_scope_indicators() -> set[str]:
    """The catalog indicators published per province (scope province in indicator_catalog.csv)."""
    return {r["indicator"] for r in _seed_rows("indicator_catalog.csv") if r["scope"] == "province"}


def build_raw_suite(thresholds: dict | None = None):
    import great_expectations as gx

    E = gx.expectations
    low, high = (thresholds or load_thresholds()["raw"])["national_sum_ratio_bounds"]
    suite = gx.ExpectationSuite(name="raw_extract_values")
    suite.add_expectation(E.ExpectColumnValuesToBeInSet(column="province_code", value_set=sorted(known_province_codes())))
    suite.add_expectation(E.ExpectColumnValuesToBeInSet(column="years_outside_stated_span", value_set=[0]))
    suite.add_expectation(E.ExpectColumnValuesToBeBetween(column="value_required_non_negative", min_value=0))
    suite.add_expectation(E.ExpectCompoundColumnsToBeUnique(column_list=GRAIN))
    suite.add_expectation(
        E.ExpectColumnValuesToBeBetween(column="provinces_sum_to_national_ratio", min_value=low, max_value=high)
    )
    for column in ("edition", "file", "file_sha256", "province_code", "year", "indicator", "value"):
        suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column=column))
    return suite


def validate_raw(values: pd.DataFrame, stated_spans: dict[str, tuple[int, int]] | None = None,
                 docs_dir=None, thresholds: dict | None = None) -> SuiteOutcome:
    frame = prepare_raw_frame(values, stated_spans)
    return run_suite("raw_extract_values", frame, lambda: build_raw_suite(thresholds), INDEX_COLUMNS,
                     docs_dir=docs_dir)


# What each raw expectation guards, as the failure line says it (by column).
_BROKEN_RULE = {
    "province_code": "not a known province code",
    "years_outside_stated_span": "year outside the span the manifest states",
    "value_required_non_negative": "negative value of an indicator that cannot be negative",
    "provinces_sum_to_national_ratio": "the provinces' sum is far from the national value",
}


def failure_lines(outcome: SuiteOutcome, limit: int = 5) -> list[str]:
    """Per failed expectation, its first failing cells by file, sheet, row and column:
    'file [sheet] row R, column C: province P, year Y, indicator = value: the rule broken'."""
    lines = []
    for failure in outcome.failures:
        rule = _BROKEN_RULE.get(failure.column or "", f"{failure.expectation}({failure.column or ''})")
        if failure.expectation == "expect_compound_columns_to_be_unique":
            rule = "two values for the same edition, file, sheet, province, year and indicator"
        elif failure.expectation == "expect_column_values_to_not_be_null":
            rule = f"no {failure.column}"
        for row in failure.failing_rows[:limit]:
            sheet = f" [{row['sheet']}]" if row.get("sheet") else ""
            lines.append(f"{row.get('file')}{sheet} row {row.get('source_row')}, column {row.get('source_col')}: "
                         f"province {row.get('province_code')}, year {row.get('year')}, "
                         f"{row.get('indicator')} = {row.get('value')}: {rule}")
        more = failure.unexpected_count - min(limit, len(failure.failing_rows))
        if more > 0 or not failure.failing_rows:
            lines.append(f"{rule}: {failure.unexpected_count} rows in all" if failure.failing_rows
                         else f"{rule}: {failure.unexpected_count} rows ({failure.details})")
    return lines
