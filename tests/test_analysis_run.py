"""run_all end to end on a simulated panel, the written outputs and the figures."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.compare import COMPARISON_COLUMNS
from analysis.estimate import fit_model
from analysis.mediation import MEDIATION_COLUMNS
from analysis.plots import (
    all_terms_figure,
    key_terms_figure,
    mediation_figure,
    plot_coefficients,
    plot_trends_by_region,
    trends_by_region_figure,
)
from analysis.run import ESTIMATE_COLUMNS, FIT_COLUMNS, run_all
from analysis.simulate import simulate_panel
from analysis.specs import get_spec


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(seed=4)


@pytest.fixture(scope="module")
def outputs(panel):
    return run_all(panel, bootstrap_reps=49, seed=9)


def test_frames_have_stable_columns(outputs):
    assert list(outputs.estimates.columns) == ESTIMATE_COLUMNS
    assert list(outputs.fit.columns) == FIT_COLUMNS
    assert list(outputs.mediation.columns) == MEDIATION_COLUMNS
    assert list(outputs.comparison.columns) == COMPARISON_COLUMNS


def test_every_model_is_fitted_once(outputs):
    expected = [*map(str, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17]),
                "protectionism", "6tv", "7tv"]
    assert list(outputs.fit["model_id"]) == expected
    assert outputs.fit.set_index("model_id").loc["3", "nobs"] == 231
    assert outputs.fit.set_index("model_id").loc["4", "n_clusters"] == 8
    absorbed = outputs.estimates.query("status == 'absorbed'")
    assert absorbed["estimate"].isna().all() and absorbed["std_error"].isna().all()
    assert ("7", "fma") in set(zip(absorbed["model_id"], absorbed["term"]))


def test_fma_tv_identification_in_fit_and_estimates(outputs):
    fit = outputs.fit.set_index("model_id")
    for model_id in ("6tv", "7tv"):
        assert fit.loc[model_id, "identification"].startswith("weakly identified")
        rows = outputs.estimates.query("model_id == @model_id")
        assert rows["identification"].str.startswith("weakly identified").all()
    assert (fit.drop(index=["6tv", "7tv"])["identification"] == "").all()


def test_every_r2_is_labelled_with_its_effects(outputs):
    fit = outputs.fit.set_index("model_id")
    assert fit.loc["2", "r2_within_effects"] == "province and year"
    assert fit.loc["7", "r2_within_effects"] == "province"
    assert (fit["r2_within"].dropna() >= 0).all()


def test_wild_bootstrap_p_for_the_key_terms_by_default(outputs, panel):
    """wild_bootstrap_p is filled for ic and ic2 in every model that estimates them (the
    default wild_bootstrap_terms), with cluster SEs; NaN for every other term."""
    estimates = outputs.estimates
    key = estimates["term"].isin(["ic", "ic2"]) & (estimates["status"] == "estimated")
    assert key.sum() >= 15
    assert estimates.loc[key, "wild_bootstrap_p"].between(0, 1).all()
    assert estimates.loc[~key, "wild_bootstrap_p"].isna().all()
    assert (estimates["se_type"] == "cluster").all()
    # the same draws as a bootstrap of every slope: the key term's p-value does not depend
    # on which other terms are bootstrapped
    every_slope = fit_model(panel, get_spec("2"), se_type="wild_cluster_bootstrap", seed=9)
    model_2_ic = estimates.query("model_id == '2' and term == 'ic'")["wild_bootstrap_p"].iloc[0]
    assert model_2_ic == every_slope.bootstrap_pvalues["ic"]
    fit = outputs.fit.set_index("model_id")
    assert "wild_bootstrap_p of ic from a wild cluster bootstrap (webb weights, 999 draws, seed 9" in fit.loc["2", "notes"]
    assert outputs.settings["wild_bootstrap_terms"] == "ic,ic2"


def test_wild_bootstrap_terms_setting(panel):
    none = run_all(panel, bootstrap_reps=9, wild_bootstrap_terms=(), mediators=("te",))
    assert none.estimates["wild_bootstrap_p"].isna().all()
    chosen = run_all(panel, bootstrap_reps=9, wild_bootstrap_terms=("cx",), wild_bootstrap_reps=199,
                     wild_bootstrap_weights="rademacher", mediators=("te",))
    filled = chosen.estimates[chosen.estimates["wild_bootstrap_p"].notna()]
    assert set(filled["term"]) == {"cx"} and len(filled) >= 15
    # 199 draws: every p-value is a multiple of 1/199
    assert np.allclose((filled["wild_bootstrap_p"] * 199).round(), filled["wild_bootstrap_p"] * 199)
    with pytest.raises(ValueError, match="wild_bootstrap_terms"):
        run_all(panel, bootstrap_reps=9, wild_bootstrap_terms=("icc",), mediators=("te",))


def test_break_year_setting_and_skipped_variants(panel):
    result = run_all(
        panel.drop(columns="fma_tv"), bootstrap_reps=9, break_year=2016, mediators=("te",)
    )
    terms = set(result.estimates.query("model_id == 'protectionism'")["term"])
    assert {"ic_x_p2016", "cx_x_p2016"} <= terms
    assert result.settings["break_year"] == 2016
    assert set(result.skipped) == {"6tv", "7tv"}
    assert "6tv" not in set(result.fit["model_id"])
    assert list(result.mediation["mediator"]) == ["te"]


def _assert_png_draws(png, figure) -> None:
    """The PNG holds the pixels of `figure` (whose drawn points tests/test_analysis_plots.py
    reads back) rendered as the plots are saved, not merely some image."""
    import io

    import matplotlib.image
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=120, format="png")
    plt.close(figure)
    buffer.seek(0)
    expected = matplotlib.image.imread(buffer, format="png")
    drawn = matplotlib.image.imread(str(png))
    assert drawn.shape == expected.shape, (png.name, drawn.shape, expected.shape)
    assert np.array_equal(drawn, expected), f"{png.name}: not the figure's pixels"


def test_write_outputs_and_plots(outputs, panel, tmp_path):
    written = outputs.write_outputs(tmp_path / "out")
    names = {path.name for path in written}
    for suffix in ("md", "tex", "html", "csv"):
        assert f"table_1.{suffix}" in names and f"table_4.{suffix}" in names
    coefficient_plot = tmp_path / "out" / "coefficients_vs_published.png"
    _assert_png_draws(coefficient_plot, all_terms_figure(outputs.comparison, our_ci=outputs.estimates))
    _assert_png_draws(tmp_path / "out" / "key_terms_vs_published.png",
                      key_terms_figure(outputs.comparison, our_ci=outputs.estimates))
    _assert_png_draws(tmp_path / "out" / "mediation_paths.png", mediation_figure(outputs.mediation))
    trend_plot = plot_trends_by_region(panel, tmp_path / "trends.png")
    assert trend_plot == tmp_path / "trends.png"
    _assert_png_draws(trend_plot, trends_by_region_figure(panel))
    only_model_2 = outputs.comparison[outputs.comparison["model_id"] == "2"]
    _assert_png_draws(plot_coefficients(only_model_2, tmp_path / "m2.png"), all_terms_figure(only_model_2))


def test_package_import_stays_light():
    code = "import sys, analysis; print('linearmodels' in sys.modules, 'scipy.stats' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True)
    assert completed.stdout.split() == ["False", "False"]


def test_estimates_table_column_is_integer(outputs):
    assert isinstance(outputs.estimates["paper_table"].dtype, pd.Int64Dtype)


def test_frames_load_into_duckdb(outputs, tmp_path):
    import duckdb

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("CREATE SCHEMA analysis")
        for name in ("estimates", "fit", "mediation", "comparison"):
            connection.register("frame", getattr(outputs, name))
            connection.execute(f"CREATE TABLE analysis.{name} AS SELECT * FROM frame")
            connection.unregister("frame")
        absorbed = connection.execute(
            "SELECT count(*) FROM analysis.estimates WHERE status = 'absorbed' AND estimate IS NULL"
        ).fetchone()[0]
        disagreements = connection.execute(
            "SELECT count(*) FROM analysis.comparison WHERE sign_agree IS NULL"
        ).fetchone()[0]
    assert absorbed == (outputs.estimates["status"] == "absorbed").sum() > 0
    assert disagreements == outputs.comparison["sign_agree"].isna().sum()
