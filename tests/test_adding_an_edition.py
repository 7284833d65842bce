"""Adding an edition, as the data engineer does it: drop the folder, let the sensor see it.

Starts from the sample without its last edition, builds, adds the last edition's folder,
evaluates the discovery sensor and the run-status sensor directly, runs what they request,
and checks the new partition, the panel, the revisions, the regressions and the diff report;
then changes a file of a stored edition, which the sensor names and does not re-read (one
sequence, so the ingest and panel runs of the first edition are done once).
"""

from __future__ import annotations

import shutil

import duckdb
import pytest
from dagster import (
    DagsterRunStatus,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
    instance_for_test,
)

from provpanel.config import SAMPLE_EDITIONS_DIR

pytestmark = pytest.mark.slow  # ingest and panel runs of the sample editions

FIRST, LAST = "csy2021", "csy2022"


def _query(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    editions = tmp_path / "editions"
    editions.mkdir()
    shutil.copytree(SAMPLE_EDITIONS_DIR / FIRST, editions / FIRST)
    home = tmp_path / "home"
    monkeypatch.setenv("PROVPANEL_HOME", str(home))
    monkeypatch.setenv("PROVPANEL_EDITIONS", str(editions))
    return editions, home


def _tick(defs, instance):
    """One sensor tick; applies its partition requests as the daemon would. Returns
    (run requests, skip message)."""
    sensor = defs.get_sensor_def("editions_folder_sensor")
    result = sensor(build_sensor_context(instance=instance, definitions=defs))
    if isinstance(result, SkipReason):
        return [], result.skip_message
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result.run_requests, None


def _ingest_and_follow(defs, instance, run_request):
    """Run the requested ingest, then whatever the run-status sensor asks for after it."""
    ingest = defs.resolve_job_def("ingest_edition").execute_in_process(
        instance=instance, partition_key=run_request.partition_key, tags=run_request.tags, raise_on_error=False
    )
    assert ingest.success
    run = instance.get_run_by_id(ingest.run_id)
    assert run.status == DagsterRunStatus.SUCCESS
    follow_sensor = defs.get_sensor_def("panel_after_ingest_sensor")
    success_event = next(e for e in instance.all_logs(run.run_id) if e.dagster_event
                         and e.dagster_event.event_type_value == "PIPELINE_SUCCESS")
    context = build_run_status_sensor_context(
        sensor_name="panel_after_ingest_sensor", dagster_instance=instance, dagster_run=run,
        dagster_event=success_event.dagster_event, repository_def=defs.get_repository_def(),
    )
    follow = follow_sensor(context)
    panel = defs.resolve_job_def("build_panel").execute_in_process(
        instance=instance, tags=follow.tags, raise_on_error=False
    )
    assert panel.success
    return panel


def test_new_edition_is_discovered_ingested_and_reported(workspace):
    editions, home = workspace
    warehouse = home / "warehouse.duckdb"
    from orchestration.definitions import defs

    with instance_for_test() as instance:
        first, _ = _tick(defs, instance)
        assert [r.partition_key for r in first] == [FIRST]
        _ingest_and_follow(defs, instance, first[0])
        panel_before = _query(warehouse, "select province_code, year, gdp, tu from marts.province_year_panel order by 1, 2")
        # the panel ends where the data do: csy2021 holds 2001-2020, and 2021 is not carried
        assert len(panel_before) == 600 and max(row[1] for row in panel_before) == 2020
        assert not _tick(defs, instance)[0]  # nothing new: nothing requested

        # the data engineer drops the new edition's folder in
        shutil.copytree(SAMPLE_EDITIONS_DIR / LAST, editions / LAST)
        second, _ = _tick(defs, instance)
        assert [r.partition_key for r in second] == [LAST]
        assert LAST in instance.get_dynamic_partitions("editions")
        panel_run = _ingest_and_follow(defs, instance, second[0])

        assert _query(warehouse, "select edition from raw.editions order by edition") == [(FIRST,), (LAST,)]
        panel_after = _query(warehouse, "select province_code, year, gdp, tu from marts.province_year_panel order by 1, 2")
        assert len(panel_after) == 630 and panel_after != panel_before
        # 2021 now comes from the new edition
        assert _query(warehouse, """select count(*) from intermediate.int_indicators_resolved_to_edition
                                    where year = 2021 and edition = 'csy2022'""")[0][0] > 0
        revisions = _query(warehouse, "select count(*), count(distinct edition) from marts.indicator_revisions")
        assert revisions[0][0] > 0 and revisions[0][1] == 2
        history = _query(warehouse, "select count(distinct run_id) from analysis.estimate_history")
        assert history == [(2,)]  # the regressions ran again

        diff_events = [e for e in panel_run.get_asset_materialization_events()
                       if e.asset_key.path == ["reports", "edition_diff"]]
        metadata = diff_events[0].materialization.metadata
        assert metadata["edition"].value == LAST
        assert metadata["cells_revised"].value > 0 and metadata["cells_added"].value > 0
        report = metadata["report"].value
        assert "Cells revised" in report and "Key estimates before and after" in report

        # adding the same edition again changes nothing
        third, skipped = _tick(defs, instance)
        assert not third
        assert "stored as it is" in skipped
        published = home / "published" / "provpanel.duckdb"
        assert _query(published, "select count(*) from marts.province_year_panel") == [(630,)]

        # Editions are immutable: the sensor skips a stored edition whose file changed, naming the
        # file and what to do, as `provpanel build` does (tests/test_editions_lifecycle.py). A
        # corrected download replaces a file of the edition: same name, other bytes.
        target = next(p for p in sorted((editions / FIRST).iterdir()) if p.name.startswith("AnnualbyProvince"))
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace("\n", "\r\n"), encoding="utf-8")
        changed, skipped = _tick(defs, instance)
        assert not changed
        assert f"edition {FIRST} changed since it was ingested (changed: {target.name})" in skipped
        assert "--accept-changes" in skipped
