"""Where dbt runs for a home: $PROVPANEL_HOME/dbt/project, a folder of links to the
repository's dbt project, so the profile names the warehouse by the same relative path
(../../warehouse.duckdb) in every home.

dbt keys its partial parse on the profile (connection_info(), the warehouse path among it):
with an absolute path, every new home, and every copy of one, parsed the whole project again
(6-10 s of CPU). With one path for all homes, a parse made once per content of the project
(orchestration.dbt_manifest) serves every home whose build has the same vars. dbt runs with
the home's project folder as its working directory (dagster-dbt starts it in the resource's
project_dir; dbt 1.11 does not change directory itself), and DuckDB opens a relative path
from there: the home's warehouse.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from provpanel.config import DBT_PROJECT_DIR, Paths

# what dbt makes inside a project folder: not the project, so not linked
_NOT_LINKED = {"target", "logs", "dbt_packages", ".user.yml"}


def warehouse_from_project(paths: Paths) -> str:
    """The warehouse as the home's dbt project folder sees it."""
    return Path(os.path.relpath(paths.warehouse, paths.dbt_project)).as_posix()


# the profile's path in every home (Paths fixes both places under the home)
PROFILE_WAREHOUSE = warehouse_from_project(Paths(home=Path("/home"), editions=Path("/editions")))


def home_dbt_project(paths: Paths, source: Path = DBT_PROJECT_DIR) -> Path:
    """The home's dbt project folder, its links made or mended to point at `source`'s entries
    (a moved checkout, a project entry added or removed since the last build)."""
    project = paths.dbt_project
    project.mkdir(parents=True, exist_ok=True)
    wanted = {entry.name: entry for entry in source.iterdir() if entry.name not in _NOT_LINKED}
    for entry in project.iterdir():
        if entry.name in _NOT_LINKED:
            continue
        # missing_ok / ignore_errors: a UI run and a build mending the same home at once
        if entry.is_symlink():
            if not (entry.name in wanted and os.readlink(entry) == str(wanted[entry.name])):
                entry.unlink(missing_ok=True)  # into a moved checkout, or an entry the project lost
        elif entry.is_dir():  # a home copied by a tool that follows links: a stale copy of the project
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    for name, target in wanted.items():
        link = project / name
        if not link.is_symlink():
            # made aside and renamed in: a build in another process never sees half a folder
            scratch = project / f".{name}.{os.getpid()}.link"
            scratch.unlink(missing_ok=True)
            scratch.symlink_to(target, target_is_directory=target.is_dir())
            os.replace(scratch, link)
    return project
