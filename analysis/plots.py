"""Figures (matplotlib, Agg backend): our coefficients against the paper's, the mediation
paths, IC and TU by region.

Each `plot_*` function takes the output path, writes a PNG there, an SVG beside it and a
one-column PNG for narrow displays (`narrow_path`), and returns the PNG's path; each `*_figure`
function builds the figure without writing it (what the tests inspect).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisInputError

Z_95 = 1.959963984540054
KEY_TERMS = ("ic", "ic2")  # the coefficients the paper is about
MEDIATION_PATHS = (("a", "a: IC → M"), ("b", "b: M → TU"), ("c", "c: IC → TU (total)"),
                   ("c_prime", "c′: IC → TU (direct)"), ("indirect_ab", "a×b: indirect"))
# the paper prints no indirect effect: its marker is the product of its a and b
PAPER_COLUMNS = {"indirect_ab": "paper_a_times_b"}


def paper_order(model_ids) -> list[str]:
    """Model ids in the paper's order: numbered models by number (never 10 before 2), then
    the named variants in the order they come."""
    unique = list(dict.fromkeys(str(m) for m in model_ids))
    return sorted((m for m in unique if m.isdigit()), key=int) + [m for m in unique if not m.isdigit()]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _our_interval(rows: pd.DataFrame, our_ci: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """estimate ± 1.96 SE, or the exact interval from `our_ci` (model_id, term, ci_low, ci_high)."""
    low = rows["estimate"] - Z_95 * rows["std_error"]
    high = rows["estimate"] + Z_95 * rows["std_error"]
    if our_ci is not None and {"ci_low", "ci_high"} <= set(our_ci.columns):
        exact = rows[["model_id", "term"]].merge(
            our_ci[["model_id", "term", "ci_low", "ci_high"]].drop_duplicates(["model_id", "term"]),
            on=["model_id", "term"], how="left")
        low = exact["ci_low"].where(exact["ci_low"].notna(), low.to_numpy()).set_axis(rows.index)
        high = exact["ci_high"].where(exact["ci_high"].notna(), high.to_numpy()).set_axis(rows.index)
    return low, high


def _term_panel(axes, rows: pd.DataFrame, our_ci: pd.DataFrame | None, *, title: str) -> None:
    """One term: each model a row (paper's order, top down), published (grey squares) above
    ours (blue circles), both with 95 % intervals, a zero line."""
    order = paper_order(rows["model_id"])
    rows = rows.set_index(rows["model_id"].astype(str)).loc[order].reset_index(drop=True)
    low, high = _our_interval(rows, our_ci)
    positions = np.arange(len(rows))[::-1].astype(float)
    axes.errorbar(rows["published_coef"], positions + 0.15, xerr=Z_95 * rows["published_se"],
                  fmt="s", color="tab:gray", label="published", ms=4)
    estimate = rows["estimate"]
    axes.errorbar(estimate, positions - 0.15, xerr=[estimate - low, high - estimate],
                  fmt="o", color="tab:blue", label="ours", ms=4)
    axes.axvline(0.0, color="black", linewidth=0.6)
    axes.set_yticks(positions)
    axes.set_yticklabels([f"Model {m}" if str(m).isdigit() else str(m) for m in rows["model_id"]],
                         fontsize=7)
    axes.set_title(title, fontsize=9)
    axes.set_xlabel("coefficient (95 % interval)", fontsize=8)


def key_terms_figure(comparison: pd.DataFrame, *, terms: tuple[str, ...] = KEY_TERMS,
                     our_ci: pd.DataFrame | None = None):
    """Small multiples: one panel per key term (IC, IC2), every model that has it."""
    plt = _pyplot()
    present = [t for t in terms if (comparison["term"] == t).any()]
    if not present:
        raise AnalysisInputError(f"comparison: none of the key terms {list(terms)} to plot")
    heights = [int((comparison["term"] == t).sum()) for t in present]
    figure, axes_list = plt.subplots(1, len(present), figsize=(5.5 * len(present), max(3.0, 0.32 * max(heights) + 1.2)),
                                     squeeze=False)
    for axes, term in zip(axes_list[0], present):
        rows = comparison[comparison["term"] == term].reset_index(drop=True)
        _term_panel(axes, rows, our_ci, title=f"{rows['term_display'].iloc[0]}: ours vs published")
    axes_list[0][0].legend(loc="best", fontsize=8)
    figure.tight_layout()
    return figure


def all_terms_figure(comparison: pd.DataFrame, *, include_constant: bool = False,
                     our_ci: pd.DataFrame | None = None):
    """Every term in its own panel with its own scale (coefficients of different sizes never
    share an axis)."""
    plt = _pyplot()
    rows = comparison if include_constant else comparison[comparison["term"] != "const"]
    if rows.empty:
        raise AnalysisInputError("comparison: no rows to plot")
    terms = list(dict.fromkeys([*[t for t in KEY_TERMS if (rows["term"] == t).any()], *rows["term"]]))
    columns = min(3, len(terms))
    lines = int(np.ceil(len(terms) / columns))
    tallest = max(int((rows["term"] == t).sum()) for t in terms)
    figure, axes_grid = plt.subplots(lines, columns, figsize=(5 * columns, lines * max(2.6, 0.3 * tallest + 1.2)),
                                     squeeze=False)
    flat = axes_grid.ravel()
    for axes, term in zip(flat, terms):
        term_rows = rows[rows["term"] == term].reset_index(drop=True)
        _term_panel(axes, term_rows, our_ci, title=str(term_rows["term_display"].iloc[0]))
    for axes in flat[len(terms):]:
        axes.set_visible(False)
    flat[0].legend(loc="best", fontsize=7)
    figure.tight_layout()
    return figure


def plot_coefficients(
    comparison: pd.DataFrame,
    path: str | Path,
    *,
    include_constant: bool = False,
    our_ci: pd.DataFrame | None = None,
) -> Path:
    """Every term, one panel per term (per-term scale): ours and published with 95 % intervals."""
    plt = _pyplot()
    return _save(all_terms_figure(comparison, include_constant=include_constant, our_ci=our_ci), plt, path)


def plot_key_terms(comparison: pd.DataFrame, path: str | Path, *, our_ci: pd.DataFrame | None = None) -> Path:
    """IC and IC2, one panel each, models in the paper's order: the paper's question at a glance."""
    plt = _pyplot()
    return _save(key_terms_figure(comparison, our_ci=our_ci), plt, path)


def mediation_figure(mediation: pd.DataFrame):
    """Per mediator, the paths a, b, c, c′ (estimate ± 1.96 SE) and the indirect effect a×b with
    its bootstrap interval (blue circles), the paper's figures above them (grey squares, no
    interval: its a, b, c′ of Table 4 and the product of its a and b; it prints no c), our
    verdict and the paper's in the title. A path that could not be estimated (e.g. static FMA, absorbed) is left empty and
    the title says why."""
    from analysis.mediation_table import PAPER_VERDICTS, mediation_table

    plt = _pyplot()
    if mediation.empty:
        raise AnalysisInputError("mediation: no mediators to plot")
    table = mediation_table(mediation)
    figure, axes_list = plt.subplots(1, len(table), figsize=(4.6 * len(table), 4.0), squeeze=False)
    positions = np.arange(len(MEDIATION_PATHS))[::-1].astype(float)
    for axes, (_, row), (_, paths) in zip(axes_list[0], table.iterrows(), mediation.iterrows()):
        ours = [_our_path(paths, name) for name, _ in MEDIATION_PATHS]
        paper = [(row.get(PAPER_COLUMNS.get(name, f"paper_{name}")), None) for name, _ in MEDIATION_PATHS]
        for values, offset, style in ((paper, 0.15, {"fmt": "s", "color": "tab:gray", "label": "paper"}),
                                      (ours, -0.15, {"fmt": "o", "color": "tab:blue", "label": "ours"})):
            drawn = [(position, value, interval) for position, (value, interval) in zip(positions, values)
                     if pd.notna(value)]
            if not drawn:
                continue
            xerr = np.array([[value - interval[0], interval[1] - value] if interval else [0.0, 0.0]
                             for _, value, interval in drawn]).T
            axes.errorbar([value for _, value, _ in drawn], [position + offset for position, _, _ in drawn],
                          xerr=xerr, ms=4, **style)
        axes.axvline(0.0, color="black", linewidth=0.6)
        axes.set_yticks(positions)
        axes.set_yticklabels([label for _, label in MEDIATION_PATHS], fontsize=7)
        axes.set_title(_mediation_title(paths, paper_says=PAPER_VERDICTS.get(paths["mediator"])), fontsize=8)
        axes.set_xlabel("estimate (95 % interval; a×b: bootstrap)", fontsize=8)
    axes_list[0][0].legend(loc="best", fontsize=7)
    figure.tight_layout()
    return figure


def _our_path(row: pd.Series, name: str) -> tuple[float, tuple[float, float] | None]:
    """Our estimate of a path and its interval: ± 1.96 SE, the bootstrap's for a×b."""
    estimate = row.get(name)
    if name == "indirect_ab":
        low, high = row.get("boot_ci_low_percentile"), row.get("boot_ci_high_percentile")
    else:
        se = row.get(f"{name}_se")
        low, high = (estimate - Z_95 * se, estimate + Z_95 * se) if pd.notna(se) else (np.nan, np.nan)
    return estimate, ((low, high) if pd.notna(low) and pd.notna(high) else None)


def _mediation_title(row: pd.Series, *, paper_says: str | None) -> str:
    """M = X, what our paths say (not identified, not estimable, or Wen's verdict), the paper's."""
    import textwrap

    verdict = str(row.get("verdict") or "")
    if pd.isna(row.get("a")):
        ours = "not estimable" if verdict.startswith("not estimable") else "not identified"
    else:
        ours = verdict.split(" (")[0]
        if "weakly identified" in str(row.get("note") or ""):
            ours += "; weakly identified"
    title = f"M = {str(row['mediator']).upper()} ({ours})"
    paper = f"paper: {paper_says}" if paper_says else "paper: not in the paper"
    return "\n".join([*textwrap.wrap(title, 48), *textwrap.wrap(paper, 48)])


def plot_mediation_paths(mediation: pd.DataFrame, path: str | Path) -> Path:
    plt = _pyplot()
    return _save(mediation_figure(mediation), plt, path)


def plot_trends_by_region(
    panel: pd.DataFrame, path: str | Path, *, variables: tuple[str, ...] = ("ic", "tu")
) -> Path:
    """Mean of each variable (default IC and TU) by region and year, one panel per variable."""
    plt = _pyplot()
    return _save(trends_by_region_figure(panel, variables=variables), plt, path)


def trends_by_region_figure(panel: pd.DataFrame, *, variables: tuple[str, ...] = ("ic", "tu")):
    """One panel per variable, stacked (readable in a narrow column too), every panel over the
    panel's years; a variable with no value, or values in one year only, says "no data" there
    instead of an empty or stretched axis (a partial edition set)."""
    plt = _pyplot()
    needed = {"region", "year", *variables}
    missing = sorted(needed - set(panel.columns))
    if missing:
        raise AnalysisInputError(f"panel: missing column(s) {missing} needed for the trend plot")
    years = sorted(int(y) for y in panel["year"].dropna().unique())
    means = panel.groupby(["region", "year"])[list(variables)].mean().reset_index()
    figure, axes_list = plt.subplots(len(variables), 1, figsize=(5.0, 2.6 * len(variables)), squeeze=False)
    for axes, variable in zip(axes_list[:, 0], variables):
        _trend_panel(axes, means[["region", "year", variable]], variable, years)
    figure.tight_layout()
    return figure


def _trend_panel(axes, means: pd.DataFrame, variable: str, years: list[int]) -> None:
    from matplotlib.ticker import MaxNLocator

    name = variable.upper()
    axes.set_title(f"{name} by region (mean over provinces)", fontsize=10)
    axes.set_xlabel("year", fontsize=9)
    if years:  # the panel's span, never matplotlib's padding of one point to 1925-2125
        low, high = (years[0], years[-1]) if len(years) > 1 else (years[0] - 0.5, years[0] + 0.5)
        axes.set_xlim(low, high)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # years, never 2002.5
    observed = sorted(int(y) for y in means.loc[means[variable].notna(), "year"].unique())
    if len(observed) < 2:
        if not observed:
            axes.set_yticks([])
        span = f"{years[0]}-{years[-1]}" if years else "the panel"
        note = (f"no data: {name} has no value in {span}" if not observed
                else f"no data for a trend: {name} has values in {observed[0]} only")
        axes.text(0.5, 0.9 if observed else 0.5, note, transform=axes.transAxes, ha="center", va="center",
                  fontsize=9, color="dimgray")
    for region, rows in means.groupby("region"):
        # a year without a value breaks the line; clip_on=False: a point on the first or last year is drawn whole
        axes.plot(rows["year"], rows[variable], marker=".", label=str(region), clip_on=False)
    if observed:  # one year: its points sit on the right edge, where "best" would put the legend
        axes.legend(fontsize=8, loc="best" if len(observed) > 1 else "lower left")


# The width of the one-column copy of each figure: the value column of the Dagster UI's
# metadata table on a 1600-pixel-wide window, where the copy is shown in place.
NARROW_WIDTH_PX = 480


def narrow_path(png: str | Path) -> Path:
    """The one-column PNG `_save` writes beside the PNG at `png` (<stem>.narrow.png)."""
    png = Path(png)
    return png.with_name(f"{png.stem}.narrow.png")


def _one_column(figure) -> float:
    """Lay the figure's visible panels out again in one column, each at its own size (side by
    side they would be shrunk to unreadable in a narrow column); returns a panel's width in inches."""
    from matplotlib.gridspec import GridSpec

    for axes in [a for a in figure.axes if not a.get_visible()]:
        axes.remove()
    panels = [a for a in figure.axes if a.get_subplotspec() is not None]
    if not panels:
        return figure.get_figwidth()
    rows, columns = panels[0].get_subplotspec().get_gridspec().get_geometry()
    width, height = figure.get_figwidth() / columns, figure.get_figheight() / rows
    grid = GridSpec(len(panels), 1, figure=figure)
    for index, axes in enumerate(panels):
        axes.set_subplotspec(grid[index, 0])
    figure.set_size_inches(width, height * len(panels))
    figure.tight_layout()
    return width


def _save(figure, plt, path: str | Path) -> Path:
    """The figure as PNG at `path`, as SVG beside it (same name, .svg), and in one column
    NARROW_WIDTH_PX wide (narrow_path: what the Dagster UI shows in place)."""
    output = Path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=120, format="png")
    figure.savefig(output.with_suffix(".svg"), format="svg")
    panel_width = _one_column(figure)
    figure.savefig(narrow_path(output), dpi=NARROW_WIDTH_PX / panel_width, format="png")
    plt.close(figure)
    return output
