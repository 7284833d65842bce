"""The dbt manifest, built explicitly with `dbt parse` when the project or the vars changed.

`DbtProject.prepare_if_dev()` only acts under `dagster dev`, so the manifest is built here,
and only when the dbt project's files or the build's vars changed since the last parse (a
fingerprint is stored beside the manifest), because a parse costs 6-10 s. No dagster_dbt
import here: `provpanel build` starts this parse in a thread while the editions are ingested.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from orchestration.resources import dbt_executable
from provpanel.config import DBT_PROJECT_DIR, dbt_vars, get_paths
from provpanel.folder_checksums import folder_fingerprint

_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}
_SKIPPED_PARTS = {"target", "logs", "dbt_packages"}


def ensure_manifest_at(target_path: Path, project_dir: Path = DBT_PROJECT_DIR,
                       profiles_dir: Path = DBT_PROJECT_DIR, panel_settings: dict | None = None) -> Path:
    """<target_path>/manifest.json, parsed anew when the project or the build's vars changed.
    panel_settings: the panel settings the build will use (None: the environment's)."""
    from provpanel.settings import PANEL, resolve_settings

    manifest_path = Path(target_path) / "manifest.json"
    fingerprint_file = manifest_path.with_name("provpanel_fingerprint.txt")
    # parse with the vars the build will use, so the build's partial parse reuses this one
    panel_settings = resolve_settings().stage(PANEL) if panel_settings is None else panel_settings
    build_vars = json.dumps(dbt_vars(panel_settings, get_paths()), sort_keys=True)
    # the vars are part of it: a geography folder changes which seed the units come from
    fingerprint = folder_fingerprint(project_dir, suffixes=_PROJECT_FILE_SUFFIXES, skipped_parts=_SKIPPED_PARTS) + ":" + build_vars
    if manifest_path.exists() and fingerprint_file.exists() and fingerprint_file.read_text() == fingerprint:
        return manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(Path(target_path).parent / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # parse does not open the warehouse, but the profile must resolve
        "PROVPANEL_WAREHOUSE": os.environ.get("PROVPANEL_WAREHOUSE", str(get_paths().warehouse)),
    }
    completed = subprocess.run(
        [dbt_executable(), "parse", "--profiles-dir", str(profiles_dir), "--quiet", "--vars", build_vars],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed in {project_dir}:\n{completed.stdout}\n{completed.stderr}")
    fingerprint_file.write_text(fingerprint)
    return manifest_path
