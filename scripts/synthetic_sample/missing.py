"""Which cells are empty: short runs of missing years, the same in every edition."""

from __future__ import annotations

import numpy as np

from .catalog import MODEL_INPUTS
from .model import Panel

MISSING_SHARE_TARGET = 0.045


def draw_missing_cells(
    n_series: int, n_years: int, rng: np.random.Generator, share: float
) -> np.ndarray:
    """Boolean mask (series x years): runs of 1-3 empty years, some at either end.

    Never a whole series, never more than 3 consecutive empty years.
    """
    mask = np.zeros((n_series, n_years), dtype=bool)
    run_lengths = np.array([1, 2, 3])
    run_probs = np.array([0.6, 0.25, 0.15])
    runs_per_series = share * n_years / (run_lengths @ run_probs)
    for s in range(n_series):
        for _ in range(rng.poisson(runs_per_series)):
            length = int(rng.choice(run_lengths, p=run_probs))
            where = rng.random()
            if where < 0.2:
                start = 0
            elif where < 0.4:
                start = n_years - length
            else:
                start = int(rng.integers(1, n_years - length))
            trial = mask[s].copy()
            trial[start : start + length] = True
            if longest_run(trial) <= 3 and not trial.all():
                mask[s] = trial
    return mask


def longest_run(flags: np.ndarray) -> int:
    """The longest run of consecutive True values in `flags`."""
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def draw_missing(panel: Panel, rng: np.random.Generator, share: float) -> dict[str, np.ndarray]:
    n = len(panel.provinces)
    return {code: draw_missing_cells(n, len(panel.years), rng, share) for code in MODEL_INPUTS}
