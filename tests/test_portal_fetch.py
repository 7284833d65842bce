"""`provpanel fetch` against a local stand-in of the NBS portal (tests/portal_server.py, on
127.0.0.1): the answers saved untouched with their manifest, the reader of the saved answers,
every failure mode (returncode, HTML page, 5xx, truncated body, time-out, TLS), the tree
matching (missing, two candidates, a seed code that disagrees), resumable runs, and the
fetched edition built into the panel. The real portal is never contacted."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil

import pytest
import yaml
from cli_helpers import SAMPLE_EDITIONS_DIR, copy_home, run_provpanel, run_provpanel_in_process
from portal_server import PortalServer, Series, answer, self_signed_certificate, small_portal

from provpanel.edition_manifest import load_manifest
from provpanel.editions import FETCH_MARKER, list_editions, unfinished_editions
from provpanel.errors import ExtractError, ManifestError
from provpanel.extracts import detect_format, read_extract
from provpanel.portal.client import PortalClient, PortalError, PortalSettings, PortalTLSError
from provpanel.portal.fetch import FetchError, fetch_edition

THREE = ["gdp", "trade_total", "exchange_rate"]


@pytest.fixture
def portal():
    with PortalServer(small_portal()) as server:
        yield server


def _client(server, *, retries: int = 2, timeout: float = 5.0, lines: list | None = None) -> PortalClient:
    settings = PortalSettings(url=server.url, delay=0, timeout=timeout, retries=retries, backoff=0)
    return PortalClient(settings, say=(lines.append if lines is not None else None))


def _fetch(server, root, edition="portal2026", indicators=THREE, years="2020-2021", **client_options):
    lines = client_options.pop("lines", [])
    return fetch_edition(edition, editions_root=root, indicators=indicators, years=years,
                         client=_client(server, lines=lines, **client_options), say=lines.append)


def _env(server) -> dict:
    return {"PROVPANEL_PORTAL_URL": server.url, "PROVPANEL_PORTAL_DELAY": "0", "PROVPANEL_PORTAL_BACKOFF": "0",
            "PROVPANEL_PORTAL_TIMEOUT": "5", "PROVPANEL_PORTAL_RETRIES": "2"}


# ---------------------------------------------------------------- a good fetch


def test_answers_are_saved_untouched_with_their_query_in_the_manifest(portal, tmp_path):
    result = _fetch(portal, tmp_path)
    folder = tmp_path / "portal2026"
    assert not (folder / FETCH_MARKER).exists()
    assert list_editions(tmp_path) == ["portal2026"]
    manifest = load_manifest(folder)
    entries = {entry.indicator: entry for entry in manifest.files}
    assert set(entries) == set(THREE) and sorted(result.files) == sorted(e.path for e in manifest.files)

    gdp = entries["gdp"]
    assert (gdp.portal_db, gdp.portal_code, gdp.portal_name, gdp.portal_unit) == ("fsnd", "A020101", "地区生产总值", "亿元")
    # trade by location of operating units, never the destination concept A060201
    assert (entries["trade_total"].portal_code, entries["trade_total"].portal_unit) == ("A060101", "千美元")
    assert portal.state.counts["data:fsnd:A060201"] == 0
    # the exchange rate comes from the national database, without a region dimension
    rate = entries["exchange_rate"]
    assert rate.portal_db == "hgnd" and "dbcode=hgnd" in rate.query and "rowcode=zb" in rate.query
    for entry in manifest.files:
        data = (folder / entry.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256
        assert entry.source_url == portal.url and entry.accessed.endswith("Z") and entry.years == (2020, 2021)
        assert "m=QueryData" in entry.query and entry.portal_code in entry.query
    # untouched: the very bytes the server sent
    expected = answer("fsnd", "A020101", portal.state.series[("fsnd", "A020101")], [2020, 2021])
    assert (folder / gdp.path).read_bytes() == json.dumps(expected, ensure_ascii=False).encode()
    assert manifest.published.isoformat() == max(e.accessed for e in manifest.files)[:10]


def test_reader_takes_data_unit_from_the_node_and_skips_hasdata_false(portal, tmp_path):
    _fetch(portal, tmp_path)
    folder = tmp_path / "portal2026"
    gdp_file = folder / "gdp_fsnd_A020101.json"
    assert detect_format(gdp_file) == "portal_json"
    values = {(v.province_code, v.year): v for v in read_extract(gdp_file)}
    # Guangdong 2021 is hasdata: false (data 0): a missing cell, not a zero
    assert ("44", 2021) not in values
    assert set(values) == {("00", 2020), ("00", 2021), ("11", 2020), ("11", 2021), ("44", 2020)}
    beijing = values[("11", 2021)]
    assert (beijing.indicator, beijing.value, beijing.unit, beijing.source_unit) == ("gdp", 40269.55, "cny_100m", "亿元")
    assert beijing.source_value == "40269.55" and beijing.source_col == 1
    # provenance: the data node's index and code
    nodes = json.loads(gdp_file.read_bytes())["returndata"]["datanodes"]
    assert nodes[beijing.source_row - 1]["code"] == beijing.sheet == "zb.A020101_reg.110000_sj.2021"

    trade = {(v.province_code, v.year): v for v in read_extract(folder / "trade_total_fsnd_A060101.json")}
    assert trade[("11", 2020)].value == pytest.approx(33647807.9576)  # 千美元 -> 万美元, full precision
    assert trade[("11", 2020)].source_value == "336478079.58"  # strdata, as displayed
    rates = read_extract(folder / "exchange_rate_hgnd_A060501.json")
    assert {(v.province_code, v.year, v.value, v.unit) for v in rates} == {
        ("00", 2020, 689.76, "cny_per_100usd"), ("00", 2021, 645.15, "cny_per_100usd")}


def test_reader_refuses_bad_answers_naming_the_file_and_place(tmp_path):
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps({"returncode": 501, "returndata": "参数错误"}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ExtractError, match="returncode: expected 200.*501"):
        read_extract(refused)
    series = small_portal().series[("fsnd", "A020101")]
    body = json.dumps(answer("fsnd", "A020101", series, [2020]), ensure_ascii=False).encode()
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(body[: len(body) // 2])
    assert detect_format(truncated) == "portal_json"
    with pytest.raises(ExtractError, match="truncated.json: whole file: expected a complete JSON answer"):
        read_extract(truncated)
    payload = answer("fsnd", "A020101", series, [2020])
    payload["returndata"]["datanodes"][1]["wds"][1]["valuecode"] = "990000"
    unknown = tmp_path / "unknown_region.json"
    unknown.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ExtractError, match=r"data node 2 \(zb.A020101_reg.110000_sj.2020\): expected a region code"):
        read_extract(unknown)
    del payload["returndata"]["datanodes"][1]["wds"][1]
    regionless = tmp_path / "regionless.json"
    regionless.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ExtractError, match=r"data node 2 .*: expected a region \(reg\) in wds"):
        read_extract(regionless)


def test_fetch_then_parse_from_the_command_line(portal, tmp_path):
    editions, home = tmp_path / "editions", tmp_path / "home"
    fetched = run_provpanel(["fetch", "portal2026", "--indicators", ",".join(THREE), "--years", "2020-2021"],
                            home=home, editions=editions, extra_env=_env(portal), timeout=120)
    assert fetched.returncode == 0, fetched.stderr
    assert "[1/3] gdp <- fsnd A020101" in fetched.stdout and "complete, 3 file(s)" in fetched.stdout
    parsed = run_provpanel(["parse", str(editions / "portal2026" / "gdp_fsnd_A020101.json"), "--include-national"],
                           home=home, editions=editions, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    rows = list(csv.DictReader(io.StringIO(parsed.stdout)))
    got = {(r["province_code"], r["year"]): (float(r["value"]), r["unit"], r["source_value"], r["sheet"]) for r in rows}
    assert got == {
        ("00", "2021"): (1143669.7, "cny_100m", "1143669.70", "zb.A020101_reg.000000_sj.2021"),
        ("00", "2020"): (1015986.2, "cny_100m", "1015986.20", "zb.A020101_reg.000000_sj.2020"),
        ("11", "2021"): (40269.55, "cny_100m", "40269.55", "zb.A020101_reg.110000_sj.2021"),
        ("11", "2020"): (36102.55, "cny_100m", "36102.55", "zb.A020101_reg.110000_sj.2020"),
        ("44", "2020"): (110760.94, "cny_100m", "110760.94", "zb.A020101_reg.440000_sj.2020"),
    }


# ---------------------------------------------------------------- failures of the portal


def test_non_200_returncode_is_an_error_naming_the_query(portal, tmp_path):
    portal.state.faults["A060101"] = ["returncode"]
    completed = run_provpanel(["fetch", "portal2026", "--indicators", "gdp,trade_total", "--years", "2020-2021"],
                              home=tmp_path / "home", editions=tmp_path, extra_env=_env(portal), timeout=120)
    assert completed.returncode == 1
    assert "provpanel fetch: the portal refused QueryData fsnd A060101 2020-2021" in completed.stderr
    assert "returncode 501" in completed.stderr and "参数错误" in completed.stderr
    assert portal.state.counts["data:fsnd:A060101"] == 1  # a refused code is not retried
    # what was saved is kept for a re-run, but the folder is no edition
    assert (tmp_path / "portal2026" / FETCH_MARKER).exists() and not (tmp_path / "portal2026" / "manifest.yml").exists()
    assert list_editions(tmp_path) == [] and unfinished_editions(tmp_path) == ["portal2026"]


@pytest.mark.parametrize("fault", ["html", "500", "truncated"])
def test_transient_answer_is_retried_then_succeeds(portal, tmp_path, fault):
    portal.state.faults["A020101"] = [fault]
    lines: list[str] = []
    _fetch(portal, tmp_path, indicators=["gdp"], lines=lines)
    assert portal.state.counts["data:fsnd:A020101"] == 2
    assert any("retry 1/2" in line for line in lines)
    values = read_extract(tmp_path / "portal2026" / "gdp_fsnd_A020101.json")
    assert len(values) == 5


def test_html_page_that_persists_is_a_clear_error(portal, tmp_path):
    portal.state.faults["A020101"] = ["html"] * 3
    with pytest.raises(PortalError, match=r"QueryData fsnd A020101 2020-2021 failed after 3 attempts .*HTML page "
                                          r"instead of JSON \('访问过于频繁'\).*re-run"):
        _fetch(portal, tmp_path, indicators=["gdp"])
    assert portal.state.counts["data:fsnd:A020101"] == 3
    assert list_editions(tmp_path) == []


def test_requests_wait_their_turn_and_back_off_exponentially(portal):
    portal.state.faults["A020101"] = ["500", "html"]
    waits: list[float] = []
    settings = PortalSettings(url=portal.url, delay=30.0, timeout=5, retries=3, backoff=4.0)
    client = PortalClient(settings, sleep=waits.append)
    client.tree("fsnd", "zb")
    client.query("fsnd", "A020101", "2020")
    # each attempt after the first waits its turn (30 s after the previous one: the fake sleep
    # lets no time pass); the retries are preceded by the back-off, 4 s then 8 s
    turns = [w for w in waits if w not in (4.0, 8.0)]
    assert [w for w in waits if w in (4.0, 8.0)] == [4.0, 8.0]
    assert len(turns) == 3 and all(29 < w <= 30 for w in turns)
    assert client.requests == 4 and portal.state.counts["data:fsnd:A020101"] == 3


def test_time_out_then_success(portal, tmp_path):
    portal.state.faults["A020101"] = ["slow"]
    portal.state.slow_seconds = 1.5
    lines: list[str] = []
    _fetch(portal, tmp_path, indicators=["gdp"], timeout=0.5, lines=lines)
    assert portal.state.counts["data:fsnd:A020101"] == 2
    assert any("no answer" in line and "retry 1/2" in line for line in lines)


def test_tls_verification_failure_says_how_to_give_a_ca_bundle(tmp_path):
    certificate = self_signed_certificate(tmp_path)
    with PortalServer(small_portal(), certificate=certificate) as server:
        assert server.url.startswith("https://127.0.0.1:")
        with pytest.raises(PortalTLSError, match="PROVPANEL_CA_BUNDLE=/path/to/ca-bundle.pem") as raised:
            _fetch(server, tmp_path / "editions", indicators=["gdp"])
        assert "never switches verification off" in str(raised.value)
        assert not (tmp_path / "editions" / "portal2026").exists()  # nothing was saved, no folder is left
        # given the bundle that verifies the chain, the same fetch completes
        settings = PortalSettings(url=server.url, delay=0, backoff=0, ca_bundle=str(certificate[0]))
        fetch_edition("portal2026", editions_root=tmp_path / "editions", indicators=["gdp"], years="2020-2021",
                      client=PortalClient(settings), say=lambda _m: None)
    assert list_editions(tmp_path / "editions") == ["portal2026"]


def test_ca_bundle_from_the_environment():
    settings = PortalSettings.from_env({"PROVPANEL_PORTAL_URL": "http://127.0.0.1:9/easyquery.htm",
                                        "PROVPANEL_CA_BUNDLE": "/etc/ssl/mine.pem", "PROVPANEL_PORTAL_DELAY": "0.5"})
    assert (settings.url, settings.ca_bundle, settings.delay) == ("http://127.0.0.1:9/easyquery.htm",
                                                                  "/etc/ssl/mine.pem", 0.5)
    assert PortalSettings.from_env({}).url == "https://data.stats.gov.cn/easyquery.htm"
    with pytest.raises(PortalError, match="no such file"):
        PortalClient(PortalSettings(url="https://127.0.0.1:9/", ca_bundle="/nonexistent/ca.pem"))


# ---------------------------------------------------------------- matching the catalog


def test_missing_and_ambiguous_indicators_are_reported_never_guessed(portal, tmp_path):
    result = _fetch(portal, tmp_path, indicators=["gdp", "va_tertiary", "patents_granted"])
    assert result.files == ["gdp_fsnd_A020101.json"]
    assert "2 candidate codes (A020104 '第三产业增加值', A020204 '第三产业增加值')" in result.not_fetched["va_tertiary"]
    assert "holds no indicator" in result.not_fetched["patents_granted"]
    assert portal.state.counts["data:fsnd:A020104"] == portal.state.counts["data:fsnd:A020204"] == 0
    notes = load_manifest(tmp_path / "portal2026").notes
    assert "va_tertiary" in notes and "patents_granted" in notes
    # nothing at all to fetch: no folder is left behind
    with pytest.raises(FetchError, match="nothing could be fetched"):
        _fetch(portal, tmp_path, edition="nothing", indicators=["patents_granted"])
    assert not (tmp_path / "nothing").exists()


def test_seed_code_whose_tree_name_or_unit_disagrees_is_reported(portal, tmp_path):
    state = portal.state
    # the portal reuses A060101 for the other trade concept: the reviewed code no longer holds
    state.trees["fsnd"]["A0601"][0]["name"] = "境内目的地和货源地进出口总额"
    # and gives GDP in another unit than the seed reviewed
    state.series[("fsnd", "A020101")] = Series("地区生产总值", "万元", {("110000", 2020): 361025500.0})
    result = _fetch(portal, tmp_path, indicators=["gdp", "trade_total", "exchange_rate"])
    assert "is '境内目的地和货源地进出口总额' in the tree, the seed says '经营单位所在地进出口总额'" in result.not_fetched["trade_total"]
    assert "'万元', the reviewed seed says '亿元'" in result.not_fetched["gdp"]
    assert result.files == ["exchange_rate_hgnd_A060501.json"]
    assert state.counts["data:fsnd:A060101"] == 0 and state.counts["data:fsnd:A060201"] == 0


def test_seed_rows_are_reviewed_labels_and_units_of_their_indicator():
    from provpanel import harmonise
    from provpanel.portal.tree import seed_codes

    seed = seed_codes()
    assert {(s.portal_code, s.indicator) for s in seed.values()} >= {("A020101", "gdp"), ("A060101", "trade_total")}
    assert all(s.portal_code not in {"A060201", "A080101"} for s in seed.values())
    for entry in seed.values():
        assert harmonise.resolve_indicator(entry.portal_name)[0] == entry.indicator
        harmonise.check_unit(entry.portal_unit, entry.indicator, file="seed", where=entry.portal_code)


# ---------------------------------------------------------------- resumable, never into an edition


def test_rerun_fetches_only_what_is_missing(portal, tmp_path):
    state = portal.state
    state.faults["A060101"] = ["html"] * 3
    with pytest.raises(PortalError, match="A060101"):
        _fetch(portal, tmp_path)
    folder = tmp_path / "portal2026"
    assert (folder / "gdp_fsnd_A020101.json").exists() and not (folder / "manifest.yml").exists()
    assert list_editions(tmp_path) == [] and unfinished_editions(tmp_path) == ["portal2026"]
    with pytest.raises(ManifestError, match="provpanel fetch portal2026"):
        load_manifest(folder)
    before = dict(state.counts)

    lines: list[str] = []
    _fetch(portal, tmp_path, indicators=None, years=None, lines=lines)
    assert any("resuming" in line and "1 answer(s) already saved" in line for line in lines)
    fetched_again = {key: state.counts[key] - before.get(key, 0) for key in state.counts if state.counts[key] != before.get(key, 0)}
    assert fetched_again == {"data:fsnd:A060101": 1, "data:hgnd:A060501": 1}  # no tree, no gdp again
    assert list_editions(tmp_path) == ["portal2026"] and not (folder / FETCH_MARKER).exists()
    assert [e.indicator for e in load_manifest(folder).files] == THREE


def test_fetch_killed_halfway_resumes_where_it_stopped(portal, tmp_path):
    import os
    import subprocess
    import time

    from cli_helpers import PROVPANEL_BIN

    state = portal.state
    state.faults["A060101"] = ["slow"]  # the second answer hangs: the process is killed meanwhile
    state.slow_seconds = 20
    env = {**os.environ, **_env(portal), "PROVPANEL_PORTAL_TIMEOUT": "60", "PROVPANEL_EDITIONS": str(tmp_path),
           "PROVPANEL_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([PROVPANEL_BIN, "fetch", "portal2026", "--indicators", ",".join(THREE),
                                "--years", "2020-2021"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while state.counts["data:fsnd:A060101"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert state.counts["data:fsnd:A060101"] == 1, "the fetch never reached the second answer"
    finally:
        process.kill()
        process.wait(timeout=30)
    folder = tmp_path / "portal2026"
    assert (folder / "gdp_fsnd_A020101.json").exists() and (folder / FETCH_MARKER).exists()
    assert list_editions(tmp_path) == []

    _fetch(portal, tmp_path, indicators=None, years=None)
    assert (state.counts["data:fsnd:A020101"], state.counts["data:fsnd:A060101"], state.counts["data:hgnd:A060501"]) \
        == (1, 2, 1)
    assert [e.indicator for e in load_manifest(folder).files] == THREE


def test_rerun_with_other_options_and_existing_editions_are_refused(portal, tmp_path):
    portal.state.faults["A060101"] = ["html"] * 3
    with pytest.raises(PortalError):
        _fetch(portal, tmp_path)
    with pytest.raises(FetchError, match="unfinished fetch of gdp,trade_total,exchange_rate"):
        _fetch(portal, tmp_path, indicators=["gdp"])
    with pytest.raises(FetchError, match="unfinished fetch of the years 2020-2021"):
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

    _fetch(portal, tmp_path, indicators=["gdp"])
    path = tmp_path / "portal2026" / "gdp_fsnd_A020101.json"
    path.write_bytes(path.read_bytes().replace(b"40269.55", b"40269.56"))
    with pytest.raises(ExtractError, match="gdp_fsnd_A020101.json: whole file: expected the bytes the manifest's sha256"):
        read_edition(tmp_path / "portal2026")


def test_manifest_fetch_keys_are_validated(portal, tmp_path):
    _fetch(portal, tmp_path, indicators=["gdp"])
    manifest_path = tmp_path / "portal2026" / "manifest.yml"
    good = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    for key, bad, expected in [("accessed", "2026-12-01 09:00", "a UTC time"), ("sha256", "abc", "64 lowercase"),
                               ("source_url", "ftp://x", "an http")]:
        broken = json.loads(json.dumps(good))
        broken["files"][0][key] = bad
        manifest_path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ManifestError, match=f"files\\[0\\].{key}: expected {expected}"):
            load_manifest(tmp_path / "portal2026")


# ---------------------------------------------------------------- the UI's job


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
            "edition": "portal2026", "indicators": "gdp,exchange_rate", "years": "2020-2021"}}}},
    )
    assert result.success
    assert result.output_for_node("fetch_edition_from_portal") == str(tmp_path / "editions" / "portal2026")
    assert [e.portal_code for e in load_manifest(tmp_path / "editions" / "portal2026").files] == ["A020101", "A060501"]
    failed = job.execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False,
        run_config={"ops": {"fetch_edition_from_portal": {"config": {"edition": "portal2026"}}}},
    )
    assert not failed.success


# ---------------------------------------------------------------- fetch -> build -> panel


def test_fetched_edition_revises_the_panel(sample_build, tmp_path):
    """The sample editions plus a fetched one published later: its GDP revises the panel
    (vintage policy `latest`); an unfinished fetch beside them is skipped with a message. The
    home is a copy of the sample build: the sample editions are stored, the fetched one is new."""
    from provpanel.edition_read import read_edition
    from provpanel.warehouse import open_warehouse

    editions, home = tmp_path / "editions", copy_home(sample_build[0], tmp_path / "home")
    for name in ("csy2021", "csy2022"):
        shutil.copytree(SAMPLE_EDITIONS_DIR / name, editions / name)
    sample = read_edition(editions / "csy2022")
    sample_gdp = sample[(sample.indicator == "gdp") & (sample.province_code.isin(["11", "44"]))
                       & (sample.year.isin([2020, 2021]))]
    revised = {(row.province_code, int(row.year)): round(row.value * 1.002, 2) for row in sample_gdp.itertuples()}
    state = small_portal()
    state.series[("fsnd", "A020101")] = Series("地区生产总值", "亿元",
                                                {(f"{p}0000", y): v for (p, y), v in revised.items()})
    with PortalServer(state) as server:
        fetched = run_provpanel(["fetch", "portal2026", "--indicators", "gdp", "--years", "2020-2021"],
                                home=home, editions=editions, extra_env=_env(server), timeout=120)
        assert fetched.returncode == 0, fetched.stderr
        state.faults["A020101"] = ["returncode"]
        unfinished = run_provpanel(["fetch", "portal2027", "--indicators", "gdp", "--years", "2020-2021"],
                                   home=home, editions=editions, extra_env=_env(server), timeout=120)
        assert unfinished.returncode == 1

    built = run_provpanel_in_process(["build"], home=home, editions=editions)
    assert built.returncode == 0, f"STDOUT:\n{built.stdout}\nSTDERR:\n{built.stderr}"
    assert "skipped portal2027: its fetch has not finished" in built.stderr
    with open_warehouse(home / "published" / "provpanel.duckdb", read_only=True) as con:
        panel = {(p, y): g for p, y, g in con.execute(
            "select province_code, year, gdp from marts.province_year_panel "
            "where province_code in ('11', '44') and year in (2020, 2021)").fetchall()}
        provenance = con.execute(
            "select file, sheet, source_row, source_value from raw.extract_values "
            "where edition = 'portal2026' and province_code = '11' and year = 2020").fetchall()
        editions_stored = [r[0] for r in con.execute("select edition from raw.editions order by 1").fetchall()]
    assert panel == pytest.approx(revised)
    assert editions_stored == ["csy2021", "csy2022", "portal2026"]
    assert provenance[0][0] == "gdp_fsnd_A020101.json" and provenance[0][1] == "zb.A020101_reg.110000_sj.2020"
    assert provenance[0][3] == f"{revised[('11', 2020)]:.2f}"
