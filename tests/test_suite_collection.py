"""The suite collects the same test ids in every process.

`make test` runs pytest-xdist, which refuses to start when two workers collect
different ids; an id built from the clock (gzip's mtime) or from set order
(hash seed) broke CI once. Two collections, seconds apart and with different
hash seeds, must list the same ids.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _collected_ids(hash_seed):
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.slow
def test_two_collections_list_the_same_test_ids():
    first = _collected_ids(1)
    time.sleep(1.1)  # a clock-stamped id changes within a second
    second = _collected_ids(2)
    assert len(first) > 700
    assert first == second, sorted(set(first) ^ set(second))[:10]
