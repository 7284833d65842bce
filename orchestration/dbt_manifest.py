"""The dbt manifest, made once per content of the dbt project (not per home or per build).

The dbt graph does not depend on vars (every model exists whatever the settings and the
geography folder; they change what a model reads, at run time), so one manifest serves every
home and every build: dbt_project/target/manifest.json, made by `dbt parse` on the first load
after a clone or after any file of the project changed (a digest of its files is kept beside
the manifest). `DbtProject.prepare_if_dev()` only acts under `dagster dev`, and would parse on
every load there; this parses only when the project changed, in the UI and in `provpanel build`.

The same parse, made with the warehouse path every home's profile gives
(orchestration.dbt_home_project), is kept as the reference partial parse: a home's `dbt build`
with the vars it was made for (the settings' defaults, the provinces) starts from a copy of it
and parses nothing (`seed_partial_parse`). A build with other vars has `provpanel build` run
dbt's parse for its home in the background while the editions are ingested
(`start_partial_parse`); dbt keys partial parsing on the vars too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from orchestration.dbt_home_project import PROFILE_WAREHOUSE, home_dbt_project
from provpanel.atomic_files import atomic_write
from provpanel.config import DBT_PROJECT_DIR, Paths
from provpanel.folder_checksums import folder_fingerprint

MANIFEST_TARGET = DBT_PROJECT_DIR / "target"
_PROJECT_DIGEST_FILE = "provpanel_project_sha256.txt"
_PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's name, in a target folder
_REFERENCE_PARSE = "partial_parse_reference.msgpack"
_REFERENCE_KEY = "partial_parse_reference.json"  # what it was made for: project digest and vars
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}
_SKIPPED_PARTS = {"target", "logs", "dbt_packages"}


def _project_digest(project_dir: Path) -> str:
    return folder_fingerprint(project_dir, suffixes=_PROJECT_FILE_SUFFIXES, skipped_parts=_SKIPPED_PARTS)


def _default_vars() -> dict:
    from provpanel.config import dbt_vars
    from provpanel.settings import PANEL, default_values

    return dbt_vars(default_values(PANEL))  # the units of the provinces seed


def prepared_manifest(project_dir: Path = DBT_PROJECT_DIR, target: Path = MANIFEST_TARGET) -> Path:
    """<target>/manifest.json, parsed anew only when a file of the dbt project changed; beside
    it the reference partial parse for homes' builds with the default vars."""
    manifest_path = Path(target) / "manifest.json"
    digest_path = manifest_path.with_name(_PROJECT_DIGEST_FILE)
    digest = _project_digest(project_dir)
    if (manifest_path.exists() and digest_path.exists() and digest_path.read_text() == digest
            and _reference_key(target) is not None):
        return manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    vars_ = _default_vars()
    # parsed aside, then moved in: two builds starting at once never read half a manifest
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=manifest_path.parent) as scratch:
        scratch_target = Path(scratch) / "target"
        # parse does not open the warehouse; the profile names it as in every home's project
        argv, env = _parse_command(project_dir, scratch_target, vars_)
        completed = subprocess.run(argv, cwd=project_dir, env=env, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {project_dir}:\n{completed.stdout}\n{completed.stderr}")
        os.replace(scratch_target / _PARTIAL_PARSE, Path(target) / _REFERENCE_PARSE)
        atomic_write(Path(target) / _REFERENCE_KEY, json.dumps({"project": digest, "vars": _as_json(vars_)}))
        os.replace(scratch_target / "manifest.json", manifest_path)
    digest_path.write_text(digest)
    return manifest_path


def reference_parse_serves(dbt_vars: dict, project_dir: Path = DBT_PROJECT_DIR,
                           target: Path = MANIFEST_TARGET) -> bool:
    """Whether the reference partial parse was made for the project as it is and these vars."""
    return _reference_key(target) == {"project": _project_digest(project_dir), "vars": _as_json(dbt_vars)}


def seed_partial_parse(run_target: Path, dbt_vars: dict, project_dir: Path = DBT_PROJECT_DIR,
                       target: Path = MANIFEST_TARGET) -> bool:
    """Put the reference partial parse in a home's dbt target when it serves these vars: that
    home's `dbt build` then parses nothing. Otherwise leave the target as it is (dbt parses)."""
    if not reference_parse_serves(dbt_vars, project_dir, target):
        return False
    run_target = Path(run_target)
    run_target.mkdir(parents=True, exist_ok=True)
    scratch = run_target / f".{_PARTIAL_PARSE}.{os.getpid()}"
    shutil.copyfile(Path(target) / _REFERENCE_PARSE, scratch)
    os.replace(scratch, run_target / _PARTIAL_PARSE)
    return True


def start_partial_parse(paths: Paths, dbt_vars: dict) -> subprocess.Popen | None:
    """`dbt parse` for a home's build whose vars the reference parse does not serve: into its
    dbt target, in its project folder, started and not awaited, so that build then reuses it.
    None when the reference serves (the build's dbt asset copies it in). A failure is the
    build's to report (dbt says the same again), so the output is dropped."""
    prepared_manifest()  # the reference, made now if the project changed since it was
    if reference_parse_serves(dbt_vars):
        return None
    project = home_dbt_project(paths)
    argv, env = _parse_command(project, paths.dbt_target, dbt_vars)
    paths.dbt_target.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(argv, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _parse_command(project_dir: Path, target: Path, dbt_vars: dict) -> tuple[list[str], dict]:
    env = {
        **os.environ,
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target.parent / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PROVPANEL_WAREHOUSE": PROFILE_WAREHOUSE,  # the profile's path: part of what dbt's partial parse is keyed on
    }
    argv = [_dbt_executable(), "parse", "--profiles-dir", str(project_dir), "--quiet",
            "--vars", json.dumps(dbt_vars, sort_keys=True)]
    return argv, env


def _reference_key(target: Path) -> dict | None:
    try:
        key = json.loads((Path(target) / _REFERENCE_KEY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return key if (Path(target) / _REFERENCE_PARSE).exists() else None


def _as_json(value: dict) -> dict:
    return json.loads(json.dumps(value, sort_keys=True))




def _dbt_executable() -> str:
    from orchestration.resources import dbt_executable

    return dbt_executable()
