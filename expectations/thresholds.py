"""Load the validation thresholds from thresholds.yml (the one place they live)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.yml")


@cache
def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
