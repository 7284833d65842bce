"""Read the coverage heat map back from its PNG: per cell, the share of its width drawn in each
status colour (provpanel.coverage.STATUS_COLOURS), so a test checks what is drawn, not only
that a file exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from provpanel.coverage import STATUS_COLOURS, STATUS_ORDER


def _status_mask(pixels: np.ndarray) -> np.ndarray:
    """Per pixel: the index of the status colour it is (within a small tolerance), or -1."""
    colours = np.array([STATUS_COLOURS[status] for status in STATUS_ORDER])
    distance = np.abs(pixels[..., None, :3] - colours[None, None]).max(axis=-1)
    nearest = distance.argmin(axis=-1)
    return np.where(distance.min(axis=-1) < 0.02, nearest, -1)


def cell_shares(png: Path, n_rows: int, n_cols: int) -> np.ndarray:
    """(n_rows, n_cols, 3): the share of each cell's middle line in observed / filled / missing.
    The map is the tallest band of rows holding status colours (the legend below it is a thin
    band of its own)."""
    import matplotlib.image

    status = _status_mask(matplotlib.image.imread(str(png)))
    coloured_rows = np.flatnonzero((status >= 0).sum(axis=1) > 0)
    # the white lines between cells are a pixel or two: a wider gap ends the map
    bands = np.split(coloured_rows, np.flatnonzero(np.diff(coloured_rows) > 4) + 1)
    band = max(bands, key=len)
    top, bottom = band[0], band[-1] + 1
    coloured_cols = np.flatnonzero((status[top:bottom] >= 0).sum(axis=0) > 0)
    left, right = coloured_cols[0], coloured_cols[-1] + 1
    shares = np.zeros((n_rows, n_cols, 3))
    for row in range(n_rows):
        y = int(top + (row + 0.5) * (bottom - top) / n_rows)
        for col in range(n_cols):
            x0 = round(left + col * (right - left) / n_cols)
            x1 = round(left + (col + 1) * (right - left) / n_cols)
            line = status[y, x0:x1]
            line = line[line >= 0]  # the white lines between cells are no status
            shares[row, col] = [np.mean(line == index) for index in range(3)]
    return shares


def expected_shares(indicators) -> np.ndarray:
    """(indicators, years, 3) from marts.indicator_coverage's counts, indicators and years in
    sorted order as the map draws them: observed, filled (interpolated + carried), missing."""
    names, years = sorted(indicators["indicator"].unique()), sorted(indicators["year"].unique())
    shares = np.zeros((len(names), len(years), 3))
    for row in indicators.itertuples(index=False):
        counts = [row.n_observed, row.n_interpolated + row.n_carried, row.n_missing]
        shares[names.index(row.indicator), years.index(row.year)] = np.array(counts) / row.n_units
    return shares


def assert_heat_map_draws(png: Path, indicators, tolerance: float = 0.06) -> None:
    """Every cell of the PNG shows its indicator-year's observed / filled / missing shares."""
    expected = expected_shares(indicators)
    drawn = cell_shares(png, *expected.shape[:2])
    worst = np.unravel_index(np.abs(drawn - expected).max(axis=-1).argmax(), expected.shape[:2])
    assert np.abs(drawn - expected).max() < tolerance, (
        f"cell {worst}: drawn {drawn[worst]}, counts {expected[worst]}")
