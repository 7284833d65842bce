"""Shared fixtures. Every test uses its own temporary PROVPANEL_HOME, never the user's.

Markers (pyproject.toml): `slow` for a test that runs a full `provpanel build` or reads the
session's sample build (marked here, from its fixtures), `browser`, `real_data`. `make test`
runs every test; `make test-fast` leaves those three out.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

# Anything in this test process that falls back to the default home (the Dagster definitions,
# the dbt manifest) lands in a throw-away folder, never in the user's .provpanel/.
os.environ["PROVPANEL_HOME"] = tempfile.mkdtemp(prefix="provpanel-test-home-")
os.environ.pop("DAGSTER_HOME", None)

from cli_helpers import run_provpanel


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """One full `provpanel build` of the bundled sample into a temporary home, shared by tests
    that only read its results (a build costs about a minute). No test writes to this home: a
    test that builds on it again, or changes its editions, works on a copy
    (`cli_helpers.copy_home`). Under pytest-xdist the workers share it too: the first worker
    to ask builds it in the session's common temporary folder, the others wait on a lock and
    read the outcome it recorded."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home, outcome = shared / "sample-home", shared / "sample-build.json"
    with open(shared / "sample-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if not outcome.exists():
            done = run_provpanel(["build"], home=home)
            outcome.write_text(json.dumps({"args": done.args, "returncode": done.returncode,
                                           "stdout": done.stdout, "stderr": done.stderr}))
    completed = subprocess.CompletedProcess(**json.loads(outcome.read_text()))
    assert completed.returncode == 0, f"build failed:\nSTDOUT:\n{completed.stdout}\nSTDERR:\n{completed.stderr}"
    return home, completed


# The files that take longest (pytest --durations=0 under `make test`, seconds summed per file),
# longest first. `make test` hands files to its two workers in collection order
# (--no-loadscope-reorder), so these start first and no long file is left running alone at the
# end; the other files follow in their usual order. A file missing here only runs later.
LONGEST_FILES_FIRST = (
    "test_published_snapshot.py",      # killed builds, a build under readers
    "test_validation_unit_slips.py",   # three builds, 170 checks
    "test_work_outlives_the_terminal.py",  # four builds: closed pipes, killed builds
    "test_validation_identities.py",   # a build stopped at ingest, 72 real-file slips
    "test_ui_browser.py",
    "test_editions_lifecycle.py",
    "test_cli_failures.py",
    "test_partial_editions_end_to_end.py",
    "test_bad_input_end_to_end.py",
    "test_settings.py",
    "test_adding_an_edition.py",
    "test_ui_process.py",
    "test_portal_fetch.py",
    "test_scale.py",
    "test_dbt_panel.py",
    "test_validation_corruptions.py",
)


def pytest_collection_modifyitems(items):
    """A test that needs the sample build (directly or through another fixture) is slow: the
    build costs a minute the first time a session asks for it. The longest files go first."""
    for item in items:
        if "sample_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    missing = [name for name in LONGEST_FILES_FIRST if not (Path(__file__).parent / name).exists()]
    if missing:  # a renamed file would silently lose its place
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FILES_FIRST names no such file: {missing}")
    rank = {name: position for position, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
