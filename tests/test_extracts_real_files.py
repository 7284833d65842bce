"""The readers against real NBS downloads (read in place from ../shared/data/nbs_real/)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from cli_helpers import NBS_REAL_DIR, run_provpanel
from real_editions import REAL_DOWNLOADS, REAL_FILES, write_real_editions

from provpanel.extracts import ExtractValue, detect_format, read_extract

pytestmark = pytest.mark.real_data  # reads ../shared/data/nbs_real/ in place

# The one catalogue (tests/real_editions.py): what the manifest says for each file, the
# format it is detected as. National tables (province code 00 only) are read like the others,
# checked apart.
NATIONAL_FILES: dict[str, dict] = {real.name: real.entry for real in REAL_DOWNLOADS
                                   if real.detected_format == "national_table"}
FILE_ARGUMENTS: dict[str, dict] = {real.name: real.entry for real in REAL_DOWNLOADS if real.name not in NATIONAL_FILES}
EXPECTED_FORMATS = {real.name: real.detected_format for real in REAL_DOWNLOADS}
ALL_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
}  # fmt: skip


@pytest.fixture(scope="module")
def real_values() -> dict[str, list[ExtractValue]]:
    return {
        name: read_extract(NBS_REAL_DIR / name, **kwargs) for name, kwargs in FILE_ARGUMENTS.items()
    }


def value_of(values, province, year, indicator) -> ExtractValue:
    matches = [
        v
        for v in values
        if v.province_code == province and v.year == year and v.indicator == indicator
    ]
    assert len(matches) == 1, (province, year, indicator, matches)
    return matches[0]


def test_every_real_file_is_covered():
    data_files = {p.name for p in NBS_REAL_DIR.iterdir()
                  if p.suffix in {".csv", ".xlsx", ".xls", ".rda", ".rds", ".dta", ".parquet"}}
    assert data_files == set(FILE_ARGUMENTS) | set(NATIONAL_FILES)


@pytest.mark.parametrize("real", REAL_DOWNLOADS, ids=lambda real: real.name)
def test_each_file_holds_the_years_the_catalogue_states_and_was_published_after(real):
    values = read_extract(NBS_REAL_DIR / real.name, **real.entry)
    years = {v.year for v in values if v.in_catalog or real.edition is None}
    assert (min(years), max(years)) == real.years
    assert years == set(range(real.years[0], real.years[1] + 1)), sorted(set(range(*real.years)) - years)
    if real.published is not None:  # an edition cannot be published before the last year it holds ends
        assert int(real.published[:4]) > real.years[1], (real.name, real.published, real.years)


@pytest.mark.parametrize("name", sorted(EXPECTED_FORMATS))
def test_format_detected_by_content(name, tmp_path):
    # Real downloads all share one name: detection must not look at it.
    renamed = tmp_path / "分省年度数据 (3).csv"
    renamed.write_bytes((NBS_REAL_DIR / name).read_bytes())
    assert detect_format(renamed) == EXPECTED_FORMATS[name]


@pytest.mark.parametrize("name", sorted(FILE_ARGUMENTS))
def test_each_file_has_31_provinces_and_national_rows_apart(name, real_values):
    values = real_values[name]
    provinces = {v.province_code for v in values if v.province_code != "00"}
    assert provinces == ALL_PROVINCES  # Tibet (54) included like every province
    assert all(v.value == v.value for v in values)  # no NaN slipped in for empty cells


def test_gdp_first_release_known_values(real_values):
    values = real_values["gdp_1993-2017_first-release.csv"]
    guangdong = value_of(values, "44", 2017, "gdp")
    assert guangdong.value == pytest.approx(89705.23)
    assert (guangdong.unit, guangdong.source_unit, guangdong.in_catalog) == (
        "cny_100m",
        "亿元",
        True,
    )
    assert value_of(values, "11", 2008, "gdp").value == pytest.approx(11115.00)
    assert value_of(values, "11", 2008, "gdp").source_value == "11115.00"
    assert {v.year for v in values} == set(range(1993, 2018))


def test_patents_current_export(real_values):
    values = real_values["patents_granted_2011-2025.csv"]
    assert value_of(values, "44", 2020, "patents_granted").value == 709725
    assert value_of(values, "11", 2011, "patents_granted").value == 40888
    # 2025 is empty in the download ("not yet published"): no value, never a zero.
    assert not [v for v in values if v.year == 2025]
    assert {v.unit for v in values} == {"piece"}


def test_fiscal_expenditure(real_values):
    values = real_values["fiscal_expenditure_2011-2025.csv"]
    assert value_of(values, "11", 2020, "fiscal_expenditure").value == pytest.approx(7116.18)


def test_cross_section_keeps_non_catalog_columns(real_values):
    values = real_values["gdp_by_sector_2021.csv"]
    assert value_of(values, "11", 2021, "va_tertiary").value == pytest.approx(36507.1)
    assert value_of(values, "65", 2021, "gdp").value == pytest.approx(16791.5)
    per_capita = value_of(values, "11", 2021, "人均地区生产总值")
    assert per_capita.value == 202607
    assert (per_capita.in_catalog, per_capita.unit, per_capita.source_unit) == (
        False,
        "元/人",
        "元/人",
    )
    assert {v.year for v in values} == {2021}


def test_urban_unit_employment_is_not_catalog_employment(real_values):
    values = real_values["urban_unit_employment_2006-2025.csv"]
    assert {v.indicator for v in values} == {"城镇单位就业人员"}
    assert not any(v.in_catalog for v in values)
    assert value_of(values, "11", 2008, "城镇单位就业人员").value == pytest.approx(570.3)
    assert {v.year for v in values} == set(range(2008, 2025))  # 2006, 2007 and 2025 are empty


def test_english_export(real_values):
    values = real_values["population_en_2010-2019.csv"]
    assert value_of(values, "11", 2019, "population").value == 2154
    assert value_of(values, "15", 2010, "population").value == 2472
    assert value_of(values, "54", 2019, "population").value == 351


def test_workbook_sheets(real_values):
    values = real_values["provincial_workbook_1985-2018.xlsx"]
    gdp = [v for v in values if v.sheet == "GDP"]
    assert {v.indicator for v in gdp} == {"gdp"}
    yunnan = value_of(gdp, "53", 2017, "gdp")  # printed as 'Yunan'
    assert yunnan.value == pytest.approx(16376.34)
    assert value_of(gdp, "44", 2017, "gdp").value == pytest.approx(89705.23)
    employment = [v for v in values if v.sheet == "employment "]
    assert {v.indicator for v in employment} == {"employment"}
    assert value_of(employment, "11", 1985, "employment").value == pytest.approx(566.5)
    # Hainan and Chongqing start later: their empty early cells produce no values.
    assert not [v for v in gdp if v.province_code == "50" and v.year == 1985]


def test_workbook_exchange_rate_converts_to_cny_per_100_usd():
    values = read_extract(
        NBS_REAL_DIR / "provincial_workbook_1985-2018.xlsx",
        sheet="exchange rate(USD_CNY)",
        indicator="exchange_rate",
        unit="元/美元",
    )
    rate = value_of(values, "11", 2017, "exchange_rate")
    assert (rate.value, rate.unit, rate.source_value) == (
        pytest.approx(676.0),
        "cny_per_100usd",
        "6.76",
    )


def test_provenance_points_at_the_text_cell(real_values):
    for name, province, year, indicator in [
        ("gdp_1993-2017_first-release.csv", "44", 2017, "gdp"),
        ("patents_granted_2011-2025.csv", "44", 2020, "patents_granted"),
        ("gdp_by_sector_2021.csv", "65", 2021, "gdp"),
    ]:
        cell = value_of(real_values[name], province, year, indicator)
        raw = (NBS_REAL_DIR / name).read_bytes()
        text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("gb18030")
        line = text.splitlines()[cell.source_row - 1]
        fields = next(csv.reader(io.StringIO(line)))
        assert fields[cell.source_col - 1].strip() == cell.source_value
        assert float(cell.source_value) == pytest.approx(cell.value)


def test_provenance_points_at_the_workbook_cell(real_values):
    cell = value_of(real_values["provincial_workbook_1985-2018.xlsx"], "53", 2017, "gdp")
    book = openpyxl.load_workbook(NBS_REAL_DIR / "provincial_workbook_1985-2018.xlsx", read_only=True)
    try:
        sheet = book["GDP"]
        rows = list(sheet.iter_rows(min_row=1, values_only=True))
    finally:
        book.close()
    assert rows[cell.source_row - 1][0] == "Yunan"
    assert rows[0][cell.source_col - 1] == 2017
    assert rows[cell.source_row - 1][cell.source_col - 1] == pytest.approx(cell.value)


def test_sst_yearbook_rda_reads_the_total_of_the_breakdown(real_values):
    values = real_values["patents_granted_sst_yearbook_2010-2023.rda"]
    for province, year, expected in [("11", 2021, 198778), ("44", 2010, 119343),
                                     ("32", 2015, 250290), ("44", 2020, 709725)]:
        cell = value_of(values, province, year, "patents_granted")
        assert (cell.value, cell.unit, cell.source_unit) == (expected, "piece", "件")
        assert cell.sheet == "RDPatentAuthority"  # the R object's name
    # the same value as the portal export of another source
    portal = real_values["patents_granted_2011-2025.csv"]
    assert value_of(portal, "44", 2020, "patents_granted").value == 709725
    # names printed `北   京`, and the reviewed OCR misspellings 山两 / 两藏, all resolved
    assert {v.year for v in values} == set(range(2010, 2024))
    assert len({(v.province_code, v.year) for v in values}) == 32 * 14


def test_sst_yearbook_rda_provenance_is_the_frame_row():
    import pyreadr

    frame = pyreadr.read_r(NBS_REAL_DIR / "patents_granted_sst_yearbook_2010-2023.rda")["RDPatentAuthority"]
    values = read_extract(NBS_REAL_DIR / "patents_granted_sst_yearbook_2010-2023.rda",
                          indicator="patents_granted")
    cell = value_of(values, "11", 2021, "patents_granted")
    row = frame.iloc[cell.source_row - 1]
    assert "".join(row["province"].split()) == "北京" and row["year"] == "2021"
    assert row["chn_block4"] == "合计"
    assert frame.columns[cell.source_col - 1] == "value"
    assert row.iloc[cell.source_col - 1] == 198778


def test_sst_yearbook_rda_another_breakdown_value_on_request():
    values = read_extract(NBS_REAL_DIR / "patents_granted_sst_yearbook_2010-2023.rda",
                          indicator="patents_granted", breakdown={"value": "发明"})
    total = read_extract(NBS_REAL_DIR / "patents_granted_sst_yearbook_2010-2023.rda",
                         indicator="patents_granted")
    invention = value_of(values, "11", 2021, "patents_granted")
    assert invention.value < value_of(total, "11", 2021, "patents_granted").value
    assert invention.source_row == value_of(total, "11", 2021, "patents_granted").source_row + 1


def test_portal_api_long_table_trade_in_thousand_usd(real_values):
    values = real_values["trade_total_portal_api_2016-2024.csv"]
    beijing = value_of(values, "11", 2021, "trade_total")
    assert (beijing.source_value, beijing.source_unit, beijing.unit) == ("470960000.0", "千美元", "usd_10k")
    assert beijing.value == pytest.approx(47_096_000)
    assert value_of(values, "44", 2016, "trade_total").value == pytest.approx(95_529_800.7)
    assert {v.indicator for v in values} == {"trade_total"}
    assert {v.year for v in values} == set(range(2016, 2025))
    line = (NBS_REAL_DIR / "trade_total_portal_api_2016-2024.csv").read_text(encoding="utf-8-sig").splitlines()[
        beijing.source_row - 1]
    assert line.split(",")[beijing.source_col - 1] == "470960000.0"
    assert line.split(",")[3] == "110000"


def test_national_exchange_rate_table():
    values = read_extract(NBS_REAL_DIR / "exchange_rate_national_1978-2014.csv")
    assert {v.province_code for v in values} == {"00"}
    for year, expected in [(2001, 827.7), (2008, 694.51), (2014, 614.28)]:
        rate = value_of(values, "00", year, "exchange_rate")
        assert (rate.value, rate.unit, rate.source_unit) == (expected, "cny_per_100usd", "美元=100")
    usd = [v for v in values if v.indicator == "exchange_rate"]
    assert {v.year for v in usd} == set(range(1985, 2015))  # 1978-1984 are empty: no values
    # the other currencies are kept under their own label and printed unit, outside the catalog
    yen = value_of(values, "00", 2001, "人民币对日元汇率")
    assert (yen.in_catalog, yen.value, yen.unit) == (False, 6.8075, "日元=100")
    assert not [v for v in values if v.indicator == "人民币对欧元汇率" and v.year < 2002]


def test_provpanel_parse_the_new_real_files(tmp_path):
    expected = {
        ("patents_granted_sst_yearbook_2010-2023.rda", "--indicator", "patents_granted"): [
            ("11", "2021", "patents_granted", "198778.0"), ("44", "2010", "patents_granted", "119343.0"),
            ("32", "2015", "patents_granted", "250290.0"), ("44", "2020", "patents_granted", "709725.0")],
        ("exchange_rate_national_1978-2014.csv",): [
            ("00", "2001", "exchange_rate", "827.7"), ("00", "2008", "exchange_rate", "694.51"),
            ("00", "2014", "exchange_rate", "614.28")],
        ("trade_total_portal_api_2016-2024.csv",): [
            ("11", "2021", "trade_total", "47096000.0"), ("44", "2016", "trade_total", "95529800.7")],
    }
    for (name, *options), cells in expected.items():
        completed = run_provpanel(["parse", str(NBS_REAL_DIR / name), *options], home=tmp_path)
        assert completed.returncode == 0, completed.stderr
        rows = {tuple(row[:4]) for row in csv.reader(io.StringIO(completed.stdout))}
        for cell in cells:
            assert cell in rows, (name, cell)


def test_an_edition_of_the_new_real_files_is_stored_with_provenance(tmp_path):
    import duckdb

    from provpanel.ingest import prepare_edition, store_edition

    names = ["patents_granted_sst_yearbook_2010-2023.rda", "trade_total_portal_api_2016-2024.csv",
             "exchange_rate_national_1978-2014.csv"]
    root = write_real_editions(tmp_path / "editions", [real for real in REAL_FILES if real.name in names])
    warehouse = tmp_path / "warehouse.duckdb"
    for edition in sorted(folder.name for folder in root.iterdir()):
        store_edition(prepare_edition(root / edition), warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """select file, sheet, source_row, source_col, province_code, year, indicator, value, unit
               from raw.extract_values
               where (indicator = 'patents_granted' and province_code = '44' and year = 2020)
                  or (indicator = 'trade_total' and province_code = '11' and year = 2021)
                  or (indicator = 'exchange_rate' and year = 2008)
               order by indicator""").fetchall()
    assert rows == [
        (names[2], None, 32, 5, "00", 2008, "exchange_rate", 694.51, "cny_per_100usd"),
        (names[0], "RDPatentAuthority", 461, 4, "44", 2020, "patents_granted", 709725.0, "piece"),
        (names[1], None, 7, 7, "11", 2021, "trade_total", 47096000.0, "usd_10k"),
    ]
