"""The dbt manifest, made once per content of the dbt project (not per home or per build).

The dbt graph does not depend on vars (every model exists whatever the settings and the
geography folder; they change what a model reads, at run time), so one manifest serves every
home and every build: dbt_project/target/manifest.json, made by `dbt parse` on the first load
after a clone or after any file of the project changed (a digest of its files is kept beside
the manifest). `DbtProject.prepare_if_dev()` only acts under `dagster dev`, and would parse on
every load there; this parses only when the project changed, in the UI and in `provpanel build`.

The parse uses the default vars, which the build passes when no setting is changed: its
partial-parse file then lets a fresh home's `dbt build` skip dbt's own full parse
(`seed_partial_parse`); with other vars dbt sees the difference and parses anew, as it must.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from provpanel.config import DBT_PROJECT_DIR

MANIFEST_TARGET = DBT_PROJECT_DIR / "target"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
_PROJECT_DIGEST_FILE = "provpanel_project_sha256.txt"
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}


def _project_digest(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        if path.is_file() and path.suffix in _PROJECT_FILE_SUFFIXES and not (
            {"target", "logs", "dbt_packages"} & set(path.relative_to(project_dir).parts)
        ):
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _default_vars() -> dict:
    from provpanel.config import dbt_vars
    from provpanel.settings import PANEL, default_values

    return dbt_vars(default_values(PANEL))  # the units of the provinces seed


def prepared_manifest(project_dir: Path = DBT_PROJECT_DIR, target: Path = MANIFEST_TARGET) -> Path:
    """<target>/manifest.json, parsed anew only when a file of the dbt project changed."""
    manifest_path = Path(target) / "manifest.json"
    digest_path = manifest_path.with_name(_PROJECT_DIGEST_FILE)
    digest = _project_digest(project_dir)
    if manifest_path.exists() and digest_path.exists() and digest_path.read_text() == digest:
        return manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    # parsed aside, then moved in: two builds starting at once never read half a manifest
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=manifest_path.parent) as scratch:
        scratch_target = Path(scratch) / "target"
        env = {
            **os.environ,
            "DBT_TARGET_PATH": str(scratch_target),
            "DBT_LOG_PATH": str(Path(scratch) / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # parse does not open the warehouse, but the profile must resolve
            "PROVPANEL_WAREHOUSE": str(Path(scratch) / "parse.duckdb"),
        }
        completed = subprocess.run(
            [_dbt_executable(), "parse", "--profiles-dir", str(project_dir), "--quiet",
             "--vars", json.dumps(_default_vars(), sort_keys=True)],
            cwd=project_dir, env=env, capture_output=True, text=True, check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {project_dir}:\n{completed.stdout}\n{completed.stderr}")
        os.replace(scratch_target / PARTIAL_PARSE_FILE, manifest_path.with_name(PARTIAL_PARSE_FILE))
        os.replace(scratch_target / "manifest.json", manifest_path)
    digest_path.write_text(digest)
    return manifest_path


def seed_partial_parse(run_target: Path, target: Path = MANIFEST_TARGET) -> None:
    """Give a home's dbt target folder without a partial-parse file the project's, so its
    first `dbt build` does not parse the whole project again (dbt re-parses whatever differs)."""
    source = Path(target) / PARTIAL_PARSE_FILE
    destination = Path(run_target) / PARTIAL_PARSE_FILE
    if source.exists() and not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
        shutil.copyfile(source, partial)
        os.replace(partial, destination)


def _dbt_executable() -> str:
    from orchestration.resources import dbt_executable

    return dbt_executable()
