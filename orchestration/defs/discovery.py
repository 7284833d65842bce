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
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.defs.panel_rebuild import panel_rebuild_sensor
from orchestration.partitions import editions_partitions


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
        from provpanel.edition_changes import changed_edition_message
        from provpanel.edition_plan import plan_editions, read_edition_folders
        from provpanel.warehouse import WarehouseLockedError

        paths = get_paths()
        try:
            # the warehouse, not the sensor's memory, says what is stored (provpanel.edition_plan)
            plan = plan_editions(read_edition_folders(paths.editions), paths.warehouse, wait_seconds=0)
        except WarehouseLockedError:
            return SkipReason("the warehouse is busy (a build holds it); looking again next tick")
        new_partitions = sorted(plan.to_register(context.instance.get_dynamic_partitions(editions_partitions.name)))
        # a stored edition whose files differ is not re-ingested (immutable)
        changed_reason = changed_edition_message(plan.changed) if plan.changed else ""
        if changed_reason:
            context.log.warning(changed_reason)
        # run_key makes each version of a folder run once
        run_requests = [
            RunRequest(
                run_key=f"{planned.edition}:{planned.folder.state}",
                partition_key=planned.edition,
                tags={"provpanel/edition": planned.edition,
                      "provpanel/reason": "new"},
            )
            for planned in plan.to_ingest()
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
    return panel_rebuild_sensor(
        "panel_after_ingest_sensor", ingest_job, panel_job, default_status=default_status,
        description="After an edition is ingested, rebuild the panel, checks, analysis and snapshot.",
        tags=lambda run: {"provpanel/after_ingest_of": run.tags.get("dagster/partition", "")})
