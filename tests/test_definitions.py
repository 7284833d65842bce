"""The Dagster code location loads and holds every layer of the flow."""

from __future__ import annotations

from dagster import AssetKey


def test_definitions_load_with_every_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVPANEL_HOME", str(tmp_path))
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    keys = set(repo.asset_graph.get_all_asset_keys())
    assert AssetKey(["raw", "extract_values"]) in keys
    assert AssetKey(["raw", "editions"]) in keys
    assert AssetKey(["marts", "province_year_panel"]) in keys
    assert AssetKey(["analysis", "estimates"]) in keys
    assert AssetKey(["reports", "indicator_coverage"]) in keys
    assert AssetKey(["marts", "variable_availability"]) in keys
    assert any(k.path[0] == "staging" for k in keys)
    assert any(k.path[0] == "intermediate" for k in keys)
    check_keys = {(c.asset_key, c.name) for c in repo.asset_graph.asset_check_keys}
    assert (AssetKey(["marts", "province_year_panel"]), "panel_suite") in check_keys
    assert defs.resolve_job_def("ingest_edition").partitions_def is not None
    assert defs.resolve_job_def("build_panel") is not None


def test_the_code_location_loads_as_the_ui_loads_it():
    # the UI validates the whole repository (op and job names unique); resolve_job_def does not
    from orchestration.definitions import defs

    jobs = {job.name for job in defs.get_repository_def().get_all_jobs()}
    assert {"build_panel", "fetch_portal_edition"} <= jobs


def _graph(manifest_path):
    import json

    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    return {key: sorted(node.get("depends_on", {}).get("nodes", [])) for key, node in nodes.items()}


def test_the_manifest_is_made_once_per_project_content_and_the_graph_ignores_vars(tmp_path):
    """One manifest serves every home and every setting: it is parsed again only when a file of
    the dbt project changes, and a geography folder (var geography_dir) does not change the graph."""
    import json
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from orchestration.dbt_manifest import prepared_manifest
    from orchestration.resources import dbt_executable
    from provpanel.config import DBT_PROJECT_DIR, dbt_vars
    from provpanel.settings import PANEL, default_values

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    target = tmp_path / "target"
    manifest = prepared_manifest(project, target)
    made = manifest.stat().st_mtime_ns
    assert prepared_manifest(project, target).stat().st_mtime_ns == made  # unchanged project: no parse

    model = project / "models" / "staging" / "stg_geography__panel_units.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    assert "-- edited" in prepared_manifest(project, target).read_text(encoding="utf-8")  # the edit is picked up

    with_geography = tmp_path / "geography-target"
    geography_vars = dbt_vars(default_values(PANEL), Path("/some/units"))
    subprocess.run([dbt_executable(), "parse", "--profiles-dir", str(project), "--quiet",
                    "--vars", json.dumps(geography_vars)], cwd=project, check=True,
                   env={**os.environ, "DBT_TARGET_PATH": str(with_geography), "DBT_LOG_PATH": str(tmp_path / "logs"),
                        "PROVPANEL_WAREHOUSE": str(tmp_path / "parse.duckdb")})
    assert _graph(with_geography / "manifest.json") == _graph(manifest)
    assert _graph(manifest)["model.provpanel.stg_geography__panel_units"] == ["seed.provpanel.provinces"]
