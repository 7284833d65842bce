"""Unit slips (x10 ... x10,000, either way) in one cell, one province's series or a whole file are
caught by the indicator suite, which names the edition, file, province, year and bound; a
revision beyond the stated share blocks unless the revising edition's manifest declares it.

Most cases run the suite on the sample's raw values with a slip applied (fast, many cases);
three builds show that a slip stops the publication end to end."""

from __future__ import annotations

import hashlib
import re
import shutil

import duckdb
import pandas as pd
import pytest
import yaml
from cli_helpers import run_provpanel_in_process

from expectations.indicator_suite import (
    CHECKS,
    DECLARED_REVISION_COLUMNS,
    failing_cells,
    failure_lines,
    prepare_indicator_frame,
    validate_indicators,
)
from provpanel.config import SAMPLE_EDITIONS_DIR
from provpanel.edition_diff import edition_diff
from provpanel.edition_manifest import load_manifest
from provpanel.edition_read import read_edition
from provpanel.errors import ManifestError
from provpanel.publish import published_path

PUBLISHED = {"csy2021": "2021-12-31", "csy2022": "2022-12-31"}
SLIPPED_INDICATORS = ["gdp", "trade_total", "fdi_actual", "fiscal_expenditure", "population", "patents_granted",
                      "optical_cable_length"]
GUANGDONG = "44"


@pytest.fixture(scope="module")
def sample_values() -> pd.DataFrame:
    return pd.concat([read_edition(SAMPLE_EDITIONS_DIR / edition) for edition in PUBLISHED], ignore_index=True)


def _meets_another_edition(values: pd.DataFrame, edition: str, indicator: str, province: str) -> bool:
    """Whether the province's series in `edition` has a value of another edition within the
    suite's year gap (3) of its first or last year: the year-on-year check can compare them."""
    own = values[(values["edition"] == edition) & (values["indicator"] == indicator)
                 & (values["province_code"] == province) & values["value"].notna()]["year"]
    other = values[(values["edition"] != edition) & (values["indicator"] == indicator)
                   & (values["province_code"] == province) & values["value"].notna()]["year"]
    return any(abs(o - edge) <= 3 and not own.between(min(o, edge) + 1, max(o, edge) - 1).any()
               for o in other for edge in (own.min(), own.max()) if o not in set(own))


def _slip(values: pd.DataFrame, edition: str, indicator: str, factor: float, scope: str,
          province: str = GUANGDONG) -> tuple[pd.DataFrame, pd.Series]:
    """The values with one slip applied, and the mask of the slipped rows. A series slip hits
    Guangdong, unless Guangdong's series in that edition meets no other edition's values (empty
    cells): then the first province whose series does (see test_a_series_no_other_edition_meets)."""
    of_file = (values["edition"] == edition) & (values["indicator"] == indicator) & values["value"].notna()
    if scope == "file":
        mask = of_file
    else:
        given = sorted(set(values.loc[of_file, "province_code"]) - {"00"})
        if scope == "series":
            given = [p for p in given if _meets_another_edition(values, edition, indicator, p)]
        chosen = province if province in given else given[0]
        mask = of_file & (values["province_code"] == chosen)
        if scope == "cell":
            years = sorted(values.loc[mask, "year"])
            mask &= values["year"] == years[len(years) // 2]
    assert mask.any() and values.loc[mask, "file"].nunique() == 1
    slipped = values.copy()
    slipped.loc[mask, "value"] *= factor
    return slipped, mask


def test_a_series_no_other_edition_meets_is_judged_against_the_other_provinces_and_its_pair(sample_values):
    """Guangdong's patents stop in 2019 in csy2021 and are empty in csy2022: nothing to compare its
    series with over time. Against the other provinces (patents per person lie 200x apart) its
    series /10 stays inside the bounds (Guangdong is far above the median); the same edition's
    applications do not let it pass (ratio_pair), and x10 and x10,000 leave both."""
    assert not _meets_another_edition(sample_values, "csy2021", "patents_granted", GUANGDONG)
    mask = ((sample_values["edition"] == "csy2021") & (sample_values["indicator"] == "patents_granted")
            & (sample_values["province_code"] == GUANGDONG))
    for factor, across_provinces in [(1 / 10, False), (10, True), (10_000, True), (1 / 10_000, True)]:
        slipped = sample_values.copy()
        slipped.loc[mask, "value"] *= factor
        cells = failing_cells(validate_indicators(slipped, PUBLISHED))
        assert {row["province_code"] for row in cells} == {GUANGDONG}
        assert any(row["check"] == "ratio_pair" for row in cells)
        assert any(row["check"] == "ratio_to_median" for row in cells) == across_provinces
        assert {row["check"] for row in cells} <= {"ratio_pair", "ratio_to_median", "per_unit_ratio"}


def test_the_sample_passes(sample_values):
    outcome = validate_indicators(sample_values, PUBLISHED)
    assert outcome.success, failure_lines(outcome)
    frame = prepare_indicator_frame(sample_values, PUBLISHED)
    # every catalog indicator of province scope is checked year on year or across provinces
    assert set(frame["indicator"]) == set(sample_values.loc[
        sample_values["in_catalog"] & (sample_values["indicator"] != "exchange_rate"), "indicator"])
    assert set(frame["check"]) == set(CHECKS)


@pytest.mark.parametrize("indicator", SLIPPED_INDICATORS)
@pytest.mark.parametrize("edition", ["csy2021", "csy2022"])
@pytest.mark.parametrize("scope", ["cell", "series", "file"])
# 168 runs of the suite: the x10 slips stay in `make test-fast`, the other factors run in `make test`
@pytest.mark.parametrize("factor", [10, *(pytest.param(f, marks=pytest.mark.slow) for f in (10_000, 1 / 10, 1 / 10_000))])
def test_a_slip_is_caught_with_its_place_named(sample_values, indicator, edition, scope, factor):
    slipped, mask = _slip(sample_values, edition, indicator, factor, scope)
    outcome = validate_indicators(slipped, PUBLISHED)
    assert not outcome.success
    file = slipped.loc[mask, "file"].iloc[0]
    years = set(slipped.loc[mask, "year"])
    provinces = set(slipped.loc[mask, "province_code"]) | {"all"}
    named = [row for row in failing_cells(outcome)
             if row["edition"] == edition and row["file"] == file and row["indicator"] == indicator
             and row["province_code"] in provinces and row["year"] in years]
    assert named, failure_lines(outcome)
    assert all("thresholds.yml indicators." in row["bound"] for row in named)
    lines = failure_lines(outcome, limit=10_000)
    assert any(line.startswith(f"{edition}/{file}: ") and "failing cells (" in line for line in lines)
    row = named[0]
    assert any(line.startswith(f"{edition}/{file}") and f"province {row['province_code']}, year {row['year']}, "
               f"{indicator} = " in line and f"outside {row['bound']}" in line for line in lines)


def test_a_fiscal_file_read_in_wan_yuan_names_every_province(sample_values):
    """The manifest says 万元 for a file in 亿元: every value falls 10,000x."""
    slipped, mask = _slip(sample_values, "csy2022", "fiscal_expenditure", 1 / 10_000, "file")
    cells = failing_cells(validate_indicators(slipped, PUBLISHED))
    yoy = {row["province_code"] for row in cells if row["check"] == "yoy_ratio" and row["edition"] == "csy2022"}
    assert yoy >= set(slipped.loc[mask & (slipped["province_code"] != "00"), "province_code"]) - {"54"}
    assert any(row["check"] == "median_ratio" and row["year"] == 2021 for row in cells)


def _declared(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=DECLARED_REVISION_COLUMNS)


@pytest.mark.parametrize("factor", [1.6, 1.45])
def test_an_undeclared_revision_blocks_and_a_declared_one_passes(sample_values, factor):
    """csy2022 restates GDP 2017-2020: Guangdong's restated series +60 % blocks unless declared;
    +45 % (a census restatement can reach that) is within the stated share."""
    mask = ((sample_values["edition"] == "csy2022") & (sample_values["indicator"] == "gdp")
            & (sample_values["province_code"] == GUANGDONG) & sample_values["year"].between(2017, 2020))
    # the census restates the sectors with GDP, so the sectors still sum to it
    sectors = ((sample_values["edition"] == "csy2022") & sample_values["indicator"].str.startswith("va_")
               & (sample_values["province_code"] == GUANGDONG) & sample_values["year"].between(2017, 2020))
    revised = sample_values.copy()
    revised.loc[mask | sectors, "value"] *= factor
    cells = failing_cells(validate_indicators(revised, PUBLISHED))
    if factor < 1.5:
        assert not cells
        return
    cells = [row for row in cells if row["indicator"] == "gdp"]
    assert cells and {row["check"] for row in cells} == {"revision_ratio"}
    assert {(row["edition"], row["province_code"], row["indicator"]) for row in cells} == {
        ("csy2022", GUANGDONG, "gdp")}
    assert {row["year"] for row in cells} == set(revised.loc[mask & revised["value"].notna(), "year"])
    assert all(row["compared_edition"] == "csy2021" for row in cells)

    declared = _declared(*[("csy2022", name, 2017, 2020, "fourth economic census")
                           for name in ("gdp", "va_primary", "va_secondary", "va_tertiary")])
    outcome = validate_indicators(revised, PUBLISHED, declared)
    assert outcome.success, failure_lines(outcome)
    # a declaration covers only its indicator and years
    other = _declared(("csy2022", "gdp", 2017, 2018, "census"), *[
        ("csy2022", name, 2017, 2020, "census") for name in ("va_primary", "va_secondary", "va_tertiary")])
    assert {row["year"] for row in failing_cells(validate_indicators(revised, PUBLISHED, other))} == {2019, 2020}


def test_absent_indicators_and_empty_cells_are_not_checked(sample_values):
    partial = sample_values[~sample_values["indicator"].isin(["population", "fdi_actual"])
                            & sample_values["value"].notna()]
    outcome = validate_indicators(partial, PUBLISHED)
    assert outcome.success, failure_lines(outcome)


def test_manifest_revisions_key_is_validated_and_stored(tmp_path):
    edition = tmp_path / "csy2022"
    shutil.copytree(SAMPLE_EDITIONS_DIR / "csy2022", edition)
    manifest = yaml.safe_load((edition / "manifest.yml").read_text(encoding="utf-8"))
    manifest["revisions"] = [{"indicator": "gdp", "years": [2017, 2020], "reason": "fourth economic census"}]
    (edition / "manifest.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    revision = load_manifest(edition).revisions[0]
    assert (revision.indicator, revision.years, revision.reason) == ("gdp", (2017, 2020), "fourth economic census")
    for bad, key in [({"indicator": "gdpp", "years": [2017, 2020], "reason": "x"}, "revisions[0].indicator"),
                     ({"indicator": "gdp", "years": [2020, 2017], "reason": "x"}, "revisions[0].years"),
                     ({"indicator": "gdp", "years": [2017, 2020]}, "revisions[0].reason"),
                     ({"indicator": "gdp", "years": [2017, 2020], "reason": "x", "share": 2}, "revisions[0].share")]:
        manifest["revisions"] = [bad]
        (edition / "manifest.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ManifestError) as err:
            load_manifest(edition)
        assert key in str(err.value) and "manifest.yml" in str(err.value)


# ---------------------------------------------------------------- end to end (three builds)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_built_home(sample_build, tmp_path):
    built_home, _ = sample_build
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    editions = tmp_path / "editions"
    shutil.copytree(SAMPLE_EDITIONS_DIR, editions)
    return home, editions


def _edit_manifest(edition_dir, change) -> None:
    path = edition_dir / "manifest.yml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _new_edition_with_guangdong_gdp_scaled(editions, factor: float, *, whole_series: bool = False,
                                           revisions=None, exceptions=None) -> None:
    """csy2023: csy2022 again, but its GDP file gives Guangdong x factor and has no national row,
    so the provinces-to-national check cannot see it. `whole_series`: the file restates every
    year, 2001-2021 (the earlier editions' values), as a census revision of the whole series does."""
    new = editions / "csy2023"
    shutil.copytree(editions / "csy2022", new)
    path = new / "分省年度数据.csv"
    lines = path.read_bytes().decode("gb18030").split("\r\n")
    if whole_series:
        values = pd.concat([read_edition(editions / e) for e in ("csy2021", "csy2022")])
        gdp = values[(values["indicator"] == "gdp") & (values["province_code"] != "00")]
        # the file's row of each province (1-based lines), and the latest edition's value of each cell
        code_of_row = dict(gdp.loc[gdp["edition"] == "csy2022", ["source_row", "province_code"]]
                           .drop_duplicates().itertuples(index=False))
        latest = gdp.sort_values("edition").drop_duplicates(["province_code", "year"], keep="last")
        by_cell = latest.set_index(["province_code", "year"])["value"]
        years = list(range(2021, 2000, -1))
        body = []
        for row, line in enumerate(lines, start=1):
            if row in code_of_row:
                cells = [by_cell.get((code_of_row[row], year)) for year in years]
                body.append(",".join([line.split(",")[0], *("" if v is None else f"{v:.2f}" for v in cells)]))
        lines = [lines[0], lines[1], "时间：2001-2021", "地区," + ",".join(f"{y}年" for y in years), *body,
                 "数据来源：国家统计局", ""]
    edited = []
    for line in lines:
        if line.startswith("全国,"):
            continue
        if line.startswith("广东省,"):
            name, *cells = line.split(",")
            line = ",".join([name, *[f"{float(c) * factor:.2f}" if c else c for c in cells]])
        edited.append(line)
    path.write_bytes("\r\n".join(edited).encode("gb18030"))

    def change(manifest):
        manifest.update(edition="csy2023", published="2023-12-31")
        if whole_series:
            next(f for f in manifest["files"] if f["path"] == "分省年度数据.csv")["years"] = [2001, 2021]
        if revisions:
            manifest["revisions"] = revisions
        if exceptions:
            manifest["exceptions"] = exceptions
    _edit_manifest(new, change)


def test_fiscal_file_declared_in_wan_yuan_stops_the_publication(sample_build, tmp_path):
    home, editions = _copy_built_home(sample_build, tmp_path)

    def fiscal_in_wan_yuan(manifest):
        entry = next(f for f in manifest["files"] if f.get("indicator") == "fiscal_expenditure")
        entry["unit"] = "万元"
    _edit_manifest(editions / "csy2022", fiscal_in_wan_yuan)
    published_before = _sha256(published_path(home))

    # csy2022 is already ingested: its changed manifest is re-read only when the user says so
    completed = run_provpanel_in_process(["build", "--accept-changes"], home=home, editions=editions)

    assert completed.returncode == 1, completed.stderr
    # stopped at ingest, before dbt: the edition's re-read values are not stored
    assert "edition csy2022: the indicator suite failed; nothing was stored" in completed.stderr, completed.stderr
    assert "csy2022/分省年度数据 (7).csv: province" in completed.stderr and "year 2021" in completed.stderr
    assert "fiscal_expenditure" in completed.stderr and "thresholds.yml indicators." in completed.stderr
    assert "Traceback" not in completed.stderr
    assert _sha256(published_path(home)) == published_before


def test_new_edition_with_a_provinces_gdp_times_ten_is_blocked(sample_build, tmp_path):
    home, editions = _copy_built_home(sample_build, tmp_path)
    _new_edition_with_guangdong_gdp_scaled(editions, 10)
    published_before = _sha256(published_path(home))

    completed = run_provpanel_in_process(["build"], home=home, editions=editions)

    assert completed.returncode == 1, completed.stderr
    assert "edition csy2023: the indicator suite failed; nothing was stored" in completed.stderr
    # named both ways: against the earlier editions' cells and against its own sectors' sum
    summary = re.search(r"csy2023/分省年度数据\.csv: \d+ failing cells \(([^)]*)\)", completed.stderr)
    assert summary and {"parts_sum", "revision_ratio"} <= {part.split()[0] for part in summary.group(1).split(", ")}
    assert "csy2023/分省年度数据.csv: province 44, year 2017, gdp = " in completed.stderr
    assert "over gdp [0.99, 1.01]" in completed.stderr and ", gap " in completed.stderr
    assert _sha256(published_path(home)) == published_before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        stored = [row[0] for row in con.execute("SELECT edition FROM raw.editions ORDER BY 1").fetchall()]
        assert con.execute("SELECT count(*) FROM raw.extract_values WHERE edition = 'csy2023'").fetchone() == (0,)
    assert stored == ["csy2021", "csy2022"]


def test_new_edition_with_a_declared_revision_is_published(sample_build, tmp_path):
    home, editions = _copy_built_home(sample_build, tmp_path)
    _new_edition_with_guangdong_gdp_scaled(
        editions, 1.6, whole_series=True,
        revisions=[{"indicator": "gdp", "years": [2001, 2021], "reason": "economic census"}],
        exceptions=[{"check": "parts_sum", "indicator": "gdp", "years": [2001, 2021], "provinces": ["广东"],
                     "reason": "GDP restated by the census, the sectors not yet"}])

    completed = run_provpanel_in_process(["build"], home=home, editions=editions)

    assert completed.returncode == 0, completed.stderr
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        assert con.execute("SELECT edition, indicator, first_year, last_year FROM raw.declared_revisions"
                           ).fetchall() == [("csy2023", "gdp", 2001, 2021)]
        assert con.execute("SELECT edition, check_name, indicator, province_code FROM raw.declared_exceptions"
                           ).fetchall() == [("csy2023", "parts_sum", "gdp", GUANGDONG)]
        diff = edition_diff(con, "csy2023")
    assert set(diff.large_revisions["province_code"]) == {GUANGDONG} and diff.large_revisions["declared"].all()
    assert "GDP restated by the census, the sectors not yet" in diff.to_markdown()


# ---------------------------------------------------------------- real downloads

@pytest.mark.real_data
def test_real_downloads_pass_the_indicator_suite(tmp_path):
    """Real growth and real revisions (Tianjin's GDP cut by 28 % in 2018, Sichuan with and without
    Chongqing, patents booms) stay inside the bounds; a x10 slip in one of them does not."""
    from real_editions import REAL_FILES, write_real_editions

    root = write_real_editions(tmp_path / "editions")
    values = pd.concat([read_edition(root / edition) for edition in sorted({r.edition for r in REAL_FILES})],
                       ignore_index=True)
    published = {real.edition: real.published for real in REAL_FILES}
    outcome = validate_indicators(values, published)
    assert outcome.success, failure_lines(outcome)
    patents = (values["file"] == "patents_granted_2011-2025.csv") & (values["province_code"] == GUANGDONG)
    slipped = values.copy()
    slipped.loc[patents & (slipped["year"] == 2016), "value"] *= 10
    cells = failing_cells(validate_indicators(slipped, published))
    assert {(row["province_code"], row["year"]) for row in cells} >= {(GUANGDONG, 2016), (GUANGDONG, 2017)}
