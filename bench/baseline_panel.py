"""The whole pipeline as one plain Python script: the baseline the stack is timed against.

Reads the edition folders with the project's own file readers (`read_edition`: reading the
downloads is not what Dagster, dbt and Great Expectations add), then does in pandas and numpy
what the dbt project does — one value per cell and edition, the `latest` vintage policy,
linear interpolation within a province with edges carried (USD series in USD, then converted
to CNY at each year's own rate), TU's trade from the observed total first — computes the
panel variables of Models 1-2 (plus IC2 and KS) for the 30 panel provinces × 2001-2021, and
fits Model 2 with linearmodels `PanelOLS` (province and year
effects, clustered by province).

    .venv/bin/python bench/baseline_panel.py [EDITIONS_DIR]

No Dagster, no dbt, no Great Expectations, no `analysis` package: it is also an independent
re-implementation that tests/test_bench_baseline.py compares with the real build.
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()  # before the heavy imports, so the wall time counts them

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from provpanel.config import SAMPLE_EDITIONS_DIR, SEEDS_DIR
from provpanel.edition_manifest import load_manifest
from provpanel.edition_read import read_edition
from provpanel.editions import list_editions
from provpanel.errors import ExtractError

PANEL_START_YEAR = 2001
PANEL_END_YEAR = 2021
EXCLUDED_PROVINCES = frozenset({"54"})  # Tibet (docs/methods.md)
NATIONAL_CODE = "00"
MODEL_2_REGRESSORS = ["ic", "cx", "hum", "fdi", "gov", "inf"]
PANEL_VARIABLES = ["tu", "ic", "ic2", "cx", "hum", "fdi", "gov", "inf", "ks"]

# HUM (docs/methods.md): years of schooling per attainment level, and the returns per bracket
# (from, to, return) of the piecewise-linear phi. Written out here, not read from the seeds,
# so the comparison with the build also checks the seeds.
SCHOOLING_YEARS = {"edu_none": 0, "edu_primary": 6, "edu_junior": 9, "edu_senior": 12, "edu_tertiary": 16}
SCHOOLING_RETURNS = [(0, 6, 0.180), (6, 9, 0.134), (9, 12, 0.101), (12, math.inf, 0.068)]


def _read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_all_editions(editions_dir: Path) -> pd.DataFrame:
    """Every catalog value of every edition, with the edition's publication date."""
    frames = []
    for edition in list_editions(editions_dir):
        published = load_manifest(editions_dir / edition).published
        frame = read_edition(editions_dir / edition)
        frames.append(frame.assign(published=pd.Timestamp(published)))
    if not frames:
        raise SystemExit(f"baseline_panel: {editions_dir}: no edition folders with a manifest.yml")
    raw = pd.concat(frames, ignore_index=True)
    return raw[raw["in_catalog"] & raw["value"].notna()]


def resolve_latest(raw: pd.DataFrame) -> pd.DataFrame:
    """One value per province-year-indicator: within an edition the first cell in
    (file, sheet, row, column) order; across editions the latest published (then the
    edition name, descending)."""
    cells = raw.assign(sheet_order=raw["sheet"].fillna(""))
    cells = cells.sort_values(["file", "sheet_order", "source_row", "source_col"], kind="stable")
    per_edition = cells.drop_duplicates(["province_code", "year", "indicator", "edition"], keep="first")
    by_vintage = per_edition.sort_values(["published", "edition"], ascending=False, kind="stable")
    resolved = by_vintage.drop_duplicates(["province_code", "year", "indicator"], keep="first")
    return resolved[["province_code", "year", "indicator", "value", "unit"]].reset_index(drop=True)


def _usd_indicators() -> set[str]:
    return {row["indicator"] for row in _read_seed("indicator_catalog.csv") if row["canonical_unit"] == "usd_10k"}


def express_in_catalog_unit(resolved: pd.DataFrame) -> pd.DataFrame:
    """Trade and FDI printed in CNY (100m) expressed in 10k USD at the published national rate
    (CNY per 100 USD) of the same year, so every USD series is interpolated in USD; a year
    without a published rate leaves the value missing."""
    rates = resolved[(resolved["indicator"] == "exchange_rate") & (resolved["province_code"] == NATIONAL_CODE)]
    rate_by_year = dict(zip(rates["year"].astype(int), rates["value"], strict=True))
    expressed = resolved.copy()
    is_cny = expressed["indicator"].isin(_usd_indicators()) & (expressed["unit"] == "cny_100m")
    year_rate = expressed["year"].astype(int).map(rate_by_year).astype(float)
    expressed.loc[is_cny, "value"] = expressed.loc[is_cny, "value"] * 1000000 / year_rate[is_cny]
    return expressed[expressed["value"].notna()]


def convert_usd_to_cny(wide: pd.DataFrame) -> pd.DataFrame:
    """After interpolation: trade and FDI from 10k USD to 100m CNY at the national rate of each
    cell's own year (the rate series itself interpolated or carried where unpublished)."""
    national_rate = wide.loc[NATIONAL_CODE, "exchange_rate"]
    year_rate = national_rate.reindex(wide.index.get_level_values("year")).to_numpy()
    converted = wide.copy()
    for indicator in sorted(_usd_indicators() & set(wide.columns)):
        converted[indicator] = wide[indicator] * year_rate / 1000000
    return converted


def observed_mask(observed: pd.DataFrame, indicator: str, index: pd.MultiIndex) -> pd.Series:
    """True on the grid cells where `indicator` was published (not filled)."""
    cells = observed.loc[observed["indicator"] == indicator, ["province_code", "year"]]
    published = pd.MultiIndex.from_arrays([cells["province_code"], cells["year"].astype(int)])
    return pd.Series(index.isin(published), index=index)


def trade_for_tu(wide: pd.DataFrame, observed: pd.DataFrame) -> pd.Series:
    """TU's trade: an observed value beats a filled one, the total beats the split: the observed
    total, else exports + imports both observed, else the filled total, else filled exports + imports."""
    total_observed = observed_mask(observed, "trade_total", wide.index)
    split_observed = (observed_mask(observed, "exports", wide.index)
                      & observed_mask(observed, "imports", wide.index))
    split = wide["exports"] + wide["imports"]
    filled = wide["trade_total"].where(wide["trade_total"].notna(), split)
    return wide["trade_total"].where(total_observed, split.where(split_observed, filled))


def interpolate_within_province(converted: pd.DataFrame, entities: list[str]) -> pd.DataFrame:
    """Wide frame (province_code, year) × indicator on the grid: observed values kept, gaps
    interpolated linearly between the nearest observed years (years outside the grid count
    as anchors), edges carried (np.interp holds the end values)."""
    grid_years = np.arange(PANEL_START_YEAR, PANEL_END_YEAR + 1)
    columns: dict[str, np.ndarray] = {}
    observed = converted.sort_values("year")
    groups = {key: group for key, group in observed.groupby(["indicator", "province_code"], sort=False)}
    for indicator in sorted(observed["indicator"].unique()):
        values = np.full((len(entities), len(grid_years)), np.nan)
        for position, province in enumerate(entities):
            series = groups.get((indicator, province))
            if series is not None:
                values[position] = np.interp(grid_years, series["year"].to_numpy(dtype=float),
                                             series["value"].to_numpy(dtype=float))
        columns[indicator] = values.ravel()
    index = pd.MultiIndex.from_product([entities, grid_years], names=["province_code", "year"])
    return pd.DataFrame(columns, index=index)


def human_capital(wide: pd.DataFrame) -> pd.Series:
    """HUM = ln(exp(phi(E)) * employment), E the mean years of schooling of the 6+ population."""
    counts = wide[list(SCHOOLING_YEARS)]
    years = pd.Series(SCHOOLING_YEARS, dtype=float)
    average_years = (counts * years).sum(axis=1, skipna=False) / counts.sum(axis=1, skipna=False)
    schooling_return = sum(
        rate * np.maximum(0.0, np.minimum(average_years, upper) - lower)
        for lower, upper, rate in SCHOOLING_RETURNS
    )
    return np.log(np.exp(schooling_return) * wide["employment"])


def location_quotient(wide: pd.DataFrame, sector: str, reference_provinces: list[str]) -> pd.Series:
    """(sector / GDP) of the province over (sum sector / sum GDP) of the reference provinces;
    a reference member without a value makes the year's reference missing."""
    members = wide.loc[reference_provinces, [sector, "gdp"]]
    totals = members.groupby(level="year").sum(min_count=len(reference_provinces))
    reference_share = totals[sector] / totals["gdp"]
    years = wide.index.get_level_values("year")
    return (wide[sector] / wide["gdp"]) / reference_share.reindex(years).to_numpy()


def build_panel(editions_dir: str | Path = SAMPLE_EDITIONS_DIR) -> pd.DataFrame:
    """The panel (30 provinces × 2001-2021, sorted by province_code and year) with the
    columns province_code, year, region and PANEL_VARIABLES."""
    provinces = _read_seed("provinces.csv")
    all_codes = [row["province_code"] for row in provinces]
    panel_codes = [code for code in all_codes if code not in EXCLUDED_PROVINCES]
    region = {row["province_code"]: row["region"] for row in provinces}

    observed = express_in_catalog_unit(resolve_latest(read_all_editions(Path(editions_dir))))
    wide = convert_usd_to_cny(interpolate_within_province(observed, all_codes + [NATIONAL_CODE]))
    trade_cny = trade_for_tu(wide, observed)

    variables = pd.DataFrame({
        "tu": trade_cny / wide["gdp"],
        "ic": location_quotient(wide, "va_tertiary", panel_codes),
        "ic2": location_quotient(wide, "va_secondary", panel_codes),
        "cx": wide["patents_granted"] / wide["population"],
        "hum": human_capital(wide),
        "fdi": wide["fdi_actual"] / wide["gdp"],
        "gov": wide["fiscal_expenditure"] / wide["gdp"],
        "inf": wide["optical_cable_length"] / wide["population"],
        "ks": np.log(wide["patent_applications"]),
    }).loc[panel_codes].reset_index()
    variables.insert(2, "region", variables["province_code"].map(region))
    variables["year"] = variables["year"].astype(int)
    return variables


def fit_model_2(panel: pd.DataFrame):
    """Model 2: TU on IC, CX, HUM, FDI, GOV, INF with a constant, province and year effects,
    clustered by province (linearmodels' own cluster scaling for the standard errors)."""
    from linearmodels import PanelOLS

    indexed = panel.set_index(["province_code", "year"])
    exog = indexed[MODEL_2_REGRESSORS].copy()
    exog.insert(0, "const", 1.0)
    model = PanelOLS(indexed["tu"], exog, entity_effects=True, time_effects=True)
    return model.fit(cov_type="clustered", cluster_entity=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("editions", nargs="?", default=str(SAMPLE_EDITIONS_DIR),
                        help="editions folder (default: the bundled synthetic sample)")
    args = parser.parse_args(argv)
    try:
        panel = build_panel(args.editions)
    except ExtractError as error:  # a bad download or manifest: one line, no traceback
        print(f"baseline_panel: {error}", file=sys.stderr)
        return 2
    fitted = fit_model_2(panel)
    table = pd.DataFrame({"estimate": fitted.params, "std_error (linearmodels)": fitted.std_errors})
    print(f"baseline panel: {len(panel)} province-years, {panel['province_code'].nunique()} provinces, "
          f"{panel['year'].min()}-{panel['year'].max()}; Model 2 (TU), N = {fitted.nobs}")
    print(table.to_string(float_format=lambda value: f"{value:.6f}"))
    print(f"wall time: {time.perf_counter() - PROCESS_STARTED:.2f} s (imports included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
