"""Helpers for driving the Dagster UI as a user would: start `provpanel ui`, stop it, ask its
GraphQL endpoint, and open a headless Chromium on it (Debian's Chromium and ChromeDriver,
never a browser Selenium would download)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
from cli_helpers import provpanel_env

from provpanel.config import REPO_ROOT

PROVPANEL_BIN = str(Path(sys.executable).with_name("provpanel"))
CHROMIUM_BIN = "/usr/bin/chromium"
CHROMEDRIVER_BIN = "/usr/bin/chromedriver"
UI_OUTPUT_DIR = REPO_ROOT / "test-output" / "ui"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LOOPBACK_ADDRESSES = {"127.0.0.1", "::1"}


@dataclass
class UiServer:
    """A running `provpanel ui` (dagster dev) in its own process group."""

    process: subprocess.Popen
    port: int
    log_path: Path
    home: Path | None = None  # its PROVPANEL_HOME

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, max_chars: int = 6000) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return f"--- server output ({self.log_path}), last {max_chars} chars ---\n{text[-max_chars:]}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _restore_sigint() -> None:
    # A non-interactive shell leaves SIGINT ignored, and dagster dev maps SIGTERM to SIGINT:
    # without this the server could not be stopped politely.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_ui_server(home: Path, editions: Path, log_path: Path, port: int | None = None) -> UiServer:
    """Start `provpanel ui --port PORT` exactly as a user types it, output to log_path."""
    port = port or free_port()
    env = provpanel_env(home, editions)  # `provpanel ui` derives DAGSTER_HOME from PROVPANEL_HOME
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [PROVPANEL_BIN, "ui", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            # preexec_fn is safe here: the test starts the server before any other thread exists.
            start_new_session=True, preexec_fn=_restore_sigint,  # noqa: PLW1509
        )
    return UiServer(process=process, port=port, log_path=log_path, home=home)


def wait_until_serving(server: UiServer, timeout: float = 120.0) -> float:
    """Wait until the webserver answers HTTP 200 and the code location is loaded; return seconds."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"`provpanel ui` exited with code {server.process.returncode}\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/server_info", timeout=5) as response:
                if response.status == 200 and code_location_loaded(server):
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise AssertionError(f"the UI did not answer HTTP 200 within {timeout:.0f} s\n{server.log_tail()}")


def code_location_loaded(server: UiServer) -> bool:
    data = graphql(server, """query { workspaceOrError { ... on Workspace {
        locationEntries { name loadStatus locationOrLoadError { __typename } } } } }""")
    entries = data["workspaceOrError"].get("locationEntries", [])
    return bool(entries) and all(
        e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        for e in entries
    )


def stop_ui_server(server: UiServer, grace_seconds: float = 40.0) -> None:
    """SIGINT to the whole process group (dagster dev shuts its children down), then SIGKILL
    to whatever of the group or its descendants is left."""
    try:
        tree = [psutil.Process(server.process.pid), *psutil.Process(server.process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    pgid = server.process.pid  # start_new_session: the server leads its own group
    try:
        os.killpg(pgid, signal.SIGINT)
    except ProcessLookupError:
        pass
    try:
        server.process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        pass
    _, alive = psutil.wait_procs([p for p in tree if p.is_running()], timeout=5)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    server.process.wait(timeout=10)


def listening_sockets(server: UiServer) -> list[tuple[int, str, int]]:
    """(pid, address, port) of every TCP socket in LISTEN state held by the server's process tree."""
    root = psutil.Process(server.process.pid)
    pids = {root.pid, *(p.pid for p in root.children(recursive=True))}
    return sorted(
        (conn.pid, conn.laddr.ip, conn.laddr.port)
        for conn in psutil.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids
    )


def graphql(server: UiServer, query: str, variables: dict | None = None) -> dict:
    """POST one query to the UI's GraphQL endpoint; raise with the errors if it reports any."""
    request = urllib.request.Request(
        f"{server.base_url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    if body.get("errors"):
        raise AssertionError(f"GraphQL errors for {query[:80]!r}: {body['errors']}")
    return body["data"]


RUNS_QUERY = """query Runs($limit: Int) { runsOrError(limit: $limit) { __typename
  ... on Runs { results { runId status jobName creationTime tags { key value } } } } }"""

RUN_QUERY = """query Run($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { runId status jobName tags { key value }
    assetMaterializations { assetKey { path } }
    eventConnection { events { __typename
      ... on MessageEvent { message level }
      ... on ExecutionStepFailureEvent { stepKey error { message stack } }
      ... on RunFailureEvent { error { message } } } } } } }"""


def list_runs(server: UiServer, limit: int = 50) -> list[dict]:
    runs = graphql(server, RUNS_QUERY, {"limit": limit})["runsOrError"]
    assert runs["__typename"] == "Runs", runs
    return runs["results"]


def get_run(server: UiServer, run_id: str) -> dict:
    run = graphql(server, RUN_QUERY, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return run


def run_error_summary(run: dict, max_chars: int = 6000) -> str:
    """The failure messages of a run (step errors first), for an assertion message."""
    lines = []
    for event in run["eventConnection"]["events"]:
        error = event.get("error")
        if error:
            lines.append(f"{event['__typename']} {event.get('stepKey') or ''}: {error['message']}"
                         + "".join(error.get("stack") or [])[-1500:])
        elif event.get("level") in ("ERROR", "CRITICAL"):
            lines.append(f"{event['__typename']}: {event.get('message')}")
    return "\n".join(lines)[-max_chars:] or "(no error events)"


# the network "off": every host but the loopback fails to resolve, and a dead proxy catches
# whatever would still try (Chromium never proxies the loopback)
OFFLINE_ARGUMENTS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                     "--proxy-server=127.0.0.1:9")


def make_headless_chromium(user_data_dir: Path, *, offline: bool = False):
    """Debian's Chromium through Debian's ChromeDriver, headless, with nothing reaching out
    (offline: no network beyond 127.0.0.1 at all)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM_BIN
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", f"--user-data-dir={user_data_dir}",
                     "--window-size=1600,1000", *(OFFLINE_ARGUMENTS if offline else ())):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER_BIN), options=options)
    driver.set_page_load_timeout(60)
    return driver


def save_screenshot(driver, name: str) -> Path:
    UI_OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = UI_OUTPUT_DIR / name
    assert driver.save_screenshot(str(path)), f"screenshot {path} was not written"
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; fails if the file is not a PNG."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path}: not a PNG (starts with {header[:8]!r})"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
