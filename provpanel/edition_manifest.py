"""An edition's manifest.yml, validated: `load_manifest` enforces every rule of docs/editions.md
with a ManifestError naming the manifest and the key.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from provpanel import harmonise
from provpanel.editions import FETCH_MARKER, MANIFEST_NAME, check_links, edition_files
from provpanel.errors import ExtractError, ManifestError

EDITION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TOP_KEYS = {"edition", "title", "published", "published_reason", "supersedes", "source", "notes", "files",
             "revisions", "exceptions"}
_REQUIRED_TOP_KEYS = ("edition", "title", "published", "source", "files")
_FILE_KEYS = {"path", "indicator", "unit", "years", "keep_years", "notes", "sheets", "columns", "breakdown"}
# What `provpanel fetch` records of each answer it saved (docs/editions.md): all optional.
_FETCH_KEYS = ("source_url", "query", "accessed", "sha256", "portal_db", "portal_table", "portal_table_name",
               "portal_code", "portal_name", "portal_unit")
_FILE_KEYS |= set(_FETCH_KEYS)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
_SHEET_KEYS = {"indicator", "unit", "notes"}  # notes: free text, not used
# roles of a data frame's columns (`columns:`) and the keys of `breakdown:` (.dta, .rda, ...)
_COLUMN_ROLES = ("province", "year", "value", "indicator", "unit")
_BREAKDOWN_KEYS = {"column", "value"}
_REVISION_KEYS = {"indicator", "years", "reason"}
_EXCEPTION_KEYS = {"check", "indicator", "years", "provinces", "reason"}
# The checks between indicators (expectations/indicator_suite.py) an edition may declare an
# exception to (`exceptions:`), e.g. a yearbook whose sectors do not add up to its GDP.
IDENTITY_CHECKS = ("parts_sum", "ratio_pair", "per_unit_ratio")


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative to the edition folder, POSIX separators
    indicator: str | None = None
    unit: str | None = None
    years: tuple[int, int] | None = None
    # only values of these years are stored; the file's others are left out (a portal answer
    # holds the years the portal chose to send, e.g. the last ten)
    keep_years: tuple[int, int] | None = None
    notes: str | None = None
    sheets: dict[str, dict[str, str | None]] | None = None
    columns: dict[str, str] | None = None  # role -> column name of a data frame
    breakdown: dict[str, str] | None = None  # {column, value}: which rows are the indicator
    source_url: str | None = None
    query: str | None = None
    accessed: str | None = None  # UTC, ISO 8601 with Z
    sha256: str | None = None  # of the bytes as received; checked when the file is read
    portal_db: str | None = None
    portal_table: str | None = None
    portal_table_name: str | None = None
    portal_code: str | None = None
    portal_name: str | None = None
    portal_unit: str | None = None


@dataclass(frozen=True)
class DeclaredRevision:
    """A revision of earlier editions' values that the manifest declares (key `revisions`)."""

    indicator: str
    years: tuple[int, int]
    reason: str


@dataclass(frozen=True)
class DeclaredException:
    """A check between indicators that the manifest lets pass (key `exceptions`): the cells of
    `indicator` (either side of an identity) in `years`, in `provinces` (codes; empty: all)."""

    check: str
    indicator: str
    years: tuple[int, int]
    provinces: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Manifest:
    edition: str
    title: str
    published: datetime.date
    source: str
    notes: str | None
    files: list[ManifestFile]
    revisions: tuple[DeclaredRevision, ...] = ()
    exceptions: tuple[DeclaredException, ...] = ()
    # why `published` is after today (required then): a date announced ahead of release
    published_reason: str | None = None
    # the edition of the same `published` date this one is ordered after (its values win
    # under the vintage policy latest); None: editions of one date are ordered by key
    supersedes: str | None = None


def _is_data_file(relative: str) -> bool:
    name = PurePosixPath(relative).name
    return relative != MANIFEST_NAME and not name.startswith("README")


class _Checker:
    """Small helpers that raise ManifestError naming the manifest and the key."""

    def __init__(self, manifest_path: Path) -> None:
        self.file = str(manifest_path)

    def fail(self, key: str, expected: str, found: Any) -> ManifestError:
        # `found` is text already phrased by the caller, or a YAML value shown as its repr
        return ManifestError(self.file, f"manifest key {key}", expected, found)

    def text(self, data: Mapping, key: str, where: str, *, required: bool) -> str | None:
        if key not in data or data[key] is None:
            if required:
                raise self.fail(where, "a value (the key is required)", "no such key")
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(where, "text", repr(value))
        value = str(value).strip()
        if required and not value:
            raise self.fail(where, "non-empty text", "''")
        return value

    def keys(self, data: Mapping, allowed: set[str], where: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    f"{where}{key}" if where else str(key),
                    f"one of the keys {', '.join(sorted(allowed))}",
                    f"'{key}'",
                )

    def indicator(self, value: str | None, where: str) -> str | None:
        if value is None:
            return None
        if value not in harmonise.catalog():
            raise self.fail(
                where,
                f"a catalog indicator code ({', '.join(harmonise.catalog())})",
                f"'{value}'",
            )
        return value

    def unit(self, value: str | None, indicator: str | None, where: str) -> str | None:
        if value is None:
            return None
        if harmonise.lookup_unit(value) is None:
            raise self.fail(
                where, "a unit listed in unit_factors.csv (e.g. 亿元, 万人, 件)", f"'{value}'"
            )
        if indicator is not None:
            try:
                harmonise.check_unit(
                    value, indicator, file=self.file, where=f"manifest key {where}"
                )
            except ExtractError as exc:
                raise ManifestError(exc.file, exc.where, exc.expected, exc.found) from exc
        return value


class _ManifestLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: `published: 2022-02-30` must become a
    ManifestError naming the key, not a ValueError from inside PyYAML; and refuses a key
    given twice in one mapping (PyYAML would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    first = seen[key].start_mark
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"the key '{key}' a second time in one mapping (first at line {first.line + 1}); "
                        "each key may be given once",
                        key_node.start_mark,
                    )
                if isinstance(key, (str, int, float, bool)):
                    seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's problem, with where the construct it was reading began (an unclosed `[`)."""
    problem = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        problem += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return problem


def _read_yaml(manifest_path: Path) -> Any:
    if not manifest_path.is_file():
        raise ManifestError(
            manifest_path, "whole file", "a manifest.yml in the edition folder", "no such file"
        )
    try:
        text = manifest_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(manifest_path, "whole file", "UTF-8 text", "undecodable bytes") from exc
    try:
        return yaml.load(text, Loader=_ManifestLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "whole file"
        raise ManifestError(manifest_path, where, "valid YAML", _yaml_problem(exc)) from exc


def _published(check: _Checker, data: Mapping) -> datetime.date:
    value = data.get("published")
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (datetime.date.fromisoformat, lambda t: datetime.datetime.fromisoformat(t).date()):
            try:
                return parse(text)
            except ValueError:
                continue
    raise check.fail("published", "an ISO date such as 2022-12-20", repr(value))


def latest_date_on_earth() -> datetime.date:
    """Today where the date is furthest ahead (UTC+14): a date after it has begun nowhere. A
    date written in UTC (provpanel fetch) is never after it."""
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=14)).date()


def _published_reason(check: _Checker, data: Mapping, published: datetime.date) -> str | None:
    """`published_reason:` says why a publication date lies in the future; required then (a
    mistyped year would otherwise win the vintage policy latest over every real edition)."""
    reason = check.text(data, "published_reason", "published_reason", required=False)
    if published > latest_date_on_earth() and not reason:
        raise check.fail(
            "published",
            f"a date not after today ({datetime.date.today().isoformat()}), or `published_reason:` saying "
            "why the edition is dated in the future (it orders editions: a later date wins the vintage "
            "policy latest)",
            published.isoformat())
    return reason


def _supersedes(check: _Checker, data: Mapping, edition: str, edition_dir: Path,
                published: datetime.date) -> str | None:
    """`supersedes: <edition>` orders this edition after another of the same publication date
    (docs/editions.md): the other must be an edition folder beside this one, with the same
    `published`, and must not (through its own `supersedes`) come after this one."""
    other = check.text(data, "supersedes", "supersedes", required=False)
    if other is None:
        return None
    if not EDITION_NAME.match(other) or other == edition:
        raise check.fail("supersedes", "the key of another edition (its folder name)", f"'{other}'")
    seen = [edition]
    current, current_published = other, None
    while current is not None:
        folder = edition_dir.parent / current
        if not (folder / MANIFEST_NAME).is_file():
            if current == other:
                raise check.fail("supersedes", f"an edition folder beside this one ({edition_dir.parent})",
                                 f"'{other}': no such edition folder")
            break  # further down the chain: that edition's own manifest is checked when it is read
        sibling = _read_yaml(folder / MANIFEST_NAME)
        sibling = sibling if isinstance(sibling, Mapping) else {}
        if current == other:
            try:
                current_published = _published(_Checker(folder / MANIFEST_NAME), sibling)
            except ManifestError:
                current_published = None
            if current_published != published:
                shown = current_published.isoformat() if current_published else "no valid date"
                raise check.fail(
                    "supersedes",
                    f"an edition published the same day as this one ({published.isoformat()}): editions "
                    "of different dates are ordered by their dates",
                    f"'{other}', published {shown}")
        seen.append(current)
        following = sibling.get("supersedes")
        current = str(following).strip() if following is not None else None
        if current in seen:
            raise check.fail("supersedes", "an order without a cycle",
                             " -> ".join([*seen, current]) + " (each supersedes the next)")
    return other


def _years(check: _Checker, value: Any, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(y, int) and not isinstance(y, bool) for y in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise check.fail(where, "[first year, last year], e.g. [2011, 2021]", repr(value))
    return int(value[0]), int(value[1])


def _sheets(check: _Checker, value: Any, where: str) -> dict[str, dict[str, str | None]] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise check.fail(where, "a mapping sheet name -> {indicator, unit}", repr(value))
    sheets: dict[str, dict[str, str | None]] = {}
    for name, spec in value.items():
        key = f"{where}['{name}']"
        if not isinstance(spec, Mapping):
            raise check.fail(key, "a mapping {indicator, unit}", repr(spec))
        check.keys(spec, _SHEET_KEYS, f"{key}.")
        indicator = check.indicator(
            check.text(spec, "indicator", f"{key}.indicator", required=False), f"{key}.indicator"
        )
        unit = check.unit(
            check.text(spec, "unit", f"{key}.unit", required=False), indicator, f"{key}.unit"
        )
        sheets[str(name)] = {"indicator": indicator, "unit": unit}
    return sheets


def _columns(check: _Checker, value: Any, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise check.fail(where, "a mapping role -> column name, e.g. {province: prov, year: yr, "
                         "value: val}", repr(value))
    check.keys(value, set(_COLUMN_ROLES), f"{where}.")
    columns: dict[str, str] = {}
    for role in value:
        name = check.text(value, role, f"{where}.{role}", required=True)
        assert name is not None
        if name in columns.values():
            raise check.fail(f"{where}.{role}", "a column not named for another role", f"'{name}'")
        columns[str(role)] = name
    return columns


def _breakdown(check: _Checker, value: Any, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise check.fail(where, "a mapping {column, value}, e.g. {column: 分类, value: 合计}",
                         repr(value))
    check.keys(value, _BREAKDOWN_KEYS, f"{where}.")
    breakdown: dict[str, str] = {}
    for key in value:
        text = check.text(value, key, f"{where}.{key}", required=True)
        assert text is not None
        breakdown[str(key)] = text
    return breakdown


def _file_entry(check: _Checker, entry: Any, index: int) -> ManifestFile:
    where = f"files[{index}]"
    if not isinstance(entry, Mapping):
        raise check.fail(where, "a mapping with at least `path`", repr(entry))
    check.keys(entry, _FILE_KEYS, f"{where}.")
    raw_path = check.text(entry, "path", f"{where}.path", required=True)
    assert raw_path is not None
    relative = PurePosixPath(raw_path.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts:
        raise check.fail(f"{where}.path", "a path inside the edition folder", f"'{raw_path}'")
    indicator = check.indicator(
        check.text(entry, "indicator", f"{where}.indicator", required=False), f"{where}.indicator"
    )
    unit = check.unit(
        check.text(entry, "unit", f"{where}.unit", required=False), indicator, f"{where}.unit"
    )
    return ManifestFile(
        path=unicodedata.normalize("NFC", str(relative)),
        indicator=indicator,
        unit=unit,
        years=_years(check, entry.get("years"), f"{where}.years"),
        keep_years=_years(check, entry.get("keep_years"), f"{where}.keep_years"),
        notes=check.text(entry, "notes", f"{where}.notes", required=False),
        sheets=_sheets(check, entry.get("sheets"), f"{where}.sheets"),
        columns=_columns(check, entry.get("columns"), f"{where}.columns"),
        breakdown=_breakdown(check, entry.get("breakdown"), f"{where}.breakdown"),
        **_fetch_keys(check, entry, where),
    )


def _fetch_keys(check: _Checker, entry: Mapping, where: str) -> dict[str, str | None]:
    """The keys `provpanel fetch` records (all optional, all text; three with a form)."""
    found = {key: check.text(entry, key, f"{where}.{key}", required=False) for key in _FETCH_KEYS}
    url = found["source_url"]
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise check.fail(f"{where}.source_url", "an http(s) URL", f"'{url}'")
    accessed = found["accessed"]
    if accessed is not None:
        try:
            datetime.datetime.fromisoformat(accessed)  # Python 3.11 reads the Z
            valid = bool(_UTC_TIME.match(accessed))
        except ValueError:
            valid = False
        if not valid:
            raise check.fail(f"{where}.accessed", "a UTC time such as 2026-12-01T09:30:00Z", f"'{accessed}'")
    checksum = found["sha256"]
    if checksum is not None and not _SHA256.match(checksum):
        raise check.fail(f"{where}.sha256", "64 lowercase hexadecimal digits", f"'{checksum}'")
    return found


def _revisions(check: _Checker, value: Any) -> tuple[DeclaredRevision, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise check.fail("revisions", "a list of {indicator, years, reason}", repr(value))
    revisions = []
    for index, entry in enumerate(value):
        where = f"revisions[{index}]"
        if not isinstance(entry, Mapping):
            raise check.fail(where, "a mapping {indicator, years, reason}", repr(entry))
        check.keys(entry, _REVISION_KEYS, f"{where}.")
        indicator = check.indicator(check.text(entry, "indicator", f"{where}.indicator", required=True),
                                    f"{where}.indicator")
        years = _years(check, entry.get("years"), f"{where}.years")
        if years is None:
            raise check.fail(f"{where}.years", "[first year, last year], e.g. [2013, 2018]", "no such key")
        reason = check.text(entry, "reason", f"{where}.reason", required=True)
        revisions.append(DeclaredRevision(indicator, years, reason or ""))
    return tuple(revisions)


def _exceptions(check: _Checker, value: Any) -> tuple[DeclaredException, ...]:
    if value is None:
        return ()
    shape = "a list of {check, indicator, years, provinces (optional), reason}"
    if not isinstance(value, list):
        raise check.fail("exceptions", shape, repr(value))
    found = []
    for index, entry in enumerate(value):
        where = f"exceptions[{index}]"
        if not isinstance(entry, Mapping):
            raise check.fail(where, shape, repr(entry))
        check.keys(entry, _EXCEPTION_KEYS, f"{where}.")
        name = check.text(entry, "check", f"{where}.check", required=True)
        if name not in IDENTITY_CHECKS:
            raise check.fail(f"{where}.check", f"one of {', '.join(IDENTITY_CHECKS)}", f"'{name}'")
        indicator = check.indicator(check.text(entry, "indicator", f"{where}.indicator", required=True),
                                    f"{where}.indicator")
        years = _years(check, entry.get("years"), f"{where}.years")
        if years is None:
            raise check.fail(f"{where}.years", "[first year, last year], e.g. [2013, 2018]", "no such key")
        provinces = entry.get("provinces") or []
        if not isinstance(provinces, list):
            raise check.fail(f"{where}.provinces", "a list of provinces (names or codes)", repr(provinces))
        codes = []
        for position, label in enumerate(provinces):
            code = harmonise.lookup_province(label) if not str(label) in harmonise.province_codes() else str(label)
            if code is None or code == harmonise.NATIONAL_CODE:
                raise check.fail(f"{where}.provinces[{position}]", "a province name or code", repr(label))
            codes.append(code)
        reason = check.text(entry, "reason", f"{where}.reason", required=True)
        found.append(DeclaredException(name, indicator or "", years, tuple(codes), reason or ""))
    return tuple(found)


def load_manifest(edition_dir: str | Path, *, allow_unfinished: bool = False) -> Manifest:
    """The validated manifest of one edition folder. A folder an unfinished fetch left is not
    an edition (`allow_unfinished`: the fetch checks its manifest before it finishes)."""
    edition_dir = Path(edition_dir)
    manifest_path = edition_dir / MANIFEST_NAME
    if (edition_dir / FETCH_MARKER).exists() and not allow_unfinished:
        raise ManifestError(
            edition_dir / FETCH_MARKER, "whole folder",
            f"a finished edition (re-run `provpanel fetch {edition_dir.name}` to complete it)",
            "a fetch that has not finished",
        )
    check_links(edition_dir)  # before the manifest or any file is opened
    data = _read_yaml(manifest_path)
    check = _Checker(manifest_path)
    if not isinstance(data, Mapping):
        raise ManifestError(
            manifest_path, "whole file", "a YAML mapping of keys", type(data).__name__
        )
    check.keys(data, _TOP_KEYS, "")
    for key in _REQUIRED_TOP_KEYS:
        if key not in data or data[key] is None:
            raise check.fail(key, "a value (the key is required)", "no such key")

    edition = check.text(data, "edition", "edition", required=True)
    assert edition is not None
    if not EDITION_NAME.match(edition):
        raise check.fail("edition", "a key matching [A-Za-z0-9][A-Za-z0-9._-]*", f"'{edition}'")
    if edition != edition_dir.name:
        raise check.fail("edition", f"the folder name '{edition_dir.name}'", f"'{edition}'")

    files_value = data["files"]
    if not isinstance(files_value, list) or not files_value:
        raise check.fail("files", "a non-empty list of files", repr(files_value))
    files = [_file_entry(check, entry, index) for index, entry in enumerate(files_value)]

    listed: dict[str, int] = {}
    for index, entry in enumerate(files):
        if entry.path in listed:
            raise check.fail(
                f"files[{index}].path",
                f"each file listed once (already files[{listed[entry.path]}])",
                f"'{entry.path}'",
            )
        listed[entry.path] = index
        if not (edition_dir / entry.path).is_file():
            raise check.fail(
                f"files[{index}].path",
                "a file that exists in the edition folder",
                f"'{entry.path}' missing",
            )
    for relative in edition_files(edition_dir):
        if _is_data_file(relative) and relative not in listed:
            raise check.fail(
                "files", "every data file of the folder listed", f"'{relative}' not listed"
            )

    published = _published(check, data)
    published_reason = _published_reason(check, data, published)
    supersedes = _supersedes(check, data, edition, edition_dir, published)
    return Manifest(
        edition=edition,
        title=check.text(data, "title", "title", required=True) or "",
        published=published,
        source=check.text(data, "source", "source", required=True) or "",
        notes=check.text(data, "notes", "notes", required=False),
        files=files,
        revisions=_revisions(check, data.get("revisions")),
        exceptions=_exceptions(check, data.get("exceptions")),
        published_reason=published_reason,
        supersedes=supersedes,
    )
