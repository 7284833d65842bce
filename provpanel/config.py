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
DBT_PROFILE = DBT_PROJECT_DIR / "profiles.yml"


@lru_cache(maxsize=1)
def duckdb_memory_limit() -> str:
    """DuckDB's memory limit, as dbt's profile sets it for the build: the one place it is
    written, so a DuckDB connection of our own (the indicator checks) spills at the same size."""
    import yaml  # dbt's own dependency; only this reader needs it

    profile = yaml.safe_load(DBT_PROFILE.read_text(encoding="utf-8"))
    try:
        return str(profile["provpanel"]["outputs"]["dev"]["settings"]["memory_limit"])
    except (KeyError, TypeError) as missing:
        raise ValueError(f"{DBT_PROFILE}: provpanel.outputs.dev.settings.memory_limit expected "
                         f"(DuckDB's memory limit), missing {missing}") from None


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


def kept_by_provpanel(path: str | os.PathLike, paths: Paths | None = None) -> str | None:
    """What provpanel keeps at `path`, or None when it keeps nothing there: the one answer to
    "may a command write the user's file here?" (provpanel.user_files). Everything under
    PROVPANEL_HOME is provpanel's (the working warehouse, published/ and its versions,
    Dagster's storage, dbt's files, the outputs), and so is the editions folder (downloads are
    immutable once ingested). The path is judged as written and as it resolves through
    symbolic links (a link to the warehouse is the warehouse); a link loop resolves nowhere
    and is judged as written."""
    paths = paths or get_paths()
    written = Path(os.path.abspath(os.fspath(path)))
    try:
        resolved = Path(os.path.realpath(written))
    except (OSError, RuntimeError):
        resolved = written
    home, editions = paths.home, paths.editions
    for candidate in (written, resolved):
        if candidate.is_relative_to(home):
            inside = candidate.relative_to(home).parts
            first = inside[0] if inside else ""
            if first.startswith(paths.warehouse.name):  # the database and its .wal
                return "the working warehouse"
            return {"published": "the published snapshot and its versions",
                    paths.dagster_home.name: "Dagster's storage",
                    "dbt": "dbt's project and artefacts",
                    paths.outputs.name: "the build's outputs"}.get(first, "provpanel's files")
        if candidate.is_relative_to(editions):
            return "the editions (downloads and their manifests)"
    return None


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
