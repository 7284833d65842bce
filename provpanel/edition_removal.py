"""Taking an edition back (`provpanel remove EDITION`, the UI's job `remove_edition`).

Removes the edition's rows from every raw table keyed by edition (its values, its row in
raw.editions, its declared revisions, file checksums and superseded values) in one transaction,
and its Dagster partition; the caller then rebuilds the panel without it. Only a stored edition
whose folder is no longer an edition can be removed: otherwise the next build would read it again.
"""

from __future__ import annotations

from pathlib import Path

from provpanel import warehouse
from provpanel.editions import list_editions

EDITIONS_PARTITIONS = "editions"  # orchestration/partitions.py


class RemoveEditionError(Exception):
    """The edition cannot be removed: the message says why and what to do."""


def remove_stored_edition(warehouse_path: Path, editions_root: Path, edition: str) -> dict[str, int]:
    """Delete the edition from every raw table; returns rows deleted per table."""
    stored: list[str] = []
    if Path(warehouse_path).exists():
        with warehouse.open_warehouse(warehouse_path) as con:
            warehouse.ensure_raw_schema(con)
            stored = [row[0] for row in con.execute("SELECT edition FROM raw.editions ORDER BY edition").fetchall()]
            if edition in stored:
                _refuse_present(editions_root, edition)
                return _delete_edition(con, edition)
    raise RemoveEditionError(f"no stored edition {edition!r}; stored editions: {', '.join(stored) or 'none'} "
                             "(`provpanel editions` lists them)")


def _refuse_present(editions_root: Path, edition: str) -> None:
    if edition in list_editions(editions_root):
        raise RemoveEditionError(
            f"edition {edition} is still in the editions folder ({Path(editions_root) / edition}): the next "
            "build would read it again. Move the folder out of the editions folder (or delete it), then remove it")


def _delete_edition(con, edition: str) -> dict[str, int]:
    deleted = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table in warehouse.raw_tables_with_editions(con):
            deleted[table] = con.execute(f"DELETE FROM {table} WHERE edition = ?", [edition]).fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return deleted


def remove_partition(instance, edition: str) -> bool:
    """Delete the edition's Dagster partition (dynamic partition of `editions`), if there is one."""
    if edition in instance.get_dynamic_partitions(EDITIONS_PARTITIONS):
        instance.delete_dynamic_partition(EDITIONS_PARTITIONS, edition)
        return True
    return False
