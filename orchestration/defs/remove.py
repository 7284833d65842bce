"""Taking an edition back from the UI: the job `remove_edition` (config: edition) runs what
`provpanel remove` runs (its values out of every raw table, its partition deleted); when it
succeeds, a sensor launches `build_panel`, which rebuilds the panel without it."""

from dagster import (
    Config,
    DefaultSensorStatus,
    Failure,
    OpExecutionContext,
    job,
    op,
)

from orchestration.defs.panel_rebuild import panel_rebuild_sensor
from orchestration.resources import ProvpanelPaths


class RemoveEditionConfig(Config):
    edition: str  # a stored edition whose folder has been moved out of PROVPANEL_EDITIONS


@op(description="Remove a stored edition: its values from every raw table and its partition (its folder must "
                "be gone from the editions folder first).", pool="warehouse")
def remove_stored_edition_op(context: OpExecutionContext, config: RemoveEditionConfig, paths: ProvpanelPaths) -> str:
    from provpanel.build_state import forget_last_build
    from provpanel.edition_removal import (
        RemoveEditionError,
        remove_partition,
        remove_stored_edition,
    )

    try:
        deleted = remove_stored_edition(paths.warehouse, paths.editions_dir, config.edition)
    except RemoveEditionError as err:
        raise Failure(description=str(err), allow_retries=False) from None
    remove_partition(context.instance, config.edition)
    forget_last_build(paths.as_paths())  # the next `provpanel build` must rebuild, folders unchanged or not
    context.log.info(f"removed edition {config.edition}: "
                     + ", ".join(f"{n} rows of {table}" for table, n in deleted.items()))
    context.add_output_metadata({"edition": config.edition, **{table: n for table, n in deleted.items()}})
    return config.edition


@job(name="remove_edition", description="Remove a stored edition whose folder is gone (config: edition); "
                                        "the panel is then rebuilt without it.")
def remove_edition_job():
    remove_stored_edition_op()


def _removed_edition(run) -> str:
    return run.run_config.get("ops", {}).get("remove_stored_edition_op", {}).get("config", {}).get("edition", "")


def build_panel_after_remove_sensor(remove_job, panel_job, default_status=DefaultSensorStatus.RUNNING):
    return panel_rebuild_sensor(
        "panel_after_remove_sensor", remove_job, panel_job, default_status=default_status,
        description="After an edition is removed, rebuild the panel, checks, analysis and snapshot without it.",
        tags=lambda run: {"provpanel/after_remove_of": _removed_edition(run)})
