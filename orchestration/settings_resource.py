"""The settings as one Dagster resource, `settings`, shared by the dbt assets, the panel check
and the analysis: a value set in the launchpad (resources.settings.config) reaches all of
them in that run. Its fields are generated from provpanel.settings.SETTINGS; an empty field
means "not set for this run": the environment's value (PROVPANEL_*), else the default, is
used, resolved when the run executes (not when the code location was loaded).
"""

from __future__ import annotations

from typing import Any, Optional

from dagster import ConfigurableResource
from pydantic import Field

from provpanel.settings import SETTINGS, ResolvedSettings, Setting, resolve_settings

# Runs that `provpanel build` starts carry this tag (orchestration.build_runner): their values came from
# its flags; any other run's values came from the launchpad (or a sensor's run config).
LAUNCHED_BY_TAG = "provpanel/launched_by"


def _annotation(setting: Setting):
    # a setting that takes a word besides a number (panel_end_year: "latest") takes either
    if setting.keywords:
        return Optional[Any]  # noqa: UP045 - evaluated at runtime by pydantic
    return Optional[list[str] if setting.kind is tuple else setting.kind]  # noqa: UP045


def _description(setting: Setting) -> str:
    return (f"{setting.help}. Allowed: {setting.allowed()}. Empty: {setting.env_var} if set, "
            f"else {setting.text(setting.default)}.")


def _resolve(self, run_tags: dict[str, str] | None = None) -> ResolvedSettings:
    """This run's settings. Raises provpanel.settings.SettingError for a value not allowed."""
    source = "cli" if (run_tags or {}).get(LAUNCHED_BY_TAG) == "cli" else "launchpad"
    return resolve_settings({s.name: getattr(self, s.name) for s in SETTINGS}, explicit_source=source)


ProvpanelSettings = type(
    "ProvpanelSettings",
    (ConfigurableResource,),
    {
        "__module__": __name__,
        "__doc__": "Every provpanel setting for this run (empty: the environment's PROVPANEL_* value, else the default).",
        "__annotations__": {s.name: _annotation(s) for s in SETTINGS},
        **{s.name: Field(default=None, description=_description(s)) for s in SETTINGS},
        "resolve": _resolve,
    },
)
