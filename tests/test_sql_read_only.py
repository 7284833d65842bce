"""`provpanel sql` reads and never writes: statements that could write, attach, load or
reconfigure are refused before anything runs, and no file under the home changes."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from cli_helpers import run_provpanel

from provpanel.read_only_sql import NotReadOnlyError, check_read_only


def _tree_state(root):
    """Every file under `root` with its checksum: what a refused statement must not change."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "dagster" not in path.relative_to(root).parts
    }


@pytest.mark.parametrize(
    "statement_template, kind",
    [
        ("ATTACH '{home}/warehouse.duckdb' AS w (READ_WRITE)", "ATTACH"),
        ("COPY (SELECT 1 AS a) TO '{home}/published/parquet/province_year_panel.parquet' (FORMAT parquet)",
         "COPY"),
        ("COPY (SELECT 1 AS a) TO '{home}/warehouse.duckdb'", "COPY"),
        ("EXPORT DATABASE '{home}/exported'", "EXPORT"),
        ("EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{home}/explained.csv'", "EXPLAIN of COPY"),
        ("SELECT 1; UPDATE marts.province_year_panel SET tu = 0", "UPDATE"),
        ("INSTALL httpfs", "LOAD"),
        ("SET threads = 1", "SET"),
    ],
)
def test_writing_statements_are_refused_and_nothing_changes(sample_build, statement_template, kind):
    home, _ = sample_build
    before = _tree_state(home)
    completed = run_provpanel(["sql", statement_template.format(home=home)], home=home)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"({kind}:" in completed.stderr
    assert "allowed: queries" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert _tree_state(home) == before
    assert not (home / "exported").exists() and not (home / "explained.csv").exists()


def test_reading_statements_still_work(sample_build, tmp_path):
    home, _ = sample_build
    own_file = tmp_path / "my_weights.csv"
    own_file.write_text("province_code,weight\n44,2.5\n")
    query = (f"SELECT p.province_code, w.weight FROM marts.province_year_panel p "
             f"JOIN read_csv('{own_file}') w ON p.province_code = lpad(w.province_code::VARCHAR, 2, '0') "
             f"WHERE p.year = 2021")
    completed = run_provpanel(["sql", query, "--format", "csv", "--allow", str(tmp_path)], home=home)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == ["province_code,weight", "44,2.5"]
    for statement in ["DESCRIBE marts.province_year_panel", "SHOW TABLES",
                      "EXPLAIN SELECT count(*) FROM marts.province_year_panel"]:
        completed = run_provpanel(["sql", statement], home=home)
        assert completed.returncode == 0, f"{statement}: {completed.stderr}"


def test_numbers_print_in_full_and_text_stays_text(sample_build):
    home, _ = sample_build
    query = "SELECT 3785230.125::DOUBLE AS big, 0.000123::DOUBLE AS small, '266120008' AS cell_text"
    completed = run_provpanel(["sql", query], home=home)
    assert completed.returncode == 0, completed.stderr
    assert "3785230.125" in completed.stdout and "0.000123" in completed.stdout
    assert "e+06" not in completed.stdout
    assert "266120008 " in completed.stdout and "266120008.0" not in completed.stdout


def test_empty_query_is_a_message_not_a_traceback(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["sql", ""], home=home)
    assert completed.returncode == 2
    assert "no SQL statement given" in completed.stderr and "Traceback" not in completed.stderr


def test_classification_without_a_build():
    con = duckdb.connect()
    assert check_read_only(con, "WITH a AS (SELECT 1) SELECT * FROM a") == ["WITH a AS (SELECT 1) SELECT * FROM a"]
    with pytest.raises(NotReadOnlyError, match="DETACH"):
        check_read_only(con, "DETACH memory")
    with pytest.raises(NotReadOnlyError, match="CALL"):
        check_read_only(con, "CALL checkpoint()")
    with pytest.raises(NotReadOnlyError, match="PRAGMA"):
        check_read_only(con, "PRAGMA enable_profiling")
