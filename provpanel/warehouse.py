"""The working DuckDB warehouse: connections, the raw schema, and edition replacement.

One writer per DuckDB file (ARCHITECTURE.md): Dagster's pool serialises the pipeline's own
writers; `connect` also waits a while for a lock held by another process instead of failing
at once, and says which file when it gives up.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

RAW_EXTRACT_COLUMNS = {
    "edition": "VARCHAR NOT NULL",
    "file": "VARCHAR NOT NULL",
    "file_sha256": "VARCHAR NOT NULL",
    "sheet": "VARCHAR",
    "source_row": "INTEGER NOT NULL",
    "source_col": "INTEGER NOT NULL",
    "province_code": "VARCHAR NOT NULL",
    "year": "INTEGER NOT NULL",
    "indicator": "VARCHAR NOT NULL",
    "value": "DOUBLE NOT NULL",
    "unit": "VARCHAR",
    "source_value": "VARCHAR",
    "source_unit": "VARCHAR",
    "in_catalog": "BOOLEAN NOT NULL",
    "loaded_at": "TIMESTAMP NOT NULL",
}
RAW_EDITION_COLUMNS = {
    "edition": "VARCHAR PRIMARY KEY",
    "title": "VARCHAR NOT NULL",
    "published": "DATE NOT NULL",
    "source": "VARCHAR NOT NULL",
    "notes": "VARCHAR",
    "manifest_sha256": "VARCHAR NOT NULL",
    "files_sha256": "VARCHAR NOT NULL",
    "n_files": "INTEGER NOT NULL",
    "n_values": "INTEGER NOT NULL",
    "loaded_at": "TIMESTAMP NOT NULL",
}


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


def _create_table_sql(name: str, columns: dict[str, str]) -> str:
    body = ", ".join(f"{col} {ddl}" for col, ddl in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({body})"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(_create_table_sql("raw.extract_values", RAW_EXTRACT_COLUMNS))
    con.execute(_create_table_sql("raw.editions", RAW_EDITION_COLUMNS))


def stored_edition_fingerprint(con: duckdb.DuckDBPyConnection, edition: str) -> str | None:
    ensure_raw_schema(con)
    row = con.execute("SELECT files_sha256 FROM raw.editions WHERE edition = ?", [edition]).fetchone()
    return row[0] if row else None


def replace_edition(con: duckdb.DuckDBPyConnection, edition_row: dict, values: pd.DataFrame) -> None:
    """Replace exactly one edition's rows in raw.extract_values and raw.editions, atomically."""
    ensure_raw_schema(con)
    edition = edition_row["edition"]
    frame = values.reindex(columns=list(RAW_EXTRACT_COLUMNS))
    if (frame["edition"] != edition).any():
        raise ValueError(f"values of another edition passed to replace_edition({edition!r})")
    edition_frame = pd.DataFrame([edition_row]).reindex(columns=list(RAW_EDITION_COLUMNS))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM raw.extract_values WHERE edition = ?", [edition])
        con.execute("DELETE FROM raw.editions WHERE edition = ?", [edition])
        con.register("incoming_values", frame)
        con.execute("INSERT INTO raw.extract_values SELECT * FROM incoming_values")
        con.register("incoming_edition", edition_frame)
        con.execute("INSERT INTO raw.editions SELECT * FROM incoming_edition")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("incoming_values")
        con.unregister("incoming_edition")
