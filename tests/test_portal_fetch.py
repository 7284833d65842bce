"""`provpanel fetch` against a stand-in of the NBS portal that answers with the recorded real
answers of `shared/data/portal_recorded/` (tests/portal_replay.py, on 127.0.0.1): the two-step
lookup (table -> indicator by name and unit -> all provinces), what is reported instead of
fetched (a refused table or code, nothing published, two candidates, a unit that disagrees,
FDI not in the portal), the firewall (challenge, captcha, 403), the session (cookies, headers),
resuming, and one fetch built into the published panel. Answers no recording holds are built
from recorded ones, and the tests using them say so in their names. The real portal is never
contacted."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import time

import pytest
import yaml
from cli_helpers import PROVPANEL_BIN, SAMPLE_EDITIONS_DIR, run_provpanel, run_provpanel_in_process
from portal_replay import (
    RECORDINGS,
    Recorded,
    RecordedPortal,
    all_unpublished,
    recorded_json,
    recording,
    renamed_indicator,
    self_signed_certificate,
    table_answer_built_from_indicator_answers,
)

from provpanel.edition_manifest import load_manifest
from provpanel.editions import FETCH_MARKER, list_editions, unfinished_editions
from provpanel.errors import ExtractError, ManifestError
from provpanel.extracts import detect_format, read_extract
from provpanel.portal.client import (
    PortalBlocked,
    PortalClient,
    PortalError,
    PortalSettings,
    PortalTLSError,
)
from provpanel.portal.fetch import FetchError, fetch_edition
from provpanel.portal.lookup import Finder, Learned
from provpanel.portal.seed import SeedEntry, seed_entries

GDP_FILE = "fsnd_A020101_reg_all_LAST10_2024-05.json"
VA2_FILE = "fsnd_A020103_reg_all_LAST10_2024-05.json"
YEARS = "2014-2022"  # what the recorded answers publish (2023 is hasdata false)


def _key(m, db, code, rowcode=None, region=None):
    return (m, db, rowcode, code, region) if m == "QueryData" else (m, db, None, code, None)


def _table_key(db, table, region="110000"):
    return _key("QueryData", db, table, "zb", region if db.startswith("fs") else None)


def _indicator_key(db, code):
    return _key("QueryData", db, code, "zb" if db.startswith("hg") else "reg")


def _json_answer(payload: dict | bytes, source: str) -> Recorded:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return Recorded(200, [("Content-Type", "application/json;charset=UTF-8")], body, source)


@pytest.fixture
def portal():
    """The recorded answers, plus the one the two-step lookup of GDP needs and no recording
    holds: table A0201 for Beijing, built from the recorded indicator answers."""
    extra = {_table_key("fsnd", "A0201"): table_answer_built_from_indicator_answers(["A020101", "A020103"])}
    with RecordedPortal(extra=extra) as server:
        yield server


def _client(server, *, retries: int = 2, timeout: float = 5.0, deadline: float = 60.0,
            lines: list | None = None) -> PortalClient:
    settings = PortalSettings(url=server.url, delay=0, timeout=timeout, deadline=deadline, retries=retries,
                              backoff=0)
    return PortalClient(settings, say=(lines.append if lines is not None else None))


def _fetch(server, root, edition="portal2026", indicators=("gdp", "va_secondary"), years=YEARS, **options):
    lines = options.pop("lines", [])
    return fetch_edition(edition, editions_root=root, indicators=list(indicators) if indicators else None,
                         years=years, client=_client(server, lines=lines, **options), say=lines.append)


def _env(server) -> dict:
    return {"PROVPANEL_PORTAL_URL": server.url, "PROVPANEL_PORTAL_DELAY": "0", "PROVPANEL_PORTAL_BACKOFF": "0",
            "PROVPANEL_PORTAL_TIMEOUT": "5", "PROVPANEL_PORTAL_RETRIES": "2"}


def _recorded_cells(name: str) -> dict[tuple[str, int], tuple[float, str]]:
    """(province, year) -> (data, strdata) of the published cells of a recorded answer."""
    cells = {}
    for node in recorded_json(name)["returndata"]["datanodes"]:
        if node["data"]["hasdata"]:
            dims = {d["wdcode"]: d["valuecode"] for d in node["wds"]}
            cells[(dims["reg"][:2], int(dims["sj"]))] = (node["data"]["data"], node["data"]["strdata"])
    return cells


# ---------------------------------------------------------------- two steps, on recorded answers


def test_gdp_and_value_added_in_two_steps_on_recorded_answers_and_a_table_built_from_them(portal, tmp_path):
    result = _fetch(portal, tmp_path, indicators=("gdp", "va_secondary", "va_primary", "population"))
    folder = tmp_path / "portal2026"
    assert list_editions(tmp_path) == ["portal2026"] and not (folder / FETCH_MARKER).exists()
    # the table once for both indicators, then each indicator for every province
    assert portal.count("QueryData", "A0201") == 1
    assert portal.count("QueryData", "A020101") == portal.count("QueryData", "A020103") == 1
    table_request = next(r for r in portal.requests if r.key == _table_key("fsnd", "A0201"))
    assert table_request.form["rowcode"] == "zb" and "110000" in table_request.form["wds"]
    gdp_request = next(r for r in portal.requests if r.key == _indicator_key("fsnd", "A020101"))
    assert gdp_request.form["rowcode"] == "reg" and json.loads(gdp_request.form["dfwds"]) == [
        {"wdcode": "zb", "valuecode": "A020101"}, {"wdcode": "sj", "valuecode": YEARS}]

    manifest = load_manifest(folder)
    entries = {entry.indicator: entry for entry in manifest.files}
    assert sorted(entries) == ["gdp", "va_secondary"] == sorted(e.indicator for e in manifest.files)
    gdp = entries["gdp"]
    assert (gdp.portal_db, gdp.portal_table, gdp.portal_code, gdp.portal_name, gdp.portal_unit) == (
        "fsnd", "A0201", "A020101", "地区生产总值", "亿元")
    assert gdp.keep_years == (2014, 2022) and "confirmed in the table by name and unit" in gdp.notes
    assert (folder / gdp.path).read_bytes() == (RECORDINGS / GDP_FILE).read_bytes()  # untouched
    assert hashlib.sha256((folder / gdp.path).read_bytes()).hexdigest() == gdp.sha256

    # value added primary is not in the (built) table: reported with the table's indicators;
    # population's table A0301 is not recorded, so the stand-in refuses it as the portal does
    assert set(result.not_fetched) == {"va_primary", "population"}
    assert "A020102 is not in table A0201" in result.not_fetched["va_primary"]
    assert "A020101 '地区生产总值' (亿元)" in result.not_fetched["va_primary"]
    assert "returncode 501" in result.not_fetched["population"]
    assert "未能找到符合查询条件的信息" in result.not_fetched["population"]
    assert "va_primary" in manifest.notes and "population" in manifest.notes


def test_fetched_values_are_the_portals_full_precision_for_the_years_asked(portal, tmp_path):
    from provpanel.edition_read import read_edition

    _fetch(portal, tmp_path, indicators=("gdp", "va_secondary"), years="2016-2021")
    values = read_edition(tmp_path / "portal2026")
    for indicator, name in (("gdp", GDP_FILE), ("va_secondary", VA2_FILE)):
        recorded = {key: cell for key, cell in _recorded_cells(name).items() if 2016 <= key[1] <= 2021}
        stored = values[values.indicator == indicator]
        got = {(r.province_code, int(r.year)): (r.value, r.source_value) for r in stored.itertuples()}
        assert got == recorded and len(got) == 31 * 6
    beijing = values[(values.indicator == "gdp") & (values.province_code == "11") & (values.year == 2021)].iloc[0]
    assert (beijing.value, beijing.source_value, beijing.unit) == (41045.63, "41045.6", "cny_100m")
    assert beijing.sheet == "zb.A020101_reg.110000_sj.2021"


def test_a_refused_table_listing_leaves_a_reviewed_code_to_be_confirmed_in_its_own_answer(tmp_path):
    """No recording of table A0201 for one region: the portal refuses it. GDP's reviewed code
    is then asked for every province and kept only because the recorded answer names it
    地区生产总值 in 亿元; the same answer under another name is not saved."""
    with RecordedPortal() as server:
        result = _fetch(server, tmp_path, indicators=("gdp",))
        gdp = load_manifest(tmp_path / "portal2026").files[0]
        assert (gdp.portal_code, gdp.portal_name, gdp.portal_unit) == ("A020101", "地区生产总值", "亿元")
        assert "the table's listing was refused" in gdp.notes and "confirmed by name and unit in its own" in gdp.notes
        assert result.not_fetched == {}
        server.answers[_indicator_key("fsnd", "A020101")] = _json_answer(
            renamed_indicator(recorded_json(GDP_FILE), "A020101", cname="国民总收入"),
            "built: the recorded GDP answer, its indicator renamed")
        with pytest.raises(FetchError, match="A020101 as '国民总收入' \\(亿元\\), expected '地区生产总值'"):
            _fetch(server, tmp_path, edition="renamed", indicators=("gdp",))
        assert not (tmp_path / "renamed").exists()


def test_a_real_table_answer_lists_its_indicators_with_code_name_and_unit(tmp_path):
    """The recorded table A0101 (asked for Guangxi) is what step 1 reads: every indicator of
    the table with its code, name and unit; the indicators never appear in the tree."""
    extra = {_table_key("fsnd", "A0101"): recording("fsnd_table_A0101_reg450000_sj2009-2018.json")}
    with RecordedPortal(extra=extra) as server:
        learned = Learned()
        listing = learned.table(_client(server), "fsnd", "A0101", "2009-2018")
    assert listing["indicators"][0] == {"code": "A010101", "name": "地级区划数", "unit": "个"}
    assert [n["code"] for n in listing["indicators"]] == [
        "A010101", "A010102", "A010103", "A010104", "A010105", "A010106", "A010107", "A010108", "A010109",
        "A01010A", "A01010B"]
    assert all(n["unit"] == "个" for n in listing["indicators"])
    assert list(learned.data) == ["table fsnd A0101 2009-2018"]


def _entry(**changes) -> SeedEntry:
    base = {"indicator": "exports", "portal_db": "fsnd", "table_code": "A0201", "table_name": "地区生产总值",
            "portal_code": "", "portal_name": "经营单位所在地出口总额", "portal_unit": "千美元",
            "confidence": "table", "evidence": "test"}
    return SeedEntry(**{**base, **changes})


def _built_table(*nodes: tuple[str, str, str]) -> Recorded:
    """Table A0201 built from the recorded indicator answers, its indicators renamed."""
    answer = json.loads(table_answer_built_from_indicator_answers(["A020101", "A020103"]).body)
    for code, cname, unit in nodes:
        answer = renamed_indicator(answer, code, cname=cname, unit=unit)
    return _json_answer(answer, "built: table A0201 with renamed indicators")


def test_two_candidates_in_a_table_built_from_recorded_answers_are_listed_never_guessed(tmp_path):
    table = _built_table(("A020101", "经营单位所在地出口总额", "千美元"), ("A020103", "出口总额", "千美元"))
    with RecordedPortal(extra={_table_key("fsnd", "A0201"): table}) as server:
        plan = Finder(_client(server), Learned(), YEARS).plan("exports", _entry())
        assert plan.portal_code is None
        assert "2 candidates for exports: A020101 '经营单位所在地出口总额' (千美元), A020103 '出口总额' (千美元)" \
            in plan.problem
        assert server.count("QueryData", "A020101") == 0  # nothing asked for all provinces


def test_a_unit_that_disagrees_in_a_table_built_from_recorded_answers_is_reported(tmp_path):
    table = _built_table(("A020101", "地区生产总值", "万元"))
    with RecordedPortal(extra={_table_key("fsnd", "A0201"): table}) as server:
        result = _fetch(server, tmp_path, indicators=("gdp", "va_secondary"))
        assert "the portal gives A020101 '地区生产总值' in '万元'" in result.not_fetched["gdp"]
        assert "says '亿元'" in result.not_fetched["gdp"]
        assert [e.indicator for e in load_manifest(tmp_path / "portal2026").files] == ["va_secondary"]
        assert server.count("QueryData", "A020101") == 0
    # a code known only by table: the name matches but the unit is of another dimension
    table = _built_table(("A020103", "经营单位所在地出口总额", "万人"))
    with RecordedPortal(extra={_table_key("fsnd", "A0201"): table}) as server:
        plan = Finder(_client(server), Learned(), YEARS).plan("exports", _entry(portal_unit=""))
        assert "A020103 '经营单位所在地出口总额' in '万人': expected" in plan.problem


def test_a_code_the_portal_refuses_is_reported_and_the_others_are_fetched(portal, tmp_path):
    # no recording of A020103 for all provinces: the stand-in answers the recorded 501
    del portal.answers[_indicator_key("fsnd", "A020103")]
    lines: list[str] = []
    result = _fetch(portal, tmp_path, indicators=("va_secondary", "gdp"), lines=lines)
    assert result.files == ["gdp_fsnd_A020101.json"]
    assert "the portal refused QueryData fsnd A020103 2014-2022: returncode 501" in result.not_fetched["va_secondary"]
    assert any("not fetched: va_secondary" in line for line in lines)
    assert portal.count("QueryData", "A020103") == 1  # a refusal is not retried


def test_an_all_unpublished_answer_built_from_a_recorded_one_is_not_a_success(portal, tmp_path):
    portal.answers[_indicator_key("fsnd", "A020103")] = _json_answer(
        all_unpublished(recorded_json(VA2_FILE)), "built: A020103 with every cell hasdata false")
    result = _fetch(portal, tmp_path, indicators=("gdp", "va_secondary"))
    assert result.files == ["gdp_fsnd_A020101.json"]
    assert "nothing published for 2014-2022" in result.not_fetched["va_secondary"]
    assert not (tmp_path / "portal2026" / "va_secondary_fsnd_A020103.json").exists()
    # the recorded answer's unpublished current year alone is nothing published either
    with pytest.raises(FetchError, match="(?s)nothing could be fetched.*gdp: nothing published for 2023: no cell"):
        _fetch(portal, tmp_path, edition="only2023", indicators=("gdp",), years="2023")
    assert not (tmp_path / "only2023").exists()


def test_fdi_actually_used_is_not_in_the_portal_and_never_aliased(portal, tmp_path):
    result = _fetch(portal, tmp_path, indicators=("gdp", "fdi_actual"))
    assert result.files == ["gdp_fsnd_A020101.json"]
    assert result.not_fetched["fdi_actual"].startswith("not in the portal's fsnd tables: ")
    assert "provincial statistical yearbooks" in result.not_fetched["fdi_actual"]
    assert not any("A0604" in str(r.form) for r in portal.requests)


# ---------------------------------------------------------------- tables per base period (recorded tree)


def test_tables_per_base_period_are_chosen_by_the_years_asked_in_the_recorded_tree():
    """The recorded hgyd tree lists the CPI table once per base period: A010101 (2016-2020),
    A01010G (2021-2025), A01010J (2026-)."""
    entry = _entry(indicator="exchange_rate", portal_db="hgyd", table_code="A010101",
                   table_name="全国居民消费价格分类指数(上年同月=100)", portal_name="x", portal_unit="")
    with RecordedPortal() as server:
        plan = Finder(_client(server), learned := Learned(), "2022-2024").plan("exchange_rate", entry)
        assert (plan.table_code, plan.table_name) == ("A01010G", "全国居民消费价格分类指数(上年同月=100)(2021-2025)")
        assert "chosen for the years 2022-2024" in plan.how and "A01010J" in plan.how
        later = Finder(_client(server), Learned(), "2027-2028").plan("exchange_rate", entry)
        assert later.table_code == "A01010J"
        spanning = Finder(_client(server), Learned(), "2019-2022").plan("exchange_rate", entry)
        assert "none covers the years asked 2019-2022" in spanning.problem and "--years" in spanning.problem
        assert "tree hgyd A0101" in learned.data


def test_a_table_that_moved_is_reported_with_the_candidates_of_the_recorded_tree():
    entry = _entry(portal_db="hgyd", table_code="A0101ZZ", table_name="全国居民消费价格分类指数(上年同月=100)")
    with RecordedPortal() as server:
        plan = Finder(_client(server), Learned(), "2022").plan("exports", entry)
    assert "the reviewed table A0101ZZ" in plan.problem and "is not in the hgyd tree under A0101" in plan.problem
    assert "A01010G '全国居民消费价格分类指数(上年同月=100)(2021-2025)'" in plan.problem


# ---------------------------------------------------------------- the session and the firewall


def test_requests_are_posted_like_the_recorded_clients_and_cookies_are_sent_back(portal, tmp_path):
    _fetch(portal, tmp_path, indicators=("gdp",))
    first, *later = portal.requests
    assert all(r.method == "POST" for r in portal.requests)
    for request in portal.requests:
        assert request.headers["x-requested-with"] == "XMLHttpRequest"
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert request.headers["referer"] == f"{portal.url}?cn=E0103"  # the fsnd page
        assert "Mozilla/5.0" in request.headers["user-agent"]
    assert "cookie" not in first.headers
    # the recorded answers set JSESSIONID and u: every later request sends them back
    assert later and all("JSESSIONID=" in r.headers["cookie"] and "u=" in r.headers["cookie"] for r in later)


def test_json_is_read_by_its_bytes_whatever_the_content_type_says(portal, tmp_path):
    recorded = portal.answers[_indicator_key("fsnd", "A020101")]
    portal.answers[_indicator_key("fsnd", "A020101")] = Recorded(
        200, [("Content-Type", "text/html;charset=UTF-8")], recorded.body, "built: the recorded GDP answer as text/html")
    portal.add_content_type = False
    result = _fetch(portal, tmp_path, indicators=("gdp",))
    assert result.files == ["gdp_fsnd_A020101.json"] and portal.count("QueryData", "A020101") == 1


def test_an_answer_of_the_wrong_shape_is_one_line_naming_the_query(portal, tmp_path):
    """A body the portal never sent (built): `datanodes` a string. One line, no traceback."""
    portal.answers[_indicator_key("fsnd", "A020101")] = _json_answer(
        {"returncode": 200, "returndata": {"datanodes": "oops", "wdnodes": []}}, "built: datanodes of the wrong type")
    completed = run_provpanel(["fetch", "shape", "--indicators", "gdp", "--years", YEARS], home=tmp_path / "home",
                              editions=tmp_path / "editions", extra_env=_env(portal), timeout=120)
    assert completed.returncode == 1
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert ("QueryData fsnd A020101 2014-2022: expected returndata with the lists datanodes and wdnodes, found "
            in completed.stderr) and '"oops"' in completed.stderr


def test_user_agent_is_a_setting():
    assert PortalSettings.from_env({"PROVPANEL_PORTAL_USER_AGENT": "my-lab/1.0"}).user_agent == "my-lab/1.0"


def test_a_made_up_challenge_page_slows_down_then_the_recorded_answer_is_saved(portal, tmp_path):
    portal.faults.extend(["challenge", "challenge"])
    lines: list[str] = []
    waits: list[float] = []
    settings = PortalSettings(url=portal.url, delay=0, timeout=5, retries=2, backoff=3.0)
    client = PortalClient(settings, say=lines.append, sleep=waits.append)
    fetch_edition("portal2026", editions_root=tmp_path, indicators=["gdp"], years=YEARS, client=client,
                  say=lines.append)
    assert any("firewall challenge page" in line and "retry 1/2 in 3 s, then one request every 1 s" in line
               for line in lines)
    assert any("retry 2/2 in 6 s, then one request every 2 s" in line for line in lines)
    assert client.delay == 2  # slowed down: the pause doubled at each challenge
    assert 3.0 in waits and 6.0 in waits and any(1.5 < w <= 2 for w in waits)  # back-off, then the longer pause
    assert (tmp_path / "portal2026" / "gdp_fsnd_A020101.json").read_bytes() == (RECORDINGS / GDP_FILE).read_bytes()


@pytest.mark.parametrize(("fault", "said"), [("403", "refused this client (HTTP 403"),
                                             ("captcha", "answered with a captcha page")])
def test_403_and_captcha_stop_at_once_saying_what_to_do(portal, tmp_path, fault, said):
    portal.faults.extend(["none", fault])  # the tree answers, then the firewall blocks the table
    with pytest.raises(PortalBlocked) as raised:
        _fetch(portal, tmp_path, indicators=("gdp",))
    message = str(raised.value)
    assert said in message and "QueryData fsnd table A0201" in message
    for advice in ("re-run the same command, it resumes", "mainland China", "download the tables by hand",
                   "docs/portal.md"):
        assert advice in message
    assert len(portal.requests) == 2  # not retried
    # what was learned is kept: the resumed fetch does not ask the tree again
    assert unfinished_editions(tmp_path) == ["portal2026"]
    _fetch(portal, tmp_path, indicators=None, years=None)
    assert portal.count("getTree") == 1 and list_editions(tmp_path) == ["portal2026"]


def test_retry_after_is_honoured_and_a_dribbling_answer_is_cut_off(portal, tmp_path):
    portal.faults.extend(["none", "none", "503-retry-after"])
    started = time.monotonic()
    _fetch(portal, tmp_path, indicators=("gdp",))
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert portal.count("QueryData", "A020101") == 2

    portal.dribble_interval = 0.3
    portal.faults.extend(["none", "none", "dribble"])
    lines: list[str] = []
    _fetch(portal, tmp_path, edition="second", indicators=("gdp",), deadline=1.0, lines=lines)
    assert any("longer than 1 s" in line for line in lines)


def test_tls_verification_failure_says_how_to_give_a_ca_bundle(tmp_path):
    certificate = self_signed_certificate(tmp_path)
    extra = {_table_key("fsnd", "A0201"): table_answer_built_from_indicator_answers(["A020101", "A020103"])}
    with RecordedPortal(certificate=certificate, extra=extra) as server:
        assert server.url.startswith("https://127.0.0.1:")
        with pytest.raises(PortalTLSError, match="PROVPANEL_CA_BUNDLE=/path/to/ca-bundle.pem") as raised:
            _fetch(server, tmp_path / "editions", indicators=("gdp",))
        assert "never switches verification off" in str(raised.value)
        assert not (tmp_path / "editions" / "portal2026").exists()  # nothing was saved, no folder is left
        settings = PortalSettings(url=server.url, delay=0, backoff=0, ca_bundle=str(certificate[0]))
        fetch_edition("portal2026", editions_root=tmp_path / "editions", indicators=["gdp"], years=YEARS,
                      client=PortalClient(settings), say=lambda _m: None)
    assert list_editions(tmp_path / "editions") == ["portal2026"]


def test_settings_from_the_environment():
    settings = PortalSettings.from_env({"PROVPANEL_PORTAL_URL": "http://127.0.0.1:9/easyquery.htm",
                                        "PROVPANEL_CA_BUNDLE": "/etc/ssl/mine.pem", "PROVPANEL_PORTAL_DELAY": "0.5",
                                        "PROVPANEL_PORTAL_DEADLINE": "7"})
    assert (settings.url, settings.ca_bundle, settings.delay, settings.deadline) == (
        "http://127.0.0.1:9/easyquery.htm", "/etc/ssl/mine.pem", 0.5, 7.0)
    assert PortalSettings.from_env({}).url == "https://data.stats.gov.cn/easyquery.htm"
    with pytest.raises(PortalError, match="no such file"):
        PortalClient(PortalSettings(url="https://127.0.0.1:9/", ca_bundle="/nonexistent/ca.pem"))
    with pytest.raises(PortalError, match="PROVPANEL_PORTAL_DELAY='x': expected a number"):
        PortalSettings.from_env({"PROVPANEL_PORTAL_DELAY": "x"})


def test_requests_wait_their_turn(portal):
    waits: list[float] = []
    settings = PortalSettings(url=portal.url, delay=30.0, timeout=5, retries=0, backoff=0)
    client = PortalClient(settings, sleep=waits.append)
    client.tree("fsnd", "A02")
    client.table("fsnd", "A0201", YEARS)
    client.query("fsnd", "A020101", YEARS)
    assert len(waits) == 2 and all(29 < w <= 30 for w in waits)
    assert client.requests == 3


# ---------------------------------------------------------------- the seed


def test_seed_covers_every_catalog_indicator_and_agrees_with_the_public_evidence():
    from provpanel import harmonise

    seed = seed_entries()
    assert set(seed) == set(harmonise.catalog())
    evidence = list(csv.DictReader((RECORDINGS / "codes_evidence.tsv").open(encoding="utf-8"), delimiter="\t"))
    high = {(row["dbcode"], row["code"]): row for row in evidence if row["confidence"].startswith("high")
            and len(row["code"]) == 7}
    for entry in seed.values():
        if entry.confidence == "high":
            row = high[(entry.portal_db, entry.portal_code)]  # every reviewed code was seen with name and unit
            assert (row["portal_name"], row["unit"]) == (entry.portal_name, entry.portal_unit)
            assert harmonise.resolve_indicator(entry.portal_name)[0] == entry.indicator
    assert seed["fdi_actual"].confidence == "not_in_portal"
    assert all(e.portal_code not in {"A060201", "A080101"} for e in seed.values())
    assert {e.indicator for e in seed.values() if e.confidence == "high"} == {
        "gdp", "va_primary", "va_secondary", "va_tertiary", "trade_total", "fiscal_expenditure", "population"}


# ---------------------------------------------------------------- resumable, never into an edition


def test_fetch_killed_halfway_resumes_without_asking_the_tree_or_tables_again(portal, tmp_path):
    portal.faults.extend(["none", "none", "none", "slow"])  # tree, table, gdp, then va_secondary hangs
    portal.slow_seconds = 30
    env = {**os.environ, **_env(portal), "PROVPANEL_PORTAL_TIMEOUT": "60", "PROVPANEL_EDITIONS": str(tmp_path),
           "PROVPANEL_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([PROVPANEL_BIN, "fetch", "portal2026", "--indicators", "gdp,va_secondary",
                                "--years", YEARS], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while portal.count("QueryData", "A020103") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert portal.count("QueryData", "A020103") == 1, "the fetch never reached the second answer"
    finally:
        process.kill()
        process.wait(timeout=30)
    folder = tmp_path / "portal2026"
    assert (folder / "gdp_fsnd_A020101.json").exists() and (folder / FETCH_MARKER).exists()
    assert list_editions(tmp_path) == []
    before = len(portal.requests)

    lines: list[str] = []
    _fetch(portal, tmp_path, indicators=None, years=None, lines=lines)
    assert [r.key for r in portal.requests[before:]] == [_indicator_key("fsnd", "A020103")]
    assert any("resuming" in line and "1 answer(s) already saved" in line for line in lines)
    assert [e.indicator for e in load_manifest(folder).files] == ["gdp", "va_secondary"]


def test_rerun_with_other_options_and_existing_editions_are_refused(portal, tmp_path):
    portal.faults.extend(["none", "none", "none", "403"])
    with pytest.raises(PortalBlocked):
        _fetch(portal, tmp_path)
    with pytest.raises(FetchError, match="unfinished fetch of gdp,va_secondary"):
        _fetch(portal, tmp_path, indicators=("gdp",))
    with pytest.raises(FetchError, match="unfinished fetch of the years 2014-2022"):
        _fetch(portal, tmp_path, years="2001-2021")
    _fetch(portal, tmp_path)  # completes

    folder = tmp_path / "portal2026"
    snapshot = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(FetchError, match="exists and is not an unfinished fetch.*never into an existing one"):
        _fetch(portal, tmp_path)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == snapshot
    shutil.copytree(SAMPLE_EDITIONS_DIR / "csy2021", tmp_path / "csy2021")
    with pytest.raises(FetchError, match="exists"):
        _fetch(portal, tmp_path, edition="csy2021")
    assert not (tmp_path / "csy2021" / FETCH_MARKER).exists()


def test_changed_bytes_of_a_fetched_answer_are_refused_on_ingest(portal, tmp_path):
    from provpanel.edition_read import read_edition

    _fetch(portal, tmp_path, indicators=("gdp",))
    path = tmp_path / "portal2026" / "gdp_fsnd_A020101.json"
    path.write_bytes(path.read_bytes().replace(b"41045.63", b"41045.64"))
    with pytest.raises(ExtractError, match="gdp_fsnd_A020101.json: whole file: expected the bytes the manifest's sha256"):
        read_edition(tmp_path / "portal2026")


def test_manifest_fetch_keys_are_validated(portal, tmp_path):
    _fetch(portal, tmp_path, indicators=("gdp",))
    manifest_path = tmp_path / "portal2026" / "manifest.yml"
    good = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    for key, bad, expected in [("accessed", "2026-12-01 09:00", "a UTC time"), ("sha256", "abc", "64 lowercase"),
                               ("source_url", "ftp://x", "an http"), ("keep_years", [2022, 2014], r"\[first year")]:
        broken = json.loads(json.dumps(good))
        broken["files"][0][key] = bad
        manifest_path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ManifestError, match=f"files\\[0\\].{key}: expected {expected}"):
            load_manifest(tmp_path / "portal2026")


# ---------------------------------------------------------------- the command line and the UI's job


def test_fetch_then_parse_from_the_command_line(portal, tmp_path):
    editions, home = tmp_path / "editions", tmp_path / "home"
    fetched = run_provpanel(["fetch", "portal2026", "--indicators", "gdp,va_secondary,fdi_actual",
                             "--years", "2020-2021"], home=home, editions=editions, extra_env=_env(portal),
                            timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    assert "at most 4 request(s): 1 tree folder(s), 1 table(s), 2 indicator(s)" in fetched.stdout
    assert "[1/3] gdp <- fsnd table A0201, A020101 '地区生产总值' (亿元): 62 values for 2020-2021" in fetched.stdout
    assert "not fetched: fdi_actual: not in the portal" in fetched.stdout
    path = editions / "portal2026" / "gdp_fsnd_A020101.json"
    assert detect_format(path) == "portal_json"
    parsed = run_provpanel(["parse", str(path)], home=home, editions=editions, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    rows = list(csv.DictReader(io.StringIO(parsed.stdout)))
    # parse reads the whole answer, every year the portal sent (the edition keeps 2020-2021)
    assert {(r["province_code"], r["year"], r["value"], r["source_value"]) for r in rows
            if r["province_code"] == "11" and r["year"] == "2021"} == {("11", "2021", "41045.63", "41045.6")}
    assert len(read_extract(path)) == 31 * 9


def test_fetch_job_in_the_definitions_writes_an_edition(portal, tmp_path, monkeypatch):
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    for key, value in _env(portal).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PROVPANEL_EDITIONS", str(tmp_path / "editions"))
    job = defs.resolve_job_def("fetch_portal_edition")
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        run_config={"ops": {"fetch_edition_from_portal": {"config": {
            "edition": "portal2026", "indicators": "gdp,va_secondary", "years": YEARS}}}},
    )
    assert result.success
    assert result.output_for_node("fetch_edition_from_portal") == str(tmp_path / "editions" / "portal2026")
    assert [e.portal_code for e in load_manifest(tmp_path / "editions" / "portal2026").files] == ["A020101", "A020103"]
    failed = job.execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False,
        run_config={"ops": {"fetch_edition_from_portal": {"config": {"edition": "portal2026"}}}},
    )
    assert not failed.success
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    assert "exists and is not an unfinished fetch" in str(failure.event_specific_data.error_display_string)


# ---------------------------------------------------------------- fetch -> build -> panel


@pytest.mark.slow
def test_fetch_build_publish_on_recorded_answers(portal, tmp_path):
    """The fetched edition alone, built: the published panel's GDP is the portal's full
    precision, traced to the answer's data node."""
    from provpanel.warehouse import open_warehouse

    editions, home = tmp_path / "editions", tmp_path / "home"
    fetched = run_provpanel(["fetch", "portal2026", "--indicators", "gdp,va_secondary", "--years", "2014-2021"],
                            home=home, editions=editions, extra_env=_env(portal), timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    built = run_provpanel_in_process(["build"], home=home, editions=editions)
    assert built.returncode == 0, f"STDOUT:\n{built.stdout}\nSTDERR:\n{built.stderr}"
    with open_warehouse(home / "published" / "provpanel.duckdb", read_only=True) as con:
        panel = {(p, y): (g, v2) for p, y, g, v2 in con.execute(
            "select province_code, year, gdp, va_secondary from marts.province_year_panel "
            "where year between 2014 and 2021").fetchall()}
        provenance = con.execute(
            "select file, sheet, source_value, value from raw.extract_values "
            "where edition = 'portal2026' and indicator = 'gdp' and province_code = '11' and year = 2021").fetchall()
        years = con.execute("select min(year), max(year) from raw.extract_values").fetchone()
    gdp, va2 = _recorded_cells(GDP_FILE), _recorded_cells(VA2_FILE)
    expected = {key: (gdp[key][0], va2[key][0]) for key in gdp if 2014 <= key[1] <= 2021 and key[0] in
                {p for p, _ in panel}}
    assert {key: panel[key] for key in expected} == expected and len(expected) == 30 * 8
    assert provenance == [("gdp_fsnd_A020101.json", "zb.A020101_reg.110000_sj.2021", "41045.6", 41045.63)]
    assert years == (2014, 2021)  # 2022 and the unpublished 2023 of the answer are not stored
