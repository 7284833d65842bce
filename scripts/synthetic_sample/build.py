"""From the model and the editions table to files: print each row of the table with its
family's writer, list it in the edition's manifest, and write the edition folders."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from .editions import EDITIONS, EditionSpec, SampleFile
from .missing import MISSING_SHARE_TARGET, draw_missing
from .model import SEED, Panel, revise_history, simulate_panel
from .provinces import PROVINCES, Province
from .series import Series, make_series
from .workbook import workbook_xlsx
from .writers import (
    classic_export,
    cross_section_export,
    current_export,
    english_export,
    tidy_csv,
    transposed_export,
)

# The current and English exports carry no indicator of their own, so their manifest entry
# names it; the transposed export's entry names it too, and the reader checks the two agree.
MANIFEST_NAMES_INDICATOR = ("current", "transposed", "english")


@dataclass
class EditionFile:
    path: str
    content: bytes
    manifest: dict


@dataclass
class Edition:
    key: str
    title: str
    published: dt.date
    source: str
    notes: str
    files: list[EditionFile]


def render(spec: SampleFile, series: list[Series], provinces: tuple[Province, ...]) -> bytes:
    """The bytes of one file: its series printed by its family's writer."""
    if spec.family == "classic":
        return classic_export(
            series[0], provinces, spec.notes, spec.time_label, spec.crlf, spec.quoted_note
        )
    if spec.family == "current":
        years = series[0].years
        return current_export(series[0], provinces, spec.notes, f"{min(years)}年-{max(years)}年")
    if spec.family == "cross_section":
        return cross_section_export(series, provinces, spec.notes)
    if spec.family == "transposed":
        return transposed_export(series[0], provinces, spec.notes)
    if spec.family == "english":
        return english_export(series[0], provinces)
    if spec.family == "tidy":
        return tidy_csv(series, provinces)
    if spec.family == "workbook":
        blocks = iter(series)  # the sheets' columns, in order
        sheets = {sheet.name: [next(blocks) for _ in sheet.columns] for sheet in spec.sheets}
        return workbook_xlsx(sheets, provinces, dict(spec.misspell), spec.notes[0])
    raise ValueError(f"{spec.path}: no writer for the format family {spec.family!r}")


def manifest_entry(spec: SampleFile) -> dict:
    """The file's entry in manifest.yml: path, what it holds where the file does not say,
    the span of years it shows, notes."""
    columns = spec.all_columns()
    entry: dict = {"path": spec.path}
    if spec.family in MANIFEST_NAMES_INDICATOR:
        (column,) = columns
        entry |= {"indicator": column.indicator, "unit": column.unit}
    years = [year for column in columns for year in column.years]
    entry["years"] = [min(years), max(years)]
    if spec.manifest_notes:
        entry["notes"] = spec.manifest_notes
    if spec.sheets:
        entry["sheets"] = {
            sheet.name: {"notes": sheet.notes}
            if sheet.notes
            else {"indicator": sheet.columns[0].indicator, "unit": sheet.columns[0].unit}
            for sheet in spec.sheets
        }
    return entry


def build_edition(
    spec: EditionSpec, panel: Panel, missing: dict[str, np.ndarray], rng: np.random.Generator
) -> Edition:
    """Every file of `spec`, printed from `panel`; `rng` draws the 全国 rows' discrepancies
    (so the files are built in table order)."""
    files = []
    for file in spec.files:
        series = [
            make_series(
                panel,
                missing,
                column.indicator,
                column.unit,
                column.decimals,
                column.years,
                data_years=tuple(y for y in column.years if y <= spec.last_year),
                national_rng=rng if column.national else None,
            )
            for column in file.all_columns()
        ]
        content = render(file, series, panel.provinces)
        files.append(EditionFile(file.path, content, manifest_entry(file)))
    return Edition(spec.key, spec.title, spec.published, spec.source, spec.notes, files)


def build_editions(
    provinces: tuple[Province, ...] = PROVINCES, seed: int = SEED, noise_scale: float = 1.0
) -> list[Edition]:
    """Everything in memory: the simulated panel, its revision, and both editions."""
    rng = np.random.default_rng(seed)
    first_release = simulate_panel(provinces, rng, noise_scale)
    revised = revise_history(first_release, rng)
    missing = draw_missing(first_release, rng, MISSING_SHARE_TARGET)
    return [
        build_edition(spec, revised if spec.revised else first_release, missing, rng)
        for spec in EDITIONS
    ]


class _FlowList(list):
    """A list the manifest prints inline, like `years: [2001, 2020]`."""


class _ManifestDumper(yaml.SafeDumper):
    pass


_ManifestDumper.add_representer(
    _FlowList,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)


def manifest_yaml(edition: Edition) -> bytes:
    entries = []
    for f in sorted(edition.files, key=lambda f: f.path):
        entry = dict(f.manifest)
        if "years" in entry:
            entry["years"] = _FlowList(entry["years"])
        entries.append(entry)
    document = {
        "edition": edition.key,
        "title": edition.title,
        "published": edition.published,
        "source": edition.source,
        "notes": edition.notes,
        "files": entries,
    }
    text = yaml.dump(
        document, Dumper=_ManifestDumper, allow_unicode=True, sort_keys=False, width=100
    )
    header = "# SYNTHETIC SAMPLE written by scripts/generate_sample.py - do not edit by hand.\n"
    return (header + text).encode("utf-8")


def write_editions(editions: list[Edition], out_dir: Path) -> None:
    """Replace each edition folder under out_dir; other content of out_dir is left alone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for edition in editions:
        folder = out_dir / edition.key
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        for f in edition.files:
            (folder / f.path).write_bytes(f.content)
        (folder / "manifest.yml").write_bytes(manifest_yaml(edition))
