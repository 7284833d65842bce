"""Editions: immutable, listable, removable (issue 15, section 1).

Unit-level first (hand-made editions stored straight into a warehouse): hidden files, links out of
the editions folder, `provpanel editions`, the build's notices and its stop on a changed edition,
the ingest run's and the sensor's refusal, removal (CLI refusals and the UI's job). Then one
sequence of builds on a copy of the sample build: a changed edition stops the build,
`--accept-changes` keeps the old values as a superseded vintage, `provpanel remove` takes an
edition back and rebuilds without it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil

import duckdb
import pytest
from cli_helpers import copy_home, run_provpanel, run_provpanel_in_process
from dagster import DagsterInstance, SkipReason, build_sensor_context, instance_for_test

from provpanel.config import SAMPLE_EDITIONS_DIR
from provpanel.edition_manifest import load_manifest
from provpanel.edition_read import read_edition
from provpanel.editions import FETCH_MARKER, file_checksums
from provpanel.errors import ExtractError, ManifestError
from provpanel.ingest import edition_fingerprint, prepare_edition, store_edition

HEADER = "数据库：分省年度数据\n指标：地区生产总值(亿元)\n时间：2019-2020\n地区,2020年,2019年\n"
DATA = "分省年度数据.csv"


def write_csv(path, rows):
    body = HEADER + "".join(f"{province},{v2020},{v2019}\n" for province, v2020, v2019 in rows)
    path.write_bytes((body + "数据来源：国家统计局\n").encode("gb18030"))


def make_edition(root, name, rows=(("广东省", "110760.94", "107671.07"), ("北京市", "36102.6", "35371.3")),
                 extra_files=()):
    """A small edition: one GDP file (+ `extra_files`, each listed and holding the same rows)."""
    folder = root / name
    folder.mkdir(parents=True)
    write_csv(folder / DATA, rows)
    for extra in extra_files:
        write_csv(folder / extra, rows)
    listed = "".join(f"  - path: {path}\n" for path in (DATA, *extra_files))
    (folder / "manifest.yml").write_text(
        f"edition: {name}\ntitle: test edition {name}\npublished: 2021-03-01\nsource: hand-made for a test\n"
        f"files:\n{listed}", encoding="utf-8")
    return folder


def rows_of(database, sql, params=()):
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    """An editions folder and a home whose warehouse stores the edition `first`."""
    editions, home = tmp_path / "editions", tmp_path / "home"
    editions.mkdir()
    home.mkdir()
    first = make_edition(editions, "first")
    store_edition(prepare_edition(first), home / "warehouse.duckdb")
    monkeypatch.setenv("PROVPANEL_HOME", str(home))
    monkeypatch.setenv("PROVPANEL_EDITIONS", str(editions))
    return editions, home


def change_a_value(folder):
    # a correction, not a slip: a value ten times off is stopped by the indicator suite at ingest
    write_csv(folder / DATA, (("广东省", "110770.94", "107671.07"), ("北京市", "36102.6", "35371.3")))


# ---------------------------------------------------------------- hidden files


def test_a_listed_hidden_file_is_checksummed_and_read(tmp_path):
    folder = make_edition(tmp_path, "hidden", extra_files=(".fdi.csv",))
    before = edition_fingerprint(folder)
    assert ".fdi.csv" in before[1]
    assert set(read_edition(folder)["file"]) == {DATA, ".fdi.csv"}
    write_csv(folder / ".fdi.csv", (("广东省", "1", "2"), ("北京市", "3", "4")))
    assert edition_fingerprint(folder)[0] != before[0]  # editing it is a change, not "nothing changed"


def test_an_unlisted_hidden_file_is_an_error(tmp_path):
    folder = make_edition(tmp_path, "hidden")
    (folder / ".notes.csv").write_text("anything", encoding="utf-8")
    with pytest.raises(ManifestError) as err:
        load_manifest(folder)
    assert err.value.where == "manifest key files" and "'.notes.csv' not listed" in err.value.found


def test_the_marker_of_an_unfinished_fetch_is_not_a_file_of_the_edition(tmp_path):
    folder = make_edition(tmp_path, "fetching")
    (folder / FETCH_MARKER).write_text("{}", encoding="utf-8")
    assert load_manifest(folder, allow_unfinished=True).edition == "fetching"
    assert FETCH_MARKER not in file_checksums(folder)


# ---------------------------------------------------------------- links


def test_a_link_out_of_the_editions_folder_is_refused_before_anything_is_read(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("SECRET-LINE-1,2,3\n", encoding="utf-8")
    folder = make_edition(tmp_path / "editions", "linked")
    (folder / DATA).unlink()
    (folder / DATA).symlink_to(outside)
    for attempt in (load_manifest, edition_fingerprint, prepare_edition):
        with pytest.raises(ExtractError) as err:
            attempt(folder)
        message = str(err.value)
        assert err.value.file == str(folder / DATA) and err.value.where == "symbolic link"
        assert str(outside) in message and "inside the editions folder" in message
        assert "SECRET" not in message


def test_an_unlisted_link_to_a_system_file_is_refused_too(tmp_path):
    folder = make_edition(tmp_path / "editions", "linked")
    (folder / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(ExtractError) as err:
        edition_fingerprint(folder)
    assert err.value.file == str(folder / "passwd") and "/etc/passwd" in str(err.value)


def test_a_link_inside_the_editions_folder_is_allowed(tmp_path):
    editions = tmp_path / "editions"
    source = make_edition(editions, "source")
    folder = make_edition(editions, "linked")
    (folder / DATA).unlink()
    (folder / DATA).symlink_to(os.path.relpath(source / DATA, folder))
    assert len(read_edition(folder)) == len(read_edition(source)) > 0


# ---------------------------------------------------------------- provpanel editions, build notices


def _listing(home, editions):
    completed = run_provpanel(["editions", "--format", "csv"], home=home, editions=editions, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return {row["edition"]: row for row in csv.DictReader(io.StringIO(completed.stdout))}


def test_editions_lists_stored_present_changed_gone_and_not_editions(workspace):
    editions, home = workspace
    warehouse = home / "warehouse.duckdb"
    store_edition(prepare_edition(make_edition(editions, "gone")), warehouse)
    shutil.rmtree(editions / "gone")
    make_edition(editions, "new")
    changed = make_edition(editions, "changed")
    store_edition(prepare_edition(changed), warehouse)
    change_a_value(changed)
    (changed / "README.txt").write_text("added after ingest", encoding="utf-8")
    (editions / "downloads-in-progress").mkdir()
    (editions / "downloads-in-progress" / "a.csv").write_text("x", encoding="utf-8")
    make_edition(editions, "fetching")
    (editions / "fetching" / FETCH_MARKER).write_text("{}", encoding="utf-8")

    listing = _listing(home, editions)
    assert {name: row["status"] for name, row in listing.items()} == {
        "first": "stored", "gone": "folder gone", "new": "not ingested", "changed": "changed since ingest",
        "downloads-in-progress": "no manifest.yml", "fetching": "fetch unfinished"}
    assert listing["changed"]["changes"] == f"changed: {DATA}; added: README.txt"
    assert listing["first"]["stored"] == "yes" and int(listing["first"]["n_values"]) == 4
    assert listing["first"]["loaded_at"].startswith("20")
    assert listing["gone"]["stored"] == "yes" and listing["gone"]["folder"] == ""
    assert listing["new"]["stored"] == "no" and listing["new"]["n_values"] == ""
    table = run_provpanel(["editions"], home=home, editions=editions, timeout=120)
    assert table.returncode == 0 and "changed since ingest" in table.stdout and "folder gone" in table.stdout


def test_build_names_gone_editions_and_folders_without_manifest_and_stops_on_a_changed_edition(workspace):
    editions, home = workspace
    warehouse = home / "warehouse.duckdb"
    store_edition(prepare_edition(make_edition(editions, "gone")), warehouse)
    shutil.rmtree(editions / "gone")
    (editions / "no-manifest").mkdir()
    (editions / "no-manifest" / "a.csv").write_text("x", encoding="utf-8")
    hidden = make_edition(editions, "hidden", extra_files=(".fdi.csv",))
    store_edition(prepare_edition(hidden), warehouse)
    before = rows_of(warehouse, "select * from raw.extract_values order by all")
    change_a_value(editions / "first")
    write_csv(hidden / ".fdi.csv", (("广东省", "1", "2"), ("北京市", "3", "4")))

    completed = run_provpanel(["build"], home=home, editions=editions, timeout=300)
    assert completed.returncode == 1
    lines = completed.stderr.splitlines()
    gone = [line for line in lines if "edition gone is stored" in line]
    assert len(gone) == 1 and "its folder" in gone[0] and "`provpanel remove gone`" in gone[0]
    assert any(f"skipped {editions / 'no-manifest'}: no manifest.yml" in line for line in lines)
    stop = completed.stderr
    assert f"edition first changed since it was ingested (changed: {DATA})" in stop
    assert "edition hidden changed since it was ingested (changed: .fdi.csv)" in stop
    assert "a new edition" in stop and "--accept-changes" in stop
    assert rows_of(warehouse, "select * from raw.extract_values order by all") == before  # nothing read or changed
    assert "ingested" not in completed.stdout


def test_build_refuses_an_edition_linking_out_of_the_editions_folder(workspace, tmp_path):
    editions, home = workspace
    folder = make_edition(editions, "linked")
    (folder / DATA).unlink()
    (folder / DATA).symlink_to("/etc/passwd")
    completed = run_provpanel(["build"], home=home, editions=editions, timeout=300)
    assert completed.returncode == 1
    assert f"{folder / DATA}: symbolic link" in completed.stderr and "/etc/passwd" in completed.stderr
    assert "root:" not in completed.stderr and "Traceback" not in completed.stderr


# ---------------------------------------------------------------- the ingest run and the sensor


def _ingest(edition, accept_changes=False):
    from orchestration.definitions import defs as ingest_defs

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("editions", [edition])
    return ingest_defs.resolve_job_def("ingest_edition").execute_in_process(
        instance=instance, partition_key=edition, raise_on_error=False,
        run_config={"ops": {"raw_edition": {"config": {"accept_changes": accept_changes}}}})


def test_ingest_run_refuses_a_changed_edition_unless_accepted_then_keeps_the_old_values(workspace):
    editions, home = workspace
    warehouse = home / "warehouse.duckdb"
    old = rows_of(warehouse, "select * exclude (loaded_at) from raw.extract_values order by all")
    change_a_value(editions / "first")

    refused = _ingest("first")
    assert not refused.success
    failure = next(e for e in refused.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"changed: {DATA}" in failure.event_specific_data.user_failure_data.description
    assert rows_of(warehouse, "select * exclude (loaded_at) from raw.extract_values order by all") == old

    accepted = _ingest("first", accept_changes=True)
    assert accepted.success
    assert rows_of(warehouse, """select value from raw.extract_values
                                 where province_code = '44' and year = 2020""") == [(110770.94,)]
    superseded = rows_of(warehouse, """select * exclude (loaded_at, superseded_at) from raw.superseded_extract_values
                                        order by all""")
    assert superseded == old  # the old vintage, every column, not lost
    assert rows_of(warehouse, "select count(*) from raw.superseded_extract_values where superseded_at is null") == [(0,)]
    assert _ingest("first").success  # now stored as it is: unchanged, nothing refused


def test_sensor_skips_a_changed_edition_with_the_files_named(workspace):
    editions, _ = workspace
    from orchestration.definitions import defs as ingest_defs
    from orchestration.defs.discovery import build_discovery_sensor
    from orchestration.defs.ingest import ingest_edition_job

    sensor = build_discovery_sensor(ingest_edition_job)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("editions", ["first"])
        change_a_value(editions / "first")
        result = sensor(build_sensor_context(instance=instance, definitions=ingest_defs))
        assert isinstance(result, SkipReason)
        assert f"edition first changed since it was ingested (changed: {DATA})" in result.skip_message
        assert "--accept-changes" in result.skip_message
        # a new edition beside it is still ingested; the changed one is not
        make_edition(editions, "second")
        result = sensor(build_sensor_context(instance=instance, definitions=ingest_defs))
        assert [r.partition_key for r in result.run_requests] == ["second"]


# ---------------------------------------------------------------- removal


def test_remove_refuses_an_unknown_edition_and_one_still_present(workspace):
    editions, home = workspace
    unknown = run_provpanel(["remove", "nosuch"], home=home, editions=editions, timeout=120)
    assert unknown.returncode == 2
    assert "no stored edition 'nosuch'; stored editions: first" in unknown.stderr
    present = run_provpanel(["remove", "first"], home=home, editions=editions, timeout=120)
    assert present.returncode == 2 and "still in the editions folder" in present.stderr
    assert rows_of(home / "warehouse.duckdb", "select count(*) from raw.extract_values") == [(4,)]


def test_remove_edition_job_clears_every_raw_table_and_the_partition(workspace):
    editions, home = workspace
    warehouse = home / "warehouse.duckdb"
    second = make_edition(editions, "second")
    (second / "manifest.yml").write_text((second / "manifest.yml").read_text(encoding="utf-8")
                                         + "revisions:\n  - {indicator: gdp, years: [2019, 2020], reason: census}\n",
                                         encoding="utf-8")
    store_edition(prepare_edition(second), warehouse)
    shutil.rmtree(second)
    (home / "last_build.json").write_text("{}", encoding="utf-8")
    from orchestration.defs.remove import remove_edition_job
    from orchestration.resources import ProvpanelPaths

    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("editions", ["first", "second"])
    result = remove_edition_job.execute_in_process(
        instance=instance, resources={"paths": ProvpanelPaths(home=str(home), editions=str(editions))},
        run_config={"ops": {"remove_stored_edition_op": {"config": {"edition": "second"}}}})
    assert result.success
    for table in ("raw.extract_values", "raw.editions", "raw.declared_revisions", "raw.edition_files"):
        assert rows_of(warehouse, f"select count(*) from {table} where edition = 'second'") == [(0,)], table
    assert rows_of(warehouse, "select count(*) from raw.extract_values where edition = 'first'") == [(4,)]
    assert instance.get_dynamic_partitions("editions") == ["first"]
    assert not (home / "last_build.json").exists()  # the next CLI build rebuilds
    unknown = remove_edition_job.execute_in_process(
        instance=instance, raise_on_error=False,
        resources={"paths": ProvpanelPaths(home=str(home), editions=str(editions))},
        run_config={"ops": {"remove_stored_edition_op": {"config": {"edition": "second"}}}})
    assert not unknown.success
    failure = next(e for e in unknown.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.event_specific_data.user_failure_data.description == (
        "no stored edition 'second'; stored editions: first (`provpanel editions` lists them)")


def test_remove_job_and_its_rebuild_sensor_are_in_the_code_location(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVPANEL_HOME", str(tmp_path))
    from orchestration.definitions import defs

    # the job of that name runs the removal, configured by the edition's name
    remove = defs.resolve_job_def("remove_edition")
    assert remove.graph.node_names() == ["remove_stored_edition_op"]
    op_config = remove.run_config_schema.config_type.fields["ops"].config_type.fields["remove_stored_edition_op"]
    assert set(op_config.config_type.fields["config"].config_type.fields) == {"edition"}
    assert defs.get_sensor_def("panel_after_remove_sensor").job_name == "build_panel"


# ---------------------------------------------------------------- full builds (2, on a copy of the sample build)


def test_changed_edition_accepted_then_removed_end_to_end(sample_build, tmp_path):
    editions, home = tmp_path / "editions", copy_home(sample_build[0], tmp_path / "home")
    shutil.copytree(SAMPLE_EDITIONS_DIR, editions)
    (editions / "scans").mkdir()  # a folder without manifest: named by every build, never read
    (editions / "scans" / "page1.csv").write_text("x", encoding="utf-8")
    # the sample is built already (the copied home): this build names the folder and does no work
    first = run_provpanel_in_process(["build"], home=home, editions=editions)
    assert first.returncode == 0, first.stderr
    assert f"skipped {editions / 'scans'}: no manifest.yml" in first.stderr
    warehouse, published = home / "warehouse.duckdb", home / "published" / "provpanel.duckdb"
    old = rows_of(warehouse, "select * exclude (loaded_at) from raw.extract_values where edition = 'csy2022' order by all")

    # a file of an ingested edition is edited: the build stops, naming it
    target = editions / "csy2022" / "AnnualbyProvince.csv"
    target.write_bytes(target.read_bytes().replace(b"\n", b"\r\n"))
    stopped = run_provpanel_in_process(["build"], home=home, editions=editions)
    assert stopped.returncode == 1
    assert "edition csy2022 changed since it was ingested (changed: AnnualbyProvince.csv)" in stopped.stderr

    accepted = run_provpanel_in_process(["build", "--accept-changes"], home=home, editions=editions)
    assert accepted.returncode == 0, accepted.stderr
    assert "unchanged: csy2021" in accepted.stdout and "re-read:   csy2022" in accepted.stdout
    assert "ingested:  csy2021" not in accepted.stdout
    assert rows_of(warehouse, """select * exclude (loaded_at, superseded_at) from raw.superseded_extract_values
                                 order by all""") == old
    assert rows_of(published, "select count(*) from raw.superseded_extract_values") == [(len(old),)]
    # the build's Dagster run says it too
    instance = DagsterInstance.from_config(str(home / "dagster"))
    from dagster import AssetKey

    event = instance.get_latest_materialization_event(AssetKey(["reports", "coverage"]))
    assert "scans" in event.asset_materialization.metadata["edition_notices"].value

    # the edition is taken back: folder out, `provpanel remove`, rebuilt without it
    shutil.move(str(editions / "csy2022"), str(tmp_path / "csy2022-withdrawn"))
    removed = run_provpanel(["remove", "csy2022"], home=home, editions=editions)
    assert removed.returncode == 0, removed.stderr
    assert "removed edition csy2022" in removed.stdout
    for database in (warehouse, published):
        assert rows_of(database, "select count(*) from raw.extract_values where edition = 'csy2022'") == [(0,)]
        assert rows_of(database, "select edition from raw.editions") == [("csy2021",)]
    assert "csy2022" not in instance.get_dynamic_partitions("editions")
    assert rows_of(published, "select max(year) from marts.province_year_panel") == [(2020,)]
    listing = _listing(home, editions)
    assert "csy2022" not in listing and listing["csy2021"]["status"] == "stored"
