"""Ingest one edition folder into the raw tables: read every file, then replace atomically.

Reading happens entirely before the warehouse is opened, so a bad file fails the edition
with its ExtractError and leaves every stored value as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from provpanel import warehouse
from provpanel.editions import file_checksums, load_manifest, read_edition


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


def edition_fingerprint(edition_dir: Path) -> tuple[str, dict[str, str]]:
    """One checksum over the checksums of every file of the edition, manifest included."""
    checksums = file_checksums(edition_dir)
    digest = hashlib.sha256()
    for name in sorted(checksums):
        digest.update(f"{name}\0{checksums[name]}\n".encode())
    return digest.hexdigest(), checksums


def ingest_edition(edition_dir: Path, warehouse_path: Path, *, force: bool = False) -> IngestSummary:
    edition_dir = Path(edition_dir)
    manifest = load_manifest(edition_dir)
    fingerprint, checksums = edition_fingerprint(edition_dir)
    if not force and warehouse_path.exists():
        with warehouse.open_warehouse(warehouse_path) as con:
            stored = warehouse.stored_edition_fingerprint(con, manifest.edition)
            if stored == fingerprint:
                counts = con.execute(
                    """SELECT count(*), count(*) FILTER (province_code = '00'),
                              count(*) FILTER (NOT in_catalog),
                              count(DISTINCT province_code) FILTER (province_code <> '00'),
                              min(year), max(year)
                       FROM raw.extract_values WHERE edition = ?""",
                    [manifest.edition],
                ).fetchone()
                return IngestSummary(
                    manifest.edition, len(manifest.files), counts[0], counts[1], counts[2],
                    fingerprint, True, counts[3], (counts[4], counts[5]) if counts[4] else None,
                )
    values = read_edition(edition_dir)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    values = values.assign(loaded_at=loaded_at)
    edition_row = {
        "edition": manifest.edition,
        "title": manifest.title,
        "published": manifest.published,
        "source": manifest.source,
        "notes": manifest.notes,
        "manifest_sha256": checksums.get("manifest.yml", ""),
        "files_sha256": fingerprint,
        "n_files": len(manifest.files),
        "n_values": len(values),
        "loaded_at": loaded_at,
    }
    with warehouse.open_warehouse(warehouse_path) as con:
        warehouse.replace_edition(con, edition_row, values)
    provinces = values.loc[values["province_code"] != "00", "province_code"].nunique()
    return IngestSummary(
        edition=manifest.edition,
        n_files=len(manifest.files),
        n_values=len(values),
        n_national_values=int((values["province_code"] == "00").sum()),
        n_non_catalog_values=int((~values["in_catalog"].astype(bool)).sum()),
        files_sha256=fingerprint,
        skipped_unchanged=False,
        provinces=int(provinces),
        years=(int(values["year"].min()), int(values["year"].max())) if len(values) else None,
    )
