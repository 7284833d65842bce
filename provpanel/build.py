"""`provpanel build`: ingest every edition (one Dagster run per partition), then one run for
dbt, the checks and the analysis. Runs are recorded in $PROVPANEL_HOME/dagster, so they show
in the UI exactly as if launched there."""

from __future__ import annotations

import sys
import time

from provpanel.config import get_paths


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(message, flush=True)


def _first_failure(result) -> str:
    """The message of the first failed step (our Failure descriptions name file and cell)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            error = getattr(data, "error", None)
            user = getattr(data, "user_failure_data", None)
            if user is not None and user.description:
                return user.description
            if error is not None:
                return error.message.strip().splitlines()[-1] if error.message else str(error)
    return "unknown failure (see the run in the Dagster UI)"


def _failed_checks(result) -> list:
    failed = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failed.append(evaluation)
    return failed


def run_build(*, force_ingest: bool = False, quiet: bool = False) -> int:
    from provpanel.dagster_env import prepare_dagster_home

    paths = get_paths()
    prepare_dagster_home(paths)
    started = time.monotonic()
    _say(f"provpanel build\n  editions:  {paths.editions}\n  home:      {paths.home}", quiet)

    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from provpanel.editions import list_editions

    editions = list_editions(paths.editions)
    if not editions:
        print(f"provpanel build: {paths.editions}: no edition folders with a manifest.yml", file=sys.stderr)
        return 2
    instance = DagsterInstance.get()
    known = set(instance.get_dynamic_partitions("editions"))
    new = [e for e in editions if e not in known]
    if new:
        instance.add_dynamic_partitions("editions", new)

    ingest_job = defs.get_job_def("ingest_edition")
    for edition in editions:
        result = ingest_job.execute_in_process(
            instance=instance,
            partition_key=edition,
            raise_on_error=False,
            run_config={"ops": {"raw_edition": {"config": {"force": force_ingest}}}},
        )
        if not result.success:
            print(f"provpanel build: edition {edition} failed, nothing stored for it:\n  {_first_failure(result)}",
                  file=sys.stderr)
            return 1
        _say(f"  ingested:  {edition}", quiet)

    panel_job = defs.get_job_def("build_panel")
    result = panel_job.execute_in_process(instance=instance, raise_on_error=False)
    failed_checks = _failed_checks(result)
    if failed_checks:
        print("provpanel build: blocking checks failed; the analysis was not run:", file=sys.stderr)
        for evaluation in failed_checks:
            key = "/".join(evaluation.asset_key.path)
            print(f"  {key} · {evaluation.check_name}", file=sys.stderr)
            failures = evaluation.metadata.get("failures")
            if failures is not None:
                print("    " + str(failures.value).replace("\n", "\n    "), file=sys.stderr)
        return 1
    if not result.success:
        print(f"provpanel build: the panel run failed:\n  {_first_failure(result)}", file=sys.stderr)
        return 1

    from provpanel.report import print_report

    elapsed = time.monotonic() - started
    print(f"\nwarehouse:  {paths.warehouse}\noutputs:    {paths.outputs}\nbuilt in {elapsed:.0f} s\n")
    return print_report(paths, fmt="markdown", models=("1", "2"))
