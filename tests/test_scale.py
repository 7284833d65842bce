"""The scale benchmark's larger panels: the generator's prefecture and county units, a
geography folder (PROVPANEL_GEOGRAPHY) in place of the provinces seed, and the whole pipeline
on a small geography of that kind."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import duckdb
import pytest
from cli_helpers import run_provpanel_in_process

from provpanel import harmonise
from provpanel.config import REPO_ROOT, SEEDS_DIR
from provpanel.errors import ExtractError

SCRIPT = REPO_ROOT / "scripts" / "generate_sample.py"
sys.path.insert(0, str(SCRIPT.parent))
import synthetic_sample as generator


@pytest.mark.parametrize(("level", "expected"), [("prefecture", 300), ("county", 2790)])
def test_scale_levels_have_the_stated_number_of_units_with_codes_of_their_province(level, expected):
    units = generator.scale_units(level)
    codes = [unit.province.code for unit in units]
    assert len(units) == expected
    assert len(set(codes)) == expected
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    parents = {p.code for p in generator.PROVINCES if p.region != "tibet"}
    assert {code[:2] for code in codes} == parents  # every panel province, Tibet left out
    if level == "prefecture":
        assert all(code.endswith("00") for code in codes)
    names = [unit.province.name_zh for unit in units]
    assert len(set(names)) == expected


def test_geography_files_have_the_seed_columns_and_every_spelling():
    units = generator.scale_units("prefecture", per_province=3)
    files = generator.geography_files(units)
    seed_header = (SEEDS_DIR / "provinces.csv").read_text(encoding="utf-8").splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(files["provinces.csv"].decode())))
    assert files["provinces.csv"].decode().splitlines()[0] == seed_header
    assert [row["province_code"] for row in rows] == [unit.province.code for unit in units]
    assert {row["coastal"] for row in rows} <= {"true", "false"}
    aliases = list(csv.DictReader(io.StringIO(files["province_aliases.csv"].decode())))
    by_alias = {row["alias"]: row["province_code"] for row in aliases}
    for unit in units:
        for spelling in (unit.province.name_zh, unit.province.short_zh, unit.province.name_en):
            assert by_alias[spelling] == unit.province.code
    assert by_alias["全国"] == "00"


def test_scale_needs_an_output_folder():
    completed = subprocess.run([sys.executable, str(SCRIPT), "--scale", "county"],
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2
    assert "--scale needs --out" in completed.stderr


def test_harmonisation_reads_the_geography_folder(tmp_path, monkeypatch):
    units = generator.scale_units("prefecture", per_province=2)
    for name, content in generator.geography_files(units).items():
        (tmp_path / name).write_bytes(content)
    monkeypatch.setenv("PROVPANEL_GEOGRAPHY", str(tmp_path))
    harmonise.clear_caches()
    try:
        first = units[0].province
        assert harmonise.lookup_province(first.name_zh) == first.code
        assert harmonise.lookup_province("全国") == "00"
        assert harmonise.panel_unit_codes() == tuple(unit.province.code for unit in units)
        # a province name is not a unit of this geography: the error names the folder's table
        with pytest.raises(ExtractError) as raised:
            harmonise.resolve_province("北京市", file="x.csv", where="line 3")
        assert str(tmp_path / "province_aliases.csv") in str(raised.value)
    finally:
        monkeypatch.delenv("PROVPANEL_GEOGRAPHY")
        harmonise.clear_caches()
    assert harmonise.lookup_province("北京市") == "11"


@pytest.mark.slow  # a full build
def test_the_pipeline_builds_a_panel_of_sub_provincial_units(tmp_path):
    """Two prefectures per province (60 units): ingest, dbt, checks, analysis, publication."""
    generator.write_scale("prefecture", tmp_path / "scale", per_province=2)
    geography = tmp_path / "scale" / "geography"
    home = tmp_path / "home"
    completed = run_provpanel_in_process(["build", "--quiet"], home=home, editions=tmp_path / "scale" / "editions",
                              extra_env={"PROVPANEL_GEOGRAPHY": str(geography)})
    assert completed.returncode == 0, f"build failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    expected_units = {unit.province.code for unit in generator.scale_units("prefecture", per_province=2)}
    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        panel_units = {row[0] for row in con.execute(
            "select distinct province_code from marts.province_year_panel").fetchall()}
        rows = con.execute("select count(*) from marts.province_year_panel").fetchone()[0]
        fitted = con.execute("select nobs, n_clusters from analysis.fit where model_id = '2'").fetchall()
    assert panel_units == expected_units
    assert rows == 60 * 21
    assert fitted == [(60 * 21, 60)]  # Model 2 on every unit-year, clustered by unit
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_geography__panel_units").fetchone()[0] == 60
        raw_codes = {row[0] for row in con.execute("select distinct province_code from raw.extract_values").fetchall()}
    assert raw_codes == expected_units | {"00"}
    # the production build leaves dbt's unit tests to the test suite
    run_results = (home / "dbt" / "target" / "run_results.json").read_text()
    assert '"unit_test.' not in run_results and '"model.provpanel.province_year_panel"' in run_results


def test_reading_an_edition_in_worker_processes_gives_the_same_rows(tmp_path):
    from provpanel.config import SAMPLE_EDITIONS_DIR
    from provpanel.edition_read import read_edition

    edition = SAMPLE_EDITIONS_DIR / "csy2021"  # all seven format families
    in_process = read_edition(edition, workers=1)
    in_workers = read_edition(edition, workers=2)
    assert len(in_process) > 10000
    assert in_workers.equals(in_process)


def test_a_worker_process_reports_the_first_bad_file_as_the_sequential_read_does(tmp_path):
    import shutil

    from provpanel.config import SAMPLE_EDITIONS_DIR
    from provpanel.edition_read import read_edition

    edition = tmp_path / "csy2022"
    shutil.copytree(SAMPLE_EDITIONS_DIR / "csy2022", edition)
    broken = edition / "AnnualbyProvince.csv"
    text = broken.read_bytes().decode("utf-8")
    assert "\nBeijing," in text
    broken.write_bytes(text.replace("\nBeijing,", "\nBeijing,about ", 1).encode("utf-8"))
    with pytest.raises(ExtractError) as sequential:
        read_edition(edition, workers=1)
    with pytest.raises(ExtractError) as parallel:
        read_edition(edition, workers=3)
    assert str(parallel.value) == str(sequential.value)
    assert "AnnualbyProvince.csv" in str(parallel.value) and "'about " in str(parallel.value)


def test_a_changed_geography_changes_the_build_fingerprint(tmp_path, monkeypatch):
    from provpanel.build_state import build_fingerprint
    from provpanel.config import get_paths

    units = generator.scale_units("prefecture", per_province=2)
    for name, content in generator.geography_files(units).items():
        (tmp_path / name).write_bytes(content)
    default = build_fingerprint(get_paths())
    monkeypatch.setenv("PROVPANEL_GEOGRAPHY", str(tmp_path))
    with_geography = build_fingerprint(get_paths())
    (tmp_path / "provinces.csv").write_bytes((tmp_path / "provinces.csv").read_bytes().replace(b",east,", b",west,", 1))
    edited = build_fingerprint(get_paths())
    assert len({default, with_geography, edited}) == 3
