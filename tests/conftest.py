"""Shared fixtures. Every test uses its own temporary PROVPANEL_HOME, never the user's."""

from __future__ import annotations

import os
import tempfile

import pytest

# Anything in this test process that falls back to the default home (the Dagster definitions,
# the dbt manifest) lands in a throw-away folder, never in the user's .provpanel/.
os.environ["PROVPANEL_HOME"] = tempfile.mkdtemp(prefix="provpanel-test-home-")
os.environ.pop("DAGSTER_HOME", None)

from cli_helpers import run_provpanel


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """One full `provpanel build` of the bundled sample into a temporary home, shared by tests
    that only read its results (a build costs about a minute)."""
    home = tmp_path_factory.mktemp("sample-home")
    completed = run_provpanel(["build"], home=home)
    assert completed.returncode == 0, f"build failed:\nSTDOUT:\n{completed.stdout}\nSTDERR:\n{completed.stderr}"
    return home, completed
