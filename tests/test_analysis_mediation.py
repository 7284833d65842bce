"""Mediation: the OLS identity c - c' = a*b, absorbed FMA, tests, bootstrap, verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.mediation import (
    MEDIATION_COLUMNS,
    NOT_IDENTIFIED,
    analyse_mediator,
    bootstrap_intervals,
    indirect_effect_tests,
    run_mediation,
    wen_verdict,
)
from analysis.simulate import TRUE_EFFECTS, simulate_panel


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(seed=11)


@pytest.fixture(scope="module")
def mediation(panel):
    return run_mediation(panel, bootstrap_reps=49, seed=5)


def test_total_minus_direct_equals_indirect(mediation):
    table, _ = mediation
    identified = table[table["verdict"] != NOT_IDENTIFIED]
    assert set(identified["mediator"]) == {"te", "ks", "fma_tv"}
    np.testing.assert_allclose(
        identified["c"] - identified["c_prime"], identified["a"] * identified["b"],
        rtol=0, atol=1e-10,
    )
    assert (identified["identity_gap"].abs() < 1e-10).all()


def test_identity_holds_when_rows_are_missing(panel):
    # A missing mediator value must drop the row from all three equations.
    data = panel.copy()
    data.loc[[2, 40, 41], "te"] = np.nan
    data.loc[[7], "tu"] = np.nan
    row = analyse_mediator(data, "te", bootstrap_reps=9).row
    assert row["nobs"] == 630 - 4
    assert abs((row["c"] - row["c_prime"]) - row["a"] * row["b"]) < 1e-10


def test_static_fma_is_reported_not_identified(mediation):
    table, results = mediation
    fma = table.set_index("mediator").loc["fma"]
    assert fma["verdict"] == NOT_IDENTIFIED
    assert np.isnan(fma["a"]) and np.isnan(fma["b"]) and np.isnan(fma["indirect_ab"])
    assert np.isfinite(fma["c"])  # the total effect does not involve FMA
    fma_result = next(result for result in results if result.mediator == "fma")
    assert "fma" in fma_result.b_equation.absorbed


def test_planted_mediation_is_found(mediation):
    te = mediation[0].set_index("mediator").loc["te"]
    assert te["a"] == pytest.approx(TRUE_EFFECTS["te_on_ic"], abs=0.15)
    assert te["b"] == pytest.approx(TRUE_EFFECTS["tu_on_te"], abs=0.15)
    assert te["sobel_p"] < 0.01
    assert te["boot_ci_low_percentile"] < te["indirect_ab"] < te["boot_ci_high_percentile"]
    assert te["boot_ci_low_percentile"] > 0
    assert te["verdict"].startswith("partial mediation")


def test_columns_are_stable(mediation):
    assert list(mediation[0].columns) == MEDIATION_COLUMNS


def test_bootstrap_is_reproducible_with_seed(panel):
    first = analyse_mediator(panel, "te", bootstrap_reps=29, seed=1).row
    again = analyse_mediator(panel, "te", bootstrap_reps=29, seed=1).row
    other = analyse_mediator(panel, "te", bootstrap_reps=29, seed=2).row
    assert first["boot_ci_low_bc"] == again["boot_ci_low_bc"]
    assert first["boot_ci_low_percentile"] != other["boot_ci_low_percentile"]


def test_indirect_effect_test_formulas():
    a, se_a, b, se_b = 0.5, 0.1, 0.4, 0.2
    tests = indirect_effect_tests(a, se_a, b, se_b)
    sobel_se = np.sqrt(b**2 * se_a**2 + a**2 * se_b**2)
    assert tests["sobel_z"] == pytest.approx(a * b / sobel_se)
    assert tests["aroian_z"] == pytest.approx(a * b / np.sqrt(sobel_se**2 + se_a**2 * se_b**2))
    assert tests["goodman_z"] == pytest.approx(a * b / np.sqrt(sobel_se**2 - se_a**2 * se_b**2))
    assert abs(tests["aroian_z"]) < abs(tests["sobel_z"]) < abs(tests["goodman_z"])
    assert 0 < tests["sobel_p"] < 1


def test_bias_corrected_interval_shifts_with_median_bias():
    draws = np.linspace(0.0, 1.0, 1001)
    centred = bootstrap_intervals(draws, 0.5, 0.90)
    assert centred["boot_ci_low_bc"] == pytest.approx(centred["boot_ci_low_percentile"], abs=1e-2)
    shifted = bootstrap_intervals(draws, 0.6, 0.90)  # estimate above the bootstrap median
    assert shifted["boot_ci_low_bc"] > centred["boot_ci_low_bc"]


@pytest.mark.parametrize(
    ("pvalues", "expected"),
    [
        ({"c_p": 0.3, "a_p": 0.0, "b_p": 0.0, "c_prime_p": 0.0, "sobel_p": 0.0}, "no mediation"),
        ({"c_p": 0.0, "a_p": 0.0, "b_p": 0.0, "c_prime_p": 0.0, "sobel_p": 0.0}, "partial"),
        ({"c_p": 0.0, "a_p": 0.0, "b_p": 0.0, "c_prime_p": 0.4, "sobel_p": 0.0}, "full"),
        ({"c_p": 0.0, "a_p": 0.2, "b_p": 0.0, "c_prime_p": 0.0, "sobel_p": 0.01}, "mediation by Sobel"),
        ({"c_p": 0.0, "a_p": 0.2, "b_p": 0.0, "c_prime_p": 0.0, "sobel_p": 0.3}, "no significant"),
    ],
)
def test_wen_stepwise_verdict(pvalues, expected):
    assert wen_verdict(**pvalues, alpha=0.05).startswith(expected)


def test_bootstrap_from_province_cross_products_equals_refitting_each_draw(panel):
    """The bootstrap sums the provinces' cross-products (weighted by how often each is drawn)
    instead of refitting on stacked rows; both must give the same a*b draw by draw."""
    from analysis.estimate import prepare_sample
    from analysis.mediation import CONTROLS, mediation_specs, province_block_bootstrap
    from analysis.within import EffectCodes, demean, within_ols

    reps, seed = 25, 3
    fast = province_block_bootstrap(panel, "te", reps=reps, seed=seed)
    _, b_spec, _ = mediation_specs("te")
    sample = prepare_sample(panel, b_spec, extra_columns=("tu", "te"))
    frame, codes = sample.frame, sample.cluster_codes
    controls = frame[["ic", *CONTROLS]].to_numpy(dtype=float)
    mediator, outcome = frame["te"].to_numpy(dtype=float), frame["tu"].to_numpy(dtype=float)
    rows_of = [np.flatnonzero(codes == g) for g in range(int(codes.max()) + 1)]
    rng = np.random.default_rng(seed)
    reference = np.full(reps, np.nan)
    for rep in range(reps):  # the textbook way: stack the drawn provinces, each its own effect
        chosen = rng.integers(0, len(rows_of), size=len(rows_of))
        rows = np.concatenate([rows_of[i] for i in chosen])
        effects = EffectCodes(entity=np.repeat(np.arange(len(chosen)), [rows_of[i].size for i in chosen]), time=None)
        x = demean(controls[rows], effects)
        m, y = demean(mediator[rows], effects), demean(outcome[rows], effects)
        a = within_ols(m, x)[0]
        b = within_ols(y, np.column_stack([x, m]))[-1]
        reference[rep] = a * b
    assert np.isfinite(reference).all()
    np.testing.assert_allclose(fast, reference, rtol=1e-8, atol=0)


@pytest.mark.parametrize("n_columns", [3, 40])
def test_group_sums_equal_unbuffered_addition(n_columns):
    from analysis.within import group_sums

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 9, size=500)
    codes[codes == 4] = 5  # group 4 is empty
    values = rng.normal(size=(500, n_columns))
    expected = np.zeros((9, n_columns))
    np.add.at(expected, codes, values)
    np.testing.assert_allclose(group_sums(values, codes, 9), expected, rtol=1e-12, atol=1e-12)
    assert (group_sums(values, codes, 9)[4] == 0).all()
