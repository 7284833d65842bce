"""`provpanel build`: ingest every edition (one Dagster run per partition), then one run for
dbt, the checks and the analysis. Runs are recorded in $PROVPANEL_HOME/dagster, so they show
in the UI exactly as if launched there. What each edition needs comes from
provpanel.edition_plan, the plan the UI's sensor follows too."""

from __future__ import annotations

import contextlib
import sys
import time

from provpanel.config import get_paths

# The full event log is in the run (UI); the terminal gets our own one-line messages.
_QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


# Runs started by `provpanel build` carry this tag, so a later build can recognise them.
_CLI_RUN_TAGS = {"provpanel/launched_by": "cli"}


def _digest_line(paths) -> str:
    """The published panel's content digest, to cite it (marts.panel_digest)."""
    from provpanel.panel_digest import published_digest
    from provpanel.publish import published_path

    digest = published_digest(published_path(paths.home))
    return f"panel:      sha256:{digest} (marts.panel_digest)\n" if digest else ""


def _release_runs_of_killed_builds(instance, quiet: bool) -> None:
    """Runs a killed build left 'started' still hold the warehouse pool's slot, and the next
    run would wait for it forever. We hold this home's build lock, so no other CLI build is
    alive: every unfinished CLI run is an orphan. Mark it failed and free its slots. Runs
    launched from the UI are left to Dagster."""
    from dagster import DagsterRunStatus, RunsFilter

    unfinished = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED,
                  DagsterRunStatus.QUEUED, DagsterRunStatus.CANCELING]
    orphans = instance.get_runs(filters=RunsFilter(statuses=unfinished, tags=_CLI_RUN_TAGS))
    for run in orphans:
        instance.report_run_failed(run, "the provpanel build running it was killed; released by the next build")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    if orphans:
        _say(f"  released {len(orphans)} run(s) left unfinished by a killed build", quiet)


@contextlib.contextmanager
def _sigterm_left_to_the_build():
    """Dagster makes SIGTERM its interrupt (as SIGINT) each time it installs its SIGINT handler,
    and keeps it so after: an interrupted dbt is then waited for up to 25 s and left running
    if it has not stopped. In a build, SIGTERM stays process_tree's (the tree killed, reaped,
    the build ended by the signal); Dagster keeps Ctrl-C (SIGINT)."""
    from dagster._utils import interrupts

    mapping = interrupts.setup_interrupt_handlers
    interrupts.setup_interrupt_handlers = lambda: None  # _replace_interrupt_signal looks it up when called
    try:
        yield
    finally:
        interrupts.setup_interrupt_handlers = mapping


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(message, flush=True)


def _interrupted(result) -> bool:
    """Whether the run failed because it was interrupted (Ctrl-C: Dagster stopped the step)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            while error is not None:
                if error.cls_name == "DagsterExecutionInterruptedError":
                    return True
                error = error.cause
    return False


_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C (SIGINT)


def _first_failure(result) -> str:
    """The message of the first failed step: our Failure descriptions name file and cell; for
    an unexpected error, the innermost exception's message (the full trace is in the run)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            user = getattr(data, "user_failure_data", None)
            if user is not None and user.description:
                return user.description
            error = getattr(data, "error", None)
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None and error.message:
                from provpanel.failures import with_advice  # a full disk, a permission: what to do

                return with_advice(f"{event.step_key}: {error.message.strip().splitlines()[-1]}")
    return "unknown failure (see the run in the Dagster UI)"


def _checked_table(defs, asset_key) -> str:
    """The table a check guards, as analysts query it (a graph label may be shorter than it)."""
    table = defs.resolve_asset_graph().get(asset_key).metadata.get("dagster/table_name")
    table = getattr(table, "value", table)
    return str(table).split(".", 1)[1] if table else ".".join(asset_key.path)


def _failed_checks(result) -> list:
    failed = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failed.append(evaluation)
    return failed


def _editions_with_manifest_problems(paths, plan, *, force_ingest: bool) -> set[str]:
    """The editions the build would read (new, changed and accepted, or all when forced) whose
    manifest has a problem. An unchanged edition is not read, so its manifest is not judged."""
    from provpanel.edition_manifest import load_manifest
    from provpanel.edition_plan import UNCHANGED
    from provpanel.errors import ManifestError

    broken = set()
    for planned in plan.editions:
        if planned.status == UNCHANGED and not force_ingest:
            continue
        try:
            load_manifest(paths.editions / planned.edition)
        except ManifestError:
            broken.add(planned.edition)
        except OSError:
            continue  # e.g. an unreadable manifest: its ingest run says what to do
    return broken


def run_build(*, force_ingest: bool = False, quiet: bool = False, wait_seconds: float = 0.0,
              settings: dict[str, str] | None = None, accept_changes: bool = False) -> int:
    """settings: values given as flags (name → text); the others come from the environment
    (PROVPANEL_*) or their defaults. accept_changes: re-read stored editions whose files
    changed, keeping their old values as a superseded vintage (else such an edition stops the build)."""
    from provpanel.build_lock import BuildInProgressError, build_lock
    from provpanel.errors import ExtractError
    from provpanel.process_tree import process_tree
    from provpanel.settings import SettingError, resolve_settings

    paths = get_paths()
    flags = {name: value for name, value in (settings or {}).items() if value is not None}
    try:
        resolved = resolve_settings(flags, explicit_source="cli")
    except SettingError as err:
        print(f"provpanel build: {err}", file=sys.stderr)
        return 2
    # the run config carries the typed values, as the launchpad would send them
    flags = {name: list(value) if isinstance(value, tuple) else value
             for name, value in ((name, resolved.values[name]) for name in flags)}
    try:
        # every process the build starts (dbt, its parse, the readers) ends with it: SIGTERM
        # kills the tree at once, and a watchdog does it when the build is killed outright
        with build_lock(paths.home, wait_seconds=wait_seconds), process_tree(), _sigterm_left_to_the_build():
            return _run_locked_build(paths, resolved, flags, force_ingest=force_ingest, quiet=quiet,
                                     accept_changes=accept_changes)
    except BuildInProgressError as err:
        print(f"provpanel build: {err}", file=sys.stderr)
        return 3
    except ExtractError as err:  # an edition refused before it is read (e.g. a link out of the editions folder)
        print(f"provpanel build: {err}", file=sys.stderr)
        return 1


def _run_locked_build(paths, resolved, flags: dict, *, force_ingest: bool, quiet: bool,
                      accept_changes: bool = False) -> int:
    from provpanel.build_state import build_fingerprint, unchanged_since_last_build
    from provpanel.dagster_env import prepare_dagster_home
    from provpanel.publish import published_path
    from provpanel.report import print_report

    started = time.monotonic()
    _say(f"provpanel build\n  editions:  {paths.editions}\n  home:      {paths.home}", quiet)
    from provpanel.publish import remove_unfinished_publications

    remove_unfinished_publications(paths.home)  # a killed publication's leftovers, even on a no-op build
    from provpanel.editions import unfinished_editions

    for name in unfinished_editions(paths.editions):  # never taken as an edition
        print(f"provpanel build: skipped {name}: its fetch has not finished "
              f"(re-run `provpanel fetch {name}` to complete it)", file=sys.stderr)
    from provpanel.edition_status import build_notices

    for notice in build_notices(paths):  # stored editions whose folder is gone, folders without manifest
        print(f"provpanel build: {notice}", file=sys.stderr)
    if flags:
        _say("  settings:  " + ", ".join(f"{name}={value}" for name, value in flags.items()), quiet)
    from provpanel.edition_plan import raise_first_error, read_edition_folders

    folders = read_edition_folders(paths.editions)
    raise_first_error(folders)  # a folder that cannot be read stops the build before any work
    fingerprint = build_fingerprint(paths, resolved, folders)
    previous = unchanged_since_last_build(paths, fingerprint)
    if not force_ingest and previous:
        print(f"\nnothing changed since the build of {previous['finished_at']} (editions, settings, code): "
              f"no work done.\nwarehouse:  {paths.warehouse}\npublished:  {published_path(paths.home)}\n"
              f"{_digest_line(paths)}")
        return print_report(paths, fmt="markdown", headline_only=True)

    prepare_dagster_home(paths)

    if not folders:
        print(f"provpanel build: {paths.editions}: no edition folders with a manifest.yml", file=sys.stderr)
        return 2
    from provpanel.edition_changes import changed_edition_message
    from provpanel.edition_plan import plan_editions

    plan = plan_editions(folders, paths.warehouse)
    changed = plan.changed
    if changed and not accept_changes:
        print(f"provpanel build: {changed_edition_message(changed)}; nothing was read or changed", file=sys.stderr)
        return 1
    from orchestration.dbt_manifest import start_partial_parse
    from provpanel.config import dbt_vars
    from provpanel.settings import PANEL

    # the reference parse serves the default vars; for others, dbt's parse for this home (a
    # subprocess, 6-10 s) runs while the editions are ingested and the build's `dbt build` reuses it
    parse = start_partial_parse(paths, dbt_vars(resolved.stage(PANEL), paths.units_folder))
    try:
        return _run_with_parse_started(paths, plan=plan, flags=flags,
                                       force_ingest=force_ingest, quiet=quiet, accept_changes=accept_changes,
                                       fingerprint=fingerprint, started=started, parse=parse)
    finally:
        # the build waits for the parse before dbt; still running here means the build ended
        # before dbt (an edition failed): its result is not needed, so it does not delay the
        # error. A partial parse file cut short is one dbt reads as absent and parses afresh.
        if parse is not None and parse.poll() is None:
            parse.terminate()
        if parse is not None:
            parse.wait()  # never left running behind the build


def _run_with_parse_started(paths, *, plan, flags: dict, force_ingest: bool, quiet: bool,
                            accept_changes: bool, fingerprint: str, started: float, parse) -> int:
    from dagster import DagsterInstance

    # one code location for every run (the dbt manifest is made once per project content)
    from orchestration.definitions import defs
    from provpanel.build_state import record_build
    from provpanel.edition_plan import CHANGED, UNCHANGED
    from provpanel.publish import published_path
    from provpanel.report import print_report

    instance = DagsterInstance.get()
    _release_runs_of_killed_builds(instance, quiet)
    new = plan.to_register(instance.get_dynamic_partitions("editions"))
    if new:
        instance.add_dynamic_partitions("editions", new)

    ingest_job = defs.resolve_job_def("ingest_edition")
    # A manifest's problems are known without reading a file: when the manifests of editions to
    # be read have problems, only those editions get their run (each fails naming every problem
    # of its manifest), so one build names them all and nothing else is stored.
    broken = _editions_with_manifest_problems(paths, plan, force_ingest=force_ingest)
    # else every edition gets its run (an unchanged one's confirms it, reading nothing), so
    # each build's runs show every edition; the first that fails (a bad file) stops the build
    for planned in plan.editions:
        edition = planned.edition
        if broken and edition not in broken:
            continue
        result = ingest_job.execute_in_process(
            instance=instance,
            partition_key=edition,
            raise_on_error=False,
            run_config={"ops": {"raw_edition": {"config": {"force": force_ingest, "accept_changes": accept_changes}}},
                        **_QUIET_LOGS},
            tags=_CLI_RUN_TAGS,
        )
        if not result.success and _interrupted(result):
            print(f"provpanel build: interrupted while ingesting {edition}", file=sys.stderr)
            return _INTERRUPTED
        if not result.success:
            message = _first_failure(result).replace("\n", "\n  ")  # a manifest's problems: one a line
            print(f"provpanel build: edition {edition} failed, nothing stored for it:\n  {message}", file=sys.stderr)
            if broken:
                continue
            return 1
        if planned.status == CHANGED:
            _say(f"  re-read:   {edition} (changes accepted; old values kept in raw.superseded_extract_values)", quiet)
        elif planned.status == UNCHANGED and not force_ingest:
            _say(f"  unchanged: {edition} (same files as stored: not re-read)", quiet)
        else:
            _say(f"  ingested:  {edition}", quiet)
    if broken:
        return 1

    if parse is not None:
        parse.wait()  # the build's dbt reuses it
    panel_job = defs.resolve_job_def("build_panel")
    # dbt's own progress lines go to the run's log file (and the UI), not the terminal
    log_path = paths.home / "logs" / f"build-{time.strftime('%Y%m%d-%H%M%S')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _say(f"  building the panel, checks and analysis (dbt log: {log_path})", quiet)
    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        result = panel_job.execute_in_process(
            instance=instance, raise_on_error=False, tags=_CLI_RUN_TAGS,
            # the flags reach the dbt assets, the checks and the analysis as the launchpad's would
            run_config={**_QUIET_LOGS, "resources": {"settings": {"config": flags}}},
        )
    if not result.success and _interrupted(result):
        print("provpanel build: interrupted; `provpanel build` does the rest", file=sys.stderr)
        return _INTERRUPTED
    failed_checks = _failed_checks(result)
    if failed_checks:
        print("provpanel build: blocking checks failed; the analysis was not run:", file=sys.stderr)
        for evaluation in failed_checks:
            print(f"  {_checked_table(defs, evaluation.asset_key)} · {evaluation.check_name}", file=sys.stderr)
            # a check that lists its failing cells one a line says that rather than its table
            failures = evaluation.metadata.get("failing_cells") or evaluation.metadata.get("failures")
            if failures is not None:
                print("    " + str(failures.value).replace("\n", "\n    "), file=sys.stderr)
        return 1
    if not result.success:
        print(f"provpanel build: the panel run failed:\n  {_first_failure(result)}", file=sys.stderr)
        return 1

    record_build(paths, fingerprint)
    from provpanel.coverage import left_out_warnings

    for warning in left_out_warnings(paths.warehouse):  # `provpanel coverage` tells the rest
        print(f"warning: {warning}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(f"\nwarehouse:  {paths.warehouse}\npublished:  {published_path(paths.home)}\n"
          f"{_digest_line(paths)}outputs:    {paths.outputs}\nbuilt in {elapsed:.0f} s\n")
    return print_report(paths, fmt="markdown", headline_only=True)
