"""Every format family from small hand-made files, detected by content, not by name."""

from __future__ import annotations

import openpyxl
import pytest
import xlwt

from provpanel import harmonise
from provpanel.extracts import ExtractError, detect_format, read_extract

DOWNLOAD_NAME = "分省年度数据 (3).csv"  # what every real portal download is called


def write(tmp_path, text: str, encoding: str, name: str = DOWNLOAD_NAME):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def by_key(values):
    return {(v.province_code, v.year, v.indicator): v for v in values}


CLASSIC = (
    "数据库：分省年度数据\r\n"
    "指标：地区生产总值(亿元)\r\n"
    "时间：2016-2017\r\n"
    "地区,2017年,2016年\r\n"
    "全国,820754.3,740060.8\r\n"
    "北京市,28014.94,25669.13\r\n"
    "内蒙古自治区,,18128.10\r\n"
    "西藏自治区,1310.92,1151.41\r\n"
    '"注：本表按当年价格计算。\r\n第二行说明,含逗号。"\r\n'
    "数据来源：国家统计局\r\n"
)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_portal_classic_gb_encodings_crlf_multiline_note(tmp_path, encoding):
    path = write(tmp_path, CLASSIC, encoding)
    assert detect_format(path) == "portal_classic"
    values = by_key(read_extract(path))
    assert values[("11", 2017, "gdp")].value == pytest.approx(28014.94)
    assert values[("11", 2017, "gdp")].source_row == 6
    assert values[("11", 2017, "gdp")].source_col == 2
    assert values[("54", 2016, "gdp")].value == pytest.approx(1151.41)
    national = values[("00", 2017, "gdp")]
    assert national.value == pytest.approx(820754.3)
    # The empty 2017 cell of Inner Mongolia is not published: no value, never zero.
    assert ("15", 2017, "gdp") not in values
    assert values[("15", 2016, "gdp")].source_value == "18128.10"
    assert len(values) == 7


CURRENT = (
    "\ufeff数据库：分省年度数据 \n"
    "时间：2019年-2021年 \n"
    "地区\t,2021年\t,2020年\t,2019年\t,\n"
    "全国\t,\t,4600\t,4200\t,\n"
    "北京市\t,\t,1627\t,1317\t,\n"
    "陕西省\t,\t,605\t,441\t,\n"
    "山西省\t,\t,272\t,165\t,\n"
    "数据来源：国家统计局"
)


def test_portal_current_utf8_bom_tab_comma_and_manifest_indicator(tmp_path):
    path = write(tmp_path, CURRENT, "utf-8")
    assert detect_format(path) == "portal_current"
    values = by_key(read_extract(path, indicator="patents_granted", unit="件"))
    assert values[("61", 2020, "patents_granted")].value == 605  # Shaanxi
    assert values[("14", 2020, "patents_granted")].value == 272  # Shanxi, kept distinct
    assert values[("00", 2019, "patents_granted")].value == 4200
    assert values[("11", 2019, "patents_granted")].source_col == 4
    assert values[("11", 2019, "patents_granted")].source_value == "1317"
    assert not [key for key in values if key[1] == 2021]
    assert {v.unit for v in values.values()} == {"piece"}


def test_current_export_without_unit_is_an_error_until_one_is_given(tmp_path):
    # The catalog's unit is never assumed: a forgotten unit would let 万元 pass as 亿元.
    path = write(tmp_path, CURRENT, "utf-8")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted")
    assert raised.value.file == str(path)
    assert raised.value.where == "whole file (no 指标： line)"
    assert "unit:" in raised.value.expected and "'patents_granted'" in raised.value.expected
    values = read_extract(path, indicator="patents_granted", unit="件")
    assert {(v.unit, v.source_unit) for v in values} == {("piece", "件")}


CROSS_SECTION = (
    "\ufeff数据库：分省年度数据 \n"
    "时间：2021年 \n"
    "地区\t,地区生产总值 (亿元) \t,第三产业增加值（亿元）\t,人均地区生产总值 (元/人) \t,\n"
    "北京市\t,44350.7\t,36507.1\t,202607\t,\n"
    "新疆维吾尔自治区\t,16791.5\t,8151.5\t,64845\t,\n"
    "注：1. 按照我国国民经济核算数据修订制度。\n"
)


def test_cross_section_units_in_headers(tmp_path):
    path = write(tmp_path, CROSS_SECTION, "utf-8")
    assert detect_format(path) == "cross_section"
    values = by_key(read_extract(path))
    assert values[("65", 2021, "gdp")].value == pytest.approx(16791.5)
    tertiary = values[("11", 2021, "va_tertiary")]
    assert (tertiary.value, tertiary.source_unit, tertiary.source_col) == (36507.1, "亿元", 3)
    per_capita = values[("11", 2021, "人均地区生产总值")]
    assert (per_capita.in_catalog, per_capita.unit) == (False, "元/人")


TRANSPOSED = (
    "数据库：分省年度数据\n"
    "指标：国内专利申请受理量(项)\n"
    '"时间","北京市","天津市","Tibet"\n'
    '"2004年","18402 ","8406 ",""\n'
    '"2003年","17003 ","6812 "," 98 "\n'
)


def test_transposed_years_as_rows_quoted_padded(tmp_path):
    path = write(tmp_path, TRANSPOSED, "gb18030")
    assert detect_format(path) == "transposed"
    values = by_key(read_extract(path))
    cell = values[("12", 2003, "patent_applications")]
    assert (cell.value, cell.unit, cell.source_unit) == (6812, "piece", "项")
    assert (cell.source_row, cell.source_col, cell.source_value) == (5, 3, "6812")
    assert values[("54", 2003, "patent_applications")].value == 98
    assert ("54", 2004, "patent_applications") not in values


ENGLISH = (
    "Region,2019,2018\n"
    "National Total,140005,139538\n"
    "Beijing,2154,2154\n"
    "Nei Mongol,2540,2534\n"
    "  Shaanxi ,3876,3864\n"
    "Xizang,351,344\n"
)


def test_english_export(tmp_path):
    path = write(tmp_path, ENGLISH, "utf-8")
    assert detect_format(path) == "english"
    values = by_key(read_extract(path, indicator="population", unit="10000 persons"))
    assert values[("15", 2019, "population")].value == 2540
    assert values[("61", 2018, "population")].value == 3864
    assert values[("54", 2019, "population")].value == 351
    assert values[("00", 2019, "population")].value == 140005


ENGLISH_PORTAL = (
    "Database:Annual by Province\n"
    "Indicator:Gross Regional Product(100 million yuan)\n"
    "Time:2019-2020\n"
    "Region,2020,2019\n"
    "Beijing,36102.6,35445.1\n"
    "Inner Mongolia,17359.8,17212.5\n"
    "Note: GDP data are preliminary.\n"
    "Source: National Bureau of Statistics\n"
)


def test_english_portal_export_with_indicator_line(tmp_path):
    path = write(tmp_path, ENGLISH_PORTAL, "utf-8")
    assert detect_format(path) == "english"
    values = by_key(read_extract(path))
    gdp = values[("15", 2019, "gdp")]
    assert (gdp.value, gdp.unit, gdp.source_unit) == (17212.5, "cny_100m", "100 million yuan")
    assert len(values) == 4


def test_utf16_tab_separated_text(tmp_path):
    path = tmp_path / DOWNLOAD_NAME
    path.write_bytes("地区\t2020年\n北京市\t36102.6\n".encode("utf-16"))
    (value,) = read_extract(path, indicator="gdp", unit="亿元")
    assert (value.province_code, value.year, value.value) == ("11", 2020, 36102.6)


def test_person_counts_convert_to_ten_thousands(tmp_path):
    path = write(tmp_path, "Region,2019\nBeijing,21536000\n", "utf-8")
    (value,) = read_extract(path, indicator="population", unit="人")
    assert (value.value, value.unit, value.source_value) == (2153.6, "person_10k", "21536000")


TIDY = (
    "province,year,indicator,value,unit\n"
    "Guangdong,2020,exports,3627,亿美元\n"
    "广东省,2020,imports,23700,亿元\n"
    "44,2019,gdp,107671.07,亿元\n"
    "全国,2020,trade_total,4656000,千美元\n"
    "Guangdong,2020,Foreign trade dependence,0.68,ratio\n"
)


def test_tidy_long_csv_with_units(tmp_path):
    path = write(tmp_path, TIDY, "utf-8", name="export.csv")
    assert detect_format(path) == "tidy"
    values = by_key(read_extract(path))
    exports = values[("44", 2020, "exports")]
    assert (exports.value, exports.unit, exports.source_unit) == (36270000, "usd_10k", "亿美元")
    # Trade printed in CNY stays CNY: dbt converts it with the exchange rate, visibly.
    imports = values[("44", 2020, "imports")]
    assert (imports.value, imports.unit) == (23700, "cny_100m")
    assert values[("44", 2019, "gdp")].source_row == 4
    assert values[("00", 2020, "trade_total")].value == pytest.approx(465600)
    other = values[("44", 2020, "Foreign trade dependence")]
    assert (other.in_catalog, other.unit) == (False, "ratio")


def test_tidy_chinese_headers_and_indicator_argument(tmp_path):
    text = "地区,年份,数值\n北京市,2020,7116.18\n天津市,2020,3151.35\n"
    path = write(tmp_path, text, "gb18030")
    assert detect_format(path) == "tidy"
    values = by_key(read_extract(path, indicator="fiscal_expenditure", unit="亿元"))
    assert values[("11", 2020, "fiscal_expenditure")].value == pytest.approx(7116.18)
    assert values[("12", 2020, "fiscal_expenditure")].source_col == 3


def test_title_line_above_a_typed_table(tmp_path):
    # A catalog title names the indicator (and its unit); free-text titles defer to the manifest.
    path = write(tmp_path, "地区生产总值(万元)\n地区,2020年\n北京市,361026000\n", "utf-8")
    (value,) = read_extract(path)
    assert (value.indicator, value.value, value.source_unit) == ("gdp", 36102.6, "万元")
    path = write(tmp_path, "表3-9 各地区生产总值\n地区,2020年\n北京市,36102.6\n", "utf-8")
    (value,) = read_extract(path, indicator="gdp", unit="亿元")
    assert (value.indicator, value.value, value.source_row) == ("gdp", 36102.6, 3)


def test_not_available_markers_are_no_value(tmp_path):
    text = "地区,2019年,2018年,2017年,2016年\n北京市,…,-,--,12.5\n"
    path = write(tmp_path, text, "utf-8")
    values = read_extract(path, indicator="gdp", unit="亿元")
    assert [(v.year, v.value) for v in values] == [(2016, 12.5)]


def test_xlsx_two_stacked_blocks_in_one_sheet(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    rows = [
        ["地区生产总值(亿元)"],
        ["地区", 2020, 2019],
        ["北京", 36102.6, 35445.1],
        ["Guangxi Zhuang Autonomous Region", 22156.69, None],
        [],
        ["出口总额(千美元)"],
        ["地区", "2020年", "2019年"],
        ["全国", 2590646000, 2499482000],
        ["Yunan", 22234000, "15000000"],
        ["注：按经营单位所在地分。"],
    ]
    for row in rows:
        sheet.append(row)
    path = tmp_path / "workbook.xlsx"
    book.save(path)
    assert detect_format(path) == "workbook"
    values = by_key(read_extract(path))
    gdp = values[("11", 2020, "gdp")]
    assert (gdp.value, gdp.sheet, gdp.source_row, gdp.source_col) == (36102.6, "Sheet1", 3, 2)
    assert ("45", 2019, "gdp") not in values
    exports = values[("53", 2019, "exports")]
    assert (exports.value, exports.unit, exports.source_unit) == (1500000, "usd_10k", "千美元")
    assert (exports.source_row, exports.source_col) == (9, 3)
    assert values[("00", 2020, "exports")].value == pytest.approx(259064600)
    assert len(values) == 7


def test_xlsx_unit_line_and_free_text_title(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "表3-9"
    for row in [["表3-9 各地区财政支出"], ["单位：万元"], ["地区", 2020], ["北京", 71161800]]:
        sheet.append(row)
    path = tmp_path / "typed.xlsx"
    book.save(path)
    (value,) = read_extract(path, indicator="fiscal_expenditure")
    assert (value.value, value.unit, value.source_unit) == (7116.18, "cny_100m", "万元")
    assert (value.sheet, value.source_row, value.source_col) == ("表3-9", 4, 2)


def test_xls_one_indicator_per_sheet(tmp_path):
    book = xlwt.Workbook()
    population = book.add_sheet("population")
    for r, row in enumerate(
        [["10k person", 2018, 2017], ["Beijing", 2154, 2171], ["Tibet", 344, 337]]
    ):
        for c, cell in enumerate(row):
            population.write(r, c, cell)
    employment = book.add_sheet("employment ")
    for r, row in enumerate([["Region", 2018], ["Shaanxi", 2071.0]]):
        for c, cell in enumerate(row):
            employment.write(r, c, cell)
    path = tmp_path / "legacy.xls"
    book.save(str(path))
    assert detect_format(path) == "workbook"
    # sheet names are catalog labels here; the employment sheet states no unit
    everything = by_key(read_extract(path, unit="万人"))
    assert everything[("54", 2017, "population")].value == 337
    assert everything[("54", 2017, "population")].source_value == "337"
    assert everything[("61", 2018, "employment")].sheet == "employment "
    only = read_extract(path, sheets={"employment": {"indicator": "employment", "unit": "万人"}})
    assert [(v.province_code, v.year, v.value) for v in only] == [("61", 2018, 2071.0)]


def test_detection_ignores_file_names(tmp_path):
    workbook = tmp_path / "data.csv"  # an xlsx with a misleading name
    book = openpyxl.Workbook()
    book.active.append(["地区", 2020])
    book.active.append(["北京", 1.0])
    book.save(workbook)
    assert detect_format(workbook) == "workbook"
    csv_named_xlsx = write(tmp_path, CLASSIC, "gb18030", name="table.xlsx")
    assert detect_format(csv_named_xlsx) == "portal_classic"


@pytest.mark.parametrize(
    "label, code",
    [
        ("内蒙古自治区", "15"),
        ("内蒙古", "15"),
        ("內蒙古自治區", "15"),
        ("Inner Mongolia", "15"),
        ("nei mongol", "15"),
        ("Shaanxi", "61"),
        ("Shanxi", "14"),
        ("陕西", "61"),
        ("山西省", "14"),
        ("Xizang", "54"),
        ("Tibet", "54"),
        ("Yunan", "53"),
        ("Guangxi Zhuang Autonomous Region", "45"),
        ("\u3000北  京\u3000", "11"),
        (" 新 疆  ", "65"),
        ("全国", "00"),
        ("National Total", "00"),
    ],
)
def test_province_aliases(label, code):
    assert harmonise.resolve_province(label, file="f", where="w") == code


@pytest.mark.parametrize(
    "label, expected",
    [
        ("地区生产总值(亿元)", ("gdp", "亿元")),
        ("地区生产总值 (亿元)", ("gdp", "亿元")),
        ("地区生产总值（亿元）", ("gdp", "亿元")),
        ("Gross Regional Product", ("gdp", None)),
        ("第三产业增加值", ("va_tertiary", None)),
        ("人民币汇率(年平均价)", ("exchange_rate", None)),
        ("城镇单位就业人员(万人)", (None, "万人")),
    ],
)
def test_indicator_aliases(label, expected):
    assert harmonise.resolve_indicator(label) == expected


@pytest.mark.parametrize(
    "value, unit, indicator, expected",
    [
        (28014.94, "亿元", "gdp", (28014.94, "cny_100m")),
        (12345, "万元", "gdp", (1.2345, "cny_100m")),
        (5000, "千美元", "exports", (500, "usd_10k")),
        (3.5, "亿美元", "fdi_actual", (35000, "usd_10k")),
        (120, "亿元", "trade_total", (120, "cny_100m")),
        (12345, "人", "employment", (1.2345, "person_10k")),
        (1.5, "万人", "edu_tertiary", (15000, "person")),
        (6.7518, "元/美元", "exchange_rate", (675.18, "cny_per_100usd")),
        (675.18, "元/100美元", "exchange_rate", (675.18, "cny_per_100usd")),
    ],
)
def test_convert(value, unit, indicator, expected):
    assert harmonise.convert(value, unit, indicator, file="f", where="w") == expected


def test_seed_tables_are_consistent():
    import csv

    from provpanel.config import SEEDS_DIR

    def rows(name):
        with open(SEEDS_DIR / name, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    # No two spellings that match alike may point at different codes.
    seen: dict[str, str] = {}
    for row in rows("province_aliases.csv"):
        key = harmonise.normalise_label(row["alias"])
        assert seen.setdefault(key, row["province_code"]) == row["province_code"], row
        assert row["kind"] == ("national" if row["province_code"] == "00" else "province")
    assert len(set(seen.values())) == 32  # 31 provinces and the national total
    labels: dict[str, str] = {}
    for row in rows("indicator_aliases.csv"):
        key = harmonise.normalise_label(row["label"])
        assert labels.setdefault(key, row["indicator"]) == row["indicator"], row
        assert row["indicator"] in harmonise.catalog()
    for entry in harmonise.catalog().values():
        for label in (entry.indicator, entry.name_zh, entry.name_en):
            assert harmonise.resolve_indicator(label)[0] == entry.indicator
        assert entry.canonical_unit in harmonise.UNIT_DIMENSIONS
    for row in rows("unit_factors.csv"):
        assert row["unit_code"] in harmonise.UNIT_DIMENSIONS, row
        assert float(row["factor"]) > 0


def test_a_catalog_label_with_its_unit_in_brackets_keeps_the_unit(tmp_path):
    # `长途光缆线路长度(公里)` is itself an alias: its bracket still states the unit, so the
    # value is not taken as unit-less; `(CNY per USD)` is a factor 100 from CNY per 100 USD.
    text = ("\ufeff时间：2021年\n地区,长途光缆线路长度 (公里),Exchange rate (CNY per USD)\n"
            "北京市,9979,6.4515\n")
    path = write(tmp_path, text, "utf-8")
    values = by_key(read_extract(path))
    cable = values[("11", 2021, "optical_cable_length")]
    assert (cable.value, cable.unit, cable.source_unit) == (9979, "km", "公里")
    rate = values[("11", 2021, "exchange_rate")]
    assert (rate.value, rate.unit, rate.source_unit) == (pytest.approx(645.15), "cny_per_100usd", "CNY per USD")
