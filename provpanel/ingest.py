"""Ingest one edition folder into the raw tables: read every file, validate, then replace.

Reading and validating happen entirely before the warehouse is written, so a bad file or a
failed raw check fails the edition and leaves every stored value as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from provpanel import warehouse
from provpanel.edition_manifest import Manifest, load_manifest
from provpanel.edition_read import read_edition
from provpanel.editions import file_checksums
from provpanel.folder_checksums import combined_checksum
from provpanel.raw_schema import DECLARED_EXCEPTIONS, DECLARED_REVISIONS


@dataclass(frozen=True)
class IngestSummary:
    edition: str
    n_files: int
    n_values: int
    n_national_values: int
    n_non_catalog_values: int
    files_sha256: str
    skipped_unchanged: bool
    provinces: int
    years: tuple[int, int] | None


@dataclass
class PreparedEdition:
    """An edition read into memory, not yet stored."""

    manifest: Manifest
    fingerprint: str
    checksums: dict[str, str]
    values: pd.DataFrame

    @property
    def declared_revisions(self) -> pd.DataFrame:
        """The manifest's `revisions:` as rows of raw.declared_revisions."""
        edition = self.manifest.edition
        return pd.DataFrame([(edition, r.indicator, r.years[0], r.years[1], r.reason)
                             for r in self.manifest.revisions], columns=DECLARED_REVISIONS.column_names)

    @property
    def declared_exceptions(self) -> pd.DataFrame:
        """The manifest's `exceptions:` as rows of raw.declared_exceptions (one per province)."""
        edition = self.manifest.edition
        rows = [(edition, x.check, x.indicator, province, x.years[0], x.years[1], x.reason)
                for x in self.manifest.exceptions for province in (x.provinces or (None,))]
        return pd.DataFrame(rows, columns=DECLARED_EXCEPTIONS.column_names)

    @property
    def stated_spans(self) -> dict[str, tuple[int, int]]:
        spans = {}
        for entry in self.manifest.files:
            years = entry.years or entry.keep_years
            if years:
                spans[entry.path] = (int(years[0]), int(years[1]))
        return spans


def edition_fingerprint(edition_dir: Path) -> tuple[str, dict[str, str]]:
    """One checksum over the checksums of every file of the edition, manifest included."""
    checksums = file_checksums(edition_dir)
    return combined_checksum(checksums), checksums


def stored_summary(warehouse_path: Path, edition: str, fingerprint: str) -> IngestSummary | None:
    """The stored edition's summary when its fingerprint matches, else None (re-read needed)."""
    if not Path(warehouse_path).exists():
        return None
    with warehouse.open_warehouse(warehouse_path) as con:
        if warehouse.stored_edition_fingerprint(con, edition) != fingerprint:
            return None
        row = con.execute(
            """SELECT count(*), count(*) FILTER (province_code = '00'), count(*) FILTER (NOT in_catalog),
                      count(DISTINCT province_code) FILTER (province_code <> '00'), min(year), max(year),
                      (SELECT n_files FROM raw.editions WHERE edition = ?)
               FROM raw.extract_values WHERE edition = ?""",
            [edition, edition],
        ).fetchone()
    return IngestSummary(edition, row[6], row[0], row[1], row[2], fingerprint, True, row[3],
                         (row[4], row[5]) if row[4] is not None else None)


def prepare_edition(edition_dir: Path, fingerprint: tuple[str, dict[str, str]] | None = None) -> PreparedEdition:
    """Read and check an edition folder (raises ExtractError naming the file and cell).
    `fingerprint`: the result of edition_fingerprint when the caller already has it."""
    edition_dir = Path(edition_dir)
    manifest = load_manifest(edition_dir)
    fingerprint, checksums = fingerprint or edition_fingerprint(edition_dir)
    values = read_edition(edition_dir, checksums=checksums)
    return PreparedEdition(manifest, fingerprint, checksums, values)


def store_edition(prepared: PreparedEdition, warehouse_path: Path, *, supersede: bool = False) -> IngestSummary:
    """Replace the edition's rows in the raw tables in one transaction. `supersede`: the edition
    changed since it was stored (accepted): its old values are kept in raw.superseded_extract_values."""
    manifest, values = prepared.manifest, prepared.values
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    values = values.assign(loaded_at=loaded_at)
    edition_row = {
        "edition": manifest.edition,
        "title": manifest.title,
        "published": manifest.published,
        "source": manifest.source,
        "notes": manifest.notes,
        "manifest_sha256": prepared.checksums.get("manifest.yml", ""),
        "files_sha256": prepared.fingerprint,
        "n_files": len(manifest.files),
        "n_values": len(values),
        "loaded_at": loaded_at,
        "supersedes": manifest.supersedes,
    }
    with warehouse.open_warehouse(warehouse_path) as con:
        warehouse.replace_edition(con, edition_row, values, prepared.declared_revisions,
                                  declared_exceptions=prepared.declared_exceptions,
                                  file_checksums=prepared.checksums, supersede=supersede)
    provinces = values.loc[values["province_code"] != "00", "province_code"].nunique()
    return IngestSummary(
        edition=manifest.edition,
        n_files=len(manifest.files),
        n_values=len(values),
        n_national_values=int((values["province_code"] == "00").sum()),
        n_non_catalog_values=int((~values["in_catalog"].astype(bool)).sum()),
        files_sha256=prepared.fingerprint,
        skipped_unchanged=False,
        provinces=int(provinces),
        years=(int(values["year"].min()), int(values["year"].max())) if len(values) else None,
    )
