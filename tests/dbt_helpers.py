"""Helpers for the dbt tests: a small hand-made raw warehouse and a dbt runner.

The raw tables follow docs/editions.md exactly; dbt runs as a subprocess with its target and
log folders in a temporary directory, never in the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from provpanel.config import DBT_PROJECT_DIR
from provpanel.raw_schema import EDITIONS, EXTRACT_VALUES
from provpanel.warehouse import ensure_raw_schema

DBT_BIN = str(Path(sys.executable).with_name("dbt"))

ALL_PROVINCES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
]
YEARS = [2001, 2002, 2003, 2004]
EXCHANGE_RATES = {2001: 827.70, 2002: 827.70, 2003: 827.70, 2004: 827.68}

# Planted facts the tests check (kept here so data and assertions cannot drift apart).
REVISED_CELL = ("32", 2003, "gdp")  # published again, differently, by the later edition
FIRST_RELEASE_GDP_32_2003 = 1000.0 + 100 * ALL_PROVINCES.index("32") + 50 * 2
REVISED_GDP_32_2003 = FIRST_RELEASE_GDP_32_2003 + 123.0
MISSING_POPULATION_CELL = ("13", 2003)  # interior gap: interpolated
MISSING_PATENT_APPLICATIONS_CELL = ("14", 2001)  # leading gap: carried from 2002
TRADE_TOTAL_ONLY_PROVINCE = "65"  # publishes trade_total, no exports/imports split
EXPORTS_IN_CNY_PROVINCE = "12"  # exports published in CNY 100m


def province_values(position: int, code: str, year: int) -> dict[str, tuple[float, str]]:
    """Simple, varied numbers for one province-year: indicator -> (value, unit)."""
    t = year - 2001
    wobble = ((position * 7 + year * 3) % 11) / 10  # deterministic, uncorrelated-looking noise
    gdp = 1000.0 + 100 * position + 50 * t
    return {
        "gdp": (gdp, "cny_100m"),
        "va_secondary": (gdp * (0.35 + 0.01 * (position % 9)) + t, "cny_100m"),
        "va_tertiary": (gdp * (0.30 + 0.015 * (position % 7)) + 2 * t, "cny_100m"),
        "exports": (5000.0 * (position + 1) + 700 * t, "usd_10k"),
        "imports": (4000.0 * (position + 2) + 300 * t, "usd_10k"),
        "fdi_actual": (800.0 * (position % 5 + 1) + 90 * t, "usd_10k"),
        "fiscal_expenditure": (gdp * 0.12 + 5 * t + position, "cny_100m"),
        "patents_granted": (200.0 * (position + 1) + 30 * t, "piece"),
        "patent_applications": (500.0 * (position + 1) + 70 * t, "piece"),
        "population": (2000.0 + 150 * position + 10 * t, "person_10k"),
        "employment": (1100.0 + 80 * position + 6 * t, "person_10k"),
        "edu_none": (800.0 + 20 * (position % 6) - 10 * t, "person"),
        "edu_primary": (3000.0 + 50 * (position % 4) - 20 * t, "person"),
        "edu_junior": (3500.0 + 40 * (position % 5) + 15 * t, "person"),
        "edu_senior": (1200.0 + 30 * (position % 7) + 10 * t, "person"),
        "edu_tertiary": (400.0 + 25 * (position % 8) + 12 * t, "person"),
        "optical_cable_length": (3000.0 + 90 * (position % 10) + 40 * t, "km"),
        "mobile_users": (500.0 + 60 * position + 40 * t + 30 * wobble, "household_10k"),
        "internet_users": (50.0 + 9 * ((position * 5) % 31) + 15 * t, "household_10k"),
        "urban_road_area": (3000.0 + 250 * ((position * 11) % 31) + 100 * t * wobble, "m2_10k"),
        "freight_road": (20000.0 + 800 * ((position * 3) % 31) + 500 * t, "tonne_10k"),
        "freight_water": (1000.0 + 300 * (position % 4) + 50 * wobble, "tonne_10k"),
        "freight_air": (5.0 + position % 3 + t, "tonne_10k"),
    }


def synthetic_extract_values() -> pd.DataFrame:
    """raw.extract_values rows for two editions (ed_a 2020, ed_b 2021) of 31 provinces,
    2001-2004, with the planted gaps, revision and unit variants above."""
    rows: list[dict] = []

    def add(edition: str, file: str, code: str, year: int, indicator: str, value: float, unit: str,
            row: int, col: int = 2) -> None:
        rows.append({
            "edition": edition, "file": file, "file_sha256": f"sha-{edition}-{file}", "sheet": None,
            "source_row": row, "source_col": col, "province_code": code, "year": year,
            "indicator": indicator, "value": value, "unit": unit, "source_value": repr(value),
            "source_unit": unit, "in_catalog": True,
        })

    line = 0
    national_totals = {year: {"gdp": 0.0, "va_secondary": 0.0, "va_tertiary": 0.0} for year in YEARS}
    for position, code in enumerate(ALL_PROVINCES):
        for year in YEARS:
            for indicator, (value, unit) in province_values(position, code, year).items():
                if indicator in national_totals[year]:
                    national_totals[year][indicator] += value
                if (code, year) == MISSING_POPULATION_CELL and indicator == "population":
                    continue
                if (code, year) == MISSING_PATENT_APPLICATIONS_CELL and indicator == "patent_applications":
                    continue
                if code == TRADE_TOTAL_ONLY_PROVINCE and indicator in ("exports", "imports"):
                    if indicator == "exports":
                        total = value + province_values(position, code, year)["imports"][0]
                        add("ed_a", "trade.csv", code, year, "trade_total", total, "usd_10k", line := line + 1)
                    continue
                if code == EXPORTS_IN_CNY_PROVINCE and indicator == "exports":
                    value, unit = value * EXCHANGE_RATES[year] / 1_000_000, "cny_100m"
                add("ed_a", f"{indicator}.csv", code, year, indicator, value, unit, line := line + 1)
    for year in YEARS:
        add("ed_a", "national.csv", "00", year, "exchange_rate", EXCHANGE_RATES[year], "cny_per_100usd",
            line := line + 1)
        # national totals differ from the provincial sums (as the NBS's do)
        add("ed_a", "national.csv", "00", year, "gdp", national_totals[year]["gdp"] * 0.95, "cny_100m",
            line := line + 1)
        add("ed_a", "national.csv", "00", year, "va_secondary", national_totals[year]["va_secondary"] * 0.9,
            "cny_100m", line := line + 1)
        add("ed_a", "national.csv", "00", year, "va_tertiary", national_totals[year]["va_tertiary"] * 1.02,
            "cny_100m", line := line + 1)

    # the same cell in a second file of the same edition, same value: not a conflict
    duplicate = dict(rows[0], file="gdp_copy.csv", source_row=1)
    rows.append(duplicate)
    # a non-catalog column: staging must drop it
    rows.append(dict(rows[0], indicator="某个未知指标", unit="万元", in_catalog=False, value=1.0))

    code, year, indicator = REVISED_CELL
    add("ed_b", "gdp_revised.csv", code, year, indicator, REVISED_GDP_32_2003, "cny_100m", 1)
    # ed_b republishes another cell unchanged: not a revision
    add("ed_b", "gdp_revised.csv", "33", 2003, "gdp", 1000.0 + 100 * ALL_PROVINCES.index("33") + 100, "cny_100m", 2)

    frame = pd.DataFrame(rows)
    frame["loaded_at"] = datetime(2026, 11, 1, 12, 0, 0)
    return frame


def synthetic_editions(extract_values: pd.DataFrame | None = None) -> pd.DataFrame:
    """raw.editions rows of the editions in `extract_values` (default: synthetic_extract_values())."""
    values = synthetic_extract_values() if extract_values is None else extract_values
    counts = values.groupby("edition").agg(n_files=("file", "nunique"), n_values=("file", "size"))
    return pd.DataFrame([
        {"edition": "ed_a", "title": "Edition A", "published": date(2020, 1, 1), "source": "test",
         "notes": None, "manifest_sha256": "m-a", "files_sha256": "f-a"},
        {"edition": "ed_b", "title": "Edition B (revision)", "published": date(2021, 6, 1), "source": "test",
         "notes": "revises one cell", "manifest_sha256": "m-b", "files_sha256": "f-b"},
    ]).join(counts, on="edition").assign(loaded_at=datetime(2026, 11, 1, 12, 0, 0))


def write_raw_warehouse(warehouse: Path, extract_values: pd.DataFrame, editions: pd.DataFrame) -> None:
    """Create the raw tables in a new DuckDB file as the ingest does (provpanel.raw_schema) and
    fill raw.extract_values and raw.editions."""
    with duckdb.connect(str(warehouse)) as connection:
        ensure_raw_schema(connection)
        for table, frame in ((EXTRACT_VALUES, extract_values), (EDITIONS, editions)):
            connection.register("incoming", frame.reindex(columns=table.column_names))
            connection.execute(f"insert into {table.name} select * from incoming")
            connection.unregister("incoming")


def run_dbt(args: list[str], *, warehouse: Path, work_dir: Path, dbt_vars: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run dbt in the project folder against ``warehouse``; target and logs go to ``work_dir``."""
    env = {
        **os.environ,
        "PROVPANEL_WAREHOUSE": str(warehouse),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    from provpanel.config import dbt_vars as settings_vars
    from provpanel.settings import PANEL, default_values

    # every setting at its default (dbt_project.yml holds none), then the test's own vars
    given = {**settings_vars(default_values(PANEL)), **(dbt_vars or {})}
    command = [DBT_BIN, *args, "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR),
               "--vars", json.dumps(given)]
    return subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=timeout, cwd=DBT_PROJECT_DIR)


def build_synthetic_warehouse(work_dir: Path, dbt_vars: dict | None = None) -> tuple[Path, subprocess.CompletedProcess]:
    """Write the synthetic raw warehouse into work_dir and run `dbt build` on it (2001-2004)."""
    warehouse = work_dir / "warehouse.duckdb"
    extract_values = synthetic_extract_values()
    write_raw_warehouse(warehouse, extract_values, synthetic_editions(extract_values))
    completed = run_dbt(["build"], warehouse=warehouse, work_dir=work_dir,
                        dbt_vars={"panel_start_year": 2001, "panel_end_year": 2004, **(dbt_vars or {})})
    return warehouse, completed


def query(warehouse: Path, sql: str, *params) -> pd.DataFrame:
    """Read from a built warehouse (read-only: dbt has finished)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, list(params)).df()
