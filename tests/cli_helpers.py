"""Run the installed `provpanel` command as a user would, on a given home and editions folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
                          timeout=timeout, cwd=REPO_ROOT, check=False)
