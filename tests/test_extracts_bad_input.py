"""Bad input: each case is an ExtractError naming the file, the place and the expectation."""

from __future__ import annotations

import openpyxl
import pytest
import xlwt

from provpanel.errors import ExtractError
from provpanel.extracts import read_extract

HEADER = "数据库：分省年度数据\n指标：地区生产总值(亿元)\n时间：2016-2017\n"


def fail(path, **kwargs) -> ExtractError:
    with pytest.raises(ExtractError) as caught:
        read_extract(path, display_name="ed1/分省年度数据.csv", **kwargs)
    err = caught.value
    message = str(err)
    assert "\n" not in message
    assert message.startswith("ed1/分省年度数据.csv: ")
    assert message == f"{err.file}: {err.where}: expected {err.expected}, found {err.found}"
    return err


def csv_file(tmp_path, text: str, encoding: str = "gb18030"):
    path = tmp_path / "分省年度数据.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_unknown_province(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年,2016年\n北京市,1,2\n北平府,3,4\n")
    err = fail(path)
    assert err.where == "line 6, column 1"
    assert "province name" in err.expected
    assert "北平府" in err.found


def test_conflicting_duplicate(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年,2016年\n北京市,1,2\n北京,5,2\n")
    err = fail(path)
    assert err.where == "line 6, column 2"
    assert "one value per province, year and indicator" in err.expected
    assert "line 5, column 2" in err.expected  # where the first one was
    assert "'5'" in err.found


def test_identical_duplicate_is_also_an_error(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年\n北京市,1\nBeijing,1\n")
    err = fail(path)
    assert err.where == "line 6, column 2"
    assert "already read at line 5, column 2" in err.expected


@pytest.mark.parametrize("cell", ["12,345", "1 234", "12.5*", "n/a", "abc"])
def test_non_numeric_cell(tmp_path, cell):
    path = csv_file(tmp_path, HEADER + f'地区,2017年\n北京市,"{cell}"\n')
    err = fail(path)
    assert err.where == "line 5, column 2"
    assert "a number without thousands separators" in err.expected
    assert cell in err.found


def test_unknown_unit_in_indicator_line(tmp_path):
    text = "指标：地区生产总值(亿卢布)\n地区,2017年\n北京市,1\n"
    err = fail(csv_file(tmp_path, text))
    assert err.where == "line 1 (指标：)"
    assert "unit listed in unit_factors.csv" in err.expected
    assert "亿卢布" in err.found


def test_unknown_unit_from_the_manifest(tmp_path):
    path = csv_file(tmp_path, "地区,2017年\n北京市,1\n")
    err = fail(path, indicator="gdp", unit="gallons")
    assert err.where == "argument unit"
    assert "gallons" in err.found


def test_unit_of_the_wrong_dimension(tmp_path):
    path = csv_file(tmp_path, "指标：地区生产总值(万人)\n地区,2017年\n北京市,1\n")
    err = fail(path)
    assert "a unit of money in CNY for indicator 'gdp'" in err.expected
    assert "万人" in err.found


def test_duplicated_year_header(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年,2016年,2017年\n北京市,1,2,3\n")
    err = fail(path)
    assert err.where == "line 4, column 4"
    assert "each year once" in err.expected
    assert "2017年" in err.found


def test_unreadable_year_header(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年,二〇一六年\n北京市,1,2\n")
    err = fail(path)
    assert err.where == "line 4, column 3"
    assert "a year such as 2017" in err.expected
    assert "二〇一六年" in err.found


def test_short_row(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年,2016年\n北京市,1,2\n天津市,3\n")
    err = fail(path)
    assert err.where == "line 6"
    assert "3 cells as in the header" in err.expected
    assert "short row" in err.found


def test_empty_file(tmp_path):
    path = csv_file(tmp_path, "")
    err = fail(path)
    assert (err.where, err.expected, err.found) == (
        "whole file",
        "a non-empty extract",
        "an empty file",
    )


def test_binary_file(tmp_path):
    path = tmp_path / "分省年度数据.csv"
    path.write_bytes(bytes(range(256)) * 4)
    err = fail(path)
    assert err.where == "whole file"
    assert "text extract (CSV) or a workbook" in err.expected
    assert "binary" in err.found


def test_undecodable_text(tmp_path):
    path = tmp_path / "分省年度数据.csv"
    path.write_bytes("地区,2017年\n北京市,1\n".encode("gb18030") + b"\x80\xff\n")
    err = fail(path)
    assert "UTF-8 or GB18030" in err.expected


def test_broken_xlsx(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip archive" * 20)
    err = fail(path)
    assert err.where == "whole file"
    assert "a readable .xlsx workbook" in err.expected


def test_broken_xls(tmp_path):
    path = tmp_path / "book.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x01garbage" * 100)
    err = fail(path)
    assert "a readable .xls workbook" in err.expected


def test_sheet_not_found(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "GDP"
    path = tmp_path / "book.xlsx"
    book.save(path)
    err = fail(path, sheet="employment", indicator="employment")
    assert err.where == "sheet 'employment'"
    assert "a sheet of the workbook ('GDP')" in err.expected


def test_non_numeric_workbook_cell_names_the_cell(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "GDP"
    for row in [["hundred million CNY", 2017, 2018], ["Beijing", 1.5, "#REF!"]]:
        sheet.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    err = fail(path)
    assert err.where == "sheet 'GDP', cell C2"
    assert "#REF!" in err.found


def test_unknown_province_in_xls(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("GDP")
    for r, row in enumerate([["100 million yuan", 2017], ["Atlantis", 3.0]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "book.xls"
    book.save(str(path))
    err = fail(path)
    assert err.where == "sheet 'GDP', cell A2"
    assert "Atlantis" in err.found


def test_no_indicator_anywhere_asks_for_one(tmp_path):
    path = csv_file(
        tmp_path, "\ufeff时间：2011年-2025年\n地区\t,2020年\t,\n北京市\t,1\t,\n", "utf-8"
    )
    err = fail(path)
    assert "--indicator" in err.expected and "manifest" in err.expected


def test_file_indicator_disagrees_with_argument(tmp_path):
    text = "指标：城镇单位就业人员(万人)\n地区,2017年\n北京市,1\n"
    err = fail(csv_file(tmp_path, text), indicator="employment")
    assert err.where == "line 1 (指标：)"
    assert "'employment'" in err.expected
    assert "城镇单位就业人员" in err.found


def test_argument_indicator_not_in_catalog(tmp_path):
    path = csv_file(tmp_path, "地区,2017年\n北京市,1\n")
    err = fail(path, indicator="happiness")
    assert "a catalog indicator code" in err.expected


def test_cross_section_without_a_year(tmp_path):
    path = csv_file(tmp_path, "地区,地区生产总值(亿元)\n北京市,1\n")
    err = fail(path)
    assert "时间" in err.expected


def test_sheet_selection_on_a_text_file(tmp_path):
    path = csv_file(tmp_path, HEADER + "地区,2017年\n北京市,1\n")
    err = fail(path, sheet="GDP")
    assert "workbook" in err.expected


def test_missing_file(tmp_path):
    err = fail(tmp_path / "nowhere.csv")
    assert err.found == "no such file"


def test_workbook_values_without_a_year_header(tmp_path):
    # Years in rows (a transposed sheet) is not a workbook layout: refused, never skipped.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "GDP"
    for row in [["时间", "北京", "天津"], [2020, 36102.6, 14083.7]]:
        sheet.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    err = fail(path)
    assert err.where == "sheet 'GDP', cell A2"
    assert "a header row with years" in err.expected


def test_selected_sheet_without_a_table(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["compiled by hand"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    err = fail(path, sheets={"notes": {"indicator": "gdp"}})
    assert (err.where, err.found) == ("sheet 'notes'", "no table")


@pytest.mark.parametrize(
    "unit, indicator, expected",
    [
        ("亿卢布", "gdp", "a unit listed in unit_factors.csv"),
        ("万人", "gdp", "a unit of money in CNY for indicator 'gdp'"),
        ("万美元", "gdp", "a unit of money in CNY"),  # USD is never turned into CNY here
        ("件", "population", "a unit of count of persons"),
    ],
)
def test_convert_refuses_unknown_or_mismatched_units(unit, indicator, expected):
    from provpanel import harmonise

    with pytest.raises(ExtractError) as caught:
        harmonise.convert(1.0, unit, indicator, file="ed1/x.csv", where="line 2 (指标：)")
    assert str(caught.value).startswith("ed1/x.csv: line 2 (指标：): expected ")
    assert expected in caught.value.expected
