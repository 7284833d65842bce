"""Cells that would silently become another number: out-of-range text (1e400 → inf) and a
workbook formula whose result was never saved (→ an empty cell)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from provpanel.errors import ExtractError
from provpanel.extracts import read_extract


def _portal_csv(tmp_path, cell: str):
    path = tmp_path / "gdp.csv"
    path.write_text(f"数据库：分省年度数据\n指标：地区生产总值(亿元)\n地区,2021年,2020年\n北京市,{cell},36102.6\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("cell", ["1e400", "-2E+309", "1e-400"])
def test_number_outside_double_range_is_an_error(tmp_path, cell):
    path = _portal_csv(tmp_path, cell)
    with pytest.raises(ExtractError) as caught:
        read_extract(path)
    message = str(caught.value)
    assert str(path) in message and "line 4, column 2" in message and cell in message
    assert "range of a double" in message


def test_large_but_finite_number_is_kept(tmp_path):
    values = read_extract(_portal_csv(tmp_path, "1.5e300"))
    assert {v.value for v in values if v.year == 2021} == {1.5e300}


def _workbook_with_formula(tmp_path, *, cached: str | None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "GDP"
    sheet.append(["地区生产总值(亿元)"])
    sheet.append(["地区", 2021, 2020])
    sheet.append(["北京", "=30000+6102.6", 35445.1])
    sheet.append(["天津", 15695.05, 14083.73])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "formula.xlsx"
    if cached is None:
        path.write_bytes(buffer.getvalue())
        return path
    # what a spreadsheet program writes on save: the formula and its result (<v>)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as target:
        for member in source.namelist():
            data = source.read(member)
            if member.startswith("xl/worksheets/"):
                data = re.sub(rb"(<f>[^<]*</f>)(<v\s*/>|<v></v>)?", rb"\1<v>" + cached.encode() + rb"</v>", data)
            target.writestr(member, data)
    return path


def test_formula_without_saved_result_is_an_error(tmp_path):
    path = _workbook_with_formula(tmp_path, cached=None)
    with pytest.raises(ExtractError) as caught:
        read_extract(path)
    message = str(caught.value)
    assert str(path) in message and "sheet 'GDP', cell B3" in message
    assert "=30000+6102.6" in message and "open the workbook" in message and "save it" in message


def test_formula_with_saved_result_reads_the_result(tmp_path):
    path = _workbook_with_formula(tmp_path, cached="36102.6")
    values = {(v.province_code, v.year): v for v in read_extract(path)}
    assert values[("11", 2021)].value == 36102.6
    assert (values[("11", 2021)].source_row, values[("11", 2021)].source_col) == (3, 2)
    assert values[("12", 2020)].value == 14083.73
