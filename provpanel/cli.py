"""`provpanel`: build the panel, query it, check a download, print the report, open the UI."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from provpanel.config import get_paths


def _cmd_build(args: argparse.Namespace) -> int:
    from provpanel.build import run_build

    return run_build(force_ingest=args.force, quiet=args.quiet, wait_seconds=args.wait)


def _cmd_sql(args: argparse.Namespace) -> int:
    import duckdb
    from tabulate import tabulate

    from provpanel.publish import published_path
    from provpanel.warehouse import open_warehouse

    paths = get_paths()
    database = paths.warehouse if args.working else published_path(paths.home)
    try:
        with open_warehouse(database, read_only=True, wait_seconds=0 if not args.working else 30) as con:
            cursor = con.execute(args.query)
            if cursor.description is None:
                return 0
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    except FileNotFoundError as err:
        print(f"provpanel sql: {err}", file=sys.stderr)
        return 2
    except duckdb.Error as err:
        print(f"provpanel sql: {err}", file=sys.stderr)
        return 1
    if args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        print(tabulate(rows, headers=columns, tablefmt="psql", floatfmt="g"))
    return 0


def _cmd_parse(args: argparse.Namespace) -> int:
    import csv

    from provpanel.errors import ExtractError
    from provpanel.extracts import read_extract

    try:
        values = read_extract(Path(args.file), indicator=args.indicator, unit=args.unit, sheet=args.sheet,
                              display_name=args.file)
    except ExtractError as err:
        print(f"provpanel parse: {err}", file=sys.stderr)
        return 1
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["province_code", "year", "indicator", "value", "unit",
                     "sheet", "source_row", "source_col", "source_value", "source_unit"])
    for v in values:
        if v.province_code == "00" and not args.include_national:
            continue
        writer.writerow([v.province_code, v.year, v.indicator, repr(float(v.value)), v.unit,
                         v.sheet or "", v.source_row, v.source_col, v.source_value, v.source_unit or ""])
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

    return print_coverage(working=args.working, fmt=args.format, plot=args.plot)


def _cmd_ui(args: argparse.Namespace) -> int:
    from provpanel.dagster_env import prepare_dagster_home

    paths = get_paths()
    prepare_dagster_home(paths)
    dagster = Path(sys.executable).with_name("dagster")
    argv = [str(dagster), "dev", "-m", "orchestration.definitions", "-h", args.host, "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={paths.dagster_home})", flush=True)
    os.execv(argv[0], argv)
    return 0  # not reached


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
    build.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="if another build runs on this home, wait up to SECONDS instead of refusing")
    build.set_defaults(func=_cmd_build)

    sql = sub.add_parser("sql", help="run a read-only SQL query against the published panel")
    sql.add_argument("query")
    sql.add_argument("--working", action="store_true",
                     help="query the pipeline's working warehouse instead of the published snapshot "
                     "(waits while a build holds it)")
    sql.add_argument("--format", choices=["table", "csv"], default="table")
    sql.set_defaults(func=_cmd_sql)

    parse = sub.add_parser("parse", help="parse one downloaded file and print its values as CSV")
    parse.add_argument("file")
    parse.add_argument("--indicator", help="catalog code, for a file without an indicator line")
    parse.add_argument("--unit", help="the unit as printed, for a file that does not state it")
    parse.add_argument("--sheet", help="only this worksheet of a workbook")
    parse.add_argument("--include-national", action="store_true", help="also print national (全国) rows, code 00")
    parse.set_defaults(func=_cmd_parse)

    report = sub.add_parser("report", help="print the regression tables and the comparison with the paper")
    report.add_argument("--format", choices=["markdown", "latex", "html", "csv"], default="markdown")
    report.set_defaults(func=_cmd_report)

    diff = sub.add_parser("diff", help="what an edition changed: cells added, cells revised, estimates moved")
    diff.add_argument("edition")
    diff.add_argument("--format", choices=["markdown", "csv"], default="markdown")
    diff.add_argument("--cells", choices=["revised", "added"], default="revised",
                      help="with --format csv: which cells to print")
    diff.set_defaults(func=_cmd_diff)

    coverage = sub.add_parser("coverage", help="what the editions cover: indicator x year observed / filled / "
                              "missing, the variables and models that can be computed, what to fetch next")
    coverage.add_argument("--working", action="store_true",
                          help="read the pipeline's working warehouse instead of the published snapshot")
    coverage.add_argument("--format", choices=["markdown", "csv"], default="markdown",
                          help="csv: the indicator x year table in long form")
    coverage.add_argument("--plot", metavar="PNG", help="also write the heat map to this file")
    coverage.set_defaults(func=_cmd_coverage)

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on this home's storage")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=_cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
