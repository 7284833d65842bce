"""The Dagster code location loads and holds every layer of the flow."""

from __future__ import annotations

from collections import Counter

from dagster import AssetKey

# dagster-webserver 1.13 draws the expanded (fitted) graph's nodes small and cuts their names
# to 18 characters (withMiddleTruncation(name, {maxLength: 18}) in its asset node).
GRAPH_NAME_LIMIT = 18


def test_definitions_load_with_every_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVPANEL_HOME", str(tmp_path))
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    keys = set(repo.asset_graph.get_all_asset_keys())
    assert AssetKey(["raw", "extract_values"]) in keys
    assert AssetKey(["raw", "editions"]) in keys
    assert AssetKey(["marts", "province_panel"]) in keys
    assert AssetKey(["analysis", "estimates"]) in keys
    assert AssetKey(["reports", "coverage"]) in keys
    assert AssetKey(["marts", "availability"]) in keys
    assert any(k.path[0] == "staging" for k in keys)
    assert any(k.path[0] == "intermediate" for k in keys)
    check_keys = {(c.asset_key, c.name) for c in repo.asset_graph.asset_check_keys}
    assert (AssetKey(["marts", "province_panel"]), "panel_suite") in check_keys
    # the ingest runs per edition on the raw assets; build_panel runs everything after them
    ingest = defs.resolve_job_def("ingest_edition")
    assert ingest.partitions_def.name == "editions"
    raw = set(ingest.asset_layer.selected_asset_keys)
    assert {AssetKey(["raw", "extract_values"]), AssetKey(["raw", "editions"])} <= raw
    assert {key.path[0] for key in raw} == {"raw"}
    assert set(defs.resolve_job_def("build_panel").asset_layer.selected_asset_keys) == keys - raw


def test_the_code_location_loads_as_the_ui_loads_it():
    # the UI validates the whole repository (op and job names unique); resolve_job_def does not
    from orchestration.definitions import defs

    jobs = {job.name for job in defs.get_repository_def().get_all_jobs()}
    assert {"build_panel", "fetch_portal_edition"} <= jobs


def test_every_asset_name_is_shown_whole_and_once_in_the_expanded_graph():
    from orchestration.definitions import defs

    names = Counter(key.path[-1] for key in defs.resolve_asset_graph().get_all_asset_keys())
    too_long = sorted(name for name in names if len(name) > GRAPH_NAME_LIMIT)
    assert not too_long, f"cut in the expanded graph (over {GRAPH_NAME_LIMIT} characters): {too_long}"
    twice = sorted(name for name, count in names.items() if count > 1)
    assert not twice, f"two graph nodes with the same name: {twice}"


def test_a_dbt_asset_keeps_its_schema_and_names_its_table():
    from orchestration.definitions import defs
    from orchestration.defs.transform import PANEL_ASSET, dbt_model_key

    graph = defs.resolve_asset_graph()
    tables = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        table = node.metadata.get("dagster/table_name")
        if table is None:
            continue
        _, schema, name = str(getattr(table, "value", table)).split(".")
        tables[name] = key
        assert key.path[0] == schema, (key, table)  # the graph's groups and prefixes stay the schemas
        if key.path[-1] != name:  # a shortened name: the node's description names the table
            assert node.description.startswith(f"Table {schema}.{name}. "), (key, node.description[:80])
    assert len(tables) >= 30, sorted(tables)
    # Python code refers to dbt assets by their table's name
    assert PANEL_ASSET == tables["province_year_panel"] == dbt_model_key("province_year_panel")
    assert tables["int_foreign_market_access_computed"] == AssetKey(["intermediate", "market_access"])


def _graph(manifest_path):
    import json

    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    return {key: sorted(node.get("depends_on", {}).get("nodes", [])) for key, node in nodes.items()}


def test_the_manifest_is_made_once_per_project_content_and_the_graph_ignores_vars(tmp_path):
    """One manifest serves every home and every setting: it is parsed again only when a file of
    the dbt project changes, and a geography folder (var geography_dir) does not change the graph.
    The parse made with it serves any new home's build with the default vars whole (dbt says
    nothing changed), and no build with other vars or after the project changed."""
    import json
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from orchestration.dbt_home_project import PROFILE_WAREHOUSE, home_dbt_project
    from orchestration.dbt_manifest import (
        prepared_manifest,
        reference_parse_serves,
        seed_partial_parse,
    )
    from orchestration.resources import dbt_executable
    from provpanel.config import DBT_PROJECT_DIR, Paths, dbt_vars
    from provpanel.settings import PANEL, default_values

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    target = tmp_path / "target"
    manifest = prepared_manifest(project, target)
    made = manifest.stat().st_mtime_ns
    assert prepared_manifest(project, target).stat().st_mtime_ns == made  # unchanged project: no parse

    defaults = dbt_vars(default_values(PANEL))
    other_years = {**defaults, "panel_start_year": defaults["panel_start_year"] + 1}
    geography_vars = dbt_vars(default_values(PANEL), Path("/some/units"))
    assert reference_parse_serves(defaults, project, target)
    assert not reference_parse_serves(other_years, project, target)
    assert not reference_parse_serves(geography_vars, project, target)
    home = Paths(home=tmp_path / "new home", editions=tmp_path / "editions")
    assert not seed_partial_parse(home.dbt_target, other_years, project, target)
    assert not home.dbt_target.exists()  # left to dbt
    assert seed_partial_parse(home.dbt_target, defaults, project, target)
    home_project = home_dbt_project(home, project)
    parsed = subprocess.run(
        [dbt_executable(), "parse", "--profiles-dir", str(home_project), "--vars", json.dumps(defaults, sort_keys=True)],
        cwd=home_project, capture_output=True, text=True, check=False,
        env={**os.environ, "DBT_TARGET_PATH": str(home.dbt_target), "DBT_LOG_PATH": str(home.dbt_log),
             "PROVPANEL_WAREHOUSE": PROFILE_WAREHOUSE, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    log = (home.dbt_log / "dbt.log").read_text(encoding="utf-8")  # dbt's debug log
    assert "Nothing changed, skipping partial parsing." in log and "Unable to do partial parsing" not in log

    model = project / "models" / "staging" / "stg_geography__panel_units.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    assert not reference_parse_serves(defaults, project, target)  # until the project is parsed again
    assert "-- edited" in prepared_manifest(project, target).read_text(encoding="utf-8")  # the edit is picked up
    assert reference_parse_serves(defaults, project, target)

    with_geography = tmp_path / "geography-target"
    subprocess.run([dbt_executable(), "parse", "--profiles-dir", str(project), "--quiet",
                    "--vars", json.dumps(geography_vars)], cwd=project, check=True,
                   env={**os.environ, "DBT_TARGET_PATH": str(with_geography), "DBT_LOG_PATH": str(tmp_path / "logs"),
                        "PROVPANEL_WAREHOUSE": str(tmp_path / "parse.duckdb")})
    assert _graph(with_geography / "manifest.json") == _graph(manifest)
    assert _graph(manifest)["model.provpanel.stg_geography__panel_units"] == ["seed.provpanel.provinces"]
