"""Resources shared by the asset domains: where the warehouse and editions are, and dbt."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from dagster import ConfigurableResource

from provpanel.config import Paths, get_paths


class ProvpanelPaths(ConfigurableResource):
    """The configured locations. Empty fields mean: PROVPANEL_HOME / PROVPANEL_EDITIONS as
    they are when the run executes (so one loaded code location serves any home)."""

    home: str = ""
    editions: str = ""

    @property
    def home_dir(self) -> Path:
        return Path(self.home) if self.home else get_paths().home

    @property
    def editions_dir(self) -> Path:
        return Path(self.editions) if self.editions else get_paths().editions

    @property
    def warehouse(self) -> Path:
        return self.home_dir / "warehouse.duckdb"

    @property
    def outputs(self) -> Path:
        return self.home_dir / "outputs"

    def edition_dir(self, edition: str) -> Path:
        return self.editions_dir / edition

    def as_paths(self) -> Paths:
        """These locations as provpanel.config.Paths (what the provpanel modules take)."""
        return dataclasses.replace(get_paths(), home=self.home_dir, editions=self.editions_dir)


def dbt_executable() -> str:
    """dbt from the same environment as this Python, not whatever `dbt` is first on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"
