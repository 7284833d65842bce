"""Analysts' SQL against the published snapshot, in DuckDB's own sandbox: statements that read,
and nothing else; files read only where the user said; results streamed.

Opening the snapshot with `read_only=True` is not enough: a read-only connection can still
ATTACH another file, COPY a query's result to a file (even from inside a CTE), read the working
warehouse behind the published snapshot with `read_duckdb`, INSTALL an extension or change its
own settings. So, before the user's text runs:

1. The engine is limited and the limits locked (`sandbox`): `enable_external_access = false`
   with `allowed_directories` = the folders the user names (`--allow`, by default the current
   folder; never one that holds PROVPANEL_HOME or lies inside it, see `allowed_folders`), so
   files are read only there (DuckDB resolves links before it checks; the database it opened
   stays readable); no extension autoloading or installing; the spill folder
   (`temp_directory`) a fresh temporary folder outside the home, removed afterwards (DuckDB's
   default is `<database>.tmp`, inside the published version folder); a memory limit; then
   `lock_configuration = true`, so no statement can change any of it.
2. Every statement is judged on DuckDB's parsed tree (`json_serialize_sql`): only query nodes
   that read (SELECT, set operations, CTEs) may appear anywhere in it, so a DELETE, UPDATE,
   INSERT or COPY inside a CTE or a subquery is refused; DESCRIBE, SHOW and SUMMARIZE are
   queries to DuckDB; EXPLAIN [ANALYZE] is judged by the statement it explains (found with
   DuckDB's tokenizer, so comments do not change the verdict); a PIVOT without an IN list
   (which DuckDB parses into two statements: an enum type in memory, then the query, and
   cannot serialise) is judged on DuckDB's tokens: no keyword that starts a statement that
   writes, attaches, loads or reconfigures. Anything else (ATTACH, COPY, EXPORT, INSTALL,
   LOAD, SET, PRAGMA, CALL, CREATE, every write) is refused before anything runs, with a
   message that quotes the user's own text.
3. The last statement's result streams (`stream_rows`): rows are fetched in batches and
   printed as they come; a table shows `max_rows` rows (1000 by default) and says how many more
   there were, counting the rest without keeping it for up to COUNT_SECONDS (past that it says
   "at least N"); CSV writes every row unless `--max-rows` is given.

Design choice: table functions that READ files (`read_csv`, `read_parquet`, ...) stay allowed
under the allowed folders, so an analyst can join the panel with a file of their own in one
query. Nothing can be written: exporting the panel is `provpanel export`'s job.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

ALLOWED = "queries (SELECT, WITH, FROM ..., PIVOT), DESCRIBE, SHOW, SUMMARIZE and EXPLAIN of a query"

# Query nodes of DuckDB's parsed tree that only read. Everything else that is a query node
# (DELETE_QUERY_NODE, UPDATE_QUERY_NODE, INSERT_QUERY_NODE, COPY_QUERY_NODE, ... in 2.0) writes.
READING_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "CTE_NODE", "RECURSIVE_CTE_NODE"})

# Keywords that start a statement which is not a query (or mark a write: RETURNING). A PIVOT
# without an IN list, which DuckDB cannot serialise, is refused if any of them is among its
# tokens (a conservative rule: such a word as an unquoted column name is refused too).
STATEMENT_KEYWORDS = frozenset({
    "abort", "alter", "attach", "begin", "call", "checkpoint", "comment", "commit", "copy",
    "create", "deallocate", "delete", "detach", "drop", "execute", "export", "force", "import",
    "insert", "install", "load", "merge", "pragma", "prepare", "reset", "returning", "rollback",
    "set", "truncate", "update", "use", "vacuum",
})

DEFAULT_TABLE_ROWS = 1000
TABLE_PAGE_ROWS = 1000  # a table is aligned page by page: rows beyond a page are never held
FETCH_ROWS = 10_000
COUNT_SECONDS = 2.0
MEMORY_LIMIT = "50%"  # of the memory DuckDB sees (its default is 80 %): room for Python and the rest


class NotReadOnlyError(ValueError):
    """A statement that could write, attach, load or reconfigure."""


class SandboxError(ValueError):
    """A folder given with --allow that cannot be allowed."""


# --- what the engine allows -------------------------------------------------------------------

@dataclass(frozen=True)
class AllowedFolders:
    folders: tuple[Path, ...]
    # why the current folder is not among them, when it was the default and could not be
    withheld: str | None = None

    def describe(self) -> str:
        named = ", ".join(str(folder) for folder in self.folders) or "none"
        why = f" ({self.withheld})" if self.withheld else ""
        return (f"files are read only under the folders given with --allow DIR (default: the current folder): "
                f"{named}{why}; never under PROVPANEL_HOME")


def allowed_folders(given: Sequence[str] | None, *, home: Path, cwd: Path) -> AllowedFolders:
    """The folders whose files a query may read: `given` (each an existing folder that neither
    holds `home` nor lies inside it, else SandboxError), or by default the current folder, left
    out when it holds the home or lies inside it (the default home is <repo>/.provpanel)."""
    home = Path(home).resolve()
    if not given:
        current = Path(cwd).resolve()
        if _reaches(current, home):
            return AllowedFolders((), withheld=f"the current folder {current} "
                                  f"{'contains' if home.is_relative_to(current) else 'lies inside'} "
                                  f"PROVPANEL_HOME {home}")
        return AllowedFolders((current,))
    folders: list[Path] = []
    for text in given:
        folder = Path(text).expanduser().resolve()
        if not folder.is_dir():
            raise SandboxError(f"--allow {text}: no such folder")
        if _reaches(folder, home):
            where = "contains" if home.is_relative_to(folder) else "lies inside"
            raise SandboxError(
                f"--allow {text} {where} PROVPANEL_HOME ({home}): the working warehouse and the published "
                f"versions are not readable behind the snapshot; name a folder outside it")
        if folder not in folders:
            folders.append(folder)
    return AllowedFolders(tuple(folders))


def _reaches(folder: Path, home: Path) -> bool:
    return home.is_relative_to(folder) or folder.is_relative_to(home)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sandbox(con: duckdb.DuckDBPyConnection, *, allow: Sequence[Path], temp_dir: Path,
            memory_limit: str = MEMORY_LIMIT) -> None:
    """DuckDB's limits on an open connection, then locked. The order matters in DuckDB 2.0.1:
    `temp_directory` and `allowed_directories` cannot be changed once external access is off
    (and a `config=` at connect applies them in an order that fails), and turning it off keeps
    the database already open readable (its file joins `allowed_paths`); the temporary folder
    joins `allowed_directories` by itself."""
    folders = "[" + ", ".join(_literal(str(folder).rstrip("/") + "/") for folder in allow) + "]"
    for statement in (
        f"SET temp_directory = {_literal(str(temp_dir))}",
        f"SET allowed_directories = {folders}",
        "SET enable_external_access = false",
        "SET autoload_known_extensions = false",
        "SET autoinstall_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET enable_progress_bar = false",  # never drawn into the rows on stdout
        f"SET memory_limit = {_literal(memory_limit)}",
        "SET lock_configuration = true",
    ):
        con.execute(statement)


@contextmanager
def sandboxed_connection(database: Path, *, allow: Sequence[Path],
                         wait_seconds: float = 0) -> Iterator[duckdb.DuckDBPyConnection]:
    """`database` opened read-only in the sandbox, with a fresh spill folder outside the home
    that is removed when the connection closes."""
    from provpanel.warehouse import open_warehouse

    temp_dir = Path(tempfile.mkdtemp(prefix="provpanel-sql-"))
    try:
        with open_warehouse(database, read_only=True, wait_seconds=wait_seconds) as con:
            sandbox(con, allow=allow, temp_dir=temp_dir)
            yield con
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


def permission_message(err: duckdb.Error, allowed: AllowedFolders) -> str:
    """DuckDB's refusal to read a file (its first line) and where files can be read."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return f"{first}; {allowed.describe()}"


# --- what a statement does --------------------------------------------------------------------

def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> list[str]:
    """The statements of `query` (as the user wrote them) if every one only reads; else
    NotReadOnlyError naming the first offending statement, in the user's words, and what is
    allowed. Parse errors propagate as duckdb.ParserException."""
    if not query.strip():
        raise NotReadOnlyError(f"no SQL statement given; allowed: {ALLOWED}")
    statements = con.extract_statements(query)
    if not statements:
        raise NotReadOnlyError(f"no SQL statement given; allowed: {ALLOWED}")
    accepted = []
    for number, statement in enumerate(statements, start=1):
        text = statement.query
        kind = _refusal(con, text, _statement_type(statement))
        if kind is not None:
            snippet = " ".join(text.split())
            snippet = snippet if len(snippet) <= 60 else snippet[:60] + "..."
            raise NotReadOnlyError(
                f"statement {number} ({kind}: `{snippet}`) is refused: the snapshot is read-only; "
                f"allowed: {ALLOWED}. To write the panel to a file use `provpanel export`."
            )
        accepted.append(text.strip())
    return accepted


def _statement_type(statement: duckdb.Statement) -> str:
    """DuckDB's name for the statement's type; for a type the Python client has no name for
    (UPDATE EXTENSIONS in 2.0.1), its first word."""
    try:
        return statement.type.name
    except ValueError:
        words = _significant(statement.query)
        return words[0].word.upper() if words else "UNKNOWN"


def _refusal(con: duckdb.DuckDBPyConnection, text: str, statement_type: str) -> str | None:
    """None if the statement only reads, else what it does that is refused."""
    if statement_type == "SELECT":
        return _written_inside(con, text)
    if statement_type == "EXPLAIN":
        return _explain_refusal(con, text)
    if statement_type == "MULTI":
        return _pivot_refusal(text)
    return statement_type


def _written_inside(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    answer = json.loads(con.execute("SELECT json_serialize_sql(?)", [text]).fetchone()[0])
    if answer.get("error"):
        return f"a statement DuckDB cannot show ({answer.get('error_message')})"
    for node in _query_nodes(answer.get("statements", [])):
        if node not in READING_NODES:
            return f"{node.removesuffix('_NODE').removesuffix('_QUERY')} inside a query"
    return None


def _query_nodes(tree: object) -> Iterator[str]:
    """Every query node's type in a json_serialize_sql tree, wherever it sits (CTE bodies,
    subqueries in FROM, WHERE or SELECT lists, set operations, DESCRIBE/SUMMARIZE sources)."""
    pending = [tree]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if isinstance(kind, str) and kind.endswith("_NODE"):
                yield kind
            pending.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            pending.extend(reversed(item))


@dataclass(frozen=True)
class _Token:
    word: str  # as written, without the whitespace after it
    kind: duckdb.token_type
    start: int  # byte offset in the UTF-8 text (duckdb.tokenize counts bytes)


def _tokens(text: str) -> list[_Token]:
    raw = text.encode()
    found = duckdb.tokenize(text)
    tokens = []
    for index, (start, kind) in enumerate(found):
        end = found[index + 1][0] if index + 1 < len(found) else len(raw)
        tokens.append(_Token(raw[start:end].decode(errors="replace").strip(), kind, start))
    return tokens


def _significant(text: str) -> list[_Token]:
    return [token for token in _tokens(text) if token.kind != duckdb.token_type.comment]


def _explain_refusal(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """EXPLAIN [ANALYZE] [(options)] <statement>: judged by <statement> (EXPLAIN ANALYZE runs
    it). Where the options end is read from DuckDB's tokens, comments left out; `EXPLAIN (...)`
    may be options or a query in parentheses, so every reading of it that DuckDB parses as one
    statement is judged, and all must read."""
    raw = text.encode()
    tokens = _significant(text)
    if not tokens or tokens[0].word.lower() != "explain":
        return "EXPLAIN of something DuckDB's tokens do not show"
    position = 1
    if position < len(tokens) and tokens[position].word.lower() in ("analyze", "analyse"):
        position += 1
    starts = [position]
    if position < len(tokens) and tokens[position].word.startswith("("):
        depth = 0
        for index in range(position, len(tokens)):
            if tokens[index].kind == duckdb.token_type.operator:
                depth += tokens[index].word.count("(") - tokens[index].word.count(")")
            if depth <= 0:
                starts.append(index + 1)
                break
    readings = []
    for start in starts:
        if start >= len(tokens):
            continue
        inner = raw[tokens[start].start:].decode()
        try:
            inner_statements = con.extract_statements(inner)
        except duckdb.Error:
            continue
        if len(inner_statements) == 1:
            readings.append(inner_statements[0])
    if not readings:
        return "EXPLAIN of nothing DuckDB parses"
    for reading in readings:
        kind = _refusal(con, reading.query, _statement_type(reading))
        if kind is not None:
            return f"EXPLAIN of {kind}"
    return None


def _pivot_refusal(text: str) -> str | None:
    words = [token.word.lower() for token in _significant(text) if token.kind == duckdb.token_type.keyword]
    if "pivot" not in words and "unpivot" not in words:
        return "MULTI"
    for word in words:
        if word in STATEMENT_KEYWORDS:
            return f"{word.upper()} inside a PIVOT"
    return None


def run_read_only(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyConnection:
    """Check every statement, then run them on a connection whose configuration is locked
    (`sandbox`); the last one's cursor, its result not yet fetched."""
    if not con.execute("SELECT current_setting('lock_configuration')").fetchone()[0]:
        raise RuntimeError("run_read_only needs a sandboxed connection (read_only_sql.sandbox)")
    statements = check_read_only(con, query)
    cursor = con
    for statement in statements:
        cursor = con.execute(statement)
    return cursor


# --- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Streamed:
    shown: int
    more: int  # rows after the shown ones, as far as they were counted
    counted_all: bool  # False: the count stopped after COUNT_SECONDS, there are at least `more`

    def note(self) -> str | None:
        """What a reader is told about the rows not shown; None when every row was shown."""
        if not self.more:
            return None
        how_many = (f"{self.more} more not shown" if self.counted_all else
                    f"more not shown (at least {self.more} more, counted for {COUNT_SECONDS:g} s)")
        return f"{self.shown} rows shown, {how_many}; --max-rows N shows N, 0 every row; --format csv streams them all"


def stream_rows(cursor: duckdb.DuckDBPyConnection, *, fmt: str, max_rows: int,
                table: Callable[[list[tuple], list[str]], str], out: TextIO) -> Streamed:
    """The cursor's rows written to `out` as they are fetched: CSV, or tables of up to
    TABLE_PAGE_ROWS rows formatted by `table`. `max_rows` 0: every row. No more than a batch
    and a page of rows is ever held."""
    columns = [description[0] for description in cursor.description]
    # a batch is written at once: with PYTHONUNBUFFERED (or a terminal) a row per write would be
    # a system call per row
    batch = io.StringIO()
    writer = csv.writer(batch, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    shown, page = 0, []
    while not max_rows or shown < max_rows:
        wanted = FETCH_ROWS if not max_rows else min(FETCH_ROWS, max_rows - shown)
        rows = cursor.fetchmany(wanted)
        if not rows:
            break
        shown += len(rows)
        if writer is not None:
            writer.writerows(rows)
            out.write(batch.getvalue())
            batch.seek(0)
            batch.truncate()
            continue
        while rows:
            room = TABLE_PAGE_ROWS - len(page)
            page.extend(rows[:room])
            rows = rows[room:]
            if len(page) == TABLE_PAGE_ROWS:
                print(table(page, columns), file=out, flush=True)
                page = []
    if writer is not None:
        out.write(batch.getvalue())  # the header of an empty result
    elif page or not shown:
        print(table(page, columns), file=out)
    out.flush()
    if not max_rows or shown < max_rows:
        return Streamed(shown, 0, True)
    more, counted_all = _count_rest(cursor)
    return Streamed(shown, more, counted_all)


def _count_rest(cursor: duckdb.DuckDBPyConnection, seconds: float = COUNT_SECONDS) -> tuple[int, bool]:
    """Rows left in the result, fetched and dropped; (counted, whether that was all of them)."""
    counted, deadline = 0, time.monotonic() + seconds
    while True:
        rows = cursor.fetchmany(FETCH_ROWS)
        if not rows:
            return counted, True
        counted += len(rows)
        if time.monotonic() >= deadline:
            return counted, False
