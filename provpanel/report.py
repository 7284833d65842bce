"""The analysis outputs as files (tables in four formats, plots) and `provpanel report`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from provpanel.config import Paths

# The order tables are printed in, and the file stem each is written under.
TABLE_ORDER = ["table_1", "table_3", "table_2", "table_4", "protectionism", "fma_time_varying"]
MEDIATION_STEM = "mediation"  # analysis.mediation_table.MEDIATION_TABLE_STEM
# What `provpanel report` prints, in order: the mechanism follows the table of its models (Table 4).
REPORT_ORDER = [*TABLE_ORDER[:4], MEDIATION_STEM, *TABLE_ORDER[4:]]
HEADLINE_TABLE = "table_1"  # Models 1 and 2: what `provpanel build` prints
COMPARISON_STEM = "comparison_with_published"
NOT_ESTIMABLE_STEM = "not_estimable"  # written by analysis.run.AnalysisResults.write_outputs


@dataclass(frozen=True)
class OutputFiles:
    folder: Path
    markdown_text: str
    comparison_markdown: str
    plots: dict[str, Path]


# How each text format says a line is not part of the table (the settings header). CSV has no
# comment syntax most readers accept: its settings go to a sidecar, SETTINGS_SIDECAR.
_HEADER_LINE = {".md": "{}\n", ".tex": "% {}", ".html": '<p class="settings">{}</p>'}
SETTINGS_SIDECAR = "settings.txt"


def _with_settings_header(path: Path, settings_line: str) -> None:
    """Put the settings line at the head of a written table file (a comment where the format
    has one, so readers of the table still parse it; CSV readers: comment="#")."""
    import html

    template = _HEADER_LINE.get(path.suffix)
    if template is None or not settings_line:
        return
    shown = html.escape(settings_line) if path.suffix == ".html" else settings_line
    path.write_text(template.format(shown) + "\n" + path.read_text(encoding="utf-8"),
                    encoding="utf-8")


def write_analysis_outputs(results, panel, folder: Path, *, settings_line: str = "") -> OutputFiles:
    """Write every table (md, tex, html, csv), the comparison and the plots into `folder`;
    each table file starts with `settings_line` (provpanel.settings.ResolvedSettings.header_line)."""
    from analysis.compare import comparison_markdown
    from analysis.plots import plot_trends_by_region

    folder = Path(folder)
    written = results.write_outputs(folder)
    trends = plot_trends_by_region(panel, folder / "ic_tu_by_region.png")
    comparison_md = comparison_markdown(results.comparison)  # split to be read; the CSV has every column
    (folder / f"{COMPARISON_STEM}.md").write_text(comparison_md + "\n", encoding="utf-8")
    results.comparison.to_csv(folder / f"{COMPARISON_STEM}.csv", index=False)
    for path in [*written, folder / f"{COMPARISON_STEM}.md", folder / f"{COMPARISON_STEM}.csv"]:
        _with_settings_header(path, settings_line)
    # the CSV tables' settings record (a '#' line would not be valid CSV)
    (folder / SETTINGS_SIDECAR).write_text((settings_line + "\n") if settings_line else "", encoding="utf-8")
    ordered = [name for name in TABLE_ORDER if name in results.tables]
    ordered += [name for name in results.tables if name not in ordered]
    sections = [f"### {results.tables[name].title or name}\n\n{results.tables[name].to_markdown()}"
                for name in ordered]
    # the mechanism after Table 4, as `provpanel report` prints it
    sections.insert(sum(name in TABLE_ORDER[:4] for name in ordered),
                    f"### Mediation\n\n{results.mediation_texts()['md']}")
    markdown = "\n\n".join(sections)
    if settings_line:
        markdown = f"{settings_line}\n\n{markdown}"
    plots = {p.stem: p for p in written if p.suffix == ".png"}
    plots[trends.stem] = trends
    return OutputFiles(folder, markdown, comparison_md, plots)


def print_report(paths: Paths, *, fmt: str = "markdown", headline_only: bool = False) -> int:
    """Print the tables written by the last successful analysis run."""
    suffix = {"markdown": "md", "latex": "tex", "html": "html", "csv": "csv"}[fmt]
    folder = paths.outputs
    # the models a partial edition set cannot estimate, and why, follow the headline table
    stems = [HEADLINE_TABLE, NOT_ESTIMABLE_STEM] if headline_only else [
        *[s for s in REPORT_ORDER if (folder / f"{s}.{suffix}").exists()],
        *sorted(p.stem for p in folder.glob(f"*.{suffix}") if p.stem not in REPORT_ORDER),
    ]
    files = [folder / f"{stem}.{suffix}" for stem in stems if (folder / f"{stem}.{suffix}").exists()]
    if not files:
        print(f"provpanel report: no analysis outputs in {folder}; run `provpanel build` first",
              file=sys.stderr)
        return 2
    if fmt == "csv":
        _print_csv_long(files)
        return 0
    for path in files:
        print(_TITLE_LINE[fmt].format(path.stem))
        print(path.read_text(encoding="utf-8").rstrip() + "\n")
    return 0


# Each format's own way to title a table, so the printed report stays valid in that format.
_TITLE_LINE = {"markdown": "## {}\n", "latex": "% {}", "html": "<h2>{}</h2>"}


def _print_csv_long(files: list[Path]) -> None:
    """Tables of different columns as one valid CSV: one record per cell (table, row number,
    column, value), the settings of the run in their own column."""
    import csv
    import io

    import pandas as pd

    folder = files[0].parent
    sidecar = folder / SETTINGS_SIDECAR
    settings = sidecar.read_text(encoding="utf-8").strip() if sidecar.exists() else ""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value", "settings"])
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if lines and lines[0].startswith("# settings:"):  # written before the sidecar existed
            lines = lines[1:]
        frame = pd.read_csv(io.StringIO("".join(lines)), dtype=str, keep_default_na=False)
        for number, record in enumerate(frame.itertuples(index=False), start=1):
            for column, value in zip(frame.columns, record, strict=True):
                writer.writerow([path.stem, number, column, value, settings])
