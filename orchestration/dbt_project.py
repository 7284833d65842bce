"""The dbt project as Dagster sees it; its manifest comes from orchestration.dbt_manifest."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.dbt_manifest import ensure_manifest_at
from provpanel.config import DBT_PROJECT_DIR, get_paths


def ensure_manifest(project: DbtProject) -> Path:
    return ensure_manifest_at(project.target_path, project.project_dir, project.profiles_dir)


def provpanel_dbt_project() -> DbtProject:
    paths = get_paths()
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=paths.dbt_target,
        profiles_dir=DBT_PROJECT_DIR,
    )
