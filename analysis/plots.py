"""Figures (matplotlib, Agg backend): our coefficients against the paper's; IC and TU by region.

Each function takes the output path, writes a PNG there and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisInputError

Z_95 = 1.959963984540054


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_coefficients(
    comparison: pd.DataFrame,
    path: str | Path,
    *,
    include_constant: bool = False,
    our_ci: pd.DataFrame | None = None,
) -> Path:
    """Ours (circles) and published (squares) estimates with 95 % intervals, one row per term.

    `comparison` is `analysis.compare.compare(...)`. Our interval is estimate ± 1.96 SE
    unless `our_ci` (estimates with model_id, term, ci_low, ci_high) gives the exact one;
    the published interval is coef ± 1.96 SE. Absorbed and unestimated terms show only the
    published point.
    """
    plt = _pyplot()
    rows = comparison if include_constant else comparison[comparison["term"] != "const"]
    if rows.empty:
        raise AnalysisInputError("comparison: no rows to plot")
    rows = rows.reset_index(drop=True)
    ours_low = rows["estimate"] - Z_95 * rows["std_error"]
    ours_high = rows["estimate"] + Z_95 * rows["std_error"]
    if our_ci is not None:
        exact = rows.merge(our_ci[["model_id", "term", "ci_low", "ci_high"]],
                           on=["model_id", "term"], how="left")
        ours_low, ours_high = exact["ci_low"], exact["ci_high"]
    positions = np.arange(len(rows))[::-1].astype(float)
    figure, axes = plt.subplots(figsize=(8, max(3.0, 0.28 * len(rows))))
    axes.errorbar(
        rows["published_coef"], positions + 0.15,
        xerr=Z_95 * rows["published_se"], fmt="s", color="tab:gray", label="published", ms=4,
    )
    axes.errorbar(
        rows["estimate"], positions - 0.15,
        xerr=[rows["estimate"] - ours_low, ours_high - rows["estimate"]],
        fmt="o", color="tab:blue", label="ours", ms=4,
    )
    axes.axvline(0.0, color="black", linewidth=0.6)
    axes.set_yticks(positions)
    axes.set_yticklabels([f"M{m} {t}" for m, t in zip(rows["model_id"], rows["term_display"])],
                         fontsize=7)
    axes.set_xlabel("coefficient (95 % interval)")
    axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return _save(figure, plt, path)


def plot_trends_by_region(
    panel: pd.DataFrame, path: str | Path, *, variables: tuple[str, ...] = ("ic", "tu")
) -> Path:
    """Mean of each variable (default IC and TU) by region and year, one panel per variable."""
    plt = _pyplot()
    needed = {"region", "year", *variables}
    missing = sorted(needed - set(panel.columns))
    if missing:
        raise AnalysisInputError(f"panel: missing column(s) {missing} needed for the trend plot")
    means = panel.groupby(["region", "year"])[list(variables)].mean().reset_index()
    figure, axes_list = plt.subplots(1, len(variables), figsize=(5 * len(variables), 3.6))
    for axes, variable in zip(np.atleast_1d(axes_list), variables):
        for region, rows in means.groupby("region"):
            axes.plot(rows["year"], rows[variable], marker=".", label=str(region))
        axes.set_title(f"{variable.upper()} by region (mean over provinces)")
        axes.set_xlabel("year")
        axes.legend(fontsize=8)
    figure.tight_layout()
    return _save(figure, plt, path)


def _save(figure, plt, path: str | Path) -> Path:
    output = Path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=120, format="png")
    plt.close(figure)
    return output
