"""Point Dagster at $PROVPANEL_HOME/dagster before anything imports a Dagster instance."""

from __future__ import annotations

import os
import shutil

from provpanel.config import REPO_ROOT, Paths


def prepare_dagster_home(paths: Paths) -> None:
    """Copy the repository's dagster.yaml into the home and set DAGSTER_HOME (and the dbt env).
    The dbt profile's warehouse is set by the dbt asset: the same relative path in every home
    (orchestration.dbt_home_project)."""
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "dagster.yaml"
    target = paths.dagster_home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    os.environ["PROVPANEL_HOME"] = str(paths.home)
    os.environ["PROVPANEL_EDITIONS"] = str(paths.editions)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
