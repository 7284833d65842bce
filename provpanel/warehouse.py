"""The working DuckDB warehouse: connections, the raw schema, and edition replacement.

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
# Revisions an edition's manifest declares (`revisions:`): the indicator suite lets them pass.
DECLARED_REVISIONS_TABLE = "raw.declared_revisions"
RAW_DECLARED_REVISION_COLUMNS = {
    "edition": "VARCHAR NOT NULL",
    "indicator": "VARCHAR NOT NULL",
    "first_year": "INTEGER NOT NULL",
    "last_year": "INTEGER NOT NULL",
    "reason": "VARCHAR NOT NULL",
}
# The checksum of every file of an ingested edition (manifest and READMEs included), so a
# changed edition can say which files changed, were added or removed (editions are immutable).
EDITION_FILES_TABLE = "raw.edition_files"
RAW_EDITION_FILE_COLUMNS = {
    "edition": "VARCHAR NOT NULL",
    "file": "VARCHAR NOT NULL",
    "file_sha256": "VARCHAR NOT NULL",
}
# Values an edition held before it was re-read with `provpanel build --accept-changes`: an
# edition changed after ingest keeps its old values here (a superseded vintage), never lost.
SUPERSEDED_VALUES_TABLE = "raw.superseded_extract_values"
RAW_SUPERSEDED_COLUMNS = {**RAW_EXTRACT_COLUMNS, "superseded_at": "TIMESTAMP NOT NULL"}


RAW_TABLE_COMMENTS = {
    "raw.extract_values": "Every value read from every edition's downloads, long, with provenance to the source cell.",
    "raw.editions": "One row per ingested edition: its manifest and the checksums of its files.",
    DECLARED_REVISIONS_TABLE: "Revisions of earlier editions' values that an edition's manifest declares (key revisions).",
    EDITION_FILES_TABLE: "Every file of every ingested edition with its checksum: which files changed since ingest.",
    SUPERSEDED_VALUES_TABLE: "Values an edition held before it was changed and re-read with "
    "`provpanel build --accept-changes`: the superseded vintage, kept.",
}
RAW_COLUMN_COMMENTS = {
    "raw.extract_values": {
        "edition": "Edition key (the edition folder's name).",
        "file": "Path of the source file inside the edition folder.",
        "file_sha256": "SHA-256 of the source file's bytes.",
        "sheet": "Worksheet name for workbooks, else null.",
        "source_row": "1-based row (line) of the source cell.",
        "source_col": "1-based column (field) of the source cell.",
        "province_code": "Two-digit GB/T 2260 code; 00 for the national total row.",
        "year": "Calendar year the value refers to.",
        "indicator": "Catalog code, or the original label for a column outside the catalog.",
        "value": "The value, in `unit`.",
        "unit": "Canonical unit code of the catalog (printed unit for non-catalog columns).",
        "source_value": "The cell's text as read.",
        "source_unit": "The unit as printed in the file or given by the manifest.",
        "in_catalog": "Whether `indicator` is a catalog code.",
        "loaded_at": "When the edition was ingested (UTC).",
    },
    "raw.editions": {
        "edition": "Edition key (the edition folder's name).",
        "title": "Title from the manifest.",
        "published": "Publication date from the manifest; orders editions for the vintage policy.",
        "source": "Where the downloads come from (manifest).",
        "notes": "Free notes from the manifest.",
        "manifest_sha256": "SHA-256 of manifest.yml.",
        "files_sha256": "Checksum over every file's checksum: changes when any file changes.",
        "n_files": "Number of data files listed in the manifest.",
        "n_values": "Number of values stored from this edition.",
        "loaded_at": "When the edition was ingested (UTC).",
    },
    DECLARED_REVISIONS_TABLE: {
        "edition": "The revising edition (its manifest declares the revision).",
        "indicator": "Catalog code of the revised indicator.",
        "first_year": "First year of the revised span.",
        "last_year": "Last year of the revised span.",
        "reason": "Why the values were revised (manifest), e.g. an economic census.",
    },
    EDITION_FILES_TABLE: {
        "edition": "Edition key (the edition folder's name).",
        "file": "Path of the file inside the edition folder (manifest.yml and READMEs included).",
        "file_sha256": "SHA-256 of the file's bytes when the edition was ingested.",
    },
}
RAW_COLUMN_COMMENTS[SUPERSEDED_VALUES_TABLE] = {
    **RAW_COLUMN_COMMENTS["raw.extract_values"],
    "loaded_at": "When the superseded values were ingested (UTC).",
    "superseded_at": "When the edition was re-read with --accept-changes and these values replaced (UTC).",
}


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


def _create_table_sql(name: str, columns: dict[str, str]) -> str:
    body = ", ".join(f"{col} {ddl}" for col, ddl in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({body})"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(_create_table_sql("raw.extract_values", RAW_EXTRACT_COLUMNS))
    con.execute(_create_table_sql("raw.editions", RAW_EDITION_COLUMNS))
    con.execute(_create_table_sql(DECLARED_REVISIONS_TABLE, RAW_DECLARED_REVISION_COLUMNS))
    con.execute(_create_table_sql(EDITION_FILES_TABLE, RAW_EDITION_FILE_COLUMNS))
    con.execute(_create_table_sql(SUPERSEDED_VALUES_TABLE, RAW_SUPERSEDED_COLUMNS))
    for table, comment in RAW_TABLE_COMMENTS.items():
        con.execute(f"COMMENT ON TABLE {table} IS {_comment_literal(comment)}")
        for column, column_comment in RAW_COLUMN_COMMENTS[table].items():
            con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_comment_literal(column_comment)}")


def stored_edition_fingerprint(con: duckdb.DuckDBPyConnection, edition: str) -> str | None:
    ensure_raw_schema(con)
    row = con.execute("SELECT files_sha256 FROM raw.editions WHERE edition = ?", [edition]).fetchone()
    return row[0] if row else None


def replace_edition(con: duckdb.DuckDBPyConnection, edition_row: dict, values: pd.DataFrame,
                    declared_revisions: pd.DataFrame | None = None, *,
                    file_checksums: dict[str, str] | None = None, supersede: bool = False) -> None:
    """Replace exactly one edition's rows in raw.extract_values, raw.editions,
    raw.declared_revisions and raw.edition_files, atomically. `supersede`: the edition changed
    since it was ingested (accepted): its old values move to raw.superseded_extract_values."""
    ensure_raw_schema(con)
    edition = edition_row["edition"]
    frame = values.reindex(columns=list(RAW_EXTRACT_COLUMNS))
    if (frame["edition"] != edition).any():
        raise ValueError(f"values of another edition passed to replace_edition({edition!r})")
    edition_frame = pd.DataFrame([edition_row]).reindex(columns=list(RAW_EDITION_COLUMNS))
    revisions_frame = (declared_revisions if declared_revisions is not None else pd.DataFrame()).reindex(
        columns=list(RAW_DECLARED_REVISION_COLUMNS)).assign(edition=edition)
    files_frame = pd.DataFrame(sorted((file_checksums or {}).items()), columns=["file", "file_sha256"]) \
        .assign(edition=edition).reindex(columns=list(RAW_EDITION_FILE_COLUMNS))
    con.execute("BEGIN TRANSACTION")
    try:
        if supersede:
            columns = ", ".join(RAW_EXTRACT_COLUMNS)
            con.execute(f"""INSERT INTO {SUPERSEDED_VALUES_TABLE} ({columns}, superseded_at)
                            SELECT {columns}, ? FROM raw.extract_values WHERE edition = ?""",
                        [datetime.now(UTC).replace(tzinfo=None), edition])
        con.execute("DELETE FROM raw.extract_values WHERE edition = ?", [edition])
        con.execute("DELETE FROM raw.editions WHERE edition = ?", [edition])
        con.execute(f"DELETE FROM {DECLARED_REVISIONS_TABLE} WHERE edition = ?", [edition])
        con.execute(f"DELETE FROM {EDITION_FILES_TABLE} WHERE edition = ?", [edition])
        con.register("incoming_values", frame)
        con.execute("INSERT INTO raw.extract_values SELECT * FROM incoming_values")
        con.register("incoming_edition", edition_frame)
        con.execute("INSERT INTO raw.editions SELECT * FROM incoming_edition")
        if len(revisions_frame):
            con.register("incoming_revisions", revisions_frame)
            con.execute(f"INSERT INTO {DECLARED_REVISIONS_TABLE} SELECT * FROM incoming_revisions")
            con.unregister("incoming_revisions")
        if len(files_frame):
            con.register("incoming_files", files_frame)
            con.execute(f"INSERT INTO {EDITION_FILES_TABLE} SELECT * FROM incoming_files")
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
