"""Corrupted data is stopped by the right check, which names the cells; nothing downstream
(the analysis, the published snapshot) is updated."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil

import duckdb
import pytest
from cli_helpers import run_provpanel_in_process

from expectations.panel_suite import validate_panel
from expectations.raw_suite import prepare_raw_frame, validate_raw
from provpanel.config import SAMPLE_EDITIONS_DIR
from provpanel.edition_read import read_edition
from provpanel.publish import published_path


@pytest.fixture(scope="module")
def clean_panel(sample_build):
    home, _ = sample_build
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
    finally:
        con.close()


def _failure(outcome, column):
    matches = [f for f in outcome.failures if f.column == column]
    assert matches, f"no failure on {column}: {[(f.expectation, f.column) for f in outcome.failures]}"
    return matches[0]


def test_clean_panel_passes(clean_panel):
    assert validate_panel(clean_panel).success


def test_one_year_of_trade_inflated_for_every_province(clean_panel):
    corrupted = clean_panel.copy()
    corrupted.loc[corrupted["year"] == 2010, "trade_cny"] *= 1.6
    failure = _failure(validate_panel(corrupted), "trade_cny_yoy_median_ratio")
    assert {row["year"] for row in failure.failing_rows} == {2010}
    assert len({row["province_code"] for row in failure.failing_rows}) == 30


def test_a_gdp_that_doubles(clean_panel):
    corrupted = clean_panel.copy()
    cell = (corrupted["province_code"] == "44") & (corrupted["year"] == 2015)
    corrupted.loc[cell, "gdp"] *= 2
    failure = _failure(validate_panel(corrupted), "gdp_yoy_ratio")
    named = {(row["province_code"], row["year"]) for row in failure.failing_rows}
    assert named == {("44", 2015), ("44", 2016)}  # the jump up, and the fall back


def test_a_province_missing_a_year(clean_panel):
    corrupted = clean_panel[~((clean_panel["province_code"] == "44") & (clean_panel["year"] == 2015))]
    outcome = validate_panel(corrupted)
    assert not outcome.success
    failure = _failure(outcome, "years_for_province")
    assert {row["province_code"] for row in failure.failing_rows} == {"44"}


def test_location_quotients_off_the_identity(clean_panel):
    corrupted = clean_panel.copy()
    corrupted["ic"] *= 1.1  # e.g. a reference total computed on other provinces than the panel's
    failure = _failure(validate_panel(corrupted), "ic_gdp_weighted_mean")
    assert failure.unexpected_count == len(corrupted)


def test_raw_suite_names_the_cell_of_a_negative_value_and_unknown_code():
    values = read_edition(SAMPLE_EDITIONS_DIR / "csy2022")
    assert validate_raw(values).success
    corrupted = values.copy()
    corrupted.loc[0, "value"] = -5.0
    corrupted.loc[1, "province_code"] = "99"
    outcome = validate_raw(corrupted)
    negative = _failure(outcome, "value_required_non_negative")
    assert negative.failing_rows[0]["file"] == values.loc[0, "file"]
    assert negative.failing_rows[0]["source_row"] == values.loc[0, "source_row"]
    assert negative.failing_rows[0]["source_col"] == values.loc[0, "source_col"]
    unknown = _failure(outcome, "province_code")
    assert unknown.failing_rows[0]["province_code"] == "99"


def _inflate_english_export(path, year: str, factor: float) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    column = rows[0].index(year)
    for row in rows[1:]:
        if len(row) > column and row[column].strip():
            row[column] = str(round(float(row[column]) * factor))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _inflate_transposed_year(path, year_label: str, factor: float) -> None:
    """A portal export with years as rows (GB18030): one year's row inflated."""
    text = path.read_bytes().decode("gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    hits = 0
    for row in rows:
        if row and row[0].strip() == year_label:
            row[1:] = [str(round(float(cell) * factor)) if cell.strip() else cell for cell in row[1:]]
            hits += 1
    assert hits == 1
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("gb18030"))


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_inflated_trade_edition_stops_the_analysis_and_publication(sample_build, tmp_path):
    """The real incident: a compiled file with one year's trade inflated 1.6-fold everywhere."""
    built_home, _ = sample_build
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    editions = tmp_path / "editions"
    shutil.copytree(SAMPLE_EDITIONS_DIR, editions)
    for name in ("AnnualbyProvince.csv", "AnnualbyProvince (1).csv"):  # exports, imports
        _inflate_english_export(editions / "csy2021" / name, "2010", 1.6)
    # and the published total, which TU takes where it is observed
    _inflate_transposed_year(editions / "csy2021" / "分省年度数据 (9).csv", "2010年", 1.6)
    published = published_path(home)
    published_before = _sha256(published)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        runs_before = con.execute("SELECT count(DISTINCT run_id) FROM analysis.estimate_history").fetchone()

    # csy2021 is already ingested: its changed files are re-read only when the user says so
    completed = run_provpanel_in_process(["build", "--accept-changes"], home=home, editions=editions)

    assert completed.returncode == 1
    assert "blocking checks failed" in completed.stderr and "the analysis was not run" in completed.stderr
    assert "trade_cny_yoy_median_ratio" in completed.stderr and "year=2010" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert _sha256(published) == published_before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT run_id) FROM analysis.estimate_history").fetchone() == runs_before
        # the bad edition did reach the working warehouse's raw layer: visible, but not published
        inflated = con.execute("""SELECT count(*) FROM raw.extract_values WHERE edition = 'csy2021'
                                  AND indicator = 'exports' AND year = 2010""").fetchone()[0]
        assert inflated > 0
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.province_year_panel").fetchone() == (630,)


def test_raw_suite_compares_provinces_with_the_national_total():
    values = read_edition(SAMPLE_EDITIONS_DIR / "csy2021")
    prepared = prepare_raw_frame(values)
    comparable = prepared[prepared["provinces_sum_to_national_ratio"].notna() & (prepared["indicator"] == "gdp")]
    assert comparable["provinces_sum_to_national_ratio"].between(0.99, 1.01).all()  # the clean sample agrees
    year = int(comparable["year"].iloc[0])
    corrupted = values.copy()
    guangdong = (corrupted["province_code"] == "44") & (corrupted["indicator"] == "gdp") & (corrupted["year"] == year)
    assert guangdong.sum() == 1
    corrupted.loc[guangdong, "value"] *= 10  # a value read in the wrong unit
    failure = _failure(validate_raw(corrupted), "provinces_sum_to_national_ratio")
    assert [(r["province_code"], r["year"], r["indicator"]) for r in failure.failing_rows] == [("00", year, "gdp")]
