"""What the binding indicator catalog fixes for the sample: names, printed units, precision.

The generator reads `dbt_project/seeds/indicator_catalog.csv` and refuses to run when a
catalog indicator has no place here, so a new indicator cannot be left out silently.
"""

from __future__ import annotations

import csv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"
CATALOG_CSV = SEEDS_DIR / "indicator_catalog.csv"


def seed_rows(name: str) -> list[dict[str, str]]:
    """The rows of one dbt seed, e.g. `provinces.csv`."""
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# Indicator code -> Chinese name, as the portal prints it, from the binding catalog.
NAME_ZH = {row["indicator"]: row["name_zh"] for row in seed_rows(CATALOG_CSV.name)}
EDU_LEVELS = ("edu_none", "edu_primary", "edu_junior", "edu_senior", "edu_tertiary")

# Printed unit -> (canonical unit of the catalog, printed value per canonical value).
PRINTED_UNITS = {
    "亿元": ("cny_100m", 1.0),
    "万美元": ("usd_10k", 1.0),
    "千美元": ("usd_10k", 10.0),
    "亿美元": ("usd_10k", 1e-4),
    "件": ("piece", 1.0),
    "万人": ("person_10k", 1.0),
    "人": ("person", 1.0),
    "公里": ("km", 1.0),
    "万户": ("household_10k", 1.0),
    "万平方米": ("m2_10k", 1.0),
    "万吨": ("tonne_10k", 1.0),
    "元/100美元": ("cny_per_100usd", 1.0),
}

# Precision of the simulated values in canonical units: every printed unit used below
# shows these exactly (trade at 0.1 万美元 = 1 千美元), so repeated cells agree.
CANONICAL_DECIMALS = {
    "gdp": 2,
    "va_primary": 2,
    "va_secondary": 2,
    "va_tertiary": 2,
    "exports": 1,
    "imports": 1,
    "trade_total": 1,
    "fdi_actual": 0,
    "fiscal_expenditure": 2,
    "patents_granted": 0,
    "patent_applications": 0,
    "population": 0,
    "employment": 1,
    "edu_none": 0,
    "edu_primary": 0,
    "edu_junior": 0,
    "edu_senior": 0,
    "edu_tertiary": 0,
    "optical_cable_length": 0,
    "mobile_users": 1,
    "internet_users": 1,
    "urban_road_area": 0,
    "freight_road": 0,
    "freight_water": 0,
    "freight_air": 2,
    "exchange_rate": 2,
}
MODEL_INPUTS = sorted(code for code in CANONICAL_DECIMALS if code != "exchange_rate")
if set(CANONICAL_DECIMALS) != set(NAME_ZH):  # a new catalog indicator needs a place here
    raise SystemExit(
        f"{CATALOG_CSV}: indicators differ from the generator's: "
        f"{sorted(set(NAME_ZH) ^ set(CANONICAL_DECIMALS))}"
    )
