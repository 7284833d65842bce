"""The published snapshot opens in DuckDB 1.1 clients (many R and DBeaver installs), not only
in the pipeline's own duckdb: checked with duckdb 1.1 in the separate virtual environment that
`make install` puts beside the project's (Makefile: OLD_DUCKDB), so no test reaches the network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provpanel.publish import published_path

# made by `make install` inside the venv the tests run in (Makefile: OLD_DUCKDB)
OLD_DUCKDB_PYTHON = Path(sys.prefix) / "duckdb-1.1" / "bin" / "python"

READ_SCRIPT = r"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
out = {
    "version": duckdb.__version__,
    "panel_rows": con.execute("select count(*) from marts.province_year_panel").fetchone()[0],
    "estimates": con.execute("select count(*) from analysis.estimates").fetchone()[0],
    "raw_values": con.execute("select count(*) from raw.extract_values").fetchone()[0],
    "panel_comment": con.execute(
        "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'province_year_panel'"
    ).fetchone()[0],
    "guangdong_2020_gdp": con.execute(
        "select gdp from marts.province_year_panel where province_code = '44' and year = 2020").fetchone()[0],
}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def old_duckdb_python():
    assert OLD_DUCKDB_PYTHON.exists(), f"{OLD_DUCKDB_PYTHON}: no DuckDB 1.1 client; `make install` puts it there"
    return OLD_DUCKDB_PYTHON


def test_duckdb_1_1_opens_the_snapshot(sample_build, old_duckdb_python, tmp_path):
    home, _ = sample_build
    script = tmp_path / "read.py"
    script.write_text(READ_SCRIPT)
    completed = subprocess.run([str(old_duckdb_python), str(script), str(published_path(home))],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["version"].startswith("1.1."), seen["version"]
    assert seen["panel_rows"] == 630 and seen["estimates"] > 0 and seen["raw_values"] > 0
    assert seen["panel_comment"] and "panel" in seen["panel_comment"].lower()
    import duckdb

    con = duckdb.connect(str(published_path(home)), read_only=True)
    try:
        ours = con.execute("select gdp from marts.province_year_panel where province_code = '44' and year = 2020"
                           ).fetchone()[0]
    finally:
        con.close()
    assert seen["guangdong_2020_gdp"] == ours
