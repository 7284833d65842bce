"""The panel suite: what `marts.province_year_panel` must satisfy before anyone uses it.

Expectations are plain GX 1.x expectations on a DataFrame; properties GX cannot state
directly (year-on-year jumps, the GDP-weighted mean of a location quotient) are first
derived as columns by `prepare_panel_frame`, so every failure still points at
(province_code, year) rows.
"""

from __future__ import annotations

import pandas as pd

from expectations.gx_runner import SuiteOutcome, run_suite
from expectations.thresholds import load_thresholds

MODEL_VARIABLES = ["tu", "ic", "ic2", "cx", "hum", "fdi", "gov", "inf", "fma", "fma_tv", "te", "ks"]
LOCATION_QUOTIENTS = {"ic": "va_tertiary", "ic2": "va_secondary"}
SHARES = ["fdi", "gov"]
INDEX_COLUMNS = ["province_code", "year"]

# What the suite checks, as the Dagster asset check describes it (orchestration/defs/validate.py);
# tests/test_check_descriptions.py holds it to the expectations build_panel_suite adds.
DESCRIPTION = (
    "Great Expectations suite on the panel: the grain (one row per province and year), the row count, "
    "every province in every year; a null model variable only where the row lacks one of its inputs "
    "(a partial edition set, reported in marts.variable_availability), never with every input present; "
    "plausible ranges of TU, the location quotients and the FDI and GOV shares; year-on-year jumps (each "
    "province's, and the year's median); the location-quotient identity (GDP-weighted mean 1, with "
    "lq_reference panel); the share of filled cells of each variable."
)


def prepare_panel_frame(panel: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    frame = panel.sort_values(INDEX_COLUMNS).reset_index(drop=True).copy()
    # a province that lacks a year shows on each of its rows, with the province named
    frame["years_for_province"] = frame.groupby("province_code")["year"].transform("nunique")
    by_province = frame.groupby("province_code", sort=False)
    for column in thresholds["yoy_ratio_bounds"]:
        if column in frame:
            previous = by_province[column].shift(1)
            frame[f"{column}_yoy_ratio"] = frame[column] / previous
    for column in thresholds.get("yoy_median_ratio_bounds", {}):
        if f"{column}_yoy_ratio" in frame:
            frame[f"{column}_yoy_median_ratio"] = frame.groupby("year")[f"{column}_yoy_ratio"].transform("median")
    if "gdp" in frame:
        for lq in LOCATION_QUOTIENTS:
            if lq in frame:
                # over the rows that have the LQ: a year without it (missing input) stays NaN, unchecked
                has_lq = frame[lq].notna()
                weighted = (frame["gdp"] * frame[lq]).where(has_lq).groupby(frame["year"]).transform("sum", min_count=1)
                gdp = frame["gdp"].where(has_lq).groupby(frame["year"]).transform("sum", min_count=1)
                frame[f"{lq}_gdp_weighted_mean"] = weighted / gdp
    # a null model variable is allowed where the row lacks one of its inputs (a partial edition
    # set: reported in marts.variable_availability), never where every input is present
    lacking = (frame["missing_input_variables"].fillna("").str.split(",")
               if "missing_input_variables" in frame else pd.Series([[]] * len(frame), index=frame.index))
    for variable in MODEL_VARIABLES:
        if variable in frame:
            lacks_input = lacking.apply(lambda names, name=variable: name in names).astype(bool)
            frame[f"{variable}_null_without_missing_input"] = frame[variable].isna() & ~lacks_input
    for variable in MODEL_VARIABLES:
        flag = f"{variable}_is_filled"
        if flag in frame:
            frame[f"{flag}_share"] = frame[flag].astype(float).mean()
    return frame


def expected_units(thresholds: dict) -> int:
    """The paper's 30 provinces (thresholds.yml); with a geography folder (PROVPANEL_GEOGRAPHY)
    every unit of it that the panel keeps (its codes outside panel_exclude_provinces)."""
    import yaml

    from provpanel.config import DBT_PROJECT_DIR, get_paths
    from provpanel.harmonise import panel_unit_codes

    if not get_paths().custom_geography:
        return thresholds["expected_provinces"]
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    excluded = set(project["vars"]["panel_exclude_provinces"])
    return sum(1 for code in panel_unit_codes() if code not in excluded)


def build_panel_suite(frame: pd.DataFrame, thresholds: dict, *, lq_reference: str = "panel"):
    import great_expectations as gx

    E = gx.expectations
    n_years = int(frame["year"].max() - frame["year"].min() + 1) if len(frame) else 0
    suite = gx.ExpectationSuite(name="province_year_panel")
    suite.add_expectation(
        E.ExpectTableRowCountToEqual(value=expected_units(thresholds) * n_years)
    )
    suite.add_expectation(E.ExpectCompoundColumnsToBeUnique(column_list=INDEX_COLUMNS))
    suite.add_expectation(E.ExpectColumnValuesToBeInSet(column="years_for_province", value_set=[n_years]))
    for variable in MODEL_VARIABLES:
        # missing input is reported, corrupt input (a null with every input present) blocks
        suite.add_expectation(E.ExpectColumnValuesToBeInSet(
            column=f"{variable}_null_without_missing_input", value_set=[False]))
    suite.add_expectation(E.ExpectColumnValuesToBeBetween(column="tu", min_value=0, max_value=thresholds["tu_max"]))
    for lq in LOCATION_QUOTIENTS:
        suite.add_expectation(
            E.ExpectColumnValuesToBeBetween(
                column=lq,
                min_value=thresholds["lq_min_exclusive"],
                max_value=thresholds["lq_max"],
                strict_min=True,
            )
        )
        weighted = f"{lq}_gdp_weighted_mean"
        if lq_reference == "panel" and weighted in frame:
            tolerance = thresholds["lq_weighted_mean_tolerance"]
            suite.add_expectation(
                E.ExpectColumnValuesToBeBetween(column=weighted, min_value=1 - tolerance, max_value=1 + tolerance)
            )
    for share in SHARES:
        suite.add_expectation(
            E.ExpectColumnValuesToBeBetween(column=share, min_value=thresholds["share_min"], max_value=thresholds["share_max"])
        )
    for column, (low, high) in thresholds["yoy_ratio_bounds"].items():
        if f"{column}_yoy_ratio" in frame:
            suite.add_expectation(
                E.ExpectColumnValuesToBeBetween(column=f"{column}_yoy_ratio", min_value=low, max_value=high)
            )
    for column, (low, high) in thresholds.get("yoy_median_ratio_bounds", {}).items():
        if f"{column}_yoy_median_ratio" in frame:
            suite.add_expectation(
                E.ExpectColumnValuesToBeBetween(column=f"{column}_yoy_median_ratio", min_value=low, max_value=high)
            )
    max_filled = thresholds["max_filled_share"]
    for variable in MODEL_VARIABLES:
        share = f"{variable}_is_filled_share"
        if share in frame:
            bound = max_filled.get(variable, max_filled["default"])
            suite.add_expectation(E.ExpectColumnValuesToBeBetween(column=share, min_value=0, max_value=bound))
    return suite


def validate_panel(panel: pd.DataFrame, *, thresholds: dict | None = None, lq_reference: str = "panel",
                   docs_dir=None) -> SuiteOutcome:
    thresholds = thresholds or load_thresholds()["panel"]
    frame = prepare_panel_frame(panel, thresholds)
    return run_suite(
        "province_year_panel",
        frame,
        lambda: build_panel_suite(frame, thresholds, lq_reference=lq_reference),
        INDEX_COLUMNS,
        docs_dir=docs_dir,
    )
