"""Resources shared by the asset domains: where the warehouse and editions are, and dbt."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from dagster import ConfigurableResource

from provpanel.config import Paths, get_paths


class ProvpanelPaths(ConfigurableResource):
    """The configured locations. Empty fields mean: PROVPANEL_HOME / PROVPANEL_EDITIONS as
    they are when the run executes (so one loaded code location serves any home). What lies
    where under them is provpanel.config.Paths's, the one definition."""

    home: str = ""
    editions: str = ""

    def as_paths(self) -> Paths:
        """These locations as provpanel.config.Paths (what the provpanel modules take)."""
        paths = get_paths()
        return dataclasses.replace(paths, home=Path(self.home) if self.home else paths.home,
                                   editions=Path(self.editions) if self.editions else paths.editions)

    home_dir = property(lambda self: self.as_paths().home)
    editions_dir = property(lambda self: self.as_paths().editions)
    warehouse = property(lambda self: self.as_paths().warehouse)
    outputs = property(lambda self: self.as_paths().outputs)

    def edition_dir(self, edition: str) -> Path:
        return self.editions_dir / edition


def dbt_executable() -> str:
    """dbt from the same environment as this Python, not whatever `dbt` is first on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"
