"""Data-frame containers (.dta, .rds, .rda, .parquet), the portal API's long table and national
tables: values, provenance, and the errors for bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pandas as pd
import pyreadr
import pyreadstat
import pytest
import yaml

from provpanel.errors import ExtractError, ManifestError
from provpanel.extracts import detect_format, read_extract

LONG = pd.DataFrame({
    "province": ["北   京", "广东省", "山两", "全国"],
    "year": [2020, 2021, 2021, 2021],
    "value": [36102.6, 124369.67, 22590.16, 1143669.7],
    "unit": ["亿元", "亿元", "亿元", "亿元"],
})


def write_frame(frame: pd.DataFrame, path: Path, *, name: str = "panel") -> Path:
    """Write a frame the way the field's tools do, by the file's extension."""
    suffix = path.suffix
    if suffix == ".dta":
        pyreadstat.write_dta(frame, str(path))
    elif suffix == ".rds":
        pyreadr.write_rds(str(path), frame)
    elif suffix == ".rda":
        pyreadr.write_rdata(str(path), frame, df_name=name, compress="gzip")
    elif suffix == ".parquet":
        with duckdb.connect() as con:
            con.register("frame", frame)
            con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    else:  # pragma: no cover - a test's mistake
        raise AssertionError(suffix)
    return path


def keyed(values):
    return {(v.province_code, v.year, v.indicator): v for v in values}


@pytest.mark.parametrize("suffix, family", [
    (".dta", "dta"), (".rds", "rds"), (".rda", "rdata"), (".parquet", "parquet"),
])
def test_long_frame_round_trip_with_provenance(tmp_path, suffix, family):
    path = write_frame(LONG, tmp_path / f"panel{suffix}")
    renamed = tmp_path / "分省年度数据.csv"  # detection reads the bytes, never the name
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == family
    values = keyed(read_extract(renamed, indicator="gdp"))
    beijing = values[("11", 2020, "gdp")]  # `北   京`: spaces inside a Chinese name removed
    assert (beijing.value, beijing.unit, beijing.source_unit) == (36102.6, "cny_100m", "亿元")
    assert (beijing.source_row, beijing.source_col) == (1, 3)  # frame row, value column
    assert beijing.source_value == "36102.6"
    assert values[("44", 2021, "gdp")].source_row == 2
    assert values[("14", 2021, "gdp")].value == 22590.16  # 山两: a reviewed OCR alias of 山西
    assert values[("00", 2021, "gdp")].value == 1143669.7
    assert beijing.sheet == ("panel" if family == "rdata" else None)  # the R object's name


def test_stata_variable_label_states_the_unit(tmp_path):
    frame = LONG.drop(columns="unit")
    path = tmp_path / "panel.dta"
    pyreadstat.write_dta(frame, str(path), column_labels=["省份", "年份", "GDP (万元)"])
    beijing = keyed(read_extract(path, indicator="gdp"))[("11", 2020, "gdp")]
    assert beijing.source_unit == "万元"
    assert beijing.value == pytest.approx(3.61026)  # 36102.6 万元 = 3.61026 亿元


def test_wide_frame_province_and_one_column_per_year(tmp_path):
    frame = pd.DataFrame({"where": ["Beijing", "Tibet"], "y2019": [35445.1, 1697.8],
                          "y2020": [36102.6, None]})
    path = write_frame(frame, tmp_path / "wide.dta")
    with pytest.raises(ExtractError, match="`columns`"):
        read_extract(path, indicator="gdp", unit="亿元")  # `where` is no known name
    values = read_extract(path, indicator="gdp", unit="亿元", columns={"province": "where"})
    assert [(v.province_code, v.year, v.value, v.source_row, v.source_col) for v in values] == [
        ("11", 2019, 35445.1, 1, 2), ("11", 2020, 36102.6, 1, 3), ("54", 2019, 1697.8, 2, 2),
    ]  # Tibet's missing 2020 is no value, never a zero


def test_manifest_columns_name_the_roles(tmp_path):
    frame = pd.DataFrame({"prov": ["11", "44"], "yr": ["2020", "2020"], "val": [1.0, 2.0],
                          "units": ["件", "件"]})
    path = write_frame(frame, tmp_path / "codes.parquet")
    values = read_extract(path, indicator="patents_granted",
                          columns={"province": "prov", "year": "yr", "value": "val", "unit": "units"})
    assert [(v.province_code, v.value, v.unit, v.source_col) for v in values] == [
        ("11", 1.0, "piece", 3), ("44", 2.0, "piece", 3)]
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted", columns={"province": "province_name"})
    assert "'province_name'" in raised.value.expected and "prov, yr, val, units" in raised.value.expected


BREAKDOWN = pd.DataFrame({
    "province": ["北京", "北京", "北京", "广东", "广东", "广东"],
    "year": ["2021"] * 6,
    "part": ["合计", "发明", "外观设计", "合计", "发明", "外观设计"],
    "value": [198778.0, 79210.0, 20000.0, 872209.0, 102883.0, 250000.0],
    "units": ["件"] * 6,
})


def test_breakdown_total_by_default_and_a_named_value(tmp_path):
    path = write_frame(BREAKDOWN, tmp_path / "patents.rda")
    total = read_extract(path, indicator="patents_granted")  # the column holding 合计, found
    assert [(v.province_code, v.value, v.source_row) for v in total] == [
        ("11", 198778.0, 1), ("44", 872209.0, 4)]
    invention = read_extract(path, indicator="patents_granted",
                             breakdown={"column": "part", "value": "发明"})
    assert [(v.province_code, v.value, v.source_row) for v in invention] == [
        ("11", 79210.0, 2), ("44", 102883.0, 5)]


def test_breakdown_without_total_lists_its_values(tmp_path):
    frame = BREAKDOWN[BREAKDOWN["part"] != "合计"].rename(columns={"part": "分类"})
    path = write_frame(frame.reset_index(drop=True), tmp_path / "parts.rds")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted")
    err = raised.value
    assert err.file == str(path)
    assert "('分类', breakdown)" in err.where
    assert "'发明', '外观设计'" in err.found and "breakdown" in err.expected
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted", breakdown={"value": "合计"})
    assert "'合计'" in raised.value.expected and "'发明'" in raised.value.found


def test_unnamed_breakdown_column_is_found_by_the_rows_it_splits(tmp_path):
    frame = BREAKDOWN[BREAKDOWN["part"] != "合计"].rename(columns={"part": "chn_block4"})
    path = write_frame(frame.reset_index(drop=True), tmp_path / "parts.dta")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted")
    assert raised.value.where == "column 3 ('chn_block4', breakdown)"
    assert raised.value.found == "the values '发明', '外观设计'"
    values = read_extract(path, indicator="patents_granted", breakdown={"value": "外观设计"})
    assert [(v.province_code, v.value, v.source_row) for v in values] == [
        ("11", 20000.0, 2), ("44", 250000.0, 4)]


def test_unknown_province_suggests_the_closest_name_but_maps_nothing(tmp_path):
    frame = LONG.copy()
    frame.loc[1, "province"] = "广冬省"
    path = write_frame(frame, tmp_path / "typo.parquet")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp")
    err = raised.value
    assert err.file == str(path)
    assert err.where == "row 2, column 1 ('province')"
    assert "'广冬省'" in err.found and "closest known name: '广东省'" in err.found


def test_frame_without_unit_is_an_error_naming_what_to_add(tmp_path):
    path = write_frame(LONG.drop(columns="unit"), tmp_path / "nounit.rds")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp")
    err = raised.value
    assert err.file == str(path) and err.found == "no unit"
    assert "`unit:`" in err.expected and "'gdp'" in err.expected
    assert keyed(read_extract(path, indicator="gdp", unit="亿元"))[("11", 2020, "gdp")].value == 36102.6


def test_frame_without_rows_is_an_error(tmp_path):
    path = write_frame(LONG.iloc[0:0], tmp_path / "empty.parquet")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp")
    assert raised.value.file == str(path) and "no rows" in raised.value.found


# ids by file name: a byte string in a test id must be the same in every
# xdist worker (gzip stamps the current time unless mtime is given).
@pytest.mark.parametrize("name, data, family", [
    pytest.param(name, data, family, id=name) for name, data, family in [
        ("broken.parquet", b"PAR1" + b"\x00garbage" * 10, "Parquet"),
        ("broken.dta", b"<stata_dta><header><release>118</release>" + b"\x00" * 40, "Stata"),
        ("broken.rda", gzip.compress(b"RDX2\nX\n" + b"\x00\x01" * 30, mtime=0), "R data file"),
        ("broken.rds", b"X\n\x00\x00\x00\x03" + b"\xff" * 20, "R .rds"),
    ]
])
def test_corrupt_container_is_an_error_naming_the_file(tmp_path, name, data, family):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp", unit="亿元")
    assert raised.value.file == str(path)
    assert raised.value.where == "whole file" and family in raised.value.expected


def test_truncated_real_size_rda_is_an_error(tmp_path):
    whole = write_frame(BREAKDOWN, tmp_path / "whole.rda").read_bytes()
    path = tmp_path / "truncated.rda"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted")
    assert raised.value.file == str(path)
    assert "gzip stream" in raised.value.found or "R data file" in raised.value.expected


@pytest.mark.real_data  # cut from a real download
def test_truncated_bzip2_rda_says_so(tmp_path):
    import shutil

    from cli_helpers import NBS_REAL_DIR

    whole = NBS_REAL_DIR / "patents_granted_sst_yearbook_2010-2023.rda"
    path = tmp_path / "truncated.rda"
    shutil.copyfile(whole, path)
    path.write_bytes(path.read_bytes()[:3000])  # bzip2 yields nothing before a whole block
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="patents_granted")
    assert (raised.value.file, raised.value.where) == (str(path), "whole file")
    assert "bzip2 stream" in raised.value.found


def test_r_object_chosen_by_name(tmp_path):
    path = tmp_path / "named.rda"
    pyreadr.write_rdata(str(path), LONG, df_name="gdp_panel")
    values = read_extract(path, indicator="gdp", sheet="gdp_panel")
    assert {v.sheet for v in values} == {"gdp_panel"}
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp", sheet="other")
    assert raised.value.where == "object 'other'" and "'gdp_panel'" in raised.value.expected


def test_r_object_chosen_by_the_manifest_takes_its_indicator_and_unit(tmp_path):
    path = tmp_path / "named.rda"
    pyreadr.write_rdata(str(path), LONG.drop(columns="unit"), df_name="gdp_panel")
    values = read_extract(path, sheets={"gdp_panel": {"indicator": "gdp", "unit": "万元"}})
    beijing = next(v for v in values if v.province_code == "11")
    assert (beijing.sheet, beijing.indicator, beijing.source_unit) == ("gdp_panel", "gdp", "万元")
    assert beijing.value == pytest.approx(3.61026)


def test_columns_for_a_text_file_is_an_error(tmp_path):
    path = tmp_path / "gdp.csv"
    path.write_text("province,year,value,unit\n北京,2020,1,亿元\n", encoding="utf-8")
    with pytest.raises(ExtractError, match="data frame"):
        read_extract(path, indicator="gdp", columns={"province": "province"})


# ---------------------------------------------------------------- the portal API's long table

PORTAL_HEADER = ("\ufeffrequested_code,indicator_code,indicator_name,region_code,region_name,year,"
                 "value,display_value,has_data\n")


def portal_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "A060101.csv"
    path.write_text(PORTAL_HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_portal_long_table_codes_units_and_missing_cells(tmp_path):
    path = portal_file(tmp_path, [
        "A060101,A060101,经营单位所在地进出口总额,110000,北京市,2021,470960000.0,470960000,True",
        "A060101,A060101,经营单位所在地进出口总额,440000,广东省,2021,0,,False",
        "A060101,A060101,经营单位所在地进出口总额,000000,全国,2021,6051441000,6051441000,True",
        "A020101,A020101,地区生产总值,440000,广东省,2021,124369.67,124369.67,True",
    ])
    assert detect_format(path) == "portal_long"
    values = read_extract(path)
    assert [(v.province_code, v.indicator, v.value, v.unit, v.source_unit, v.source_row, v.source_col)
            for v in values] == [
        ("11", "trade_total", 47096000.0, "usd_10k", "千美元", 2, 7),
        ("00", "trade_total", 605144100.0, "usd_10k", "千美元", 4, 7),
        ("44", "gdp", 124369.67, "cny_100m", "亿元", 5, 7),
    ]  # has_data False: a missing cell, never the zero the portal sends


def test_portal_trade_by_destination_is_never_trade_total(tmp_path):
    path = portal_file(tmp_path, [
        "A060201,A060201,境内目的地和货源地进出口总额,110000,北京市,2021,100,100,True",
    ])
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="trade_total")
    assert raised.value.where == "line 2, column 2"
    assert "'A060201'" in raised.value.found and "portal_indicator_codes.csv" in raised.value.found
    kept = read_extract(path)  # without a manifest indicator: kept outside the catalog
    assert [(v.indicator, v.in_catalog) for v in kept] == [
        ("境内目的地和货源地进出口总额 [A060201]", False)]


@pytest.mark.parametrize("row, where, found", [
    ("A060101,A060101,x,110100,北京市,2021,1,1,True", "line 2, column 4", "'110100'"),
    ("A060101,A060101,x,110000,上海市,2021,1,1,True", "line 2, column 5", "'上海市' (province 31)"),
    ("A060101,A060101,x,110000,北京市,2021,1,1,maybe", "line 2, column 9", "'maybe'"),
])
def test_portal_long_table_bad_cells(tmp_path, row, where, found):
    path = portal_file(tmp_path, [row])
    with pytest.raises(ExtractError) as raised:
        read_extract(path)
    assert (raised.value.where, raised.value.found) == (where, found)


def test_portal_long_table_header_only(tmp_path):
    path = portal_file(tmp_path, [])
    with pytest.raises(ExtractError) as raised:
        read_extract(path)
    assert (raised.value.where, raised.value.found) == ("line 1", "a header only (no data rows)")


# ---------------------------------------------------------------- national tables

NATIONAL = (
    ",人民币对日元汇率(日元=100),人民币对美元汇率(美元=100)\n"
    "1984年,,\n"
    "2001年,6.8075,827.7\n"
    "2002年,6.6237,827.7\n"
)


def test_national_table_years_as_rows(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(NATIONAL, encoding="utf-8")
    assert detect_format(path) == "national_table"
    values = keyed(read_extract(path))
    rate = values[("00", 2001, "exchange_rate")]
    assert (rate.value, rate.unit, rate.source_unit, rate.source_row, rate.source_col) == (
        827.7, "cny_per_100usd", "美元=100", 3, 3)
    assert values[("00", 2001, "人民币对日元汇率")].in_catalog is False
    assert not [key for key in values if key[1] == 1984]  # empty row: no values
    named = keyed(read_extract(path, indicator="exchange_rate"))
    assert named[("00", 2002, "exchange_rate")].value == 827.7


def test_national_table_without_the_named_indicator(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(NATIONAL, encoding="utf-8")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp")
    assert raised.value.where == "line 1" and "'gdp'" in raised.value.expected


# ---------------------------------------------------------------- header-only text files


@pytest.mark.parametrize("text", [
    "地区,2019年,2020年\n",  # portal export
    "province,year,indicator,value,unit\n",  # tidy
    "时间,北京市,天津市\n",  # transposed
    "指标：地区生产总值(亿元)\n地区,2019年\n注：本表按当年价格计算。\n",  # header, then notes
])
def test_header_only_text_file_is_an_error(tmp_path, text):
    path = tmp_path / "header.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp", unit="亿元")
    assert raised.value.file == str(path)
    assert raised.value.found == "a header only (no data rows)"


def test_header_only_workbook_block_is_an_error(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "GDP"
    sheet.append(["地区", 2019, 2020])
    path = tmp_path / "book.xlsx"
    book.save(path)
    with pytest.raises(ExtractError) as raised:
        read_extract(path, indicator="gdp", unit="亿元")
    assert (raised.value.where, raised.value.found) == (
        "sheet 'GDP', row 1", "a header only (no data rows)")


# ---------------------------------------------------------------- manifests


def write_edition(root: Path, entry: dict) -> Path:
    edition = root / "sst2024"
    edition.mkdir()
    write_frame(BREAKDOWN, edition / "patents.rda")
    manifest = {"edition": "sst2024", "title": "S&T yearbook", "published": "2024-12-01",
                "source": "test", "files": [{"path": "patents.rda", **entry}]}
    (edition / "manifest.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True),
                                          encoding="utf-8")
    return edition


def test_edition_with_a_frame_reads_columns_and_breakdown(tmp_path):
    from provpanel.edition_read import read_edition

    edition = write_edition(tmp_path, {
        "indicator": "patents_granted",
        "columns": {"province": "province", "unit": "units"},
        "breakdown": {"column": "part", "value": "发明"},
    })
    frame = read_edition(edition)
    assert list(zip(frame["province_code"], frame["value"], frame["sheet"], frame["source_row"])) == [
        ("11", 79210.0, "panel", 2), ("44", 102883.0, "panel", 5)]


@pytest.mark.parametrize("entry, key", [
    ({"columns": {"region": "province"}}, "files[0].columns.region"),
    ({"columns": ["province"]}, "files[0].columns"),
    ({"columns": {"province": "a", "year": "a"}}, "files[0].columns.year"),
    ({"breakdown": {"total": "合计"}}, "files[0].breakdown.total"),
    ({"breakdown": "合计"}, "files[0].breakdown"),
    ({"breakdown": {"value": ""}}, "files[0].breakdown.value"),
])
def test_manifest_frame_keys_are_validated(tmp_path, entry, key):
    from provpanel.edition_manifest import load_manifest

    edition = write_edition(tmp_path, {"indicator": "patents_granted", **entry})
    with pytest.raises(ManifestError) as raised:
        load_manifest(edition)
    assert raised.value.file == str(edition / "manifest.yml")
    assert raised.value.where == f"manifest key {key}"


def test_manifest_years_name_the_frame_row_of_a_value_outside(tmp_path):
    from provpanel.edition_read import read_edition

    edition = write_edition(tmp_path, {"indicator": "patents_granted", "years": [2022, 2023]})
    with pytest.raises(ExtractError) as raised:
        read_edition(edition)
    assert (raised.value.file, raised.value.where, raised.value.found) == (
        "sst2024/patents.rda", "object 'panel', row 1, column 4", "2021")
