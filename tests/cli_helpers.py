"""Run the installed `provpanel` command as a user would, on a given home and editions folder."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from provpanel.config import REPO_ROOT, SAMPLE_EDITIONS_DIR

NBS_REAL_DIR = REPO_ROOT.parent / "shared" / "data" / "nbs_real"
PROVPANEL_BIN = str(Path(sys.executable).with_name("provpanel"))


def provpanel_env(home: Path, editions: Path = SAMPLE_EDITIONS_DIR, extra_env: dict | None = None) -> dict:
    """The environment a test gives `provpanel`: this process's, with the home and editions
    folder; DAGSTER_HOME and PROVPANEL_WAREHOUSE left out, as provpanel derives them from the home."""
    env = {**os.environ, "PROVPANEL_HOME": str(home), "PROVPANEL_EDITIONS": str(editions)}
    for name in ("DAGSTER_HOME", "PROVPANEL_WAREHOUSE"):
        env.pop(name, None)
    env.update(extra_env or {})
    return env


def run_provpanel(args: list[str], *, home: Path, editions: Path = SAMPLE_EDITIONS_DIR,
                  timeout: float = 900, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed `provpanel` command in a subprocess, as a user would."""
    env = provpanel_env(home, editions, extra_env)
    return subprocess.run([PROVPANEL_BIN, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO_ROOT, check=False)


def run_provpanel_in_process(args: list[str], *, home: Path, editions: Path = SAMPLE_EDITIONS_DIR,
                             extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """`provpanel ARGS` through `provpanel.cli.main` in this test process, with the environment
    `run_provpanel` would give the subprocess: the same exit status and printed text, without
    importing Dagster, dbt's adapter, GX and the analysis again (about 8 s of a build). For tests
    whose guarantee is what a build does, not how the process starts or dies; the environment
    (which the build also sets, e.g. DAGSTER_HOME) is restored afterwards."""
    from provpanel import cli

    saved = dict(os.environ)
    env = provpanel_env(home, editions, extra_env)
    os.environ.clear()
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(args))
            except SystemExit as exit_:  # argparse's usage errors
                status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["provpanel", *args], status, out.getvalue(), err.getvalue())


def copy_home(source: Path, target: Path) -> Path:
    """A copy of a built home: warehouse, published versions with their (relative) links, Dagster
    storage, dbt target and the last build's record. A build on the copy goes on from the copied
    state as it would on the original: the build fingerprint and the stored editions' checksums
    do not depend on where the home or the editions folder lie, and copytree keeps the
    modification times the record compares."""
    shutil.copytree(source, target, symlinks=True)
    return target
