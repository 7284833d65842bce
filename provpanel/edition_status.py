"""Every edition, stored or on disk (`provpanel editions`), and what each build must say about them.

An edition is stored (raw.editions of the working warehouse) and/or present (a folder with a
manifest.yml under PROVPANEL_EDITIONS). Stored without its folder: its values stay in the panel
until `provpanel remove`. A folder without manifest.yml, or one an unfinished fetch left, is no
edition and is never read: said, not skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from provpanel import warehouse
from provpanel.config import Paths
from provpanel.editions import FETCH_MARKER, MANIFEST_NAME, list_editions, unfinished_editions

COLUMNS = ("edition", "status", "stored", "loaded_at", "n_values", "folder", "changes")


@dataclass(frozen=True)
class EditionStatus:
    edition: str
    status: str  # stored | changed since ingest | not ingested | folder gone | no manifest.yml | fetch unfinished
    stored: bool
    loaded_at: datetime | None
    n_values: int | None
    folder: str  # the folder's path, or '' when gone
    changes: str  # the files changed / added / removed since ingest, or why the folder is unreadable

    def row(self) -> tuple:
        return (self.edition, self.status, "yes" if self.stored else "no",
                self.loaded_at.isoformat(sep=" ", timespec="seconds") if self.loaded_at else "",
                "" if self.n_values is None else self.n_values, self.folder, self.changes)


def folders_without_manifest(editions_root: Path) -> list[str]:
    """Folders under the editions root that are no edition: no manifest.yml (and no unfinished fetch)."""
    root = Path(editions_root)
    if not root.is_dir():
        return []
    return sorted(child.name for child in root.iterdir()
                  if child.is_dir() and not child.name.startswith(".")
                  and not (child / MANIFEST_NAME).is_file() and not (child / FETCH_MARKER).exists())


def stored_editions(warehouse_path: Path) -> dict[str, tuple[datetime, int]]:
    """edition -> (loaded_at, n_values) of raw.editions in the working warehouse (none if no warehouse yet)."""
    if not Path(warehouse_path).exists():
        return {}
    with warehouse.open_warehouse(warehouse_path, read_only=True, wait_seconds=10) as con:
        if not warehouse.table_exists(con, "raw", "editions"):
            return {}
        rows = con.execute("SELECT edition, loaded_at, n_values FROM raw.editions ORDER BY edition").fetchall()
    return {edition: (loaded_at, n_values) for edition, loaded_at, n_values in rows}


def edition_statuses(paths: Paths) -> list[EditionStatus]:
    """Every edition stored or present, and every folder that is not (yet) one, sorted by name."""
    from provpanel.edition_changes import changed_editions
    from provpanel.errors import ExtractError

    stored = stored_editions(paths.warehouse)
    present = list_editions(paths.editions)
    statuses = []
    for edition in present:
        folder = str(paths.editions / edition)
        loaded_at, n_values = stored.get(edition, (None, None))
        try:
            changes = changed_editions(paths.warehouse, paths.editions, [edition])
        except (ExtractError, OSError) as err:  # e.g. a link out of the editions folder
            statuses.append(EditionStatus(edition, "unreadable", edition in stored, loaded_at, n_values,
                                          folder, str(err)))
            continue
        if changes:
            status, detail = "changed since ingest", changes[0].files()
        else:
            status, detail = ("stored" if edition in stored else "not ingested"), ""
        statuses.append(EditionStatus(edition, status, edition in stored, loaded_at, n_values, folder, detail))
    others = [(name, "no manifest.yml") for name in folders_without_manifest(paths.editions)]
    others += [(name, "fetch unfinished") for name in unfinished_editions(paths.editions)]
    for name, status in others:
        loaded_at, n_values = stored.get(name, (None, None))
        statuses.append(EditionStatus(name, status, name in stored, loaded_at, n_values,
                                      str(paths.editions / name), ""))
    for edition in stored.keys() - set(present) - {name for name, _ in others}:
        loaded_at, n_values = stored[edition]
        statuses.append(EditionStatus(edition, "folder gone", True, loaded_at, n_values, "", ""))
    return sorted(statuses, key=lambda status: status.edition)


def build_notices(paths: Paths) -> list[str]:
    """One line for each stored edition whose folder is gone and each folder without manifest.yml."""
    notices = [f"skipped {paths.editions / name}: no {MANIFEST_NAME}, so it is not an edition and none of its "
               f"files are read (add a manifest, docs/editions.md, or move the folder out)"
               for name in folders_without_manifest(paths.editions)]
    present = set(list_editions(paths.editions))
    try:
        stored = stored_editions(paths.warehouse)
    except warehouse.WarehouseLockedError:  # a run from the UI holds it: it says so itself
        stored = {}
    for edition, (loaded_at, n_values) in sorted(stored.items()):
        if edition not in present:
            notices.append(f"edition {edition} is stored ({n_values} values, loaded {loaded_at:%Y-%m-%d %H:%M} UTC) "
                           f"but its folder {paths.editions / edition} is gone (or has no {MANIFEST_NAME}): its "
                           f"values stay in the panel until `provpanel remove {edition}`")
    return notices
