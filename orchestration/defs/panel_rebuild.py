"""The panel follows a change of the raw tables: after a successful run of a job that changed
them (an ingest, a removal), a sensor launches `build_panel`."""

from collections.abc import Callable

from dagster import DagsterRun, DagsterRunStatus, DefaultSensorStatus, RunRequest, run_status_sensor


def panel_rebuild_sensor(name: str, monitored_job, panel_job, *, description: str,
                         tags: Callable[[DagsterRun], dict[str, str]],
                         default_status=DefaultSensorStatus.RUNNING):
    """A sensor `name` that requests `panel_job` once per successful run of `monitored_job`,
    tagged with `tags(that run)` (what the rebuild follows)."""

    @run_status_sensor(
        name=name,
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[monitored_job],
        request_job=panel_job,
        default_status=default_status,
        description=description,
    )
    def rebuild_panel(context):
        return RunRequest(run_key=f"panel-after-{context.dagster_run.run_id}", tags=tags(context.dagster_run))

    return rebuild_panel
