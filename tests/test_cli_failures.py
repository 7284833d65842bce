"""Expected failures end with one line, not a traceback (issues 15 §4 and 16 §4).

A read-only home, unreadable editions, a full disk, a closed pipe, a wrong PROVPANEL_EDITIONS:
each ends with one line that names the path and says what to do, a non-zero exit, and the
published snapshot as it was. Also: valid LaTeX and CSV from `report`, help on every option,
models by number, and a known unit converted for an indicator outside the catalog.

Tests run as root here and in CI. Root reads and writes everything, so the permission cases
run the command without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv): it then obeys file
modes like any user. The full-disk cases mount a small tmpfs in a private mount namespace
(unshare), which the kernel removes with the process: nothing is left mounted.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from cli_helpers import PROVPANEL_BIN, provpanel_env, run_provpanel

from provpanel.config import REPO_ROOT


def _env(home: Path, editions: Path) -> dict:
    return provpanel_env(home, editions)


def _as_ordinary_user() -> list[str]:
    """A prefix under which file modes bind the command even when the tests run as root."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _run(argv: list[str], *, home: Path, editions: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=_env(home, editions), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO_ROOT, check=False)


def _in_private_tmpfs(mount_point: Path, size: str, then: str) -> list[str]:
    """A command that mounts a `size` tmpfs on `mount_point` in its own mount namespace, then
    runs the shell text `then` (unshare maps an ordinary user to root of a user namespace)."""
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    return ["unshare", "--mount", "--propagation", "private", *user, "sh", "-c",
            f"mount -t tmpfs -o size={size} tmpfs '{mount_point}' && {then}"]


def _one_line_failure(completed: subprocess.CompletedProcess, *names: str) -> str:
    """The command failed without a traceback, and its error (the last stderr line, after at
    most a heading such as "the panel run failed:") names every one of `names`; returns it."""
    assert completed.returncode != 0, completed.stdout
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, completed.stderr
    for name in names:
        assert name in lines[-1], lines[-1]
    return lines[-1]


def _small_edition(root: Path, name: str = "small") -> Path:
    """One edition folder with a manifest and one tidy CSV of GDP."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "manifest.yml").write_text(
        f"edition: {name}\ntitle: a test edition\npublished: 2021-12-31\nsource: test\nfiles:\n"
        "  - path: gdp.csv\n    indicator: gdp\n    unit: 亿元\n    years: [2019, 2020]\n", encoding="utf-8")
    (folder / "gdp.csv").write_text("地区,年份,数值\n北京市,2019,35445.1\n北京市,2020,36102.6\n"
                                    "天津市,2019,14055.5\n天津市,2020,14083.7\n", encoding="utf-8")
    return folder


# -- the command line (issue 16 §4) -------------------------------------------------------------

def _walk(parser: argparse.ArgumentParser, prefix: str = "provpanel"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{prefix} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield prefix, action


def test_every_option_and_argument_has_help_text():
    from provpanel.cli import build_parser

    actions = list(_walk(build_parser()))
    assert len(actions) > 20
    missing = [f"{command} {action.option_strings or action.dest}" for command, action in actions
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []


def test_provpanel_editions_that_does_not_exist_or_is_a_file(tmp_path):
    missing = tmp_path / "no-such-folder"
    completed = run_provpanel(["build"], home=tmp_path / "home", editions=missing)
    line = _one_line_failure(completed, str(missing), "PROVPANEL_EDITIONS")
    assert "does not exist" in line
    a_file = tmp_path / "editions.txt"
    a_file.write_text("not a folder\n", encoding="utf-8")
    completed = run_provpanel(["build"], home=tmp_path / "home", editions=a_file)
    line = _one_line_failure(completed, str(a_file), "PROVPANEL_EDITIONS")
    assert "a file, not a folder" in line


def test_provpanel_home_that_is_a_file(tmp_path):
    a_file = tmp_path / "home"
    a_file.write_text("not a folder\n", encoding="utf-8")
    editions = tmp_path / "editions"
    _small_edition(editions)
    for home in (a_file, a_file / "below"):
        completed = run_provpanel(["build"], home=home, editions=editions)
        line = _one_line_failure(completed, f"{a_file}: a file is where a folder must be")
        assert "PROVPANEL_HOME" in line


def test_messages_of_steps_and_duckdb_get_what_to_do(tmp_path):
    """Errors that reach the command line as text (a Dagster step's, DuckDB's, dbt's) are
    recognised by the operating system's words; the path quoted on that line is named, else
    the home; anything else is left alone (a bug keeps its traceback)."""
    from provpanel.failures import environment_error_line, with_advice

    duck = ('published__snapshot: _duckdb.TransactionException: Failed to commit: Could not write file '
            '"/h/published/versions/.v.tmp/provpanel.duckdb.wal": No space left on device')
    assert with_advice(duck).endswith("(/h/published/versions/.v.tmp/provpanel.duckdb.wal: no space left on "
                                      "the device: free space there, or set PROVPANEL_HOME to a disk with room, "
                                      "and run again)")
    dbt = RuntimeError("dbt parse failed in /repo/dbt_project:\n10:15 Encountered an error:\n"
                       "[Errno 28] No space left on device\n  File '/venv/lib/dbt/x.py', line 3")
    line = environment_error_line(dbt, home=tmp_path)
    assert line.startswith("dbt parse failed in /repo/dbt_project: (" + str(tmp_path) + ": no space left")
    assert "\n" not in line and "/venv/" not in line
    assert environment_error_line(ValueError("could not convert string to float: 'x'"), home=tmp_path) is None
    assert environment_error_line(RuntimeError("(sqlite3.OperationalError) database or disk is full\n[SQL: ...]"),
                                  home=tmp_path).startswith(f"{tmp_path / 'dagster'}: Dagster's storage")


def _many_values_file(tmp_path: Path) -> Path:
    """A tidy CSV of 31 provinces x 60 years: far more output than a pipe's buffer holds."""
    from provpanel.harmonise import panel_unit_codes

    names = {"11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区"}
    assert set(names) <= set(panel_unit_codes())
    rows = ["地区,年份,数值"] + [f"{name},{year},{1000 + year}.5" for name in names.values()
                                for year in range(1960, 2021)]
    path = tmp_path / "gdp.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _into_closed_pipe(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run `argv` with its stdout a pipe whose reader is already gone (as `| head` leaves it)."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT)
    process.stdout.close()  # the reader leaves before the first line is written
    stderr = process.stderr.read().decode()
    process.stderr.close()
    return subprocess.CompletedProcess(argv, process.wait(timeout=300), "", stderr)


def test_parse_into_a_closed_pipe_ends_quietly(tmp_path):
    path = _many_values_file(tmp_path)
    completed = _into_closed_pipe([PROVPANEL_BIN, "parse", str(path), "--indicator", "gdp", "--unit", "亿元"],
                                  _env(tmp_path / "home", tmp_path))
    assert completed.stderr == ""
    assert completed.returncode == 141  # as a shell reports SIGPIPE


def test_diff_into_a_closed_pipe_ends_quietly(sample_build, tmp_path):
    home, _ = sample_build
    completed = _into_closed_pipe([PROVPANEL_BIN, "diff", "csy2022"], _env(home, tmp_path))
    assert completed.stderr == ""
    assert completed.returncode == 141


def test_parse_outside_the_catalog_converts_a_known_unit(tmp_path):
    path = tmp_path / "cross_section.csv"
    path.write_text("数据库：分省年度数据\n时间：2021年\n"
                    "地区,地区生产总值 (亿元),某项自编指标 (万元)\n"
                    "北京市,44350.7,12345\n", encoding="utf-8")
    completed = run_provpanel(["parse", str(path)], home=tmp_path / "home")
    assert completed.returncode == 0, completed.stderr
    rows = {row["indicator"]: row for row in csv.DictReader(io.StringIO(completed.stdout))}
    own = rows["某项自编指标"]
    # 12345 万元 is 1.2345 亿元: the canonical code, the value converted, the printed unit kept
    assert (own["unit"], float(own["value"]), own["source_unit"], own["source_value"]) == \
        ("cny_100m", 1.2345, "万元", "12345")
    assert rows["gdp"]["unit"] == "cny_100m"


def test_report_latex_is_latex(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["report", "--format", "latex"], home=home)
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    assert text.count(r"\begin{table}") == text.count(r"\end{table}") >= 4
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") == text.count(r"\begin{table}")
    for line in text.splitlines():
        # every line is a comment, a command, a table row or blank: no Markdown heading
        assert not line.startswith("#"), line
        assert line == "" or line.startswith(("%", "\\")) or line.endswith("\\\\"), line
    assert "% table_1" in text and "% settings: vintage_policy=" in text


def test_report_csv_is_one_valid_csv(sample_build):
    home, _ = sample_build
    completed = run_provpanel(["report", "--format", "csv"], home=home)
    assert completed.returncode == 0, completed.stderr
    records = list(csv.reader(io.StringIO(completed.stdout)))
    assert records[0] == ["table", "row", "column", "value", "settings"]
    assert {len(record) for record in records} == {5}
    tables = {record[0] for record in records[1:]}
    assert {"table_1", "table_2", "comparison_with_published"} <= tables
    cell = {(r[0], r[1], r[2]): r[3] for r in records[1:]}
    assert (cell[("table_1", "1", "row")], cell[("table_1", "1", "Model 1")]) == ("Dependent variable", "TU")
    assert cell[("table_1", "2", "row")] == "IC" and cell[("table_1", "2", "Model 1")].startswith("0.")
    assert all(r[4].startswith("settings: vintage_policy=") for r in records[1:])
    # the written CSV files are plain CSV too; their settings record is the sidecar
    for path in (home / "outputs").glob("*.csv"):
        assert not path.read_text(encoding="utf-8").startswith("#"), path
    assert (home / "outputs" / "settings.txt").read_text(encoding="utf-8").startswith("settings: ")


def _number_order(model_ids) -> list[int]:
    return [int(m) for m in dict.fromkeys(model_ids) if str(m).isdigit()]


def test_models_are_listed_by_number(sample_build):
    home, _ = sample_build
    published = home / "published" / "provpanel.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        for table in ("comparison", "estimates", "fit"):
            listed = _number_order(r[0] for r in con.execute(f"SELECT model_id FROM analysis.{table}").fetchall())
            assert listed == sorted(listed) and 10 in listed and 6 in listed, (table, listed)
    with open(home / "outputs" / "comparison_with_published.csv", encoding="utf-8") as fh:
        listed = _number_order(row["model_id"] for row in csv.DictReader(fh))
    assert listed == sorted(listed)


# -- the environment (issue 15 §4) ----------------------------------------------------------------

def test_read_only_home_ends_with_one_line(tmp_path):
    editions = tmp_path / "editions"
    _small_edition(editions)
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    try:
        completed = _run([*_as_ordinary_user(), PROVPANEL_BIN, "build"], home=home, editions=editions)
    finally:
        home.chmod(0o755)
    line = _one_line_failure(completed, str(home))
    assert "may not" in line and "PROVPANEL_HOME" in line
    assert list(home.iterdir()) == []


@pytest.mark.parametrize("unreadable", ["editions folder", "edition folder", "manifest", "data file"])
def test_unreadable_editions_end_with_one_line(tmp_path, unreadable):
    editions = tmp_path / "editions"
    edition = _small_edition(editions)
    path = {"editions folder": editions, "edition folder": edition,
            "manifest": edition / "manifest.yml", "data file": edition / "gdp.csv"}[unreadable]
    mode = path.stat().st_mode
    path.chmod(0)
    try:
        completed = _run([*_as_ordinary_user(), PROVPANEL_BIN, "build"], home=tmp_path / "home", editions=editions)
    finally:
        path.chmod(mode)
    line = _one_line_failure(completed, f"{path}:")
    assert "give it access" in line


@pytest.mark.slow  # a build until the disk is full
def test_full_disk_under_the_home_ends_with_one_line(tmp_path):
    """PROVPANEL_HOME on a 2 MB file system: Dagster's storage or dbt's files fill it."""
    editions = tmp_path / "editions"
    _small_edition(editions)
    home = tmp_path / "home"
    home.mkdir()
    completed = _run(_in_private_tmpfs(home, "2m", f"exec '{PROVPANEL_BIN}' build"), home=home, editions=editions)
    line = _one_line_failure(completed, str(home))
    assert "no space left on the device: free space there" in line


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


def test_full_disk_at_publication_leaves_the_snapshot(sample_build, tmp_path):
    """A forced build of a built home whose published/ is a file system with room for the
    current version but not for a second one: the publication fails with one line, and the
    snapshot is the one before, whole."""
    built, _ = sample_build
    home = tmp_path / "home"
    shutil.copytree(built, home, symlinks=True)
    saved = tmp_path / "published-before"
    shutil.move(home / "published", saved)
    (home / "published").mkdir()
    before = _tree_digest(saved)
    size_mb = sum(p.stat().st_size for p in saved.rglob("*") if p.is_file() and not p.is_symlink()) // 2**20 + 3
    script = (f"cp -a '{saved}/.' '{home}/published/' && '{PROVPANEL_BIN}' build --force --quiet; "
              f"status=$?; cp -a '{home}/published/.' '{tmp_path}/published-after/'; exit $status")
    (tmp_path / "published-after").mkdir()
    completed = _run(_in_private_tmpfs(home / "published", f"{size_mb}m", script), home=home,
                     editions=REPO_ROOT / "data" / "editions")
    line = _one_line_failure(completed, str(home / "published"))
    assert "no space left on the device: free space there" in line
    after = _tree_digest(tmp_path / "published-after")
    assert after == before  # the same version, whole; nothing half-written left beside it


# -- validation failures name their source (issue 15 §4) ----------------------------------------

@pytest.mark.slow  # a build through the ingest and its check
def test_raw_suite_failure_names_the_file_and_cell(tmp_path):
    editions = tmp_path / "editions"
    edition = _small_edition(editions)
    data = edition / "gdp.csv"
    data.write_text(data.read_text(encoding="utf-8").replace("2020,14083.7", "2020,-14083.7"), encoding="utf-8")
    completed = run_provpanel(["build"], home=tmp_path / "home", editions=editions)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    # the fifth line of gdp.csv, its third column: Tianjin 2020
    assert ("gdp.csv row 5, column 3: province 12, year 2020, gdp = -14083.7: negative value of an "
            "indicator that cannot be negative") in completed.stderr


def test_panel_suite_failure_names_the_edition_and_file_of_the_inputs(sample_build):
    from expectations.panel_provenance import failing_cell_lines
    from expectations.panel_suite import validate_panel

    home, _ = sample_build
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        panel = con.execute("SELECT * FROM marts.province_year_panel").df()
        cell = (panel.province_code == "44") & (panel.year == 2015)
        panel.loc[cell, "tu"] = panel.loc[cell, "tu"] * 100  # a unit slip in Guangdong's 2015 TU
        outcome = validate_panel(panel)
        assert not outcome.success
        lines = failing_cell_lines(outcome, con)
        used = con.execute(
            """SELECT indicator, edition, file FROM intermediate.int_indicators_resolved_to_edition
               WHERE province_code = '44' AND year = 2015 AND indicator IN ('gdp', 'exports', 'imports')
               ORDER BY indicator""").fetchall()
    line = next(line for line in lines if line.startswith("province_code=44, year=2015, tu="))
    assert len(used) == 3
    for indicator, edition, file in used:
        assert f"{indicator} from {edition}/{file}" in line, line
