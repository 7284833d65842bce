"""The Dagster code location: assets by domain (ingest → dbt → checks → analysis → publish), jobs, sensors."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from orchestration.defs.analysis import paper_models
from orchestration.defs.coverage import indicator_coverage_report
from orchestration.defs.discovery import build_discovery_sensor, build_panel_after_ingest_sensor
from orchestration.defs.fetch import fetch_portal_edition_job
from orchestration.defs.ingest import ingest_edition_job, raw_assets, raw_edition
from orchestration.defs.publish import published_snapshot
from orchestration.defs.remove import build_panel_after_remove_sensor, remove_edition_job
from orchestration.defs.reports import edition_diff_report
from orchestration.defs.transform import dbt_resource, provpanel_dbt_models
from orchestration.defs.validate import indicator_suite_check, panel_suite_check
from orchestration.resources import ProvpanelPaths
from orchestration.settings_resource import ProvpanelSettings

build_panel_job = define_asset_job(
    "build_panel",
    selection=AssetSelection.all() - raw_assets,
    description="dbt models, validation checks, the analysis and the published snapshot, on every ingested edition.",
)

defs = Definitions(
    assets=[raw_edition, provpanel_dbt_models, paper_models, published_snapshot, edition_diff_report,
            indicator_coverage_report],
    asset_checks=[panel_suite_check, indicator_suite_check],
    jobs=[ingest_edition_job, build_panel_job, fetch_portal_edition_job, remove_edition_job],
    sensors=[
        build_discovery_sensor(ingest_edition_job),
        build_panel_after_ingest_sensor(ingest_edition_job, build_panel_job),
        build_panel_after_remove_sensor(remove_edition_job, build_panel_job),
    ],
    # "settings": one resource for the dbt assets, the panel check and the analysis, so a value
    # set in the launchpad (resources.settings.config) reaches all of them in that run
    resources={"paths": ProvpanelPaths(), "dbt": dbt_resource(), "settings": ProvpanelSettings()},
    # Steps share one process: a new process per step re-imports dbt/GX/linearmodels (~10 s each).
    executor=in_process_executor,
)
