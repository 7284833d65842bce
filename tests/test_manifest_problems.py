"""Every problem of a manifest in one pass (issue 25 §5, issue 26 §4): one line each, naming
the manifest, the key and what was expected; a build reports every edition's at once."""

from __future__ import annotations

import pickle

import pytest
import yaml
from cli_helpers import run_provpanel_in_process
from test_editions import PORTAL_CURRENT, base_manifest, make_edition

from provpanel.edition_manifest import load_manifest
from provpanel.errors import ManifestError

TOP_KEYS = ("edition, exceptions, files, notes, published, published_reason, revisions, source, supersedes, "
            "title")
FILE_KEYS = ("accessed, breakdown, columns, indicator, keep_years, notes, path, portal_code, portal_db, "
             "portal_name, portal_table, portal_table_name, portal_unit, query, sha256, sheets, source_url, "
             "unit, years")


def problem_lines(folder) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    lines = str(caught.value).split("\n")
    prefix = f"{folder / 'manifest.yml'}: manifest key "
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix):] for line in lines]


def test_every_problem_of_a_manifest_is_reported_in_one_pass(tmp_path):
    manifest = base_manifest() | {"edition": "csy2022", "colour": "blue"}
    manifest["files"][0]["unit"] = "gallons"
    manifest["files"][1]["sheets"]["GDP "]["indicator"] = "GDP"
    manifest["exceptions"] = [{"check": "parts_sum", "indicator": "gdp", "years": [2020, 2021],
                               "provinces": ["北京", "Atlantis", "Lilliput"], "reason": "as printed"}]
    folder = make_edition(tmp_path, manifest)
    (folder / "unlisted.csv").write_text(PORTAL_CURRENT, encoding="utf-8")
    lines = problem_lines(folder)
    assert sorted(lines) == sorted([
        "edition: expected the folder name 'csy2021', found 'csy2022'",
        "files[0].unit: expected a unit listed in unit_factors.csv (e.g. 亿元, 万人, 件), found 'gallons'",
        lines[2],  # the catalog's codes, checked below
        "exceptions[0].provinces[1]: expected a province name or code, found 'Atlantis'",
        "exceptions[0].provinces[2]: expected a province name or code, found 'Lilliput'",
        f"colour: expected one of the keys {TOP_KEYS}, found 'colour'",
        "files: expected every data file of the folder listed, found 'unlisted.csv' not listed",
    ])
    assert lines[2].startswith("files[1].sheets['GDP '].indicator: expected a catalog indicator code (gdp, ")
    assert lines[2].endswith(", found 'GDP'")


def test_one_problem_is_one_line_as_before(tmp_path):
    manifest = base_manifest()
    manifest["files"][0]["years"] = [2020, 2019]
    with pytest.raises(ManifestError) as caught:
        load_manifest(make_edition(tmp_path, manifest))
    assert str(caught.value) == (f"{tmp_path / 'csy2021' / 'manifest.yml'}: manifest key files[0].years: "
                                 "expected [first year, last year], e.g. [2011, 2021], found [2020, 2019]")


def test_several_problems_cross_processes_whole(tmp_path):
    """Dagster's processes pickle the error: every line arrives, and the first one's parts."""
    manifest = base_manifest() | {"title": "", "source": ["a", "list"]}
    with pytest.raises(ManifestError) as caught:
        load_manifest(make_edition(tmp_path, manifest))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and str(copy).count("\n") == 1
    assert (copy.where, copy.expected, copy.found) == ("manifest key title", "non-empty text", "''")


@pytest.mark.parametrize("where, typo, allowed", [
    ((), "titel", TOP_KEYS),
    ((), 2021, TOP_KEYS),  # a key YAML reads as a number
    (("files", 0), "indicatr", FILE_KEYS),
    (("files", 1, "sheets", "GDP "), "unti", "indicator, notes, unit"),
    (("files", 1, "columns"), "yaer", "indicator, province, unit, value, year"),
    (("files", 1, "breakdown"), "colum", "column, value"),
    (("revisions", 0), "years_", "indicator, reason, years"),
    (("exceptions", 0), "province", "check, indicator, provinces, reason, years"),
])
def test_a_key_typo_lists_the_allowed_keys(tmp_path, where, typo, allowed):
    manifest = base_manifest() | {
        "revisions": [{"indicator": "gdp", "years": [2013, 2018], "reason": "census"}],
        "exceptions": [{"check": "parts_sum", "indicator": "gdp", "years": [2020, 2021], "reason": "as printed"}],
    }
    manifest["files"][1] |= {"columns": {"province": "p"}, "breakdown": {"column": "c"}}
    part = manifest
    for step in where:
        part = part[step]
    part[typo] = "x"
    place = "".join(f"[{step}]" if isinstance(step, int) else f"['{step}']" if step == "GDP " else f".{step}"
                    for step in where).lstrip(".")
    place = f"{place}.{typo}" if place else typo
    assert problem_lines(make_edition(tmp_path, manifest)) == [
        f"{place}: expected one of the keys {allowed}, found '{typo}'"]


def _write(folder, manifest: dict) -> None:
    (folder / "manifest.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")


def test_a_build_reports_every_problem_of_every_manifest_in_one_run(tmp_path):
    """Three problems in two manifests: one `provpanel build` names all three, and stores nothing,
    not even the good edition beside them. (Not slow: the build ends before dbt; about 5 s.)"""
    editions = tmp_path / "editions"
    make_edition(editions, base_manifest() | {"edition": "csy2019"}, name="csy2019")  # a good one
    first = make_edition(editions, base_manifest() | {"edition": "csy2020"}, name="csy2020")
    second = make_edition(editions)
    broken = base_manifest() | {"edition": "csy2020", "title": ""}
    broken["files"][0]["unit"] = "gallons"
    _write(first, broken)
    broken = base_manifest()
    broken["files"][1]["sheets"]["GDP "]["unti"] = "亿元"
    _write(second, broken)

    completed = run_provpanel_in_process(["build"], home=tmp_path / "home", editions=editions)
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stderr.split("\n") == [
        "provpanel build: edition csy2020 failed, nothing stored for it:",
        f"  {first / 'manifest.yml'}: manifest key title: expected non-empty text, found ''",
        (f"  {first / 'manifest.yml'}: manifest key files[0].unit: expected a unit listed in unit_factors.csv "
        "(e.g. 亿元, 万人, 件), found 'gallons'"),
        "provpanel build: edition csy2021 failed, nothing stored for it:",
        (f"  {second / 'manifest.yml'}: manifest key files[1].sheets['GDP '].unti: expected one of the keys "
        "indicator, notes, unit, found 'unti'"),
        "",
    ]
    assert not (tmp_path / "home" / "published").exists()
    assert "csy2019" not in completed.stdout  # not ingested: the build stopped at the manifests
