"""What the report assets share: computed in Python from the warehouse (in its pool), written
as a file under $PROVPANEL_HOME/outputs and shown in the run's metadata."""

from contextlib import AbstractContextManager
from pathlib import Path

from dagster import AssetKey, asset

from orchestration.resources import ProvpanelPaths


def report_asset(key: AssetKey, *, deps: list[AssetKey], group_name: str, description: str):
    """The @asset decorator of a report."""
    return asset(key=key, deps=deps, group_name=group_name, kinds={"python"}, description=description,
                 pool="warehouse")


def read_only_warehouse(paths: ProvpanelPaths) -> AbstractContextManager:
    """The warehouse, read only: a report writes files, never tables."""
    from provpanel.warehouse import open_warehouse

    return open_warehouse(paths.warehouse, read_only=True)


def write_output(paths: ProvpanelPaths, name: str, text: str) -> Path:
    """`text` as outputs/<name> (the folder made if needed)."""
    paths.outputs.mkdir(parents=True, exist_ok=True)
    path = paths.outputs / name
    path.write_text(text, encoding="utf-8")
    return path
