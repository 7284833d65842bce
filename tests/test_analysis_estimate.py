"""fit_model: pyfixest agreement, absorption, known effects, SE types, input errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyfixest
import pytest

from analysis.errors import AnalysisInputError
from analysis.estimate import fit_model
from analysis.simulate import TRUE_EFFECTS, simulate_panel
from analysis.specs import PAPER_MODELS, get_spec, protectionism_model

CONTROL_FORMULA = "ic + cx + hum + fdi + gov + inf"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(seed=7)


@pytest.mark.parametrize("model_id", ["2", "3", "4"])
def test_cluster_se_matches_pyfixest_crv1(panel, model_id):
    spec = get_spec(model_id)
    rows = panel if spec.sample == "all" else panel[panel["region"] == spec.sample]
    reference = pyfixest.feols(
        f"tu ~ {CONTROL_FORMULA} | province_code + year",
        data=rows.copy(),
        vcov={"CRV1": "province_code"},
    )
    ours = fit_model(panel, spec)
    slopes = list(reference.coef().index)
    np.testing.assert_allclose(ours.params[slopes], reference.coef(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.std_errors[slopes], reference.se(), rtol=0, atol=1e-6)
    # Both test with t(G-1).
    np.testing.assert_allclose(ours.pvalues[slopes], reference.pvalue(), rtol=0, atol=1e-6)
    assert ours.inference_df == rows["province_code"].nunique() - 1


def test_entity_only_cluster_se_matches_pyfixest(panel):
    spec = get_spec("9")
    reference = pyfixest.feols(
        f"tu ~ {CONTROL_FORMULA} + te | province_code", data=panel.copy(),
        vcov={"CRV1": "province_code"},
    )
    ours = fit_model(panel, spec)
    slopes = list(reference.coef().index)
    np.testing.assert_allclose(ours.params[slopes], reference.coef(), atol=1e-8)
    np.testing.assert_allclose(ours.std_errors[slopes], reference.se(), atol=1e-6)
    assert ours.n_params_ssc == 7 + 1  # slopes + the constant; province FE nested in clusters


def test_reghdfe_parameter_count_two_way(panel):
    result = fit_model(panel, get_spec("2"))
    # 6 slopes + constant + 20 year effects; the 30 province effects are nested in clusters.
    assert result.n_params_ssc == 6 + 1 + (21 - 1)
    assert (result.nobs, result.n_clusters) == (630, 30)


def test_known_effect_recovered_within_95_interval(panel):
    result = fit_model(panel, get_spec("2"))
    # Model 2 omits TE, so IC carries its total effect: direct + via TE.
    total_ic_effect = TRUE_EFFECTS["tu_on_ic"] + TRUE_EFFECTS["tu_on_te"] * TRUE_EFFECTS["te_on_ic"]
    low, high = result.conf_int.loc["ic"]
    assert low < total_ic_effect < high
    assert result.pvalues["ic"] < 0.01
    # The interval is estimate ± t(G-1) quantile × clustered SE.
    from scipy import stats

    half_width = stats.t.ppf(0.975, 29) * result.std_errors["ic"]
    assert high - result.params["ic"] == pytest.approx(half_width)


def test_interval_coverage_over_replications():
    truth = {"cx": TRUE_EFFECTS["tu_on_cx"], "gov": 0.0}
    replications = 20
    covered = dict.fromkeys(truth, 0)
    for seed in range(replications):
        result = fit_model(simulate_panel(seed=1000 + seed), get_spec("2"))
        for term, value in truth.items():
            low, high = result.conf_int.loc[term]
            covered[term] += low < value < high
    for term, count in covered.items():
        assert count / replications >= 0.85, (term, count)


def test_time_invariant_regressor_is_absorbed_not_estimated(panel):
    result = fit_model(panel, get_spec("7"))  # TU on IC, controls and static FMA
    assert "fma" in result.absorbed
    assert "fma" not in result.params.index
    assert "fma" not in result.std_errors.index
    rows = result.estimates_frame().set_index("term")
    assert rows.loc["fma", "status"] == "absorbed"
    assert np.isnan(rows.loc["fma", "estimate"]) and np.isnan(rows.loc["fma", "std_error"])
    assert rows.loc["ic", "status"] == "estimated"


def test_time_invariant_dependent_leaves_model_unidentified(panel):
    result = fit_model(panel, get_spec("6"))  # static FMA on IC and controls
    assert result.params.empty
    assert set(result.absorbed) == set(get_spec("6").regressors)
    assert any("not identified" in note for note in result.notes)


def test_regressor_collinear_given_effects_is_absorbed(panel):
    data = panel.assign(ic_copy=lambda frame: 2 * frame["ic"] + frame["year"] * 0.1)
    spec = dataclasses.replace(get_spec("2"), regressors=("ic", "cx", "ic_copy"))
    result = fit_model(data, spec)
    assert "ic_copy" in result.absorbed
    assert "collinear" in result.absorbed["ic_copy"]


def test_protectionism_interactions_use_break_year(panel):
    spec = protectionism_model(2015)
    result = fit_model(panel, spec)
    assert {"ic_x_p2015", "cx_x_p2015"} <= set(result.params.index)
    manual = panel.assign(
        ic_x_p2015=panel["ic"] * (panel["year"] >= 2015),
        cx_x_p2015=panel["cx"] * (panel["year"] >= 2015),
    )
    reference = pyfixest.feols(
        f"tu ~ {CONTROL_FORMULA} + ic_x_p2015 + cx_x_p2015 | province_code + year",
        data=manual, vcov={"CRV1": "province_code"},
    )
    np.testing.assert_allclose(
        result.params[reference.coef().index], reference.coef(), atol=1e-8
    )


@pytest.mark.parametrize("se_type", ["robust", "driscoll_kraay"])
def test_other_covariances_keep_point_estimates(panel, se_type):
    clustered = fit_model(panel, get_spec("2"))
    other = fit_model(panel, get_spec("2"), se_type=se_type)
    np.testing.assert_allclose(other.params, clustered.params, atol=1e-10)
    assert other.se_type == se_type
    assert (other.std_errors > 0).all()
    assert not np.allclose(other.std_errors, clustered.std_errors)


def test_wild_cluster_bootstrap_pvalues(panel):
    result = fit_model(
        panel, get_spec("2"), se_type="wild_cluster_bootstrap", bootstrap_reps=199, seed=3
    )
    again = fit_model(
        panel, get_spec("2"), se_type="wild_cluster_bootstrap", bootstrap_reps=199, seed=3
    )
    pd.testing.assert_series_equal(result.bootstrap_pvalues, again.bootstrap_pvalues)
    assert result.bootstrap_pvalues["ic"] < 0.01  # a strong true effect
    assert result.bootstrap_pvalues["gov"] > 0.05  # no true effect
    assert result.pvalues["ic"] == result.bootstrap_pvalues["ic"]
    clustered = fit_model(panel, get_spec("2"))
    np.testing.assert_allclose(result.std_errors, clustered.std_errors)


def test_wild_bootstrap_blocks_and_columns_do_not_change_the_pvalues(panel):
    """The cluster-level path, the row-level refits in one pass or in blocks (the memory cap
    of large panels), and a subset of columns all give the same p-values."""
    from analysis import bootstrap
    from analysis.estimate import prepare_sample

    sample = prepare_sample(panel, get_spec("2"))
    arguments = (sample.demeaned_dependent, sample.demeaned_regressors, sample.effects,
                 sample.cluster_codes)
    whole = bootstrap.wild_cluster_pvalues(*arguments, reps=199, seed=5)
    chosen = bootstrap.wild_cluster_pvalues(*arguments, reps=199, seed=5, columns=[4, 0])
    by_rows = bootstrap.wild_cluster_pvalues(*arguments, reps=199, seed=5, by_rows=True)
    blocked = bootstrap.wild_cluster_pvalues(*arguments, reps=199, seed=5, by_rows=True,
                                             max_block_cells=630 * 7)
    chosen = bootstrap.wild_cluster_pvalues(*arguments, reps=199, seed=5, columns=[4, 0])
    np.testing.assert_array_equal(whole, by_rows)  # cluster-level sums = the row-level refits
    np.testing.assert_array_equal(blocked, by_rows)
    np.testing.assert_array_equal(chosen, whole[[4, 0]])


@pytest.mark.parametrize(("model_id", "drop_rows"), [("2", 0), ("9", 0), ("2", 25)])
def test_cluster_level_bootstrap_equals_row_level_refits(panel, model_id, drop_rows):
    """Two-way and one-way effects, balanced and unbalanced (rows dropped): the same
    bootstrap t statistics whether computed from cluster sums or by demeaning every draw."""
    from analysis import bootstrap
    from analysis.estimate import prepare_sample

    rows = panel.drop(index=panel.sample(drop_rows, random_state=1).index) if drop_rows else panel
    sample = prepare_sample(rows, get_spec(model_id))
    arguments = (sample.demeaned_dependent, sample.demeaned_regressors, sample.effects,
                 sample.cluster_codes)
    np.testing.assert_array_equal(
        bootstrap.wild_cluster_pvalues(*arguments, reps=299, seed=2, weights="rademacher"),
        bootstrap.wild_cluster_pvalues(*arguments, reps=299, seed=2, weights="rademacher", by_rows=True),
    )


def test_wild_bootstrap_size_under_null_is_reasonable():
    # Eight clusters (central region) and no true effect of GOV: the p-value spread covers
    # the unit interval rather than piling up near zero.
    pvalues = []
    for seed in range(12):
        data = simulate_panel(seed=100 + seed)
        result = fit_model(
            data, get_spec("4"), se_type="wild_cluster_bootstrap", bootstrap_reps=99, seed=seed
        )
        pvalues.append(result.bootstrap_pvalues["gov"])
    assert np.mean(np.array(pvalues) < 0.05) <= 0.25
    assert max(pvalues) > 0.5


def test_rows_with_missing_values_are_dropped_and_reported(panel):
    data = panel.copy()
    data.loc[[0, 5], "cx"] = np.nan
    result = fit_model(data, get_spec("2"))
    assert result.nobs == 628
    assert any("2 row(s)" in note for note in result.notes)


def test_missing_column_error_names_panel_model_and_column(panel):
    with pytest.raises(AnalysisInputError, match=r"panel \(model 2\).*'gov'"):
        fit_model(panel.drop(columns="gov"), get_spec("2"))


def test_duplicate_province_year_is_reported(panel):
    data = pd.concat([panel, panel.iloc[[3]]])
    with pytest.raises(AnalysisInputError, match="appears more than once"):
        fit_model(data, get_spec("1"))


def test_unknown_region_sample_is_reported(panel):
    with pytest.raises(AnalysisInputError, match="region"):
        fit_model(panel.assign(region="north"), get_spec("3"))


def test_paper_models_numbering():
    ids = [spec.model_id for spec in PAPER_MODELS]
    assert ids == [*map(str, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17]), "protectionism"]
    mediation = [spec for spec in PAPER_MODELS if spec.model_id in {"6", "7", "8", "9", "10", "11"}]
    assert all(spec.entity_effects and not spec.time_effects for spec in mediation)
