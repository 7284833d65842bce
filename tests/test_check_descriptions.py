"""The Dagster asset checks' descriptions say what their suites check: every kind of expectation
a suite adds is named in its check's description, and nothing it does not check is promised
(the panel suite allows a null model variable where an input is missing)."""

from __future__ import annotations

import numpy as np

from analysis.simulate import simulate_panel
from expectations.indicator_suite import CHECKS
from expectations.panel_suite import (
    MODEL_VARIABLES,
    build_panel_suite,
    prepare_panel_frame,
    validate_panel,
)
from expectations.raw_suite import build_raw_suite
from expectations.thresholds import load_thresholds
from orchestration.defs.ingest import raw_edition
from orchestration.defs.validate import indicator_suite_check, panel_suite_check


def _descriptions(definition) -> dict[str, str]:
    """What the UI shows for each check of an asset or asset-check definition."""
    return {spec.name: spec.description for spec in definition.check_specs}


# how a description names each kind of expectation (by the expectation's type, else its column)
PANEL_KINDS = {
    "expect_table_row_count_to_equal": "row count",
    "expect_compound_columns_to_be_unique": "grain",
    "years_for_province": "every province in every year",
    "_null_without_missing_input": "only where the row lacks one of its inputs",
    "_yoy_median_ratio": "the year's median",
    "_yoy_ratio": "year-on-year jumps",
    "_gdp_weighted_mean": "location-quotient identity",
    "_is_filled_share": "share of filled cells",
    "tu": "plausible ranges of TU", "ic": "the location quotients", "ic2": "the location quotients",
    "fdi": "FDI and GOV shares", "gov": "FDI and GOV shares",
}
RAW_KINDS = {
    "province_code": "known province codes",
    "years_outside_stated_span": "years within the stated span",
    "value_required_non_negative": "non-negative values",
    "expect_compound_columns_to_be_unique": "one value per edition-file-sheet-province-year-indicator",
    "provinces_sum_to_national_ratio": "the provinces' sum against the national total",
    "expect_column_values_to_not_be_null": "no missing edition, file, checksum, province, year, indicator or value",
}
INDICATOR_KINDS = {
    "yoy_ratio": "year-on-year ratios", "ratio_to_median": "against the other provinces",
    "median_ratio": "whole-file medians", "revision_ratio": "revisions between editions",
    "parts_sum": "sectors sum to GDP", "ratio_pair": "patents granted against applications",
    "per_unit_ratio": "per-capita bounds",
}


def _phrase(kinds: dict[str, str], expectation) -> str:
    config = expectation.configuration if hasattr(expectation, "configuration") else expectation
    kind, column = config.type, config.kwargs.get("column")
    if kind in kinds and kind != "expect_column_values_to_be_between":
        return kinds[kind]
    if column in kinds:
        return kinds[column]
    return next(text for suffix, text in kinds.items() if column and suffix.startswith("_")
                and column.endswith(suffix))


def _suite(build, *args):
    """A suite as the check builds it (GX needs its context first, as run_suite makes it)."""
    from expectations.gx_runner import _context

    _context()
    return build(*args)


def _unnamed(kinds: dict[str, str], suite, description: str) -> list[str]:
    return sorted({_phrase(kinds, e) for e in suite.expectations} - {p for p in kinds.values() if p in description})


def test_the_panel_suite_description_names_every_expectation_and_allows_missing_input_nulls():
    description = _descriptions(panel_suite_check)["panel_suite"]
    panel = simulate_panel(seed=4)
    thresholds = load_thresholds()["panel"]
    suite = _suite(build_panel_suite, prepare_panel_frame(panel, thresholds), thresholds)
    assert _unnamed(PANEL_KINDS, suite, description) == []
    # the suite has no not-null expectation on a model variable: a null explained by a missing
    # input passes (and one without a missing input fails), so the description must not promise
    # "no null model variables"
    not_null = [e.configuration.kwargs["column"] for e in suite.expectations
                if e.configuration.type == "expect_column_values_to_not_be_null"]
    assert not set(not_null) & set(MODEL_VARIABLES)
    panel.loc[panel["year"] <= 2009, "fdi"] = np.nan
    panel["missing_input_variables"] = np.where(panel["year"] <= 2009, "fdi", None)
    assert not [f for f in validate_panel(panel).failures if f.column == "fdi_null_without_missing_input"]
    assert "no null model variables" not in description


def test_the_raw_suite_description_names_every_expectation():
    description = _descriptions(raw_edition)["raw_suite"]
    assert _unnamed(RAW_KINDS, _suite(build_raw_suite), description) == []


def test_both_indicator_suite_descriptions_name_every_check_the_suite_runs():
    # the same suite (CHECKS) runs at ingest and after the build: both descriptions name every check
    at_ingest = _descriptions(raw_edition)["indicator_suite"]
    after_build = _descriptions(indicator_suite_check)["indicator_suite"]
    for description in (at_ingest, after_build):
        assert [check for check in CHECKS if INDICATOR_KINDS[check] not in description] == []
