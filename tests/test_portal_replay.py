"""The recorded stand-in of the NBS portal (tests/portal_replay.py) answers with the recorded
bytes and headers, refuses as the portal does, queues faults in order, keeps a session's
connection and cookies, and builds the answers no recording holds from recorded ones.
No network: everything is on 127.0.0.1."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
import requests
import yaml
from portal_replay import (
    CASSETTES,
    INDICATOR_FILES,
    RECORDINGS,
    TABLE_FILE,
    Recorded,
    RecordedPortal,
    all_unpublished,
    duplicate_recordings,
    load_recordings,
    recorded_json,
    refused_answer,
    renamed_indicator,
    request_key,
    self_signed_certificate,
    table_answer_built_from_indicator_answers,
    with_cells,
)

FSND_CASSETTE = CASSETTES / "test_api_vcr__test_stats_with_reg_annual.yaml"
REFUSED_BODY = '{"returncode":501,"returndata":"对不起，未能找到符合查询条件的信息。"}'.encode()


def recorded_interaction(path=FSND_CASSETTE, index=0) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"][index]


def query(code: str, *, rowcode: str = "reg", region: str | None = None,
          spaces: bool = False) -> dict[str, str]:
    """A QueryData form as a client sends it (json.dumps with or without spaces)."""
    separators = (", ", ": ") if spaces else (",", ":")
    wds = [{"wdcode": "reg", "valuecode": region}] if region else []
    dfwds = [{"wdcode": "zb", "valuecode": code}, {"wdcode": "sj", "valuecode": "LAST10"}]
    return {"m": "QueryData", "dbcode": "fsnd", "rowcode": rowcode, "colcode": "sj",
            "wds": json.dumps(wds, separators=separators),
            "dfwds": json.dumps(dfwds, separators=separators), "k1": "1772507819019"}


def test_every_recording_loads_and_keys_as_its_request():
    answers = load_recordings()
    interactions = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["interactions"])
                       for p in CASSETTES.glob("*.yaml"))
    assert interactions == 54  # 15 cassettes with one, the tree with 39
    assert len(answers) + len(duplicate_recordings()) == interactions + 3
    assert answers[("QueryData", "fsnd", "zb", "A010101", "110000")].source == (
        "cassettes/test_api_vcr__test_stats_as_df.yaml#1")
    assert answers[("QueryData", "fsnd", "zb", "A0101", "450000")].source == TABLE_FILE
    for code, name in INDICATOR_FILES.items():
        recorded = answers[("QueryData", "fsnd", "reg", code, None)]
        assert recorded.source == name
        assert recorded.body == (RECORDINGS / name).read_bytes()
    assert answers[("QueryData", "fsnd", "zb", "A0101", "450000")].body.startswith(b"\xef\xbb\xbf")
    assert answers[("getTree", "hgyd", None, "zb", None)].source.endswith("get_tree.yaml#0")
    assert answers[("QueryData", "fsyd", "reg", "A01010101", None)].body.startswith(b'{"return')
    for recorded in answers.values():
        assert recorded.status == 200
        json.loads(recorded.body.decode("utf-8-sig"))
        names = {name.lower() for name, _ in recorded.headers}
        assert "wzws-ray" in names and "set-cookie" in names
        assert not names & {"content-length", "transfer-encoding", "connection"}
    # a key recorded twice: the same request (same bytes; other cookies and WZWS-RAY), except
    # hgyd A0D0101, asked for 202112,202201 and for 202201 (sj is not in the key): first kept
    raw = {}
    for path in sorted(CASSETTES.glob("*.yaml")):
        for index, item in enumerate(yaml.safe_load(path.read_text("utf-8"))["interactions"]):
            raw[f"cassettes/{path.name}#{index}"] = item["response"]["body"]["string"]
    differing = [key for key, kept, left_out in duplicate_recordings()
                 if raw[kept] != raw[left_out]]
    assert differing == [("QueryData", "hgyd", "zb", "A0D0101", None)]
    assert len(duplicate_recordings()) == 6


def test_request_key_reads_both_json_spellings_and_ignores_years():
    compact = request_key(query("A020101"))
    assert compact == request_key(query("A020101", spaces=True))
    assert compact == ("QueryData", "fsnd", "reg", "A020101", None)
    assert request_key({**query("A020101"), "dfwds": json.dumps(
        [{"wdcode": "zb", "valuecode": "A020101"}, {"wdcode": "sj", "valuecode": "2001-2021"}])}
    ) == compact
    assert request_key(query("A0201", rowcode="zb", region="110000")) == (
        "QueryData", "fsnd", "zb", "A0201", "110000")
    assert request_key({"m": "getTree", "dbcode": "fsnd", "wdcode": "zb"}) == (
        "getTree", "fsnd", None, "zb", None)
    cnstats = urllib.parse.parse_qsl(recorded_interaction()["request"]["body"])
    assert request_key(dict(cnstats)) == ("QueryData", "fsnd", "zb", "A010101", "110000")


def test_a_recorded_request_gets_the_recorded_bytes_and_cookies():
    interaction = recorded_interaction()
    request, response = interaction["request"], interaction["response"]
    headers = {name: values[0] for name, values in request["headers"].items()
               if name not in ("Content-Length", "Host", "Accept-Encoding")}
    with RecordedPortal() as portal:
        answer = requests.post(portal.url, data=request["body"], headers=headers, timeout=5)
    assert answer.status_code == 200
    # the kept recording of this key (an identical body, other cookies)
    kept = load_recordings()[("QueryData", "fsnd", "zb", "A010101", "110000")]
    assert answer.content == response["body"]["string"].encode("utf-8") == kept.body
    assert answer.raw.headers.getlist("Set-Cookie") == [
        value for name, value in kept.headers if name == "Set-Cookie"]
    assert len(answer.raw.headers.getlist("Set-Cookie")) == 2
    assert answer.headers["WZWS-RAY"] == dict(kept.headers)["WZWS-RAY"]
    assert answer.headers["Content-Length"] == str(len(kept.body))
    assert answer.headers["Content-Type"] == "application/json;charset=UTF-8"
    seen = portal.requests[0]
    assert seen.method == "POST" and seen.path == "/easyquery.htm"
    assert seen.headers["x-requested-with"] == "XMLHttpRequest"
    assert seen.headers["referer"] == "https://data.stats.gov.cn/easyquery.htm?cn=A01"
    assert portal.count("QueryData") == portal.count("QueryData", "A010101") == 1


def test_unknown_codes_and_a_table_for_all_regions_get_the_recorded_501():
    with RecordedPortal() as portal:
        unknown = requests.post(portal.url, data=query("A0Z9999"), timeout=5)
        table_all_regions = requests.get(portal.url, params=query("A0101"), timeout=5)
        tree = requests.post(portal.url, data={"m": "getTree", "dbcode": "fsnd", "id": "A99",
                                               "wdcode": "zb"}, timeout=5)
        indicator = requests.get(portal.url, params=query("A020103", spaces=True), timeout=5)
    assert unknown.status_code == table_all_regions.status_code == 200
    assert unknown.content == table_all_regions.content == REFUSED_BODY == refused_answer().body
    assert unknown.raw.headers.getlist("Set-Cookie") == [
        value for name, value in refused_answer().headers if name == "Set-Cookie"]
    assert tree.content == b"[]"
    assert indicator.content == (RECORDINGS / INDICATOR_FILES["A020103"]).read_bytes()
    assert portal.count("QueryData", "A0101") == 1 and portal.count("getTree") == 1


def test_faults_are_consumed_one_per_request_in_order():
    with RecordedPortal() as portal:
        portal.faults += ["challenge", "captcha", "403", "500", "503-retry-after", "truncated"]
        got = [requests.post(portal.url, data=query("A020101"), timeout=5) for _ in range(7)]
    full = (RECORDINGS / INDICATOR_FILES["A020101"]).read_bytes()
    challenge, captcha, forbidden, error, unavailable, truncated, normal = got
    assert challenge.status_code == 200 and "wzws_cid" in challenge.text
    assert challenge.headers["Content-Type"].startswith("text/html") and challenge.headers["WZWS-RAY"]
    assert "not recorded" in challenge.text
    assert captcha.status_code == 200 and "验证码" in captcha.text and "captcha" in captcha.text
    assert forbidden.status_code == 403 and "UrlACL" in forbidden.text
    assert error.status_code == 500
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "1"
    assert truncated.status_code == 200 and truncated.content == full[: len(full) // 2]
    assert normal.content == full
    assert portal.faults == [] and portal.count("QueryData", "A020101") == 7


def test_slow_and_dribble_faults():
    tiny = Recorded(200, [], b'{"returncode":200}', "built: tiny body for timing")
    key = request_key(query("A020101"))
    with RecordedPortal(extra={key: tiny}) as portal:
        portal.slow_seconds, portal.dribble_interval = 0.5, 0.02
        portal.faults += ["slow", "dribble"]
        with pytest.raises(requests.ReadTimeout):
            requests.post(portal.url, data=query("A020101"), timeout=(2, 0.1))
        start = time.monotonic()
        dribbled = requests.post(portal.url, data=query("A020101"), timeout=(2, 1))
        took = time.monotonic() - start
    assert dribbled.content == tiny.body
    assert took >= (len(tiny.body) - 1) * 0.02
    assert portal.errors == []


def test_a_session_keeps_its_connection_and_sends_back_the_cookies():
    with RecordedPortal() as portal, requests.Session() as session:
        first = session.post(portal.url, data=query("A020101"), timeout=5)
        second = session.post(portal.url, data=query("A020103"), timeout=5)
    assert first.status_code == second.status_code == 200
    assert portal.connections == 1
    assert "cookie" not in portal.requests[0].headers
    cookies = dict(part.split("=", 1) for part in portal.requests[1].headers["cookie"].split("; "))
    assert cookies == {"JSESSIONID": first.cookies["JSESSIONID"], "u": first.cookies["u"]}


def test_tls_with_a_self_signed_certificate(tmp_path):
    certificate = self_signed_certificate(tmp_path)
    with RecordedPortal(certificate=certificate) as portal:
        assert portal.url.startswith("https://127.0.0.1:")
        with pytest.raises(requests.exceptions.SSLError):
            requests.post(portal.url, data=query("A020101"), timeout=5)
        trusted = requests.post(portal.url, data=query("A020101"), timeout=5,
                                verify=str(certificate[0]))
    assert trusted.content == (RECORDINGS / INDICATOR_FILES["A020101"]).read_bytes()


def test_the_built_table_answer_lists_both_indicators_in_yuan():
    built = table_answer_built_from_indicator_answers(["A020101", "A020103"])
    assert built.source == "built: table from recorded A020101+A020103 for region 110000"
    answer = json.loads(built.body)
    assert answer["returncode"] == 200
    zb, reg, sj = answer["returndata"]["wdnodes"]
    assert [(n["code"], n["cname"], n["unit"]) for n in zb["nodes"]] == [
        ("A020101", "地区生产总值", "亿元"), ("A020103", "第二产业增加值", "亿元")]
    assert [n["code"] for n in reg["nodes"]] == ["110000"]
    assert len(sj["nodes"]) == 10
    cells = {node["code"]: node for node in answer["returndata"]["datanodes"]}
    assert len(cells) == 20
    assert cells["zb.A020101_reg.110000_sj.2021"]["data"]["data"] == 41045.63
    assert not cells["zb.A020103_reg.110000_sj.2023"]["data"]["hasdata"]
    with pytest.raises(ValueError):
        table_answer_built_from_indicator_answers(["A020102"])


def test_editing_helpers_start_from_recorded_answers():
    gdp = recorded_json(INDICATOR_FILES["A020101"])
    beijing = json.loads(with_cells(gdp, lambda node: "_reg.110000_" in node["code"]))
    assert len(beijing["returndata"]["datanodes"]) == 10
    assert beijing["returndata"]["hasdatacount"] == 9
    nothing = json.loads(all_unpublished(gdp))
    assert nothing["returndata"]["hasdatacount"] == 0
    assert all(not n["data"]["hasdata"] and n["data"]["strdata"] == ""
               for n in nothing["returndata"]["datanodes"])
    renamed = renamed_indicator(gdp, "A020101", unit="万元", new_code="A020199")
    assert renamed["returndata"]["wdnodes"][0]["nodes"][0]["unit"] == "万元"
    assert renamed["returndata"]["datanodes"][0]["code"].startswith("zb.A020199_reg.")
    assert renamed["returndata"]["datanodes"][0]["wds"][0]["valuecode"] == "A020199"
    assert gdp["returndata"]["wdnodes"][0]["nodes"][0]["unit"] == "亿元"  # the recording is untouched
    table = recorded_json(TABLE_FILE)
    assert [n["unit"] for n in table["returndata"]["wdnodes"][0]["nodes"]] == ["个"] * 11
