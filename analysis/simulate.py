"""A simulated province-year panel with known coefficients, for tests and demonstrations.

Same shape as marts.province_year_panel: 30 provinces (east 11, central 8, west 11, GB
codes), 2001-2021, the lower-case model columns. Regressors are correlated with the province
effects (so pooled OLS would be biased and the within estimator is needed); TU depends on IC,
CX and TE with the coefficients in `TRUE_EFFECTS`, TE on IC (a mediation path); FMA is
time-invariant as in the paper, FMA_tv is FMA times a national yearly index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PROVINCES_BY_REGION: dict[str, tuple[str, ...]] = {
    "east": ("110000", "120000", "130000", "210000", "310000", "320000", "330000", "350000",
             "370000", "440000", "460000"),
    "central": ("140000", "220000", "230000", "340000", "360000", "410000", "420000",
                "430000"),
    "west": ("150000", "450000", "500000", "510000", "520000", "530000", "610000", "620000",
             "630000", "640000", "650000"),
}
YEARS = tuple(range(2001, 2022))
TRUE_EFFECTS = {
    "tu_on_ic": 0.8,  # direct effect c'
    "tu_on_cx": 0.1,
    "tu_on_te": 0.3,  # b
    "te_on_ic": 0.4,  # a
}


def simulate_panel(
    seed: int = 0,
    *,
    effects: dict[str, float] | None = None,
    noise_scale: float = 1.0,
) -> pd.DataFrame:
    """630 rows, one per province-year; `effects` overrides entries of TRUE_EFFECTS."""
    true = {**TRUE_EFFECTS, **(effects or {})}
    rng = np.random.default_rng(seed)
    provinces = [(code, region) for region, codes in PROVINCES_BY_REGION.items()
                 for code in codes]
    frame = pd.DataFrame(
        [(code, year, region) for code, region in provinces for year in YEARS],
        columns=["province_code", "year", "region"],
    )
    n_rows = len(frame)
    province_index = frame["province_code"].factorize()[0]
    year_index = frame["year"].to_numpy() - YEARS[0]
    province_effect = rng.normal(size=len(provinces))[province_index]
    year_effect = rng.normal(scale=0.5, size=len(YEARS))[year_index]
    for column in ("ic", "ic2", "cx", "hum", "fdi", "gov", "inf", "ks"):
        frame[column] = rng.normal(size=n_rows) + 0.5 * province_effect + 0.3 * year_effect
    frame["te"] = true["te_on_ic"] * frame["ic"] + rng.normal(size=n_rows) + province_effect
    frame["fma"] = rng.uniform(0.2, 3.0, size=len(provinces))[province_index]
    frame["fma_tv"] = frame["fma"] * np.linspace(0.8, 1.2, len(YEARS))[year_index]
    # Errors share a province-level shock per year block, so clustering matters.
    province_shock = rng.normal(scale=0.5, size=(len(provinces), 3))[
        province_index, np.minimum(year_index // 7, 2)
    ]
    frame["tu"] = (
        true["tu_on_ic"] * frame["ic"]
        + true["tu_on_cx"] * frame["cx"]
        + true["tu_on_te"] * frame["te"]
        + 2.0 * province_effect
        + year_effect
        + noise_scale * (rng.normal(size=n_rows) + province_shock)
    )
    return frame
