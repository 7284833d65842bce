"""Coverage that says what to do, without a build: the heat map draws each cell's observed /
filled / missing units; what to fetch next is ranked by the models an indicator helps unlock,
with the smallest set for Models 1 and 2; reasons are grouped, each once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from heatmap_pixels import cell_shares

from analysis.availability import grouped_reasons, grouped_reasons_markdown, model_estimability
from analysis.simulate import simulate_panel
from analysis.specs import VARIANT_MODELS, paper_models
from provpanel.coverage import plot_coverage_heatmap
from provpanel.fetch_plan import model_obstacles, smallest_fetch, unlock_counts, variable_needs

SPECS = [*paper_models(), *VARIANT_MODELS]


def _indicators(rows):
    return pd.DataFrame([
        {"indicator": name, "scope": "province", "year": year, "n_units": 30, "n_observed": observed,
         "n_interpolated": interpolated, "n_carried": carried, "n_missing": missing, "is_left_out": False,
         "status": "observed" if observed * 2 > 30 else ("filled" if observed + interpolated + carried else "missing")}
        for name, year, observed, interpolated, carried, missing in rows])


def test_heat_map_cells_show_observed_filled_and_missing_in_proportion(tmp_path):
    # mixed cells: a majority colour alone would paint 2020's gdp blue and 2021's population orange
    indicators = _indicators([
        ("gdp", 2020, 18, 6, 0, 6), ("gdp", 2021, 30, 0, 0, 0),
        ("population", 2020, 0, 0, 0, 30), ("population", 2021, 6, 12, 6, 6),
    ])
    png = plot_coverage_heatmap(indicators, tmp_path / "heat.png")
    shares = cell_shares(png, n_rows=2, n_cols=2)
    expected = np.array([[[0.6, 0.2, 0.2], [1.0, 0.0, 0.0]],
                         [[0.0, 0.0, 1.0], [0.2, 0.6, 0.2]]])
    assert np.abs(shares - expected).max() < 0.06, shares


def test_heat_map_legend_gives_each_share():
    from provpanel.coverage import draw_coverage_heatmap

    indicators = _indicators([("gdp", 2020, 18, 6, 0, 6), ("gdp", 2021, 30, 0, 0, 0)])
    figure = draw_coverage_heatmap(indicators)
    texts = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert texts == ["observed: 80% of unit-years", "filled (interpolated / carried): 10% of unit-years",
                     "missing: 10% of unit-years"]


def _inputs():
    from provpanel.harmonise import seed_rows

    return pd.DataFrame(seed_rows("model_variable_inputs.csv"))


def _missing(panel, cells):
    """Blank `variables` where `cells` (indicator -> years) lack values, as the panel would."""
    rows = [{"province_code": code, "year": year, "indicator": indicator}
            for indicator, years in cells.items() for year in years
            for code in panel["province_code"].unique()]
    return pd.DataFrame(rows, columns=["province_code", "year", "indicator"])


@pytest.fixture(scope="module")
def partial():
    """A panel like the real partial edition's, reduced: TU lacks the exchange rate 2015-2021
    and the trade total 2001-2015 (exports and imports never observed), FDI lacks fdi_actual."""
    panel = simulate_panel(seed=4)
    missing = _missing(panel, {"exchange_rate": range(2015, 2022), "trade_total": range(2001, 2016),
                               "exports": range(2001, 2022), "imports": range(2001, 2022),
                               "fdi_actual": range(2001, 2022)})
    panel.loc[:, ["tu", "fdi"]] = np.nan
    panel.loc[panel["year"] >= 2015, "fma_tv"] = np.nan
    return panel, missing


def test_smallest_set_for_models_1_and_2_takes_the_total_not_exports_and_imports(partial):
    panel, missing = partial
    needs = variable_needs(_inputs())
    cost = missing.groupby("indicator").size().to_dict()
    obstacles = model_obstacles(panel, SPECS, needs, missing)
    headline = [model for model in obstacles if model.model_id in ("1", "2")]
    assert smallest_fetch(headline, needs, cost) == ["exchange_rate", "fdi_actual", "trade_total"]
    assert smallest_fetch([model for model in obstacles if model.model_id == "1"], needs, cost) == [
        "exchange_rate", "trade_total"]
    in_smallest, alone = unlock_counts(obstacles, needs, cost)
    # every model lacks TU, FDI or FMA_tv, each of which needs the exchange rate
    assert in_smallest["exchange_rate"] == 18 and "exports" not in in_smallest
    assert in_smallest["fdi_actual"] == 17  # every model with the controls
    assert alone == {}  # no single indicator unlocks a model here


def test_a_null_no_missing_input_explains_is_never_unlocked(partial):
    panel, missing = partial
    panel = panel.copy()
    panel.loc[panel["year"] == 2010, "ic"] = np.nan  # corrupt: every input of IC is present
    needs = variable_needs(_inputs())
    obstacles = {model.model_id: model for model in model_obstacles(panel, SPECS, needs, missing)}
    assert obstacles["1"].unfixable == ("ic",)
    assert smallest_fetch([obstacles["1"]], needs, {}) is None


def test_reasons_are_grouped_each_once_with_the_models_it_stops():
    panel = simulate_panel(seed=4)
    panel.loc[panel["year"] <= 2009, "fdi"] = np.nan
    panel["ks"] = np.nan
    reasons = {"fdi": "fdi_actual has no observations for 2001-2009",
               "ks": "patent_applications has no observations for 2001-2021"}
    models = model_estimability(panel, SPECS, reasons)
    stopped = models[~models["estimable"]]
    parts = dict(zip(stopped["model_id"], stopped["reason_parts"], strict=True))
    groups = dict(grouped_reasons(parts))
    assert groups["KS: patent_applications has no observations for 2001-2021"] == ["10", "11"]
    assert len(groups["FDI: fdi_actual has no observations for 2001-2009"]) == 17
    markdown = grouped_reasons_markdown(parts, len(SPECS))
    assert markdown.count("fdi_actual has no observations") == 1
    assert markdown.startswith("**Models not estimable on this panel: 17 of 18**")
    assert "- KS: patent_applications has no observations for 2001-2021 — Models 10, 11\n" in markdown


def test_sample_coverage_starts_with_the_count_and_its_heat_map_draws_the_counts(sample_build):
    import duckdb
    from cli_helpers import run_provpanel
    from heatmap_pixels import assert_heat_map_draws

    home, _ = sample_build
    completed = run_provpanel(["coverage"], home=home)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == f"{len(SPECS)} of {len(SPECS)} models estimable; 0 indicators missing"
    assert "**Models 1 and 2** are estimable." in lines and "Every model is estimable." in lines
    # --format csv: stdout stays one CSV table, the count comes first on stderr
    as_csv = run_provpanel(["coverage", "--format", "csv"], home=home)
    assert as_csv.stderr.splitlines()[0] == lines[0] and as_csv.stdout.startswith("indicator,scope,year,")
    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        indicators = con.execute("select * from marts.indicator_coverage").df()
    # the sample's gaps are a few provinces of a year: slivers of a cell, drawn in proportion
    assert ((indicators["n_interpolated"] > 0) & (indicators["n_observed"] > 15)).any()
    assert_heat_map_draws(home / "outputs" / "coverage_heatmap.png", indicators)
