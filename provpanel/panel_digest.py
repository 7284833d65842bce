"""A digest of the published panel's content, so a paper can cite the panel it used and anyone
can check that they rebuilt the same one.

The digest is SHA-256 over a canonical text of `marts.province_year_panel`: a first line with
the column names and types, then one line per row ordered by province_code and year, each
value as text (a float by its shortest round-trip form, so equal bits give equal text; null
empty; booleans true/false), fields separated by a tab. Equal numbers give an equal digest,
whatever the file's storage layout; a change in the last bit of one value changes it.
Recompute it in Python with `panel_digest(duckdb.connect(published_path, read_only=True))`.
"""

from __future__ import annotations

import hashlib
import math

import duckdb

PANEL_TABLE = "marts.province_year_panel"
DIGEST_TABLE = "marts.panel_digest"
ALGORITHM = ("sha256 of: column names and types, then each row ordered by province_code and year, values as "
             "text (floats in shortest round-trip form, null empty, booleans true/false), tab-separated, one "
             "line per row (provpanel/panel_digest.py)")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def panel_digest(con: duckdb.DuckDBPyConnection, table: str = PANEL_TABLE) -> tuple[str, int, int]:
    """(hex digest, rows, columns) of `table` as `con` sees it."""
    described = con.execute(f"DESCRIBE {table}").fetchall()
    digest = hashlib.sha256()
    digest.update(("\t".join(f"{name}:{kind}" for name, kind, *_ in described) + "\n").encode("utf-8"))
    cursor = con.execute(f"SELECT * FROM {table} ORDER BY province_code, year")
    rows = 0
    while batch := cursor.fetchmany(5000):
        for row in batch:
            digest.update(("\t".join(_text(value) for value in row) + "\n").encode("utf-8"))
        rows += len(batch)
    return digest.hexdigest(), rows, len(described)


def write_digest(con: duckdb.DuckDBPyConnection, database: str) -> str:
    """Compute the digest of `database`'s panel and store it there as marts.panel_digest."""
    sha256, rows, columns = panel_digest(con, f"{database}.{PANEL_TABLE}")
    target = f"{database}.{DIGEST_TABLE}"
    con.execute(f"CREATE OR REPLACE TABLE {target} (panel_table VARCHAR, sha256 VARCHAR, n_rows INTEGER, "
                "n_columns INTEGER, algorithm VARCHAR)")
    con.execute(f"INSERT INTO {target} VALUES (?, ?, ?, ?, ?)", [PANEL_TABLE, sha256, rows, columns, ALGORITHM])
    con.execute(f"COMMENT ON TABLE {target} IS 'The digest of the published panel''s content: cite the panel "
                "by it; a rebuild of the same editions and settings gives the same digest.'")
    for column, comment in (("panel_table", "The table the digest is of."),
                            ("sha256", "SHA-256 of the table's canonical text (see algorithm), hex."),
                            ("n_rows", "Rows of the table."), ("n_columns", "Columns of the table."),
                            ("algorithm", "How the canonical text is made, to recompute the digest.")):
        quoted = comment.replace("'", "''")
        con.execute(f"COMMENT ON COLUMN {target}.{column} IS '{quoted}'")
    return sha256


def published_digest(path) -> str | None:
    """The digest recorded in a published snapshot, or None (none recorded, or no snapshot)."""
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(f"SELECT sha256 FROM {DIGEST_TABLE}").fetchone()
    except (duckdb.Error, OSError):
        return None
    return row[0] if row else None
