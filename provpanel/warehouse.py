"""The working DuckDB warehouse: connections, the raw tables (provpanel.raw_schema), and edition
replacement.

One writer per DuckDB file (ARCHITECTURE.md): Dagster's pool serialises the pipeline's own
writers; `connect` also waits a while for a lock held by another process instead of failing
at once, and says which file when it gives up.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from provpanel.raw_schema import (
    DECLARED_EXCEPTIONS,
    DECLARED_REVISIONS,
    EDITION_FILES,
    EDITIONS,
    EXTRACT_VALUES,
    RAW_TABLES,
    SUPERSEDED_VALUES,
)


def _comment_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class WarehouseLockedError(RuntimeError):
    pass


def connect(path: Path, *, read_only: bool = False, wait_seconds: float = 120.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to `wait_seconds` while another process holds the lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: no database here yet; run `provpanel build` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                if "lock" in str(err).lower():
                    raise WarehouseLockedError(
                        f"{path}: another process holds the warehouse lock (waited {wait_seconds:.0f} s): {err}"
                    ) from err
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


@contextmanager
def open_warehouse(path: Path, *, read_only: bool = False, wait_seconds: float = 120.0):
    con = connect(path, read_only=read_only, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str, *, database: str | None = None) -> bool:
    """Whether schema.name exists (in `database`, an attached one, if given)."""
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?"
        " AND (? IS NULL OR database_name = ?)", [schema, name, database, database]
    ).fetchone()[0] > 0


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in RAW_TABLES:
        con.execute(table.create_sql())
        # a column added since the table was made (raw.editions.supersedes): appended, as the
        # table's last column, where a warehouse made before has none
        stored = {name for (name,) in con.execute(
            """SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()
               AND schema_name = ? AND table_name = ?""", table.name.split(".")).fetchall()}
        for column in table.columns:
            if column.name not in stored:
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.sql_type}")
        con.execute(f"COMMENT ON TABLE {table.name} IS {_comment_literal(table.comment)}")
        for column in table.columns:
            con.execute(f"COMMENT ON COLUMN {table.name}.{column.name} IS {_comment_literal(column.comment)}")


def stored_edition_fingerprint(con: duckdb.DuckDBPyConnection, edition: str) -> str | None:
    ensure_raw_schema(con)
    row = con.execute("SELECT files_sha256 FROM raw.editions WHERE edition = ?", [edition]).fetchone()
    return row[0] if row else None


def replace_edition(con: duckdb.DuckDBPyConnection, edition_row: dict, values: pd.DataFrame,
                    declared_revisions: pd.DataFrame | None = None, *,
                    declared_exceptions: pd.DataFrame | None = None,
                    file_checksums: dict[str, str] | None = None, supersede: bool = False) -> None:
    """Replace exactly one edition's rows in raw.extract_values, raw.editions,
    raw.declared_revisions, raw.declared_exceptions and raw.edition_files, atomically.
    `supersede`: the edition changed since it was ingested (accepted): its old values move to
    raw.superseded_extract_values."""
    ensure_raw_schema(con)
    edition = edition_row["edition"]
    frame = values.reindex(columns=EXTRACT_VALUES.column_names)
    if (frame["edition"] != edition).any():
        raise ValueError(f"values of another edition passed to replace_edition({edition!r})")
    edition_frame = pd.DataFrame([edition_row]).reindex(columns=EDITIONS.column_names)
    revisions_frame = (declared_revisions if declared_revisions is not None else pd.DataFrame()).reindex(
        columns=DECLARED_REVISIONS.column_names).assign(edition=edition)
    exceptions_frame = (declared_exceptions if declared_exceptions is not None else pd.DataFrame()).reindex(
        columns=DECLARED_EXCEPTIONS.column_names).assign(edition=edition)
    files_frame = pd.DataFrame(sorted((file_checksums or {}).items()), columns=["file", "file_sha256"]) \
        .assign(edition=edition).reindex(columns=EDITION_FILES.column_names)
    con.execute("BEGIN TRANSACTION")
    try:
        if supersede:
            columns = ", ".join(EXTRACT_VALUES.column_names)
            con.execute(f"""INSERT INTO {SUPERSEDED_VALUES.name} ({columns}, superseded_at)
                            SELECT {columns}, ? FROM raw.extract_values WHERE edition = ?""",
                        [datetime.now(UTC).replace(tzinfo=None), edition])
        con.execute("DELETE FROM raw.extract_values WHERE edition = ?", [edition])
        con.execute("DELETE FROM raw.editions WHERE edition = ?", [edition])
        con.execute(f"DELETE FROM {DECLARED_REVISIONS.name} WHERE edition = ?", [edition])
        con.execute(f"DELETE FROM {DECLARED_EXCEPTIONS.name} WHERE edition = ?", [edition])
        con.execute(f"DELETE FROM {EDITION_FILES.name} WHERE edition = ?", [edition])
        con.register("incoming_values", frame)
        con.execute("INSERT INTO raw.extract_values SELECT * FROM incoming_values")
        con.register("incoming_edition", edition_frame)
        con.execute("INSERT INTO raw.editions SELECT * FROM incoming_edition")
        if len(revisions_frame):
            con.register("incoming_revisions", revisions_frame)
            con.execute(f"INSERT INTO {DECLARED_REVISIONS.name} SELECT * FROM incoming_revisions")
            con.unregister("incoming_revisions")
        if len(exceptions_frame):
            con.register("incoming_exceptions", exceptions_frame)
            con.execute(f"INSERT INTO {DECLARED_EXCEPTIONS.name} SELECT * FROM incoming_exceptions")
            con.unregister("incoming_exceptions")
        if len(files_frame):
            con.register("incoming_files", files_frame)
            con.execute(f"INSERT INTO {EDITION_FILES.name} SELECT * FROM incoming_files")
            con.unregister("incoming_files")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("incoming_values")
        con.unregister("incoming_edition")


def raw_tables_with_editions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every raw table with an `edition` column (all keyed by edition): what removing an edition clears."""
    rows = con.execute("""SELECT DISTINCT table_name FROM duckdb_columns()
                          WHERE database_name = current_database() AND schema_name = 'raw'
                            AND column_name = 'edition' ORDER BY table_name""").fetchall()
    return [f"raw.{name}" for (name,) in rows]
