"""Which sheets of a workbook (objects of an R data file) one read covers, and the indicator
and unit given for each: `--sheet NAME` reads that one, the manifest's `sheets`
(`{GDP: {indicator: gdp, unit: 亿元}}`) reads those it names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def requested_sheets(sheet: str | None, sheets: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """{name: its entry in `sheets` or None} of the sheets asked for; None when none is named
    (the reader decides: every sheet of a workbook, the only frame of a container)."""
    if sheet is not None:
        return {sheet: (sheets or {}).get(sheet)}
    if sheets:
        return dict(sheets)
    return None


def given_for(spec: Any, indicator: str | None, unit: str | None) -> tuple[str | None, str | None]:
    """The indicator and unit of one sheet: its entry's (a mapping or an object with those
    attributes) where it gives them, else the ones given for the whole file."""
    return _entry(spec, "indicator") or indicator, _entry(spec, "unit") or unit


def _entry(spec: Any, key: str) -> str | None:
    if spec is None:
        return None
    value = spec.get(key) if isinstance(spec, Mapping) else getattr(spec, key, None)
    return None if value is None else str(value)
