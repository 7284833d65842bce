"""dbt runs in each home's project folder of links, where the profile names the warehouse by one
relative path, so the parse made once for the project serves every home's build (that the parse
serves a new home whole: tests/test_definitions.py, the manifest test; that the sample build took
it: tests/test_pipeline_end_to_end.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.dbt_home_project import PROFILE_WAREHOUSE, home_dbt_project
from provpanel.config import Paths


def test_every_home_reaches_its_own_warehouse_by_the_one_relative_path(tmp_path):
    assert not Path(PROFILE_WAREHOUSE).is_absolute()
    for home in (tmp_path / "a", tmp_path / "deeper" / "b c", tmp_path / "省"):
        paths = Paths(home=home, editions=tmp_path / "editions")
        home_dbt_project(paths)
        assert (paths.dbt_project / PROFILE_WAREHOUSE).resolve() == paths.warehouse.resolve()


def test_the_home_project_links_follow_the_repository_project(tmp_path):
    source = tmp_path / "checkout" / "dbt_project"
    (source / "models").mkdir(parents=True)
    (source / "target").mkdir()  # dbt's output: never linked
    (source / "dbt_project.yml").write_text("name: p\n")
    paths = Paths(home=tmp_path / "home", editions=tmp_path / "editions")

    project = home_dbt_project(paths, source)
    assert sorted(entry.name for entry in project.iterdir()) == ["dbt_project.yml", "models"]
    assert (project / "dbt_project.yml").read_text() == "name: p\n"

    # the checkout moved, a folder was added and one removed: the links follow
    moved = tmp_path / "moved" / "dbt_project"
    shutil.move(source, moved)
    shutil.rmtree(moved / "models")
    (moved / "seeds").mkdir()
    (moved / "seeds" / "provinces.csv").write_text("code\n11\n")
    home_dbt_project(paths, moved)
    assert sorted(entry.name for entry in project.iterdir()) == ["dbt_project.yml", "seeds"]
    assert all(os.readlink(entry) == str(moved / entry.name) for entry in project.iterdir())
    assert (project / "seeds" / "provinces.csv").read_text() == "code\n11\n"

    # the home copied by a tool that follows links (cp -r, copytree): copies become links again
    copied = Paths(home=tmp_path / "copied home", editions=tmp_path / "editions")
    shutil.copytree(paths.home, copied.home)
    assert not (copied.dbt_project / "seeds").is_symlink()
    home_dbt_project(copied, moved)
    assert all(os.readlink(entry) == str(moved / entry.name) for entry in copied.dbt_project.iterdir())
    assert sorted(entry.name for entry in copied.dbt_project.iterdir()) == ["dbt_project.yml", "seeds"]
    assert (moved / "seeds" / "provinces.csv").exists()  # the project itself is untouched
