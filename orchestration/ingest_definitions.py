"""The ingest job on its own, without the dbt project.

`orchestration.definitions` (the code location) includes this job; `provpanel build` runs it
from `ingest_defs` while `dbt parse` builds the manifest in the background, because loading
the full definitions needs that manifest (and dagster_dbt, ~6 s to import).
"""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from orchestration.defs.ingest import RAW_EDITIONS, RAW_EXTRACT_VALUES, raw_edition
from orchestration.resources import ProvpanelPaths

raw_assets = AssetSelection.assets(RAW_EXTRACT_VALUES, RAW_EDITIONS)

ingest_edition_job = define_asset_job(
    "ingest_edition",
    selection=raw_assets,  # partitioned by edition, like the assets it selects
    description="Read one edition folder into the raw tables (one partition per edition).",
)

ingest_defs = Definitions(
    assets=[raw_edition],
    jobs=[ingest_edition_job],
    resources={"paths": ProvpanelPaths()},
    executor=in_process_executor,
)
