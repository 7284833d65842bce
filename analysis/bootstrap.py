"""Wild cluster bootstrap p-values (restricted null, WCR) for fixed-effects slopes.

With 30 provinces, and 8-11 in a region, cluster-robust t tests over-reject; the wild
cluster bootstrap with the null imposed (Cameron, Gelbach & Miller 2008) fixes most of
that. Rademacher weights take only 2^G distinct values (256 with the 8 central
provinces), so Webb's six-point weights are the default for few clusters (Webb 2023).
"""

from __future__ import annotations

import numpy as np

from analysis.within import EffectCodes, demean, group_sums

# Defined below the settings, which offer them (provpanel.analysis_defaults).
from provpanel.analysis_defaults import (  # noqa: F401 (run.py reads bootstrap.DEFAULT_TERMS)
    DEFAULT_REPS,
    DEFAULT_SEED,
    DEFAULT_TERMS,
    DEFAULT_WEIGHTS,
    WEIGHT_TYPES,
)

# Draws are processed in blocks of at most this many cells (rows x draws, 8 bytes each), so
# a county panel (58,590 rows) does not hold 999 full-length copies of the shocks at once.
MAX_BLOCK_CELLS = 4_000_000

_WEBB_POINTS = np.array(
    [-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)]
)


def draw_cluster_weights(
    n_clusters: int, reps: int, weights: str, rng: np.random.Generator
) -> np.ndarray:
    """A (n_clusters × reps) matrix of bootstrap weights, one per cluster and draw."""
    if weights == "webb":
        return rng.choice(_WEBB_POINTS, size=(n_clusters, reps))
    if weights == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_clusters, reps))
    raise ValueError(f"bootstrap weights {weights!r}: expected one of {WEIGHT_TYPES}")


def wild_cluster_pvalues(
    demeaned_dependent: np.ndarray,
    demeaned_regressors: np.ndarray,
    effects: EffectCodes,
    cluster_codes: np.ndarray,
    *,
    weights: str = DEFAULT_WEIGHTS,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    columns: list[int] | None = None,
    max_block_cells: int = MAX_BLOCK_CELLS,
    by_rows: bool = False,
) -> np.ndarray:
    """Symmetric WCR bootstrap p-value of H0: beta_j = 0 for every column j (or for the
    given `columns` only, in that order; the draws are the same, so a column's p-value does
    not depend on which others are asked for).

    For each j: fit the model without column j (the null imposed), multiply its residuals
    by one weight per cluster, rebuild y*, refit, and compare |t*_j| with |t_j|, where t uses
    the cluster-robust SE (its small-sample factor cancels). Linear algebra only:
    beta*_j = h_j'u* and residuals e* = M_D u* - H u* with H the hat matrix on the demeaned
    regressors, so one draw costs a few matrix products.

    When the clusters are the entities of an entity effect (provinces clustered by
    province, the project's every model), the draws never touch the N rows: every quantity
    of a draw is a cluster-level sum (see `_cluster_level_bootstrap_t`), so a county panel
    costs what a province panel does. Otherwise (or with by_rows, the reference the
    cluster-level path is tested against) the N x reps shocks are demeaned in blocks.
    """
    y = np.asarray(demeaned_dependent, dtype=float)
    x = np.asarray(demeaned_regressors, dtype=float)
    n_clusters = int(cluster_codes.max()) + 1
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    residuals = y - x @ beta
    rng = np.random.default_rng(seed)
    draws = draw_cluster_weights(n_clusters, reps, weights, rng)

    chosen = list(range(x.shape[1])) if columns is None else list(columns)
    pvalues = np.empty(len(chosen))
    for position, j in enumerate(chosen):
        influence = x @ bread[:, j]  # h_j: beta_j = h_j'y
        observed_t = beta[j] / _cluster_se(influence, residuals[:, None], cluster_codes)[0]

        others = np.delete(x, j, axis=1)
        if others.shape[1]:
            restricted_beta, *_ = np.linalg.lstsq(others, y, rcond=None)
            restricted_residuals = y - others @ restricted_beta
        else:
            restricted_residuals = y
        if not by_rows and _clusters_are_entities(effects, cluster_codes):
            boot_t = _cluster_level_bootstrap_t(
                x, bread, influence, restricted_residuals, effects, cluster_codes, draws)
            pvalues[position] = float(np.count_nonzero(np.abs(boot_t) >= np.abs(observed_t))) / reps
            continue
        block = max(1, max_block_cells // len(y))
        exceed = 0
        for start in range(0, reps, block):
            shocks = restricted_residuals[:, None] * draws[cluster_codes, start:start + block]
            # y* = X_{-j} b_r + M_D u*; its within residuals after refitting on X:
            projected_shocks = demean(shocks, effects)
            boot_residuals = projected_shocks - x @ (bread @ (x.T @ shocks))
            boot_beta = influence @ shocks
            boot_t = boot_beta / _cluster_se(influence, boot_residuals, cluster_codes)
            exceed += int(np.count_nonzero(np.abs(boot_t) >= np.abs(observed_t)))
        pvalues[position] = exceed / reps
    return pvalues


def _clusters_are_entities(effects: EffectCodes, cluster_codes: np.ndarray) -> bool:
    """True when every cluster is exactly one entity of the entity effect."""
    if effects.entity is None or len(effects.entity) != len(cluster_codes):
        return False
    pairs = np.unique(np.column_stack([effects.entity, cluster_codes]), axis=0)
    return len(pairs) == len(np.unique(effects.entity)) == len(np.unique(cluster_codes))


def _cluster_level_bootstrap_t(
    x: np.ndarray,
    bread: np.ndarray,
    influence: np.ndarray,
    restricted_residuals: np.ndarray,
    effects: EffectCodes,
    cluster_codes: np.ndarray,
    draws: np.ndarray,
) -> np.ndarray:
    """Bootstrap t statistics of one slope from cluster-level sums (clusters = entities).

    With u* = u_r * w_g(i) and h the slope's influence vector (demeaned, so it sums to zero
    within every entity): beta* = sum_g w_g a_g, a_g = sum_{i in g} h_i u_r,i; the score of
    cluster g is sum_{i in g} h_i e*_i with e* = M_D u* - X (X'X)^-1 X'u*. The entity means
    in M_D u* vanish against h; what the time effects take out is D_t tau*, tau* solving the
    T x T normal equations of the time dummies after the entity means, whose right-hand side
    is again a sum over clusters. So each draw costs O(G (T + k)), never O(N).
    """
    cluster_count = draws.shape[0]
    a = group_sums((influence * restricted_residuals)[:, None], cluster_codes, cluster_count)[:, 0]
    x_scores = group_sums(x * restricted_residuals[:, None], cluster_codes, cluster_count)
    h_x = group_sums(influence[:, None] * x, cluster_codes, cluster_count)
    scores = a[:, None] * draws - h_x @ (bread @ (x_scores.T @ draws))
    if effects.time is not None:
        dummies = np.zeros((len(influence), int(effects.time.max()) + 1))
        dummies[np.arange(len(influence)), effects.time] = 1.0
        entity_counts = np.bincount(effects.entity).astype(float)
        within_dummies = dummies - (group_sums(dummies, effects.entity) / entity_counts[:, None])[effects.entity]
        normal_matrix = within_dummies.T @ within_dummies  # rank T-1: pinv; h kills the constant
        right_hand = group_sums(within_dummies * restricted_residuals[:, None], cluster_codes, cluster_count)
        h_by_time = group_sums(influence[:, None] * dummies, cluster_codes, cluster_count)
        time_effects = np.linalg.pinv(normal_matrix) @ (right_hand.T @ draws)
        scores = scores - h_by_time @ time_effects
    boot_beta = a @ draws
    return boot_beta / np.sqrt((scores**2).sum(axis=0))


def _cluster_se(
    influence: np.ndarray, residuals: np.ndarray, cluster_codes: np.ndarray
) -> np.ndarray:
    """Unscaled cluster-robust SE of h'y for each column of `residuals`."""
    sums = group_sums(influence[:, None] * residuals, cluster_codes)
    return np.sqrt((sums**2).sum(axis=0))
