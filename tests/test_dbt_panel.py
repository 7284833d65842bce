"""dbt build on a small hand-made raw warehouse (31 provinces, 2001-2004, two editions) with the
default settings; every measure checked against a computation done here from the planted data."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from dbt_helpers import (
    ALL_PROVINCES,
    EXCHANGE_RATES,
    EXPORTS_IN_CNY_PROVINCE,
    MISSING_PATENT_APPLICATIONS_CELL,
    MISSING_POPULATION_CELL,
    REVISED_CELL,
    REVISED_GDP_32_2003,
    TRADE_TOTAL_ONLY_PROVINCE,
    build_synthetic_warehouse,
    province_values,
    query,
)

from provpanel.config import SEEDS_DIR

pytestmark = pytest.mark.slow  # a dbt build of the whole project

PANEL_PROVINCES = [code for code in ALL_PROVINCES if code != "54"]


def planted(code: str, year: int, indicator: str) -> float:
    return province_values(ALL_PROVINCES.index(code), code, year)[indicator][0]


def panel_row(warehouse, code: str, year: int) -> dict:
    frame = query(warehouse, "select * from marts.province_year_panel where province_code = ? and year = ?", code, year)
    assert len(frame) == 1, f"expected one panel row for {code}/{year}, got {len(frame)}"
    return frame.iloc[0].to_dict()


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """One dbt build with the default settings: (warehouse path, dbt's output)."""
    work_dir = tmp_path_factory.mktemp("dbt-default")
    warehouse, completed = build_synthetic_warehouse(work_dir)
    assert completed.returncode == 0, f"dbt build failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-3000:]}"
    return warehouse, completed.stdout


@pytest.fixture(scope="module")
def warehouse(build):
    return build[0]


def test_dbt_unit_tests_ran_and_passed(build):
    """The given/expect unit tests of the models run in a plain `dbt build` (none silently
    dropped). provpanel's own build leaves them out; this is where they run."""
    output = build[1]
    for unit_test in [
        "int_indicators_interpolated::interior_edges_and_all_missing_with_carry",
        "int_indicators_interpolated::edges_left_missing",
        "int_indicators_resolved_to_edition::latest_published_edition_wins",
        "int_indicators_resolved_to_edition::first_release_wins",
        "int_indicators_resolved_to_edition::supersedes_orders_editions_of_one_date",
        "int_indicators_resolved_to_edition::supersedes_orders_editions_of_one_date_first_release",
        "int_indicators_in_catalog_unit::cny_published_usd_series_expressed_in_usd",
        "int_indicators_converted_to_cny::usd_interpolated_then_converted_at_own_year_rate",
        "int_trade_chosen_for_tu::observed_total_beats_filled_split",
        "int_location_quotients_computed::location_quotient_against_panel_sums",
        "int_location_quotients_computed::location_quotient_against_national_rows",
        "int_human_capital_computed::human_capital_against_formula",
    ]:
        assert f"PASS {unit_test}" in output, f"unit test {unit_test} did not pass in the build"


def test_panel_grain_is_30_provinces_by_the_years(warehouse):
    panel = query(warehouse, "select * from marts.province_year_panel")
    assert len(panel) == 30 * 4
    assert sorted(panel.province_code.unique()) == PANEL_PROVINCES
    assert sorted(panel.year.unique()) == [2001, 2002, 2003, 2004]
    regions = panel[panel.year == 2001].region.value_counts().to_dict()
    assert regions == {"east": 11, "central": 8, "west": 11}
    assert panel[panel.year == 2001].coastal.sum() == 11
    model_variables = ["tu", "ic", "ic2", "cx", "hum", "fdi", "gov", "inf", "fma", "fma_tv", "te", "ks"]
    assert panel[model_variables].notna().all().all()


def test_schemas_are_exactly_named(warehouse):
    schemas = set(query(warehouse, "select distinct table_schema from information_schema.tables").table_schema)
    assert {"raw", "staging", "intermediate", "marts", "lookups"} <= schemas
    assert not any(schema.startswith("main_") for schema in schemas)


def test_staging_keeps_catalog_values_only(warehouse):
    non_catalog = query(warehouse, "select count(*) as n from staging.stg_raw__extract_values where indicator = '某个未知指标'")
    assert non_catalog.n[0] == 0


def test_location_quotient_against_hand_computation(warehouse):
    year = 2002
    reference_share = sum(planted(c, year, "va_tertiary") for c in PANEL_PROVINCES) / sum(
        planted(c, year, "gdp") for c in PANEL_PROVINCES)
    expected_ic = planted("44", year, "va_tertiary") / planted("44", year, "gdp") / reference_share
    reference_share2 = sum(planted(c, year, "va_secondary") for c in PANEL_PROVINCES) / sum(
        planted(c, year, "gdp") for c in PANEL_PROVINCES)
    expected_ic2 = planted("44", year, "va_secondary") / planted("44", year, "gdp") / reference_share2
    row = panel_row(warehouse, "44", year)
    assert row["ic"] == pytest.approx(expected_ic, rel=1e-12)
    assert row["ic2"] == pytest.approx(expected_ic2, rel=1e-12)


def test_tibet_stays_in_staging_and_intermediate(warehouse):
    staged = query(warehouse, "select count(*) as n from staging.stg_raw__extract_values where province_code = '54'")
    assert staged.n[0] > 0
    lq = query(warehouse, "select count(*) as n from intermediate.int_location_quotients_computed where province_code = '54'")
    assert lq.n[0] == 4


def read_provinces_seed() -> dict[str, dict]:
    with open(SEEDS_DIR / "provinces.csv", encoding="utf-8") as handle:
        return {row["province_code"]: row for row in csv.DictReader(handle)}


def test_fma_for_a_coastal_and_an_inland_province(warehouse):
    provinces = read_provinces_seed()

    def internal_km(code: str) -> float:
        return (2 / 3) * math.sqrt(float(provinces[code]["area_km2"]) / math.pi)

    shanghai = panel_row(warehouse, "31", 2001)
    assert shanghai["fma"] == pytest.approx(100 / internal_km("31"), rel=1e-9)

    sichuan = provinces["51"]
    routes = [
        haversine_km(float(sichuan["capital_lat"]), float(sichuan["capital_lon"]),
                     float(port["capital_lat"]), float(port["capital_lon"])) + internal_km(code)
        for code, port in provinces.items() if port["coastal"] == "true"
    ]
    assert len(routes) == 11
    assert panel_row(warehouse, "51", 2003)["fma"] == pytest.approx(100 / min(routes), rel=1e-9)


def test_fma_tv_follows_the_exchange_rate(warehouse):
    first, last = panel_row(warehouse, "51", 2001), panel_row(warehouse, "51", 2004)
    assert first["fma_tv"] == pytest.approx(first["fma"], rel=1e-12)
    assert last["fma_tv"] == pytest.approx(last["fma"] * EXCHANGE_RATES[2004] / EXCHANGE_RATES[2001], rel=1e-12)


def test_hum_against_the_formula(warehouse):
    code, year = "42", 2003
    counts = {name: planted(code, year, name) for name in
              ["edu_none", "edu_primary", "edu_junior", "edu_senior", "edu_tertiary"]}
    years = {"edu_none": 0, "edu_primary": 6, "edu_junior": 9, "edu_senior": 12, "edu_tertiary": 16}
    schooling = sum(counts[k] * years[k] for k in counts) / sum(counts.values())
    brackets = [(0, 6, 0.180), (6, 9, 0.134), (9, 12, 0.101), (12, math.inf, 0.068)]
    phi = sum(rate * max(0.0, min(schooling, upper) - lower) for lower, upper, rate in brackets)
    expected = math.log(math.exp(phi) * planted(code, year, "employment"))
    row = panel_row(warehouse, code, year)
    assert row["average_years_of_schooling"] == pytest.approx(schooling, rel=1e-12)
    assert row["hum"] == pytest.approx(expected, rel=1e-12)


def test_trade_conversion_and_trade_total_fallback(warehouse):
    year = 2002
    rate = EXCHANGE_RATES[year]
    row = panel_row(warehouse, EXPORTS_IN_CNY_PROVINCE, year)  # exports published in CNY already
    exports_cny = planted(EXPORTS_IN_CNY_PROVINCE, year, "exports") * rate / 1e6
    imports_cny = planted(EXPORTS_IN_CNY_PROVINCE, year, "imports") * rate / 1e6
    assert row["uses_trade_split"]
    assert row["tu"] == pytest.approx((exports_cny + imports_cny) / planted(EXPORTS_IN_CNY_PROVINCE, year, "gdp"))

    fallback = panel_row(warehouse, TRADE_TOTAL_ONLY_PROVINCE, year)
    total_usd = planted(TRADE_TOTAL_ONLY_PROVINCE, year, "exports") + planted(TRADE_TOTAL_ONLY_PROVINCE, year, "imports")
    assert not fallback["uses_trade_split"]
    assert fallback["tu"] == pytest.approx(total_usd * rate / 1e6 / planted(TRADE_TOTAL_ONLY_PROVINCE, year, "gdp"))
    assert fallback["fdi"] == pytest.approx(
        planted(TRADE_TOTAL_ONLY_PROVINCE, year, "fdi_actual") * rate / 1e6 / planted(TRADE_TOTAL_ONLY_PROVINCE, year, "gdp"))


def test_interpolated_and_carried_cells_are_flagged(warehouse):
    code, year = MISSING_POPULATION_CELL
    row = panel_row(warehouse, code, year)
    population = (planted(code, year - 1, "population") + planted(code, year + 1, "population")) / 2
    assert row["population"] == pytest.approx(population)
    assert row["cx_is_filled"] and row["inf_is_filled"] and row["te_is_filled"]
    assert not row["tu_is_filled"] and not row["hum_is_filled"] and not row["ks_is_filled"]
    assert row["n_filled_inputs"] == 1

    code, year = MISSING_PATENT_APPLICATIONS_CELL
    carried = panel_row(warehouse, code, year)
    assert carried["ks"] == pytest.approx(math.log(planted(code, year + 1, "patent_applications")))
    assert carried["ks_is_filled"] and carried["n_filled_inputs"] == 1

    panel = query(warehouse, "select * from marts.province_year_panel")
    assert panel.n_filled_inputs.sum() == 2  # nothing else was filled
    cells = query(warehouse, """select fill_method from intermediate.int_indicators_interpolated
                                where province_code = ? and year = ? and indicator = 'population'""", *MISSING_POPULATION_CELL)
    assert cells.fill_method[0] == "interpolated"


def test_latest_edition_wins_and_revision_is_listed(warehouse):
    code, year, indicator = REVISED_CELL
    assert panel_row(warehouse, code, year)["gdp"] == pytest.approx(REVISED_GDP_32_2003)
    revisions = query(warehouse, "select * from marts.indicator_revisions order by published")
    assert len(revisions) == 2  # the unchanged republication of 33/2003 is not a revision
    assert list(revisions.edition) == ["ed_a", "ed_b"]
    assert set(revisions.province_code) == {code} and set(revisions.indicator) == {indicator}
    assert list(revisions.is_panel_edition) == [False, True]
    assert revisions.value.iloc[1] == pytest.approx(REVISED_GDP_32_2003)


def test_pca_loadings_match_numpy_eigh(warehouse):
    inputs = query(warehouse, """select * from intermediate.int_transaction_efficiency_inputs_prepared
                                 order by province_code, year""")
    columns = ["mobile_users_per_capita", "internet_users_per_capita", "urban_road_area_per_capita", "freight_per_capita"]
    matrix = inputs[columns].to_numpy()
    correlation = np.corrcoef(matrix, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]

    stats = query(warehouse, "select * from marts.transaction_efficiency_pca")
    stored_eigenvalues = stats[stats.statistic == "eigenvalue"].sort_values("component").value.to_numpy()
    np.testing.assert_allclose(stored_eigenvalues, eigenvalues, rtol=1e-10)
    pc1 = stats[(stats.statistic == "loading") & (stats.component == "PC1")].set_index("variable").value
    expected_pc1 = eigenvectors[:, 0] * np.sqrt(eigenvalues[0])
    expected_pc1 = expected_pc1 if expected_pc1.sum() > 0 else -expected_pc1  # orientation rule
    np.testing.assert_allclose(pc1[columns].to_numpy(), expected_pc1, rtol=1e-9)

    retained = int((eigenvalues > 1).sum())
    weights = eigenvalues[:retained] / eigenvalues[:retained].sum()
    z = (matrix - matrix.mean(axis=0)) / matrix.std(axis=0, ddof=1)
    oriented = eigenvectors[:, :retained] * np.where(eigenvectors[:, :retained].sum(axis=0) < 0, -1, 1)
    expected_te = z @ oriented @ weights
    te = query(warehouse, "select te from marts.province_year_panel order by province_code, year").te.to_numpy()
    np.testing.assert_allclose(te, expected_te, rtol=1e-9, atol=1e-12)

    kmo = stats[stats.statistic == "kmo"].value.iloc[0]
    assert 0 < kmo < 1
    p_value = stats[stats.statistic == "bartlett_p_value"].value.iloc[0]
    assert 0 <= p_value < 0.05  # the planted inputs are correlated


def test_complete_inputs_leave_every_variable_available(warehouse):
    availability = query(warehouse, "select * from marts.variable_availability order by variable")
    assert len(availability) == 12 and availability.is_complete.all()
    assert availability.reason.isna().all() and (availability.n_rows == 120).all()
    _, year = MISSING_PATENT_APPLICATIONS_CELL  # carried: other provinces observe that year
    coverage = query(warehouse, """select n_units, n_observed, n_carried, n_missing, is_left_out, status
                                   from marts.indicator_coverage where indicator = 'patent_applications' and year = ?""",
                     year).iloc[0].to_dict()
    assert coverage == {"n_units": 30, "n_observed": 29, "n_carried": 1, "n_missing": 0,
                        "is_left_out": False, "status": "observed"}


def test_missing_input_is_reported_and_corrupt_input_fails(warehouse, tmp_path):
    """fdi_actual without any 2001-2002 value: FDI null there, with the reason, not a failure.
    Beijing's 2003 patent applications negative: KS = ln of it is NaN with every input present,
    a failure (the raw suite refuses negatives at ingest; this is the dbt net behind it)."""
    import shutil

    import duckdb
    from dbt_helpers import run_dbt

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("delete from raw.extract_values where indicator = 'fdi_actual' and year <= 2002")
        connection.execute("""update raw.extract_values set value = -5, source_value = '-5'
                              where province_code = '11' and year = 2003 and indicator = 'patent_applications'""")
    settings = {"panel_start_year": 2001, "panel_end_year": 2004}
    built = run_dbt(["run"], warehouse=copy, work_dir=tmp_path, dbt_vars=settings)
    assert built.returncode == 0, built.stdout[-4000:]
    tested = run_dbt(["test", "--select", "province_year_panel"], warehouse=copy, work_dir=tmp_path, dbt_vars=settings)
    assert tested.returncode != 0
    assert "FAIL 1 null_only_where_input_missing_province_year_panel" in tested.stdout
    availability = query(copy, "select * from marts.variable_availability where not is_complete order by variable")
    assert list(availability.variable) == ["fdi", "ks"]
    fdi, ks = availability.to_dict("records")
    assert (fdi["n_null"], fdi["n_missing_input"], fdi["n_corrupt"]) == (60, 60, 0)
    assert fdi["years_missing"] == "2001-2002" and fdi["reason"] == "fdi_actual has no observations for 2001-2002"
    assert (ks["n_null"], ks["n_corrupt"]) == (1, 1)
    assert ks["reason"] == "null although every input is present (corrupt input)"
    left_out = query(copy, """select year from marts.indicator_coverage
                              where indicator = 'fdi_actual' and is_left_out order by year""")
    assert list(left_out.year) == [2001, 2002]
