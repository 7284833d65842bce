"""Numbers as people read them: in full or rounded for reading, never in scientific notation
for ordinary magnitudes, and a dash for a missing value (never "nan").

The stored values keep their full precision; these only shape what is printed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MISSING = "—"


def is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def decimals(value: float) -> int:
    """How many decimals the shortest exact text of a float has (113289.8 -> 1)."""
    text = np.format_float_positional(float(value), trim="-")
    return len(text.split(".")[1]) if "." in text else 0


def full_number(value) -> str:
    """A value in full, as stored (the shortest text that reads back to the same float),
    positional: 113289.8, 1008830, 0.000123."""
    if is_missing(value):
        return MISSING
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return np.format_float_positional(float(value), trim="-")


def signed_change(new, old) -> str:
    """new - old with a sign, to the decimals of the two values (no float noise: 113389.8 -
    113289.8 is +100, not +99.99999999999)."""
    if is_missing(new) or is_missing(old):
        return MISSING
    places = max(decimals(new), decimals(old))
    change = round(float(new) - float(old), places)
    text = np.format_float_positional(abs(change), precision=places, unique=False, trim="-") if places else \
        str(int(abs(change)))
    return ("-" if change < 0 else "+") + text if change else "0"


def percent(value, significant: int = 3) -> str:
    """A percent change with a sign, to `significant` digits, positional: +0.0883 %, -12.3 %; a dash
    where there is none (missing, or from a previous value of 0)."""
    if is_missing(value) or not math.isfinite(float(value)):
        return MISSING
    value = float(value)
    if value == 0:
        return "0 %"
    return ("+" if value > 0 else "-") + readable_number(abs(value), significant) + " %"


def readable_number(value, significant: int = 4) -> str:
    """A value rounded for reading to `significant` digits, positional (integers keep every digit):
    0.01234567 -> 0.01235, 1234567.89 -> 1234568."""
    if is_missing(value):
        return MISSING
    return np.format_float_positional(rounded(float(value), significant), trim="-")


def rounded(value: float, significant: int = 4) -> float:
    """A float rounded to `significant` digits, but never inside its integer part."""
    if value == 0 or not math.isfinite(value):
        return value
    magnitude = math.floor(math.log10(abs(value)))
    return round(value, max(significant - 1 - magnitude, 0))
