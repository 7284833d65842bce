"""Editions are immutable: which files of an ingested edition changed since it was stored.

A new download is a new edition. A changed file in an edition already in the warehouse stops
the build (and the UI's sensor skips it) with the files named, unless the user accepts the
change (`provpanel build --accept-changes`): then the edition is re-read and its old values
are kept in raw.superseded_extract_values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from provpanel import warehouse
from provpanel.raw_schema import EDITION_FILES


@dataclass(frozen=True)
class EditionChanges:
    edition: str
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def files(self) -> str:
        """`changed: a.csv; added: b.csv`: the files named, one kind after the other."""
        parts = [f"{label}: {', '.join(names)}"
                 for label, names in (("changed", self.changed), ("added", self.added), ("removed", self.removed))
                 if names]
        # an edition stored before file checksums were recorded may only know that it differs
        return "; ".join(parts) or "its files' checksums differ from the stored ones"


def changed_edition_message(changes: list[EditionChanges]) -> str:
    """What the build, the ingest run and the sensor say about changed editions, and what to do."""
    lines = [f"edition {c.edition} changed since it was ingested ({c.files()})" for c in changes]
    names = ", ".join(c.edition for c in changes)
    lines.append(f"editions are immutable (a new download is a new edition): put the new files in a new "
                 f"edition folder and restore {names} as ingested, or run `provpanel build --accept-changes` "
                 "to re-read it, keeping its old values as a superseded vintage (raw.superseded_extract_values)")
    return "; ".join(lines)


def _stored_checksums(con: duckdb.DuckDBPyConnection, edition: str, manifest_sha256: str) -> dict[str, str]:
    """The stored edition's file checksums; editions stored before raw.edition_files existed
    know their data files' (raw.extract_values) and the manifest's."""
    rows = con.execute(f"SELECT file, file_sha256 FROM {EDITION_FILES.name} WHERE edition = ?",
                       [edition]).fetchall() if warehouse.table_exists(con, "raw", "edition_files") else []
    if rows:
        return dict(rows)
    rows = con.execute("SELECT DISTINCT file, file_sha256 FROM raw.extract_values WHERE edition = ?",
                       [edition]).fetchall()
    return {**dict(rows), "manifest.yml": manifest_sha256}


def changes_since_ingest(con: duckdb.DuckDBPyConnection, edition: str, fingerprint: str,
                         checksums: dict[str, str]) -> EditionChanges | None:
    """None when the edition is not stored, or stored with these very files; else what changed.
    `fingerprint`, `checksums`: provpanel.ingest.edition_fingerprint of the folder as it is."""
    if not warehouse.table_exists(con, "raw", "editions"):
        return None
    row = con.execute("SELECT files_sha256, manifest_sha256 FROM raw.editions WHERE edition = ?",
                      [edition]).fetchone()
    if row is None or row[0] == fingerprint:
        return None
    stored = _stored_checksums(con, edition, row[1])
    return EditionChanges(
        edition,
        changed=tuple(sorted(f for f in stored.keys() & checksums.keys() if stored[f] != checksums[f])),
        added=tuple(sorted(checksums.keys() - stored.keys())),
        removed=tuple(sorted(stored.keys() - checksums.keys())),
    )


def changed_editions(warehouse_path: Path, editions_root: Path, editions: list[str], *,
                     wait_seconds: float = 120.0) -> list[EditionChanges]:
    """The editions among `editions` whose folder differs from what the warehouse stores."""
    from provpanel.ingest import edition_fingerprint

    if not Path(warehouse_path).exists():
        return []
    found = []
    with warehouse.open_warehouse(warehouse_path, read_only=True, wait_seconds=wait_seconds) as con:
        for edition in editions:
            changes = changes_since_ingest(con, edition, *edition_fingerprint(Path(editions_root) / edition))
            if changes is not None:
                found.append(changes)
    return found
