"""Publish the validated panel to a separate read-only DuckDB file, replaced atomically.

Analysts never open the working warehouse (DuckDB allows one writer and no readers beside
it). They read `published/provpanel.duckdb`, which is built next to its final place and
renamed over it: a reader that opened the old file keeps reading the old version, a new reader
gets the new one, and nobody ever sees a mix. Table and column comments travel with the data.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("raw", "lookups", "marts", "analysis")
PARQUET_TABLES = ("marts.province_year_panel", "marts.indicator_revisions")


@dataclass(frozen=True)
class PublishSummary:
    path: Path
    tables: list[str]
    parquet: list[Path]
    seconds: float


def published_path(home: Path) -> Path:
    return Path(home) / "published" / "provpanel.duckdb"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish(warehouse_path: Path, home: Path) -> PublishSummary:
    started = time.monotonic()
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    # leftovers of a build killed mid-publication (builds are serialised per home)
    for stale in [*target.parent.glob(f".{target.name}.*.tmp"), *target.parent.glob("parquet/.*.tmp")]:
        stale.unlink(missing_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    con = duckdb.connect()  # in memory: reads the working file read-only, writes the staging file
    tables: list[str] = []
    try:
        con.execute(f"ATTACH {_literal(str(warehouse_path))} AS working (READ_ONLY)")
        con.execute(f"ATTACH {_literal(str(staging))} AS snapshot")
        rows = con.execute(
            f"""SELECT schema_name, table_name, comment FROM duckdb_tables()
                WHERE database_name = 'working' AND schema_name IN {PUBLISHED_SCHEMAS}
                ORDER BY schema_name, table_name"""
        ).fetchall()
        views = con.execute(
            f"""SELECT schema_name, view_name, comment FROM duckdb_views()
                WHERE database_name = 'working' AND schema_name IN {PUBLISHED_SCHEMAS}
                  AND NOT internal ORDER BY schema_name, view_name"""
        ).fetchall()
        for schema, name, comment in [*rows, *views]:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS snapshot.{_quote(schema)}")
            qualified = f"{_quote(schema)}.{_quote(name)}"
            # views are materialised: the snapshot must not depend on the working file
            con.execute(f"CREATE TABLE snapshot.{qualified} AS SELECT * FROM working.{qualified}")
            if comment:
                con.execute(f"COMMENT ON TABLE snapshot.{qualified} IS {_literal(comment)}")
            for column, column_comment in con.execute(
                """SELECT column_name, comment FROM duckdb_columns()
                   WHERE database_name = 'working' AND schema_name = ? AND table_name = ?
                     AND comment IS NOT NULL""",
                [schema, name],
            ).fetchall():
                con.execute(
                    f"COMMENT ON COLUMN snapshot.{qualified}.{_quote(column)} IS {_literal(column_comment)}"
                )
            tables.append(f"{schema}.{name}")
        con.execute("DETACH snapshot")
        con.execute("DETACH working")
    finally:
        con.close()
    parquet = _write_parquet(staging, target.parent / "parquet")
    with open(staging, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(staging, target)
    _fsync_dir(target.parent)
    return PublishSummary(target, tables, parquet, time.monotonic() - started)


def _write_parquet(snapshot: Path, folder: Path) -> list[Path]:
    """Parquet copies of the panel tables, each written aside and renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for table in PARQUET_TABLES:
            schema, name = table.split(".")
            exists = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
            ).fetchone()[0]
            if not exists:
                continue
            final = folder / f"{name}.parquet"
            partial = folder / f".{name}.parquet.{os.getpid()}.tmp"
            con.execute(f"COPY {table} TO {_literal(str(partial))} (FORMAT parquet)")
            os.replace(partial, final)
            written.append(final)
    finally:
        con.close()
    return written
