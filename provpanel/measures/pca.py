"""Principal-component index (the transaction-efficiency measure TE of docs/methods.md).

The inputs are z-scored on the pooled sample, the PCA is done on their correlation matrix,
components with eigenvalue > 1 are retained (at least one), each retained eigenvector is
oriented so that its loadings sum to a positive number, and the index is the sum of the
retained component scores (z @ eigenvector) weighted by each component's share of the
variance the retained components explain. KMO and Bartlett's sphericity test say whether the
inputs are fit for a PCA at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PcaResult:
    """Everything the PCA produced; ``index`` is aligned with the input rows."""

    index: pd.Series  # the weighted component index, NaN where an input is missing
    eigenvalues: np.ndarray  # all eigenvalues, descending
    eigenvectors: pd.DataFrame  # variables x components, oriented, unit length
    loadings: pd.DataFrame  # variables x components: eigenvector * sqrt(eigenvalue)
    explained_variance_ratio: np.ndarray  # eigenvalue / number of variables
    n_retained: int
    weights: np.ndarray  # weights of the retained components in the index (sum to 1)
    kmo_overall: float
    kmo_per_variable: pd.Series
    bartlett_chi2: float
    bartlett_df: int
    bartlett_p_value: float
    n_observations: int


def kmo(correlation: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaiser-Meyer-Olkin measure of sampling adequacy: overall and per variable.

    Partial correlations come from the inverse of the correlation matrix:
    a_ij = -P_ij / sqrt(P_ii P_jj).
    """
    precision = np.linalg.inv(correlation)
    scale = np.sqrt(np.outer(np.diag(precision), np.diag(precision)))
    partial = -precision / scale
    off_diagonal = ~np.eye(correlation.shape[0], dtype=bool)
    r2 = np.where(off_diagonal, correlation**2, 0.0)
    a2 = np.where(off_diagonal, partial**2, 0.0)
    overall = r2.sum() / (r2.sum() + a2.sum())
    per_variable = r2.sum(axis=0) / (r2.sum(axis=0) + a2.sum(axis=0))
    return float(overall), per_variable


def bartlett_sphericity(correlation: np.ndarray, n_observations: int) -> tuple[float, int, float]:
    """Bartlett's test that the correlation matrix is the identity: (chi2, df, p-value)."""
    n_variables = correlation.shape[0]
    _, log_determinant = np.linalg.slogdet(correlation)
    chi2 = -(n_observations - 1 - (2 * n_variables + 5) / 6) * log_determinant
    df = n_variables * (n_variables - 1) // 2
    from scipy import stats  # ~1 s to import; only the statistics model needs it

    return float(chi2), df, float(stats.chi2.sf(chi2, df))


def principal_component_index(inputs: pd.DataFrame) -> PcaResult:
    """PCA index of the columns of ``inputs`` (one row per observation, numeric columns).

    Rows with any missing input take no part in the PCA and get a NaN index.
    """
    if inputs.shape[1] < 2:
        raise ValueError(f"PCA needs at least two input columns, got {list(inputs.columns)}")
    values = inputs.astype(float)
    complete = values.notna().all(axis=1)
    sample = values[complete].to_numpy()
    n_observations = sample.shape[0]
    if n_observations <= inputs.shape[1]:
        raise ValueError(
            f"PCA needs more complete rows than inputs: {n_observations} complete rows for "
            f"{inputs.shape[1]} inputs {list(inputs.columns)}"
        )
    spread = sample.std(axis=0, ddof=1)
    constant = [name for name, sd in zip(inputs.columns, spread) if not sd > 0]
    if constant:
        raise ValueError(f"PCA inputs without variation on the pooled sample: {constant}")
    z_scores = (sample - sample.mean(axis=0)) / spread
    correlation = np.corrcoef(z_scores, rowvar=False)

    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    # orient each component so its loadings are (on balance) positive
    signs = np.where(eigenvectors.sum(axis=0) < 0, -1.0, 1.0)
    eigenvectors = eigenvectors * signs

    n_retained = max(1, int((eigenvalues > 1).sum()))
    retained = eigenvalues[:n_retained]
    weights = retained / retained.sum()
    scores = z_scores @ eigenvectors[:, :n_retained]
    index = pd.Series(np.nan, index=inputs.index, name="index")
    index[complete] = scores @ weights

    components = [f"PC{k + 1}" for k in range(len(eigenvalues))]
    kmo_overall, kmo_per_variable = kmo(correlation)
    chi2, df, p_value = bartlett_sphericity(correlation, n_observations)
    return PcaResult(
        index=index,
        eigenvalues=eigenvalues,
        eigenvectors=pd.DataFrame(eigenvectors, index=inputs.columns, columns=components),
        loadings=pd.DataFrame(
            eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None)), index=inputs.columns, columns=components
        ),
        explained_variance_ratio=eigenvalues / eigenvalues.sum(),
        n_retained=n_retained,
        weights=weights,
        kmo_overall=kmo_overall,
        kmo_per_variable=pd.Series(kmo_per_variable, index=inputs.columns),
        bartlett_chi2=chi2,
        bartlett_df=df,
        bartlett_p_value=p_value,
        n_observations=n_observations,
    )


def pca_summary_long(result: PcaResult) -> pd.DataFrame:
    """The PCA's statistics in long form: statistic, component, variable, value."""
    rows: list[dict] = []
    for position, component in enumerate(result.eigenvectors.columns):
        is_retained = position < result.n_retained
        rows.append({"statistic": "eigenvalue", "component": component, "variable": None,
                     "value": float(result.eigenvalues[position])})
        rows.append({"statistic": "explained_variance_ratio", "component": component, "variable": None,
                     "value": float(result.explained_variance_ratio[position])})
        rows.append({"statistic": "retained", "component": component, "variable": None,
                     "value": 1.0 if is_retained else 0.0})
        rows.append({"statistic": "index_weight", "component": component, "variable": None,
                     "value": float(result.weights[position]) if is_retained else 0.0})
        for variable in result.eigenvectors.index:
            rows.append({"statistic": "loading", "component": component, "variable": variable,
                         "value": float(result.loadings.loc[variable, component])})
            rows.append({"statistic": "eigenvector", "component": component, "variable": variable,
                         "value": float(result.eigenvectors.loc[variable, component])})
    for variable, value in result.kmo_per_variable.items():
        rows.append({"statistic": "kmo_variable", "component": None, "variable": variable, "value": float(value)})
    for statistic, value in [
        ("kmo", result.kmo_overall),
        ("bartlett_chi2", result.bartlett_chi2),
        ("bartlett_df", float(result.bartlett_df)),
        ("bartlett_p_value", result.bartlett_p_value),
        ("n_observations", float(result.n_observations)),
    ]:
        rows.append({"statistic": statistic, "component": None, "variable": None, "value": float(value)})
    return pd.DataFrame(rows, columns=["statistic", "component", "variable", "value"])


# The four per-capita inputs of transaction efficiency (docs/methods.md), in the order of the PCA.
TE_INPUT_COLUMNS = [
    "mobile_users_per_capita",
    "internet_users_per_capita",
    "urban_road_area_per_capita",
    "freight_per_capita",
]


def te_inputs_suffice(inputs: pd.DataFrame) -> bool:
    """Whether the prepared TE inputs have more complete rows than inputs, so the PCA can run.
    An edition set that lacks an input (no telecom users at all) has none: TE is then missing,
    reported as a missing input, not an error."""
    complete = inputs[TE_INPUT_COLUMNS].notna().all(axis=1)
    return int(complete.sum()) > len(TE_INPUT_COLUMNS)


def transaction_efficiency_pca(inputs: pd.DataFrame) -> tuple[pd.DataFrame, PcaResult]:
    """The TE PCA on the prepared inputs (one row per province-year), in a fixed row order so
    the index and the statistics models see the same matrix."""
    ordered = inputs.sort_values(["province_code", "year"]).reset_index(drop=True)
    return ordered, principal_component_index(ordered[TE_INPUT_COLUMNS])
