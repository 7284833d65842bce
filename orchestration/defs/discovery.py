"""Discovery: a sensor watches the editions folder and asks for what a new or changed edition needs.

- a new folder with a manifest.yml becomes a new partition and an ingest run for it (a folder
  `provpanel fetch` has not finished is skipped, and named in the skip reason);
- a changed file (checksum) in a known edition re-runs that edition's ingest;
- when an ingest run succeeds, the panel job (dbt, checks, analysis, publication) follows.
A folder that fails to parse fails its ingest run with the error; nothing downstream runs.
"""

from dagster import (
    AddDynamicPartitionsRequest,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)

from orchestration.partitions import editions_partitions


def _fingerprints(editions_root) -> dict[str, str]:
    from provpanel.editions import list_editions
    from provpanel.ingest import edition_fingerprint

    result = {}
    for edition in list_editions(editions_root):
        try:
            result[edition] = edition_fingerprint(editions_root / edition)[0]
        except OSError as err:  # a folder being copied in: look again next tick
            result[edition] = f"unreadable: {err}"
    return result


def _stored_fingerprints(warehouse_path) -> dict[str, str]:
    from provpanel.warehouse import open_warehouse

    if not warehouse_path.exists():
        return {}
    with open_warehouse(warehouse_path, read_only=True, wait_seconds=0) as con:
        has_table = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'editions'"
        ).fetchone()[0]
        if not has_table:
            return {}
        return dict(con.execute("SELECT edition, files_sha256 FROM raw.editions").fetchall())


def build_discovery_sensor(ingest_job, default_status=DefaultSensorStatus.RUNNING):
    @sensor(
        name="editions_folder_sensor",
        job=ingest_job,
        minimum_interval_seconds=30,
        default_status=default_status,
        description="Watches PROVPANEL_EDITIONS: a new edition folder becomes a partition and an "
        "ingest run; a changed file re-ingests its edition.",
    )
    def editions_folder_sensor(context: SensorEvaluationContext):
        from provpanel.config import get_paths
        from provpanel.warehouse import WarehouseLockedError

        paths = get_paths()
        current = _fingerprints(paths.editions)
        try:
            stored = _stored_fingerprints(paths.warehouse)
        except WarehouseLockedError:
            return SkipReason("the warehouse is busy (a build holds it); looking again next tick")
        known_partitions = set(context.instance.get_dynamic_partitions(editions_partitions.name))
        new_partitions = sorted(e for e in current if e not in known_partitions)
        # The warehouse, not the sensor's memory, says what is stored: an edition whose files
        # differ from what was stored is (re-)ingested. run_key makes each version run once.
        run_requests = [
            RunRequest(
                run_key=f"{edition}:{fingerprint}",
                partition_key=edition,
                tags={"provpanel/edition": edition,
                      "provpanel/reason": "changed" if edition in stored else "new"},
            )
            for edition, fingerprint in sorted(current.items())
            if stored.get(edition) != fingerprint and not fingerprint.startswith("unreadable")
        ]
        if not run_requests and not new_partitions:
            from provpanel.editions import unfinished_editions

            unfinished = unfinished_editions(paths.editions)
            return SkipReason(f"every edition in {paths.editions} is stored as it is on disk"
                              + (f"; skipped, fetch not finished: {', '.join(unfinished)}" if unfinished else ""))
        return SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=[
                AddDynamicPartitionsRequest(editions_partitions.name, new_partitions)
            ] if new_partitions else [],
        )

    return editions_folder_sensor


def build_panel_after_ingest_sensor(ingest_job, panel_job, default_status=DefaultSensorStatus.RUNNING):
    @run_status_sensor(
        name="panel_after_ingest_sensor",
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[ingest_job],
        request_job=panel_job,
        default_status=default_status,
        description="After an edition is ingested, rebuild the panel, checks, analysis and snapshot.",
    )
    def panel_after_ingest(context):
        edition = context.dagster_run.tags.get("dagster/partition", "")
        return RunRequest(run_key=f"panel-after-{context.dagster_run.run_id}",
                          tags={"provpanel/after_ingest_of": edition})

    return panel_after_ingest
