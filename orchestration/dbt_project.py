"""The dbt project as Dagster sees it, and the explicit manifest step.

`DbtProject.prepare_if_dev()` only acts under `dagster dev`, so the manifest is built here,
explicitly, with `dbt parse` — and only when the dbt project's files changed since the last
parse (a fingerprint is stored beside the manifest), because a parse costs ~10 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.resources import dbt_executable
from provpanel.config import DBT_PROJECT_DIR, dbt_vars, get_paths, panel_settings

_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}


def _project_fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        if path.is_file() and path.suffix in _PROJECT_FILE_SUFFIXES and not (
            {"target", "logs", "dbt_packages"} & set(path.relative_to(project_dir).parts)
        ):
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_manifest(project: DbtProject) -> Path:
    fingerprint_file = project.manifest_path.with_name("provpanel_fingerprint.txt")
    fingerprint = _project_fingerprint(project.project_dir)
    if (project.manifest_path.exists() and fingerprint_file.exists()
            and fingerprint_file.read_text() == fingerprint):
        return project.manifest_path
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DBT_TARGET_PATH": str(project.target_path),
        "DBT_LOG_PATH": str(project.target_path.parent / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # parse does not open the warehouse, but the profile must resolve
        "PROVPANEL_WAREHOUSE": os.environ.get("PROVPANEL_WAREHOUSE", str(get_paths().warehouse)),
    }
    # parse with the vars the build will use, so the build's partial parse reuses this one
    build_vars = json.dumps(dbt_vars(panel_settings()))
    completed = subprocess.run(
        [dbt_executable(), "parse", "--profiles-dir", str(project.profiles_dir), "--quiet", "--vars", build_vars],
        cwd=project.project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"dbt parse failed in {project.project_dir}:\n{completed.stdout}\n{completed.stderr}"
        )
    fingerprint_file.write_text(fingerprint)
    return project.manifest_path


def provpanel_dbt_project() -> DbtProject:
    paths = get_paths()
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=paths.dbt_target,
        profiles_dir=DBT_PROJECT_DIR,
    )
