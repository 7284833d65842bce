"""The plain-Python baseline of bench/ against a real build: the same panel and the same
Model 2 coefficients. The baseline is an independent re-implementation of the dbt logic
(vintage resolution, USD conversion, interpolation, the variables), so agreement here checks
both sides."""

from __future__ import annotations

import importlib.util

import duckdb
import numpy as np
import pandas as pd
import pytest

from provpanel.config import REPO_ROOT, SAMPLE_EDITIONS_DIR

MODEL_2_TERMS = ["ic", "cx", "hum", "fdi", "gov", "inf"]


def _load_baseline():
    """bench/ is a folder of scripts, not a package: load the module from its file."""
    spec = importlib.util.spec_from_file_location("baseline_panel", REPO_ROOT / "bench" / "baseline_panel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def baseline():
    return _load_baseline()


@pytest.fixture(scope="module")
def baseline_panel(baseline):
    return baseline.build_panel(SAMPLE_EDITIONS_DIR)


@pytest.fixture(scope="module")
def built(sample_build):
    home, _ = sample_build
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
        estimates = con.execute(
            "SELECT term, estimate FROM analysis.estimates WHERE model_id = '2'"
        ).df()
    finally:
        con.close()
    return panel, estimates


def test_baseline_panel_has_the_paper_shape(baseline_panel, baseline):
    assert len(baseline_panel) == 630
    assert baseline_panel["province_code"].nunique() == 30
    assert "54" not in set(baseline_panel["province_code"])  # Tibet is not in the panel
    assert (baseline_panel["year"].min(), baseline_panel["year"].max()) == (2001, 2021)
    assert baseline_panel[baseline.PANEL_VARIABLES].notna().all().all()
    assert baseline_panel.groupby("region")["province_code"].nunique().to_dict() == {
        "east": 11, "central": 8, "west": 11}


def test_baseline_panel_equals_the_built_panel(baseline_panel, built, baseline):
    built_panel, _ = built
    built_panel = built_panel.assign(year=built_panel["year"].astype(int))
    merged = baseline_panel.merge(built_panel, on=["province_code", "year"], how="outer",
                                  suffixes=("_baseline", "_dbt"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", ["province_code", "year"]]
    assert (merged["region_baseline"] == merged["region_dbt"]).all()
    for variable in baseline.PANEL_VARIABLES:
        ours = merged[f"{variable}_baseline"].to_numpy(dtype=float)
        theirs = merged[f"{variable}_dbt"].to_numpy(dtype=float)
        close = np.isclose(ours, theirs, rtol=1e-9, atol=0.0)
        differing = merged.loc[~close, ["province_code", "year"]].assign(baseline=ours[~close], dbt=theirs[~close])
        assert close.all(), f"{variable}: {len(differing)} cell(s) differ:\n{differing.head(20).to_string()}"


def test_baseline_model_2_coefficients_equal_the_build(baseline_panel, built, baseline):
    _, estimates = built
    fitted = baseline.fit_model_2(baseline_panel)
    published = estimates.set_index("term")["estimate"]
    assert set(MODEL_2_TERMS) <= set(published.index)
    for term in MODEL_2_TERMS:
        assert fitted.params[term] == pytest.approx(published[term], rel=1e-8, abs=0.0), term
    assert fitted.nobs == 630


def test_latest_policy_takes_the_revised_cell_and_interpolation_carries_edges(baseline):
    # A revised cell: the later edition wins; an interior gap is interpolated, edges carried.
    raw = pd.DataFrame({
        "province_code": ["11", "11", "11", "11"],
        "year": [2003, 2003, 2005, 2009],
        "indicator": ["gdp"] * 4,
        "value": [100.0, 104.0, 110.0, 130.0],
        "unit": ["cny_100m"] * 4,
        "edition": ["old", "new", "old", "old"],
        "published": pd.to_datetime(["2010-01-01", "2011-01-01", "2010-01-01", "2010-01-01"]),
        "file": ["a.csv"] * 4, "sheet": [None] * 4, "source_row": [1, 1, 2, 3], "source_col": [1] * 4,
    })
    resolved = baseline.resolve_latest(raw)
    assert resolved.loc[resolved["year"] == 2003, "value"].tolist() == [104.0]
    wide = baseline.interpolate_within_province(resolved, ["11"])
    gdp = wide.loc["11", "gdp"]
    assert gdp[2001] == gdp[2002] == 104.0  # carried back from the first observation
    assert gdp[2004] == pytest.approx(107.0)
    assert gdp[2007] == pytest.approx(120.0)
    assert gdp[2021] == 130.0  # carried forward from the last
