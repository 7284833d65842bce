"""`provpanel`: build the panel, query it, check a download, fetch from the portal, print the report,
open the UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from provpanel.config import get_paths


def _cmd_build(args: argparse.Namespace) -> int:
    from orchestration.build_runner import run_build
    from provpanel.failures import editions_folder_problem

    problem = editions_folder_problem(get_paths().editions)
    if problem is not None:
        print(f"provpanel build: {problem}", file=sys.stderr)
        return 2

    return run_build(force_ingest=args.force, quiet=args.quiet, wait_seconds=args.wait,
                     settings=_setting_flags(args), accept_changes=args.accept_changes)


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting of provpanel.settings (--se-type, --lq-reference, ...). A flag
    given overrides the PROVPANEL_* variable; values are checked by the build (so a wrong one
    is refused with the same message from every source)."""
    from provpanel.settings import SETTINGS

    group = parser.add_argument_group(
        "settings", "each overrides its environment variable for this build (README, Configuration)")
    for setting in SETTINGS:
        group.add_argument(setting.cli_flag, dest=f"setting_{setting.name}", metavar=setting.name.upper(),
                           help=f"{setting.help}: {setting.allowed()} "
                                f"(default {setting.text(setting.default)}; env {setting.env_var})")


def _setting_flags(args: argparse.Namespace) -> dict[str, str]:
    """The settings given as flags, by name."""
    prefix = "setting_"
    return {key[len(prefix):]: value for key, value in vars(args).items()
            if key.startswith(prefix) and value is not None}


def _cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from provpanel.publish import published_path
    from provpanel.read_only_sql import (
        DEFAULT_TABLE_ROWS,
        NotReadOnlyError,
        SandboxError,
        allowed_folders,
        permission_message,
        run_read_only,
        sandboxed_connection,
        stream_rows,
    )

    if args.max_rows is not None and args.max_rows < 0:
        print(f"provpanel sql: --max-rows {args.max_rows}: a number of rows, 0 or more (0: every row)",
              file=sys.stderr)
        return 2
    paths = get_paths()
    database = paths.warehouse if args.working else published_path(paths.home)
    max_rows = args.max_rows if args.max_rows is not None else (DEFAULT_TABLE_ROWS if args.format == "table" else 0)
    try:
        allowed = allowed_folders(args.allow, home=paths.home, cwd=Path.cwd())
        with sandboxed_connection(database, allow=allowed.folders, wait_seconds=30 if args.working else 0) as con:
            cursor = run_read_only(con, args.query)
            if cursor.description is None:
                return 0
            streamed = stream_rows(cursor, fmt=args.format, max_rows=max_rows, table=_sql_table, out=sys.stdout)
    except (FileNotFoundError, NotReadOnlyError, SandboxError) as err:
        print(f"provpanel sql: {err}", file=sys.stderr)
        return 2
    except duckdb.PermissionException as err:  # a file outside the allowed folders
        print(f"provpanel sql: {permission_message(err, allowed)}", file=sys.stderr)
        return 1
    except duckdb.Error as err:
        print(f"provpanel sql: {err}", file=sys.stderr)
        return 1
    note = streamed.note()
    if note and args.format == "table":
        print(note)
    elif note:  # the CSV on stdout stays rows only
        print(f"provpanel sql: {note}", file=sys.stderr)
    return 0


def _print_rows(rows: list, columns: list[str], fmt: str, *, empty: str | None = None) -> None:
    """Rows as CSV or as a table (`_sql_table`); `empty`: what a table without rows says."""
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        print(_sql_table(rows, columns) if rows or empty is None else empty)


def _sql_table(rows: list[tuple], columns: list[str]) -> str:
    """Query results as a table: numbers in full (the shortest round-trip form, never
    3.78523e+06) and right-aligned; text as it is, even text that looks like a number
    (a source cell '266120008' stays '266120008', not 266120008.0)."""
    from decimal import Decimal

    from tabulate import tabulate

    def shown(value):
        if isinstance(value, bool) or value is None:
            return "" if value is None else str(value)
        if isinstance(value, float):
            return repr(value)
        return str(value)

    numeric = [bool(rows) and all(isinstance(row[i], (int, float, Decimal)) and not isinstance(row[i], bool)
                                  for row in rows if row[i] is not None) for i in range(len(columns))]
    return tabulate([[shown(value) for value in row] for row in rows], headers=columns, tablefmt="psql",
                    disable_numparse=True, colalign=["right" if n else "left" for n in numeric] or None)


def _cmd_parse(args: argparse.Namespace) -> int:
    import csv

    from provpanel.errors import ExtractError
    from provpanel.extracts import read_extract

    columns = {}
    for given in args.column or []:
        role, _, name = given.partition("=")
        if not name:
            print(f"provpanel parse: --column expects ROLE=NAME (e.g. province=prov), got '{given}'",
                  file=sys.stderr)
            return 2
        columns[role.strip()] = name.strip()
    breakdown = {key: value for key, value in (("column", args.breakdown_column),
                                               ("value", args.breakdown)) if value}
    try:
        values = read_extract(Path(args.file), indicator=args.indicator, unit=args.unit, sheet=args.sheet,
                              display_name=args.file, columns=columns or None,
                              breakdown=breakdown or None)
    except ExtractError as err:
        print(f"provpanel parse: {err}", file=sys.stderr)
        return 1
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["province_code", "year", "indicator", "value", "unit",
                     "sheet", "source_row", "source_col", "source_value", "source_unit"])
    # a national table (only code 00) is printed whole; elsewhere 全国 rows only on request
    national_only = all(v.province_code == "00" for v in values)
    for v in values:
        if v.province_code == "00" and not (args.include_national or national_only):
            continue
        writer.writerow([v.province_code, v.year, v.indicator, repr(float(v.value)), v.unit,
                         v.sheet or "", v.source_row, v.source_col, v.source_value, v.source_unit or ""])
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from provpanel.portal.client import PortalError
    from provpanel.portal.fetch import FetchError, fetch_edition, parse_indicators, parse_years

    try:
        result = fetch_edition(args.edition, editions_root=get_paths().editions,
                               indicators=parse_indicators(args.indicators), years=parse_years(args.years),
                               say=lambda message: print(message, flush=True))
    except (FetchError, PortalError) as err:
        print(f"provpanel fetch: {err}", file=sys.stderr)
        return 1
    print(f"{result.requests} request(s); build with `provpanel build`", flush=True)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from provpanel.report import print_report

    return print_report(get_paths(), fmt=args.format)


def _cmd_diff(args: argparse.Namespace) -> int:
    from provpanel.edition_diff import UnknownEditionError, edition_diff
    from provpanel.publish import published_path
    from provpanel.warehouse import open_warehouse

    paths = get_paths()
    try:
        with open_warehouse(published_path(paths.home), read_only=True, wait_seconds=0) as con:
            diff = edition_diff(con, args.edition)
    except (FileNotFoundError, UnknownEditionError) as err:
        print(f"provpanel diff: {err}", file=sys.stderr)
        return 2
    if args.format == "csv":
        frame = diff.revised if args.cells == "revised" else diff.added
        frame.to_csv(sys.stdout, index=False)
    else:
        print(diff.to_markdown())
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from provpanel.coverage import print_coverage

    return print_coverage(working=args.working, fmt=args.format, plot=args.plot, force=args.force)


def _cmd_export(args: argparse.Namespace) -> int:
    from provpanel.export import ExportError, export_panel
    from provpanel.publish import published_path

    try:
        result = export_panel(published_path(get_paths().home), args.format,
                              Path(args.out) if args.out else None, force=args.force)
    except ExportError as err:
        print(f"provpanel export: {err}", file=sys.stderr)
        return 2
    print(f"wrote {result.path} ({result.rows} rows, {result.columns} columns)")
    return 0


def _cmd_editions(args: argparse.Namespace) -> int:
    from provpanel.edition_status import COLUMNS, edition_statuses
    from provpanel.warehouse import WarehouseLockedError

    try:
        rows = [status.row() for status in edition_statuses(get_paths())]
    except WarehouseLockedError as err:
        print(f"provpanel editions: {err}", file=sys.stderr)
        return 1
    _print_rows(rows, list(COLUMNS), args.format, empty="no editions stored or present")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from orchestration.build_runner import run_build
    from provpanel.build_lock import BuildInProgressError, build_lock
    from provpanel.build_state import forget_last_build
    from provpanel.dagster_env import prepare_dagster_home
    from provpanel.edition_removal import (
        RemoveEditionError,
        remove_partition,
        remove_stored_edition,
    )
    from provpanel.warehouse import WarehouseLockedError

    paths = get_paths()
    try:
        with build_lock(paths.home):  # no build reads the warehouse while the edition goes
            deleted = remove_stored_edition(paths.warehouse, paths.editions, args.edition)
            prepare_dagster_home(paths)
            from dagster import DagsterInstance

            remove_partition(DagsterInstance.get(), args.edition)
            forget_last_build(paths)
    except RemoveEditionError as err:
        print(f"provpanel remove: {err}", file=sys.stderr)
        return 2
    except WarehouseLockedError as err:  # a run launched from the UI holds it
        print(f"provpanel remove: {err}", file=sys.stderr)
        return 3
    except BuildInProgressError as err:
        print(f"provpanel remove: {err}", file=sys.stderr)
        return 3
    print(f"removed edition {args.edition}: " + ", ".join(f"{n} rows of {table}" for table, n in deleted.items())
          + "; rebuilding without it", flush=True)
    return run_build(quiet=args.quiet)


def _cmd_ui(args: argparse.Namespace) -> int:
    from provpanel.config import REPO_ROOT
    from provpanel.dagster_env import prepare_dagster_home
    from provpanel.ui_process import dagster_dev_argv, run_dagster_dev

    paths = get_paths()
    prepare_dagster_home(paths)
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={paths.dagster_home})", flush=True)
    # run from DAGSTER_HOME: from the repository, dagster dev would warn that its dagster.yaml
    # "will not be used" (it is used: prepare_dagster_home copied it into DAGSTER_HOME)
    return run_dagster_dev(dagster_dev_argv(args.host, args.port, REPO_ROOT), cwd=paths.dagster_home)


def _add_working_option(parser: argparse.ArgumentParser, verb: str, note: str = "") -> None:
    parser.add_argument("--working", action="store_true",
                        help=f"{verb} the pipeline's working warehouse instead of the published snapshot{note}")


def _add_table_or_csv_format(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--format", choices=["table", "csv"], default="table", help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provpanel",
        description="Yearbook downloads → validated province-year panel in DuckDB → the paper's regressions. "
        "Paths: PROVPANEL_HOME (warehouse, Dagster storage, outputs) and PROVPANEL_EDITIONS (editions folder).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="materialize every asset for the configured editions folder")
    build.add_argument("--force", action="store_true",
                       help="run everything, re-ingesting editions even if nothing changed")
    build.add_argument("--quiet", action="store_true", help="print only the summary and the tables")
    build.add_argument("--accept-changes", action="store_true",
                       help="re-read stored editions whose files changed (editions are immutable: otherwise the "
                       "build stops), keeping their old values in raw.superseded_extract_values")
    build.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="if another build runs on this home, wait up to SECONDS instead of refusing")
    _add_setting_flags(build)
    build.set_defaults(func=_cmd_build)

    sql = sub.add_parser("sql", help="run a read-only SQL query against the published panel")
    sql.add_argument("query", help="one or more statements that only read: queries (SELECT, WITH, FROM ...), "
                     "DESCRIBE, SHOW, SUMMARIZE, EXPLAIN; files under the --allow folders may be read with "
                     "read_csv(...) to join your own data, nothing can be written")
    _add_working_option(sql, "query", " (waits while a build holds it)")
    _add_table_or_csv_format(sql, "table: aligned columns for reading (default); csv: for other programs, "
                             "every row streamed")
    sql.add_argument("--max-rows", type=int, metavar="N",
                     help="print at most N rows and say how many more there were (default: 1000 for a table, "
                     "every row for csv; 0: every row)")
    sql.add_argument("--allow", action="append", metavar="DIR",
                     help="a folder whose files the query may read, e.g. with read_csv (repeatable; default: the "
                     "current folder); never one that holds PROVPANEL_HOME or lies inside it")
    sql.set_defaults(func=_cmd_sql)

    parse = sub.add_parser("parse", help="parse one downloaded file and print its values as CSV")
    parse.add_argument("file", help="the downloaded file, as downloaded (CSV, XLS/XLSX, JSON, ...)")
    parse.add_argument("--indicator", help="catalog code, for a file without an indicator line")
    parse.add_argument("--unit", help="the unit as printed, for a file that does not state it")
    parse.add_argument("--sheet", help="only this worksheet of a workbook (this object of an R file)")
    parse.add_argument("--include-national", action="store_true",
                       help="also print national (全国) rows, code 00 (a national table's are always printed)")
    parse.add_argument("--breakdown", metavar="VALUE",
                       help="the breakdown value that is the indicator (e.g. 合计) in a frame with a breakdown column")
    parse.add_argument("--breakdown-column", metavar="NAME", help="the breakdown column of a data frame")
    parse.add_argument("--column", action="append", metavar="ROLE=NAME",
                       help="a data frame's column for a role (province, year, value, indicator, unit); repeatable")
    parse.set_defaults(func=_cmd_parse)

    fetch = sub.add_parser("fetch", help="fetch a new edition from the NBS data portal (PROVPANEL_PORTAL_URL)")
    fetch.add_argument("edition", help="name of the new edition folder under PROVPANEL_EDITIONS")
    fetch.add_argument("--indicators", help="catalog codes separated by commas, or all (default: all)")
    fetch.add_argument("--years", help="e.g. 2001-2021, 2021 or LAST10 (default: the panel's span)")
    fetch.set_defaults(func=_cmd_fetch)

    report = sub.add_parser("report", help="print the regression tables and the comparison with the paper")
    report.add_argument("--format", choices=["markdown", "latex", "html", "csv"], default="markdown",
                        help="markdown (default), latex or html tables; csv: every table in one CSV, "
                        "one record per cell (table, row, column, value, settings)")
    report.set_defaults(func=_cmd_report)

    diff = sub.add_parser("diff", help="what an edition changed: cells added, cells revised, estimates moved")
    diff.add_argument("edition", help="the edition's folder name, compared with the editions before it")
    diff.add_argument("--format", choices=["markdown", "csv"], default="markdown",
                      help="markdown: the summary (default); csv: the cells chosen by --cells")
    diff.add_argument("--cells", choices=["revised", "added"], default="revised",
                      help="with --format csv: which cells to print")
    diff.set_defaults(func=_cmd_diff)

    coverage = sub.add_parser("coverage", help="what the editions cover: indicator x year observed / filled / "
                              "missing, the variables and models that can be computed, what to fetch next")
    _add_working_option(coverage, "read")
    coverage.add_argument("--format", choices=["markdown", "csv"], default="markdown",
                          help="csv: the indicator x year table in long form")
    coverage.add_argument("--plot", metavar="FILE", help="also write the heat map to FILE, ending .png, .svg or "
                          ".pdf (outside PROVPANEL_HOME; an existing FILE only with --force)")
    coverage.add_argument("--force", action="store_true", help="overwrite FILE if it is an image of that format")
    coverage.set_defaults(func=_cmd_coverage)

    export = sub.add_parser("export", help="write the published panel (marts.province_year_panel) "
                            "as a Stata, CSV or Parquet file")
    export.add_argument("--format", choices=["dta", "csv", "parquet"], required=True,
                        help="dta: Stata 14+ with variable labels from the column comments; csv: UTF-8, "
                        "booleans as 0/1; parquet: the table as it is")
    export.add_argument("--out", metavar="PATH",
                        help="the file to write (default ./province_year_panel.<format>)")
    export.add_argument("--force", action="store_true", help="overwrite PATH if it is a file of that format "
                        "(never a path under PROVPANEL_HOME or the editions folder)")
    export.set_defaults(func=_cmd_export)

    editions = sub.add_parser("editions", help="every edition: stored (loaded_at, values), present, changed "
                              "since ingest (files named), folders without manifest.yml, unfinished fetches")
    _add_table_or_csv_format(editions, "table (default) or csv")
    editions.set_defaults(func=_cmd_editions)

    remove = sub.add_parser("remove", help="take a stored edition back: its partition and values, then rebuild "
                            "without it (move its folder out of the editions folder first)")
    remove.add_argument("edition", help="the edition's key (its folder's name), as `provpanel editions` lists it")
    remove.add_argument("--quiet", action="store_true", help="print only the build's summary and the tables")
    remove.set_defaults(func=_cmd_remove)

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on this home's storage")
    ui.add_argument("--host", default="127.0.0.1",
                    help="the address to listen on (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=int, default=3000, help="the port to listen on (default 3000)")
    ui.set_defaults(func=_cmd_ui)
    return parser


# Commands whose work is not their output: a reader that leaves (`| head`) or a closed terminal
# stops their output, never the work, and the exit status is the work's. The others stop (141).
_WORK_COMMANDS = ("build", "remove", "fetch", "export")


def main(argv: list[str] | None = None) -> int:
    import contextlib

    from provpanel.failures import (
        environment_error_line,
        outlive_closed_output,
        reopen_closed_standard_streams,
        silence_closed_stdout,
    )

    if argv is None:  # this process's own command line (not a caller's in-process use)
        from provpanel.process_tree import stop_resource_tracker_at_exit

        reopen_closed_standard_streams()
        stop_resource_tracker_at_exit()
    args = build_parser().parse_args(argv)
    work = args.command in _WORK_COMMANDS or (args.command == "coverage" and args.plot)
    try:
        with outlive_closed_output() if work else contextlib.nullcontext():
            status = args.func(args)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output left (`provpanel parse FILE | head`)
        silence_closed_stdout()
        return 141  # as a shell reports a command ended by SIGPIPE
    except Exception as err:  # only failures of the environment become one line; a bug re-raises
        line = environment_error_line(err, home=get_paths().home)
        if line is None:
            raise
        print(f"provpanel {args.command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
