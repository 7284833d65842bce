"""Which format family a file is, from its content alone (real downloads are all called
`分省年度数据 (3).csv`): workbook and container magic bytes, else the decoded text's header
row."""

from __future__ import annotations

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.national import is_national_table
from provpanel.extracts.portal_long import is_portal_long_header
from provpanel.extracts.text import TextTable
from provpanel.extracts.tidy import is_tidy_header
from provpanel.extracts.values import parse_year

FORMATS = (
    "portal_classic",
    "portal_current",
    "cross_section",
    "transposed",
    "english",
    "workbook",
    "tidy",
    "portal_long",
    "portal_json",
    "national_table",
    "dta",
    "rds",
    "rdata",
    "parquet",
)
TIME_WORDS = frozenset({"时间", "年份", "年", "年度", "year", "years", "time"})
_CJK_START = "\u3400"


def _has_cjk(text: str) -> bool:
    return any(ch >= _CJK_START for ch in text)


def classify_table(table: TextTable, file: str) -> str:
    """The family of a decoded text extract."""
    assert table.header is not None
    cells = table.header_cells
    corner = harmonise.normalise_label(cells[0]) if cells else ""
    rest = cells[1:]
    if is_portal_long_header(cells):
        return "portal_long"
    if is_tidy_header(cells):
        return "tidy"
    if corner in TIME_WORDS and any(harmonise.lookup_province(c) for c in rest):
        return "transposed"
    if any(parse_year(c) is not None for c in rest):
        first_label = next((row.cells[0] for row in table.body if row.cells), "")
        if not _has_cjk(cells[0]) and not _has_cjk(first_label):
            return "english"
        if any(raw.endswith("\t") for raw in table.header.cells):
            return "portal_current"
        return "portal_classic"
    if is_national_table(table):
        return "national_table"
    if rest and any(rest):
        return "cross_section"
    raise ExtractError(
        file,
        f"line {table.header.line}",
        "a table header: region and years (地区,2017年,...), region and indicators "
        "(地区,地区生产总值 (亿元),...), 时间 and provinces, or tidy columns "
        "(province, year, indicator, value, unit)",
        f"{cells}",
    )
