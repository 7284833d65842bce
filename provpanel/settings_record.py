"""analysis.settings: the value of every setting the warehouse's tables were built with.

Each stage records its own rows when it succeeds (the dbt assets the panel settings, the
analysis its settings), so a run that re-ran only the analysis leaves the panel's rows, and
their run id, as they were. The table travels into the published snapshot with the rest of
the analysis schema.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from provpanel.settings import ResolvedSettings

TABLE = "analysis.settings"
COLUMN_COMMENTS = {
    "setting": "Name of the setting (provpanel/settings.py; README, Configuration).",
    "value": "The value the tables were built with, as text.",
    "source": "Where the value came from: default, env (PROVPANEL_* variable), cli (a provpanel build "
              "flag) or launchpad (the run config of the settings resource in the Dagster UI).",
    "stage": "panel: used by dbt and the panel check; analysis: used by the models (analysis.*).",
    "default_value": "The default, used when neither the run nor the environment sets a value.",
    "env_var": "The environment variable that sets it.",
    "cli_flag": "The provpanel build flag that sets it.",
    "allowed": "The values it accepts.",
    "description": "What it changes.",
    "run_id": "The Dagster run that built the stage with this value.",
    "recorded_at": "When that run recorded it (local time).",
}


def record_settings(warehouse: Path, resolved: ResolvedSettings, stage: str, run_id: str) -> None:
    """Replace `stage`'s rows of analysis.settings with `resolved`'s values."""
    from provpanel.warehouse import open_warehouse

    frame = pd.DataFrame(resolved.rows(stage))
    frame["run_id"] = run_id
    columns = ", ".join(f"{name} VARCHAR" for name in COLUMN_COMMENTS if name != "recorded_at")
    with open_warehouse(warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS analysis")
        con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns}, recorded_at TIMESTAMP)")
        con.execute(f"DELETE FROM {TABLE} WHERE stage = ?", [stage])
        con.register("settings_frame", frame)
        names = [name for name in COLUMN_COMMENTS if name != "recorded_at"]
        con.execute(f"INSERT INTO {TABLE} ({', '.join(names)}, recorded_at) "
                    f"SELECT {', '.join(names)}, now()::TIMESTAMP FROM settings_frame")
        con.unregister("settings_frame")
        con.execute(f"COMMENT ON TABLE {TABLE} IS 'The settings the panel (stage panel) and the analysis "
                    "(stage analysis) were built with, and where each value came from.'")
        for name, comment in COLUMN_COMMENTS.items():
            con.execute(f"COMMENT ON COLUMN {TABLE}.{name} IS '{comment.replace(chr(39), chr(39) * 2)}'")
