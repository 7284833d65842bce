"""The synthetic economy: one simulated "truth" panel and its later revision.

Values are in canonical units at their published precision; how a file prints them is
the writers' business (series.py, writers.py, workbook.py).

Data-generating process (one simulated "truth" panel, 31 provinces x 2001-2021)
------------------------------------------------------------------------------
- GDP (亿元): each province moves from its 2001 level to its 2021 level along the national
  nominal growth path (fast 2003-2011, slow 2015-2020, 2020 dip), plus a small AR(1)
  deviation. Endpoints are close to the real ones (Guangdong 11,800 -> 124,000,
  Tibet 140 -> 2,000).
- Sector shares: primary and tertiary shares move on the logit scale from province
  endpoints (tertiary about 35-45 % in 2001 -> 50-56 % in 2021, Beijing 67 % -> 82 %),
  with AR(1) noise; secondary is the rest. Value added = share x GDP, so va_primary +
  va_secondary + va_tertiary = gdp up to rounding. IC, the tertiary location quotient,
  therefore varies within a province over time.
- Trade openness TU = (exports + imports) in CNY / GDP, multiplicative:
      ln TU_it = ln level_i + year_t + 2.5 (IC_it - mean_i IC) + 1.0 (FDI/GDP - mean_i)
                 - 0.8 (GOV - mean_i) + 0.001 (CX - mean_i) + e_it,   e ~ AR(1), sd 0.05
  (the TU_ON_* constants). level_i runs from about 1.5 (Shanghai, Guangdong) to 0.05
  (inland west); year_t rises to 2006 and falls afterwards. A within regression of TU on
  IC with province and year effects therefore finds a positive slope (about +0.95 for
  the 30 provinces), steeper where trade is large (east about +2.0, centre and west
  about +0.2); the controls come out small.
  Trade in USD = TU x GDP / exchange rate; the export share of trade is province-specific.
- Population (万人) interpolates between 2001 and 2021 endpoints with noise; employment
  = population x a participation rate of 0.50-0.60 with drift.
- FDI (万美元): 0.1-7 % of GDP in CNY, higher in the east, falling over time.
- Local fiscal expenditure: 8-45 % of GDP in 2001 rising by about 70 % (capped at 60 %;
  Tibet and Qinghai highest).
- Patents granted grow about 16 % a year from a level that scales with GDP^1.2 (higher in
  Beijing, Shanghai, Jiangsu, Zhejiang, Guangdong); applications = granted x 1.5-1.9.
- Education: counts of the 1 per mille population sample survey (persons aged 6+ = 93 %
  of population x 1/1000, so tens of thousands per province), split over none / primary /
  junior / senior / tertiary by national shares that shift toward schooling over time and
  by a province development index (Tibet: many unschooled).
- Optical cable km ~ sqrt(area) and GDP, +5 %/year; mobile and broadband users per capita
  rise on concave paths (richer provinces earlier); urban road area per capita +6.5 %/year;
  freight by road ~ GDP^0.55, by water concentrated on the coast and the Yangtze (Tibet 0),
  by air concentrated in Shanghai, Guangdong, Beijing.
- Exchange rate: the official annual averages (CNY per 100 USD), no noise.
- Revision (csy2022's vintage): GDP and value added 2017 onward restated after the economic
  census (+0.5 % to +4 %, province-specific), population 2020 onward after the census.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import CANONICAL_DECIMALS, EDU_LEVELS
from .provinces import Province

SEED = 20211231
FIRST_YEAR, LAST_YEAR = 2001, 2021
YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)

# Official annual average rate, CNY per 100 USD.
EXCHANGE_RATE = {
    2001: 827.70,
    2002: 827.70,
    2003: 827.70,
    2004: 827.68,
    2005: 819.17,
    2006: 797.18,
    2007: 760.40,
    2008: 694.51,
    2009: 683.10,
    2010: 676.95,
    2011: 645.88,
    2012: 631.25,
    2013: 619.32,
    2014: 614.28,
    2015: 622.84,
    2016: 664.23,
    2017: 675.18,
    2018: 661.74,
    2019: 689.85,
    2020: 689.76,
    2021: 645.15,
}

# National nominal GDP growth, 2002-2021 (approximate), shapes every province's path.
NATIONAL_GDP_GROWTH = [
    0.097,
    0.129,
    0.178,
    0.157,
    0.171,
    0.231,
    0.182,
    0.092,
    0.183,
    0.184,
    0.104,
    0.101,
    0.082,
    0.070,
    0.084,
    0.115,
    0.105,
    0.073,
    0.027,
    0.128,
]

# The paper's story: semi-elasticities of trade openness (ln TU) within a province.
TU_ON_IC = 2.5
TU_ON_FDI = 1.0
TU_ON_GOV = -0.8
TU_ON_CX = 0.001  # per patent granted per 10,000 persons
TU_NOISE_SD = 0.05
TERTIARY_NOISE_SD = 0.09  # logit scale; the within-province variation of IC
FDI_TREND = -0.5  # ln change of FDI/GDP over 2001-2021

# Year effect of ln TU: openness rises to 2006, falls after the 2008 crisis.
TRADE_YEAR_EFFECT = [
    -0.025,
    0.01,
    0.075,
    0.125,
    0.15,
    0.165,
    0.14,
    0.09,
    -0.025,
    0.025,
    0.01,
    -0.02,
    -0.035,
    -0.05,
    -0.11,
    -0.135,
    -0.125,
    -0.11,
    -0.125,
    -0.135,
    -0.11,
]


@dataclass
class Panel:
    """Province x year values in canonical units, at their published precision."""

    provinces: tuple[Province, ...]
    years: np.ndarray
    values: dict[str, np.ndarray]  # indicator -> (n_provinces, n_years)
    exchange_rate: np.ndarray  # (n_years,)

    def column(self, year: int) -> int:
        return int(year - self.years[0])


def _ar1(rng: np.random.Generator, shape: tuple[int, int], sd: float, rho: float) -> np.ndarray:
    """Stationary AR(1) noise along the year axis."""
    shocks = rng.normal(0.0, sd * np.sqrt(1 - rho**2), size=shape)
    out = np.empty(shape)
    out[:, 0] = rng.normal(0.0, sd, size=shape[0])
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + shocks[:, t]
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _concave_path(t01: np.ndarray, speed: float) -> np.ndarray:
    """0 at the first year, 1 at the last, front-loaded when speed > 0."""
    return (1 - np.exp(-speed * t01 * 20)) / (1 - np.exp(-speed * 20))


def _within_demean(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=1, keepdims=True)


def simulate_panel(
    provinces: tuple[Province, ...], rng: np.random.Generator, noise_scale: float = 1.0
) -> Panel:
    """The 'first release' truth, 2001-2021, in canonical units (see module docstring).
    `noise_scale` shrinks the trade and tertiary-share noise (the scale benchmark's thousands
    of units would otherwise reach the tails the validation thresholds reject)."""
    n, n_years = len(provinces), len(YEARS)
    shape = (n, n_years)

    def attr(name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in provinces], dtype=float)[:, None]

    region = np.array([p.region for p in provinces])[:, None]
    is_east = (region == "east").astype(float)
    t01 = ((YEARS - FIRST_YEAR) / (LAST_YEAR - FIRST_YEAR))[None, :]
    national_path = np.concatenate([[0.0], np.cumsum(np.log1p(NATIONAL_GDP_GROWTH))])
    share_of_growth = (national_path / national_path[-1])[None, :]
    rate = np.array([EXCHANGE_RATE[y] for y in YEARS], dtype=float)

    # GDP and its sectors
    log_gdp = (
        np.log(attr("gdp_2001")) + np.log(attr("gdp_2021") / attr("gdp_2001")) * share_of_growth
    )
    endpoint_taper = np.minimum(1, 20 * t01 * (1 - t01))  # keeps 2001 and 2021 on target
    log_gdp += _ar1(rng, shape, 0.015, 0.6) * endpoint_taper
    gdp = np.exp(log_gdp)
    tertiary = _expit(
        _logit(attr("tertiary_2001")) * (1 - t01)
        + _logit(attr("tertiary_2021")) * t01
        + _ar1(rng, shape, TERTIARY_NOISE_SD * noise_scale, 0.75)
    )
    primary = _expit(
        _logit(attr("primary_2001")) * (1 - t01)
        + _logit(attr("primary_2021")) * t01
        + _ar1(rng, shape, 0.05, 0.6)
    )
    secondary = 1 - tertiary - primary
    va_primary = np.round(gdp * primary, 2)
    va_tertiary = np.round(gdp * tertiary, 2)
    va_secondary = np.round(gdp * secondary, 2)
    gdp = np.round(va_primary + va_secondary + va_tertiary + rng.uniform(-0.02, 0.02, shape), 2)
    location_quotient = (va_tertiary / gdp) / (va_tertiary.sum(0) / gdp.sum(0))[None, :]

    # People
    population = np.exp(
        np.log(attr("pop_2001")) * (1 - t01)
        + np.log(attr("pop_2021")) * t01
        + _ar1(rng, shape, 0.004, 0.8)
    )
    participation = (
        rng.uniform(0.50, 0.60, size=(n, 1))
        + rng.normal(0, 0.02, size=(n, 1)) * t01
        + _ar1(rng, shape, 0.006, 0.7)
    )
    employment = population * participation
    gdp_per_head = attr("gdp_2021") / attr("pop_2021")
    development = (np.log(gdp_per_head) - np.log(gdp_per_head).mean()) / np.log(gdp_per_head).std()

    # Money flows relative to GDP (in CNY)
    fdi_share = attr("fdi_2001") * np.exp(FDI_TREND * t01 + _ar1(rng, shape, 0.15, 0.6))
    fdi_usd_10k = fdi_share * gdp * 1e6 / rate[None, :]
    fiscal_share = np.minimum(
        attr("fiscal_2001") * (1 + 0.7 * t01) * np.exp(_ar1(rng, shape, 0.04, 0.5)), 0.6
    )
    fiscal = fiscal_share * gdp

    # Innovation
    patent_growth = rng.normal(0.16, 0.012, size=(n, 1))
    patents_granted = (
        0.23
        * attr("gdp_2001") ** 1.2
        * attr("innovation")
        * np.exp(patent_growth * (YEARS - FIRST_YEAR)[None, :] + _ar1(rng, shape, 0.08, 0.5))
    )
    patent_applications = (
        patents_granted
        * (rng.uniform(1.5, 1.7, (n, 1)) + 0.2 * t01)
        * np.exp(rng.normal(0, 0.03, shape))
    )

    # Education: 1 per mille sample survey counts of persons aged 6+
    sampled = population * 1e4 * 0.93 / 1000
    national_shares_2001 = np.array([0.095, 0.36, 0.37, 0.13, 0.045])
    national_shares_2021 = np.array([0.035, 0.25, 0.35, 0.17, 0.195])
    tilt = np.array([-0.55, -0.15, 0.0, 0.15, 0.45])  # richer -> more schooling
    tibet = (region == "tibet").astype(float)
    edu = {}
    weights = []
    for k, code in enumerate(EDU_LEVELS):
        base = national_shares_2001[k] * (1 - t01) + national_shares_2021[k] * t01
        extra = (
            1.6 * tibet if code == "edu_none" else (-0.6 * tibet if code != "edu_primary" else 0)
        )
        weights.append(base * np.exp(tilt[k] * development + extra + rng.normal(0, 0.03, shape)))
    total_weight = sum(weights)
    for code, weight in zip(EDU_LEVELS, weights):
        edu[code] = np.round(sampled * weight / total_weight)

    # Infrastructure and transport
    optical_cable = (1500 * np.sqrt(attr("area")) + 0.5 * attr("gdp_2001")) * np.exp(
        rng.normal(0.05, 0.006, (n, 1)) * (YEARS - FIRST_YEAR)[None, :]
        + _ar1(rng, shape, 0.03, 0.7)
    )
    mobile_per_head = np.exp(
        np.log(0.11 * np.exp(0.6 * development)) * (1 - _concave_path(t01, 0.15))
        + np.log(1.10 * np.exp(0.15 * development)) * _concave_path(t01, 0.15)
        + _ar1(rng, shape, 0.03, 0.6)
    )
    internet_per_head = np.exp(
        np.log(0.003 * np.exp(0.8 * development)) * (1 - _concave_path(t01, 0.2))
        + np.log(0.38 * np.exp(0.12 * development)) * _concave_path(t01, 0.2)
        + _ar1(rng, shape, 0.04, 0.6)
    )
    road_per_head = 2.0 * np.exp(
        0.3 * development + 0.065 * (YEARS - FIRST_YEAR)[None, :] + _ar1(rng, shape, 0.04, 0.7)
    )
    road_scale = rng.lognormal(0, 0.15, (n, 1))
    freight_road_raw = road_scale * gdp**0.55 * np.exp(_ar1(rng, shape, 0.05, 0.5))
    freight_road = freight_road_raw * 1.05e6 / freight_road_raw[:, 0].sum()
    water_growth = np.log(823_000 / 133_000) * t01
    water_weight = attr("water") / attr("water").sum()
    freight_water = 133_000 * water_weight * np.exp(water_growth + _ar1(rng, shape, 0.06, 0.5))
    air_weight = attr("air") / attr("air").sum()
    freight_air = 171 * air_weight * np.exp(np.log(732 / 171) * t01 + _ar1(rng, shape, 0.05, 0.6))

    # Trade openness, the paper's story (module docstring)
    patents_per_head = patents_granted / population  # per 10,000 persons
    log_openness = (
        np.log(attr("openness"))
        + np.array(TRADE_YEAR_EFFECT)[None, :]
        + TU_ON_IC * _within_demean(location_quotient)
        + TU_ON_FDI * _within_demean(fdi_share)
        + TU_ON_GOV * _within_demean(fiscal_share)
        + TU_ON_CX * _within_demean(patents_per_head)
        + _ar1(rng, shape, TU_NOISE_SD * noise_scale, 0.5)
    )
    openness = np.exp(log_openness)
    trade_usd_10k = openness * gdp * 1e6 / rate[None, :]
    export_share = np.clip(
        rng.uniform(0.5, 0.6, (n, 1)) + 0.05 * is_east + rng.normal(0, 0.02, shape), 0.3, 0.8
    )
    exports = np.round(trade_usd_10k * export_share, 1)
    imports = np.round(trade_usd_10k * (1 - export_share), 1)

    values = {
        "gdp": gdp,
        "va_primary": va_primary,
        "va_secondary": va_secondary,
        "va_tertiary": va_tertiary,
        "exports": exports,
        "imports": imports,
        "trade_total": exports + imports,
        "fdi_actual": fdi_usd_10k,
        "fiscal_expenditure": fiscal,
        "patents_granted": patents_granted,
        "patent_applications": patent_applications,
        "population": population,
        "employment": employment,
        **edu,
        "optical_cable_length": optical_cable,
        "mobile_users": mobile_per_head * population,
        "internet_users": internet_per_head * population,
        "urban_road_area": road_per_head * population,
        "freight_road": freight_road,
        "freight_water": freight_water,
        "freight_air": freight_air,
    }
    values = {code: np.round(v, CANONICAL_DECIMALS[code]) for code, v in values.items()}
    return Panel(provinces, YEARS.copy(), values, rate)


def revise_history(first_release: Panel, rng: np.random.Generator) -> Panel:
    """The csy2022 vintage: GDP and value added 2017 onward restated, population 2020 on."""
    n = len(first_release.provinces)
    values = {code: v.copy() for code, v in first_release.values.items()}
    census = first_release.years >= 2017
    # Province-specific restatement, drifting a little by year, kept within +0.5 %..+3.3 %
    # so that no sector's restatement exceeds +4 %.
    gdp_revision = np.clip(
        rng.uniform(0.006, 0.03, (n, 1)) + rng.normal(0, 0.002, (n, census.sum())), 0.005, 0.033
    )
    old = {
        code: first_release.values[code][:, census]
        for code in ("va_primary", "va_secondary", "va_tertiary")
    }
    new_primary = np.round(old["va_primary"] * (1 + 0.5 * gdp_revision), 2)
    new_secondary = np.round(old["va_secondary"] * (1 + 0.9 * gdp_revision), 2)
    new_gdp = np.round(first_release.values["gdp"][:, census] * (1 + gdp_revision), 2)
    new_tertiary = np.round(new_gdp - new_primary - new_secondary, 2)
    values["gdp"][:, census] = new_gdp
    values["va_primary"][:, census] = new_primary
    values["va_secondary"][:, census] = new_secondary
    values["va_tertiary"][:, census] = new_tertiary
    # Seventh census: the 2020 resident population restated, 2021 on the same basis.
    after_census = first_release.years >= 2020
    census_factor = 1 + np.clip(rng.normal(0, 0.015, (n, 1)), -0.04, 0.04)
    values["population"][:, after_census] = np.round(
        values["population"][:, after_census] * census_factor
    )
    return Panel(first_release.provinces, first_release.years, values, first_release.exchange_rate)
