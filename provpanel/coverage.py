"""What an edition set covers and what it lacks: `provpanel coverage` and the coverage asset.

Reads the dbt marts indicator_coverage (indicator x year: panel units observed / filled /
missing) and variable_availability (which model variables are complete, and why not), the
panel (which of the paper's models can be estimated, analysis.availability) and the seed of
portal codes (what to fetch next, and where from). The same tables print on the terminal,
show in the UI with a heat map, and are queryable in the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from provpanel.portal.seed import seed_entries
from provpanel.warehouse import table_exists

STATUS_ORDER = ["observed", "filled", "missing"]  # heat-map categories (marts.indicator_coverage.status)
NO_SEED_ROW = "no row in the seed portal_indicator_codes.csv"


@dataclass
class CoverageReport:
    indicators: pd.DataFrame  # marts.indicator_coverage, one row per indicator and year
    variables: pd.DataFrame  # marts.variable_availability, one row per model variable
    models: pd.DataFrame  # model_id, label, estimable, reason
    fetch_next: pd.DataFrame  # indicator, years, needed_by, where_from
    left_out: pd.DataFrame  # indicator, years: years that carried values alone would have filled

    def warnings(self) -> list[str]:
        return [_left_out_warning(row.indicator, row.years) for row in self.left_out.itertuples(index=False)]


def _left_out_warning(indicator: str, years: str) -> str:
    return f"{indicator}: no observations for {years}; left out rather than carried"


def year_runs(years: Iterable[int]) -> str:
    """'2001-2009, 2015' from the years 2001..2009 and 2015."""
    ordered = sorted({int(year) for year in years})
    runs: list[list[int]] = []
    for year in ordered:
        if runs and year == runs[-1][1] + 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def load_coverage(con) -> CoverageReport:
    """The coverage report from an open warehouse or published snapshot (read-only is enough)."""
    from analysis.availability import model_estimability
    from analysis.specs import VARIANT_MODELS, paper_models

    for name in ("indicator_coverage", "variable_availability", "province_year_panel"):
        if not table_exists(con, "marts", name):
            raise FileNotFoundError(f"marts.{name} is not in the warehouse; run `provpanel build` first")
    indicators = con.execute("SELECT * FROM marts.indicator_coverage ORDER BY indicator, year").df()
    variables = con.execute("SELECT * FROM marts.variable_availability ORDER BY variable").df()
    panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
    inputs = con.execute("SELECT variable, indicator FROM lookups.model_variable_inputs").df()
    sources = {indicator: entry.where_from() for indicator, entry in seed_entries().items()}

    reasons = {row.variable: row.reason for row in variables.itertuples(index=False) if row.reason}
    models = model_estimability(panel, [*paper_models(), *VARIANT_MODELS], reasons)

    incomplete = set(variables.loc[~variables["is_complete"].astype(bool), "variable"])
    fetch_rows = []
    for indicator, years in indicators.groupby("indicator", sort=True):
        unobserved = years.loc[years["n_observed"] == 0, "year"]
        needed_by = sorted(set(inputs.loc[inputs["indicator"] == indicator, "variable"]) & incomplete)
        if unobserved.empty or not needed_by:
            continue
        fetch_rows.append({
            "indicator": indicator,
            "years": year_runs(unobserved),
            "needed_by": ", ".join(needed_by),
            "where_from": sources.get(indicator, NO_SEED_ROW),
        })
    fetch_next = pd.DataFrame(fetch_rows, columns=["indicator", "years", "needed_by", "where_from"])
    left = indicators[indicators["is_left_out"].astype(bool)]
    left_out = pd.DataFrame(
        [{"indicator": name, "years": year_runs(group["year"])} for name, group in left.groupby("indicator")],
        columns=["indicator", "years"],
    )
    return CoverageReport(indicators, variables, models, fetch_next, left_out)


def indicator_summary(indicators: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator: years by status (observed by most units / filled / missing)
    and the province-year counts."""
    rows = []
    for indicator, years in indicators.groupby("indicator", sort=False):
        row = {"indicator": indicator, "scope": years["scope"].iloc[0]}
        for status in STATUS_ORDER:
            row[f"years_{status}"] = year_runs(years.loc[years["status"] == status, "year"]) or "-"
        row["cells_observed"] = int(years["n_observed"].sum())
        row["cells_filled"] = int((years["n_interpolated"] + years["n_carried"]).sum())
        row["cells_missing"] = int(years["n_missing"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def coverage_markdown(report: CoverageReport) -> str:
    """The whole report as Markdown: the terminal output and the asset's metadata."""
    def table(frame: pd.DataFrame) -> str:
        if not len(frame):
            return "(none)"
        return frame.astype(object).where(frame.notna(), "").to_markdown(index=False)

    variables = report.variables[["variable", "is_complete", "first_year", "last_year", "years_missing",
                                  "n_missing_input", "n_corrupt", "reason"]]
    sections = [
        "## Indicators: panel years observed (most provinces) / filled / missing\n\n"
        + table(indicator_summary(report.indicators)),
        "## Model variables\n\n" + table(variables),
        "## Models\n\n" + table(report.models),
        "## What to fetch next\n\n" + table(report.fetch_next),
    ]
    if len(report.left_out):
        sections.insert(1, "## Left out (would rest on carried values only)\n\n" + table(report.left_out))
    return "\n\n".join(sections) + "\n"


PLOT_FORMATS = ("png", "svg", "pdf")


def plot_format(path: str | Path) -> str:
    """The heat map's format, told by the file name's extension (png, svg or pdf); a name
    without one, or with another, is refused (ValueError, one line), never given one silently."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        found = f"'.{suffix}'" if suffix else "no extension"
        raise ValueError(f"{path}: the heat map's format is told by the file name: expected a name ending "
                         f"{', '.join('.' + f for f in PLOT_FORMATS)}, found {found}")
    return suffix


def plot_coverage_heatmap(indicators: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Indicator x year heat map: observed (most units), filled, missing; the share of units
    observed written in each cell. Written to exactly `path`, in `fmt` (default: the format
    its extension names, plot_format)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fmt = fmt or plot_format(path)
    codes = {status: position for position, status in enumerate(STATUS_ORDER)}
    grid = indicators.pivot(index="indicator", columns="year", values="status")
    shares = indicators.assign(share=indicators["n_observed"] / indicators["n_units"]).pivot(
        index="indicator", columns="year", values="share")
    figure, axes = plt.subplots(figsize=(max(6, 0.42 * grid.shape[1] + 3), max(3, 0.32 * grid.shape[0] + 1.5)))
    colours = ListedColormap(["#2b8cbe", "#fdae61", "#d7191c"])
    axes.imshow(grid.replace(codes).to_numpy(dtype=float), cmap=colours, vmin=-0.5, vmax=2.5, aspect="auto")
    axes.set_xticks(range(grid.shape[1]), [str(year) for year in grid.columns], rotation=90, fontsize=7)
    axes.set_yticks(range(grid.shape[0]), list(grid.index), fontsize=7)
    for y in range(grid.shape[0]):
        for x in range(grid.shape[1]):
            share = shares.iloc[y, x]
            if share > 0:
                axes.text(x, y, str(round(share * 100)), ha="center", va="center", fontsize=5, color="white")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(codes[s])) for s in STATUS_ORDER]
    axes.legend(handles, ["observed (most provinces)", "filled (interpolated / carried)", "missing"],
                loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    axes.set_title("Coverage of the edition set: indicator x year (number: % of provinces observed)", fontsize=9)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, format=fmt)  # the format given: matplotlib adds no extension
    plt.close(figure)
    return path


def check_plot_path(plot: str | Path, *, force: bool) -> Path:
    """`coverage --plot FILE`, checked before any work: a format of PLOT_FORMATS, and a path
    the user may have written (provpanel.user_files: never what provpanel keeps; an existing
    file only with --force, and only an image of that format). ValueError or OutputRefused."""
    from provpanel.user_files import check_output_file

    return check_output_file(plot, plot_format(plot), force=force, option="--plot")


def print_coverage(*, working: bool = False, fmt: str = "markdown", plot: str | None = None,
                   force: bool = False) -> int:
    """`provpanel coverage`: the report from the published snapshot (or the working warehouse);
    `plot`: also the heat map to that file (`force`: over the user's own image of that format)."""
    import sys

    import duckdb

    from provpanel.config import get_paths
    from provpanel.publish import published_path
    from provpanel.user_files import OutputRefused, write_aside
    from provpanel.warehouse import open_warehouse

    plot_path = None
    if plot:
        try:
            plot_path = check_plot_path(plot, force=force)
        except (ValueError, OutputRefused) as err:
            print(f"provpanel coverage: {err}", file=sys.stderr)
            return 2
    paths = get_paths()
    database = paths.warehouse if working else published_path(paths.home)
    try:
        with open_warehouse(database, read_only=True, wait_seconds=30 if working else 0) as con:
            report = load_coverage(con)
    except (FileNotFoundError, duckdb.Error) as err:
        print(f"provpanel coverage: {err}", file=sys.stderr)
        return 2
    for warning in report.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    if fmt == "csv":
        columns = ["indicator", "scope", "year", "n_units", "n_observed", "n_interpolated", "n_carried",
                   "n_missing", "is_left_out", "status"]
        sys.stdout.write(report.indicators[columns].to_csv(index=False))
    else:
        sys.stdout.write(coverage_markdown(report))
    if plot_path is not None:
        with write_aside(plot_path) as partial:  # then renamed onto the path checked
            plot_coverage_heatmap(report.indicators, partial, fmt=plot_format(plot_path))
        print(f"heat map: {plot_path}", file=sys.stderr)
    return 0


def build_warnings(warehouse: Path) -> list[str]:
    """The warnings of a build: indicator-years left out rather than carried (none when the
    warehouse has no coverage table), and editions of one publication date that disagree with
    no `supersedes:` to order them (provpanel.edition_order.tie_warnings)."""
    from provpanel.edition_order import tie_warnings
    from provpanel.warehouse import open_warehouse

    with open_warehouse(warehouse, read_only=True) as con:
        lines = tie_warnings(con)
        if not table_exists(con, "marts", "indicator_coverage"):
            return lines
        rows = con.execute("""SELECT indicator, list(year ORDER BY year) FROM marts.indicator_coverage
                              WHERE is_left_out GROUP BY indicator ORDER BY indicator""").fetchall()
    return [_left_out_warning(indicator, year_runs(years)) for indicator, years in rows] + lines


# the name the build runner calls (orchestration.build_runner): every warning of a build
left_out_warnings = build_warnings
