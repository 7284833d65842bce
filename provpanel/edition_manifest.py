"""An edition's manifest.yml, validated: the manifest is a pydantic model (`Manifest`, its
`files` `ManifestFile`s, ...) whose fields are the manifest's keys (extra keys are refused);
`load_manifest` checks every rule of docs/editions.md in one pass and raises a ManifestError
naming the manifest and the key, or ManifestProblems with every problem, one a line.
"""

from __future__ import annotations

import datetime
import re
import types
import typing
import unicodedata
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, ClassVar, Union

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from provpanel import harmonise
from provpanel.editions import FETCH_MARKER, MANIFEST_NAME, check_links, edition_files
from provpanel.errors import ExtractError, ManifestError, ManifestProblems

EDITION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# The checks between indicators (expectations/indicator_suite.py) an edition may declare an
# exception to (`exceptions:`), e.g. a yearbook whose sectors do not add up to its GDP.
IDENTITY_CHECKS = ("parts_sum", "ratio_pair", "per_unit_ratio")
_PROBLEM = "manifest_problem"


def _problem(expected: str, found: str, *, key: str | None = None, subkey: str | None = None) -> PydanticCustomError:
    """A problem in the words a user reads: what was expected and what was found. `key`: the
    key path it is reported at instead of where the validator ran; `subkey`: a key below it."""
    return PydanticCustomError(_PROBLEM, "expected {expected}, found {found}",
                               {"expected": expected, "found": found, "key": key, "subkey": subkey})


# ---------------------------------------------------------------- values of the keys


def _text(value: Any) -> str | None:
    """Text as written (a number is taken as its text), stripped; None: the key is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _problem("text", repr(value))
    return str(value).strip()


def _non_empty(value: str | None) -> str | None:
    if value is not None and not value:
        raise _problem("non-empty text", "''")
    return value


def _required_text(value: Any) -> str:
    """A value that must be text where the key is given (a role's column, a breakdown key)."""
    if value is None:
        raise _problem("a value (the key is required)", "no such key")
    return _non_empty(_text(value))


def _indicator(value: str | None) -> str | None:
    if value is not None and value not in harmonise.catalog():
        raise _problem(f"a catalog indicator code ({', '.join(harmonise.catalog())})", f"'{value}'")
    return value


def _years(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    ok = (isinstance(value, list) and len(value) == 2
          and all(isinstance(y, int) and not isinstance(y, bool) for y in value) and value[0] <= value[1])
    if not ok:
        raise _problem("[first year, last year], e.g. [2011, 2021]", repr(value))
    return int(value[0]), int(value[1])


def _required_years(value: tuple[int, int] | None) -> tuple[int, int]:
    if value is None:
        raise _problem("[first year, last year], e.g. [2013, 2018]", "no such key")
    return value


def _province_code(label: Any) -> str:
    code = str(label) if str(label) in harmonise.province_codes() else harmonise.lookup_province(label)
    if code is None or code == harmonise.NATIONAL_CODE:
        raise _problem("a province name or code", repr(label))
    return code


def _unit(value: str | None, info: ValidationInfo) -> str | None:
    """A known unit, of the indicator's dimension when the entry names a (valid) indicator."""
    if value is None:
        return None
    if harmonise.lookup_unit(value) is None:
        raise _problem("a unit listed in unit_factors.csv (e.g. 亿元, 万人, 件)", f"'{value}'")
    indicator = info.data.get("indicator")
    if indicator is not None:
        try:
            harmonise.check_unit(value, indicator, file="", where="")
        except ExtractError as exc:
            raise _problem(exc.expected, exc.found) from None
    return value


def edition_path(text: str) -> str:
    """A listed path as stored: POSIX separators, NFC; ValueError when it leaves the folder."""
    relative = PurePosixPath(text.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(text)
    return unicodedata.normalize("NFC", str(relative))


def _path(value: str) -> str:
    try:
        return edition_path(value)
    except ValueError:
        raise _problem("a path inside the edition folder", f"'{value}'") from None


def _source_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise _problem("an http(s) URL", f"'{value}'")
    return value


def _accessed(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.datetime.fromisoformat(value)  # Python 3.11 reads the Z
        valid = bool(_UTC_TIME.match(value))
    except ValueError:
        valid = False
    if not valid:
        raise _problem("a UTC time such as 2026-12-01T09:30:00Z", f"'{value}'")
    return value


def _sha256(value: str | None) -> str | None:
    if value is not None and not _SHA256.match(value):
        raise _problem("64 lowercase hexadecimal digits", f"'{value}'")
    return value


def published_date(value: Any) -> datetime.date | None:
    """A `published:` value as a date (an ISO date, or a date-time whose day is taken); None if
    it is neither."""
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
    return None


def _published(value: Any) -> datetime.date:
    date = published_date(value)
    if date is None:
        raise _problem("an ISO date such as 2022-12-20", repr(value))
    return date


def latest_date_on_earth() -> datetime.date:
    """Today where the date is furthest ahead (UTC+14): a date after it has begun nowhere. A
    date written in UTC (provpanel fetch) is never after it."""
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=14)).date()


Text = Annotated[str | None, BeforeValidator(_text)]
RequiredText = Annotated[str, AfterValidator(_non_empty), BeforeValidator(_text)]
GivenText = Annotated[str | None, BeforeValidator(_required_text)]  # absent is fine, null is not
Indicator = Annotated[str | None, AfterValidator(_indicator), BeforeValidator(_text)]
RequiredIndicator = Annotated[str, AfterValidator(_non_empty), AfterValidator(_indicator), BeforeValidator(_text)]
Years = Annotated[tuple[int, int] | None, BeforeValidator(_years)]
ProvinceCode = Annotated[str, BeforeValidator(_province_code)]


# ---------------------------------------------------------------- the models


class _Part(BaseModel):
    """A mapping of the manifest: its keys are the fields, any other key is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # what the mapping is, said when the YAML holds something else there
    shape: ClassVar[str] = "a mapping"
    # a key given as null is a key not given (`files:` left empty is `files` missing)
    null_is_absent: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise _problem(cls.shape, repr(data))
        # a key YAML read as a number (`2021:`) is refused by its text, like any unknown key
        return {str(key): value for key, value in data.items() if value is not None or not cls.null_is_absent}


class SheetSpec(_Part):
    """A workbook sheet's entry under `sheets:` (the readers take its indicator and unit)."""

    shape: ClassVar[str] = "a mapping {indicator, unit}"
    indicator: Indicator = None
    unit: Text = None
    notes: Text = None  # free text, not used

    @field_validator("unit")
    @classmethod
    def _unit_of_the_indicator(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _unit(value, info)


class ColumnRoles(_Part):
    """`columns:` of a data frame (.dta, .rda, ...): which column holds what."""

    shape: ClassVar[str] = "a mapping role -> column name, e.g. {province: prov, year: yr, value: val}"
    null_is_absent: ClassVar[bool] = False
    province: GivenText = None
    year: GivenText = None
    value: GivenText = None
    indicator: GivenText = None
    unit: GivenText = None

    @model_validator(mode="wrap")
    @classmethod
    def _one_role_per_column(cls, data: Any, handler) -> Any:
        roles = handler(data)
        seen: set[str] = set()
        for role in data:  # in the manifest's order: the second role naming a column is the slip
            name = getattr(roles, str(role))
            if name in seen:
                raise _problem("a column not named for another role", f"'{name}'", subkey=str(role))
            seen.add(name)
        return roles


class Breakdown(_Part):
    """`breakdown:` which rows of a data frame are the indicator's."""

    shape: ClassVar[str] = "a mapping {column, value}, e.g. {column: 分类, value: 合计}"
    null_is_absent: ClassVar[bool] = False
    column: GivenText = None
    value: GivenText = None


def _given_keys(part: _Part | None) -> dict[str, str] | None:
    """The roles (or breakdown keys) given, as the readers take them: a plain mapping."""
    return None if part is None else part.model_dump(exclude_none=True)


class ManifestFile(_Part):
    """One entry of `files:`; the keys after `breakdown` are what `provpanel fetch` records of
    each answer it saved (docs/editions.md), all optional."""

    shape: ClassVar[str] = "a mapping with at least `path`"
    path: Annotated[str, AfterValidator(_non_empty), AfterValidator(_path), BeforeValidator(_text)]
    indicator: Indicator = None
    unit: Text = None
    years: Years = None
    # only values of these years are stored; the file's others are left out (a portal answer
    # holds the years the portal chose to send, e.g. the last ten)
    keep_years: Years = None
    notes: Text = None
    sheets: dict[str, SheetSpec] | None = None
    # role -> column name of a data frame; {column, value}: which rows are the indicator. Both
    # are checked as models and kept as the plain mappings of the keys given, as readers take them
    columns: Annotated[ColumnRoles | None, AfterValidator(_given_keys)] = None
    breakdown: Annotated[Breakdown | None, AfterValidator(_given_keys)] = None
    source_url: Annotated[str | None, AfterValidator(_source_url), BeforeValidator(_text)] = None
    query: Text = None
    accessed: Annotated[str | None, AfterValidator(_accessed), BeforeValidator(_text)] = None  # UTC, ISO 8601, Z
    # of the bytes as received; checked when the file is read
    sha256: Annotated[str | None, AfterValidator(_sha256), BeforeValidator(_text)] = None
    portal_db: Text = None
    portal_table: Text = None
    portal_table_name: Text = None
    portal_code: Text = None
    portal_name: Text = None
    portal_unit: Text = None

    @field_validator("unit")
    @classmethod
    def _unit_of_the_indicator(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _unit(value, info)

    @field_validator("sheets", mode="before")
    @classmethod
    def _sheets(cls, value: Any) -> Any:
        if not isinstance(value, Mapping) or not value:
            raise _problem("a mapping sheet name -> {indicator, unit}", repr(value))
        return {str(name): spec for name, spec in value.items()}  # a sheet named 2021 is '2021'

    @field_validator("columns", "breakdown", mode="before")
    @classmethod
    def _not_empty(cls, value: Any, info: ValidationInfo) -> Any:
        part = ColumnRoles if info.field_name == "columns" else Breakdown
        if not isinstance(value, Mapping) or not value:
            raise _problem(part.shape, repr(value))
        return value


class DeclaredRevision(_Part):
    """A revision of earlier editions' values that the manifest declares (key `revisions`)."""

    shape: ClassVar[str] = "a mapping {indicator, years, reason}"
    indicator: RequiredIndicator
    years: Annotated[Years, AfterValidator(_required_years)] = Field(default=None, validate_default=True)
    reason: RequiredText


class DeclaredException(_Part):
    """A check between indicators that the manifest lets pass (key `exceptions`): the cells of
    `indicator` (either side of an identity) in `years`, in `provinces` (codes; empty: all)."""

    shape: ClassVar[str] = "a list of {check, indicator, years, provinces (optional), reason}"
    check: RequiredText
    indicator: RequiredIndicator
    years: Annotated[Years, AfterValidator(_required_years)] = Field(default=None, validate_default=True)
    provinces: tuple[ProvinceCode, ...] = ()
    reason: RequiredText

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str) -> str:
        if value not in IDENTITY_CHECKS:
            raise _problem(f"one of {', '.join(IDENTITY_CHECKS)}", f"'{value}'")
        return value

    @field_validator("provinces", mode="before")
    @classmethod
    def _a_list_of_provinces(cls, value: Any) -> list:
        value = value or []
        if not isinstance(value, list):
            raise _problem("a list of provinces (names or codes)", repr(value))
        return value


def _supersedes(other: str, edition: str, edition_dir: Path, published: datetime.date | None) -> None:
    """`supersedes: <edition>` orders this edition after another of the same publication date
    (docs/editions.md): the other must be an edition folder beside this one, with the same
    `published`, and must not (through its own `supersedes`) come after this one."""
    if not EDITION_NAME.match(other) or other == edition:
        raise _problem("the key of another edition (its folder name)", f"'{other}'")
    seen = [edition]
    current: str | None = other
    while current is not None:
        folder = edition_dir.parent / current
        if not (folder / MANIFEST_NAME).is_file():
            if current == other:
                raise _problem(f"an edition folder beside this one ({edition_dir.parent})",
                               f"'{other}': no such edition folder")
            break  # further down the chain: that edition's own manifest is checked when it is read
        sibling = _read_yaml(folder / MANIFEST_NAME)
        sibling = sibling if isinstance(sibling, Mapping) else {}
        if current == other and published is not None:
            other_published = published_date(sibling.get("published"))
            if other_published != published:
                shown = other_published.isoformat() if other_published else "no valid date"
                raise _problem(
                    f"an edition published the same day as this one ({published.isoformat()}): editions "
                    "of different dates are ordered by their dates",
                    f"'{other}', published {shown}")
        seen.append(current)
        following = sibling.get("supersedes")
        current = str(following).strip() if following is not None else None
        if current in seen:
            raise _problem("an order without a cycle",
                           " -> ".join([*seen, current]) + " (each supersedes the next)")


class Manifest(_Part):
    """An edition's manifest.yml. Validated with the context {"edition_dir": the folder}: the
    edition is named after its folder and `supersedes` looks at the folders beside it."""

    shape: ClassVar[str] = "a YAML mapping of keys"
    edition: RequiredText
    title: RequiredText
    published: Annotated[datetime.date, BeforeValidator(_published)]
    # why `published` is after today (required then): a date announced ahead of release
    published_reason: Text = Field(default=None, validate_default=True)
    # the edition of the same `published` date this one is ordered after (its values win
    # under the vintage policy latest); None: editions of one date are ordered by key
    supersedes: Text = None
    source: RequiredText
    notes: Text = None
    files: list[ManifestFile]
    revisions: tuple[DeclaredRevision, ...] = ()
    exceptions: tuple[DeclaredException, ...] = ()

    @field_validator("edition")
    @classmethod
    def _edition_is_the_folder(cls, value: str, info: ValidationInfo) -> str:
        if not EDITION_NAME.match(value):
            raise _problem("a key matching [A-Za-z0-9][A-Za-z0-9._-]*", f"'{value}'")
        folder = _edition_dir(info)
        if folder is not None and value != folder.name:
            raise _problem(f"the folder name '{folder.name}'", f"'{value}'")
        return value

    @field_validator("published_reason")
    @classmethod
    def _future_date_has_a_reason(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Required for a date after today: a mistyped year would otherwise win the vintage
        policy latest over every real edition."""
        published = info.data.get("published")
        if published is not None and published > latest_date_on_earth() and not value:
            raise _problem(
                f"a date not after today ({datetime.date.today().isoformat()}), or `published_reason:` saying "
                "why the edition is dated in the future (it orders editions: a later date wins the vintage "
                "policy latest)",
                published.isoformat(), key="published")
        return value

    @field_validator("supersedes")
    @classmethod
    def _supersedes_an_edition_of_its_date(cls, value: str | None, info: ValidationInfo) -> str | None:
        folder = _edition_dir(info)
        if value is not None and folder is not None:
            _supersedes(value, info.data.get("edition") or folder.name, folder, info.data.get("published"))
        return value

    @field_validator("files", mode="before")
    @classmethod
    def _a_list_of_files(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise _problem("a non-empty list of files", repr(value))
        return value

    @field_validator("revisions", "exceptions", mode="before")
    @classmethod
    def _a_list(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list):
            raise _problem(_LIST_SHAPES[info.field_name], repr(value))
        return value


_LIST_SHAPES = {"revisions": "a list of {indicator, years, reason}", "exceptions": DeclaredException.shape}


def _edition_dir(info: ValidationInfo) -> Path | None:
    return (info.context or {}).get("edition_dir")


# ---------------------------------------------------------------- problems, in today's words


def _inner(annotation: Any) -> tuple[str, Any]:
    """What a field holds: ("model", class), ("items", item type), ("mapping", value type) or
    ("value", None), looking through `X | None` and Annotated."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _inner(options[0]) if len(options) == 1 else ("value", None)
    if origin in (list, tuple):
        return "items", typing.get_args(annotation)[0]
    if origin is dict:
        return "mapping", typing.get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    return "value", None


def _place(loc: tuple) -> tuple[str, type[BaseModel] | None]:
    """The key path of a pydantic location as docs/editions.md writes it (files[2].unit,
    files[1].sheets['GDP '].indicator) and the model whose key the last step names."""
    text, kind, held, owner = "", "model", Manifest, None
    for part in loc:
        if kind == "items":
            text += f"[{part}]"
            kind, held = _inner(held)
        elif kind == "mapping":
            text += f"['{part}']"
            kind, held = _inner(held)
        else:
            text += f".{part}" if text else str(part)
            owner = held if kind == "model" else None
            field = held.model_fields.get(str(part)) if kind == "model" else None
            kind, held = ("value", None) if field is None else ("field", field.annotation)
        if kind == "field":
            kind, held = _inner(held)
    return text, owner


def _as_manifest_error(manifest_path: Path, error: dict) -> ManifestError:
    context = error.get("ctx") or {}
    where, owner = _place(error["loc"])
    if error["type"] == _PROBLEM:
        where = context.get("key") or where
        if context.get("subkey"):
            where += f".{context['subkey']}"
        expected, found = context["expected"], context["found"]
    elif error["type"] == "missing":
        expected, found = "a value (the key is required)", "no such key"
    elif error["type"] == "extra_forbidden":
        allowed = sorted(owner.model_fields) if owner is not None else []
        expected, found = f"one of the keys {', '.join(allowed)}", f"'{error['loc'][-1]}'"
    else:  # a shape no validator of ours words (pydantic's own message)
        expected, found = error["msg"], repr(error.get("input"))
    return ManifestError(manifest_path, f"manifest key {where}", expected, found)


def _listing_problems(manifest_path: Path, files: Any, edition_dir: Path) -> list[ManifestError]:
    """Each listed file exists and is listed once; every data file of the folder is listed.
    Read from the YAML as it is, so these are found beside any problem of the entries."""
    if not isinstance(files, list):
        return []  # the model says what `files` should be
    problems, listed = [], {}
    for index, entry in enumerate(files):
        try:
            path = edition_path(_text(entry.get("path")) or "") if isinstance(entry, Mapping) else ""
        except (ValueError, PydanticCustomError):
            path = ""
        if not path or path == ".":
            continue  # no usable path: the model's problem
        where = f"manifest key files[{index}].path"
        if path in listed:
            problems.append(ManifestError(manifest_path, where, f"each file listed once (already files[{listed[path]}])",
                                          f"'{path}'"))
            continue
        listed[path] = index
        if not (edition_dir / path).is_file():
            problems.append(ManifestError(manifest_path, where, "a file that exists in the edition folder",
                                          f"'{path}' missing"))
    for relative in edition_files(edition_dir):
        if _is_data_file(relative) and relative not in listed:
            problems.append(ManifestError(manifest_path, "manifest key files", "every data file of the folder listed",
                                          f"'{relative}' not listed"))
    return problems


def _is_data_file(relative: str) -> bool:
    name = PurePosixPath(relative).name
    return relative != MANIFEST_NAME and not name.startswith("README")


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



def load_manifest(edition_dir: str | Path, *, allow_unfinished: bool = False) -> Manifest:
    """The validated manifest of one edition folder; every problem of it at once (ManifestError
    for one, ManifestProblems for several). A folder an unfinished fetch left is not an edition
    (`allow_unfinished`: the fetch checks its manifest before it finishes)."""
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
    if not isinstance(data, Mapping):
        raise ManifestError(manifest_path, "whole file", "a YAML mapping of keys", type(data).__name__)
    manifest, problems = None, []
    try:
        manifest = Manifest.model_validate(data, context={"edition_dir": edition_dir})
    except ValidationError as exc:
        problems = [_as_manifest_error(manifest_path, error) for error in exc.errors(include_url=False)]
    problems += _listing_problems(manifest_path, data.get("files"), edition_dir)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ManifestProblems(problems)
    assert manifest is not None
    return manifest
