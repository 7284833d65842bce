"""Resources shared by the asset domains: where the warehouse and editions are, and dbt."""

from __future__ import annotations

import dataclasses
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource
from packaging import version

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


class ProvpanelDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, told the dbt version rather than asking: it runs `dbt --version`
    (a second dbt start-up, 2 s) before every dbt command, and our dbt is this environment's."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if self.dbt_executable == str(Path(sys.executable).with_name("dbt")):
            return version.parse(installed_version("dbt-core"))
        return super()._cli_version  # some other dbt: ask it
