"""The text format families of docs/editions.md: each writer returns the bytes of one file.

Each imitates, byte for byte in style, one kind of NBS portal export or compiled file:
encoding, line ends, header lines, padding and quoting. The workbook (family 6) is in
workbook.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .catalog import NAME_ZH
from .provinces import Province
from .series import Series

SOURCE_LINE = "数据来源：国家统计局"


def _lines(lines: list[str], newline: str, final_newline: bool) -> str:
    return newline.join(lines) + (newline if final_newline else "")


def _province_rows(
    series: Series, provinces: tuple[Province, ...], name: Callable[[Province], str]
) -> list[list[str]]:
    """One row a province: its name, then its cell of every year shown ('' when empty)."""
    return [
        [name(p)] + [series.cells.get((p.code, y), "") for y in series.years] for p in provinces
    ]


def classic_export(
    series: Series,
    provinces: tuple[Province, ...],
    notes: Sequence[str],
    time_label: str,
    crlf: bool,
    quoted_note: bool,
) -> bytes:
    """Family 1: GB18030, 指标 line, years descending, notes then 数据来源 line."""
    newline = "\r\n" if crlf else "\n"
    lines = [
        "数据库：分省年度数据",
        f"指标：{NAME_ZH[series.indicator]}({series.unit})",
        f"时间：{time_label}",
        ",".join(["地区"] + [f"{y}年" for y in series.years]),
    ]
    if series.national:
        lines.append(",".join(["全国"] + [series.national.get(y, "") for y in series.years]))
    lines.extend(",".join(row) for row in _province_rows(series, provinces, lambda p: p.name_zh))
    if quoted_note:
        lines.append('"注：' + newline.join(notes) + '"')
    else:
        lines.append("注：" + notes[0])
        lines.extend("\u3000\u3000\u3000" + note for note in notes[1:])
    lines.append(SOURCE_LINE)
    return _lines(lines, newline, final_newline=True).encode("gb18030")


def _tab_comma_export(
    time_label: str, header: list[str], rows: list[list[str]], notes: Sequence[str]
) -> bytes:
    """The current portal layout: UTF-8 BOM, every cell ends in a tab, lines end with ','."""

    def row(cells: list[str]) -> str:
        return "".join(f"{c}\t," for c in cells)

    lines = ["\ufeff数据库：分省年度数据 ", f"时间：{time_label} ", row(header)]
    lines.extend(row(cells) for cells in rows)
    if notes:
        lines.append("注：" + notes[0])
        lines.extend(notes[1:])
    lines.append(SOURCE_LINE)
    return _lines(lines, "\n", final_newline=False).encode("utf-8")


def current_export(
    series: Series, provinces: tuple[Province, ...], notes: Sequence[str], time_label: str
) -> bytes:
    """Family 2: the current layout with years as columns and no 指标 line."""
    header = ["地区"] + [f"{y}年" for y in series.years]
    return _tab_comma_export(
        time_label, header, _province_rows(series, provinces, lambda p: p.name_zh), notes
    )


def cross_section_export(
    columns: Sequence[Series], provinces: tuple[Province, ...], notes: Sequence[str]
) -> bytes:
    """Family 3: one year, several indicators as columns, units in the headers."""
    (year,) = {y for s in columns for y in s.years}  # a cross-section shows a single year
    header = ["地区"] + [f"{NAME_ZH[s.indicator]} ({s.unit}) " for s in columns]
    rows = [[p.name_zh] + [s.cells.get((p.code, year), "") for s in columns] for p in provinces]
    return _tab_comma_export(f"{year}年", header, rows, notes)


def transposed_export(
    series: Series, provinces: tuple[Province, ...], notes: Sequence[str]
) -> bytes:
    """Family 4: years as rows, provinces as columns, every field quoted, values padded."""

    def quoted(cells: list[str]) -> str:
        return ",".join(f'"{c}"' for c in cells)

    lines = [
        quoted(["数据库：分省年度数据"]),
        quoted([f"指标：{NAME_ZH[series.indicator]}({series.unit})"]),
        quoted(["时间"] + [p.name_zh for p in provinces]),
    ]
    for year in series.years:
        values = [series.cells.get((p.code, year)) for p in provinces]
        lines.append(quoted([f"{year}年"] + [f"{v} " if v is not None else "" for v in values]))
    lines.append(quoted(["注：" + " ".join(notes)]))
    lines.append(quoted([SOURCE_LINE]))
    return _lines(lines, "\r\n", final_newline=True).encode("gb18030")


def english_export(series: Series, provinces: tuple[Province, ...]) -> bytes:
    """Family 5: English names, bare years in the header, no notes."""
    lines = [",".join(["Region"] + [str(y) for y in series.years])]
    lines.extend(",".join(row) for row in _province_rows(series, provinces, lambda p: p.name_en))
    return _lines(lines, "\n", final_newline=True).encode("utf-8")


def tidy_csv(columns: Sequence[Series], provinces: tuple[Province, ...]) -> bytes:
    """Family 7: one value per line, years ascending; provinces in short Chinese names (every
    province and year, empty cells too), then the 全国 values (the national series)."""
    lines = ["province,year,indicator,value,unit"]
    for s in columns:
        years = sorted(s.years)
        if s.provincial:
            lines.extend(
                f"{p.short_zh},{year},{s.indicator},{s.cells.get((p.code, year), '')},{s.unit}"
                for p in provinces
                for year in years
            )
        lines.extend(
            f"全国,{year},{s.indicator},{s.national[year]},{s.unit}"
            for year in years
            if year in s.national
        )
    return _lines(lines, "\n", final_newline=True).encode("utf-8")
