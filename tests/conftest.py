"""Shared fixtures. Every test uses its own temporary PROVPANEL_HOME, never the user's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Anything in this test process that falls back to the default home (the Dagster definitions,
# the dbt manifest) lands in a throw-away folder, never in the user's .provpanel/.
os.environ["PROVPANEL_HOME"] = tempfile.mkdtemp(prefix="provpanel-test-home-")
os.environ.pop("DAGSTER_HOME", None)

from provpanel.config import REPO_ROOT, SAMPLE_EDITIONS_DIR

NBS_REAL_DIR = REPO_ROOT.parent / "shared" / "data" / "nbs_real"
PROVPANEL_BIN = str(Path(sys.executable).with_name("provpanel"))


def run_provpanel(args: list[str], *, home: Path, editions: Path = SAMPLE_EDITIONS_DIR,
                  timeout: float = 900, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed `provpanel` command in a subprocess, as a user would."""
    env = {**os.environ, "PROVPANEL_HOME": str(home), "PROVPANEL_EDITIONS": str(editions)}
    env.pop("DAGSTER_HOME", None)
    env.update(extra_env or {})
    return subprocess.run([PROVPANEL_BIN, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """One full `provpanel build` of the bundled sample into a temporary home, shared by tests
    that only read its results (a build costs about a minute)."""
    home = tmp_path_factory.mktemp("sample-home")
    completed = run_provpanel(["build"], home=home)
    assert completed.returncode == 0, f"build failed:\nSTDOUT:\n{completed.stdout}\nSTDERR:\n{completed.stderr}"
    return home, completed
