"""Analysts' SQL against the published snapshot: statements that read, and nothing else.

Opening the snapshot with `read_only=True` is not enough: a read-only connection can still
ATTACH another file read-write, COPY a query's result over a published Parquet file, EXPORT
the database, INSTALL an extension or change its own settings. So every statement is
classified by DuckDB's own parser before anything runs, and only queries (SELECT, FROM-first,
WITH, PIVOT as a subquery, VALUES), DESCRIBE, SHOW, SUMMARIZE and EXPLAIN of such a query are
accepted; the connection's configuration is then locked.

Design choice: table functions that READ files (`read_csv`, `read_parquet`, ...) stay
allowed, so an analyst can join the panel with a file of their own in one query. Nothing can
be written: exporting the panel is `provpanel export`'s job.
"""

from __future__ import annotations

import re

import duckdb

ALLOWED = "queries (SELECT, WITH, FROM ...), DESCRIBE, SHOW, SUMMARIZE and EXPLAIN of a query"

# EXPLAIN [ANALYZE] [(options)] <statement>: the wrapped statement is what runs (EXPLAIN
# ANALYZE executes it), so it must itself be a query.
_EXPLAIN_PREFIX = re.compile(r"^\s*explain\s+(analyze\s+|\([^)]*\)\s*)?", re.IGNORECASE)


class NotReadOnlyError(ValueError):
    """A statement that could write, attach, load or reconfigure."""


def _statement_kind(statement: duckdb.Statement) -> str:
    return statement.type.name


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    """The statements of `query` (as text) if every one only reads; else NotReadOnlyError
    naming the first offending statement and what is allowed. Parse errors propagate as
    duckdb.ParserException."""
    if not query.strip():
        raise NotReadOnlyError(f"no SQL statement given; allowed: {ALLOWED}")
    statements = con.extract_statements(query)
    if not statements:
        raise NotReadOnlyError(f"no SQL statement given; allowed: {ALLOWED}")
    accepted = []
    for number, statement in enumerate(statements, start=1):
        kind = _statement_kind(statement)
        text = statement.query.strip()
        if kind == "EXPLAIN":
            inner = _EXPLAIN_PREFIX.sub("", text, count=1)
            inner_statements = con.extract_statements(inner) if inner.strip() else []
            if len(inner_statements) != 1 or _statement_kind(inner_statements[0]) != "SELECT":
                kind = f"EXPLAIN of {_statement_kind(inner_statements[0]) if inner_statements else 'nothing'}"
            else:
                kind = "SELECT"
        if kind != "SELECT":
            snippet = " ".join(text.split())[:60]
            raise NotReadOnlyError(
                f"statement {number} ({kind}: `{snippet}`) is refused: the snapshot is read-only; "
                f"allowed: {ALLOWED}. To write the panel to a file use `provpanel export`."
            )
        accepted.append(text)
    return accepted


def lock_connection(con: duckdb.DuckDBPyConnection) -> None:
    """No extension installs, no community extensions, and no further SET: the connection
    keeps the configuration it was opened with."""
    if con.execute("SELECT current_setting('lock_configuration')").fetchone()[0]:
        return
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET allow_community_extensions = false")
    con.execute("SET lock_configuration = true")


def run_read_only(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyConnection:
    """Check every statement, lock the connection, then run them; the last one's cursor."""
    statements = check_read_only(con, query)
    lock_connection(con)
    cursor = con
    for statement in statements:
        cursor = con.execute(statement)
    return cursor
