"""`provpanel sql` runs in DuckDB's own sandbox (issue 24, part 3): the snapshot is opened with
external access off except the folders the user names, no extension autoloading, a spill folder
outside `published/`, a memory limit, and the configuration locked before the user's statement
runs; statements are judged on DuckDB's parsed tree; results stream.

Each hostile case of the issue is a test here. They run on a tiny home laid out as a build
leaves it (two published versions through `published/current`, a working warehouse beside
them), made by `provpanel.publish.publish` itself: no full build."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from cli_helpers import PROVPANEL_BIN, provpanel_env, run_provpanel_in_process

from provpanel.publish import current_version, publish, published_dir
from provpanel.read_only_sql import NotReadOnlyError, check_read_only

SECRET = 987654321  # only in the working warehouse and the previous version, never in the current one


def _warehouse(path: Path, *, gdp_scale: int, secret: bool) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA marts")
        con.execute("CREATE TABLE raw.extract_values AS SELECT '44' AS province_code, 2020 AS year, "
                    f"{SECRET if secret else 1}::BIGINT AS value")
        con.execute("CREATE TABLE marts.province_year_panel AS "
                    "SELECT lpad((11 + p)::VARCHAR, 2, '0') AS province_code, y AS year, "
                    f"(p * 100 + y - 2000) * {gdp_scale}::DOUBLE AS gdp "
                    "FROM range(3) t(p), range(2019, 2022) s(y)")
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A home as a build leaves it: warehouse.duckdb (with a value the published panel does not
    carry), published/versions/<previous> (also with it) and published/versions/<current>."""
    root = tmp_path_factory.mktemp("sandbox-home")
    home = root / "home"
    home.mkdir()
    previous = _warehouse(root / "previous.duckdb", gdp_scale=1, secret=True)
    publish(previous, home)
    time.sleep(0.01)  # versions are named by the time, to the microsecond
    publish(_warehouse(root / "current.duckdb", gdp_scale=1, secret=False), home)
    _warehouse(home / "warehouse.duckdb", gdp_scale=1, secret=True)
    assert len([v for v in (published_dir(home) / "versions").iterdir()]) == 2
    return home


def _previous_version(home: Path) -> Path:
    current = current_version(home)
    (previous,) = [v for v in (published_dir(home) / "versions").iterdir() if v != current]
    return previous


def _sql(home: Path, *args: str, cwd: Path):
    """`provpanel sql ARGS` in this process, from folder `cwd` (the default --allow)."""
    saved = Path.cwd()
    os.chdir(cwd)
    try:
        return run_provpanel_in_process(["sql", *args], home=home)
    finally:
        os.chdir(saved)


def _sql_process(home: Path, *args: str, cwd: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([PROVPANEL_BIN, "sql", *args], env=provpanel_env(home), cwd=cwd, **popen)


# --- statements judged by what they do -------------------------------------------------------

@pytest.mark.parametrize("statement, kind", [
    ("WITH d AS (DELETE FROM marts.province_year_panel RETURNING *) SELECT count(*) FROM d",
     "DELETE inside a query"),
    ("WITH d AS MATERIALIZED (UPDATE marts.province_year_panel SET gdp = 0 RETURNING *) SELECT * FROM d",
     "UPDATE inside a query"),
    (("SELECT * FROM (WITH d AS (INSERT INTO marts.province_year_panel VALUES ('99', 1, 1) RETURNING *) "
      "SELECT * FROM d)"), "INSERT inside a query"),
    ("EXPLAIN ANALYZE WITH d AS (DELETE FROM marts.province_year_panel RETURNING *) SELECT * FROM d",
     "EXPLAIN of DELETE inside a query"),
    ("EXPLAIN /*c*/ ANALYZE DELETE FROM marts.province_year_panel", "EXPLAIN of DELETE"),
    ("EXPLAIN (ANALYZE, FORMAT json) UPDATE marts.province_year_panel SET gdp = 0", "EXPLAIN of UPDATE"),
    ("DESCRIBE (WITH d AS (DELETE FROM marts.province_year_panel RETURNING *) SELECT * FROM d)",
     "DELETE inside a query"),
    ("WITH d AS (DELETE FROM marts.province_year_panel RETURNING *) PIVOT d ON year USING sum(gdp)",
     "DELETE inside a PIVOT"),
])
def test_a_write_anywhere_in_the_tree_is_refused_before_it_runs(home, tmp_path, statement, kind):
    """Was: the classifier passed a write inside a CTE (and EXPLAIN ANALYZE of one), stopped
    only by the read-only connection, with DuckDB's own error."""
    completed = _sql(home, statement, cwd=tmp_path)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"({kind}: `" in completed.stderr
    assert "allowed: queries" in completed.stderr
    quoted = " ".join(statement.split())[:40]
    assert quoted in completed.stderr  # the user's own text, as typed
    assert len(completed.stderr.strip().splitlines()) == 1


def test_copy_inside_a_cte_writes_nothing(home, tmp_path):
    """Was: `WITH d AS (COPY ... TO FILE) SELECT` passed the classifier and the read-only
    connection alike, and wrote the file (over the working warehouse too, had it been named)."""
    target = tmp_path / "written.csv"
    completed = _sql(home, f"WITH d AS (COPY (SELECT 1 AS a) TO '{target}') SELECT * FROM d", cwd=tmp_path)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "(COPY inside a query: `WITH d AS (COPY" in completed.stderr
    assert not target.exists()


@pytest.mark.parametrize("statement", [
    "EXPLAIN /*c*/ ANALYZE SELECT 1",
    "/* first */ EXPLAIN -- a note\n ANALYZE SELECT count(*) FROM marts.province_year_panel",
    "EXPLAIN (FORMAT json) SELECT 1",
    "EXPLAIN (SELECT 1)",
    "-- why\nSELECT /* all */ count(*) FROM marts.province_year_panel",
])
def test_comments_do_not_change_the_verdict(home, tmp_path, statement):
    """Was: `EXPLAIN /*c*/ ANALYZE SELECT 1` refused, quoting text the classifier had rewritten."""
    completed = _sql(home, statement, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""


def test_pivot_is_judged_by_what_it_does(home, tmp_path):
    """A PIVOT without an IN list is two statements to DuckDB (an enum type in memory, then the
    query): it reads, so it runs. Was: refused as a 'MULTI' statement."""
    completed = _sql(home, "PIVOT marts.province_year_panel ON year USING sum(gdp) ORDER BY province_code",
                     "--format", "csv", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[:2] == ["province_code,2019,2020,2021", "11,19.0,20.0,21.0"]
    completed = _sql(home, "SELECT * FROM (PIVOT marts.province_year_panel ON year IN (2020) USING sum(gdp)) "
                     "ORDER BY 1 LIMIT 1", "--format", "csv", cwd=tmp_path)
    assert completed.stdout.splitlines() == ["province_code,2020", "11,20.0"], completed.stderr


@pytest.mark.parametrize("statement, accepted", [
    ("SELECT 1", True), ("FROM marts.p", True), ("VALUES (1)", True), ("DESCRIBE marts.p", True),
    ("SHOW TABLES", True), ("SUMMARIZE marts.p", True), ("EXPLAIN SELECT 1", True),
    ("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r", True),
    ("SELECT 1 UNION ALL SELECT 2", True), ("UNPIVOT marts.p ON a INTO NAME n VALUE v", True),
    ("PIVOT marts.p ON a USING count(*)", True), ("EXPLAIN PIVOT marts.p ON a USING count(*)", True),
    ("SELECT 'DELETE FROM t' AS text /* UPDATE */", True),
    ("EXPLAIN /* 广东 */ ANALYZE SELECT '粤' AS province", True),  # the tokenizer counts bytes
    ("EXPLAIN /* 广东 */ ANALYZE DELETE FROM marts.p WHERE a = '粤'", False),
    ("WITH d AS (DELETE FROM marts.p RETURNING *) SELECT * FROM d", False),
    ("SELECT (WITH d AS (DELETE FROM marts.p RETURNING a) SELECT max(a) FROM d)", False),
    ("SELECT 1 UNION ALL (WITH d AS (UPDATE marts.p SET a = 2 RETURNING a) SELECT a FROM d)", False),
    ("EXPLAIN ANALYZE INSERT INTO marts.p VALUES (1)", False),
    ("ATTACH 'x.duckdb'", False), ("COPY marts.p TO 'x.csv'", False), ("EXPORT DATABASE 'x'", False),
    ("INSTALL httpfs", False), ("LOAD httpfs", False), ("SET threads = 1", False), ("RESET threads", False),
    ("CREATE TEMP TABLE x AS SELECT 1", False), ("PRAGMA version", False), ("CALL pragma_version()", False),
    ("CHECKPOINT", False), ("DETACH memory", False), ("USE memory", False), ("UPDATE EXTENSIONS", False),
    ("PREPARE q AS SELECT 1", False), ("SET VARIABLE v = 1", False), ("BEGIN", False),
    ("WITH s AS (INSERT INTO marts.p VALUES (1) RETURNING a) PIVOT s ON a USING count(*)", False),
])
def test_classification_on_the_parsed_tree(statement, accepted):
    con = duckdb.connect()
    try:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.p AS SELECT 1 AS a")
        if accepted:
            assert check_read_only(con, statement) == [statement]
        else:
            with pytest.raises(NotReadOnlyError, match="is refused"):
                check_read_only(con, statement)
    finally:
        con.close()


def test_refusal_names_the_statement_among_several(home, tmp_path):
    completed = _sql(home, "SELECT 1; /* then */ WITH d AS (DELETE FROM marts.province_year_panel RETURNING *) "
                     "SELECT 1 FROM d", cwd=tmp_path)
    assert completed.returncode == 2
    assert "statement 2 (DELETE inside a query: `/* then */ WITH d AS (DELETE FROM" in completed.stderr
    assert completed.stdout == ""  # statement 1 did not run either


# --- what can be read -------------------------------------------------------------------------

def test_the_working_warehouse_and_other_versions_are_not_readable(home, tmp_path):
    """Was: read_duckdb('<home>/warehouse.duckdb', ...) read the working warehouse behind the
    published snapshot (and the previous version the same way)."""
    previous = _previous_version(home)
    link = tmp_path / "shortcut.duckdb"
    link.symlink_to(home / "warehouse.duckdb")  # a link inside an allowed folder does not help
    for reader in [
        f"SELECT * FROM read_duckdb('{home / 'warehouse.duckdb'}', table_name => 'extract_values')",
        f"SELECT * FROM read_duckdb('{previous / 'provpanel.duckdb'}', table_name => 'extract_values')",
        f"SELECT * FROM read_parquet('{previous / 'parquet' / 'province_year_panel.parquet'}')",
        f"SELECT * FROM read_parquet('{home}/published/versions/*/parquet/*.parquet')",
        f"SELECT * FROM read_duckdb('{link}', table_name => 'extract_values')",
        f"SELECT * FROM read_text('{home}/published/../warehouse.duckdb')",
    ]:
        completed = _sql(home, reader, cwd=tmp_path)
        assert completed.returncode == 1, f"{reader}: {completed.stdout}"
        assert "Permission Error" in completed.stderr and "Traceback" not in completed.stderr
        assert "--allow" in completed.stderr and str(SECRET) not in completed.stdout
    # the snapshot itself stays readable, also by its path
    completed = _sql(home, "SELECT count(*) AS n FROM read_duckdb("
                     f"'{home}/published/provpanel.duckdb', table_name => 'province_year_panel')",
                     "--format", "csv", cwd=tmp_path)
    assert completed.stdout.splitlines() == ["n", "9"], completed.stderr


def test_own_files_are_read_only_under_the_allowed_folders(home, tmp_path):
    """The current folder by default, else the folders named with --allow; nothing else.
    Was: any file on the machine (and no --allow)."""
    here, mine, elsewhere = (tmp_path / name for name in ("here", "mine", "elsewhere"))
    for folder in (here, mine, elsewhere):
        folder.mkdir()
        (folder / "w.csv").write_text("province_code,weight\n11,2.5\n")
    join = ("SELECT p.province_code, w.weight FROM marts.province_year_panel p JOIN read_csv('{file}') w "
            "ON p.province_code = w.province_code::VARCHAR WHERE p.year = 2021")
    completed = _sql(home, join.format(file="w.csv"), "--format", "csv", cwd=here)
    assert completed.stdout.splitlines() == ["province_code,weight", "11,2.5"], completed.stderr
    completed = _sql(home, join.format(file=mine / "w.csv"), "--format", "csv", cwd=here)
    assert completed.returncode == 1 and "Permission Error" in completed.stderr
    completed = _sql(home, join.format(file=mine / "w.csv"), "--allow", str(mine), "--format", "csv", cwd=here)
    assert completed.stdout.splitlines() == ["province_code,weight", "11,2.5"], completed.stderr
    completed = _sql(home, join.format(file=elsewhere / "w.csv"), "--allow", str(mine), "--allow", str(here),
                     cwd=here)
    assert completed.returncode == 1 and "Permission Error" in completed.stderr
    assert str(mine) in completed.stderr  # says which folders are readable


@pytest.mark.parametrize("where", ["home", "published", "parent", "link"])
def test_an_allowed_folder_may_not_reach_the_home(home, tmp_path, where):
    """An --allow that contains PROVPANEL_HOME or lies inside it is refused in one line."""
    link = tmp_path / "to-home"
    link.symlink_to(home)
    folder = {"home": home, "published": home / "published" / "versions", "parent": home.parent,
              "link": link}[where]
    completed = _sql(home, "SELECT 1", "--allow", str(folder), cwd=tmp_path)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "PROVPANEL_HOME" in completed.stderr and f"--allow {folder}" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1 and completed.stdout == ""


def test_the_current_folder_is_not_allowed_when_it_holds_the_home(home, tmp_path):
    """Run from the folder that holds the home (the default home is <repo>/.provpanel): no folder
    is readable by default, and the message says why."""
    completed = _sql(home, f"SELECT * FROM read_duckdb('{home}/warehouse.duckdb', table_name => 'extract_values')",
                     cwd=home.parent)
    assert completed.returncode == 1 and "Permission Error" in completed.stderr
    assert "contains PROVPANEL_HOME" in completed.stderr and str(SECRET) not in completed.stdout


def test_engine_settings_are_locked_and_the_spill_folder_is_outside_published(home, tmp_path):
    """Was: external access on, extensions autoloaded and installed, DuckDB's spill folder
    `<version>/provpanel.duckdb.tmp` inside the published version folder."""
    names = ["enable_external_access", "autoload_known_extensions", "autoinstall_known_extensions",
             "allow_community_extensions", "lock_configuration", "temp_directory", "memory_limit"]
    completed = _sql(home, "SELECT " + ", ".join(f"current_setting('{n}') AS {n}" for n in names),
                     "--format", "csv", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    values = dict(zip(names, completed.stdout.splitlines()[1].split(","), strict=True))
    assert values["enable_external_access"] == "False"
    assert values["autoload_known_extensions"] == values["autoinstall_known_extensions"] == "False"
    assert values["allow_community_extensions"] == "False" and values["lock_configuration"] == "True"
    spill = Path(values["temp_directory"])
    assert not spill.is_relative_to(home) and not spill.exists()  # fresh, and removed afterwards
    number, unit = values["memory_limit"].split()  # e.g. '11.7 GiB'
    limit = float(number) * 2 ** (10 * ["KiB", "MiB", "GiB", "TiB"].index(unit) + 10)
    assert limit <= 0.55 * psutil.virtual_memory().total  # DuckDB's default is 80 %


def test_the_engine_holds_without_the_classifier(home, tmp_path):
    """The sandbox stands on its own: on the sandboxed connection, with no statement check at
    all, DuckDB itself refuses to reconfigure, load, attach, read the working warehouse or write
    outside the allowed folders; the spill folder goes when the connection closes."""
    from provpanel.publish import published_path
    from provpanel.read_only_sql import sandboxed_connection

    mine = tmp_path / "mine"
    mine.mkdir()
    with sandboxed_connection(published_path(home), allow=[mine]) as con:
        for statement in [
            "SET enable_external_access = true", "SET lock_configuration = false",
            "SET allowed_directories = ['/']", "RESET temp_directory", "LOAD httpfs", "INSTALL httpfs",
            f"SELECT * FROM read_duckdb('{home}/warehouse.duckdb', table_name => 'extract_values')",
            f"ATTACH '{home}/warehouse.duckdb' AS working (READ_ONLY)",
            f"COPY (SELECT 1 AS a) TO '{tmp_path}/outside.csv'",
            "DELETE FROM marts.province_year_panel",
        ]:
            with pytest.raises(duckdb.Error):
                con.execute(statement)
        spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        assert spill.is_dir() and not spill.is_relative_to(home)
    assert not spill.exists() and not (tmp_path / "outside.csv").exists()


# --- results stream ---------------------------------------------------------------------------

def _row(table: str, number: int) -> bool:
    """Whether a one-column table shows the row holding `number`."""
    return re.search(rf"^\|\s+{number} \|$", table, re.MULTILINE) is not None


def test_a_readable_number_of_rows_and_a_note_for_the_rest(home, tmp_path):
    completed = _sql(home, "SELECT range AS i FROM range(2500)", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert sum(1 for line in lines if line.startswith("|")) == 2 + 1000  # header, rule and 1000 rows
    assert _row(completed.stdout, 999) and not _row(completed.stdout, 1000)
    assert lines[-1].startswith("1000 rows shown, 1500 more not shown")
    completed = _sql(home, "SELECT range AS i FROM range(100)", "--format", "csv", "--max-rows", "10", cwd=tmp_path)
    assert completed.stdout.splitlines() == ["i", *map(str, range(10))]
    assert "10 rows shown, 90 more not shown" in completed.stderr
    completed = _sql(home, "SELECT range AS i FROM range(2500)", "--max-rows", "0", cwd=tmp_path)
    assert _row(completed.stdout, 2499) and "more not shown" not in completed.stdout
    completed = _sql(home, "SELECT range AS i FROM range(1000)", cwd=tmp_path)
    assert "more not shown" not in completed.stdout and _row(completed.stdout, 999)
    completed = _sql(home, "SELECT range AS i FROM range(0)", cwd=tmp_path)
    assert completed.returncode == 0 and " i " in completed.stdout


def _watch(process: subprocess.Popen, *, seconds: float, rss_cap: int) -> int:
    """The child's largest RSS while it runs; killed (and the test failed) past `seconds` or
    `rss_cap` bytes, so the old behaviour cannot take the machine's memory."""
    child = psutil.Process(process.pid)
    peak, deadline = 0, time.monotonic() + seconds
    while process.poll() is None:
        try:
            peak = max(peak, child.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if peak > rss_cap or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"provpanel sql still running after {seconds} s or above {rss_cap >> 20} MB "
                        f"(peak {peak >> 20} MB)")
        time.sleep(0.02)
    return peak


def test_a_huge_result_prints_its_first_rows_and_a_note(home, tmp_path):
    """Was: `SELECT * FROM range(300000000)` fetched everything: a MemoryError traceback."""
    process = _sql_process(home, "SELECT * FROM range(300000000)", cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    _watch(process, seconds=60, rss_cap=1 << 30)
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert time.monotonic() - started < 30
    assert _row(out, 999) and not _row(out, 1000) and "Traceback" not in err
    assert "1000 rows shown, more not shown (at least" in out.splitlines()[-1]


def test_csv_streams_every_row_in_bounded_memory(home, tmp_path):
    """5 M rows as CSV: all of them written, while the process's memory grows by far less than
    the result (was: every row held as Python objects first, over 400 MB here; the issue's
    3 M rows of the panel took 1.7 GB)."""
    rows = 5_000_000
    output = tmp_path / "out.csv"
    with open(output, "w") as sink:
        process = _sql_process(home, f"SELECT range AS i FROM range({rows})",
                               "--format", "csv", cwd=tmp_path, stdout=sink, stderr=subprocess.PIPE, text=True)
        baseline = _sql_process_peak(home, tmp_path)
        peak = _watch(process, seconds=120, rss_cap=baseline + (1 << 30))
        _, err = process.communicate()
    assert process.returncode == 0, err
    assert peak - baseline < 300 * 2**20, f"RSS grew by {(peak - baseline) >> 20} MB"
    with open(output, "rb") as written:
        assert sum(1 for _ in written) == rows + 1


def _sql_process_peak(home: Path, cwd: Path) -> int:
    """The largest RSS of `provpanel sql` printing one row: what the command needs before any
    result (the interpreter, DuckDB, the snapshot opened)."""
    process = _sql_process(home, "SELECT 1 AS one", "--format", "csv", cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _watch(process, seconds=60, rss_cap=1 << 30)
