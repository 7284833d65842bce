"""One indicator of the model as a file prints it: a unit, a precision, the years shown."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .catalog import PRINTED_UNITS
from .model import Panel


@dataclass(frozen=True)
class Series:
    """One indicator over some years, as a file prints it."""

    indicator: str
    unit: str  # printed unit
    decimals: int
    years: tuple[int, ...]  # years shown, in file order (cells may be empty)
    cells: dict[tuple[str, int], str]  # (province code, year) -> printed text
    national: dict[int, str] = field(default_factory=dict)  # year -> printed 全国 value
    provincial: bool = True  # False: one national value a year (the exchange rate)


def fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def make_series(
    panel: Panel,
    missing: dict[str, np.ndarray],
    indicator: str,
    unit: str,
    decimals: int,
    years: tuple[int, ...],
    data_years: tuple[int, ...] | None = None,
    national_rng: np.random.Generator | None = None,
) -> Series:
    """Print `indicator` in `unit`; years outside data_years are shown but left empty.

    With `national_rng`, a 全国 total is printed too; the exchange rate is only national.
    """
    factor = PRINTED_UNITS[unit][1]
    data_years = years if data_years is None else data_years
    published = [year for year in years if year in data_years]
    if indicator == "exchange_rate":
        national = {
            year: fmt(panel.exchange_rate[panel.column(year)] * factor, decimals)
            for year in published
        }
        return Series(indicator, unit, decimals, years, {}, national, provincial=False)
    cells: dict[tuple[str, int], str] = {}
    national = {}
    # The national total differs from the sum of provinces by under 1 %, a level that is
    # specific to the file plus a little yearly noise.
    file_discrepancy = national_rng.uniform(-0.006, 0.006) if national_rng is not None else 0.0
    for year in published:
        col = panel.column(year)
        column = panel.values[indicator][:, col] * factor
        for i, province in enumerate(panel.provinces):
            if not missing[indicator][i, col]:
                cells[(province.code, year)] = fmt(column[i], decimals)
        if national_rng is not None:
            discrepancy = file_discrepancy + national_rng.uniform(-0.002, 0.002)
            national[year] = fmt(column.sum() * (1 + discrepancy), decimals)
    return Series(indicator, unit, decimals, years, cells, national)
