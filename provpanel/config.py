"""Where things live: every path comes from an environment variable with a default.

PROVPANEL_HOME      warehouse, Dagster storage, dbt artefacts and outputs (default: <repo>/.provpanel)
PROVPANEL_EDITIONS  the editions folder (default: the bundled synthetic sample, <repo>/data/editions)
PROVPANEL_GEOGRAPHY the panel's units: a folder with provinces.csv and province_aliases.csv in the
                    columns of the seeds of those names (default: the seeds, the 31 provinces);
                    the scale benchmark points it at generated prefectures or counties
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
SAMPLE_EDITIONS_DIR = REPO_ROOT / "data" / "editions"


@dataclass(frozen=True)
class Paths:
    home: Path
    editions: Path
    geography: Path = SEEDS_DIR

    @property
    def custom_geography(self) -> bool:
        """Whether the units come from a geography folder rather than the provinces seed."""
        return self.geography != SEEDS_DIR.resolve()

    @property
    def units_folder(self) -> Path | None:
        """The geography folder the units come from; None when they come from the provinces seed."""
        return self.geography if self.custom_geography else None

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

    @property
    def dbt_project(self) -> Path:
        """Where dbt runs for this home: links to the repository's dbt project
        (orchestration.dbt_home_project)."""
        return self.home / "dbt" / "project"


def get_paths() -> Paths:
    home = Path(os.environ.get("PROVPANEL_HOME") or REPO_ROOT / ".provpanel").expanduser().resolve()
    editions = Path(os.environ.get("PROVPANEL_EDITIONS") or SAMPLE_EDITIONS_DIR).expanduser().resolve()
    return Paths(home=home, editions=editions, geography=geography_dir())


def geography_dir() -> Path:
    """The folder of the panel's units: PROVPANEL_GEOGRAPHY, else the seeds (the provinces)."""
    return _resolved(os.environ.get("PROVPANEL_GEOGRAPHY") or str(SEEDS_DIR))


@lru_cache(maxsize=16)
def _resolved(path: str) -> Path:
    # readers ask once per cell: resolving a path each time would dominate a large ingest
    return Path(path).expanduser().resolve()


def dbt_vars(settings: dict, geography: Path | None = None) -> dict:
    """dbt --vars from the panel settings (years become integers unless 'latest') and, when the
    units come from a geography folder (Paths.units_folder), its path (var geography_dir).
    dbt_project.yml holds no default of a setting: every dbt run is given all of them."""
    out: dict = dict(settings)
    if geography is not None:
        out["geography_dir"] = geography.as_posix()
    for key in ("panel_start_year", "panel_end_year"):
        value = str(out[key])
        out[key] = value if value == "latest" else int(value)
    return out


if __name__ == "__main__":
    # the vars of a plain `dbt build` with the settings' defaults (see dbt_project.yml)
    import json

    from provpanel.settings import PANEL, default_values

    print(json.dumps(dbt_vars(default_values(PANEL)), sort_keys=True))
