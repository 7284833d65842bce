"""A local stand-in of the NBS data portal (`easyquery.htm`, PORTAL.md) that answers only with
recorded real answers, read in place from `shared/data/portal_recorded/` (never copied).

    with RecordedPortal() as portal:
        requests.post(portal.url, data={...})   # http://127.0.0.1:PORT/easyquery.htm

What it serves:

- every interaction of `cassettes/*.yaml` (VCR recordings of the cnstats client, 2026-03-03):
  its response status, headers and body string (encoded UTF-8; the recorded Content-Length
  always matches those bytes);
- the three JSON files, byte for byte as on disk (the table file keeps its UTF-8 BOM), for the
  requests their names imply. Their requests and headers were not recorded: they get the
  response headers of the fsnd interaction of `test_api_vcr__test_stats_with_reg_annual.yaml`.

Matching (`request_key`): the form of a POST body (application/x-www-form-urlencoded) or of a
GET query string gives the key `(m, dbcode, rowcode, code, region)`:

- `m=getTree`: `(m, dbcode, None, id, None)`, `id` defaulting to `"zb"`;
- otherwise (`m=QueryData`): `code` is the valuecode of wdcode `zb` in `dfwds`, else in `wds`
  (a rowcode=reg query carries it in `wds`); `region` is the valuecode of wdcode `reg` in `wds`
  when `rowcode == "zb"`, else None. `dfwds`/`wds` are JSON lists, with or without spaces.

`sj` (the years) and `k1` (a timestamp) are ignored, and so is `colcode`: a recording answers
whatever years are asked, so the LAST10 recordings of A020101/A020103 (2014-2023) also answer a
query for `2001-2021`. A test of year handling must check the years it gets back, not assume
the stand-in honours `sj`.

Unmatched requests: a QueryData (or any other `m`) gets the recorded 501 answer of
`test_api_vcr__test_invalid_query.yaml` (HTTP 200, `{"returncode":501,...}` with that
recording's headers), which is what the real portal says for an unknown code and for a TABLE
code asked for all regions (`rowcode=reg`). An unmatched getTree gets `[]`: NOT recorded (no
recording shows what the portal says for an unknown tree node). A path other than
`/easyquery.htm` gets a built 404 (not recorded either).

Two cassette interactions can share a key (the same request recorded by two cnstats tests):
the first in file-name order is kept, the others are listed by `duplicate_recordings()`. Five
of the six are the same request answered with the same bytes (only cookies and WZWS-RAY
differ); hgyd A0D0101 was asked for `sj=202112,202201` (kept: two months) and for `202201`
(left out), which differ only in `sj`.

Headers sent: the recording's, in order (Date and the two Set-Cookie `JSESSIONID=...; path=/;
HttpOnly` and `u=N` included), without Content-Length, Transfer-Encoding, Connection and
Content-Encoding; then a correct Content-Length. No recording has a Content-Type header: the
stand-in adds `application/json;charset=UTF-8` unless `portal.add_content_type = False` (then
the headers are exactly the recorded ones), so a client must not depend on Content-Type.

Faults (`portal.faults`, strings popped from the front, one per request, before matching;
applied instead of the answer; "none" lets one request through as recorded). The pages are NOT recorded: they are built here, plausibly,
and say so in an HTML comment: "challenge" (WZWS JavaScript challenge, 200 text/html),
"captcha" (200 text/html, a captcha form), "403" (UrlACL), "500", "503-retry-after" (Retry-After:
1), "truncated" (the matched body cut in half, Content-Length the cut length), "slow" (sleep
`portal.slow_seconds`, then the answer), "dribble" (the headers, then the matched body one byte
every `portal.dribble_interval` seconds).

Answers no recording holds are built from recorded ones (`table_answer_built_from_indicator_
answers`, `with_cells`, `all_unpublished`, `renamed_indicator`); their `Recorded.source` starts
with "built:".
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import socket
import ssl
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import yaml

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "portal_recorded"
CASSETTES = RECORDINGS / "cassettes"

REFUSED_SOURCE = "cassettes/test_api_vcr__test_invalid_query.yaml#0"
FILE_HEADERS_SOURCE = "cassettes/test_api_vcr__test_stats_with_reg_annual.yaml#0"
TABLE_FILE = "fsnd_table_A0101_reg450000_sj2009-2018.json"
INDICATOR_FILES = {
    "A020101": "fsnd_A020101_reg_all_LAST10_2024-05.json",
    "A020103": "fsnd_A020103_reg_all_LAST10_2024-05.json",
}
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
HTML_CONTENT_TYPE = "text/html;charset=UTF-8"
DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection",
                             "content-encoding"})
FAULTS = ("none", "challenge", "captcha", "403", "500", "503-retry-after", "truncated", "slow", "dribble")

# yaml.safe_load, with libyaml when it is there (a third of a second instead of a second)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Key = tuple[str | None, str | None, str | None, str | None, str | None]


def _dims(items: list[dict]) -> str:
    return json.dumps(items)


# The requests the three JSON files answer: not recorded, implied by their names (README.md).
FILE_REQUESTS: dict[str, dict[str, str]] = {
    TABLE_FILE: {
        "m": "QueryData", "dbcode": "fsnd", "rowcode": "zb", "colcode": "sj",
        "wds": _dims([{"wdcode": "reg", "valuecode": "450000"}]),
        "dfwds": _dims([{"wdcode": "zb", "valuecode": "A0101"},
                        {"wdcode": "sj", "valuecode": "2009-2018"}]),
    },
    **{name: {"m": "QueryData", "dbcode": "fsnd", "rowcode": "reg", "colcode": "sj", "wds": "[]",
              "dfwds": _dims([{"wdcode": "zb", "valuecode": code}])}
       for code, name in INDICATOR_FILES.items()},
}


@dataclass
class Recorded:
    """One answer the stand-in can give. `headers` are sent as they are, less Content-Length
    and the other hop-by-hop ones (DROPPED_HEADERS); don't mutate a shared one, replace it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    source: str  # "cassettes/<file>.yaml#<index>", "<file>.json" or "built: <how>"


@dataclass
class SeenRequest:
    """One request the stand-in received; `headers` with lower-case names."""

    method: str
    path: str
    form: dict[str, str]
    key: Key
    headers: dict[str, str]


# ---------------------------------------------------------------------------- keys

def _dimensions(text: str | None) -> dict[str, str]:
    """{wdcode: valuecode} of a `wds`/`dfwds` JSON list (the first of each wdcode); {} if the
    text is not such a list."""
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return {}
    found: dict[str, str] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and "wdcode" in item:
                found.setdefault(str(item["wdcode"]), str(item.get("valuecode", "")))
    return found


def request_key(form: dict[str, str]) -> Key:
    """(m, dbcode, rowcode, code, region) of a request's form (see the module docstring)."""
    m, dbcode = form.get("m"), form.get("dbcode")
    if m == "getTree":
        return (m, dbcode, None, form.get("id", "zb"), None)
    rowcode = form.get("rowcode")
    wds, dfwds = _dimensions(form.get("wds")), _dimensions(form.get("dfwds"))
    code = dfwds.get("zb", wds.get("zb"))
    region = wds.get("reg") if rowcode == "zb" else None
    return (m, dbcode, rowcode, code, region)


def parse_form(text: str) -> dict[str, str]:
    """The fields of an application/x-www-form-urlencoded body or a query string."""
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


# ---------------------------------------------------------------------------- recordings

def _headers(recorded: dict[str, list[str] | str]) -> list[tuple[str, str]]:
    pairs = []
    for name, values in recorded.items():
        if name.lower() in DROPPED_HEADERS:
            continue
        for value in values if isinstance(values, list) else [values]:
            pairs.append((name, str(value)))
    return pairs


def _text(body: str | bytes | dict | None) -> str:
    if isinstance(body, dict):  # VCR may store a body as {"string": ...}
        body = body.get("string")
    if isinstance(body, bytes):
        return body.decode("utf-8")
    return body or ""


def _cassette_interactions() -> list[tuple[dict[str, str], Recorded]]:
    found = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        cassette = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        for index, interaction in enumerate(cassette["interactions"]):
            request, response = interaction["request"], interaction["response"]
            form = parse_form(urllib.parse.urlsplit(request.get("uri", "")).query)
            form.update(parse_form(_text(request.get("body"))))
            found.append((form, Recorded(
                status=int(response["status"]["code"]),
                headers=_headers(response.get("headers") or {}),
                body=_text(response["body"]).encode("utf-8"),
                source=f"cassettes/{path.name}#{index}")))
    return found


@dataclass(frozen=True)
class _Loaded:
    answers: dict[Key, Recorded]  # first recording of each key
    duplicates: tuple[tuple[Key, str, str], ...]  # (key, source kept, source left out)
    by_source: dict[str, Recorded]


@functools.lru_cache(maxsize=1)
def _load() -> _Loaded:
    entries = _cassette_interactions()
    by_source = {recorded.source: recorded for _, recorded in entries}
    file_headers = by_source[FILE_HEADERS_SOURCE].headers
    for name, form in FILE_REQUESTS.items():
        recorded = Recorded(200, list(file_headers), (RECORDINGS / name).read_bytes(), name)
        by_source[name] = recorded
        entries.append((form, recorded))
    answers: dict[Key, Recorded] = {}
    duplicates = []
    for form, recorded in entries:
        key = request_key(form)
        if key in answers:
            duplicates.append((key, answers[key].source, recorded.source))
        else:
            answers[key] = recorded
    return _Loaded(answers, tuple(duplicates), by_source)


def _copy(recorded: Recorded) -> Recorded:
    return dataclasses.replace(recorded, headers=list(recorded.headers))


def load_recordings() -> dict[Key, Recorded]:
    """Every cassette interaction and the three JSON files, by request key (a fresh dict of
    fresh Recorded on every call; the files are parsed once per process)."""
    return {key: _copy(value) for key, value in _load().answers.items()}


def duplicate_recordings() -> list[tuple[Key, str, str]]:
    """(key, source kept, source left out) for every recording whose key an earlier one had."""
    return list(_load().duplicates)


def recording(source: str) -> Recorded:
    """One recording by its source ("cassettes/<file>.yaml#<index>" or "<file>.json")."""
    return _copy(_load().by_source[source])


def refused_answer() -> Recorded:
    """The recorded 501: HTTP 200, `{"returncode":501,"returndata":"对不起，未能找到符合查询条件的信息。"}`."""
    return recording(REFUSED_SOURCE)


def recorded_json(name: str) -> dict:
    """json.loads of one of the three recorded JSON files (utf-8-sig: the BOM is dropped)."""
    return json.loads((RECORDINGS / name).read_text(encoding="utf-8-sig"))


def recorded_headers() -> list[tuple[str, str]]:
    """The headers the JSON files (and the answers built here) are served with: those of the
    fsnd interaction of `test_api_vcr__test_stats_with_reg_annual.yaml`."""
    return recording(FILE_HEADERS_SOURCE).headers


def empty_tree_answer() -> Recorded:
    """`[]` for a getTree no recording answers: NOT recorded (recorded headers, built body)."""
    return built_answer(b"[]", "empty getTree answer (not recorded)")


# ---------------------------------------------------------------------------- built answers

def answer_bytes(answer: dict | list) -> bytes:
    """Compact JSON, UTF-8, as the portal writes it (2026 recordings)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def built_answer(body: bytes | dict, how: str, *, status: int = 200) -> Recorded:
    """A Recorded for a body built from recorded ones, with the recorded fsnd headers."""
    data = answer_bytes(body) if isinstance(body, dict) else body
    return Recorded(status, recorded_headers(), data, f"built: {how}")


def _wdnode(answer: dict, wdcode: str) -> dict:
    for wdnode in answer["returndata"]["wdnodes"]:
        if wdnode["wdcode"] == wdcode:
            return wdnode
    raise ValueError(f"no wdnode {wdcode!r} in this answer")


def table_answer_built_from_indicator_answers(codes: list[str],
                                              region: str = "110000") -> Recorded:
    """The answer the portal gives for a TABLE asked with rowcode=zb and one region (the shape of
    `fsnd_table_A0101_reg450000_sj2009-2018.json`: one datanode per indicator x year, coded
    `zb.<code>_reg.<region>_sj.<year>`; wdnodes zb (one node per indicator), reg (the region),
    sj), made from the recorded indicator answers of A020101/A020103 restricted to `region`.
    Not recorded as such: the nodes and values are the recorded ones (May 2024), copied. It
    carries `freshsort` and `hasdatacount` as the 2026 recording of a rowcode=zb query does
    (the 2019 table file has neither)."""
    if not codes:
        raise ValueError("no indicator codes")
    unknown = [code for code in codes if code not in INDICATOR_FILES]
    if unknown:
        raise ValueError(f"no recorded indicator answer for {unknown}: "
                         f"only {sorted(INDICATOR_FILES)}")
    datanodes, zb_nodes, reg_node, sj_wdnode = [], [], None, None
    zb_wdnode = reg_wdnode = None
    for code in codes:
        answer = recorded_json(INDICATOR_FILES[code])
        zb, reg, sj = (_wdnode(answer, w) for w in ("zb", "reg", "sj"))
        zb_wdnode, reg_wdnode, sj_wdnode = zb_wdnode or zb, reg_wdnode or reg, sj_wdnode or sj
        zb_nodes += [copy.deepcopy(node) for node in zb["nodes"] if node["code"] == code]
        regions = [node for node in reg["nodes"] if node["code"] == region]
        if not regions:
            raise ValueError(f"region {region} not in the recorded answer of {code}")
        reg_node = reg_node or copy.deepcopy(regions[0])
        cells = {node["code"]: node for node in answer["returndata"]["datanodes"]}
        for year in sj_wdnode["nodes"]:
            datanodes.append(copy.deepcopy(cells[f"zb.{code}_reg.{region}_sj.{year['code']}"]))
    wdnodes = [{**zb_wdnode, "nodes": zb_nodes}, {**reg_wdnode, "nodes": [reg_node]},
               copy.deepcopy(sj_wdnode)]
    body = {"returncode": 200, "returndata": {
        "datanodes": datanodes, "freshsort": 0,
        "hasdatacount": sum(1 for node in datanodes if node["data"]["hasdata"]),
        "wdnodes": wdnodes}}
    return built_answer(body, f"table from recorded {'+'.join(codes)} for region {region}")


def with_cells(answer: dict, keep: Callable[[dict], bool]) -> bytes:
    """A recorded answer with only the datanodes for which keep(node) is true (hasdatacount
    recomputed where the answer has one); wdnodes unchanged."""
    edited = copy.deepcopy(answer)
    data = edited["returndata"]
    data["datanodes"] = [node for node in data["datanodes"] if keep(node)]
    if "hasdatacount" in data:
        data["hasdatacount"] = sum(1 for node in data["datanodes"] if node["data"]["hasdata"])
    return answer_bytes(edited)


def all_unpublished(answer: dict) -> bytes:
    """A recorded answer in which every cell is as the portal shows an unpublished year:
    hasdata false, data 0.0, strdata "" (dotcount kept); hasdatacount 0 where present."""
    edited = copy.deepcopy(answer)
    data = edited["returndata"]
    for node in data["datanodes"]:
        node["data"].update({"data": 0.0, "hasdata": False, "strdata": ""})
    if "hasdatacount" in data:
        data["hasdatacount"] = 0
    return answer_bytes(edited)


def renamed_indicator(answer: dict, code: str, *, cname: str | None = None,
                      unit: str | None = None, new_code: str | None = None) -> dict:
    """A recorded answer whose zb node `code` has another cname (and name), unit or code; with
    new_code, every datanode of `code` is recoded too (its `code` and its zb wds)."""
    edited = copy.deepcopy(answer)
    nodes = [node for node in _wdnode(edited, "zb")["nodes"] if node["code"] == code]
    if not nodes:
        raise ValueError(f"no indicator {code} in this answer")
    for node in nodes:
        if cname is not None:
            node["cname"] = node["name"] = cname
        if unit is not None:
            node["unit"] = unit
        if new_code is not None:
            node["code"] = new_code
    if new_code is not None:
        for cell in edited["returndata"]["datanodes"]:
            zb = [wd for wd in cell["wds"] if wd["wdcode"] == "zb" and wd["valuecode"] == code]
            if zb:
                zb[0]["valuecode"] = new_code
                cell["code"] = cell["code"].replace(f"zb.{code}_", f"zb.{new_code}_", 1)
    return edited


# ---------------------------------------------------------------------------- fault pages
# None of these is recorded: they are built for the tests, plausibly, from what PORTAL.md and
# third parties describe. Each page says so in an HTML comment.

_NOT_RECORDED = "<!-- not recorded: built for the tests by tests/portal_replay.py -->"
_BUILT_RAY = "0000-0000000000.000-built-for-tests"


def _html(status: int, page: str, how: str, extra: list[tuple[str, str]] | None = None
          ) -> Recorded:
    headers = [("Content-Type", HTML_CONTENT_TYPE), *(extra or [])]
    return Recorded(status, headers, page.encode("utf-8"), f"built: {how} (not recorded)")


def challenge_page() -> Recorded:
    """A WZWS-style JavaScript challenge (HTTP 200, text/html, WZWS-RAY)."""
    page = ('<html><head><title></title>' + _NOT_RECORDED + '<script type="text/javascript">'
            'var wzwschallenge="ZmFrZS1jaGFsbGVuZ2U=";var wzwschallengex="dGVzdA==";'
            'var encoderchars="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";'
            'function wzwshex(s){var r=0;for(var i=0;i<s.length;i++){r+=s.charCodeAt(i);}'
            'return r;}document.cookie="wzws_cid="+wzwshex(wzwschallenge)+"; path=/";'
            'window.location.href=window.location.pathname+"?wzwschallenge="+wzwschallengex;'
            '</script></head><body></body></html>')
    return _html(200, page, "WZWS challenge", [("WZWS-RAY", _BUILT_RAY),
                                                ("Cache-Control", "no-cache")])


def captcha_page() -> Recorded:
    """A captcha form (HTTP 200, text/html)."""
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>验证码</title>'
            + _NOT_RECORDED + '</head><body><form method="post" action="/wzws-captcha/verify">'
            '<p>访问过于频繁，请输入验证码 (captcha)</p>'
            '<img src="/wzws-captcha/image?t=1" alt="captcha">'
            '<input type="text" name="captcha"><button type="submit">提交</button>'
            '</form></body></html>')
    return _html(200, page, "captcha page", [("WZWS-RAY", _BUILT_RAY)])


def forbidden_page() -> Recorded:
    """HTTP 403 from the access list (reported for addresses outside mainland China)."""
    page = ('<html><head><title>403 Forbidden</title>' + _NOT_RECORDED + '</head><body>'
            '<h1>403 Forbidden</h1><p>UrlACL: access to this resource is denied.</p>'
            '</body></html>')
    return _html(403, page, "403 UrlACL")


def server_error_page() -> Recorded:
    page = ('<html><head><title>500 Internal Server Error</title>' + _NOT_RECORDED
            + '</head><body><h1>500 Internal Server Error</h1></body></html>')
    return _html(500, page, "HTTP 500")


def unavailable_page() -> Recorded:
    page = ('<html><head><title>503 Service Unavailable</title>' + _NOT_RECORDED
            + '</head><body><h1>503 Service Unavailable</h1></body></html>')
    return _html(503, page, "HTTP 503", [("Retry-After", "1")])


def not_found_page(path: str) -> Recorded:
    page = ('<html><head><title>404 Not Found</title>' + _NOT_RECORDED + '</head><body>'
            f'<h1>404 Not Found</h1><p>{path}</p></body></html>')
    return _html(404, page, "HTTP 404")


FAULT_PAGES: dict[str, Callable[[], Recorded]] = {
    "challenge": challenge_page, "captcha": captcha_page, "403": forbidden_page,
    "500": server_error_page, "503-retry-after": unavailable_page,
}


# ---------------------------------------------------------------------------- server

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: RecordedPortal
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request, client_address) -> None:
        # TLS per connection, in the connection's thread: a client that never completes the
        # handshake does not hold up the others.
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                request.close()
                return
        self.portal._opened(request)
        try:
            super().finish_request(request, client_address)
        finally:
            self.portal._closed(request)

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, ssl.SSLError)):
            return  # a client giving up (broken pipe, reset, TLS refused) is not an error here
        self.portal.errors.append(repr(error))
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.portal._lock:
            self.server.portal.connections += 1

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length) if length else b"")

    def _answer(self, body: bytes) -> None:
        portal = self.server.portal
        split = urllib.parse.urlsplit(self.path)
        form = parse_form(split.query)
        form.update(parse_form(body.decode("utf-8", "replace")))
        key = request_key(form)
        seen = SeenRequest(self.command, self.path, form, key,
                           {name.lower(): value for name, value in self.headers.items()})
        fault = portal._seen(seen)
        if split.path != "/easyquery.htm":
            answer = not_found_page(split.path)
        else:
            answer = portal.answer_for(key)
        try:
            if fault is None or fault == "none":  # "none": this request as recorded, the next queued
                self._send(answer)
            elif fault in FAULT_PAGES:
                self._send(FAULT_PAGES[fault]())
            elif fault == "truncated":
                cut = answer.body[: len(answer.body) // 2]
                self._send(dataclasses.replace(answer, body=cut, source=answer.source + " cut"))
            elif fault == "slow":
                if portal._closing.wait(portal.slow_seconds):
                    self.close_connection = True
                    return
                self._send(answer)
            elif fault == "dribble":
                self._send(answer, dribble=portal.dribble_interval)
            else:
                portal.errors.append(f"unknown fault {fault!r}")
                self._send(_html(500, f"portal_replay: unknown fault {fault!r}", "unknown fault"))
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    def _send(self, answer: Recorded, *, dribble: float | None = None) -> None:
        portal = self.server.portal
        self.send_response_only(answer.status)
        has_type = False
        for name, value in answer.headers:
            lower = name.lower()
            if lower in DROPPED_HEADERS:
                continue
            has_type = has_type or lower == "content-type"
            self.send_header(name, value)
        if not has_type and portal.add_content_type:
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if dribble is None:
            self.wfile.write(answer.body)
            return
        for index in range(len(answer.body)):
            if portal._closing.is_set():
                self.close_connection = True
                return
            self.wfile.write(answer.body[index:index + 1])
            self.wfile.flush()
            if index + 1 < len(answer.body):
                portal._closing.wait(dribble)


class RecordedPortal:
    """`with RecordedPortal() as portal: portal.url` ('http://127.0.0.1:PORT/easyquery.htm';
    https with `certificate=(cert, key)`, e.g. from `self_signed_certificate`).

    answers: load_recordings() updated with `extra`; tests may add or replace entries.
    requests: every request received, in order (SeenRequest).
    faults: queued faults, one popped per request (FIFO) before matching (see FAULTS).
    connections: connections accepted so far (one per keep-alive session that reuses it).
    errors: what went wrong inside the stand-in (an unknown fault).
    """

    def __init__(self, *, certificate: tuple[Path, Path] | None = None,
                 extra: dict[Key, Recorded] | None = None) -> None:
        self.answers: dict[Key, Recorded] = load_recordings()
        self.answers.update(extra or {})
        self.requests: list[SeenRequest] = []
        self.faults: list[str] = []
        self.errors: list[str] = []
        self.connections = 0
        self.slow_seconds = 2.0
        self.dribble_interval = 0.5
        self.add_content_type = True
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._open: set[socket.socket] = set()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.portal = self
        scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certificate[0]), str(certificate[1]))
            self.httpd.ssl_context = context
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/easyquery.htm"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={
            "poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:  # wake the keep-alive threads waiting for a next request
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def answer_for(self, key: Key) -> Recorded:
        """The answer to a request with this key: the recording, else `[]` for getTree and the
        recorded 501 for anything else."""
        if key in self.answers:
            return self.answers[key]
        return empty_tree_answer() if key[0] == "getTree" else refused_answer()

    def count(self, m: str, code: str | None = None) -> int:
        """Requests seen with this m (and, if given, this code: the tree id or the zb code)."""
        with self._lock:
            return sum(1 for seen in self.requests
                       if seen.key[0] == m and (code is None or seen.key[3] == code))

    def _seen(self, seen: SeenRequest) -> str | None:
        with self._lock:
            self.requests.append(seen)
            return self.faults.pop(0) if self.faults else None

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA bundle trusts (openssl command line)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key
