"""A local stand-in for the NBS portal's query interface (PORTAL.md), on 127.0.0.1, port 0, in a
thread: `m=getTree` answers from a small tree, `m=QueryData` builds the JSON answer from a small
table of values; faults can be queued per indicator code (HTML page, HTTP 500, truncated body,
a slow answer, a non-200 returncode) and every request is counted."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self


def node(db: str, code: str, name: str, parent: str, *, is_parent: bool = False) -> dict:
    return {"dbcode": db, "id": code, "isParent": is_parent, "name": name, "pid": parent, "wdcode": "zb"}


@dataclass
class Series:
    """One indicator of one database: its name and unit and {(region or None, year): value}."""

    name: str
    unit: str
    values: dict[tuple[str | None, int], float | None]
    dotcount: int = 2


@dataclass
class PortalState:
    trees: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # db -> parent -> children
    series: dict[tuple[str, str], Series] = field(default_factory=dict)  # (db, code) -> series
    faults: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # code -> queued faults
    counts: Counter = field(default_factory=Counter)  # 'tree:<db>:<id>' and 'data:<db>:<code>'
    slow_seconds: float = 2.0


REGION_NAMES = {"000000": "全国", "110000": "北京市", "440000": "广东省", "320000": "江苏省"}


def answer(db: str, code: str, series: Series, years: list[int]) -> dict:
    """A QueryData answer as PORTAL.md shows it."""
    regions = sorted({region for region, _ in series.values if region is not None})
    nodes = []
    for region in regions or [None]:
        for year in sorted(years, reverse=True):
            value = series.values.get((region, year))
            wds = [{"valuecode": code, "wdcode": "zb"}]
            key = f"zb.{code}"
            if region is not None:
                wds.append({"valuecode": region, "wdcode": "reg"})
                key += f"_reg.{region}"
            wds.append({"valuecode": str(year), "wdcode": "sj"})
            key += f"_sj.{year}"
            data = ({"data": value, "dotcount": series.dotcount, "hasdata": True,
                     "strdata": f"{value:.{series.dotcount}f}"} if value is not None
                    else {"data": 0, "dotcount": series.dotcount, "hasdata": False, "strdata": ""})
            nodes.append({"code": key, "data": data, "wds": wds})
    wdnodes = [{"wdcode": "zb", "wdname": "指标", "nodes": [
        {"cname": series.name, "code": code, "dotcount": series.dotcount, "exp": "", "memo": "",
         "name": series.name, "nodesort": "1", "sortcode": 1, "tag": [], "unit": series.unit}]}]
    if regions:
        wdnodes.append({"wdcode": "reg", "wdname": "地区", "nodes": [
            {"cname": REGION_NAMES.get(r, r), "code": r, "name": REGION_NAMES.get(r, r)} for r in regions]})
    wdnodes.append({"wdcode": "sj", "wdname": "时间", "nodes": [
        {"cname": f"{y}年", "code": str(y), "name": f"{y}年"} for y in sorted(years, reverse=True)]})
    return {"returncode": 200, "returndata": {
        "datanodes": nodes, "freshsort": 0,
        "hasdatacount": sum(1 for n in nodes if n["data"]["hasdata"]), "wdnodes": wdnodes}}


def _years(text: str) -> list[int]:
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(text)]


class _Handler(BaseHTTPRequestHandler):
    state: PortalState

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("ascii"))))

    def _send(self, status: int, body: bytes, content_type: str, *, length: int | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (time-out test)
            pass

    def _answer(self, params: dict[str, str]) -> None:
        state = self.state
        db = params.get("dbcode", "")
        if params.get("m") == "getTree":
            parent = params.get("id", "zb")
            state.counts[f"tree:{db}:{parent}"] += 1
            body = json.dumps(state.trees.get(db, {}).get(parent, []), ensure_ascii=False).encode()
            self._send(200, body, "application/json;charset=UTF-8")
            return
        fixed = {d["wdcode"]: d["valuecode"] for d in json.loads(params.get("dfwds", "[]"))}
        code = fixed.get("zb", "")
        state.counts[f"data:{db}:{code}"] += 1
        fault = state.faults[code].pop(0) if state.faults.get(code) else None
        series = state.series.get((db, code))
        payload = (answer(db, code, series, _years(fixed.get("sj", "2020"))) if series
                   else {"returncode": 501, "returndata": "指标代码错误"})
        body = json.dumps(payload, ensure_ascii=False).encode()
        if fault == "html":
            page = "<!DOCTYPE html><html><head><title>访问过于频繁</title></head><body>稍后再试</body></html>"
            self._send(200, page.encode(), "text/html;charset=UTF-8")
        elif fault == "500":
            self._send(500, b"<html><title>500 Internal Server Error</title></html>", "text/html")
        elif fault == "truncated":
            half = body[: len(body) // 2]
            self._send(200, half, "application/json;charset=UTF-8")
        elif fault == "slow":
            time.sleep(state.slow_seconds)
            self._send(200, body, "application/json;charset=UTF-8")
        elif fault == "returncode":
            self._send(200, json.dumps({"returncode": 501, "returndata": "参数错误"}, ensure_ascii=False).encode(),
                       "application/json;charset=UTF-8")
        else:
            self._send(200, body, "application/json;charset=UTF-8")


class PortalServer:
    """`with PortalServer(state) as server: server.url`"""

    def __init__(self, state: PortalState, *, certificate: tuple[Path, Path] | None = None) -> None:
        handler = type("Handler", (_Handler,), {"state": state})
        self.state = state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certificate[0]), str(certificate[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/easyquery.htm"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA bundle trusts (openssl command line)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def small_portal() -> PortalState:
    """A plausible small portal: GDP (A020101), trade by operating unit (A060101) and the
    destination concept (A060201), revenue (A080101), two leaves named 第三产业增加值, and the
    national exchange rate in hgnd."""
    f, h = "fsnd", "hgnd"
    trees = {
        f: {
            "zb": [node(f, "A02", "国民经济核算", "zb", is_parent=True),
                   node(f, "A06", "对外经济贸易", "zb", is_parent=True),
                   node(f, "A08", "财政", "zb", is_parent=True)],
            "A02": [node(f, "A0201", "地区生产总值", "A02", is_parent=True),
                    node(f, "A0202", "地区生产总值指数", "A02", is_parent=True)],
            "A0201": [node(f, "A020101", "地区生产总值", "A0201"),
                      node(f, "A020102", "第一产业增加值", "A0201"),
                      node(f, "A020104", "第三产业增加值", "A0201")],
            "A0202": [node(f, "A020204", "第三产业增加值", "A0202")],  # an index, same name
            "A06": [node(f, "A0601", "按经营单位所在地分货物进出口", "A06", is_parent=True),
                    node(f, "A0602", "按境内目的地和货源地分货物进出口", "A06", is_parent=True)],
            "A0601": [node(f, "A060101", "经营单位所在地进出口总额", "A0601")],
            "A0602": [node(f, "A060201", "境内目的地和货源地进出口总额", "A0602")],
            "A08": [node(f, "A0801", "地方财政收入", "A08", is_parent=True)],
            "A0801": [node(f, "A080101", "地方财政一般预算收入", "A0801")],
        },
        h: {
            "zb": [node(h, "A06", "对外经济贸易", "zb", is_parent=True)],
            "A06": [node(h, "A0605", "汇率", "A06", is_parent=True)],
            "A0605": [node(h, "A060501", "人民币汇率(年平均价)", "A0605")],
        },
    }
    series = {
        (f, "A020101"): Series("地区生产总值", "亿元", {
            ("110000", 2020): 36102.55, ("110000", 2021): 40269.55,
            ("440000", 2020): 110760.94, ("440000", 2021): None,  # 2021 not yet published
            ("000000", 2020): 1015986.2, ("000000", 2021): 1143669.7}),
        (f, "A020102"): Series("第一产业增加值", "亿元", {("110000", 2020): 107.61, ("110000", 2021): 111.34}),
        (f, "A060101"): Series("经营单位所在地进出口总额", "千美元", {
            ("110000", 2020): 336478079.576, ("110000", 2021): 470960000.0,
            ("440000", 2020): 1024540000.0, ("440000", 2021): 1279270000.0}),
        (f, "A060201"): Series("境内目的地和货源地进出口总额", "千美元", {("110000", 2020): 1.0}),
        (f, "A080101"): Series("地方财政一般预算收入", "亿元", {("110000", 2020): 5483.89}),
        (h, "A060501"): Series("人民币汇率(年平均价)", "元/100美元", {(None, 2020): 689.76, (None, 2021): 645.15},
                               dotcount=2),
    }
    return PortalState(trees=trees, series=series)
