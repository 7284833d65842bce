"""The analysts' published snapshot: complete, documented, replaced atomically, readable
while builds run, intact when a build is killed, and builds never run twice at once."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time

import duckdb
import psutil
import pytest
from cli_helpers import PROVPANEL_BIN, copy_home, provpanel_env, run_provpanel

from provpanel.panel_digest import panel_digest, published_digest
from provpanel.publish import current_version, publish, published_dir, published_path


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _panel_digest(path) -> str:
    """The digest the build recorded in the snapshot, checked against the content it is of."""
    digest = published_digest(path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert digest is not None and panel_digest(con)[0] == digest
    return digest


def _one_version_seen(home) -> tuple:
    """(version folder, panel digest, Parquet file names) of what analysts open: the DuckDB file
    and the Parquet copies must resolve into one and the same version folder, `current`, and its
    Parquet panel must hold the rows the DuckDB file holds (the same digest)."""
    version = current_version(home)
    assert published_path(home).resolve().parent == version, (published_path(home).resolve(), version)
    assert (published_dir(home) / "parquet").resolve() == version / "parquet", version
    digest = _panel_digest(published_path(home))
    parquet_panel = version / "parquet" / "province_year_panel.parquet"
    assert parquet_panel.is_file(), f"{version}: a DuckDB file without its Parquet panel"
    with duckdb.connect() as con:
        assert panel_digest(con, f"'{parquet_panel}'")[0] == digest, f"{version}: Parquet panel differs"
    return version, digest, sorted(path.name for path in (version / "parquet").glob("*.parquet"))


def test_snapshot_holds_panel_analysis_and_documentation(sample_build):
    home, _ = sample_build
    snapshot = published_path(home)
    assert snapshot.exists() and snapshot != home / "warehouse.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        assert {"marts.province_year_panel", "marts.indicator_revisions", "raw.extract_values", "raw.editions",
                "analysis.estimates", "analysis.fit", "analysis.mediation", "analysis.comparison"} <= tables
        assert not any(t.startswith(("staging.", "intermediate.")) for t in tables)
        assert con.execute("SELECT count(*) FROM marts.province_year_panel").fetchone() == (630,)
        comment = con.execute("""SELECT comment FROM duckdb_tables()
                                 WHERE schema_name = 'marts' AND table_name = 'province_year_panel'""").fetchone()[0]
        assert comment and "panel" in comment.lower()
        undocumented = con.execute("""SELECT column_name FROM duckdb_columns()
            WHERE schema_name = 'marts' AND table_name = 'province_year_panel' AND comment IS NULL""").fetchall()
        assert undocumented == []
        raw_comment = con.execute("""SELECT comment FROM duckdb_columns() WHERE schema_name = 'raw'
            AND table_name = 'extract_values' AND column_name = 'source_row'""").fetchone()[0]
        assert "row" in raw_comment
    finally:
        con.close()
    parquet = home / "published" / "parquet" / "province_year_panel.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall() == [(630,)]


def test_sql_command_reads_the_published_snapshot(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["sql", "select count(*) as n from marts.province_year_panel"], home=home)
    assert completed.returncode == 0 and "630" in completed.stdout
    # the working warehouse's staging layer is not part of what analysts see
    completed = run_provpanel(["sql", "select count(*) from staging.stg_raw__editions"], home=home)
    assert completed.returncode == 1 and "stg_raw__editions" in completed.stderr


def test_replacement_is_atomic_for_open_readers(sample_build, tmp_path):
    home, _ = sample_build
    other_home = tmp_path / "home"
    first = publish(home / "warehouse.duckdb", other_home).path
    reader = duckdb.connect(str(first), read_only=True)
    try:
        before = reader.execute("SELECT count(*) FROM marts.province_year_panel").fetchone()
        inode_before = os.stat(first).st_ino
        second = publish(home / "warehouse.duckdb", other_home).path
        assert second == first and os.stat(second).st_ino != inode_before  # a new file took the name
        # the reader that opened the old version keeps reading it, whole
        assert reader.execute("SELECT count(*) FROM marts.province_year_panel").fetchone() == before
        assert reader.execute("SELECT count(*) FROM analysis.estimates").fetchone()[0] > 0
    finally:
        reader.close()
    leftovers = [p.name for p in (other_home / "published").rglob("*.tmp")]
    assert leftovers == []


READER_SCRIPT = r"""
import os, sys, time, duckdb
path, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
published = os.path.dirname(path)
versions, current = os.path.join(published, "versions"), os.path.join(published, "current")
first = os.readlink(current)
ok = failed = while_publishing = after_switch = 0
errors = []


def moment():
    # a new version being written aside (versions/.<version>.<pid>.tmp) or `current` switched
    publishing = any(name.endswith(".tmp") for name in os.listdir(versions))
    return publishing, os.readlink(current) != first


dense_until = 0.0
while not os.path.exists(stop_file):
    publishing, switched = moment()
    if publishing or (switched and not after_switch):
        dense_until = time.monotonic() + 1.0  # read without pause until a second after
    try:
        con = duckdb.connect(path, read_only=True)
        n = con.execute("select count(*) from marts.province_year_panel").fetchone()[0]
        m = con.execute("select count(*) from analysis.estimates").fetchone()[0]
        con.close()
        if n == 630 and m > 0:
            ok += 1
            while_publishing += publishing
            after_switch += switched
        else:
            failed += 1; errors.append(f"counts {n} {m}")
    except Exception as err:
        failed += 1; errors.append(repr(err))
    if time.monotonic() >= dense_until:
        # away from a publication a read every 0.25 s is enough; look for one every 10 ms
        wake = time.monotonic() + 0.25
        while time.monotonic() < wake and not os.path.exists(stop_file):
            publishing, switched = moment()
            if publishing or (switched and not after_switch):
                break
            time.sleep(0.01)
open(out, "w").write(f"{ok} {failed} {while_publishing} {after_switch}\n" + "\n".join(errors[:5]))
"""


@pytest.fixture(scope="module")
def forced_build_under_readers(sample_build, tmp_path_factory):
    """A copy of the sample build rebuilt with `build --force` while three readers read its
    snapshot and a second build is started beside it. The two tests below share this one forced
    build: the readers' and the second build's outcome, and the home the kills then work on.
    The shared sample home is never rebuilt."""
    tmp_path = tmp_path_factory.mktemp("forced-build")
    home = copy_home(sample_build[0], tmp_path / "home")
    snapshot = published_path(home)
    stop = tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER_SCRIPT)
    readers = [
        subprocess.Popen([sys.executable, str(script), str(snapshot), str(stop), str(tmp_path / f"reader{i}.txt")])
        for i in range(3)
    ]
    env = provpanel_env(home)
    build = subprocess.Popen([PROVPANEL_BIN, "build", "--force", "--quiet"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
        second = run_provpanel(["build"], home=home, timeout=120)
        _, err = build.communicate(timeout=900)
    finally:
        build.kill()  # a no-op unless something above failed
        stop.write_text("stop")
        for reader in readers:
            reader.wait(timeout=60)
    outcomes = [(tmp_path / f"reader{i}.txt").read_text() for i in range(3)]
    return home, build.returncode, err, second, outcomes


def test_readers_never_fail_while_a_build_runs_and_a_second_build_refuses(forced_build_under_readers,
                                                                          sample_build):
    home, returncode, err, second, outcomes = forced_build_under_readers
    # the forced build re-read every edition and rebuilt every model: the same bits as the first build
    assert _panel_digest(published_path(home)) == _panel_digest(published_path(sample_build[0]))
    assert second.returncode == 3, second.stderr
    assert "another build is running" in second.stderr and "--wait" in second.stderr
    assert returncode == 0, err
    counts = [tuple(map(int, outcome.splitlines()[0].split())) for outcome in outcomes]
    for (ok, failed, _, _), outcome in zip(counts, outcomes):
        assert failed == 0, outcome
        assert ok > 20  # they really read throughout the build
    # and while the new version was written aside, and from the new one once it was switched in
    assert sum(while_publishing for _, _, while_publishing, _ in counts) > 0, outcomes
    assert sum(after_switch for _, _, _, after_switch in counts) > 0, outcomes


def _dbt_build_running_for(build: subprocess.Popen, seconds: float) -> bool:
    """The build's `dbt build` subprocess has run at least `seconds`."""
    try:
        children = psutil.Process(build.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for child in children:
        try:
            if "build" in child.cmdline() and any(part.endswith("dbt") for part in child.cmdline()):
                return time.time() - child.create_time() >= seconds
        except psutil.NoSuchProcess:
            continue
    return False


def _kill_moments(home):
    """The moments a build is killed at, each recognised by what the build has done by then (not
    by a share of a timed build, which on a loaded machine may come after the build has ended):
    name -> predicate(build process, seconds since start, lines printed so far)."""
    run_results = home / "dbt" / "target" / "run_results.json"
    versions = home / "published" / "versions"
    current = home / "published" / "current"
    before = {"run_results": run_results.stat().st_mtime, "current": os.readlink(current),
              "staging": set(versions.glob(".*.tmp"))}  # a killed publication's, removed by the next build
    return {
        "starting up": lambda build, elapsed, lines: elapsed >= 0.5,
        "between the two editions' ingests": lambda build, elapsed, lines: any("ingested:" in line for line in lines),
        "in dbt's build": lambda build, elapsed, lines: _dbt_build_running_for(build, 2.0),
        "in the checks and analysis": lambda build, elapsed, lines: (
            run_results.exists() and run_results.stat().st_mtime > before["run_results"]),
        "writing the new version aside": lambda build, elapsed, lines: bool(
            set(versions.glob(".*.tmp")) - before["staging"]),
        "just after the switch to the new version": lambda build, elapsed, lines: (
            os.readlink(current) != before["current"]),
    }


def test_build_killed_at_any_moment_leaves_snapshot_intact(forced_build_under_readers):
    """SIGKILL a forced build at six moments from start-up to just after the new version is
    switched in; each time the published snapshot is the old one or a complete new one, and the
    next build needs no repair."""
    home, returncode, err, _, _ = forced_build_under_readers
    assert returncode == 0, err  # the forced build under readers
    snapshot = published_path(home)
    version_before, digest_before, parquet_files = _one_version_seen(home)
    env = provpanel_env(home)
    for moment in _kill_moments(home):
        reached = _kill_moments(home)[moment]  # judged against the home as this build finds it
        sha_before = _sha256(snapshot)
        version_before = current_version(home)
        build = subprocess.Popen([PROVPANEL_BIN, "build", "--force"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(build.stdout,), daemon=True)
        reader.start()
        started = time.monotonic()
        try:
            while not reached(build, time.monotonic() - started, list(lines)):
                assert build.poll() is None, f"the build ended (status {build.returncode}) before the moment {moment!r}"
                assert time.monotonic() - started < 600, f"the build never reached {moment!r}"
                time.sleep(0.01)
            assert build.poll() is None, f"the build ended as it reached {moment!r}: the kill would not land"
        finally:
            os.killpg(build.pid, signal.SIGKILL)  # the build and its dbt subprocesses
            build.wait(timeout=30)
            reader.join(timeout=30)
        # the DuckDB file and the Parquet copies are one version: the old one, untouched, or (killed
        # once `current` is switched) a complete new one; never the one file new, the other old
        version, digest, parquet = _one_version_seen(home)
        assert (digest, parquet) == (digest_before, parquet_files), moment
        if moment == "just after the switch to the new version":
            assert version != version_before, moment
        else:
            assert (version, _sha256(snapshot)) == (version_before, sha_before), moment
    final = run_provpanel(["build", "--quiet"], home=home)
    assert final.returncode == 0, final.stderr
    assert _one_version_seen(home)[1:] == (digest_before, parquet_files)
    assert [p.name for p in snapshot.parent.rglob("*.tmp")] == []
