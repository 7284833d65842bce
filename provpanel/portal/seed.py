"""The reviewed seed `dbt_project/seeds/portal_indicator_codes.csv`: for every catalog
indicator, where the NBS portal holds it as far as public evidence shows
(`shared/data/portal_recorded/codes_evidence.tsv`).

The portal's tree ends at tables (PORTAL.md), so a row names the database and the TABLE, and
the indicator inside it only where a real answer showed its code with name and unit:

- `high`: table and indicator code known with name and unit; the fetch confirms the code in
  the table's answer (name and unit) before asking it for every province;
- `table`: only the table is known; the indicator is chosen at fetch time inside the table by
  name (`portal_name` or a catalog label) and unit (`portal_unit` when given, else the
  catalog's dimension), and two candidates or a unit that disagrees are reported;
- `none`: no table known: not fetched until a reviewed row says where;
- `not_in_portal`: the portal has no such province table (`evidence` says where it comes from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provpanel import config, harmonise

SEED_NAME = "portal_indicator_codes.csv"
SEED_COLUMNS = ("indicator", "portal_db", "table_code", "table_name", "portal_code", "portal_name",
                "portal_unit", "confidence", "evidence")
CONFIDENCE = ("high", "table", "none", "not_in_portal")
DATABASES = ("fsnd", "hgnd")  # province × year, national × year


class SeedError(Exception):
    """The seed file is not a valid mapping (names the file and the row)."""


@dataclass(frozen=True)
class SeedEntry:
    indicator: str
    portal_db: str
    table_code: str
    table_name: str
    portal_code: str  # empty unless `high`
    portal_name: str  # the indicator's name as the portal is expected to give it
    portal_unit: str  # empty: any unit of the catalog's dimension
    confidence: str
    evidence: str

    @property
    def fetchable(self) -> bool:
        return self.confidence in ("high", "table")

    @property
    def source(self) -> str:
        """Where the indicator comes from, in a word: 'portal' (a reviewed table), 'file' (no
        portal table known yet: a yearbook table added as an edition) or 'not in the portal'."""
        return {"high": "portal", "table": "portal", "none": "file"}.get(self.confidence, "not in the portal")

    def where_from(self) -> str:
        """One line for `provpanel coverage`: where to get the indicator."""
        if self.confidence == "not_in_portal":
            # the evidence ends with where it comes from instead ("Source: ..."), when it says
            return f"not in the portal: {self.evidence.split('Source: ', 1)[-1]}"
        if self.confidence == "none":
            return (f"a file: a yearbook table of '{self.portal_name}', added as an edition "
                    f"(no reviewed portal table yet: {self.evidence})")
        inside = (f"indicator {self.portal_code} '{self.portal_name}' ({self.portal_unit})" if self.portal_code
                  else f"indicator chosen by name '{self.portal_name}' and unit at fetch time")
        return (f"portal {self.portal_db} table {self.table_code} '{self.table_name}', {inside}; "
                f"confidence {self.confidence}")


def _check(entry: SeedEntry, path: Path, line: int) -> None:
    def fail(expected: str, found: str) -> SeedError:
        return SeedError(f"{path}: line {line} ({entry.indicator}): expected {expected}, found {found}")

    if entry.indicator not in harmonise.catalog():
        raise fail("a catalog indicator", f"'{entry.indicator}'")
    if entry.confidence not in CONFIDENCE:
        raise fail(f"a confidence among {', '.join(CONFIDENCE)}", f"'{entry.confidence}'")
    if entry.portal_db not in DATABASES:
        raise fail(f"a portal database among {', '.join(DATABASES)}", f"'{entry.portal_db}'")
    if not entry.evidence:
        raise fail("the evidence for the row", "none")
    if entry.fetchable and not (entry.table_code and entry.table_name and entry.portal_name):
        raise fail("table_code, table_name and portal_name for a fetchable row", "an empty one")
    if entry.confidence == "high" and not (entry.portal_code and entry.portal_unit):
        raise fail("portal_code and portal_unit for a `high` row", "an empty one")
    if entry.confidence != "high" and entry.portal_code:
        raise fail("no portal_code unless the code was seen with its name and unit (`high`)",
                   f"'{entry.portal_code}'")
    if entry.portal_code and not entry.portal_code.startswith(entry.table_code):
        raise fail(f"an indicator code inside table {entry.table_code}", f"'{entry.portal_code}'")
    if entry.portal_unit:
        harmonise.check_unit(entry.portal_unit, entry.indicator, file=path, where=f"line {line}")


def seed_entries(folder: Path | None = None) -> dict[str, SeedEntry]:
    """The reviewed rows, keyed by catalog indicator (one row per indicator)."""
    path = Path(folder or config.SEEDS_DIR) / SEED_NAME
    entries: dict[str, SeedEntry] = {}
    for line, row in enumerate(harmonise.seed_rows(SEED_NAME, folder), start=2):
        if tuple(row) != SEED_COLUMNS:
            raise SeedError(f"{path}: line 1: expected the columns {','.join(SEED_COLUMNS)}, found {list(row)}")
        entry = SeedEntry(**{key: (row[key] or "").strip() for key in SEED_COLUMNS})
        _check(entry, path, line)
        if entry.indicator in entries:
            raise SeedError(f"{path}: line {line}: expected one row per indicator, '{entry.indicator}' "
                            "has one already")
        entries[entry.indicator] = entry
    return entries
