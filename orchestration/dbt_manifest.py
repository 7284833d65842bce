"""The dbt manifest, made once per content of the dbt project (not per home or per build).

The dbt graph does not depend on vars (every model exists whatever the settings and the
geography folder; they change what a model reads, at run time), so one manifest serves every
home and every build: dbt_project/target/manifest.json, made by `dbt parse` on the first load
after a clone or after any file of the project changed (a digest of its files is kept beside
the manifest). `DbtProject.prepare_if_dev()` only acts under `dagster dev`, and would parse on
every load there; this parses only when the project changed, in the UI and in `provpanel build`.

dbt's own partial parse, which its `dbt build` reuses, belongs to a home (dbt keys it on the
profile, whose warehouse path is the home's, and on the vars): `provpanel build` starts it in
the background (`start_partial_parse`) while the editions are ingested.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from provpanel.config import DBT_PROJECT_DIR
from provpanel.folder_checksums import folder_fingerprint

MANIFEST_TARGET = DBT_PROJECT_DIR / "target"
_PROJECT_DIGEST_FILE = "provpanel_project_sha256.txt"
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}
_SKIPPED_PARTS = {"target", "logs", "dbt_packages"}


def _project_digest(project_dir: Path) -> str:
    return folder_fingerprint(project_dir, suffixes=_PROJECT_FILE_SUFFIXES, skipped_parts=_SKIPPED_PARTS)


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
        # parse does not open the warehouse, but the profile must resolve
        argv, env = _parse_command(project_dir, scratch_target, Path(scratch) / "parse.duckdb", _default_vars())
        completed = subprocess.run(argv, cwd=project_dir, env=env, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {project_dir}:\n{completed.stdout}\n{completed.stderr}")
        os.replace(scratch_target / "manifest.json", manifest_path)
    digest_path.write_text(digest)
    return manifest_path


def start_partial_parse(run_target: Path, warehouse: Path, dbt_vars: dict) -> subprocess.Popen:
    """`dbt parse` into a home's dbt target folder with the vars and the warehouse its
    `dbt build` will have, started and not awaited: that build then reuses the parse. A
    failure is the build's to report (dbt says the same again), so the output is dropped."""
    argv, env = _parse_command(DBT_PROJECT_DIR, Path(run_target), Path(warehouse), dbt_vars)
    Path(run_target).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(argv, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _parse_command(project_dir: Path, target: Path, warehouse: Path, dbt_vars: dict) -> tuple[list[str], dict]:
    env = {
        **os.environ,
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target.parent / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PROVPANEL_WAREHOUSE": str(warehouse),  # the profile's path: part of what dbt's partial parse is keyed on
    }
    argv = [_dbt_executable(), "parse", "--profiles-dir", str(project_dir), "--quiet",
            "--vars", json.dumps(dbt_vars, sort_keys=True)]
    return argv, env


def _dbt_executable() -> str:
    from orchestration.resources import dbt_executable

    return dbt_executable()
