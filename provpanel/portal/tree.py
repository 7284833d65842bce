"""Which portal code holds which catalog indicator: the reviewed seed
`dbt_project/seeds/portal_indicator_codes.csv`, confirmed through the portal's indicator tree,
and, for an indicator the seed does not list, the tree's leaves matched by name.

A code can change meaning between years of the portal (PORTAL.md), so nothing is taken on
trust: a seed code must still be in the tree under the name the seed records, and a name
match must be unique. An indicator the tree does not hold, holds under two candidate codes, or
whose seed code the tree names differently is reported with the reason, never guessed. The
unit (which the tree does not carry) is checked on the answer (`check_unit`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from provpanel import config, harmonise
from provpanel.portal.client import PortalClient

SEED_NAME = "portal_indicator_codes.csv"
SEED_COLUMNS = ("portal_db", "portal_code", "portal_name", "portal_unit", "indicator")
PROVINCE_DB = "fsnd"  # 分省年度数据
NATIONAL_DB = "hgnd"  # 宏观年度数据


class SeedError(Exception):
    """The seed file is not a valid mapping (names the file and the row)."""


@dataclass(frozen=True)
class SeedCode:
    portal_db: str
    portal_code: str
    portal_name: str
    portal_unit: str
    indicator: str


@dataclass
class Resolution:
    """Where the portal holds one catalog indicator, or why that is not known."""

    indicator: str
    portal_db: str
    portal_code: str | None = None
    portal_name: str | None = None
    via: str | None = None  # 'seed' (reviewed code confirmed by the tree) or 'tree' (name match)
    seed_unit: str | None = None  # the unit the seed records, checked on the answer
    problem: str | None = None  # why the indicator is not fetched

    def as_dict(self) -> dict:
        return asdict(self)


def seed_codes(folder: Path | None = None) -> dict[str, SeedCode]:
    """The reviewed mapping, keyed by catalog indicator (one code per indicator); read with the
    other seeds (harmonise.seed_rows), checked here for what the fetch relies on."""
    path = Path(folder or config.SEEDS_DIR) / SEED_NAME
    codes: dict[str, SeedCode] = {}
    for line, row in enumerate(harmonise.seed_rows(SEED_NAME, folder), start=2):
        if tuple(row) != SEED_COLUMNS:
            raise SeedError(f"{path}: line 1: expected the columns {','.join(SEED_COLUMNS)}, found {list(row)}")
        entry = SeedCode(**{key: (row[key] or "").strip() for key in SEED_COLUMNS})
        if entry.indicator not in harmonise.catalog():
            raise SeedError(f"{path}: line {line}: expected a catalog indicator, found '{entry.indicator}'")
        if entry.indicator in codes:
            raise SeedError(f"{path}: line {line}: expected one code per indicator, "
                            f"'{entry.indicator}' is already {codes[entry.indicator].portal_code}")
        codes[entry.indicator] = entry
    return codes


def database_of(indicator: str) -> str:
    """National series (the exchange rate) come from the national database."""
    return NATIONAL_DB if harmonise.catalog()[indicator].scope == "national" else PROVINCE_DB


def names_indicator(name: str, indicator: str) -> bool:
    """Whether a portal name is one of the indicator's reviewed labels (indicator_aliases.csv)."""
    return harmonise.resolve_indicator(name)[0] == indicator


class IndicatorTree:
    """The portal's indicator tree, asked for lazily and once per node."""

    def __init__(self, client: PortalClient) -> None:
        self.client = client
        self._children: dict[tuple[str, str], list[dict]] = {}

    def children(self, dbcode: str, parent: str) -> list[dict]:
        key = (dbcode, parent)
        if key not in self._children:
            self._children[key] = self.client.tree(dbcode, parent)
        return self._children[key]

    def find(self, dbcode: str, code: str) -> dict | None:
        """The node of `code`, walking down through the parents whose code prefixes it."""
        parent = "zb"
        while True:
            nodes = self.children(dbcode, parent)
            for node in nodes:
                if node.get("id") == code:
                    return node
            deeper = [n for n in nodes if n.get("isParent") and code.startswith(str(n.get("id")))]
            if not deeper:
                return None
            parent = str(deeper[0]["id"])

    def leaves(self, dbcode: str) -> list[dict]:
        """Every queryable indicator (leaf) of the database, in tree order."""
        found: list[dict] = []
        pending = ["zb"]
        while pending:
            parent = pending.pop(0)
            for node in self.children(dbcode, parent):
                if node.get("isParent"):
                    pending.append(str(node["id"]))
                else:
                    found.append(node)
        return found


def resolve(indicators: list[str], tree: IndicatorTree, seed: dict[str, SeedCode]) -> list[Resolution]:
    """A resolution for every indicator, in the order given."""
    return [_resolve_one(indicator, tree, seed) for indicator in indicators]


def _resolve_one(indicator: str, tree: IndicatorTree, seed: dict[str, SeedCode]) -> Resolution:
    entry = seed.get(indicator)
    if entry is not None:
        found = Resolution(indicator, entry.portal_db, seed_unit=entry.portal_unit, via="seed")
        node = tree.find(entry.portal_db, entry.portal_code)
        if node is None:
            found.problem = (f"the reviewed code {entry.portal_code} ({SEED_NAME}) is not in the "
                             f"{entry.portal_db} indicator tree")
            return found
        name = str(node.get("name", ""))
        if node.get("isParent"):
            found.problem = f"the reviewed code {entry.portal_code} is a folder of the tree ('{name}'), not an indicator"
        elif harmonise.normalise_label(name) != harmonise.normalise_label(entry.portal_name) \
                or not names_indicator(name, indicator):
            found.problem = (f"the reviewed code {entry.portal_code} is '{name}' in the tree, the seed "
                             f"says '{entry.portal_name}': the code may have changed meaning; review "
                             f"{SEED_NAME}")
        else:
            found.portal_code, found.portal_name = entry.portal_code, name
        return found

    dbcode = database_of(indicator)
    found = Resolution(indicator, dbcode, via="tree")
    candidates = [node for node in tree.leaves(dbcode) if names_indicator(str(node.get("name", "")), indicator)]
    if not candidates:
        found.problem = (f"the {dbcode} indicator tree holds no indicator under a label of "
                         f"'{indicator}' (indicator_aliases.csv)")
    elif len(candidates) > 1:
        listed = ", ".join(f"{n.get('id')} '{n.get('name')}'" for n in candidates)
        found.problem = (f"the {dbcode} tree holds {len(candidates)} candidate codes ({listed}); "
                         f"not guessed: add the right one to {SEED_NAME} after review")
    else:
        found.portal_code, found.portal_name = str(candidates[0]["id"]), str(candidates[0].get("name", ""))
    return found
