"""Editions of one publication date (issue 24, part 4): their order is given by `supersedes:`,
or the build says which one won (a warning naming both, the rule and the disagreeing cells).

The warnings are those the build prints (`provpanel.coverage.left_out_warnings`, which the
build runner calls): checked here on a hand-made warehouse; one slow test builds the sample
with a third edition of csy2022's date and checks the panel and the build's words."""

from __future__ import annotations

import datetime
import shutil

import duckdb
import pandas as pd
import pytest
import yaml

from provpanel.coverage import left_out_warnings
from provpanel.warehouse import open_warehouse, replace_edition

DAY = datetime.date(2022, 12, 31)


def _store(warehouse, edition: str, published: datetime.date, values: dict[str, float],
           supersedes: str | None = None) -> None:
    """One edition of GDP values by province code (2021), stored as the ingest stores it."""
    loaded = datetime.datetime(2026, 12, 1, 12, 0)
    rows = [{"edition": edition, "file": "gdp.csv", "file_sha256": "x", "sheet": None, "source_row": i + 2,
             "source_col": 2, "province_code": code, "year": 2021, "indicator": "gdp", "value": value,
             "unit": "cny_100m", "source_value": str(value), "source_unit": "亿元", "in_catalog": True,
             "loaded_at": loaded} for i, (code, value) in enumerate(values.items())]
    row = {"edition": edition, "title": edition, "published": published, "source": "test", "notes": None,
           "manifest_sha256": "m", "files_sha256": edition, "n_files": 1, "n_values": len(rows),
           "loaded_at": loaded, "supersedes": supersedes}
    with open_warehouse(warehouse) as con:
        replace_edition(con, row, pd.DataFrame(rows))


def test_two_editions_of_one_date_that_disagree_are_named_with_the_rule_and_the_count(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    _store(warehouse, "csy2022", DAY, {"11": 100.0, "12": 200.0, "13": 300.0})
    _store(warehouse, "csy2022rev", DAY, {"11": 101.0, "12": 200.0, "13": 303.0})
    _store(warehouse, "csy2021", DAY - datetime.timedelta(days=365), {"11": 90.0})  # another date: silent
    warnings = left_out_warnings(warehouse)
    assert len(warnings) == 1, warnings
    line = warnings[0]
    assert "\n" not in line
    assert "csy2022 and csy2022rev" in line and "2022-12-31" in line
    assert "disagree on 2 cells" in line
    assert "ordered by key (csy2022rev after csy2022)" in line and "supersedes:" in line
    assert "csy2022rev's values win under vintage_policy latest" in line


def test_the_warning_names_the_policy_the_panel_was_built_with(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    _store(warehouse, "a", DAY, {"11": 1.0})
    _store(warehouse, "b", DAY, {"11": 2.0})
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA analysis")
        con.execute("CREATE TABLE analysis.settings AS SELECT 'vintage_policy' AS setting, "
                    "'first_release' AS value, 'panel' AS stage")
    (line,) = left_out_warnings(warehouse)
    assert "the panel takes a's values (vintage_policy first_release)" in line


def test_supersedes_silences_the_warning_and_agreeing_editions_never_warn(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    _store(warehouse, "csy2022", DAY, {"11": 100.0})
    _store(warehouse, "csy2022a", DAY, {"11": 100.0, "12": 5.0})  # agrees where both publish
    _store(warehouse, "csy2022rev", DAY, {"11": 101.0}, supersedes="csy2022")
    warnings = left_out_warnings(warehouse)
    # csy2022rev comes after csy2022 (declared); csy2022a agrees with csy2022 but not with csy2022rev
    assert len(warnings) == 1 and "csy2022a and csy2022rev" in warnings[0], warnings
    assert "by how far down a supersedes chain" in warnings[0]


def test_an_old_warehouse_gains_the_supersedes_column(tmp_path):
    from provpanel.raw_schema import EDITIONS

    warehouse = tmp_path / "warehouse.duckdb"
    old_columns = [c for c in EDITIONS.columns if c.name != "supersedes"]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(f"CREATE TABLE raw.editions ({', '.join(c.ddl for c in old_columns)})")
    _store(warehouse, "csy2022", DAY, {"11": 100.0}, supersedes=None)
    _store(warehouse, "csy2022rev", DAY, {"11": 101.0}, supersedes="csy2022")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT edition, supersedes FROM raw.editions ORDER BY edition").fetchall() == [
            ("csy2022", None), ("csy2022rev", "csy2022")]
    assert left_out_warnings(warehouse) == []


# ---------------------------------------------------------------- a build (slow)


def _third_edition(editions, supersedes: str | None):
    """csy2022b: csy2022's date, its fiscal expenditure file (a cell is then changed by 1%)."""
    source, folder = editions / "csy2022", editions / "csy2022b"
    manifest = yaml.safe_load((source / "manifest.yml").read_text(encoding="utf-8"))
    entry = next(f for f in manifest["files"] if f.get("indicator") == "fiscal_expenditure")
    folder.mkdir()
    shutil.copy2(source / entry["path"], folder / entry["path"])
    manifest.update(edition="csy2022b", title="csy2022, reissued", files=[entry])
    manifest.pop("revisions", None)
    manifest.pop("exceptions", None)
    if supersedes:
        manifest["supersedes"] = supersedes
    (folder / "manifest.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    return folder, entry


@pytest.mark.slow
def test_a_build_with_a_tie_says_who_won_and_supersedes_turns_it(tmp_path):
    from bad_input_corpus import copy_sample_editions
    from cli_helpers import run_provpanel

    from provpanel.extracts import read_extract
    from provpanel.publish import published_path

    editions = copy_sample_editions(tmp_path / "editions")
    folder, entry = _third_edition(editions, supersedes=None)
    path = folder / entry["path"]
    values = read_extract(path, indicator=entry.get("indicator"), unit=entry.get("unit"),
                          sheets=entry.get("sheets"))
    target = next(v for v in values if v.province_code != "00" and float(v.source_value) > 100)
    text = path.read_bytes()
    assert text.count(target.source_value.encode()) >= 1
    changed = str(round(float(target.source_value) * 1.01, 1))
    path.write_bytes(text.replace(target.source_value.encode(), changed.encode(), 1))

    built = run_provpanel(["build", "--quiet"], home=tmp_path / "home", editions=editions)
    assert built.returncode == 0, built.stderr
    tie = [line for line in built.stderr.splitlines() if "csy2022 and csy2022b" in line]
    assert len(tie) == 1 and "ordered by key (csy2022b after csy2022)" in tie[0], built.stderr
    assert "the panel takes csy2022b's values (vintage_policy latest)" in tie[0]

    def panel_edition() -> str:
        with duckdb.connect(str(published_path(tmp_path / "home")), read_only=True) as con:
            return con.execute("""SELECT edition FROM marts.panel_input_cells
                                  WHERE indicator = 'fiscal_expenditure' AND province_code = ?
                                    AND year = ?""",
                               [target.province_code, target.year]).fetchone()[0]

    assert panel_edition() == "csy2022b"
    # csy2022 declares it comes after csy2022b: the tie is ordered, the panel takes csy2022
    manifest = yaml.safe_load((editions / "csy2022" / "manifest.yml").read_text(encoding="utf-8"))
    manifest["supersedes"] = "csy2022b"
    (editions / "csy2022" / "manifest.yml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rebuilt = run_provpanel(["build", "--quiet", "--accept-changes"], home=tmp_path / "home", editions=editions)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "csy2022 and csy2022b" not in rebuilt.stderr
    assert panel_edition() == "csy2022"
