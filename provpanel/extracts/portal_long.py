"""A long table written by a client of the portal's query interface (the portal client: provpanel/portal/):
one data node a row, with the portal's indicator code, its region code, the year, the value
(`data`), the displayed value (`strdata`) and the has-data flag:

    requested_code,indicator_code,indicator_name,region_code,region_name,year,value,display_value,has_data
    A060101,A060101,经营单位所在地进出口总额,110000,北京市,2016,282348960.0,282348960,True

- the indicator is the portal code mapped through the reviewed seed
  `portal_indicator_codes.csv` (portal_db, portal_code, portal_name, portal_unit, indicator),
  never the printed name: the portal has two trade concepts whose names look alike
  (`A060101` by operating unit is trade_total, `A060201` by destination of goods is not);
  a code the seed does not map is kept under its own name and code, outside the catalog;
- the unit is the seed's portal unit (the unit of the indicator's node in the portal);
- a region code `440000` is the province `44`, `000000` the national total; a printed region
  name, when present, must agree with the code;
- `has_data` false is a missing cell, whatever the value says.
"""

from __future__ import annotations

from decimal import Decimal

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.text import TextTable, data_rows, header_roles
from provpanel.extracts.values import (
    ColumnMeaning,
    ExtractValue,
    ValueCollector,
    catalog_code,
    parse_year,
    resolve_meaning,
)

PORTAL_CODES_SEED = "portal_indicator_codes.csv"
COLUMN_NAMES: dict[str, frozenset[str]] = {
    "indicator_code": frozenset({"indicator_code", "zb", "zbcode", "zb_code", "指标代码", "指标编码"}),
    "indicator_name": frozenset({"indicator_name", "zb_name", "zbname", "指标名称"}),
    "region_code": frozenset({"region_code", "reg", "regcode", "reg_code", "地区代码", "地区编码"}),
    "region_name": frozenset({"region_name", "reg_name", "regname", "地区名称", "地区"}),
    "year": frozenset({"year", "sj", "sj_code", "时间", "年份"}),
    "value": frozenset({"value", "data", "数值"}),
    "has_data": frozenset({"has_data", "hasdata"}),
}
REQUIRED = ("indicator_code", "region_code", "year", "value")
_TRUE = frozenset({"true", "1", "yes", "t"})
_FALSE = frozenset({"false", "0", "no", "f"})


def is_portal_long_header(cells: list[str]) -> bool:
    return set(REQUIRED) <= header_roles(cells, COLUMN_NAMES).keys()


def _region(code: str, name: str | None, *, file: str, where: str, name_where: str) -> str:
    if not (len(code) == 6 and code.isdigit() and code.endswith("0000")
            and (code[:2] in harmonise.province_codes() or code == "000000")):
        raise ExtractError(
            file, where, "a six-digit province region code such as 440000 (000000 national)",
            f"'{code}'",
        )
    province = code[:2]
    if name:
        named = harmonise.lookup_province(name)
        if named is not None and named != province:
            raise ExtractError(file, name_where, f"the region of code {code} (province {province})",
                               f"'{name}' (province {named})")
    return province


def _meaning(code: str, name: str | None, *, file: str, where: str, indicator: str | None,
             unit: str | None) -> ColumnMeaning:
    rows = harmonise.portal_indicator_codes().get(code, ())
    targets = {row["indicator"] for row in rows}
    if len(targets) > 1:
        raise ExtractError(
            file, where, f"one catalog indicator for portal code {code} in {PORTAL_CODES_SEED}",
            f"{sorted(targets)}",
        )
    if not rows:
        if indicator is not None:
            wanted = catalog_code(indicator, file=file, where="argument indicator")
            raise ExtractError(
                file,
                where,
                f"a portal code that {PORTAL_CODES_SEED} maps to '{wanted}' (the indicator the "
                "manifest names)",
                f"'{code}'" + (f" ({name})" if name else "") + f", not in {PORTAL_CODES_SEED}",
            )
        label = f"{name} [{code}]" if name else code
        return ColumnMeaning(label, False, None, None, Decimal(1))
    row = rows[0]
    units = {r["portal_unit"] for r in rows}
    if len(units) > 1:
        raise ExtractError(file, where, f"one unit for portal code {code} in {PORTAL_CODES_SEED}",
                           f"{sorted(units)}")
    return resolve_meaning(
        file=file, file_label=row["indicator"], file_label_where=f"{where} (portal code {code})",
        file_unit=row["portal_unit"] or None, given_indicator=indicator, given_unit=unit,
    )


def read_portal_long(
    table: TextTable, *, file: str, indicator: str | None, unit: str | None
) -> list[ExtractValue]:
    cells = table.header_cells
    roles = header_roles(cells, COLUMN_NAMES)
    meanings: dict[str, ColumnMeaning] = {}
    regions: dict[tuple[str, str | None], str] = {}
    collector = ValueCollector(file)
    for row in data_rows(table, file):

        def at(role: str, line: int = row.line) -> str:
            return f"line {line}, column {roles[role] + 1}"

        code = row.cell(roles["indicator_code"])
        if code not in meanings:
            name = row.cell(roles["indicator_name"]) if "indicator_name" in roles else None
            meanings[code] = _meaning(code, name, file=file, where=at("indicator_code"),
                                      indicator=indicator, unit=unit)
        region_code = row.cell(roles["region_code"])
        region_name = row.cell(roles["region_name"]) if "region_name" in roles else None
        key = (region_code, region_name)
        if key not in regions:
            regions[key] = _region(
                region_code, region_name, file=file, where=at("region_code"),
                name_where=at("region_name") if "region_name" in roles else "",
            )
        year = parse_year(row.cell(roles["year"]))
        if year is None:
            raise ExtractError(file, at("year"), "a year such as 2017",
                               f"'{row.cell(roles['year'])}'")
        if "has_data" in roles:
            flag = harmonise.normalise_label(row.cell(roles["has_data"]))
            if flag in _FALSE:
                continue  # not (yet) published: a missing cell, whatever the value says
            if flag not in _TRUE:
                raise ExtractError(file, at("has_data"), "True or False",
                                   f"'{row.cell(roles['has_data'])}'")
        collector.add_text_cell(row, roles["value"], meaning=meanings[code],
                                province_code=regions[key], year=year)
    return collector.values
