"""Tidy long CSV (what other tools export): one value a row, with columns province, year,
value and optionally indicator and unit. Header names are matched against the synonyms below,
in English or Chinese, case and surrounding space ignored."""

from __future__ import annotations

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.text import TextTable, data_rows, header_roles
from provpanel.extracts.values import (
    ColumnMeaning,
    ExtractValue,
    ValueCollector,
    parse_year,
    resolve_meaning,
)

COLUMN_SYNONYMS: dict[str, frozenset[str]] = {
    "province": frozenset(
        {
            "province",
            "region",
            "province_name",
            "province_code",
            "prov",
            "area",
            "地区",
            "省份",
            "省",
            "地区名称",
            "省份名称",
            "省市",
            "省区",
        }
    ),
    "year": frozenset({"year", "time", "period", "年份", "年", "年度", "时间"}),
    "indicator": frozenset(
        {
            "indicator",
            "indicator_code",
            "indicator_name",
            "variable",
            "series",
            "item",
            "指标",
            "指标名称",
            "变量",
        }
    ),
    "value": frozenset({"value", "val", "obs_value", "数值", "值", "数据", "取值"}),
    "unit": frozenset({"unit", "units", "单位", "计量单位"}),
}
REQUIRED = ("province", "year", "value")


def is_tidy_header(cells: list[str]) -> bool:
    return set(REQUIRED) <= header_roles(cells, COLUMN_SYNONYMS).keys()


def _province(label: str, *, file: str, where: str) -> str:
    # Tidy files written by tools may already carry the two-digit code.
    if label in harmonise.province_codes():
        return label
    return harmonise.resolve_province(label, file=file, where=where)


def read_tidy(
    table: TextTable, *, file: str, indicator: str | None, unit: str | None
) -> list[ExtractValue]:
    assert table.header is not None
    cells = table.header_cells
    roles = header_roles(cells, COLUMN_SYNONYMS)
    missing = [role for role in REQUIRED if role not in roles]
    if missing:
        raise ExtractError(
            file,
            f"line {table.header.line}",
            "tidy columns province, year, value (and optionally indicator, unit)",
            f"no {', '.join(missing)} column in {cells}",
        )
    meanings: dict[tuple[str | None, str | None], ColumnMeaning] = {}
    # a long file repeats each province and year thousands of times: resolve each spelling once
    provinces: dict[str, str] = {}
    years: dict[str, int | None] = {}
    collector = ValueCollector(file)
    for row in data_rows(table, file):
        label = row.cell(roles["province"])
        province = provinces.get(label)
        if province is None:
            province = provinces[label] = _province(
                label, file=file, where=f"line {row.line}, column {roles['province'] + 1}"
            )
        year_text = row.cell(roles["year"])
        if year_text not in years:
            years[year_text] = parse_year(year_text)
        year = years[year_text]
        if year is None:
            raise ExtractError(
                file,
                f"line {row.line}, column {roles['year'] + 1}",
                "a year such as 2017 or 2017年",
                f"'{row.cell(roles['year'])}'",
            )
        label = row.cell(roles["indicator"]) if "indicator" in roles else None
        if "indicator" in roles and not label:
            raise ExtractError(
                file,
                f"line {row.line}, column {roles['indicator'] + 1}",
                "an indicator code or label",
                "an empty cell",
            )
        printed_unit = (row.cell(roles["unit"]) or None) if "unit" in roles else None
        key = (label, printed_unit)
        if key not in meanings:
            label_where = (
                f"line {row.line}, column {roles['indicator'] + 1}"
                if label
                else "whole file (no indicator column)"
            )
            meanings[key] = resolve_meaning(
                file=file, file_label=label, file_label_where=label_where, file_unit=printed_unit,
                given_indicator=indicator, given_unit=unit,
            )
        collector.add_text_cell(row, roles["value"], meaning=meanings[key], province_code=province, year=year)
    return collector.values
