"""`provpanel ui` started in the background as a non-interactive shell does it (own session,
SIGINT ignored): it stops on SIGTERM and on SIGINT, and once killed outright its children do not
keep the port. No build is needed: the UI serves an empty home."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from cli_helpers import provpanel_env
from ui_helpers import PROVPANEL_BIN, free_port

from provpanel.config import REPO_ROOT

pytestmark = pytest.mark.slow  # each test starts `provpanel ui` (dagster dev): 40-60 s

START_TIMEOUT = 180  # a cold start parses the dbt project
STOP_TIMEOUT = 30  # what a user may wait for after asking it to stop
PORT_FREE_AFTER_KILL = 15


def _ignore_sigint() -> None:
    # what a non-interactive shell does to a command started with `&`
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _port_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float) -> float | None:
    """Seconds until predicate() held, or None if it did not within timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.5)
    return None


@pytest.fixture
def start_ui(tmp_path):
    started: list[tuple[subprocess.Popen, list[psutil.Process]]] = []

    def start() -> tuple[subprocess.Popen, int, str]:
        port = free_port()
        env = provpanel_env(tmp_path / "home")
        log = tmp_path / f"ui-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([PROVPANEL_BIN, "ui", "--port", str(port)], cwd=REPO_ROOT, env=env,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, preexec_fn=_ignore_sigint)  # noqa: PLW1509
        tree: list[psutil.Process] = []
        started.append((process, tree))
        if _wait(lambda: process.poll() is not None or _port_listening(port), START_TIMEOUT) is None \
                or process.poll() is not None:
            pytest.fail(f"`provpanel ui` did not listen on {port}:\n{log.read_text(errors='replace')[-4000:]}")
        tree.extend(psutil.Process(process.pid).children(recursive=True))
        return process, port, str(log)

    yield start
    for process, tree in started:  # whatever a failed test left behind
        for proc in [*tree, psutil.Process(process.pid) if process.poll() is None else None]:
            if proc is not None and proc.is_running():
                proc.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_background_ui_stops_on_signal(start_ui, signum):
    process, port, log = start_ui()
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "dagster dev runs as a child of `provpanel ui`"
    process.send_signal(signum)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`provpanel ui` ignored {signum.name} for {STOP_TIMEOUT} s")
    assert process.returncode == 128 + signum
    _, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"left running after {signum.name}: {[p.cmdline()[:4] for p in alive]}"
    assert not _port_listening(port)
    # no misleading start-up noise: the repository's dagster.yaml is the one in DAGSTER_HOME
    text = Path(log).read_text(encoding="utf-8", errors="replace")
    assert "Launching Dagster services" in text, text[-3000:]
    assert "will not be used" not in text, text[-3000:]


def test_killed_ui_frees_its_port(start_ui):
    process, port, _ = start_ui()
    children = psutil.Process(process.pid).children(recursive=True)
    process.kill()
    process.wait(timeout=10)
    freed_after = _wait(lambda: not _port_listening(port), PORT_FREE_AFTER_KILL)
    assert freed_after is not None, f"port {port} still held {PORT_FREE_AFTER_KILL} s after SIGKILL"
    _, alive = psutil.wait_procs(children, timeout=PORT_FREE_AFTER_KILL)
    assert not alive, f"left running after SIGKILL: {[p.cmdline()[:4] for p in alive]}"

