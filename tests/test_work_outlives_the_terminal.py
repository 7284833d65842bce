"""Work that does not depend on the terminal (issue 24, part 2): a closed stdout (`provpanel build |
head -3`, `provpanel remove EDITION | head -2`, a fetch or an export into a closed pipe) or a
terminal that closes stops the output, not the work; the exit status says what happened to the
work. A killed build (SIGTERM, or SIGKILL of the provpanel process) takes its whole process tree
with it: no `dbt` left running, nothing left defunct.

Four builds: one from an empty home, three on copies of the sample build (two of them killed in
dbt). The process tree's rules are also tested on a small script, without a build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from cli_helpers import PROVPANEL_BIN, copy_home, provpanel_env

from provpanel.config import SAMPLE_EDITIONS_DIR
from provpanel.publish import published_path


def _rows(database: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


class _TreeWatch:
    """Every process of a build's tree, sampled every 50 ms while the build runs (a process that
    lives less than that may be missed; those that matter here live seconds)."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.seen: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set() and self.process.poll() is None:
            try:
                for child in psutil.Process(self.process.pid).children(recursive=True):
                    self.seen.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _left_behind(processes, within: float) -> list[str]:
    """What is left of a tree whose provpanel has exited: a process seen defunct at any moment
    (a zombie: it ended, and no one reaped it), or one still running after `within` seconds."""
    deadline = time.monotonic() + within
    defunct: dict[int, str] = {}
    while True:
        running = []
        for process in processes:
            try:
                if not process.is_running():  # psutil: the same process (pid and start time)
                    continue
                if process.status() == psutil.STATUS_ZOMBIE:
                    defunct.setdefault(process.pid, f"{process.pid} defunct (parent {process.ppid()})")
                else:
                    running.append(f"{process.pid} running {' '.join(process.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                continue
            except psutil.ZombieProcess:
                defunct.setdefault(process.pid, f"{process.pid} defunct")
        if not running or time.monotonic() >= deadline:
            return sorted(defunct.values()) + running
        time.sleep(0.05)


def _start(args: list[str], env: dict, **kwargs) -> subprocess.Popen:
    # a session of its own: whatever happens, the test can kill what is left of it
    return subprocess.Popen([PROVPANEL_BIN, *args], env=env, start_new_session=True, **kwargs)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=30)


def _read_all(stream, into: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.append(stream.read()), daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_build_into_a_pipe_closed_after_three_lines_finishes(tmp_path):
    """`provpanel build | head -3` from an empty home: the editions are ingested and the snapshot
    published, exit status 0; nothing of the build's tree is left running or defunct."""
    home = tmp_path / "home"
    build = _start(["build"], provpanel_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = _TreeWatch(build)
    err: list[str] = []
    try:
        reader = _read_all(build.stderr, err)
        head = [build.stdout.readline() for _ in range(3)]
        build.stdout.close()  # `head -3` has its lines and exits
        returncode = build.wait(timeout=900)
        reader.join(timeout=30)
    finally:
        tree.stop()
        _kill_group(build)
    assert head[0].startswith("provpanel build"), head
    assert returncode == 0, err
    assert "Traceback" not in err[0] and "BrokenPipe" not in err[0], err[0]
    snapshot = published_path(home)
    assert _rows(snapshot, "SELECT edition FROM raw.editions ORDER BY edition") == [("csy2021",), ("csy2022",)]
    assert _rows(snapshot, "SELECT count(*) FROM marts.province_year_panel") == [(630,)]
    assert _rows(snapshot, "SELECT count(*) > 0 FROM analysis.estimates") == [(True,)]
    assert tree.seen, "the build started no process: the tree was not watched"
    assert _left_behind(tree.seen.values(), within=5) == []


@pytest.mark.slow
def test_remove_into_a_pipe_closed_after_two_lines_publishes_without_the_edition(sample_build, tmp_path):
    """`provpanel remove csy2022 | head -2`: the rows go, and the rebuild after them finishes, so
    the published snapshot no longer holds the edition."""
    editions, home = tmp_path / "editions", copy_home(sample_build[0], tmp_path / "home")
    shutil.copytree(SAMPLE_EDITIONS_DIR, editions)
    shutil.move(str(editions / "csy2022"), str(tmp_path / "csy2022-withdrawn"))
    remove = _start(["remove", "csy2022"], provpanel_env(home, editions), stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    try:
        reader = _read_all(remove.stderr, err)
        head = [remove.stdout.readline() for _ in range(2)]
        remove.stdout.close()
        returncode = remove.wait(timeout=900)
        reader.join(timeout=30)
    finally:
        _kill_group(remove)
    assert head[0].startswith("removed edition csy2022"), head
    assert returncode == 0, err
    assert "Traceback" not in err[0], err[0]
    snapshot = published_path(home)
    assert _rows(snapshot, "SELECT edition FROM raw.editions") == [("csy2021",)]
    assert _rows(snapshot, "SELECT count(*) FROM raw.extract_values WHERE edition = 'csy2022'") == [(0,)]
    assert _rows(snapshot, "SELECT max(year) FROM marts.province_year_panel") == [(2020,)]


def _dbt_build_of(build: subprocess.Popen, running_for: float) -> psutil.Process | None:
    """The build's `dbt build` subprocess once it has run `running_for` seconds."""
    try:
        children = psutil.Process(build.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    for child in children:
        try:
            argv = child.cmdline()
            if "build" in argv and any(part.endswith("dbt") for part in argv):
                return child if time.time() - child.create_time() >= running_for else None
        except psutil.NoSuchProcess:
            continue
    return None


def _forced_build_in_dbt(sample_build, tmp_path) -> tuple[subprocess.Popen, psutil.Process]:
    home = copy_home(sample_build[0], tmp_path / "home")
    build = _start(["build", "--force"], provpanel_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    while (dbt := _dbt_build_of(build, running_for=2.0)) is None:
        assert build.poll() is None, f"the build ended (status {build.returncode}) before dbt ran"
        assert time.monotonic() - started < 600, "the build never reached dbt"
        time.sleep(0.05)
    return build, dbt


@pytest.mark.slow
def test_build_terminated_in_dbt_takes_its_tree_and_leaves_nothing_defunct(sample_build, tmp_path):
    build, dbt = _forced_build_in_dbt(sample_build, tmp_path)
    try:
        tree = psutil.Process(build.pid).children(recursive=True)
        os.kill(build.pid, signal.SIGTERM)  # the provpanel process only, as `kill PID` does
        returncode = build.wait(timeout=120)
        left = _left_behind(tree, within=10)
    finally:
        _kill_group(build)
    assert dbt in tree
    assert left == []
    assert returncode == -signal.SIGTERM  # ended by the signal, as a killed process is


@pytest.mark.slow
def test_build_killed_outright_in_dbt_takes_its_dbt_within_seconds(sample_build, tmp_path):
    build, dbt = _forced_build_in_dbt(sample_build, tmp_path)
    try:
        tree = psutil.Process(build.pid).children(recursive=True)
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=60)
        left = _left_behind(tree, within=10)
    finally:
        _kill_group(build)
    # the killed process cannot reap its children: those it leaves are init's to reap, and a
    # zombie there has stopped running; none may still run
    running = [line for line in left if " defunct" not in line]
    assert running == []
    assert not dbt.is_running() or dbt.status() == psutil.STATUS_ZOMBIE


# ---------------------------------------------------------------- a fetch and an export (no build)


def _into_closed_pipe(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """`provpanel ARGS` with its stdout a pipe whose reader is gone before the first line."""
    process = subprocess.Popen([PROVPANEL_BIN, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    return subprocess.CompletedProcess(args, process.wait(timeout=300), "", stderr)


@pytest.fixture
def portal():
    """The recorded portal answers, plus table A0201 for Beijing built from them (as in
    test_portal_fetch.py: the two-step lookup of GDP needs it and no recording holds it)."""
    from portal_replay import RecordedPortal, table_answer_built_from_indicator_answers

    extra = {("QueryData", "fsnd", "zb", "A0201", "110000"):
             table_answer_built_from_indicator_answers(["A020101", "A020103"])}
    with RecordedPortal(extra=extra) as server:
        yield server


def test_fetch_into_a_closed_pipe_completes_the_edition(portal, tmp_path):
    from provpanel.edition_manifest import load_manifest
    from provpanel.editions import unfinished_editions

    editions = tmp_path / "editions"
    env = provpanel_env(tmp_path / "home", editions, extra_env={
        "PROVPANEL_PORTAL_URL": portal.url, "PROVPANEL_PORTAL_DELAY": "0", "PROVPANEL_PORTAL_BACKOFF": "0",
        "PROVPANEL_PORTAL_TIMEOUT": "5", "PROVPANEL_PORTAL_RETRIES": "2"})
    completed = _into_closed_pipe(["fetch", "portal2026", "--indicators", "gdp,va_secondary",
                                   "--years", "2020-2021"], env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert unfinished_editions(editions) == []
    assert len(load_manifest(editions / "portal2026").files) == 2


def test_export_into_a_closed_pipe_writes_the_file_and_says_it_succeeded(sample_build, tmp_path):
    home, _ = sample_build
    out = tmp_path / "panel.csv"
    completed = _into_closed_pipe(["export", "--format", "csv", "--out", str(out)], provpanel_env(home))
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 631  # the header and 630 rows


def _terminal_of_its_own() -> None:
    """In the child before exec: a session of its own whose controlling terminal is its stdin."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_fetch_in_a_terminal_that_closes_completes_the_edition(portal, tmp_path):
    """The terminal closes after the fetch's first line: the kernel hangs up the session
    (SIGHUP) and every later write fails (EIO); the fetch goes on and completes the edition."""
    import pty

    from provpanel.edition_manifest import load_manifest
    from provpanel.editions import unfinished_editions

    editions = tmp_path / "editions"
    env = provpanel_env(tmp_path / "home", editions, extra_env={
        "PROVPANEL_PORTAL_URL": portal.url, "PROVPANEL_PORTAL_DELAY": "1",  # a second between requests
        "PROVPANEL_PORTAL_BACKOFF": "0", "PROVPANEL_PORTAL_TIMEOUT": "5", "PROVPANEL_PORTAL_RETRIES": "2"})
    terminal, its_side = pty.openpty()
    process = subprocess.Popen([PROVPANEL_BIN, "fetch", "portal2026", "--indicators", "gdp,va_secondary",
                                "--years", "2020-2021"], env=env, stdin=its_side, stdout=its_side,
                               stderr=its_side, preexec_fn=_terminal_of_its_own)  # noqa: PLW1509
    os.close(its_side)
    try:
        said = b""
        while b"\n" not in said:
            said += os.read(terminal, 1024)
        os.close(terminal)  # the terminal closes
        returncode = process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert said.startswith(b"fetching portal2026"), said
    assert returncode == 0
    assert unfinished_editions(editions) == []
    assert len(load_manifest(editions / "portal2026").files) == 2


# ---------------------------------------------------------------- the process tree, without a build

_TREE_SCRIPT = r"""
import subprocess, sys, time
from provpanel.process_tree import process_tree

with process_tree():
    # a child, and its child: `sleep` is orphaned when the shell dies, as dbt's resource tracker is
    shell = subprocess.Popen(["sh", "-c", "sleep 300 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
    print(shell.pid, shell.stdout.readline().strip(), flush=True)
    if sys.argv[1] == "leave":
        shell.stdout.close()
        sys.exit(0)  # the block ends with the shell and its sleep still running
    time.sleep(300)
"""


def _tree_script(tmp_path, how: str) -> tuple[subprocess.Popen, list]:
    script = tmp_path / "tree.py"
    script.write_text(_TREE_SCRIPT)
    process = _start_python(script, how)
    pids = [int(pid) for pid in process.stdout.readline().split()]
    return process, [psutil.Process(pid) for pid in pids]


def _start_python(script: Path, *args: str) -> subprocess.Popen:
    import sys

    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_a_process_tree_terminated_is_killed_and_reaped(tmp_path):
    process, tree = _tree_script(tmp_path, "wait")
    try:
        os.kill(process.pid, signal.SIGTERM)
        returncode = process.wait(timeout=30)
        left = _left_behind(tree, within=5)
    finally:
        _kill_group(process)
    assert left == []
    assert returncode == -signal.SIGTERM


def test_a_process_tree_killed_outright_is_ended_by_its_watchdog(tmp_path):
    process, tree = _tree_script(tmp_path, "wait")
    try:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        left = _left_behind(tree, within=10)
    finally:
        _kill_group(process)
    assert [line for line in left if " defunct" not in line] == []


def test_what_a_process_tree_leaves_running_ends_with_it(tmp_path):
    process, tree = _tree_script(tmp_path, "leave")
    try:
        returncode = process.wait(timeout=30)
        left = _left_behind(tree, within=5)
    finally:
        _kill_group(process)
    assert returncode == 0
    assert left == []
