"""Shared fixtures. Every test uses its own temporary PROVPANEL_HOME, never the user's.

Markers (pyproject.toml): `slow` for a test that runs a full `provpanel build` or reads the
session's sample build (marked here, from its fixtures), `browser`, `real_data`. `make test`
runs every test; `make test-fast` leaves those three out.
"""

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
    that only read its results (a build costs about a minute). No test writes to this home: a
    test that builds on it again, or changes its editions, works on a copy
    (`cli_helpers.copy_home`)."""
    home = tmp_path_factory.mktemp("sample-home")
    completed = run_provpanel(["build"], home=home)
    assert completed.returncode == 0, f"build failed:\nSTDOUT:\n{completed.stdout}\nSTDERR:\n{completed.stderr}"
    return home, completed


def pytest_collection_modifyitems(items):
    """A test that needs the sample build (directly or through another fixture) is slow: the
    build costs a minute the first time a session asks for it."""
    for item in items:
        if "sample_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
