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
