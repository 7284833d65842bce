"""Family `portal_json`: an answer of the NBS portal's query interface (`m=QueryData`, see
PORTAL.md), saved untouched by `provpanel fetch`.

- one value per data node of `returndata.datanodes`; `hasdata: false` is a missing cell
  (whatever `data` says: it is 0 there);
- the value is `data.data` (full precision), `data.strdata` (the value as displayed) is kept
  as source_value;
- the indicator and its unit come from the indicator's node in `wdnodes` (`zb`): its name is
  matched against the catalog's labels, its unit converted like any printed unit;
- the region is the six-digit code of the `reg` dimension, whose first two digits are the
  province code (`000000` is the national total, `00`); an answer of a national database has
  no `reg` dimension: every value is national (`00`);
- provenance: source_row is the data node's 1-based index in `datanodes`, source_col is 1, and
  `sheet` holds the node's code (`zb.A020101_reg.110000_sj.2021`): file, index and code locate
  the value as row and column locate a CSV cell.
"""

from __future__ import annotations

import json
from typing import Any

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.extracts.values import (
    ColumnMeaning,
    ExtractValue,
    ValueCollector,
    clean_cell,
    parse_year,
    resolve_meaning,
)


def looks_like_portal_json(data: bytes) -> bool:
    """A JSON object with a `returncode` key: decided by content, not by name. Not parsed here:
    a truncated answer is still this family, and its reader says what is wrong with it."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b'"returncode"' in data[:65536]


def _load(data: bytes, file: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExtractError(file, "whole file", "a complete JSON answer of the portal",
                           f"invalid JSON ({error})") from None


def _dimension(wdnodes: list, wdcode: str) -> dict[str, dict]:
    for block in wdnodes:
        if isinstance(block, dict) and block.get("wdcode") == wdcode:
            return {str(node.get("code")): node for node in block.get("nodes") or [] if isinstance(node, dict)}
    return {}


def _province(region: str, *, file: str, where: str) -> str:
    if len(region) != 6 or not region.isdigit():
        raise ExtractError(file, where, "a six-digit region code such as 110000", f"'{region}'")
    code = harmonise.NATIONAL_CODE if region == "000000" else region[:2]
    if code not in harmonise.province_codes():
        raise ExtractError(file, where, "a region code of a province (first two digits) or 000000",
                           f"'{region}'")
    return code


def read_portal_json(data: bytes, *, file: str, indicator: str | None,
                     unit: str | None) -> list[ExtractValue]:
    payload = _load(data, file)
    if not isinstance(payload, dict) or "returncode" not in payload:
        raise ExtractError(file, "whole file", "a JSON object with returncode and returndata",
                           type(payload).__name__)
    if payload["returncode"] != 200:
        raise ExtractError(file, "returncode", "200 (an answer with data)",
                           f"{payload['returncode']}: {str(payload.get('returndata'))[:200]}")
    body = payload.get("returndata")
    nodes = body.get("datanodes") if isinstance(body, dict) else None
    wdnodes = body.get("wdnodes") if isinstance(body, dict) else None
    if not isinstance(nodes, list) or not isinstance(wdnodes, list):
        raise ExtractError(file, "returndata", "lists datanodes and wdnodes", str(body)[:200])
    indicators = _dimension(wdnodes, "zb")
    # an answer by region (fsnd) names a region on every node: one without is not national
    by_region = bool(_dimension(wdnodes, "reg"))
    meanings: dict[str, ColumnMeaning] = {}
    collector = ValueCollector(file)
    for index, node in enumerate(nodes, start=1):
        where = f"data node {index}"
        if not isinstance(node, dict):
            raise ExtractError(file, where, "a data node object", repr(node)[:100])
        code = str(node.get("code", ""))
        where = f"data node {index} ({code})"
        cell = node.get("data")
        dims = {str(d.get("wdcode")): str(d.get("valuecode")) for d in node.get("wds") or [] if isinstance(d, dict)}
        if not isinstance(cell, dict) or "zb" not in dims or "sj" not in dims:
            raise ExtractError(file, where, "data with hasdata/data/strdata and wds naming zb and sj",
                               json.dumps(node, ensure_ascii=False)[:200])
        if not cell.get("hasdata"):
            continue  # not (yet) published: a missing cell
        zb = dims["zb"]
        if zb not in meanings:
            described = indicators.get(zb)
            if described is None:
                raise ExtractError(file, where, f"indicator {zb} described in wdnodes (zb)", "no such node")
            label = clean_cell(described.get("cname") or described.get("name")) or None
            meanings[zb] = resolve_meaning(
                file=file, file_label=label, file_label_where=f"wdnodes zb {zb}",
                file_unit=clean_cell(described.get("unit")) or None,
                given_indicator=indicator, given_unit=unit,
            )
        year = parse_year(dims["sj"])
        if year is None:
            raise ExtractError(file, where, "a year in the sj dimension, e.g. 2021", f"'{dims['sj']}'")
        if by_region and "reg" not in dims:
            raise ExtractError(file, where, "a region (reg) in wds, as wdnodes lists regions", "no region")
        province = (_province(dims["reg"], file=file, where=where) if "reg" in dims
                    else harmonise.NATIONAL_CODE)
        before = len(collector.values)
        try:
            collector.add(raw=cell.get("data"), meaning=meanings[zb], province_code=province,
                          year=year, row=index, col=1)
        except ExtractError as error:
            raise ExtractError(file, where, error.expected, error.found) from None
        if len(collector.values) > before:
            shown = clean_cell(cell.get("strdata"))
            collector.values[-1] = collector.values[-1]._replace(
                sheet=code, source_value=shown or collector.values[-1].source_value)
    return collector.values
