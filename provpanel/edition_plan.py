"""What to do with each edition folder: the one plan `provpanel build` and the UI's sensor follow.

Given the editions folder (the checksums of every file) and the warehouse (what is stored),
each edition is one of:
  - new: not stored yet → ingest it;
  - unchanged: stored with these very files → keep it (an ingest run confirms, reads nothing);
  - changed: stored with other files → refused (editions are immutable) unless the changes
    are accepted (`provpanel build --accept-changes`): then re-read, old values superseded;
  - refused: refused before reading (a link out of the folder) → its ingest run says why;
  - unreadable: a file could not be read (a folder being copied in) → look again later.
Which editions still need a Dagster partition is the plan's too (`to_register`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from provpanel.edition_changes import EditionChanges, changes_since_ingest

NEW, UNCHANGED, CHANGED, REFUSED, UNREADABLE = "new", "unchanged", "changed", "refused", "unreadable"


@dataclass(frozen=True)
class EditionFolder:
    """An edition folder as it is on disk: its fingerprint and file checksums
    (provpanel.ingest.edition_fingerprint), or the error that kept them from being computed."""

    edition: str
    fingerprint: str | None
    checksums: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None

    @property
    def state(self) -> str:
        """The fingerprint, or a text that changes with the error (a sensor's run key)."""
        from provpanel.errors import ExtractError

        if isinstance(self.error, ExtractError):
            return "refused-" + hashlib.sha256(str(self.error).encode()).hexdigest()[:16]
        if self.error is not None:
            return f"unreadable: {self.error}"
        return self.fingerprint


def read_edition_folders(editions_root: Path) -> list[EditionFolder]:
    """Every edition folder under the root (provpanel.editions.list_editions), with its
    checksums; a folder that cannot be read or is refused carries its error instead."""
    from provpanel.editions import list_editions
    from provpanel.errors import ExtractError
    from provpanel.ingest import edition_fingerprint

    folders = []
    for edition in list_editions(editions_root):
        try:
            fingerprint, checksums = edition_fingerprint(Path(editions_root) / edition)
        except (OSError, ExtractError) as err:
            folders.append(EditionFolder(edition, None, error=err))
        else:
            folders.append(EditionFolder(edition, fingerprint, checksums))
    return folders


def raise_first_error(folders: Iterable[EditionFolder]) -> None:
    """Where a folder must be readable (a build): its error, as reading it would raise."""
    for folder in folders:
        if folder.error is not None:
            raise folder.error


@dataclass(frozen=True)
class PlannedEdition:
    folder: EditionFolder
    status: str  # NEW, UNCHANGED, CHANGED, REFUSED or UNREADABLE
    stored: bool  # the warehouse holds this edition
    changes: EditionChanges | None = None  # CHANGED: the files that differ from the stored ones

    @property
    def edition(self) -> str:
        return self.folder.edition


@dataclass(frozen=True)
class EditionPlan:
    editions: list[PlannedEdition]

    def to_register(self, partitions: Iterable[str]) -> list[str]:
        """The editions that are not yet among `partitions` (the Dagster instance's)."""
        known = set(partitions)
        return [planned.edition for planned in self.editions if planned.edition not in known]

    def with_status(self, *statuses: str) -> list[PlannedEdition]:
        return [planned for planned in self.editions if planned.status in statuses]

    @property
    def changed(self) -> list[EditionChanges]:
        return [planned.changes for planned in self.with_status(CHANGED)]

    def to_ingest(self) -> list[PlannedEdition]:
        """What asks for an ingest run on its own: new editions, and refused ones not stored (their
        run fails, saying why). Changed editions need the user's acceptance; unreadable ones a later look."""
        return [planned for planned in self.editions
                if planned.status == NEW or (planned.status == REFUSED and not planned.stored)]


def _stored_fingerprints(con) -> dict[str, str]:
    from provpanel.warehouse import table_exists

    if not table_exists(con, "raw", "editions"):
        return {}
    return dict(con.execute("SELECT edition, files_sha256 FROM raw.editions").fetchall())


def plan_editions(folders: list[EditionFolder], warehouse_path: Path, *, wait_seconds: float = 120.0) -> EditionPlan:
    """The plan for these folders (read_edition_folders) against what the warehouse stores.
    Raises provpanel.warehouse.WarehouseLockedError when a writer holds the warehouse longer
    than wait_seconds."""
    from provpanel.warehouse import open_warehouse

    stored: dict[str, str] = {}
    changes: dict[str, EditionChanges] = {}
    if Path(warehouse_path).exists():
        with open_warehouse(warehouse_path, read_only=True, wait_seconds=wait_seconds) as con:
            stored = _stored_fingerprints(con)
            for folder in folders:
                if folder.error is None and folder.edition in stored and stored[folder.edition] != folder.fingerprint:
                    changes[folder.edition] = changes_since_ingest(con, folder.edition, folder.fingerprint,
                                                                   folder.checksums)
    planned = []
    for folder in folders:
        if folder.error is not None:
            status = UNREADABLE if isinstance(folder.error, OSError) else REFUSED
        elif folder.edition not in stored:
            status = NEW
        else:
            status = CHANGED if folder.edition in changes else UNCHANGED
        planned.append(PlannedEdition(folder, status, folder.edition in stored, changes.get(folder.edition)))
    return EditionPlan(planned)
