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
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from provpanel import harmonise
from provpanel.edition_manifest import EDITION_NAME, load_manifest
from provpanel.editions import FETCH_MARKER, MANIFEST_NAME
from provpanel.errors import ExtractError
from provpanel.extracts import read_extract
from provpanel.portal.client import PortalAnswer, PortalClient, PortalError
from provpanel.portal.tree import IndicatorTree, Resolution, SeedError, resolve, seed_codes

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


def _year_span(years: str) -> list[int] | None:
    match = _YEARS.match(years)
    if match and match.group(1):
        return [int(match.group(1)), int(match.group(2) or match.group(1))]
    return None


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target under a hidden name, then rename: a reader sees all or nothing."""
    partial = path.with_name(f".{path.name}.part")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


class _State:
    """The marker file: what this fetch was asked and what it has saved so far."""

    def __init__(self, folder: Path, data: dict) -> None:
        self.path = folder / FETCH_MARKER
        self.data = data

    @classmethod
    def load(cls, folder: Path) -> _State:
        try:
            return cls(folder, json.loads((folder / FETCH_MARKER).read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise FetchError(f"{folder / FETCH_MARKER}: the state of the unfinished fetch cannot be read "
                             f"({error}); remove the folder {folder} and fetch again") from None

    def save(self) -> None:
        _write_atomically(self.path, json.dumps(self.data, ensure_ascii=False, indent=1).encode("utf-8"))


def _answer_unit(answer: PortalAnswer, code: str) -> str | None:
    body = answer.payload.get("returndata") if isinstance(answer.payload, dict) else None
    for block in (body or {}).get("wdnodes") or []:
        if isinstance(block, dict) and block.get("wdcode") == "zb":
            for node in block.get("nodes") or []:
                if isinstance(node, dict) and str(node.get("code")) == code:
                    return str(node.get("unit") or "").strip() or None
    return None


def _unit_problem(resolution: Resolution, unit: str | None) -> str | None:
    """Why the answer's unit rules the code out for the indicator, or None."""
    code, indicator = resolution.portal_code, resolution.indicator
    if unit is None:
        return f"the answer for {code} names no unit on its indicator node (not guessed)"
    if resolution.seed_unit and not harmonise.same_unit(unit, resolution.seed_unit):
        return (f"the portal gives {code} in '{unit}', the reviewed seed says '{resolution.seed_unit}': "
                "review portal_indicator_codes.csv")
    try:
        harmonise.check_unit(unit, indicator, file="portal", where=code)
    except ExtractError as error:
        return f"the portal gives {code} in '{unit}': expected {error.expected}"
    return None


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
        say(f"resuming the unfinished fetch {edition}: {len(asked['files'])} answer(s) already saved")
        return state
    folder.mkdir(parents=True)
    state = _State(folder, {
        "edition": edition, "started": _utc_now(), "portal_url": client.settings.url,
        "indicators": indicators or list(harmonise.catalog()), "years": years or default_years(),
        "plan": None, "files": {}, "not_fetched": {},
    })
    state.save()
    return state


def fetch_edition(edition: str, *, editions_root: Path, indicators: list[str] | None = None,
                  years: str | None = None, client: PortalClient | None = None,
                  say: Callable[[str], None] = print) -> FetchResult:
    """Fetch `indicators` for `years` into the new edition `editions_root/edition`."""
    if not EDITION_NAME.match(edition):
        raise FetchError(f"edition name {edition!r}: expected a name matching [A-Za-z0-9][A-Za-z0-9._-]*")
    client = client or PortalClient(say=say)
    folder = Path(editions_root) / edition
    state = _start(folder, edition, indicators, years, client, say)
    try:
        seed = seed_codes()
    except (OSError, SeedError) as error:
        raise FetchError(str(error)) from None
    data = state.data
    say(f"fetching {edition} from {client.settings.url}: {len(data['indicators'])} indicator(s), "
        f"years {data['years']}")
    if data["plan"] is None:
        say("  finding the indicators' codes in the portal's indicator tree")
        try:
            data["plan"] = [r.as_dict() for r in resolve(data["indicators"], IndicatorTree(client), seed)]
        except PortalError:
            _remove_empty(folder)  # nothing saved yet: nothing to resume, no folder left behind
            raise
        state.save()
    plan = [Resolution(**entry) for entry in data["plan"]]
    for resolution in plan:
        if resolution.problem:
            data["not_fetched"][resolution.indicator] = resolution.problem
    todo = [r for r in plan if not r.problem]
    for number, resolution in enumerate(todo, start=1):
        indicator = resolution.indicator
        if indicator in data["files"] or indicator in data["not_fetched"]:
            continue
        _fetch_one(folder, state, resolution, client, f"[{number}/{len(todo)}]", say)
    state.save()

    result = FetchResult(edition, folder, [entry["path"] for entry in data["files"].values()],
                         dict(data["not_fetched"]), client.requests)
    for indicator, reason in result.not_fetched.items():
        say(f"  not fetched: {indicator}: {reason}")
    if not result.files:
        _remove_empty(folder)
        raise FetchError(f"{edition}: nothing could be fetched, no edition written"
                         + "".join(f"\n  {ind}: {why}" for ind, why in result.not_fetched.items()))
    _write_manifest(folder, data)
    for partial in folder.glob(".*.part"):  # left by a run killed while writing
        partial.unlink()
    (folder / FETCH_MARKER).unlink()
    say(f"{edition}: complete, {len(result.files)} file(s) and manifest.yml in {folder}")
    return result


def _fetch_one(folder: Path, state: _State, resolution: Resolution, client: PortalClient,
               counter: str, say: Callable[[str], None]) -> None:
    indicator, code, db = resolution.indicator, str(resolution.portal_code), resolution.portal_db
    years = state.data["years"]
    answer = client.query(db, code, years)
    unit = _answer_unit(answer, code)
    problem = _unit_problem(resolution, unit)
    if problem:
        state.data["not_fetched"][indicator] = problem
        state.save()
        say(f"  {counter} {indicator}: {problem}")
        return
    name = f"{indicator}_{db}_{code}.json"
    target = folder / name
    _write_atomically(target, answer.body)
    try:  # a saved answer is one the build can read
        values = read_extract(target, indicator=indicator, display_name=f"{folder.name}/{name}")
    except ExtractError as error:
        target.unlink()
        raise FetchError(f"the portal's answer to QueryData {db} {code} {years} cannot be read: {error}") from None
    entry = {
        "path": name, "indicator": indicator, "notes": None,
        "source_url": answer.url, "query": answer.query, "accessed": answer.accessed,
        "sha256": hashlib.sha256(answer.body).hexdigest(),
        "portal_db": db, "portal_code": code, "portal_name": resolution.portal_name, "portal_unit": unit,
    }
    span = _year_span(years)
    if span:
        entry["years"] = span
    entry["notes"] = ("code from the reviewed seed portal_indicator_codes.csv, confirmed in the tree"
                      if resolution.via == "seed" else "code found in the tree by name, unit checked")
    state.data["files"][indicator] = entry
    state.save()
    provinces = {v.province_code for v in values}
    say(f"  {counter} {indicator} <- {db} {code} '{resolution.portal_name}' ({unit}): "
        f"{len(values)} values, {len(provinces)} region(s) -> {name}")


def _remove_empty(folder: Path) -> None:
    """A fetch that saved nothing leaves no folder behind (only its own marker is removed)."""
    marker = folder / FETCH_MARKER
    if marker.exists() and [p.name for p in folder.iterdir()] == [FETCH_MARKER]:
        marker.unlink()
        folder.rmdir()


def _write_manifest(folder: Path, data: dict) -> None:
    accessed = sorted(entry["accessed"] for entry in data["files"].values())
    files = []
    for indicator in data["indicators"]:
        entry = data["files"].get(indicator)
        if entry:
            files.append({key: entry[key] for key in ("path", "indicator", "years", "notes", "source_url", "query",
                                                       "accessed", "sha256", "portal_db", "portal_code",
                                                       "portal_name", "portal_unit") if key in entry})
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
    _write_atomically(folder / MANIFEST_NAME, text.encode("utf-8"))
    try:
        load_manifest(folder, allow_unfinished=True)
    except ExtractError as error:
        raise FetchError(f"the manifest written for {folder.name} is not valid: {error}") from None


__all__ = ["FetchError", "FetchResult", "PortalError", "fetch_edition", "parse_indicators", "parse_years"]
