"""dbt build with non-default settings (first_release vintage, national LQ reference, panel end
'latest'), and the data-error test for two files of one edition that disagree."""

from __future__ import annotations

import duckdb
import pytest
from dbt_helpers import (
    FIRST_RELEASE_GDP_32_2003,
    REVISED_CELL,
    build_synthetic_warehouse,
    query,
    run_dbt,
)

pytestmark = pytest.mark.slow  # a dbt build of the whole project

SETTINGS = {"vintage_policy": "first_release", "lq_reference": "national", "panel_end_year": "latest"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("dbt-settings")
    warehouse, completed = build_synthetic_warehouse(work_dir, SETTINGS)
    assert completed.returncode == 0, f"dbt build failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-3000:]}"
    return warehouse, work_dir


def test_first_release_keeps_the_first_published_value(built):
    warehouse, _ = built
    code, year, indicator = REVISED_CELL
    panel = query(warehouse, "select gdp from marts.province_year_panel where province_code = ? and year = ?", code, year)
    assert panel.gdp[0] == pytest.approx(FIRST_RELEASE_GDP_32_2003)
    resolved = query(warehouse, """select edition, vintage_policy from intermediate.int_indicators_resolved_to_edition
                                   where province_code = ? and year = ? and indicator = ?""", code, year, indicator)
    assert list(resolved.edition) == ["ed_a"] and list(resolved.vintage_policy) == ["first_release"]
    revisions = query(warehouse, "select edition, is_panel_edition from marts.indicator_revisions order by published")
    assert list(revisions.edition) == ["ed_a", "ed_b"]
    assert list(revisions.is_panel_edition) == [True, False]


def test_national_reference_uses_the_00_rows(built):
    warehouse, _ = built
    national = query(warehouse, """select year, indicator, value from intermediate.int_indicators_interpolated
                                   where province_code = '00' and year = 2002 and indicator in ('gdp', 'va_tertiary', 'va_secondary')""")
    by_indicator = dict(zip(national.indicator, national.value))
    row = query(warehouse, "select * from marts.province_year_panel where province_code = '44' and year = 2002").iloc[0]
    expected_ic = (row["va_tertiary"] / row["gdp"]) / (by_indicator["va_tertiary"] / by_indicator["gdp"])
    expected_ic2 = (row["va_secondary"] / row["gdp"]) / (by_indicator["va_secondary"] / by_indicator["gdp"])
    assert row["ic"] == pytest.approx(expected_ic, rel=1e-12)
    assert row["ic2"] == pytest.approx(expected_ic2, rel=1e-12)
    # the planted national totals differ from the provincial sums, so the reference matters
    panel_sum = query(warehouse, """select sum(va_tertiary) / sum(gdp) as share from marts.province_year_panel
                                    where year = 2002""").share[0]
    assert row["ic"] != pytest.approx((row["va_tertiary"] / row["gdp"]) / panel_sum, rel=1e-6)


def test_latest_panel_end_year_is_the_last_year_with_data(built):
    warehouse, _ = built
    years = query(warehouse, "select distinct year from marts.province_year_panel order by year")
    assert list(years.year) == [2001, 2002, 2003, 2004]


def test_two_files_of_one_edition_that_disagree_fail_the_build(built):
    warehouse, work_dir = built
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("""
            insert into raw.extract_values
            select edition, 'gdp_conflicting.csv', file_sha256, sheet, 7, 3, province_code, year, indicator,
                   value + 1, unit, source_value, source_unit, in_catalog, loaded_at
            from raw.extract_values
            where edition = 'ed_a' and province_code = '11' and year = 2001 and indicator = 'gdp'
            limit 1""")
    completed = run_dbt(["test", "--select", "assert_files_of_one_edition_agree"],
                        warehouse=warehouse, work_dir=work_dir, dbt_vars={"panel_start_year": 2001, **SETTINGS})
    assert completed.returncode != 0
    assert "FAIL 1 assert_files_of_one_edition_agree" in completed.stdout
