"""What provpanel keeps is never an output path (issue 24, part 1): `provpanel export` and
`provpanel coverage --plot` refuse any path under PROVPANEL_HOME (the working warehouse,
published/ and its versions, Dagster's storage) or the editions folder, also through a link,
whatever --force says; --force replaces only the user's own file of the kind written; the plot's
format is checked before any work, and the path printed is the path written.

A small home made here (a hand-made panel, published by provpanel.publish): no build."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from cli_helpers import run_provpanel_in_process

from provpanel.publish import publish, published_path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(folder: Path) -> dict[str, str]:
    """Every regular file under the folder (links followed once) and its checksum."""
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.fixture
def home(tmp_path) -> Path:
    """A home with a working warehouse, a published version holding marts.province_year_panel,
    and Dagster's storage."""
    home = tmp_path / "home"
    home.mkdir()
    warehouse = home / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute("""CREATE TABLE marts.province_year_panel AS SELECT * FROM (VALUES
                         ('11', 2020, 1.5, true), ('12', 2020, 2.25, false), ('13', 2020, NULL, true))
                       AS t(province_code, year, gdp, is_complete)""")
        for column, comment in (("province_code", "Province code."), ("year", "Calendar year."),
                                ("gdp", "GDP in CNY 100m."), ("is_complete", "Whether complete.")):
            con.execute(f"COMMENT ON COLUMN marts.province_year_panel.{column} IS '{comment}'")
    finally:
        con.close()
    publish(warehouse, home)
    (home / "dagster").mkdir()
    with sqlite3.connect(home / "dagster" / "runs.db") as runs:
        runs.execute("CREATE TABLE runs (id TEXT)")
    return home


def _export(home: Path, *args: str):
    return run_provpanel_in_process(["export", *args], home=home)


def _one_line_refusal(completed, *words: str) -> None:
    assert completed.returncode == 2, (completed.stdout, completed.stderr)
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in completed.stderr, completed.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "dta"])
def test_export_never_writes_over_the_working_warehouse(home, fmt):
    before = _tree_digest(home)
    target = home / "warehouse.duckdb"
    refused = _export(home, "--format", fmt, "--out", str(target), "--force")
    _one_line_refusal(refused, str(target), "working warehouse", "--force")
    assert _tree_digest(home) == before


@pytest.mark.parametrize("fmt", ["csv", "parquet", "dta"])
def test_export_never_writes_into_the_published_version(home, fmt):
    before = _tree_digest(home)
    for target in (published_path(home), home / "published" / "parquet" / "province_year_panel.parquet",
                   home / "published" / f"panel.{fmt}", home / "dagster" / "runs.db"):
        refused = _export(home, "--format", fmt, "--out", str(target), "--force")
        _one_line_refusal(refused, str(target), "provpanel keeps")
    assert _tree_digest(home) == before
    assert duckdb.connect(str(published_path(home)), read_only=True).execute(
        "SELECT count(*) FROM marts.province_year_panel").fetchone() == (3,)


def test_export_refuses_a_link_that_resolves_into_the_home(home, tmp_path):
    before = _tree_digest(home)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "panel.csv").symlink_to(home / "warehouse.duckdb")
    (mine / "into_home").symlink_to(home / "published")
    for target in (mine / "panel.csv", mine / "into_home" / "panel.csv"):
        refused = _export(home, "--format", "csv", "--out", str(target), "--force")
        _one_line_refusal(refused, str(target), "resolves to", str(home))
    assert (mine / "panel.csv").is_symlink() and not (home / "published" / "panel.csv").exists()
    assert _tree_digest(home) == before


def test_force_replaces_only_the_users_file_of_the_kind_written(home, tmp_path):
    database = tmp_path / "my_analysis.duckdb"
    duckdb.connect(str(database)).execute("CREATE TABLE mine AS SELECT 42 AS answer").close()
    kept = _digest(database)
    refused = _export(home, "--format", "csv", "--out", str(database), "--force")
    _one_line_refusal(refused, str(database), "DuckDB database", "not a CSV file")
    assert _digest(database) == kept

    parquet = tmp_path / "other.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{parquet}' (FORMAT parquet)")
    _one_line_refusal(_export(home, "--format", "dta", "--out", str(parquet), "--force"),
                      "Parquet file", "not a Stata file")
    text = tmp_path / "notes.csv"
    text.write_text("my notes\n")
    _one_line_refusal(_export(home, "--format", "parquet", "--out", str(text), "--force"),
                      "text file", "not a Parquet file")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    _one_line_refusal(_export(home, "--format", "csv", "--out", str(folder), "--force"), "a folder")
    assert text.read_text() == "my notes\n" and folder.is_dir()

    # the user's own file of the kind written is replaced with --force
    for fmt, path in (("csv", text), ("parquet", parquet)):
        forced = _export(home, "--format", fmt, "--out", str(path), "--force")
        assert forced.returncode == 0, forced.stderr
        assert f"wrote {path} (3 rows, 4 columns)" in forced.stdout
    assert text.read_text().startswith("province_code,year,gdp,is_complete\n")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no partial left


def test_export_refuses_a_named_pipe_without_blocking(home, tmp_path):
    import os

    fifo = tmp_path / "panel.csv"
    os.mkfifo(fifo)
    refused = _export(home, "--format", "csv", "--out", str(fifo), "--force")
    _one_line_refusal(refused, str(fifo), "named pipe")


# ---------------------------------------------------------------- coverage --plot


def _fake_report():
    from provpanel.coverage import CoverageReport

    indicators = pd.DataFrame({
        "indicator": ["gdp", "gdp", "population", "population"], "scope": "province",
        "year": [2020, 2021, 2020, 2021], "n_units": 31, "n_observed": [31, 30, 0, 31],
        "n_interpolated": [0, 1, 0, 0], "n_carried": 0, "n_missing": [0, 0, 31, 0],
        "is_left_out": False, "status": ["observed", "observed", "missing", "observed"]})
    variables = pd.DataFrame(columns=["variable", "is_complete", "first_year", "last_year", "years_missing",
                                      "n_missing_input", "n_corrupt", "reason"])
    return CoverageReport(indicators, variables, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())


@pytest.fixture
def report_loads(monkeypatch):
    """The report without the marts a build makes; counts how often it was loaded."""
    from provpanel import coverage

    calls = []

    def load(con):
        calls.append(con)
        return _fake_report()

    monkeypatch.setattr(coverage, "load_coverage", load)
    return calls


def _coverage(home: Path, *args: str):
    return run_provpanel_in_process(["coverage", *args], home=home)


def test_plot_does_not_overwrite_an_existing_file_without_force(home, tmp_path, report_loads):
    existing = tmp_path / "heat.png"
    existing.write_bytes(b"\x89PNG\r\n\x1a\n an image the user made")
    refused = _coverage(home, "--plot", str(existing))
    _one_line_refusal(refused, str(existing), "exists", "--force")
    assert existing.read_bytes().endswith(b"the user made") and report_loads == []  # before any work
    forced = _coverage(home, "--plot", str(existing), "--force")
    assert forced.returncode == 0, forced.stderr
    assert existing.read_bytes().startswith(b"\x89PNG") and not existing.read_bytes().endswith(b"made")


@pytest.mark.parametrize("name", ["heat.txt", "heat", "heat.jpeg"])
def test_plot_format_is_checked_before_any_work(home, tmp_path, report_loads, name):
    refused = _coverage(home, "--plot", str(tmp_path / name))
    _one_line_refusal(refused, str(tmp_path / name), ".png", ".svg", ".pdf")
    assert report_loads == [] and list(tmp_path.iterdir()) == [home]


@pytest.mark.parametrize("name", ["heat.png", "heat.svg", "Heat.PDF"])
def test_plot_path_printed_is_the_path_written(home, tmp_path, report_loads, name):
    out = tmp_path / name
    done = _coverage(home, "--plot", str(out))
    assert done.returncode == 0, done.stderr
    assert f"heat map: {out}\n" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "home"])
    head = out.read_bytes()[:200]
    assert {"png": head.startswith(b"\x89PNG"), "svg": b"<svg" in head or b"<?xml" in head,
            "pdf": head.startswith(b"%PDF")}[out.suffix.lower()[1:]]


def test_plot_never_writes_what_provpanel_keeps(home, tmp_path, report_loads):
    before = _tree_digest(home)
    link = tmp_path / "heat.png"
    link.symlink_to(home / "warehouse.duckdb")
    for target in (home / "published" / "heat.png", home / "warehouse.png", link):
        refused = _coverage(home, "--plot", str(target), "--force")
        _one_line_refusal(refused, str(target), "provpanel keeps")
    assert _tree_digest(home) == before and report_loads == []
