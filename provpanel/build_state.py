"""Whether a build has anything to do: a fingerprint of every input of the last good build.

The inputs are the edition folders (checksums of every file), the geography folder if one is
set, the dbt project, the validation thresholds, the code of the pipeline and the value of every
setting (provpanel.settings: panel and analysis). When the fingerprint equals the one recorded
by the last successful build and its published snapshot is the one that build published (not
replaced since by a run launched from the UI), `provpanel build` does no work at all.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from provpanel.atomic_files import atomic_write
from provpanel.config import REPO_ROOT, Paths
from provpanel.folder_checksums import combined_checksum, folder_checksums, sha256_of
from provpanel.settings import ResolvedSettings, resolve_settings

_CODE_FOLDERS = ("provpanel", "orchestration", "analysis", "expectations", "dbt_project")
_CODE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".csv"}
_SKIPPED_PARTS = {"target", "logs", "dbt_packages", "__pycache__"}


def _code_digest() -> str:
    checksums = {
        f"{folder}/{name}": checksum
        for folder in _CODE_FOLDERS
        for name, checksum in folder_checksums(REPO_ROOT / folder, suffixes=_CODE_SUFFIXES,
                                               skipped_parts=_SKIPPED_PARTS).items()
    }
    checksums["dagster.yaml"] = sha256_of(REPO_ROOT / "dagster.yaml")
    return combined_checksum(checksums)


def build_fingerprint(paths: Paths, settings: ResolvedSettings | None = None, folders: list | None = None) -> str:
    """settings: the build's (None: the environment's, else the defaults); folders: the edition
    folders as provpanel.edition_plan.read_edition_folders read them (None: read them here)."""
    from provpanel.edition_plan import raise_first_error, read_edition_folders

    if folders is None:
        folders = read_edition_folders(paths.editions)
        raise_first_error(folders)
    editions = {folder.edition: folder.fingerprint for folder in folders}
    settings = resolve_settings() if settings is None else settings
    payload = {"editions": editions, "settings": settings.values, "code": _code_digest()}
    if paths.custom_geography:
        payload["geography"] = {
            path.name: sha256_of(path)
            for path in sorted(paths.geography.glob("*.csv"))
        }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _state_file(paths: Paths) -> Path:
    return paths.home / "last_build.json"


def last_build(paths: Paths) -> dict | None:
    try:
        return json.loads(_state_file(paths).read_text())
    except (OSError, ValueError):
        return None


def published_stamp(paths: Paths) -> int | None:
    """The published snapshot's modification time (ns): a run from the UI that publishes
    changes it, so the next build knows the snapshot is no longer its own."""
    from provpanel.publish import published_path

    try:
        return published_path(paths.home).stat().st_mtime_ns
    except OSError:
        return None


def unchanged_since_last_build(paths: Paths, fingerprint: str) -> dict | None:
    """The last good build's record if it had this fingerprint and the published snapshot is
    still the one it published; else None (there is work to do)."""
    previous = last_build(paths)
    if (previous and previous.get("fingerprint") == fingerprint and published_stamp(paths) is not None
            and previous.get("published_stamp") == published_stamp(paths)):
        return previous
    return None


def record_build(paths: Paths, fingerprint: str) -> None:
    state = {"fingerprint": fingerprint, "finished_at": datetime.now().isoformat(timespec="seconds"),
             "published_stamp": published_stamp(paths)}
    atomic_write(_state_file(paths), json.dumps(state))


def forget_last_build(paths: Paths) -> None:
    """The warehouse changed behind the recorded fingerprint (an edition removed): the next
    build must run even if no folder changed."""
    _state_file(paths).unlink(missing_ok=True)
