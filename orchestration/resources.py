"""Resources shared by the asset domains: where the warehouse and editions are, and dbt."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster import ConfigurableResource

from provpanel.config import get_paths


class ProvpanelPaths(ConfigurableResource):
    """The configured locations (PROVPANEL_HOME, PROVPANEL_EDITIONS) as seen by a run."""

    home: str
    editions: str

    @property
    def warehouse(self) -> Path:
        return Path(self.home) / "warehouse.duckdb"

    @property
    def outputs(self) -> Path:
        return Path(self.home) / "outputs"

    def edition_dir(self, edition: str) -> Path:
        return Path(self.editions) / edition


def default_paths_resource() -> ProvpanelPaths:
    paths = get_paths()
    return ProvpanelPaths(home=str(paths.home), editions=str(paths.editions))


def dbt_executable() -> str:
    """dbt from the same environment as this Python, not whatever `dbt` is first on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"
