"""The raw suite: what one edition's extracted values must satisfy before they are stored.

It runs inside the ingest step on the DataFrame just read, so a failure stores nothing.
"""

from __future__ import annotations

import csv
from datetime import date

import pandas as pd

from expectations.gx_runner import SuiteOutcome, run_suite
from provpanel.config import SEEDS_DIR

INDEX_COLUMNS = ["file", "sheet", "source_row", "source_col", "province_code", "year", "indicator", "value"]
GRAIN = ["edition", "file", "sheet", "province_code", "year", "indicator"]
NATIONAL_CODE = "00"
# Before 1949 there is no People's Republic series; after this year nothing is published yet.
EARLIEST_YEAR = 1949


def _seed_rows(name: str) -> list[dict]:
    with open(SEEDS_DIR / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def known_province_codes() -> set[str]:
    codes = {row["province_code"] for row in _seed_rows("provinces.csv")}
    return codes | {NATIONAL_CODE}


def non_negative_indicators() -> set[str]:
    return {r["indicator"] for r in _seed_rows("indicator_catalog.csv") if r["non_negative"].lower() == "true"}


def prepare_raw_frame(values: pd.DataFrame, stated_spans: dict[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Add the derived columns the expectations read: the span each row must fall in, and the
    value where the indicator cannot be negative."""
    frame = values.copy()
    frame["sheet"] = frame["sheet"].fillna("")
    spans = stated_spans or {}
    default_span = (EARLIEST_YEAR, date.today().year)
    frame["span_first_year"] = [spans.get(f, default_span)[0] for f in frame["file"]]
    frame["span_last_year"] = [spans.get(f, default_span)[1] for f in frame["file"]]
    frame["years_outside_stated_span"] = (
        (frame["year"] < frame["span_first_year"]) | (frame["year"] > frame["span_last_year"])
    ).astype(int)
    must_be_non_negative = frame["indicator"].isin(non_negative_indicators()) & frame["in_catalog"].astype(bool)
    frame["value_required_non_negative"] = frame["value"].where(must_be_non_negative)
    return frame


def build_raw_suite():
    import great_expectations as gx

    E = gx.expectations
    suite = gx.ExpectationSuite(name="raw_extract_values")
    suite.add_expectation(E.ExpectColumnValuesToBeInSet(column="province_code", value_set=sorted(known_province_codes())))
    suite.add_expectation(E.ExpectColumnValuesToBeInSet(column="years_outside_stated_span", value_set=[0]))
    suite.add_expectation(E.ExpectColumnValuesToBeBetween(column="value_required_non_negative", min_value=0))
    suite.add_expectation(E.ExpectCompoundColumnsToBeUnique(column_list=GRAIN))
    for column in ("edition", "file", "file_sha256", "province_code", "year", "indicator", "value"):
        suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column=column))
    return suite


def validate_raw(values: pd.DataFrame, stated_spans: dict[str, tuple[int, int]] | None = None,
                 docs_dir=None) -> SuiteOutcome:
    frame = prepare_raw_frame(values, stated_spans)
    return run_suite("raw_extract_values", frame, build_raw_suite, INDEX_COLUMNS, docs_dir=docs_dir)
