"""The dbt project as Dagster sees it; its manifest comes from orchestration.dbt_manifest."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.dbt_manifest import MANIFEST_TARGET
from provpanel.config import DBT_PROJECT_DIR


def provpanel_dbt_project() -> DbtProject:
    # the manifest's folder, one for every home; each run writes to its home's (transform.py)
    return DbtProject(project_dir=DBT_PROJECT_DIR, target_path=MANIFEST_TARGET, profiles_dir=DBT_PROJECT_DIR)
