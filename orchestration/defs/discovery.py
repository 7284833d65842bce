"""Discovery: a sensor watches the editions folder and asks for what a new or changed edition needs.

- a new folder with a manifest.yml becomes a new partition and an ingest run for it (a folder
  `provpanel fetch` has not finished is skipped, and named in the skip reason);
- a changed file (checksum) in an edition already stored is NOT re-ingested: editions are
  immutable; the skip reason names the files and what to do (a new edition, or
  `provpanel build --accept-changes`), as the CLI build does;
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
    import hashlib

    from provpanel.editions import list_editions
    from provpanel.errors import ExtractError
    from provpanel.ingest import edition_fingerprint

    result = {}
    for edition in list_editions(editions_root):
        try:
            result[edition] = edition_fingerprint(editions_root / edition)[0]
        except OSError as err:  # a folder being copied in: look again next tick
            result[edition] = f"unreadable: {err}"
        except ExtractError as err:  # refused before reading (a link out of the folder): its run says why
            result[edition] = "refused-" + hashlib.sha256(str(err).encode()).hexdigest()[:16]
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


def _changed_reason(paths, changed: list[str]) -> str:
    """Why the changed editions are not re-ingested, their files named (as `provpanel build` says it)."""
    if not changed:
        return ""
    from provpanel.edition_changes import changed_edition_message, changed_editions
    from provpanel.warehouse import WarehouseLockedError

    try:
        changes = changed_editions(paths.warehouse, paths.editions, changed, wait_seconds=0)
    except (OSError, WarehouseLockedError):
        return f"edition(s) {', '.join(changed)} changed since they were ingested; editions are immutable"
    return changed_edition_message(changes)


def build_discovery_sensor(ingest_job, default_status=DefaultSensorStatus.RUNNING):
    @sensor(
        name="editions_folder_sensor",
        job=ingest_job,
        minimum_interval_seconds=30,
        default_status=default_status,
        description="Watches PROVPANEL_EDITIONS: a new edition folder becomes a partition and an "
        "ingest run; a stored edition whose files changed is skipped with the files named (editions are immutable).",
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
        # The warehouse, not the sensor's memory, says what is stored: a new edition is ingested,
        # a stored one whose files differ is not (immutable). run_key makes each version run once.
        changed = sorted(e for e, fingerprint in current.items()
                         if e in stored and stored[e] != fingerprint and not fingerprint.startswith(("unreadable", "refused")))
        changed_reason = _changed_reason(paths, changed)
        if changed_reason:
            context.log.warning(changed_reason)
        run_requests = [
            RunRequest(
                run_key=f"{edition}:{fingerprint}",
                partition_key=edition,
                tags={"provpanel/edition": edition,
                      "provpanel/reason": "new"},
            )
            for edition, fingerprint in sorted(current.items())
            if edition not in stored and not fingerprint.startswith("unreadable")
        ]
        if not run_requests and not new_partitions:
            from provpanel.editions import unfinished_editions

            unfinished = unfinished_editions(paths.editions)
            if changed_reason:
                return SkipReason(f"not re-ingested: {changed_reason}")
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
