"""dbt models as Dagster assets: one @dbt_assets for the whole project, one translator."""

import json
import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSpec
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.dbt_check_descriptions import dbt_test_description
from orchestration.dbt_manifest import prepared_manifest
from orchestration.dbt_project import provpanel_dbt_project
from orchestration.resources import ProvpanelPaths, dbt_executable
from orchestration.settings_resource import ProvpanelSettings
from provpanel.config import dbt_vars

DBT_PROJECT = provpanel_dbt_project()
PANEL_ASSET = AssetKey(["marts", "province_year_panel"])


class ProvpanelDbtTranslator(DagsterDbtTranslator):
    """Keys are [schema, name] (sources: [source, table]); groups follow the dbt layer; every
    dbt test's check says what it guards."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        return {"lookups": "lookups", "staging": "staging", "intermediate": "intermediate"}.get(
            dbt_resource_props["schema"], "panel"
        )

    def get_asset_check_spec(self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=dbt_test_description(manifest["nodes"][unique_id]))


@dbt_assets(
    manifest=prepared_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=ProvpanelDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    pool="warehouse",
)
def provpanel_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, paths: ProvpanelPaths, settings: ProvpanelSettings
):
    from provpanel.settings import PANEL
    from provpanel.settings_record import record_settings

    resolved = settings.resolve(context.run.tags)
    run_paths = paths.as_paths()  # this run's home, not the one the code location was loaded with
    # the dbt profile reads the warehouse path from the environment of its subprocess
    os.environ["PROVPANEL_WAREHOUSE"] = str(run_paths.warehouse)
    dbt_var_values = dbt_vars(resolved.stage(PANEL), run_paths.units_folder)
    # Unit tests check the models' SQL on fixed inputs, not the data: they run in the test suite
    # (tests/test_dbt_panel.py runs a plain `dbt build`), not in every production build.
    yield from dbt.cli(
        ["build", "--exclude-resource-type", "unit_test",
         "--vars", json.dumps(dbt_var_values, sort_keys=True)],
        context=context,
        target_path=run_paths.dbt_target,
    ).stream()
    # reached only when dbt succeeded: the panel now is what these settings built
    record_settings(paths.warehouse, resolved, PANEL, context.run.run_id)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())
