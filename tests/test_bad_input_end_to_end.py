"""Broken downloads and manifests through the whole pipeline (`provpanel build`).

One good build of the sample editions in a home of this module (a copy of the session's
`sample_build`); then, for every case of `bad_input_corpus`, a copy of the editions with one
thing broken is built on the SAME home.
Each must fail with one line naming the file, the place and the expectation (also in the
Dagster run the UI shows), and leave the published files and the stored raw rows exactly as
they were. Finally the good editions build again without any repair.

The broken copies keep the editions' names, so each build says `--accept-changes` (editions
are immutable: without it the changed edition is refused before it is read, see
test_editions_lifecycle.py); the broken file is then read and must fail.

Most cases run `provpanel` in this process (`run_provpanel_in_process`: a CLI process costs ~10 s of imports); the
cases with awkward path names go through the real `provpanel` executable.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from bad_input_corpus import AWKWARD_EDITIONS_ROOT, CASES, BrokenInput, copy_sample_editions
from cli_helpers import copy_home, run_provpanel, run_provpanel_in_process
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from provpanel.errors import ExtractError
from provpanel.extracts.text import decode

# Through the installed executable: names with spaces, quotes and Chinese must survive argv.
SUBPROCESS_CASES = frozenset(
    {
        "awkward_file_name_bad_cell",
        "awkward_file_name_unknown_province",
        "awkward_editions_folder_manifest_error",
    }
)

# Every stored raw row, loaded_at included: a re-ingest would change the checksum.
RAW_VALUES_FINGERPRINT = """
    SELECT count(*), md5(string_agg(concat_ws('|', edition, file, file_sha256, coalesce(sheet, '~'),
               source_row, source_col, province_code, year, indicator, value, coalesce(unit, '~'),
               coalesce(source_value, '~'), coalesce(source_unit, '~'), in_catalog, loaded_at),
           chr(10) ORDER BY edition, file, sheet, source_row, source_col))
    FROM raw.extract_values"""
RAW_EDITIONS_ROWS = """
    SELECT edition, title, published, source, notes, manifest_sha256, files_sha256, n_files,
           n_values, loaded_at
    FROM raw.editions ORDER BY edition"""


@dataclass(frozen=True)
class HomeState:
    published_sha256: dict[str, str]  # every file under published/, by relative path
    raw_values: tuple  # (count, md5 over every row)
    raw_editions: list[tuple]


@dataclass(frozen=True)
class GoodBuild:
    home: Path
    editions: Path
    state: HomeState


def home_state(home: Path) -> HomeState:
    published = home / "published"
    # what readers see: published/ holds links (provpanel.duckdb, parquet/, current) into its
    # version folders, whose names change with every publication
    hashes = {}
    for folder, subfolders, names in os.walk(published, followlinks=True):
        if Path(folder) == published and "versions" in subfolders:
            subfolders.remove("versions")
        for name in names:
            path = Path(folder) / name
            hashes[path.relative_to(published).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        raw_values = con.execute(RAW_VALUES_FINGERPRINT).fetchone()
        raw_editions = con.execute(RAW_EDITIONS_ROWS).fetchall()
    return HomeState(hashes, tuple(raw_values), raw_editions)


def dagster_runs(home: Path) -> dict:
    """The runs recorded in the home's Dagster storage, by id (what the UI lists)."""
    instance = DagsterInstance.from_config(str(home / "dagster"))
    try:
        return {run.run_id: run for run in instance.get_runs()}
    finally:
        instance.dispose()


def step_failure_descriptions(home: Path, run_id: str) -> list[str]:
    """The user-facing failure descriptions of a run's failed steps (shown in the UI)."""
    instance = DagsterInstance.from_config(str(home / "dagster"))
    try:
        entries = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
        return [
            entry.dagster_event.step_failure_data.user_failure_data.description
            for entry in entries
            if entry.dagster_event.step_failure_data.user_failure_data is not None
        ]
    finally:
        instance.dispose()


@pytest.fixture(scope="module")
def good_build(sample_build, tmp_path_factory) -> GoodBuild:
    """A home of this module holding a good build of the sample editions (a copy of the session's
    sample build, so no second build of the same editions), and a copy of the editions."""
    home = copy_home(sample_build[0], tmp_path_factory.mktemp("bad-input-home") / "home")
    editions = copy_sample_editions(tmp_path_factory.mktemp("good") / "editions")
    state = home_state(home)
    assert set(state.published_sha256) >= {
        "provpanel.duckdb",
        "parquet/province_year_panel.parquet",
        "parquet/indicator_revisions.parquet",
    }
    # both editions stored, every value counted
    assert [(row[0], row[8] > 0) for row in state.raw_editions] == [("csy2021", True), ("csy2022", True)]
    assert state.raw_values[0] == sum(row[8] for row in state.raw_editions)
    return GoodBuild(home, editions, state)


def build_in_process(home: Path, editions: Path) -> tuple[int, str]:
    """`provpanel build` in this process (the broken edition is a changed one: read it)."""
    completed = run_provpanel_in_process(["build", "--accept-changes"], home=home, editions=editions)
    return completed.returncode, completed.stderr


def failure_message(stderr: str, edition: str) -> str:
    """The one line after the build's failure header; nothing else may be on stderr."""
    lines = stderr.rstrip("\n").split("\n")
    assert lines[0] == f"provpanel build: edition {edition} failed, nothing stored for it:", stderr
    assert len(lines) == 2, f"expected the header and one message line, got:\n{stderr}"
    assert lines[1].startswith("  ")
    return lines[1][2:]


def assert_names_file_place_and_expectation(message: str, case: BrokenInput, editions: Path) -> None:
    assert message.startswith(case.expected_prefix(editions)), (
        f"{message!r} should start with {case.expected_prefix(editions)!r}"
    )
    for words in (*case.expected, *case.found):
        assert words in message, f"{words!r} missing from {message!r}"


def test_corpus_covers_the_brief():
    names = {case.name for case in CASES}
    assert len(CASES) >= 22
    assert {case.editions_root for case in CASES} >= {"editions", AWKWARD_EDITIONS_ROOT}
    for required in (
        "gb18030_saved_as_latin1_mojibake", "utf8_with_invalid_bytes", "binary_garbage",
        "empty_file", "truncated_xlsx", "html_page_named_xlsx", "unknown_province",
        "province_twice_with_different_values", "non_numeric_cell", "unknown_unit_in_header",
        "duplicated_year_header", "unreadable_year_header", "short_row",
        "transposed_blank_province_header", "manifest_without_edition", "manifest_without_title",
        "manifest_without_published", "manifest_without_source",
        "manifest_edition_is_not_the_folder", "manifest_misses_a_file",
        "manifest_lists_a_missing_file", "manifest_unknown_indicator_code",
        "manifest_invalid_date", "manifest_yaml_syntax_error",
        "file_indicator_disagrees_with_manifest",
    ):
        assert required in names
    assert SUBPROCESS_CASES <= names
    awkward = [case for case in CASES if case.name in SUBPROCESS_CASES]
    assert any(case.is_manifest_case for case in awkward)
    assert any(not case.is_manifest_case and "'" in case.file and '"' in case.file for case in awkward)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_broken_edition_fails_cleanly_and_changes_nothing(case, good_build, tmp_path):
    home = good_build.home
    editions = copy_sample_editions(tmp_path / case.editions_root)
    case.apply(editions)
    runs_before = set(dagster_runs(home))

    if case.name in SUBPROCESS_CASES:
        completed = run_provpanel(["build", "--accept-changes"], home=home, editions=editions, timeout=300)
        status, stderr = completed.returncode, completed.stderr
    else:
        status, stderr = build_in_process(home, editions)

    assert status == 1, stderr
    assert "Traceback" not in stderr
    message = failure_message(stderr, case.edition)
    assert_names_file_place_and_expectation(message, case, editions)

    # nothing published, nothing stored
    assert home_state(home) == good_build.state

    # the failed run in the home's Dagster storage says the same (what the UI shows)
    new_runs = [run for run_id, run in dagster_runs(home).items() if run_id not in runs_before]
    failed = [run for run in new_runs if run.status == DagsterRunStatus.FAILURE]
    assert len(failed) == 1, [(run.job_name, run.status) for run in new_runs]
    assert failed[0].job_name == "ingest_edition"
    assert failed[0].tags["dagster/partition"] == case.edition
    assert step_failure_descriptions(home, failed[0].run_id) == [message]

    # `provpanel parse` on the broken file: the same message, naming the path as given
    if case.parse_args is not None:
        path = editions / case.edition / case.file
        if case.name in SUBPROCESS_CASES:
            completed = run_provpanel(["parse", str(path), *case.parse_args], home=home, editions=editions)
            status, stderr = completed.returncode, completed.stderr
        else:
            completed = run_provpanel_in_process(["parse", str(path), *case.parse_args], home=home, editions=editions)
            status, stderr = completed.returncode, completed.stderr
        assert status == 1, stderr
        assert "Traceback" not in stderr
        assert stderr == f"provpanel parse: {message.replace(case.expected_file(editions), str(path), 1)}\n"


def test_in_process_builds_follow_the_environment_per_call(good_build, tmp_path):
    """Two homes in one process: each build's paths and Dagster runs go where the environment
    points at the time of the call, not where an earlier call pointed."""
    case = next(case for case in CASES if case.name == "truncated_xlsx")  # fails on csy2021 at once
    editions = copy_sample_editions(tmp_path / "editions")
    case.apply(editions)
    other_home = tmp_path / "other-home"
    runs_in_good_home = set(dagster_runs(good_build.home))

    status, stderr = build_in_process(other_home, editions)
    assert status == 1 and case.expected_prefix(editions) in stderr
    other_runs = dagster_runs(other_home)
    assert [run.status for run in other_runs.values()] == [DagsterRunStatus.FAILURE]
    assert set(dagster_runs(good_build.home)) == runs_in_good_home
    assert not (other_home / "published").exists()

    status, stderr = build_in_process(good_build.home, editions)
    assert status == 1 and case.expected_prefix(editions) in stderr
    assert len(set(dagster_runs(good_build.home)) - runs_in_good_home) == 1
    assert set(dagster_runs(other_home)) == set(other_runs)


def test_good_editions_build_again_after_every_failure(good_build):
    runs_before = set(dagster_runs(good_build.home))
    completed = run_provpanel(["build", "--quiet"], home=good_build.home, editions=good_build.editions)
    assert completed.returncode == 0, f"rebuild failed:\n{completed.stdout}\n{completed.stderr}"
    assert "Traceback" not in completed.stderr
    state = home_state(good_build.home)
    # the editions are as they were, so not re-read: the very same raw rows
    assert (state.raw_values, state.raw_editions) == (good_build.state.raw_values, good_build.state.raw_editions)
    assert set(state.published_sha256) == set(good_build.state.published_sha256)
    new_runs = sorted(
        (run for run_id, run in dagster_runs(good_build.home).items() if run_id not in runs_before),
        key=lambda run: run.job_name,
    )
    if "no work done" in completed.stdout:
        # the failed builds recorded nothing, so the last good build still stands as it was
        assert state == good_build.state
        assert new_runs == []
    else:
        # the code changed meanwhile (another change in the working tree): a real rebuild
        assert [(run.job_name, run.status) for run in new_runs] == [
            ("build_panel", DagsterRunStatus.SUCCESS),
            ("ingest_edition", DagsterRunStatus.SUCCESS),
            ("ingest_edition", DagsterRunStatus.SUCCESS),
        ]
    with duckdb.connect(str(good_build.home / "published" / "provpanel.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.province_year_panel").fetchone() == (630,)


# ---------------------------------------------------------------- the decoding guards, fast


def test_accents_and_gb18030_lookalikes_are_not_taken_for_broken_text():
    # isolated accents in an English export are text, not mojibake
    english = "Region,2020\nRégion Île-de-France,1\nZürich,2\n"
    assert decode(english.encode("utf-8"), "x.csv") == (english, "utf-8")
    # 录 is C2 BC in GBK, a valid UTF-8 pair: one look-alike does not make a UTF-8 file
    chinese = "录入,2020年\n北京市,1\n"
    assert decode(chinese.encode("gb18030"), "x.csv") == (chinese, "gb18030")


def test_invalid_utf8_after_chinese_text_is_located_not_read_as_gb18030():
    data = "地区,2020年\n北京市,1\n天津市,".encode() + b"\xff" + b"2\n"
    with pytest.raises(ExtractError) as caught:
        decode(data, "x.csv")
    assert str(caught.value).startswith("x.csv: line 3, character 5: expected UTF-8 text")
