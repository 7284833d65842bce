"""`provpanel fetch EDITION`: a new edition folder written from the portal's answers.

The folder is created new (never an existing edition) and carries the marker FETCH_MARKER
(`.fetch-unfinished`, a JSON file with the fetch's state) until every answer is saved and the
manifest is written and valid; while it is there, builds skip the folder and an ingest refuses
it (provpanel.edition_manifest). A re-run of the same command on an unfinished folder fetches only the
answers still missing. Each answer is saved untouched (the bytes as received), after the
reader has read it, so a saved file is one the build can ingest.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from provpanel import harmonise
from provpanel.atomic_files import atomic_write
from provpanel.edition_manifest import EDITION_NAME, ManifestFile, load_manifest
from provpanel.editions import FETCH_MARKER, MANIFEST_NAME
from provpanel.errors import ExtractError
from provpanel.extracts import read_extract
from provpanel.portal.client import PortalAnswer, PortalClient, PortalError, PortalRefused
from provpanel.portal.lookup import Finder, Learned, Plan, year_span
from provpanel.portal.seed import SeedError, seed_entries

_YEARS = re.compile(r"^(\d{4})(?:-(\d{4}))?$|^LAST\d{1,2}$")


class FetchError(Exception):
    """The fetch stopped; the message says why and whether a re-run resumes it."""


@dataclass
class FetchResult:
    edition: str
    folder: Path
    files: list[str] = field(default_factory=list)
    not_fetched: dict[str, str] = field(default_factory=dict)  # indicator -> reason
    requests: int = 0


def parse_indicators(text: str | None) -> list[str] | None:
    """`gdp,trade_total` or `all` (every catalog indicator); None when not given."""
    if text is None:
        return None
    catalog = harmonise.catalog()
    if text.strip().lower() == "all":
        return list(catalog)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in catalog]
    if unknown or not names:
        raise FetchError(f"--indicators {text!r}: expected catalog codes separated by commas, or all "
                         f"(unknown: {', '.join(unknown) or 'none given'}; known: {', '.join(catalog)})")
    return list(dict.fromkeys(names))


def parse_years(text: str | None) -> str | None:
    """`2001-2021`, `2021` or `LAST10`, as the portal's sj dimension takes them."""
    if text is None:
        return None
    text = text.strip()
    match = _YEARS.match(text)
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        raise FetchError(f"--years {text!r}: expected a span such as 2001-2021, a year, or LAST10/LAST20")
    return text


def default_years() -> str:
    """The panel's span (PROVPANEL_PANEL_START_YEAR/END_YEAR; `latest` ends last year)."""
    from provpanel.settings import PANEL, resolve_settings

    settings = resolve_settings().stage(PANEL)
    end = settings["panel_end_year"]
    if end == "latest":
        end = str(datetime.datetime.now(datetime.UTC).year - 1)
    return f"{settings['panel_start_year']}-{end}"


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _State:
    """The marker file: what this fetch was asked, what it learned of the portal (tree nodes,
    table listings, the plan) and what it has saved so far."""

    def __init__(self, folder: Path, data: dict) -> None:
        self.path = folder / FETCH_MARKER
        self.data = data

    @classmethod
    def load(cls, folder: Path) -> _State:
        try:
            data = json.loads((folder / FETCH_MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise FetchError(f"{folder / FETCH_MARKER}: the state of the unfinished fetch cannot be read "
                             f"({error}); remove the folder {folder} and fetch again") from None
        if not isinstance(data.get("plan"), dict) or not isinstance(data.get("learned"), dict):
            raise FetchError(f"{folder / FETCH_MARKER}: written by an older provpanel fetch (no learned tree or "
                             f"plan); remove the folder {folder} and fetch again")
        return cls(folder, data)

    def save(self) -> None:
        atomic_write(self.path, json.dumps(self.data, ensure_ascii=False, indent=1).encode("utf-8"))


def _start(folder: Path, edition: str, indicators: list[str] | None, years: str | None,
           client: PortalClient, say: Callable[[str], None]) -> _State:
    """The state of a new fetch, or of the unfinished one in `folder` (resumed)."""
    if folder.exists():
        if not (folder / FETCH_MARKER).exists():
            raise FetchError(
                f"{folder} exists and is not an unfinished fetch: a fetch writes a new edition and "
                "never into an existing one. Choose a new edition name (a correction is a new edition)."
            )
        state = _State.load(folder)
        asked = state.data
        if indicators is not None and indicators != asked["indicators"]:
            raise FetchError(f"{edition} is an unfinished fetch of {','.join(asked['indicators'])}: re-run it "
                             "with the same --indicators (or without), or remove the folder to start over")
        if years is not None and years != asked["years"]:
            raise FetchError(f"{edition} is an unfinished fetch of the years {asked['years']}: re-run it with "
                             "the same --years (or without), or remove the folder to start over")
        if client.settings.url != asked["portal_url"]:
            raise FetchError(f"{edition} was started against {asked['portal_url']}, not "
                             f"{client.settings.url} (PROVPANEL_PORTAL_URL)")
        say(f"resuming the unfinished fetch {edition}: {len(asked['files'])} answer(s) already saved, "
            f"{len(asked['plan'])} indicator(s) planned, {len(asked['learned'])} tree folder(s) and "
            "table(s) already asked")
        return state
    folder.mkdir(parents=True)
    state = _State(folder, {
        "edition": edition, "started": _utc_now(), "portal_url": client.settings.url,
        "indicators": indicators or list(harmonise.catalog()), "years": years or default_years(),
        "learned": {}, "plan": {}, "files": {}, "not_fetched": {},
    })
    state.save()
    return state


def _announce(data: dict, seed: dict, client: PortalClient, say: Callable[[str], None]) -> None:
    """What the fetch will ask and about how long it takes, before the first request."""
    todo = [ind for ind in data["indicators"] if ind not in data["files"] and ind not in data["not_fetched"]]
    rows = [seed[ind] for ind in todo if ind in seed and seed[ind].fetchable and ind not in data["plan"]]
    folders = {(e.portal_db, e.table_code[:-2] or "zb") for e in rows}
    tables = {(e.portal_db, e.table_code) for e in rows}
    fetchable = sum(1 for ind in todo if ind in seed and seed[ind].fetchable)
    at_most = len(folders) + len(tables) + fetchable
    seconds = at_most * client.delay
    say(f"  at most {at_most} request(s): {len(folders)} tree folder(s), {len(tables)} table(s), "
        f"{fetchable} indicator(s); about {seconds:.0f} s at one request every {client.delay:g} s "
        "(PROVPANEL_PORTAL_DELAY), more if the portal's firewall slows us down")


def fetch_edition(edition: str, *, editions_root: Path, indicators: list[str] | None = None,
                  years: str | None = None, client: PortalClient | None = None,
                  say: Callable[[str], None] = print) -> FetchResult:
    """Fetch `indicators` for `years` into the new edition `editions_root/edition`."""
    if not EDITION_NAME.match(edition):
        raise FetchError(f"edition name {edition!r}: expected a name matching [A-Za-z0-9][A-Za-z0-9._-]*")
    try:
        seed = seed_entries()
    except (OSError, SeedError, ExtractError) as error:
        raise FetchError(str(error)) from None
    client = client or PortalClient(say=say)
    folder = Path(editions_root) / edition
    state = _start(folder, edition, indicators, years, client, say)
    data = state.data
    say(f"fetching {edition} from {client.settings.url}: {len(data['indicators'])} indicator(s), "
        f"years {data['years']}")
    _announce(data, seed, client, say)
    finder = Finder(client, Learned(data["learned"], state.save), data["years"])
    try:
        for number, indicator in enumerate(data["indicators"], start=1):
            if indicator in data["files"] or indicator in data["not_fetched"]:
                continue
            if indicator not in data["plan"]:
                data["plan"][indicator] = finder.plan(indicator, seed.get(indicator)).as_dict()
                state.save()
            plan = Plan(**data["plan"][indicator])
            counter = f"[{number}/{len(data['indicators'])}]"
            if plan.problem:
                data["not_fetched"][indicator] = plan.problem
                state.save()
                say(f"  {counter} {indicator}: not fetched: {plan.problem}")
                continue
            _fetch_one(folder, state, plan, client, counter, say)
    except PortalError:
        state.save()
        _remove_empty(folder, state)
        raise
    state.save()

    result = FetchResult(edition, folder, [entry["path"] for entry in data["files"].values()],
                         dict(data["not_fetched"]), client.requests)
    if not result.files:
        _remove_empty(folder, state, nothing_fetched=True)
        raise FetchError(f"{edition}: nothing could be fetched, no edition written"
                         + "".join(f"\n  {ind}: {why}" for ind, why in result.not_fetched.items()))
    _write_manifest(folder, data)
    for partial in folder.glob(".*.part"):  # left by a run killed while writing
        partial.unlink()
    (folder / FETCH_MARKER).unlink()
    say(f"{edition}: complete, {len(result.files)} file(s) and manifest.yml in {folder}; "
        f"{len(result.not_fetched)} indicator(s) not fetched" + (":" if result.not_fetched else ""))
    for indicator, reason in result.not_fetched.items():
        say(f"  not fetched: {indicator}: {reason}")
    return result


def _answer_indicator(answer: PortalAnswer, code: str) -> dict | None:
    for block in answer.returndata.get("wdnodes") or []:
        if isinstance(block, dict) and block.get("wdcode") == "zb":
            for node in block.get("nodes") or []:
                if isinstance(node, dict) and str(node.get("code")) == code:
                    return node
    return None


def _published_years(answer: PortalAnswer, span: tuple[int, int]) -> list[int]:
    """The years asked for which the answer has at least one cell with `hasdata: true`."""
    found = set()
    for node in answer.returndata.get("datanodes") or []:
        cell = node.get("data") if isinstance(node, dict) else None
        if not isinstance(cell, dict) or not cell.get("hasdata"):
            continue
        for dim in node.get("wds") or []:
            if isinstance(dim, dict) and dim.get("wdcode") == "sj" and str(dim.get("valuecode", ""))[:4].isdigit():
                year = int(str(dim["valuecode"])[:4])
                if span[0] <= year <= span[1]:
                    found.add(year)
    return sorted(found)


def _fetch_one(folder: Path, state: _State, plan: Plan, client: PortalClient, counter: str,
               say: Callable[[str], None]) -> None:
    indicator, code, db = plan.indicator, str(plan.portal_code), str(plan.portal_db)
    years = state.data["years"]

    def not_fetched(reason: str) -> None:
        state.data["not_fetched"][indicator] = reason
        state.save()
        say(f"  {counter} {indicator}: not fetched: {reason}")

    try:
        answer = client.query(db, code, years)
    except PortalRefused as refused:
        not_fetched(str(refused))
        return
    node = _answer_indicator(answer, code)
    if node is None:
        not_fetched(f"the answer to QueryData {db} {code} {years} does not describe {code} in its wdnodes")
        return
    name, unit = str(node.get("cname") or node.get("name") or ""), str(node.get("unit") or "").strip()
    named = (harmonise.normalise_label(name) == harmonise.normalise_label(plan.portal_name)
             or harmonise.resolve_indicator(name)[0] == indicator)
    if not named or not harmonise.same_unit(unit, plan.portal_unit):
        not_fetched(f"the answer gives {code} as '{name}' ({unit}), expected '{plan.portal_name}' "
                    f"({plan.portal_unit}): the code may have changed meaning; not saved")
        return
    span = year_span(years)
    published = _published_years(answer, span)
    if not published:
        asked = f"{span[0]}" if span[0] == span[1] else f"{span[0]}-{span[1]}"
        not_fetched(f"nothing published for {asked}: no cell of QueryData {db} {code} {years} "
                    "has hasdata: true")
        return
    name_on_disk = f"{indicator}_{db}_{code}.json"
    target = folder / name_on_disk
    atomic_write(target, answer.body)
    try:  # a saved answer is one the build can read
        values = [v for v in read_extract(target, indicator=indicator, display_name=f"{folder.name}/{name_on_disk}")
                  if span[0] <= v.year <= span[1]]
    except ExtractError as error:
        target.unlink()
        raise FetchError(f"the portal's answer to QueryData {db} {code} {years} cannot be read: {error}") from None
    state.data["files"][indicator] = {
        "path": name_on_disk, "indicator": indicator, "keep_years": list(span),
        "notes": plan.how, "source_url": answer.url, "query": answer.query, "accessed": answer.accessed,
        "sha256": hashlib.sha256(answer.body).hexdigest(), "portal_db": db,
        "portal_table": plan.table_code, "portal_table_name": plan.table_name,
        "portal_code": code, "portal_name": name, "portal_unit": unit,
    }
    state.save()
    provinces = {v.province_code for v in values}
    say(f"  {counter} {indicator} <- {db} table {plan.table_code}, {code} '{name}' ({unit}): "
        f"{len(values)} values for {published[0]}-{published[-1]}, {len(provinces)} region(s) -> {name_on_disk}")


def _remove_empty(folder: Path, state: _State, *, nothing_fetched: bool = False) -> None:
    """A fetch that has nothing to resume (no answer saved, nothing learned of the portal, or
    finished with nothing fetchable) leaves no folder behind; only its own files are removed."""
    if state.data["files"] or (state.data["learned"] and not nothing_fetched):
        return
    # the marker and its partials (atomic_write's, left by a run killed while saving it)
    own = {FETCH_MARKER} | {p.name for p in folder.glob(f".{FETCH_MARKER}.*part")}
    if {p.name for p in folder.iterdir()} <= own:
        for name in own:
            (folder / name).unlink(missing_ok=True)
        folder.rmdir()


def _write_manifest(folder: Path, data: dict) -> None:
    accessed = sorted(entry["accessed"] for entry in data["files"].values())
    files = []
    for indicator in data["indicators"]:
        entry = data["files"].get(indicator)
        if entry:
            # the keys of a manifest's file entry, in the model's order, that this answer has
            files.append({key: entry[key] for key in ManifestFile.model_fields if entry.get(key) is not None})
    notes = f"Years {data['years']} as asked of the portal."
    if data["not_fetched"]:
        notes += " Not fetched: " + "; ".join(f"{ind}: {why}" for ind, why in data["not_fetched"].items())
    manifest = {
        "edition": data["edition"],
        "title": f"NBS data portal, fetched {accessed[-1][:10]}",
        # the day of access: orders this edition after the yearbooks it may revise
        "published": accessed[-1][:10],
        "source": f"National Bureau of Statistics data portal ({data['portal_url']}), queried by provpanel "
                  f"fetch from {accessed[0]} to {accessed[-1]}",
        "notes": notes,
        "files": files,
    }
    text = "# Written by provpanel fetch: every answer untouched, with its query (docs/editions.md).\n"
    text += yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=100)
    atomic_write(folder / MANIFEST_NAME, text.encode("utf-8"))
    try:
        load_manifest(folder, allow_unfinished=True)
    except ExtractError as error:
        raise FetchError(f"the manifest written for {folder.name} is not valid: {error}") from None


__all__ = ["FetchError", "FetchResult", "PortalError", "fetch_edition", "parse_indicators", "parse_years"]
