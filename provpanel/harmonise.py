"""Names and units: the one reviewed place that maps what a download prints to project codes.

Reads three lookups from the dbt seeds folder (`provpanel.config.SEEDS_DIR`), once:
- `province_aliases.csv`  (alias, province_code, kind): spellings -> GB/T 2260 code, `00` national
  (read from the geography folder instead when PROVPANEL_GEOGRAPHY names one, with the units'
  own provinces.csv: the scale benchmark's prefectures and counties)
- `indicator_aliases.csv` (label, indicator): printed indicator labels -> catalog code
- `unit_factors.csv`      (unit_label, unit_code, factor): printed unit -> unit code and factor
- `portal_indicator_codes.csv` (indicator, portal_db, table_code, ..., confidence, evidence):
  where the portal holds each catalog indicator, reviewed (provpanel/portal/seed.py)
and the indicator catalog (`indicator_catalog.csv`) for each indicator's canonical unit.

Units of one dimension convert into each other (`人` into `person_10k`); the one permitted
exception is money: trade or FDI printed in CNY stays in `cny_100m` (dbt converts it with the
exchange rate, visibly), it is never turned into USD here.
"""

from __future__ import annotations

import csv
import difflib
import os
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from provpanel import config
from provpanel.errors import ExtractError

NATIONAL_CODE = "00"

# Unit codes of the catalog: (dimension, size of one unit in the dimension's base unit).
# Units convert only within a dimension; CNY and USD are distinct dimensions on purpose.
UNIT_DIMENSIONS: dict[str, tuple[str, Decimal]] = {
    "cny_100m": ("money in CNY", Decimal(100000000)),
    "usd_10k": ("money in USD", Decimal(10000)),
    "piece": ("count of items", Decimal(1)),
    "person": ("count of persons", Decimal(1)),
    "person_10k": ("count of persons", Decimal(10000)),
    "km": ("length", Decimal(1)),
    "household_10k": ("count of users", Decimal(10000)),
    "m2_10k": ("area", Decimal(10000)),
    "tonne_10k": ("mass", Decimal(10000)),
    "cny_per_100usd": ("CNY per USD", Decimal(1)),
}

# Rows that are not data: notes and sources under a table (checked on the normalised label).
_NOTE_PREFIXES = (
    "注",
    "备注",
    "数据来源",
    "资料来源",
    "来源",
    "说明",
    "source",
    "data source",
    "note",
    "remark",
)
_BRACKETED_SUFFIX = re.compile(r"^(?P<label>.*?)\s*\((?P<unit>[^()]*)\)\s*$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalise_label(text: object) -> str:
    """Canonical form for matching: NFKC (full-width to ASCII), no surrounding space,
    no spaces at all inside Chinese names (`北  京`), single spaces and no case in English."""
    if text is None:
        return ""
    label = unicodedata.normalize("NFKC", str(text)).strip().strip('"').strip()
    if _CJK.search(label):
        return "".join(label.split()).casefold()
    return " ".join(label.split()).casefold()


@dataclass(frozen=True)
class CatalogEntry:
    indicator: str
    name_zh: str
    name_en: str
    canonical_unit: str
    scope: str


def seed_rows(name: str, folder: Path | None = None) -> list[dict[str, str]]:
    """The rows of one seed table (dbt_project/seeds, or `folder`), as text."""
    path = Path(folder or config.SEEDS_DIR) / name
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise ExtractError(path, "whole file", "a readable seed table", str(exc)) from exc


@lru_cache(maxsize=1)
def catalog() -> dict[str, CatalogEntry]:
    """The indicator catalog keyed by code."""
    return {
        row["indicator"]: CatalogEntry(
            indicator=row["indicator"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            canonical_unit=row["canonical_unit"],
            scope=row["scope"],
        )
        for row in seed_rows("indicator_catalog.csv")
    }


def _geography() -> Path:
    """The folder of the units' tables: PROVPANEL_GEOGRAPHY's folder, else the seeds."""
    return config.geography_dir() if os.environ.get("PROVPANEL_GEOGRAPHY") else Path(config.SEEDS_DIR)


def _province_table() -> dict[str, tuple[str, str]]:
    return _province_table_in(_geography())


@lru_cache(maxsize=4)
def _province_table_in(folder: Path) -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for row in seed_rows("province_aliases.csv", folder):
        table[normalise_label(row["alias"])] = (row["province_code"], row["kind"])
    return table


@lru_cache(maxsize=4)
def _panel_units_in(folder: Path) -> tuple[str, ...]:
    return tuple(row["province_code"] for row in seed_rows("provinces.csv", folder))


def panel_unit_codes() -> tuple[str, ...]:
    """The codes of the geography's units (the 31 provinces by default), national excluded."""
    return _panel_units_in(_geography())


@lru_cache(maxsize=1)
def _indicator_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for row in seed_rows("indicator_aliases.csv"):
        table[normalise_label(row["label"])] = row["indicator"]
    return table


@lru_cache(maxsize=1)
def _unit_table() -> dict[str, tuple[str, Decimal]]:
    table: dict[str, tuple[str, Decimal]] = {}
    for row in seed_rows("unit_factors.csv"):
        table[normalise_label(row["unit_label"])] = (row["unit_code"], Decimal(row["factor"]))
    return table


@lru_cache(maxsize=1)
def portal_indicator_codes() -> dict[str, tuple[dict[str, str], ...]]:
    """The indicator codes of the reviewed `portal_indicator_codes.csv` known with their name
    and unit (confidence `high`): portal code -> its rows (one per portal database). Rows that
    name only a table (the indicator is chosen at fetch time) map no code."""
    codes: dict[str, list[dict[str, str]]] = {}
    for row in seed_rows("portal_indicator_codes.csv"):
        if row["confidence"].strip() == "high" and row["portal_code"].strip():
            codes.setdefault(row["portal_code"].strip(), []).append(row)
    return {code: tuple(rows) for code, rows in codes.items()}


def unit_labels() -> dict[str, tuple[str, Decimal]]:
    """Every printed unit of unit_factors.csv (normalised) -> (unit code, factor)."""
    return dict(_unit_table())


def clear_caches() -> None:
    """Forget the cached seed tables (tests that point SEEDS_DIR elsewhere call this)."""
    for cached in (catalog, _province_table_in, _province_codes_in, _panel_units_in, _indicator_table, _unit_table,
                   portal_indicator_codes):
        cached.cache_clear()


# ---------------------------------------------------------------- provinces


def is_non_data_row(label: object) -> bool:
    """True for a first cell that is neither a province nor a national total: blank, or a
    note / source line (`注：`, `数据来源：`, `Source:`) that readers set aside."""
    if label is None:
        return True
    text = normalise_label(label)
    if not text:
        return True
    return text.startswith(_NOTE_PREFIXES)


def lookup_province(label: object) -> str | None:
    """The code for a spelling (`00` for a national total), or None when it is unknown."""
    entry = _province_table().get(normalise_label(label))
    return entry[0] if entry else None


def province_codes() -> frozenset[str]:
    """Every code of the alias table, `00` included."""
    return _province_codes_in(_geography())


@lru_cache(maxsize=4)
def _province_codes_in(folder: Path) -> frozenset[str]:
    return frozenset(code for code, _kind in _province_table_in(folder).values())


def resolve_province(label: object, *, file: object, where: str) -> str:
    """The two-digit code for a province spelling, `00` for a national total row."""
    code = lookup_province(label)
    if code is None:
        shown = f"'{'' if label is None else str(label).strip()}'"
        closest = closest_province_name(label)
        raise ExtractError(
            file,
            where,
            "a province name from "
            + ("province_aliases.csv" if _geography() == Path(config.SEEDS_DIR)
               else str(_geography() / "province_aliases.csv")),
            shown + (f" (closest known name: '{closest}'; a misspelling is mapped only by a "
                     "reviewed row of province_aliases.csv)" if closest else ""),
        )
    return code


def closest_province_name(label: object) -> str | None:
    """The known spelling nearest to an unknown one (`山两` -> `山西`), only for the error
    message: a misspelling is never mapped by similarity, only by a reviewed alias."""
    wanted = normalise_label(label)
    if not wanted:
        return None
    spellings = {normalise_label(row["alias"]): row["alias"]
                 for row in seed_rows("province_aliases.csv", _geography())}
    match = difflib.get_close_matches(wanted, list(spellings), n=1, cutoff=0.5)
    return spellings[match[0]] if match else None


# ---------------------------------------------------------------- indicators


def split_unit(label: object) -> tuple[str, str | None]:
    """`地区生产总值 (亿元)` -> (`地区生产总值`, `亿元`); brackets may be full-width."""
    text = unicodedata.normalize("NFKC", str(label)).strip()
    match = _BRACKETED_SUFFIX.match(text)
    if match and match.group("label").strip():
        return match.group("label").strip(), match.group("unit").strip() or None
    return text, None


def resolve_indicator(label: object) -> tuple[str | None, str | None]:
    """(catalog code or None, printed unit or None) for an indicator label.

    The whole label is tried first (`人民币汇率(年平均价)` is a catalog name with brackets),
    then the label without its bracketed unit."""
    table = _indicator_table()
    whole = normalise_label(label)
    name, unit = split_unit(label)
    if whole in table:
        # an alias may carry its unit (`长途光缆线路长度(公里)`): the bracket still says the unit
        return table[whole], unit if unit and lookup_unit(unit) else None
    return table.get(normalise_label(name)), unit


def indicator_label(label: object) -> str:
    """The label without its bracketed unit, as kept for a column that is not in the catalog."""
    name, _unit = split_unit(label)
    return " ".join(name.split())


# ---------------------------------------------------------------- units


def lookup_unit(unit_label: object) -> tuple[str, Decimal] | None:
    """(unit code, factor) for a printed unit, or None. A trailing note in brackets such as
    `hundred million CNY( at current price)` is ignored when the whole label is unknown."""
    table = _unit_table()
    whole = normalise_label(unit_label)
    if whole in table:
        return table[whole]
    name, _note = split_unit(unit_label)
    return table.get(normalise_label(name))


def canonical_unit(indicator: str) -> str:
    return catalog()[indicator].canonical_unit


def _target_unit(unit_code: str, indicator: str) -> str | None:
    """The unit a value in `unit_code` is stored in for `indicator`, None if incompatible."""
    target = canonical_unit(indicator)
    if unit_code == target:
        return target
    if unit_code == "cny_100m" and target == "usd_10k":
        return "cny_100m"  # money in CNY stays CNY; dbt converts it with the exchange rate
    have, want = UNIT_DIMENSIONS.get(unit_code), UNIT_DIMENSIONS.get(target)
    if have and want and have[0] == want[0]:
        return target
    return None


def check_unit(unit_label: object, indicator: str, *, file: object, where: str) -> str:
    """The stored unit code for a printed unit and a catalog indicator; ExtractError if the
    unit is unknown or of the wrong dimension."""
    if indicator not in catalog():
        raise ExtractError(file, where, "a catalog indicator code", f"'{indicator}'")
    known = lookup_unit(unit_label)
    if known is None:
        raise ExtractError(
            file,
            where,
            "a unit listed in unit_factors.csv (e.g. 亿元, 万人, 件)",
            f"'{unit_label}'",
        )
    target = _target_unit(known[0], indicator)
    if target is None:
        wanted = canonical_unit(indicator)
        raise ExtractError(
            file,
            where,
            f"a unit of {UNIT_DIMENSIONS.get(wanted, (wanted,))[0]} for indicator "
            f"'{indicator}' (stored in {wanted})",
            f"'{unit_label}' ({known[0]})",
        )
    return target


def unit_multiplier(unit_label: object, indicator: str, *, file: object, where: str) -> Decimal:
    """The exact factor that turns a value printed in `unit_label` into the stored unit."""
    target = check_unit(unit_label, indicator, file=file, where=where)
    unit_code, factor = lookup_unit(unit_label)  # type: ignore[misc]
    if unit_code == target:
        return factor
    return factor * UNIT_DIMENSIONS[unit_code][1] / UNIT_DIMENSIONS[target][1]


def convert(
    value: float | str, unit_label: object, indicator: str, *, file: object, where: str
) -> tuple[float, str]:
    """(value in the stored unit, unit code) for a value printed in `unit_label`.

    The product is computed in decimal so that 12345 人 becomes exactly 1.2345 万人."""
    target = check_unit(unit_label, indicator, file=file, where=where)
    multiplier = unit_multiplier(unit_label, indicator, file=file, where=where)
    exact = Decimal(value if isinstance(value, str) else repr(float(value)))
    return float(exact * multiplier), target


def same_unit(first: object, second: object) -> bool:
    """Whether two printed units mean the same thing (same code and factor)."""
    a, b = lookup_unit(first), lookup_unit(second)
    if a is None or b is None:
        return normalise_label(first) == normalise_label(second)
    return a == b
