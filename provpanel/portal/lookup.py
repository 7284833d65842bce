"""Where the portal holds a catalog indicator, found in two steps and never guessed (PORTAL.md):

1. the TABLE: the reviewed table code of the seed (`seed.py`), confirmed in the portal's tree
   under its folder; where the tree holds the table once per base period (`...(2016-2020)`,
   `...(2021-2025)`), the one covering the years asked is chosen; a table that is no longer
   where the seed says is reported with the tables of the same name as candidates;
2. the INDICATOR inside it: the table asked for one region (`rowcode=zb`) lists its
   indicators with code, name and unit; the reviewed code must be there under its name and
   unit, or, with no reviewed code, exactly one indicator must carry one of the indicator's
   labels (the seed's name, the catalog's aliases) in a unit of its dimension.

Everything asked of the portal goes through `Learned`, which the fetch saves in its unfinished
folder, so a fetch stopped half-way resumes without asking the tree or the tables again.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from provpanel import harmonise
from provpanel.errors import ExtractError
from provpanel.portal.client import (
    PortalBlocked,
    PortalClient,
    PortalError,
    PortalRefused,
    PortalTLSError,
)
from provpanel.portal.seed import SEED_NAME, SeedEntry

_PERIOD = re.compile(r"^(?P<base>.*?)\s*[(（](?P<first>\d{4})\s*-\s*(?P<last>\d{4})?[)）]$")
_SPAN = re.compile(r"^(\d{4})(?:-(\d{4}))?$")
_LAST = re.compile(r"^LAST(\d{1,2})$")


@dataclass
class Plan:
    """Where the portal holds one catalog indicator, or why that is not known."""

    indicator: str
    portal_db: str | None = None
    table_code: str | None = None
    table_name: str | None = None
    portal_code: str | None = None
    portal_name: str | None = None  # as the portal gave it
    portal_unit: str | None = None  # as the portal gave it
    how: str | None = None  # how table and indicator were chosen (the manifest's notes)
    problem: str | None = None  # why the indicator is not fetched

    def as_dict(self) -> dict:
        return asdict(self)


def year_span(years: str, today: datetime.date | None = None) -> tuple[int, int]:
    """The years a `sj` value covers: `2001-2021`, `2020`, `LAST10` (the last 10 years, the
    current one included, as the portal counts them)."""
    match = _SPAN.match(years)
    if match:
        return int(match.group(1)), int(match.group(2) or match.group(1))
    last = _LAST.match(years)
    if not last:
        raise ValueError(f"years {years!r}")
    current = (today or datetime.date.today()).year
    return current - int(last.group(1)) + 1, current


def table_period(name: str) -> tuple[str, tuple[int, int | None] | None]:
    """(the name without its base period, the period) of a table name such as
    `全国居民消费价格分类指数(上年同月=100)(2016-2020)`; `(2026-)` is open-ended."""
    match = _PERIOD.match(name.strip())
    if not match:
        return name.strip(), None
    last = match.group("last")
    return match.group("base").strip(), (int(match.group("first")), int(last) if last else None)


def _same_name(first: str, second: str) -> bool:
    return harmonise.normalise_label(first) == harmonise.normalise_label(second)


@dataclass
class Learned:
    """What the portal said, keyed by what was asked: tree folders and table listings."""

    data: dict = field(default_factory=dict)
    on_change: Callable[[], None] = lambda: None

    def tree(self, client: PortalClient, dbcode: str, parent: str) -> list[dict] | None:
        """The nodes under `parent`, or None when the portal gives no list for it."""
        key = f"tree {dbcode} {parent}"
        if key not in self.data:
            try:
                self.data[key] = {"nodes": client.tree(dbcode, parent)}
            except (PortalBlocked, PortalTLSError):
                raise
            except PortalError as refused:  # the tables' own answers still decide (step 2)
                self.data[key] = {"refused": str(refused)}
            self.on_change()
        return self.data[key].get("nodes")

    def table(self, client: PortalClient, dbcode: str, table: str, years: str) -> dict:
        """{'indicators': [{code, name, unit}], 'query'} or {'refused': why}."""
        key = f"table {dbcode} {table} {years}"
        if key not in self.data:
            try:
                answer = client.table(dbcode, table, years)
            except PortalRefused as refused:
                self.data[key] = {"refused": str(refused)}
            else:
                nodes = []
                for block in answer.returndata.get("wdnodes") or []:
                    if isinstance(block, dict) and block.get("wdcode") == "zb":
                        nodes = [{"code": str(n.get("code") or ""), "name": str(n.get("cname") or n.get("name") or ""),
                                  "unit": str(n.get("unit") or "").strip()}
                                 for n in block.get("nodes") or [] if isinstance(n, dict)]
                self.data[key] = {"indicators": nodes, "query": answer.query}
            self.on_change()
        return self.data[key]


def _listed(nodes: list[dict], limit: int = 12) -> str:
    shown = [f"{n['code']} '{n['name']}' ({n['unit'] or 'no unit'})" for n in nodes[:limit]]
    more = f" and {len(nodes) - limit} more" if len(nodes) > limit else ""
    return ", ".join(shown) + more if shown else "none"


class Finder:
    """Plans the indicators of one fetch against one client and what was already learned."""

    def __init__(self, client: PortalClient, learned: Learned, years: str) -> None:
        self.client = client
        self.learned = learned
        self.years = years
        self.span = year_span(years)

    def plan(self, indicator: str, entry: SeedEntry | None) -> Plan:
        if entry is None:
            return Plan(indicator, problem=f"no row in {SEED_NAME}: needs a reviewed portal table")
        plan = Plan(indicator, entry.portal_db)
        if entry.confidence == "not_in_portal":
            plan.problem = f"not in the portal's {entry.portal_db} tables: {entry.evidence}"
            return plan
        if not entry.fetchable:
            plan.problem = f"no reviewed portal table in {SEED_NAME} ({entry.evidence})"
            return plan
        if not self._choose_table(plan, entry):
            return plan
        self._choose_indicator(plan, entry)
        return plan

    # ------------------------------------------------------------ step 1: the table

    def _choose_table(self, plan: Plan, entry: SeedEntry) -> bool:
        db, code = entry.portal_db, entry.table_code
        parent = code[:-2] if len(code) > 3 else "zb"
        siblings = self.learned.tree(self.client, db, parent)
        if not siblings:  # the tree gave nothing under the folder: the table answer decides
            plan.table_code, plan.table_name = code, entry.table_name
            plan.how = (f"table {code} '{entry.table_name}' from {SEED_NAME} (the tree lists nothing "
                        f"under {parent})")
            return True
        tables = [n for n in siblings if not n.get("isParent")]
        seed_node = next((n for n in tables if n.get("id") == code), None)
        base = table_period(str(seed_node.get("name", "")) if seed_node else entry.table_name)[0]
        named = [n for n in tables if _same_name(table_period(str(n.get("name", "")))[0], base)]
        if len(named) > 1 and seed_node is not None:
            return self._choose_period(plan, named, parent)
        if seed_node is not None:
            # the name inside the table decides (step 2); a renamed table is only noted
            name = str(seed_node.get("name", ""))
            plan.table_code, plan.table_name = code, name
            plan.how = f"table {code} '{name}' from {SEED_NAME}, found in the tree under {parent}"
            if not _same_name(name, entry.table_name):
                plan.how += f" (the seed calls it '{entry.table_name}')"
            return True
        listed = ", ".join(f"{n.get('id')} '{n.get('name')}'" for n in named) or "none"
        plan.problem = (f"the reviewed table {code} '{entry.table_name}' is not in the {db} tree under {parent}; "
                        f"tables of that name there: {listed}. Not guessed: review {SEED_NAME}")
        return False

    def _choose_period(self, plan: Plan, named: list[dict], parent: str) -> bool:
        first, last = self.span
        periods = []
        for node in named:
            period = table_period(str(node.get("name", "")))[1]
            periods.append((node, period))
        covering = [n for n, p in periods if p is not None and p[0] <= first and (p[1] is None or last <= p[1])]
        listed = ", ".join(f"{n.get('id')} '{n.get('name')}'" for n in named)
        if len(covering) != 1:
            plan.problem = (f"the {plan.portal_db} tree holds the table once per base period ({listed}) and "
                            f"{'none' if not covering else 'more than one'} covers the years asked "
                            f"{first}-{last}: fetch each period as its own edition (--years)")
            return False
        node = covering[0]
        plan.table_code, plan.table_name = str(node.get("id")), str(node.get("name", ""))
        plan.how = (f"table {plan.table_code} '{plan.table_name}' chosen for the years {first}-{last} among "
                    f"the tables per base period under {parent}: {listed}")
        return True

    # ------------------------------------------------------------ step 2: the indicator

    def _choose_indicator(self, plan: Plan, entry: SeedEntry) -> None:
        table = str(plan.table_code)
        listing = self.learned.table(self.client, entry.portal_db, table, self.years)
        if "refused" in listing:
            if entry.portal_code:
                # the reviewed code's own answer carries its name and unit: checked there instead
                plan.portal_code, plan.portal_name, plan.portal_unit = (entry.portal_code, entry.portal_name,
                                                                         entry.portal_unit)
                plan.how = (f"{plan.how}; the table's listing was refused ({listing['refused']}): reviewed code "
                            f"{entry.portal_code} confirmed by name and unit in its own answer")
                return
            plan.problem = (f"table {table} '{plan.table_name}': {listing['refused']}; the table may have moved: "
                            f"review {SEED_NAME}")
            return
        nodes = listing["indicators"]
        if entry.portal_code:
            node = next((n for n in nodes if n["code"] == entry.portal_code), None)
            if node is None:
                plan.problem = (f"the reviewed code {entry.portal_code} is not in table {table}, whose indicators "
                                f"are: {_listed(nodes)}; not guessed: review {SEED_NAME}")
                return
            if not self._names(node["name"], entry):
                plan.problem = (f"the reviewed code {entry.portal_code} is '{node['name']}' in table {table}, "
                                f"{SEED_NAME} says '{entry.portal_name}': the code may have changed meaning")
                return
            problem = self._unit_problem(node, entry)
            if problem:
                plan.problem = problem
                return
            how = f"reviewed code {entry.portal_code} confirmed in the table by name and unit"
        else:
            named = [n for n in nodes if self._names(n["name"], entry)]
            if not named:
                plan.problem = (f"table {table} '{plan.table_name}' holds no indicator named like "
                                f"'{entry.portal_name}' (or a catalog label of {plan.indicator}); its indicators: "
                                f"{_listed(nodes)}")
                return
            fitting = [n for n in named if self._unit_problem(n, entry) is None]
            if not fitting:
                plan.problem = "; ".join(str(self._unit_problem(n, entry)) for n in named)
                return
            if len(fitting) > 1:
                plan.problem = (f"table {table} holds {len(fitting)} candidates for {plan.indicator}: "
                                f"{_listed(fitting)}; not guessed: add the right code to {SEED_NAME} after review")
                return
            node = fitting[0]
            how = f"indicator chosen in the table by name and unit (no reviewed code in {SEED_NAME})"
        plan.portal_code, plan.portal_name, plan.portal_unit = node["code"], node["name"], node["unit"]
        plan.how = f"{plan.how}; {how}"

    def _names(self, name: str, entry: SeedEntry) -> bool:
        return _same_name(name, entry.portal_name) or harmonise.resolve_indicator(name)[0] == entry.indicator

    @staticmethod
    def _unit_problem(node: dict, entry: SeedEntry) -> str | None:
        code, unit = node["code"], node["unit"]
        if not unit:
            return f"the portal names no unit for {code} '{node['name']}' (not guessed)"
        if entry.portal_unit and not harmonise.same_unit(unit, entry.portal_unit):
            return (f"the portal gives {code} '{node['name']}' in '{unit}', {SEED_NAME} says "
                    f"'{entry.portal_unit}': review the seed")
        try:
            harmonise.check_unit(unit, entry.indicator, file="portal", where=code)
        except ExtractError as error:
            return f"the portal gives {code} '{node['name']}' in '{unit}': expected {error.expected}"
        return None
