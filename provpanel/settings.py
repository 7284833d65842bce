"""Every setting of a build, defined once: name, type, default, allowed values, help.

Each setting reaches every asset that uses it from one of (strongest first):
  - the run: the launchpad's run config of the `settings` resource, or a `provpanel build`
    flag (`--se-type robust`), which the CLI passes as that same run config;
  - the environment: PROVPANEL_<NAME> (PROVPANEL_SE_TYPE, PROVPANEL_LQ_REFERENCE, ...);
  - the default below.
`resolve_settings` returns the values with where each came from; the dbt vars, the panel
check, the analysis, the build fingerprint, the snapshot's `analysis.settings` table and the
outputs' header line are all read from it.

Adding a setting is one `Setting(...)` line in SETTINGS; an analysis setting is passed to
`analysis.run_all` as the keyword of its name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# The analysis's defaults, from below the analysis (a later stage, never imported here).
from provpanel.analysis_defaults import (
    DEFAULT_BREAK_YEAR,
    DEFAULT_MEDIATION_REPS,
    DEFAULT_REPS,
    DEFAULT_SEED,
    DEFAULT_TERMS,
    DEFAULT_WEIGHTS,
    R2_KINDS,
    SE_TYPES,
    WEIGHT_TYPES,
)

ENV_PREFIX = "PROVPANEL_"
# Where a value came from, as recorded in analysis.settings.
SOURCES = ("default", "env", "cli", "launchpad")
PANEL = "panel"  # used by dbt and the panel check
ANALYSIS = "analysis"  # passed to analysis.run_all

_EARLIEST_YEAR, _LATEST_YEAR = 1949, 2100


class SettingError(ValueError):
    """A setting's value is not one it allows; the message names the setting, where the
    value came from and what is allowed."""


@dataclass(frozen=True)
class Setting:
    """One setting. `kind` is int, float, str or tuple (of words: "ic,ic2" in the environment
    or a flag, a list in the launchpad); `choices` (str, each word of a tuple) or
    `minimum`/`maximum` (numbers) say what is allowed; `keywords` are words accepted besides
    a number (panel_end_year: "latest")."""

    name: str
    kind: type
    default: object
    stage: str
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    keywords: tuple[str, ...] = field(default=())

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """What is allowed, in words (error messages, --help, the README table)."""
        if self.kind is tuple:
            return "a comma-separated list of " + (", ".join(self.choices) if self.choices else "names")
        if self.choices:
            return "one of " + ", ".join(self.choices)
        kind = {int: "an integer", float: "a number"}[self.kind]
        if self.minimum is not None and self.maximum is not None:
            kind += f" from {_number(self.minimum)} to {_number(self.maximum)}"
        elif self.minimum is not None:
            kind += f" ≥ {_number(self.minimum)}"
        return kind + "".join(f" or {word!r}" for word in self.keywords)

    def text(self, value: object) -> str:
        """The value as written in the environment, a flag, a header line or analysis.settings."""
        return ",".join(value) if isinstance(value, tuple) else str(value)

    def parse(self, value: object, where: str = "") -> object:
        """The value as the setting's type, or SettingError naming the setting, `where` the
        value came from, and what is allowed."""
        try:
            return self._parse(value)
        except (TypeError, ValueError):
            origin = f" ({where})" if where else ""
            raise SettingError(
                f"setting {self.name}{origin}: {value!r} is not allowed; expected {self.allowed()}"
            ) from None

    def _parse(self, value: object) -> object:
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and text in self.keywords:
            return text
        if self.kind is tuple:
            words = text.split(",") if isinstance(text, str) else list(text)
            words = tuple(word.strip() for word in words if str(word).strip())
            # words are names (of terms, ...): never free text
            if not all(isinstance(word, str) and word.isidentifier() for word in words) or (
                self.choices and not set(words) <= set(self.choices)
            ):
                raise ValueError
            return words
        if self.kind is str:
            if not isinstance(text, str) or (self.choices and text not in self.choices):
                raise ValueError
            return text
        if isinstance(text, bool):
            raise TypeError
        number = self.kind(text)  # int("2.5") and float("x") raise ValueError
        if self.kind is int and isinstance(text, float) and number != text:
            raise ValueError
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ValueError
        return number


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


SETTINGS: tuple[Setting, ...] = (
    # panel (dbt vars; lq_reference also chooses the panel check's location-quotient identity)
    Setting("vintage_policy", str, "latest", PANEL,
            "which edition wins a revised cell", choices=("latest", "first_release")),
    Setting("panel_start_year", int, 2001, PANEL, "first year of the panel",
            minimum=_EARLIEST_YEAR, maximum=_LATEST_YEAR),
    Setting("panel_end_year", int, "latest", PANEL,
            "last year of the panel; latest: the last year in which most observed model inputs are observed for most provinces (2021 for the sample)",
            minimum=_EARLIEST_YEAR, maximum=_LATEST_YEAR, keywords=("latest",)),
    Setting("interpolation_edges", str, "carry", PANEL,
            "cells before the first / after the last observation: carry the nearest value (flagged as filled) or leave them missing",
            choices=("carry", "missing")),
    Setting("lq_reference", str, "panel", PANEL,
            "location-quotient reference: panel = sum over the panel's provinces, all_provinces = over all 31, national = the national-total rows",
            choices=("panel", "all_provinces", "national")),
    # analysis (keywords of analysis.run_all)
    Setting("se_type", str, "cluster", ANALYSIS, "standard errors of every model and mediation path",
            choices=SE_TYPES),
    Setting("break_year", int, DEFAULT_BREAK_YEAR, ANALYSIS,
            "first year of the protectionism period (P_t = 1{year >= break_year})",
            minimum=_EARLIEST_YEAR, maximum=_LATEST_YEAR),
    Setting("bootstrap_reps", int, DEFAULT_MEDIATION_REPS, ANALYSIS,
            "draws of the province-block bootstrap of the indirect effects", minimum=1),
    Setting("seed", int, DEFAULT_SEED, ANALYSIS, "seed of every bootstrap", minimum=0),
    Setting("wild_bootstrap_reps", int, DEFAULT_REPS, ANALYSIS,
            "draws of the wild cluster bootstrap (wild_bootstrap_terms, and every slope with se_type wild_cluster_bootstrap)", minimum=1),
    Setting("wild_bootstrap_terms", tuple, DEFAULT_TERMS, ANALYSIS,
            "slopes that get a wild cluster bootstrap p-value (wild_bootstrap_p) in every model that has them; "
            "empty: none (with se_type wild_cluster_bootstrap every slope gets one)"),
    Setting("wild_bootstrap_weights", str, DEFAULT_WEIGHTS, ANALYSIS,
            "weights of the wild cluster bootstrap", choices=WEIGHT_TYPES),
    Setting("alpha", float, 0.05, ANALYSIS, "level of the mediation tests and intervals",
            minimum=1e-6, maximum=0.5),
    Setting("r2_kind", str, "within", ANALYSIS, "which R² the regression tables print",
            choices=R2_KINDS),
)
SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class ResolvedSettings:
    """The value of every setting and where it came from (one of SOURCES)."""

    values: dict[str, object]
    sources: dict[str, str]

    def stage(self, stage: str) -> dict[str, object]:
        return {s.name: self.values[s.name] for s in SETTINGS if s.stage == stage}

    def header_line(self) -> str:
        """One line listing every setting, for the head of each output file."""
        return "settings: " + ", ".join(
            f"{s.name}={s.text(self.values[s.name])}" + ("" if self.sources[s.name] == "default" else f" ({self.sources[s.name]})")
            for s in SETTINGS
        )

    def rows(self, stage: str | None = None) -> list[dict]:
        """One row per setting: what analysis.settings records."""
        return [
            {"setting": s.name, "value": s.text(self.values[s.name]), "source": self.sources[s.name],
             "stage": s.stage, "default_value": s.text(s.default), "env_var": s.env_var,
             "cli_flag": s.cli_flag, "allowed": s.allowed(), "description": s.help}
            for s in SETTINGS if stage is None or s.stage == stage
        ]


def default_values(stage: str) -> dict[str, object]:
    """Every setting of the stage at its default (what a run given no value uses)."""
    return {s.name: s.default for s in SETTINGS if s.stage == stage}


def resolve_settings(explicit: Mapping[str, object] | None = None, *, explicit_source: str = "cli",
                     environ: Mapping[str, str] | None = None) -> ResolvedSettings:
    """Every setting: `explicit` (a run's config or CLI flags; None means not given), else
    the environment, else the default. Raises SettingError for an unknown name or a value
    that is not allowed."""
    if explicit_source not in SOURCES:
        raise ValueError(f"explicit_source {explicit_source!r}: expected one of {SOURCES}")
    environ = os.environ if environ is None else environ
    explicit = {name: value for name, value in (explicit or {}).items() if value is not None}
    unknown = sorted(set(explicit) - set(SETTINGS_BY_NAME))
    if unknown:
        raise SettingError(f"unknown setting(s) {', '.join(unknown)}; the settings are: "
                           + ", ".join(SETTINGS_BY_NAME))
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        if setting.name in explicit:
            where = {"cli": f"flag {setting.cli_flag}",
                     "launchpad": f"run config resources.settings.config.{setting.name}"}.get(
                explicit_source, explicit_source)
            values[setting.name] = setting.parse(explicit[setting.name], where)
            sources[setting.name] = explicit_source
        elif environ.get(setting.env_var, "").strip():
            values[setting.name] = setting.parse(environ[setting.env_var], f"environment variable {setting.env_var}")
            sources[setting.name] = "env"
        else:
            values[setting.name] = setting.default
            sources[setting.name] = "default"
    start, end = values["panel_start_year"], values["panel_end_year"]
    if isinstance(end, int) and end < start:
        raise SettingError(f"settings panel_start_year ({sources['panel_start_year']}) = {start} and "
                           f"panel_end_year ({sources['panel_end_year']}) = {end}: the end year must not "
                           "come before the start year")
    return ResolvedSettings(values, sources)


def settings_markdown_table() -> str:
    """The README's settings table (tests/test_settings.py keeps the README equal to it):
    `python -m provpanel.settings` prints it."""
    lines = ["| setting | environment variable | `provpanel build` flag | default | allowed | meaning |",
             "|---|---|---|---|---|---|"]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | `{s.env_var}` | `{s.cli_flag}` | `{s.text(s.default)}` | {s.allowed()} | {s.help} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_markdown_table())
