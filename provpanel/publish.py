"""Publish the validated panel to a separate read-only DuckDB file and its Parquet copies,
switched in together as one version.

Analysts never open the working warehouse (DuckDB allows one writer and no readers beside
it). They read `published/provpanel.duckdb` and `published/parquet/*.parquet`. Both are
stable symbolic links through `published/current`, which points at one complete version
folder, `published/versions/<version>/` (the DuckDB file and every Parquet copy of that
build). A new version is written aside (`versions/.<version>.tmp/`), renamed into place
whole, and `current` is switched to it by one atomic rename of a symlink: a reader that
resolves a path sees the old version or the new one, never a mix of the two, at every
moment of a publication and after a kill at any point of it; a reader that opened the old
DuckDB file keeps reading it. The previous version is kept for readers that are still
resolving it; older ones are pruned. Table and column comments travel with the data.

    published/
      provpanel.duckdb -> current/provpanel.duckdb
      parquet          -> current/parquet
      current          -> versions/20261201T101500123456Z
      versions/20261201T101500123456Z/{provpanel.duckdb, parquet/*.parquet}
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from provpanel.panel_digest import DIGEST_TABLE, PANEL_TABLE, write_digest
from provpanel.warehouse import table_exists

PUBLISHED_SCHEMAS = ("raw", "lookups", "marts", "analysis")
PARQUET_TABLES = ("marts.province_year_panel", "marts.indicator_revisions", "marts.panel_input_cells")
PARQUET_ANALYSIS_SCHEMA = "analysis"  # every table of it gets a Parquet copy too


@dataclass(frozen=True)
class PublishSummary:
    path: Path
    tables: list[str]
    parquet: list[Path]
    seconds: float


SNAPSHOT_FILE = "provpanel.duckdb"
SNAPSHOT_STORAGE_VERSION = "v1.1.0"
PARQUET_FOLDER = "parquet"


def published_dir(home: Path) -> Path:
    return Path(home) / "published"


def published_path(home: Path) -> Path:
    """The analysts' DuckDB file (a stable link into the current version)."""
    return published_dir(home) / SNAPSHOT_FILE


def current_version(home: Path) -> Path | None:
    """The folder of the version analysts see now, None before the first publication."""
    current = published_dir(home) / "current"
    return current.resolve() if current.is_symlink() else None


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
    root = published_dir(home)
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    remove_unfinished_publications(home)
    _adopt_unversioned_snapshot(root)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging_dir = versions / f".{version}.{os.getpid()}.tmp"
    staging_dir.mkdir()
    staging = staging_dir / SNAPSHOT_FILE
    try:
        tables = _copy_published_schemas(warehouse_path, staging)
        _write_parquet(staging, staging_dir / PARQUET_FOLDER)
        _fsync_tree(staging_dir)
    except BaseException:
        # a full disk: give the space back at once (the current version was never touched)
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    final_dir = versions / version
    os.rename(staging_dir, final_dir)  # a version folder exists only complete
    _fsync_dir(versions)
    previous = current_version(home)
    _switch_link(root / "current", Path("versions") / version)  # the one moment readers switch
    _ensure_stable_links(root)
    _prune_versions(root, keep={final_dir, previous})
    parquet = sorted((root / PARQUET_FOLDER).glob("*.parquet"))
    return PublishSummary(published_path(home), tables, parquet, time.monotonic() - started)


def _copy_published_schemas(warehouse_path: Path, staging: Path) -> list[str]:
    con = duckdb.connect()  # in memory: reads the working file read-only, writes the staging file
    tables: list[str] = []
    try:
        con.execute(f"ATTACH {_literal(str(warehouse_path))} AS working (READ_ONLY)")
        # the oldest storage format that holds everything published: DuckDB 1.1+ clients (what
        # many R and DBeaver installs still have) open the snapshot
        con.execute(f"ATTACH {_literal(str(staging))} AS snapshot (STORAGE_VERSION '{SNAPSHOT_STORAGE_VERSION}')")
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
        if f"{PANEL_TABLE}" in tables:  # the content digest a paper can cite (provpanel/panel_digest.py)
            write_digest(con, "snapshot")
            tables.append(DIGEST_TABLE)
        con.execute("DETACH snapshot")
        con.execute("DETACH working")
    finally:
        con.close()
    return tables


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in [*(p for p in folder.rglob("*") if p.is_dir()), folder]:
        _fsync_dir(path)


def _switch_link(link: Path, target: Path) -> None:
    """Point `link` at `target` by renaming a new symlink over it: atomic on POSIX."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    if link.is_dir() and not link.is_symlink():
        # a home copied without its links (cp -r, copytree): the copy's folder is moved aside
        aside = link.with_name(f".{link.name}.copied.{os.getpid()}.tmp")
        os.rename(link, aside)
        os.replace(temporary, link)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(temporary, link)
    _fsync_dir(link.parent)


def _ensure_stable_links(root: Path) -> None:
    """`provpanel.duckdb` and `parquet` as links through `current`. Made once (the plain file
    and folder of an unversioned home are replaced, see `_adopt_unversioned_snapshot`)."""
    for name in (SNAPSHOT_FILE, PARQUET_FOLDER):
        link = root / name
        target = Path("current") / name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            aside = root / f".{name}.old.{os.getpid()}.tmp"
            os.rename(link, aside)
            _switch_link(link, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            _switch_link(link, target)


def _adopt_unversioned_snapshot(root: Path) -> None:
    """A home published before versions existed has a plain `provpanel.duckdb` and `parquet/`.
    They become a version of their own (hard links: no copy, no gap) and `current` points at
    it before the stable links replace them, so readers never see the old file beside new
    Parquet copies. The only gap: the old Parquet folder's path is absent for the instant
    between moving it aside and linking it."""
    plain = root / SNAPSHOT_FILE
    if not plain.exists() or plain.is_symlink():
        return
    legacy = root / "versions" / "00000000T000000000000Z-unversioned"
    if not legacy.exists():
        staging = legacy.with_name(f".{legacy.name}.tmp")
        (staging / PARQUET_FOLDER).mkdir(parents=True)
        os.link(plain, staging / SNAPSHOT_FILE)
        for parquet in (root / PARQUET_FOLDER).glob("*.parquet"):
            os.link(parquet, staging / PARQUET_FOLDER / parquet.name)
        os.rename(staging, legacy)
    _switch_link(root / "current", Path("versions") / legacy.name)
    _ensure_stable_links(root)


def remove_unfinished_publications(home: Path) -> None:
    """What a publication killed half-way left: temporary links, files and version folders
    that were never switched in. Each name carries the writing process's id
    (`.<name>.<pid>.tmp`): one whose process still runs is left alone (a run launched from the
    UI may be publishing). Called by every publication and at the start of every build, so a
    build that finds nothing to do still cleans up."""
    root = published_dir(home)
    if not root.is_dir():
        return
    candidates = [*root.glob(".*.tmp")]
    if (root / "versions").is_dir():
        candidates += [*(root / "versions").glob(".*.tmp")]
    for stale in candidates:
        if _writer_alive(stale.name):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _writer_alive(name: str) -> bool:
    parts = name.split(".")
    pid = parts[-2] if len(parts) >= 3 else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_versions(root: Path, *, keep: set[Path | None]) -> None:
    """Remove every version but the current one and the one before it (readers may still be
    resolving it); complete versions that a killed build never switched in go too."""
    for version in (root / "versions").iterdir():
        if version.is_dir() and not version.name.startswith(".") and version.resolve() not in keep:
            shutil.rmtree(version, ignore_errors=True)


def _write_parquet(snapshot: Path, folder: Path) -> list[Path]:
    """Parquet copies of the panel tables and of every analysis table, inside the version folder
    being prepared, each carrying its table and column descriptions (parquet_descriptions)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        analysis_tables = [f"{PARQUET_ANALYSIS_SCHEMA}.{name}" for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name",
            [PARQUET_ANALYSIS_SCHEMA]).fetchall()]
        for table in [*PARQUET_TABLES, *analysis_tables]:
            schema, name = table.split(".")
            if not table_exists(con, schema, name):
                continue
            final = folder / f"{name}.parquet"
            if final in written:  # the same name in two schemas: the later one says its schema
                final = folder / f"{schema}_{name}.parquet"
            con.execute(f"COPY {table} TO {_literal(str(final))} "
                        f"(FORMAT parquet, KV_METADATA {kv_metadata(parquet_descriptions(con, schema, name))})")
            written.append(final)
    finally:
        con.close()
    return written


def parquet_descriptions(con, schema: str, name: str) -> dict[str, str]:
    """The key-value metadata a Parquet copy carries: `table` (its name in the snapshot),
    `description` (the table's comment) and `column:<name>` (each column's comment). A reader
    gets them with DuckDB's `parquet_kv_metadata(file)` (decode(value)) or pyarrow's
    `read_schema(file).metadata`."""
    table_comment = con.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                                [schema, name]).fetchone()
    entries = {"table": f"{schema}.{name}"}
    if table_comment and table_comment[0]:
        entries["description"] = table_comment[0]
    for column, comment in con.execute(
            """SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?
               AND comment IS NOT NULL ORDER BY column_index""", [schema, name]).fetchall():
        entries[f"column:{column}"] = comment
    return entries


def kv_metadata(entries: dict[str, str]) -> str:
    """The entries as the DuckDB literal COPY's KV_METADATA option takes."""
    return "{" + ", ".join(f"{_literal(key)}: {_literal(value)}" for key, value in entries.items()) + "}"
