"""The published panel's content digest (provpanel/panel_digest.py): the same numbers give the
same digest whatever the row order of the file, one bit of one value changes it, and the build
records it in the snapshot and prints it."""

from __future__ import annotations

import duckdb
import pytest

from provpanel.panel_digest import DIGEST_TABLE, panel_digest, published_digest, write_digest
from provpanel.publish import published_path

PANEL = """CREATE TABLE {db}.marts.province_year_panel AS
           SELECT * FROM (VALUES ('11', 2001, 1.1::DOUBLE, true, NULL), ('44', 2001, 2.2::DOUBLE, false, 'x'),
                                 ('11', 2002, 0.1::DOUBLE + 0.2::DOUBLE, NULL, 'y')) AS t(province_code, year, ic, flag, note)"""


def _panel(order: str = "") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(PANEL.format(db="memory") + order)
    return con


def test_same_numbers_same_digest_whatever_the_row_order():
    first, _, _ = panel_digest(_panel())
    second, rows, columns = panel_digest(_panel(" ORDER BY year DESC, province_code DESC"))
    assert first == second and (rows, columns) == (3, 5)


def test_the_last_bit_of_one_value_changes_the_digest():
    con = _panel()
    before = panel_digest(con)[0]
    con.execute("UPDATE marts.province_year_panel SET ic = nextafter(ic, 10.0) WHERE province_code = '44'")
    assert panel_digest(con)[0] != before
    con.execute("UPDATE marts.province_year_panel SET ic = nextafter(ic, 0.0) WHERE province_code = '44'")
    assert panel_digest(con)[0] == before


def test_the_digest_is_stored_with_what_recomputes_it(tmp_path):
    con = _panel()
    con.execute(f"ATTACH '{tmp_path / 'snapshot.duckdb'}' AS snapshot")
    con.execute("CREATE SCHEMA snapshot.marts")
    con.execute("CREATE TABLE snapshot.marts.province_year_panel AS SELECT * FROM memory.marts.province_year_panel")
    digest = write_digest(con, "snapshot")
    con.execute("DETACH snapshot")
    assert published_digest(tmp_path / "snapshot.duckdb") == digest == panel_digest(_panel())[0]
    with duckdb.connect(str(tmp_path / "snapshot.duckdb"), read_only=True) as stored:
        row = stored.execute(f"SELECT panel_table, n_rows, n_columns, algorithm FROM {DIGEST_TABLE}").fetchone()
        comments = stored.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'panel_digest' "
                                  "AND comment IS NOT NULL").fetchone()[0]
    assert row[:3] == ("marts.province_year_panel", 3, 5) and "sha256" in row[3]
    assert comments == 5
    assert published_digest(tmp_path / "missing.duckdb") is None


@pytest.mark.slow
def test_the_build_prints_the_digest_it_recorded(sample_build):
    home, outcome = sample_build
    digest = published_digest(published_path(home))
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        assert panel_digest(con)[0] == digest
    assert f"panel:      sha256:{digest} (marts.panel_digest)" in outcome.stdout
