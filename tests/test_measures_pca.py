"""The PCA index, KMO and Bartlett's test of provpanel.measures.pca on small made-up data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from provpanel.measures.pca import (
    bartlett_sphericity,
    kmo,
    pca_summary_long,
    principal_component_index,
)


@pytest.fixture
def correlated_inputs() -> pd.DataFrame:
    """Two latent factors behind four observed columns, one of them reversed in sign."""
    rng = np.random.default_rng(20260101)
    first, second = rng.normal(size=200), rng.normal(size=200)
    return pd.DataFrame({
        "a": first + 0.3 * rng.normal(size=200),
        "b": 2 * first + 0.5 * rng.normal(size=200) + 10,
        "c": second + 0.3 * rng.normal(size=200),
        "d": -second + 0.4 * rng.normal(size=200),
    })


def test_eigenvalues_and_loadings_match_numpy_eigh(correlated_inputs):
    result = principal_component_index(correlated_inputs)
    correlation = np.corrcoef(correlated_inputs.to_numpy(), rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    order = np.argsort(eigenvalues)[::-1]
    np.testing.assert_allclose(result.eigenvalues, eigenvalues[order], rtol=1e-12)
    for position in range(4):
        expected = eigenvectors[:, order[position]] * np.sqrt(eigenvalues[order[position]])
        stored = result.loadings.iloc[:, position].to_numpy()
        np.testing.assert_allclose(np.abs(stored), np.abs(expected), rtol=1e-9, atol=1e-12)
        assert stored.sum() > 0  # oriented so the loadings are positive on balance
    assert result.explained_variance_ratio.sum() == pytest.approx(1.0)


def test_two_factors_retained_and_index_is_their_weighted_score(correlated_inputs):
    result = principal_component_index(correlated_inputs)
    assert result.n_retained == 2
    np.testing.assert_allclose(result.weights, result.eigenvalues[:2] / result.eigenvalues[:2].sum())
    values = correlated_inputs.to_numpy()
    z = (values - values.mean(axis=0)) / values.std(axis=0, ddof=1)
    expected = z @ result.eigenvectors.iloc[:, :2].to_numpy() @ result.weights
    np.testing.assert_allclose(result.index.to_numpy(), expected, rtol=1e-12, atol=1e-12)
    assert result.index.mean() == pytest.approx(0.0, abs=1e-12)


def test_index_rises_with_inputs_when_all_move_together():
    rng = np.random.default_rng(3)
    common = rng.normal(size=100)
    frame = pd.DataFrame({name: common + 0.2 * rng.normal(size=100) for name in "wxyz"})
    result = principal_component_index(frame)
    assert result.n_retained == 1
    assert (result.loadings["PC1"] > 0).all()
    assert np.corrcoef(result.index, common)[0, 1] > 0.95


def test_rows_with_a_missing_input_get_no_index(correlated_inputs):
    frame = correlated_inputs.copy()
    frame.loc[5, "c"] = np.nan
    result = principal_component_index(frame)
    assert np.isnan(result.index[5])
    assert result.index.drop(5).notna().all()
    assert result.n_observations == 199


def test_kmo_against_hand_formula():
    # For two variables the partial correlation equals the correlation, so KMO = 0.5 exactly.
    overall, per_variable = kmo(np.array([[1.0, 0.6], [0.6, 1.0]]))
    assert overall == pytest.approx(0.5)
    np.testing.assert_allclose(per_variable, [0.5, 0.5])
    # three variables: partial correlations from the inverse correlation matrix
    correlation = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.3], [0.4, 0.3, 1.0]])
    inverse = np.linalg.inv(correlation)
    partial = -inverse / np.sqrt(np.outer(np.diag(inverse), np.diag(inverse)))
    mask = ~np.eye(3, dtype=bool)
    expected = (correlation[mask] ** 2).sum() / ((correlation[mask] ** 2).sum() + (partial[mask] ** 2).sum())
    assert kmo(correlation)[0] == pytest.approx(expected)


def test_bartlett_against_hand_formula():
    correlation = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.3], [0.4, 0.3, 1.0]])
    chi2, df, p_value = bartlett_sphericity(correlation, n_observations=50)
    expected_chi2 = -(50 - 1 - (2 * 3 + 5) / 6) * np.log(np.linalg.det(correlation))
    assert chi2 == pytest.approx(expected_chi2)
    assert df == 3
    assert p_value == pytest.approx(stats.chi2.sf(expected_chi2, 3))
    identity_chi2, _, identity_p = bartlett_sphericity(np.eye(3), n_observations=50)
    assert identity_chi2 == pytest.approx(0.0, abs=1e-12) and identity_p == pytest.approx(1.0)


def test_summary_long_lists_every_statistic(correlated_inputs):
    summary = pca_summary_long(principal_component_index(correlated_inputs))
    counts = summary.statistic.value_counts().to_dict()
    assert counts["eigenvalue"] == 4 and counts["loading"] == 16 and counts["kmo_variable"] == 4
    assert counts["kmo"] == counts["bartlett_chi2"] == counts["bartlett_p_value"] == 1
    retained = summary[summary.statistic == "retained"].value.to_numpy()
    np.testing.assert_array_equal(retained, [1.0, 1.0, 0.0, 0.0])


def test_bad_inputs_are_rejected_with_the_column_names():
    with pytest.raises(ValueError, match="without variation.*'flat'"):
        principal_component_index(pd.DataFrame({"flat": [1.0] * 10, "x": np.arange(10.0)}))
    with pytest.raises(ValueError, match="more complete rows"):
        principal_component_index(pd.DataFrame({"x": [1.0, 2.0], "y": [2.0, 1.0]}))
