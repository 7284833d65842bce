"""The scale benchmark's larger panels (docs/performance.md): the sample's two editions for
~300 prefectures or ~2,800 counties, and the geography folder that names those units."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .build import Edition, build_editions, write_editions
from .catalog import seed_rows
from .provinces import PROVINCES, Province

# Units per province of the scale benchmark's levels: 30 provinces (Tibet left out) x 10 = 300
# prefectures, x 93 = 2,790 counties, about as many as China has.
SCALE_UNITS_PER_PROVINCE = {"prefecture": 10, "county": 93}
SCALE_SEED = 20220101
# 0.6 x the sample's trade and tertiary noise keeps 2,790 units' year-on-year trade ratios
# inside the validation bounds, as the sample's 31 provinces are (largest 1.59 for 1.7)
SCALE_NOISE = 0.6


@dataclass(frozen=True)
class ScaleUnit:
    """A sub-provincial unit of the scale benchmark and its row in the geography tables."""

    province: Province
    coastal: bool
    capital_lat: float
    capital_lon: float


def scale_units(level: str, seed: int = SCALE_SEED, per_province: int | None = None) -> list[ScaleUnit]:
    """Units of `level` for the 30 panel provinces. Each is its parent province with noise on
    every level and share, so it has province-like magnitudes: the sample's printed precision
    and the validation thresholds apply unchanged and only the number of units grows.
    `per_province` overrides the level's count (the tests build a small geography)."""
    per_province = per_province or SCALE_UNITS_PER_PROVINCE[level]
    if level == "prefecture" and per_province > 99 or per_province > 990:
        raise ValueError(f"{per_province} units per province do not fit the {level} codes")
    rng = np.random.default_rng(seed)
    seed_by_code = {row["province_code"]: row for row in seed_rows("provinces.csv")}
    suffix_zh, suffix_en = ("市", "prefecture") if level == "prefecture" else ("县", "county")
    units: list[ScaleUnit] = []
    for parent in PROVINCES:
        if parent.region == "tibet":
            continue
        attrs = seed_by_code[parent.code]
        for i in range(per_province):
            if level == "prefecture":
                code = f"{parent.code}{i + 1:02d}00"
            else:
                code = f"{parent.code}{i // 10 + 1:02d}{i % 10 + 1:02d}"
            size = float(rng.lognormal(0, 0.25))
            growth = float(rng.lognormal(0, 0.1))
            tilt = rng.normal(0, 0.03, 3)

            def share(value: float, shift: float) -> float:
                return float(np.clip(value + shift, 0.01, 0.9))

            province = Province(
                code,
                f"{parent.short_zh}第{i + 1:02d}{suffix_zh}",
                f"{parent.short_zh}{i + 1:02d}",
                f"{parent.name_en} {suffix_en} {i + 1:02d}",
                parent.region,
                parent.area * float(rng.lognormal(0, 0.3)),
                parent.gdp_2001 * size,
                parent.gdp_2021 * size * growth,
                parent.pop_2001 * size,
                parent.pop_2021 * size * float(rng.lognormal(0, 0.03)),
                share(parent.tertiary_2001, tilt[0]),
                share(parent.tertiary_2021, tilt[0] + tilt[1]),
                share(parent.primary_2001, tilt[2] / 2),
                share(parent.primary_2021, tilt[2] / 2),
                # no unit more open than Shanghai (1.5): TU above 3 reads as a unit error
                min(parent.openness * float(rng.lognormal(0, 0.2)), 1.5),
                parent.fiscal_2001 * float(rng.lognormal(0, 0.1)),
                parent.fdi_2001 * float(rng.lognormal(0, 0.2)),
                parent.water,
                parent.air,
                parent.innovation * float(rng.lognormal(0, 0.2)),
            )
            # half of a coastal province's units are on the coast; seats within ~1 degree
            coastal = attrs["coastal"] == "true" and i % 2 == 0
            units.append(ScaleUnit(
                province,
                coastal,
                round(float(attrs["capital_lat"]) + rng.uniform(-1, 1), 4),
                round(float(attrs["capital_lon"]) + rng.uniform(-1, 1), 4),
            ))
    return units


def geography_files(units: list[ScaleUnit]) -> dict[str, bytes]:
    """provinces.csv and province_aliases.csv of a geography folder (PROVPANEL_GEOGRAPHY):
    the seeds' columns, the units' codes and spellings, the national aliases of the seed."""
    units_out = io.StringIO()
    writer = csv.writer(units_out, lineterminator="\n")
    writer.writerow(["province_code", "name_zh", "name_short_zh", "name_en", "region", "coastal",
                     "capital", "capital_lat", "capital_lon", "area_km2"])
    aliases_out = io.StringIO()
    aliases = csv.writer(aliases_out, lineterminator="\n")
    aliases.writerow(["alias", "province_code", "kind"])
    for row in seed_rows("province_aliases.csv"):
        if row["province_code"] == "00":
            aliases.writerow([row["alias"], row["province_code"], row["kind"]])
    for unit in units:
        p = unit.province
        writer.writerow([p.code, p.name_zh, p.short_zh, p.name_en, p.region,
                         "true" if unit.coastal else "false", f"{p.name_en} seat",
                         f"{unit.capital_lat:.4f}", f"{unit.capital_lon:.4f}", round(p.area * 1e4)])
        for alias in (p.name_zh, p.short_zh, p.name_en):
            aliases.writerow([alias, p.code, "province"])
    return {"provinces.csv": units_out.getvalue().encode(),
            "province_aliases.csv": aliases_out.getvalue().encode()}


def write_scale(level: str, out_dir: Path, per_province: int | None = None) -> list[Edition]:
    """<out>/editions/{csy2021,csy2022} and <out>/geography/ for a scale level."""
    units = scale_units(level, per_province=per_province)
    editions = build_editions(tuple(unit.province for unit in units), noise_scale=SCALE_NOISE)
    write_editions(editions, out_dir / "editions")
    geography = out_dir / "geography"
    geography.mkdir(parents=True, exist_ok=True)
    for name, content in geography_files(units).items():
        (geography / name).write_bytes(content)
    return editions
