"""Publication is all files or none: the DuckDB snapshot and its Parquet copies switch together.

A publication is SIGKILLed at precise moments (right after a Parquet copy is written, around
the rename of the version folder, during the switch of `current`, during pruning); after each
kill the DuckDB file and the Parquet copies that analysts open are one version, the old one or
the new one, and the next publication needs no repair."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from provpanel.publish import (
    current_version,
    publish,
    published_dir,
    published_path,
    remove_unfinished_publications,
)

PANEL_DIGEST = ("SELECT count(*), sum(hash(province_code, year, round(tu, 9), round(ic, 9))) "
                "FROM {table}")
REVISIONS_COUNT = "SELECT count(*) FROM {table}"


def _what_analysts_see(home) -> tuple:
    """(panel digest, revisions count) from the DuckDB file and from the Parquet copies."""
    con = duckdb.connect(str(published_path(home)), read_only=True)
    try:
        from_duckdb = (con.execute(PANEL_DIGEST.format(table="marts.province_year_panel")).fetchone(),
                       con.execute(REVISIONS_COUNT.format(table="marts.indicator_revisions")).fetchone())
    finally:
        con.close()
    parquet = published_dir(home) / "parquet"
    reader = duckdb.connect()
    try:
        from_parquet = (
            reader.execute(PANEL_DIGEST.format(table=f"'{parquet / 'province_year_panel.parquet'}'")).fetchone(),
            reader.execute(REVISIONS_COUNT.format(table=f"'{parquet / 'indicator_revisions.parquet'}'")).fetchone(),
        )
    finally:
        reader.close()
    return from_duckdb, from_parquet


@pytest.fixture(scope="module")
def two_warehouses(sample_build, tmp_path_factory):
    """The sample's working warehouse and a copy whose panel and revisions differ from it."""
    home, _ = sample_build
    folder = tmp_path_factory.mktemp("warehouses")
    old = folder / "old.duckdb"
    new = folder / "new.duckdb"
    shutil.copy(home / "warehouse.duckdb", old)
    shutil.copy(home / "warehouse.duckdb", new)
    con = duckdb.connect(str(new))
    try:
        con.execute("UPDATE marts.province_year_panel SET tu = tu + 1 WHERE year = 2010")
        con.execute("DELETE FROM marts.indicator_revisions WHERE rowid IN "
                    "(SELECT rowid FROM marts.indicator_revisions LIMIT 7)")
    finally:
        con.close()
    return old, new


KILLER = r"""
import os, signal, sys
import provpanel.publish as publish_module

warehouse, home, moment = sys.argv[1], sys.argv[2], sys.argv[3]
calls = {}

def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)

def around(name, original, *, index, after):
    def wrapper(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        if calls[name] == index and not after:
            kill_self()
        result = original(*args, **kwargs)
        if calls[name] == index and after:
            kill_self()
        return result
    return wrapper

kind, _, detail = moment.partition(":")
if kind == "after_first_parquet":
    original = publish_module._write_parquet
    def first_only(snapshot, folder):
        publish_module.PARQUET_TABLES = publish_module.PARQUET_TABLES[:1]
        original(snapshot, folder)
        kill_self()
    publish_module._write_parquet = first_only
elif kind == "after_all_parquet":
    publish_module._write_parquet = around("parquet", publish_module._write_parquet, index=1, after=True)
else:
    index, when = detail.split("/")
    target = {"rename": os, "symlink": os, "replace": os, "rmtree": publish_module.shutil}[kind]
    setattr(target, kind, around(kind, getattr(target, kind), index=int(index), after=when == "after"))
publish_module.publish(warehouse, home)
print("finished")
"""

MOMENTS = [
    "after_first_parquet",       # one Parquet copy written, the other not yet
    "after_all_parquet",         # every Parquet copy written, DuckDB file complete, not switched
    "rename:1/before",           # the version folder about to be renamed into place
    "rename:1/after",            # the version folder in place, `current` not switched
    "symlink:1/after",           # during the switch: the new link exists, not yet renamed over
    "replace:1/after",           # right after the switch
    "rmtree:1/before",           # while pruning old versions
]


def test_killed_publication_leaves_one_version(two_warehouses, tmp_path):
    old, new = two_warehouses
    home = tmp_path / "home"
    publish(old, home)
    seen_old = _what_analysts_see(home)
    publish(new, home)
    seen_new = _what_analysts_see(home)
    assert seen_old != seen_new
    assert seen_old[0] == seen_old[1] and seen_new[0] == seen_new[1]
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    outcomes = {}
    for moment in MOMENTS:
        # alternate the warehouse so every kill interrupts a real change of version
        current = _what_analysts_see(home)
        source = old if current == seen_new else new
        completed = subprocess.run([sys.executable, str(script), str(source), str(home), moment],
                                   check=False, capture_output=True, text=True, timeout=300,
                                   env=os.environ.copy())
        assert completed.returncode == -9, f"{moment}: not killed\n{completed.stdout}\n{completed.stderr}"
        duckdb_view, parquet_view = _what_analysts_see(home)
        assert duckdb_view == parquet_view, f"{moment}: DuckDB file and Parquet copies disagree"
        assert (duckdb_view, parquet_view) in (seen_old, seen_new), f"{moment}: neither old nor new"
        outcomes[moment] = "switched" if (duckdb_view, parquet_view) != current else "unchanged"
    # kills before the switch leave the old version, kills after it the new one
    assert {outcomes[m] for m in MOMENTS[:5]} == {"unchanged"}
    assert outcomes["replace:1/after"] == outcomes["rmtree:1/before"] == "switched"
    # the next publication cleans up what the kills left and keeps two versions
    publish(old, home)
    assert _what_analysts_see(home) == seen_old
    assert [p.name for p in published_dir(home).rglob("*.tmp")] == []
    versions = [p for p in (published_dir(home) / "versions").iterdir()]
    assert len(versions) == 2 and current_version(home) in versions


def test_unversioned_home_is_adopted_without_a_mix(two_warehouses, tmp_path):
    """A home published by the previous layout (plain file and folder) switches to versions."""
    old, new = two_warehouses
    home = tmp_path / "home"
    publish(old, home)
    seen_old = _what_analysts_see(home)
    root = published_dir(home)
    # rebuild the old layout: a plain file and a plain Parquet folder with the old version
    plain_file = root.resolve() / "plain.duckdb"
    shutil.copy(published_path(home), plain_file)
    plain_parquet = root / "plain-parquet"
    shutil.copytree(root / "parquet", plain_parquet)
    for name in ("provpanel.duckdb", "parquet", "current"):
        (root / name).unlink()
    shutil.rmtree(root / "versions")
    os.rename(plain_file, root / "provpanel.duckdb")
    os.rename(plain_parquet, root / "parquet")
    assert _what_analysts_see(home) == seen_old
    publish(new, home)
    assert (root / "provpanel.duckdb").is_symlink() and (root / "parquet").is_symlink()
    seen_new = _what_analysts_see(home)
    assert seen_new != seen_old and seen_new[0] == seen_new[1]


def test_home_copied_without_its_links_publishes_again(two_warehouses, tmp_path):
    """`cp -r` / copytree without symlinks turns `current` into a plain folder: the next
    publication replaces it with a link and readers see the new version whole."""
    old, new = two_warehouses
    home = tmp_path / "home"
    publish(old, home)
    copied = tmp_path / "copied-home"
    shutil.copytree(home, copied, symlinks=False)
    assert not (published_dir(copied) / "current").is_symlink()
    publish(new, copied)
    assert (published_dir(copied) / "current").is_symlink()
    seen = _what_analysts_see(copied)
    assert seen[0] == seen[1]
    publish(new, home)
    assert seen == _what_analysts_see(home)


def test_leftovers_of_dead_writers_go_and_a_live_writers_stay(tmp_path):
    """A build cleans what a killed publication left, but never the folder of a publication
    that is still being written (a run launched from the UI)."""
    home = tmp_path / "home"
    versions = published_dir(home) / "versions"
    versions.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (versions / f".20261201T000000000000Z.{dead}.tmp").mkdir()
        (versions / f".20261201T000001000000Z.{live.pid}.tmp").mkdir()
        os.symlink("versions/x", published_dir(home) / f".current.{dead}.tmp")
        remove_unfinished_publications(home)
        assert sorted(p.name for p in versions.iterdir()) == [f".20261201T000001000000Z.{live.pid}.tmp"]
        assert not (published_dir(home) / f".current.{dead}.tmp").is_symlink()
    finally:
        live.kill()
        live.wait()
    remove_unfinished_publications(home)
    assert list(versions.iterdir()) == []
