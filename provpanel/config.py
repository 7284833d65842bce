"""Where things live: every path comes from an environment variable with a default.

PROVPANEL_HOME      warehouse, Dagster storage, dbt artefacts and outputs (default: <repo>/.provpanel)
PROVPANEL_EDITIONS  the editions folder (default: the bundled synthetic sample, <repo>/data/editions)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
SAMPLE_EDITIONS_DIR = REPO_ROOT / "data" / "editions"


@dataclass(frozen=True)
class Paths:
    home: Path
    editions: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def outputs(self) -> Path:
        return self.home / "outputs"

    @property
    def dbt_target(self) -> Path:
        return self.home / "dbt" / "target"

    @property
    def dbt_log(self) -> Path:
        return self.home / "dbt" / "logs"


def get_paths() -> Paths:
    home = Path(os.environ.get("PROVPANEL_HOME") or REPO_ROOT / ".provpanel").expanduser().resolve()
    editions = Path(os.environ.get("PROVPANEL_EDITIONS") or SAMPLE_EDITIONS_DIR).expanduser().resolve()
    return Paths(home=home, editions=editions)
