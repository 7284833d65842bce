"""End to end: the bundled sample through ingest → dbt → checks → analysis, as a user runs it."""

from __future__ import annotations

import duckdb
from cli_helpers import run_provpanel


def _query(home, sql):
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_build_prints_warehouse_and_regression_table(sample_build):
    home, completed = sample_build
    assert str(home / "warehouse.duckdb") in completed.stdout
    # Models 1 and 2 of the paper, with the IC coefficient row and the controls of Model 2
    for token in ("IC", "CX", "HUM", "FDI", "GOV", "INF", "Model 1", "Model 2"):
        assert token in completed.stdout, token


def test_panel_has_paper_grain(sample_build):
    home, _ = sample_build
    assert _query(home, "select count(*) from marts.province_year_panel") == [(630,)]
    assert _query(home, "select count(*) from (select distinct province_code, year from marts.province_year_panel)") == [(630,)]
    assert _query(home, "select count(distinct province_code), min(year), max(year) from marts.province_year_panel") == [(30, 2001, 2021)]
    assert _query(home, "select count(*) from marts.province_year_panel where province_code = '54'") == [(0,)]
    by_region = dict(_query(home, "select region, count(*) from marts.province_year_panel group by region"))
    assert by_region == {"east": 231, "central": 168, "west": 231}


def test_no_null_model_variables(sample_build):
    home, _ = sample_build
    nulls = _query(home, """select count(*) from marts.province_year_panel
        where tu is null or ic is null or cx is null or hum is null or fdi is null or gov is null or inf is null""")
    assert nulls == [(0,)]


def test_raw_keeps_every_edition_with_provenance(sample_build):
    home, _ = sample_build
    editions = _query(home, "select edition from raw.editions order by published")
    assert len(editions) >= 2
    missing_provenance = _query(home, """select count(*) from raw.extract_values
        where file is null or file_sha256 is null or source_row is null or source_col is null""")
    assert missing_provenance == [(0,)]
    # Tibet is ingested like every province even though the panel leaves it out
    assert _query(home, "select count(*) > 0 from raw.extract_values where province_code = '54'") == [(True,)]


def test_every_model_of_the_paper_runs(sample_build):
    home, _ = sample_build
    fitted = {r[0] for r in _query(home, "select model_id from analysis.fit where nobs > 0")}
    paper = {str(m) for m in [*range(1, 12), *range(14, 18)]} | {"protectionism"}
    assert paper <= fitted
    assert _query(home, "select count(*) from analysis.mediation") != [(0,)]
    assert _query(home, "select count(*) from analysis.comparison where estimate is not null") != [(0,)]
    for name in ("table_1.md", "table_1.tex", "table_1.html", "table_1.csv", "coefficients_vs_published.png",
                 "ic_tu_by_region.png"):
        assert (home / "outputs" / name).stat().st_size > 100, name


def test_second_edition_revises_history(sample_build):
    home, _ = sample_build
    revised = _query(home, "select count(*), count(distinct edition), count(*) filter (is_panel_edition) "
                           "from marts.indicator_revisions")[0]
    assert revised[0] > 0 and revised[1] == 2
    # with the default 'latest' policy the later edition's value is the one the panel uses
    assert _query(home, """select count(*) from marts.indicator_revisions
                           where is_panel_edition and edition <> 'csy2022'""") == [(0,)]


def test_report_command_prints_every_table(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["report"], home=home)
    assert completed.returncode == 0, completed.stderr
    for title in ("Table 1", "Table 2", "Table 3", "Table 4", "comparison_with_published"):
        assert title in completed.stdout, title


def test_sql_command_prints_count(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["sql", "select count(*) from marts.province_year_panel"], home=home)
    assert completed.returncode == 0, completed.stderr
    assert "630" in completed.stdout


def test_sql_command_reports_bad_query_without_traceback(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["sql", "select * from no_such_table"], home=home)
    assert completed.returncode == 1
    assert "no_such_table" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_rebuild_with_nothing_changed_does_no_work(sample_build):
    home, _ = sample_build
    before = _query(home, "select edition, count(*), max(loaded_at) from raw.extract_values group by 1 order by 1")
    runs_dir = home / "dagster"
    runs_before = sorted(p.name for p in runs_dir.rglob("*") if p.is_file())
    completed = run_provpanel(["build", "--quiet"], home=home)
    assert completed.returncode == 0, completed.stderr
    assert "no work done" in completed.stdout and "Model 1" in completed.stdout
    assert sorted(p.name for p in runs_dir.rglob("*") if p.is_file()) == runs_before  # no Dagster run
    after = _query(home, "select edition, count(*), max(loaded_at) from raw.extract_values group by 1 order by 1")
    assert before == after  # unchanged editions are not rewritten


def test_the_build_started_from_the_parse_made_for_the_project(sample_build):
    """A new home's dbt build parses nothing: the project's parse, made once for its content and
    the default settings, serves it (dbt_home_project). dbt logs what it did with it."""
    home, _ = sample_build
    log = (home / "dbt" / "target" / "dbt.log").read_text(encoding="utf-8")
    assert "Nothing changed, skipping partial parsing." in log
    assert "Unable to do partial parsing" not in log
