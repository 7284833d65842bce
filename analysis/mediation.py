"""Mediation of IC → TU through TE, KS, FMA (static) and FMA_tv, after Wen et al. (2004).

For mediator M, on one shared sample with the same controls and province effects only
(the paper's eq. 3 and 4):
  a   IC → M                       (M on IC + controls)
  b   M → TU given IC              (TU on IC + M + controls), coefficient of M
  c'  IC → TU given M              same equation, coefficient of IC
  c   IC → TU                      (TU on IC + controls)
By the Frisch-Waugh-Lovell theorem c - c' = a*b exactly when the three equations share the
sample, the controls and the effects, which `prepare_sample(extra_columns=...)` enforces.
Static FMA is time-invariant: province effects absorb it in both the a- and the
b-equation, so its mediation is reported as not identified instead of as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_SEED
from analysis.estimate import ModelResult, fit_model, prepare_sample
from analysis.specs import CONTROLS, FMA_TV_IDENTIFICATION, ModelSpec
from analysis.within import EffectCodes, demean
from provpanel.analysis_defaults import DEFAULT_MEDIATION_REPS  # offered by the settings

MEDIATORS: tuple[str, ...] = ("fma", "te", "ks", "fma_tv")
NOT_IDENTIFIED = "not identified: mediator absorbed"
MEDIATOR_NOTES = {
    "fma": "static FMA is time-invariant: province effects absorb it (the paper's Model 6 "
    "cannot be estimated as written)",
    "fma_tv": FMA_TV_IDENTIFICATION,
}

MEDIATION_COLUMNS = [
    "mediator", "nobs", "n_clusters", "se_type",
    "a", "a_se", "a_p", "b", "b_se", "b_p", "c", "c_se", "c_p",
    "c_prime", "c_prime_se", "c_prime_p",
    "indirect_ab", "total_minus_direct", "identity_gap",
    "sobel_z", "sobel_p", "aroian_z", "aroian_p", "goodman_z", "goodman_p",
    "boot_reps", "boot_seed", "boot_confidence",
    "boot_ci_low_percentile", "boot_ci_high_percentile", "boot_ci_low_bc", "boot_ci_high_bc",
    "verdict", "note",
]


@dataclass(frozen=True)
class MediationResult:
    """The three equations of one mediator and the summary row."""

    mediator: str
    a_equation: ModelResult
    b_equation: ModelResult  # TU on IC + M + controls: gives b and c'
    c_equation: ModelResult
    row: dict


def mediation_specs(mediator: str) -> tuple[ModelSpec, ModelSpec, ModelSpec]:
    """(a, b/c', c) specs for a mediator: province effects only, all provinces."""
    base = ("ic", *CONTROLS)

    def spec(suffix: str, dependent: str, regressors: tuple[str, ...], label: str) -> ModelSpec:
        return ModelSpec(
            model_id=f"mediation_{mediator}_{suffix}", table=None, dependent=dependent,
            regressors=regressors, sample="all", entity_effects=True, time_effects=False,
            se_type="cluster", label=label,
        )

    return (
        spec("a", mediator, base, f"a: IC → {mediator.upper()}"),
        spec("b", "tu", (*base, mediator), f"b, c': TU on IC and {mediator.upper()}"),
        spec("c", "tu", base, "c: IC → TU"),
    )


def analyse_mediator(
    panel: pd.DataFrame,
    mediator: str,
    *,
    se_type: str = "cluster",
    alpha: float = 0.05,
    bootstrap_reps: int = DEFAULT_MEDIATION_REPS,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> MediationResult:
    """Estimate a, b, c, c', the indirect effect a*b, its tests and bootstrap intervals.

    Sobel, Aroian and Goodman z-tests use the SEs of `se_type`; the province-block bootstrap
    resamples whole provinces (`bootstrap_reps` draws, `seed`), each copy its own province.
    """
    a_spec, b_spec, c_spec = mediation_specs(mediator)
    shared = ("tu", mediator)
    a_fit = fit_model(panel, a_spec, se_type=se_type, extra_columns=shared)
    b_fit = fit_model(panel, b_spec, se_type=se_type, extra_columns=shared)
    c_fit = fit_model(panel, c_spec, se_type=se_type, extra_columns=shared)

    row = {column: np.nan for column in MEDIATION_COLUMNS}
    row.update(
        mediator=mediator, nobs=c_fit.nobs, n_clusters=c_fit.n_clusters, se_type=se_type,
        boot_reps=bootstrap_reps, boot_seed=seed, boot_confidence=confidence,
        note=MEDIATOR_NOTES.get(mediator, ""),
    )
    row.update(_path(c_fit, "ic", "c"))
    if mediator in b_fit.absorbed or "ic" not in a_fit.params.index:
        row["verdict"] = NOT_IDENTIFIED
        return MediationResult(mediator, a_fit, b_fit, c_fit, row)

    row.update(_path(a_fit, "ic", "a"))
    row.update(_path(b_fit, mediator, "b"))
    row.update(_path(b_fit, "ic", "c_prime"))
    a, b = row["a"], row["b"]
    row["indirect_ab"] = a * b
    row["total_minus_direct"] = row["c"] - row["c_prime"]
    row["identity_gap"] = row["total_minus_direct"] - row["indirect_ab"]
    row.update(indirect_effect_tests(a, row["a_se"], b, row["b_se"]))

    draws = province_block_bootstrap(panel, mediator, reps=bootstrap_reps, seed=seed)
    row.update(bootstrap_intervals(draws, a * b, confidence))
    row["verdict"] = wen_verdict(
        c_p=row["c_p"], a_p=row["a_p"], b_p=row["b_p"], c_prime_p=row["c_prime_p"],
        sobel_p=row["sobel_p"], alpha=alpha,
    )
    return MediationResult(mediator, a_fit, b_fit, c_fit, row)


def run_mediation(
    panel: pd.DataFrame,
    mediators: tuple[str, ...] = MEDIATORS,
    **settings,
) -> tuple[pd.DataFrame, list[MediationResult]]:
    """One row per mediator (columns MEDIATION_COLUMNS) and the full results.

    Mediators whose column is absent from the panel are skipped with a row saying so.
    """
    results = []
    rows = []
    for mediator in mediators:
        if mediator not in panel.columns:
            rows.append({"mediator": mediator, "verdict": "not run: column missing from panel"})
            continue
        result = analyse_mediator(panel, mediator, **settings)
        results.append(result)
        rows.append(result.row)
    return pd.DataFrame(rows, columns=MEDIATION_COLUMNS), results


def _path(result: ModelResult, term: str, name: str) -> dict:
    if term not in result.params.index:
        return {name: np.nan, f"{name}_se": np.nan, f"{name}_p": np.nan}
    return {
        name: float(result.params[term]),
        f"{name}_se": float(result.std_errors[term]),
        f"{name}_p": float(result.pvalues[term]),
    }


def indirect_effect_tests(a: float, se_a: float, b: float, se_b: float) -> dict:
    """Sobel, Aroian and Goodman z statistics and two-sided normal p-values for a*b.

    Sobel:   sqrt(b²sa² + a²sb²)
    Aroian:  sqrt(b²sa² + a²sb² + sa²sb²)
    Goodman: sqrt(b²sa² + a²sb² - sa²sb²)  (undefined, NaN, when negative)
    """
    from scipy import stats  # slow import, kept off package import

    first_order = b**2 * se_a**2 + a**2 * se_b**2
    second_order = se_a**2 * se_b**2
    variances = {
        "sobel": first_order,
        "aroian": first_order + second_order,
        "goodman": first_order - second_order,
    }
    out = {}
    for name, variance in variances.items():
        z = a * b / np.sqrt(variance) if variance > 0 else np.nan
        out[f"{name}_z"] = z
        out[f"{name}_p"] = 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan
    return out


def province_block_bootstrap(
    panel: pd.DataFrame, mediator: str, *, reps: int, seed: int
) -> np.ndarray:
    """a*b re-estimated on `reps` samples of whole provinces drawn with replacement.

    Each drawn copy is its own province, so a province drawn twice gets two effects; with
    province effects only, a copy's within-transformed rows are the province's own. A draw's
    cross-products are therefore the sum of the provinces' cross-products weighted by how
    often each was drawn: the rows are demeaned once, and a replicate costs a few k x k
    solves instead of a regression on the whole sample (2,790 counties x 21 years)."""
    _, b_spec, _ = mediation_specs(mediator)
    sample = prepare_sample(panel, b_spec, extra_columns=("tu", mediator))
    frame = sample.frame
    controls = ["ic", *CONTROLS]
    # columns: the controls, then the mediator, then TU
    data = frame[[*controls, mediator, "tu"]].to_numpy(dtype=float)
    codes = sample.cluster_codes
    n_provinces = int(codes.max()) + 1
    within = demean(data, EffectCodes(entity=codes, time=None))
    # per province: Z_g' Z_g of the demeaned columns, (G x m x m)
    cross_products = np.zeros((n_provinces, data.shape[1], data.shape[1]))
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_provinces))])
    for province in range(n_provinces):
        block = within[order[bounds[province]:bounds[province + 1]]]
        cross_products[province] = block.T @ block
    k = len(controls)
    rng = np.random.default_rng(seed)
    draws = np.full(reps, np.nan)
    for rep in range(reps):
        chosen = rng.integers(0, n_provinces, size=n_provinces)
        weights = np.bincount(chosen, minlength=n_provinces).astype(float)
        moments = np.tensordot(weights, cross_products, axes=1)
        if moments[k, k] <= 1e-24:  # the mediator has no within variation in this draw
            continue
        a = _solve(moments[:k, :k], moments[:k, k])[0]
        b = _solve(moments[:k + 1, :k + 1], moments[:k + 1, k + 1])[-1]
        draws[rep] = a * b
    return draws


def _solve(xtx: np.ndarray, xty: np.ndarray) -> np.ndarray:
    """OLS slopes from cross-products; least squares when a draw leaves them singular."""
    try:
        return np.linalg.solve(xtx, xty)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(xtx, xty, rcond=None)[0]


def bootstrap_intervals(draws: np.ndarray, estimate: float, confidence: float) -> dict:
    """Percentile and bias-corrected (BC) intervals of the indirect effect."""
    from scipy import stats  # slow import, kept off package import

    valid = draws[np.isfinite(draws)]
    tail = (1 - confidence) / 2
    out = {
        "boot_ci_low_percentile": np.nan, "boot_ci_high_percentile": np.nan,
        "boot_ci_low_bc": np.nan, "boot_ci_high_bc": np.nan,
    }
    if valid.size < 2:
        return out
    out["boot_ci_low_percentile"], out["boot_ci_high_percentile"] = np.quantile(
        valid, [tail, 1 - tail]
    )
    share_below = float(np.mean(valid < estimate))
    if 0 < share_below < 1:
        bias = stats.norm.ppf(share_below)
        low_q = stats.norm.cdf(2 * bias + stats.norm.ppf(tail))
        high_q = stats.norm.cdf(2 * bias + stats.norm.ppf(1 - tail))
        out["boot_ci_low_bc"], out["boot_ci_high_bc"] = np.quantile(valid, [low_q, high_q])
    return out


def wen_verdict(
    *, c_p: float, a_p: float, b_p: float, c_prime_p: float, sobel_p: float, alpha: float
) -> str:
    """Wen, Chang, Hau & Liu (2004) stepwise procedure.

    1. c not significant: stop, no mediation to explain.
    2. a and b both significant: mediation; c' significant → partial, else full.
    3. otherwise the Sobel test decides.
    """
    if not c_p < alpha:
        return "no mediation: total effect c not significant"
    if a_p < alpha and b_p < alpha:
        if c_prime_p < alpha:
            return "partial mediation (a, b and c' significant)"
        return "full mediation (a and b significant, c' not)"
    if sobel_p < alpha:
        return "mediation by Sobel test (a or b not significant on its own)"
    return "no significant mediation (a or b and Sobel not significant)"
