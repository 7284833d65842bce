"""The published snapshot describes itself: marts.panel_input_cells traces every panel value to
its edition and cell (or to the observed years it was filled from), and every column of the
published tables has a comment. One shared sample build (`sample_build`)."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import duckdb
import pytest

from provpanel.config import REPO_ROOT, SAMPLE_EDITIONS_DIR
from provpanel.publish import published_dir, published_path

GUANGDONG = "44"


@pytest.fixture(scope="module")
def snapshot(sample_build):
    home, _ = sample_build
    con = duckdb.connect(str(published_path(home)), read_only=True)
    yield con
    con.close()


def _cell_text(path: Path, sheet: str | None, row: int, col: int) -> str:
    """The text of a cell as the file holds it (1-based row and column)."""
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            value = workbook[sheet].cell(row=row, column=col).value
        finally:
            workbook.close()
        return "" if value is None else str(value)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    lines = list(csv.reader(text.splitlines()))
    return lines[row - 1][col - 1]


def _inputs(con, province: str, year: int) -> dict[str, dict]:
    frame = con.execute("SELECT * FROM marts.panel_input_cells WHERE province_code = ? AND year = ?",
                        [province, year]).df()
    frame = frame.astype(object).where(frame.notna(), None)  # SQL nulls as None, not NaN
    return {row["indicator"]: row for row in frame.to_dict("records")}


def test_guangdong_2001_tu_is_traced_to_the_cells_it_was_read_from(snapshot):
    inputs = _inputs(snapshot, GUANGDONG, 2001)
    tu_inputs = {name: row for name, row in inputs.items() if "tu" in row["variables"].split(",")}
    panel = snapshot.execute("SELECT tu, gdp, trade_cny, uses_trade_split FROM marts.province_year_panel "
                             "WHERE province_code = ? AND year = 2001", [GUANGDONG]).fetchone()
    tu, gdp, trade_cny, uses_split = panel
    trade_names = {"exports", "imports"} if uses_split else {"trade_total"}
    # exactly the inputs TU's rule uses: GDP, the chosen trade series, the year's exchange rate
    assert set(tu_inputs) == {"gdp", "exchange_rate", *trade_names}
    assert tu_inputs["exchange_rate"]["source_province_code"] == "00"
    # the inputs reproduce the panel value
    trade = sum(tu_inputs[name]["value"] for name in trade_names)
    assert trade == pytest.approx(trade_cny, rel=1e-12)
    assert inputs["gdp"]["value"] == pytest.approx(gdp, rel=1e-12)
    assert trade / tu_inputs["gdp"]["value"] == pytest.approx(tu, rel=1e-12)

    assert any(row["fill_method"] == "observed" for row in tu_inputs.values())
    # every observed input of the row (CSV and workbook cells alike) leads back to its cell
    observed = [row for row in inputs.values() if row["fill_method"] == "observed"]
    assert {path["file"].rsplit(".", 1)[-1] for path in observed} >= {"csv", "xlsx"}
    for row in observed:
        # the edition the vintage policy (latest) picks among every edition holding the cell
        latest = snapshot.execute(
            """SELECT v.edition FROM raw.extract_values v JOIN raw.editions e USING (edition)
               WHERE v.province_code = ? AND v.year = 2001 AND v.indicator = ? AND v.value IS NOT NULL
               ORDER BY e.published DESC, v.edition DESC LIMIT 1""",
            [row["source_province_code"], row["indicator"]]).fetchone()[0]
        assert row["edition"] == latest, row["indicator"]
        # the named cell of the named file holds the text, and the stored value was read from it
        path = SAMPLE_EDITIONS_DIR / row["edition"] / row["file"]
        text = _cell_text(path, row["sheet"], int(row["source_row"]), int(row["source_col"]))
        assert text.strip() == row["source_value"].strip(), (row["indicator"], path)
        stored = snapshot.execute(
            """SELECT value, unit FROM raw.extract_values WHERE edition = ? AND file = ? AND source_row = ?
               AND source_col = ? AND coalesce(sheet, '') = coalesce(?, '') AND indicator = ?""",
            [row["edition"], row["file"], int(row["source_row"]), int(row["source_col"]), row["sheet"],
             row["indicator"]]).fetchone()
        assert stored == (pytest.approx(row["published_value"]), row["published_unit"])
    # a USD series: the figure printed in its file converted at the rate printed in the rate's
    # file, both read here from the cells named (not from the values the build computed)
    trade_total, rate = inputs["trade_total"], inputs["exchange_rate"]
    assert (trade_total["fill_method"], trade_total["catalog_unit"]) == ("observed", "usd_10k")
    assert (trade_total["source_unit"], rate["source_unit"]) == ("千美元", "元/100美元")
    printed = {name: float(_cell_text(SAMPLE_EDITIONS_DIR / row["edition"] / row["file"], row["sheet"],
                                      int(row["source_row"]), int(row["source_col"])))
               for name, row in (("usd_thousands", trade_total), ("cny_per_100usd", rate))}
    cny_100m = printed["usd_thousands"] * 1_000 * printed["cny_per_100usd"] / 100 / 1e8
    assert trade_total["value"] == pytest.approx(cny_100m, rel=1e-9)
    assert trade_total["unit"] == "cny_100m"


def test_a_filled_cell_names_the_observed_years_it_was_filled_from(snapshot):
    interpolated = snapshot.execute(
        """SELECT f.*, p.catalog_unit_value AS previous_value, p.edition AS previous_edition_seen,
                  n.catalog_unit_value AS next_value, n.edition AS next_edition_seen
           FROM marts.panel_input_cells f
           JOIN marts.panel_input_cells p ON p.province_code = f.province_code AND p.indicator = f.indicator
                AND p.year = f.previous_anchor_year
           JOIN marts.panel_input_cells n ON n.province_code = f.province_code AND n.indicator = f.indicator
                AND n.year = f.next_anchor_year
           WHERE f.fill_method = 'interpolated'
           ORDER BY f.province_code, f.year, f.indicator""").df()
    assert len(interpolated) > 0
    for row in interpolated.to_dict("records"):
        assert row["edition"] is None and row["file"] is None
        assert row["previous_anchor_edition"] == row["previous_edition_seen"]
        assert row["next_anchor_edition"] == row["next_edition_seen"]
        share = (row["year"] - row["previous_anchor_year"]) / (row["next_anchor_year"] - row["previous_anchor_year"])
        expected = row["previous_value"] + (row["next_value"] - row["previous_value"]) * share
        assert row["catalog_unit_value"] == pytest.approx(expected, rel=1e-9), row

    # a carried edge takes the nearest observed year's value; the panel flags what it enters
    carried = snapshot.execute(
        """SELECT f.province_code, f.year, f.indicator, f.variables, f.catalog_unit_value,
                  coalesce(f.previous_anchor_year, f.next_anchor_year) AS anchor_year,
                  coalesce(f.previous_anchor_edition, f.next_anchor_edition) AS anchor_edition,
                  a.catalog_unit_value AS anchor_value, a.edition AS anchor_edition_seen
           FROM marts.panel_input_cells f
           JOIN marts.panel_input_cells a ON a.province_code = f.province_code AND a.indicator = f.indicator
                AND a.year = coalesce(f.previous_anchor_year, f.next_anchor_year)
           WHERE f.fill_method = 'carried' AND f.province_code = ? AND f.year = 2001""", [GUANGDONG]).df()
    assert len(carried) > 0
    panel = snapshot.execute("SELECT * FROM marts.province_year_panel WHERE province_code = ? AND year = 2001",
                             [GUANGDONG]).df().iloc[0]
    for row in carried.to_dict("records"):
        assert row["catalog_unit_value"] == pytest.approx(row["anchor_value"], rel=1e-12)
        assert row["anchor_edition"] == row["anchor_edition_seen"]
        for variable in filter(None, row["variables"].split(",")):
            assert bool(panel[f"{variable}_is_filled"]), (row["indicator"], variable)


def test_every_panel_row_has_its_inputs_and_the_parquet_copy(sample_build, snapshot):
    counts = snapshot.execute(
        """SELECT count(DISTINCT (p.province_code, p.year)), count(*), count(DISTINCT i.indicator)
           FROM marts.province_year_panel p JOIN marts.panel_input_cells i USING (province_code, year)""").fetchone()
    n_indicators = snapshot.execute("SELECT count(DISTINCT indicator) FROM lookups.model_variable_inputs").fetchone()[0]
    assert counts == (630, 630 * n_indicators, n_indicators)
    home, _ = sample_build
    parquet = published_dir(home) / "parquet" / "panel_input_cells.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall() == [(630 * n_indicators,)]


def test_no_published_column_lacks_a_comment(snapshot):
    uncommented = snapshot.execute(
        """SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns()
           WHERE schema_name IN ('raw', 'lookups', 'marts', 'analysis') AND coalesce(trim(comment), '') = ''
           ORDER BY 1""").fetchall()
    assert uncommented == []
    tables = {row[0] for row in snapshot.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE schema_name = 'analysis'").fetchall()}
    assert {"estimates", "fit", "mediation", "comparison", "settings", "estimate_history"} <= tables


def test_the_repository_cites_no_document_outside_itself():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.split("\0")
    citing = []
    for name in tracked:
        if name.startswith("tests/") or not name.endswith((".py", ".sql", ".yml", ".md")):
            continue
        text = (REPO_ROOT / name).read_text(encoding="utf-8", errors="replace")
        if "METHODS.md" in text or "shared/spec" in text:
            citing.append(name)
    assert citing == []
    assert (REPO_ROOT / "docs" / "methods.md").is_file()
