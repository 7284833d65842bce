"""What an edition set covers and what it lacks: `provpanel coverage` and the coverage asset.

Reads the dbt marts indicator_coverage (indicator x year: panel units observed / filled /
missing) and variable_availability (which model variables are complete, and why not), the
panel (which of the paper's models can be estimated, analysis.availability), the panel's input
cells (what to fetch next, ranked by the models each indicator helps unlock: fetch_plan) and
the seed of portal codes (where each comes from). The report starts with one line, "N of 18
models estimable; M indicators missing". The same tables print on the terminal, show in the UI
with a heat map, and are queryable in the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from provpanel.portal.seed import seed_entries
from provpanel.warehouse import table_exists

STATUS_ORDER = ["observed", "filled", "missing"]  # heat-map categories (marts.indicator_coverage.status)
NO_SEED_ROW = "no row in the seed portal_indicator_codes.csv"
HEADLINE_MODELS = ("1", "2")  # the paper's baseline: the smallest fetch is computed for these
# ties of the ranking: the easier to get first (a portal code known, a portal table, a file, not in the portal)
SOURCE_ORDER = {"high": 0, "table": 1, "none": 2, "not_in_portal": 3}
FETCH_COLUMNS = ["rank", "indicator", "models", "unlocks_alone", "years_missing", "filled", "needed_by",
                 "instead", "source", "where_from"]


@dataclass
class CoverageReport:
    indicators: pd.DataFrame  # marts.indicator_coverage, one row per indicator and year
    variables: pd.DataFrame  # marts.variable_availability, one row per model variable
    models: pd.DataFrame  # model_id, label, estimable, reason, reason_parts
    fetch_next: pd.DataFrame  # FETCH_COLUMNS, best first
    left_out: pd.DataFrame  # indicator, years: years that carried values alone would have filled
    # the fewest indicators that make Models 1 and 2 estimable ([]: they are; None: no fetch can)
    smallest_fetch: list[str] | None = None
    outside_span: pd.DataFrame | None = None  # indicator, values, years: stored, outside the panel's years
    span: tuple[int, int] | None = None  # the panel's first and last year

    def warnings(self) -> list[str]:
        return [_left_out_warning(row.indicator, row.years) for row in self.left_out.itertuples(index=False)]

    def headline(self) -> str:
        """'N of 18 models estimable; M indicators missing': the first line of every form."""
        n_estimable = int(self.models["estimable"].sum()) if len(self.models) else 0
        n_missing = int((self.fetch_next["years_missing"] != "-").sum()) if len(self.fetch_next) else 0
        return (f"{n_estimable} of {len(self.models)} models estimable; "
                f"{n_missing} indicator{'' if n_missing == 1 else 's'} missing")


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

    for name in ("indicator_coverage", "variable_availability", "province_year_panel", "panel_input_cells"):
        if not table_exists(con, "marts", name):
            raise FileNotFoundError(f"marts.{name} is not in the warehouse; run `provpanel build` first")
    indicators = con.execute("SELECT * FROM marts.indicator_coverage ORDER BY indicator, year").df()
    variables = con.execute("SELECT * FROM marts.variable_availability ORDER BY variable").df()
    panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
    inputs = con.execute("SELECT * FROM lookups.model_variable_inputs").df()
    cells = con.execute("""SELECT DISTINCT province_code, year, indicator, fill_method FROM marts.panel_input_cells
                           WHERE fill_method <> 'observed'""").df()

    reasons = {row.variable: row.reason for row in variables.itertuples(index=False) if row.reason}
    specs = [*paper_models(), *VARIANT_MODELS]
    models = model_estimability(panel, specs, reasons)
    fetch_next, smallest = _fetch_next(panel, specs, inputs, cells)
    left = indicators[indicators["is_left_out"].astype(bool)]
    left_out = pd.DataFrame(
        [{"indicator": name, "years": year_runs(group["year"])} for name, group in left.groupby("indicator")],
        columns=["indicator", "years"],
    )
    span = (int(panel["year"].min()), int(panel["year"].max())) if len(panel) else None
    return CoverageReport(indicators, variables, models, fetch_next, left_out, smallest,
                          _outside_span(con, span), span)


def _fetch_next(panel: pd.DataFrame, specs, inputs: pd.DataFrame,
                cells: pd.DataFrame) -> tuple[pd.DataFrame, list[str] | None]:
    """The model inputs the panel lacks (missing) or only has filled, ranked by the models each
    helps unlock (provpanel.fetch_plan), with where each comes from; and the smallest fetch that
    makes Models 1 and 2 estimable."""
    from provpanel.fetch_plan import model_obstacles, smallest_fetch, unlock_counts, variable_needs

    needs = variable_needs(inputs)
    missing = cells[cells["fill_method"] == "missing"]
    cost = missing.groupby("indicator").size().to_dict()  # province-years to fetch
    obstacles = model_obstacles(panel, specs, needs, missing)
    in_smallest, alone = unlock_counts(obstacles, needs, cost)
    headline = [model for model in obstacles if model.model_id in HEADLINE_MODELS]
    smallest = smallest_fetch(headline, needs, cost)
    seed = seed_entries()
    rows = []
    for indicator, group in cells.groupby("indicator", sort=True):
        missing_years = set(group.loc[group["fill_method"] == "missing", "year"])
        filled = group[group["fill_method"] != "missing"]
        entry = seed.get(indicator)
        rows.append({
            "indicator": indicator,
            "models": in_smallest.get(indicator, 0),
            "unlocks_alone": alone.get(indicator, 0),
            "years_missing": year_runs(missing_years) or "-",
            "filled": _filled_cells(filled),
            "needed_by": ", ".join(sorted(set(inputs.loc[inputs["indicator"] == indicator, "variable"]))),
            "instead": _instead(indicator),
            "source": entry.source if entry else "not in the seed",
            "where_from": entry.where_from() if entry else NO_SEED_ROW,
            "_source_rank": SOURCE_ORDER.get(entry.confidence, len(SOURCE_ORDER)) if entry else len(SOURCE_ORDER),
            "_cost": cost.get(indicator, 0),
        })
    if not rows:
        return pd.DataFrame(columns=FETCH_COLUMNS), smallest
    ranked = pd.DataFrame(rows).sort_values(
        ["models", "unlocks_alone", "_source_rank", "_cost", "indicator"],
        ascending=[False, False, True, True, True], ignore_index=True)
    ranked["rank"] = range(1, len(ranked) + 1)
    return ranked[FETCH_COLUMNS], smallest


def _filled_cells(filled: pd.DataFrame) -> str:
    """'60: 2019-2020' (province-years interpolated or carried, and their years), or '45 in 12
    years' when the years are scattered; '-' for none."""
    if filled.empty:
        return "-"
    runs = year_runs(filled["year"])
    return f"{len(filled)}: {runs}" if runs.count(",") < 3 else f"{len(filled)} in {filled['year'].nunique()} years"


def _instead(indicator: str) -> str:
    """What the panel can take instead of `indicator` ('exports + imports' for trade_total)."""
    from provpanel.fetch_plan import ALTERNATIVE_INPUTS

    for options in ALTERNATIVE_INPUTS.values():
        if any(indicator in option for option in options):
            return " or ".join(" + ".join(sorted(option)) for option in options if indicator not in option)
    return ""


def _outside_span(con, span: tuple[int, int] | None) -> pd.DataFrame:
    """Catalog values stored (raw.extract_values) for years before or after the panel's."""
    columns = ["indicator", "values", "years"]
    if span is None or not table_exists(con, "raw", "extract_values"):
        return pd.DataFrame(columns=columns)
    rows = con.execute("""SELECT indicator, count(*), list(DISTINCT year) FROM raw.extract_values
                          WHERE in_catalog AND value IS NOT NULL AND (year < ? OR year > ?)
                          GROUP BY indicator ORDER BY indicator""", list(span)).fetchall()
    return pd.DataFrame([(name, int(n), year_runs(years)) for name, n, years in rows], columns=columns)


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


def _table(frame: pd.DataFrame) -> str:
    if not len(frame):
        return "(none)"
    return frame.astype(object).where(frame.notna(), "").to_markdown(index=False)


def fetch_markdown(report: CoverageReport) -> str:
    """'What to fetch next': the smallest set for Models 1 and 2, the ranked indicators, and the
    values stored outside the panel's years."""
    lines = ["## What to fetch next", ""]
    headline = "Models " + " and ".join(HEADLINE_MODELS)
    if report.smallest_fetch is None:
        lines.append(f"**{headline}**: no fetch makes them estimable (a variable is null although "
                     "no input is missing; see Model variables).")
    elif not report.smallest_fetch:
        lines.append(f"**{headline}** are estimable.")
    else:
        lines.append(f"**Smallest set that makes {headline} estimable** ({len(report.smallest_fetch)}): "
                     f"{', '.join(report.smallest_fetch)}. Exact over their missing inputs: every input "
                     "they cannot do without, then the fewest of the alternatives (TU: the trade total, or "
                     "exports and imports); ties: fewer missing province-years.")
    lines += ["", ("Ranked by `models`: how many models not estimable now have the indicator in their own "
              "smallest fetch (each fetched indicator fills every year it lacks); ties: more models it "
              "unlocks alone (`unlocks_alone`), then the easier source (a portal code known, a portal "
              "table, a file, not in the portal: the seed portal_indicator_codes.csv), then fewer missing "
              "province-years, then the name. `filled`: province-years only interpolated or carried; `instead`: "
              "what the panel can take in its place."), ""]
    # where each comes from follows the table as a list: in a column, that text makes the table
    # 500 characters wide
    fetch = report.fetch_next
    if not len(fetch):
        lines.append("Nothing to fetch: every input of the models is observed in every panel year.")
    else:
        lines += [_table(fetch.drop(columns=["where_from"])), "", "Where each comes from:", ""]
        lines += [f"- `{row.indicator}` ({row.source}): {row.where_from}" for row in fetch.itertuples(index=False)]
    outside = report.outside_span
    if outside is not None and len(outside) and report.span:
        first, last = report.span
        detail = "; ".join(f"{row.indicator} {row.years} ({row.values})" for row in outside.itertuples(index=False))
        lines += ["", (f"Stored but outside the panel's years {first}-{last} (settings panel_start_year / "
                  f"panel_end_year), so not in the panel: {int(outside['values'].sum())} values: {detail}.")]
    return "\n".join(lines)


def reasons_markdown(report: CoverageReport) -> str:
    """Why models are not estimable: each reason once, with the models it stops."""
    from analysis.availability import grouped_reasons_markdown

    stopped = report.models[~report.models["estimable"].astype(bool)] if len(report.models) else report.models
    parts = dict(zip(stopped["model_id"], stopped["reason_parts"], strict=True)) if len(stopped) else {}
    return "## Why models are not estimable\n\n" + (grouped_reasons_markdown(parts, len(report.models))
                                                      or "Every model is estimable.")


def coverage_markdown(report: CoverageReport) -> str:
    """The whole report as Markdown: the terminal output and the asset's metadata. The first
    line is the headline (CoverageReport.headline), what to do next follows."""
    variables = report.variables[["variable", "is_complete", "first_year", "last_year", "years_missing",
                                  "n_missing_input", "n_corrupt", "reason"]]
    models = report.models.assign(missing_variables=[
        ", ".join(part.split(":", 1)[0] for part in parts) for parts in report.models["reason_parts"]
    ])[["model_id", "label", "estimable", "missing_variables"]] if len(report.models) else report.models
    sections = [
        report.headline(),
        fetch_markdown(report),
        reasons_markdown(report),
        "## Models\n\n" + _table(models),
        "## Indicators: panel years observed (most provinces) / filled / missing\n\n"
        + _table(indicator_summary(report.indicators)),
        "## Model variables\n\n" + _table(variables),
    ]
    if len(report.left_out):
        sections.insert(-1, "## Left out (would rest on carried values only)\n\n" + _table(report.left_out))
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


STATUS_COLOURS = {"observed": (0.169, 0.549, 0.745), "filled": (0.992, 0.682, 0.380),
                  "missing": (0.843, 0.098, 0.110)}  # RGB: blue, orange, red
CELL_STEPS = 60  # horizontal steps per cell: a panel unit of 30 is 2 steps, a national series 60


def coverage_cells(indicators: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per indicator x year the share of units observed, filled and missing (columns
    'observed', 'filled', 'missing', rows by indicator then year), and the share of each over
    every unit-year (one row)."""
    counts = indicators.assign(
        observed=indicators["n_observed"], filled=indicators["n_interpolated"] + indicators["n_carried"],
        missing=indicators["n_missing"]).set_index(["indicator", "year"]).sort_index()
    units = counts["n_units"].where(counts["n_units"] > 0, 1)
    shares = counts[STATUS_ORDER].div(units, axis=0)
    total = counts[STATUS_ORDER].sum() / max(int(counts["n_units"].sum()), 1)
    return shares, total.to_frame().T


def coverage_image(indicators: pd.DataFrame) -> tuple[list[str], list[int], np.ndarray]:
    """The heat map as an RGB array: one row per indicator, CELL_STEPS columns per year, each
    cell split left to right into observed, filled and missing in proportion to its units."""
    shares, _ = coverage_cells(indicators)
    names = sorted(shares.index.get_level_values("indicator").unique())
    years = sorted(shares.index.get_level_values("year").unique())
    image = np.ones((len(names), len(years) * CELL_STEPS, 3))  # white where a cell has no row
    for (name, year), row in shares.iterrows():
        y, x0 = names.index(name), years.index(year) * CELL_STEPS
        bounds = np.round(np.cumsum([0.0, *(row[s] for s in STATUS_ORDER)]) * CELL_STEPS).astype(int)
        for status, left, right in zip(STATUS_ORDER, bounds[:-1], bounds[1:], strict=True):
            image[y, x0 + left:x0 + right] = STATUS_COLOURS[status]
    return names, years, image


def _percent(share: float) -> str:
    """'17%', or '0.4%' for a share that whole percents would show as 0% (or 100%)."""
    whole = f"{share:.0%}"
    return f"{share:.1%}" if whole in ("0%", "100%") and 0 < share < 1 else whole


def draw_coverage_heatmap(indicators: pd.DataFrame, *, narrow: bool = False):
    """The heat map's matplotlib figure (coverage_image): each cell shows its observed / filled /
    missing units side by side; the legend gives each status's share of all unit-years. `narrow`:
    4.7 inches wide with smaller type and the legend in one column (the UI's metadata column)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, years, image = coverage_image(indicators)
    _, total = coverage_cells(indicators)
    size = 6 if narrow else 7
    width = 4.7 if narrow else max(6.0, 0.42 * len(years) + 2.5)
    figure, axes = plt.subplots(figsize=(width, max(3.5, (0.22 if narrow else 0.3) * len(names) + 2.2)))
    axes.imshow(image, aspect="auto", interpolation="nearest",
                extent=(-0.5, len(years) - 0.5, len(names) - 0.5, -0.5))
    axes.set_xticks(range(len(years)), [str(year) for year in years], rotation=90, fontsize=size)
    axes.set_yticks(range(len(names)), names, fontsize=size)
    # thin white lines between cells, so each indicator-year reads as one cell
    axes.set_xticks([x - 0.5 for x in range(1, len(years))], minor=True)
    axes.set_yticks([y - 0.5 for y in range(1, len(names))], minor=True)
    axes.grid(which="minor", color="white", linewidth=0.8)
    axes.tick_params(which="minor", length=0)
    handles = [plt.Rectangle((0, 0), 1, 1, color=STATUS_COLOURS[s]) for s in STATUS_ORDER]
    labels = [f"{label}: {_percent(total[status].iloc[0])} of unit-years" for status, label in zip(
        STATUS_ORDER, ["observed", "filled (interpolated / carried)", "missing"], strict=True)]
    # below the map, so a narrow window (the UI's) never cuts the legend off
    axes.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1 if len(years) < 8 else -0.07),
                ncol=1 if narrow else 3, fontsize=size, frameon=False)
    title = "Coverage: indicator x year; each cell's provinces observed | filled | missing, left to right"
    axes.set_title(title.replace("; ", ";\n") if narrow else title, fontsize=size + 2)
    return figure


def plot_coverage_heatmap(indicators: pd.DataFrame, path: str | Path, fmt: str | None = None, *,
                          narrow: bool = False) -> Path:
    """The heat map (draw_coverage_heatmap) written to exactly `path`, in `fmt` (default: the
    format its extension names, plot_format); `narrow`: at most 480 pixels wide, for the UI."""
    import matplotlib.pyplot as plt

    fmt = fmt or plot_format(path)
    figure = draw_coverage_heatmap(indicators, narrow=narrow)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the format given: matplotlib adds no extension; tight: the legend below is kept whole
    figure.savefig(path, dpi=100 if narrow else 110, format=fmt, bbox_inches="tight")
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
    if fmt == "csv":  # the headline on stderr: stdout stays one valid CSV table
        print(report.headline(), file=sys.stderr)
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
