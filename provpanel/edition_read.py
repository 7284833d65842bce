"""Reading an edition: every listed file into the rows of raw.extract_values (all columns but
`loaded_at`, provpanel.raw_schema), failing on the first bad file, so the caller stores all of
an edition or nothing. Large editions are shared among worker processes
(provpanel.edition_read_pool).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from provpanel.edition_manifest import ManifestFile, load_manifest
from provpanel.edition_read_pool import read_files_in_parallel
from provpanel.errors import ExtractError
from provpanel.extracts import read_extract
from provpanel.extracts.values import ExtractValue, cell_where
from provpanel.folder_checksums import sha256_of
from provpanel.raw_schema import READ_VALUE_DTYPES, empty_frame

# Below this many bytes an edition is read in this process: starting worker processes (each
# imports pandas and the readers, ~1 s) costs more than it saves. The sample is ~0.2 MB, a
# county-level edition ~20 MB.
PARALLEL_READ_MIN_BYTES = 4_000_000


def read_edition(edition_dir: str | Path, *, workers: int | None = None,
                 checksums: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every value of an edition as rows of raw.extract_values (without `loaded_at`).
    Raises the first file's ExtractError (in manifest order): an edition is stored whole or
    not at all. Large editions are shared among worker processes (`workers`: default one per
    CPU when the files total PARALLEL_READ_MIN_BYTES or more). `checksums` (relative path ->
    sha256, from file_checksums) saves hashing the files again."""
    edition_dir = Path(edition_dir)
    manifest = load_manifest(edition_dir)
    sizes = [(edition_dir / entry.path).stat().st_size for entry in manifest.files]
    if workers is None:
        workers = (os.cpu_count() or 1) if sum(sizes) >= PARALLEL_READ_MIN_BYTES else 1
    workers = max(1, min(workers, len(manifest.files)))
    if workers == 1:
        frames = [read_manifest_file(manifest.edition, edition_dir, entry, (checksums or {}).get(entry.path))
                  for entry in manifest.files]
    else:
        frames = read_files_in_parallel(manifest, edition_dir, sizes, workers)
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return empty_frame(READ_VALUE_DTYPES)
    return pd.concat(frames, ignore_index=True).astype(READ_VALUE_DTYPES)


def _value_where(path: Path, value: Any) -> str:
    """How an error names a value's cell: a data frame's row and column, else the file's."""
    from provpanel.extracts.frames import container_kind

    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if container_kind(head):
        prefix = f"object '{value.sheet}', " if value.sheet is not None else ""
        return f"{prefix}row {value.source_row}, column {value.source_col}"
    return cell_where(value.sheet, value.source_row, value.source_col)


def read_manifest_file(edition: str, edition_dir: Path, entry: ManifestFile,
                       checksum: str | None = None) -> pd.DataFrame:
    """One file's values as raw rows, built column by column (an edition of counties has over
    a million values: one dict per value would cost as much as reading them)."""
    path = edition_dir / entry.path
    display = f"{edition}/{entry.path}"
    checksum = checksum or sha256_of(path)
    if entry.sha256 is not None and entry.sha256 != checksum:
        raise ExtractError(display, "whole file", f"the bytes the manifest's sha256 records ({entry.sha256})",
                           f"bytes with sha256 {checksum}")
    values = read_extract(path, indicator=entry.indicator, unit=entry.unit, sheets=entry.sheets,
                          display_name=display, columns=entry.columns, breakdown=entry.breakdown)
    if entry.keep_years:
        first, last = entry.keep_years
        values = [value for value in values if first <= value.year <= last]
    if entry.years:
        first, last = entry.years
        for value in values:
            if not first <= value.year <= last:
                raise ExtractError(
                    display,
                    _value_where(path, value),
                    f"a year within {first}-{last} (the manifest's years)",
                    str(value.year),
                )
    columns = dict(zip(ExtractValue._fields, zip(*values))) if values else {name: () for name in ExtractValue._fields}
    frame = pd.DataFrame({name: list(column) for name, column in columns.items()})
    frame.insert(0, "edition", edition)
    frame.insert(1, "file", entry.path)
    frame.insert(2, "file_sha256", checksum)
    return frame[list(READ_VALUE_DTYPES)]
