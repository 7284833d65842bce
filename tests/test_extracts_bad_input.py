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


# ------------------------------------------------ issue 24: edition rules without holes


def _gdp_book(path, *, merge: str | None = None, title_merge: bool = False):
    """A GDP sheet: a title row, a header of years, three provinces; `merge` merges that range."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "GDP"
    for row in [["地区生产总值(亿元)", None, None], ["地区", 2019, 2020], ["北京市", 1.0, 2.0],
                ["天津市", 3.0, 4.0], ["河北省", 5.0, 6.0]]:
        sheet.append(row)
    if title_merge:
        sheet.merge_cells("A1:C1")
    if merge:
        sheet.merge_cells(merge)
    book.save(path)
    return path


@pytest.mark.parametrize("merge, shown", [("B4:C4", "B4:C4"),   # one value over two years
                                          ("C3:C4", "C3:C4"),   # one value over two provinces
                                          ("A4:A5", "A4:A5"),   # one province name over two rows
                                          ("B2:C2", "B2:C2")])  # one year over two columns
def test_merged_cells_in_the_data_area_are_refused_with_the_range(tmp_path, merge, shown):
    err = fail(_gdp_book(tmp_path / "book.xlsx", merge=merge), indicator="gdp")
    assert err.where == f"sheet 'GDP', merged range {shown} in the data area"
    assert "one value per cell" in err.expected


def test_merged_title_is_read_as_the_table_means_it(tmp_path):
    values = read_extract(_gdp_book(tmp_path / "book.xlsx", title_merge=True), indicator="gdp")
    assert len(values) == 6 and {v.year for v in values} == {2019, 2020}


def test_merged_cells_in_an_xls_data_area_are_refused(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("GDP")
    for r, row in enumerate([["地区", 2019, 2020], ["北京市", 1.0, 2.0]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    sheet.write_merge(2, 2, 1, 2, 7.0)  # row 3: one value merged over B3:C3
    sheet.write(2, 0, "天津市")
    path = tmp_path / "book.xls"
    book.save(str(path))
    err = fail(path, indicator="gdp", unit="亿元")
    assert err.where == "sheet 'GDP', merged range B3:C3 in the data area"


@pytest.mark.parametrize("sheets", [["Sheet"], ["Sheet", "notes"]])
def test_an_empty_workbook_is_refused_like_a_header_only_one(tmp_path, sheets):
    book = openpyxl.Workbook()
    book.active.title = sheets[0]
    for name in sheets[1:]:
        book.create_sheet(name).append(["compiled by hand"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    err = fail(path, indicator="gdp")
    assert err.where == "whole file"
    assert "a table in at least one sheet" in err.expected and "no table in any sheet" in err.found


def test_a_symbolic_link_loop_is_one_line(tmp_path):
    loop = tmp_path / "分省年度数据.csv"
    loop.symlink_to(loop)
    err = fail(loop)
    assert (err.where, err.expected) == ("whole file", "a regular file")
    assert "symbolic link loop" in err.found


def test_a_named_pipe_is_refused_without_waiting_on_it(tmp_path):
    import os
    import threading
    import time

    fifo = tmp_path / "分省年度数据.csv"
    os.mkfifo(fifo)

    def unblock():  # on code that opens the pipe and waits, a writer ends the wait after 5 s
        time.sleep(5)
        os.close(os.open(fifo, os.O_RDWR))  # (read-write: opens at once on Linux)

    threading.Thread(target=unblock, daemon=True).start()
    started = time.monotonic()
    err = fail(fifo)
    assert time.monotonic() - started < 2
    assert (err.where, err.found) == ("whole file", "a named pipe (FIFO)")


def _huge_junk(path, head: bytes, size: int = 200 * 1024 * 1024):
    """A file of `size` bytes: `head`, then a sparse tail (no disk, no time to write)."""
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def _junk_lines(n_bytes: int) -> bytes:
    import base64
    import random

    rng = random.Random(24)
    return base64.encodebytes(rng.randbytes(n_bytes * 3 // 4))


@pytest.mark.parametrize("head, where, found", [
    (_junk_lines(3 << 20), "line 2", None),                  # a title-like line, then no table header
    (b"x" * (3 << 20), "line 1", "no line end in the first"),  # one endless line
    (b'\xe5\x9c\xb0\xe5\x8c\xba,"' + b"junk\n" * (600_000), "line 1", "field larger than field limit"),
])
def test_a_huge_file_of_junk_is_refused_by_its_first_lines_in_bounded_memory(tmp_path, head, where, found):
    import time
    import tracemalloc

    path = _huge_junk(tmp_path / "分省年度数据.csv", head)
    tracemalloc.start()
    started = time.monotonic()
    try:
        err = fail(path)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.where == where and (found is None or found in err.found), str(err)
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held to refuse it"  # the file is 200 MiB
    assert elapsed < 3, f"{elapsed:.1f} s"


def test_a_long_table_is_still_read_whole(tmp_path):
    """The first look refuses nothing that reading the whole file accepts: a table longer
    than the head, its last row after the head, is read to its end."""
    lines = [HEADER, "地区,2017年,2016年\n"]
    provinces = ["北京市", "天津市", "河北省"]
    text = "".join(lines) + "".join(f"{p},{i},{i + 1}\n" for i, p in enumerate(provinces))
    # long footer notes after the table (the table proper fits the head, its notes do not)
    text += ('注：' + "说明" * 400 + "\n") * 1200
    path = csv_file(tmp_path, text, "utf-8")
    assert path.stat().st_size > 2 << 20
    values = read_extract(path)
    assert len(values) == 6
