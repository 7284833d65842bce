"""dbt runs in each home's project folder of links, where the profile names the warehouse by one
relative path, so the parse made once for the project serves every home's build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def test_the_reference_parse_serves_a_new_home_whose_build_has_its_vars(tmp_path):
    """The parse made beside the manifest is taken whole by dbt in any home's project folder
    (dbt logs that nothing changed); other vars or another content of the project are not served."""
    from orchestration.dbt_manifest import (
        prepared_manifest,
        reference_parse_serves,
        seed_partial_parse,
    )
    from orchestration.resources import dbt_executable
    from provpanel.config import DBT_PROJECT_DIR, dbt_vars
    from provpanel.settings import PANEL, default_values

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    target = tmp_path / "target"
    prepared_manifest(project, target)
    defaults = dbt_vars(default_values(PANEL))
    other_years = {**defaults, "panel_start_year": defaults["panel_start_year"] + 1}
    assert reference_parse_serves(defaults, project, target)
    assert not reference_parse_serves(other_years, project, target)
    assert not reference_parse_serves(dbt_vars(default_values(PANEL), Path("/some/units")), project, target)

    paths = Paths(home=tmp_path / "new home", editions=tmp_path / "editions")
    assert not seed_partial_parse(paths.dbt_target, other_years, project, target)
    assert not paths.dbt_target.exists()
    assert seed_partial_parse(paths.dbt_target, defaults, project, target)
    home_project = home_dbt_project(paths, project)
    parsed = subprocess.run(
        [dbt_executable(), "parse", "--profiles-dir", str(home_project),
         "--vars", json.dumps(defaults, sort_keys=True)],
        cwd=home_project, capture_output=True, text=True, check=False,
        env={**os.environ, "DBT_TARGET_PATH": str(paths.dbt_target), "DBT_LOG_PATH": str(paths.dbt_log),
             "PROVPANEL_WAREHOUSE": PROFILE_WAREHOUSE, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    log = (paths.dbt_log / "dbt.log").read_text(encoding="utf-8")  # dbt's debug log
    assert "Nothing changed, skipping partial parsing." in log
    assert "Unable to do partial parsing" not in log

    model = project / "models" / "staging" / "stg_geography__panel_units.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    assert not reference_parse_serves(defaults, project, target)  # until the project is parsed again
    prepared_manifest(project, target)
    assert reference_parse_serves(defaults, project, target)
