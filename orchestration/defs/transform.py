"""dbt models as Dagster assets: one @dbt_assets for the whole project, one translator."""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSpec
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
    get_asset_key_for_model,
)

from orchestration.dbt_check_descriptions import dbt_test_description
from orchestration.dbt_home_project import PROFILE_WAREHOUSE, home_dbt_project
from orchestration.dbt_manifest import prepared_manifest, seed_partial_parse
from orchestration.resources import ProvpanelDbtCliResource, ProvpanelPaths, dbt_executable
from orchestration.settings_resource import ProvpanelSettings
from provpanel.config import DBT_PROJECT_DIR, dbt_vars


class ProvpanelDbtTranslator(DagsterDbtTranslator):
    """Keys are dagster-dbt's defaults: [schema, name] (sources: [source, table]), or the
    `meta.dagster.asset_key` of a model whose name is longer than the 18 characters Dagster's
    expanded graph shows (the table keeps its name: it is the asset's `dagster/table_name`).
    Groups follow the dbt layer; every dbt test's check says what it guards."""

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        description = super().get_description(dbt_resource_props)
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot") and (
            self.get_asset_key(dbt_resource_props).path[-1] != dbt_resource_props["name"]
        ):  # a shortened name: the zoomed-in node and the asset page name the table
            return f"Table {dbt_resource_props['schema']}.{dbt_resource_props['name']}. {description}"
        return description

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
    # no DbtProject: dagster-dbt would run dbt in its folder, and each home's dbt runs in its own
    manifest=prepared_manifest(),
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
    dbt_var_values = dbt_vars(resolved.stage(PANEL), run_paths.units_folder)
    # dbt runs in the home's project folder, where the profile's warehouse path (read from the
    # environment of its subprocess) is the same relative one in every home: the parse made
    # once for the project's content and these vars serves this build (dbt_home_project)
    project = home_dbt_project(run_paths)
    os.environ["PROVPANEL_WAREHOUSE"] = PROFILE_WAREHOUSE
    seed_partial_parse(run_paths.dbt_target, dbt_var_values)
    # Unit tests check the models' SQL on fixed inputs, not the data: they run in the test suite
    # (tests/test_dbt_panel.py runs a plain `dbt build`), not in every production build.
    yield from in_project(dbt, project).cli(
        ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_var_values, sort_keys=True)],
        context=context,
        target_path=run_paths.dbt_target,
    ).stream()
    # reached only when dbt succeeded: the panel now is what these settings built
    record_settings(paths.warehouse, resolved, PANEL, context.run.run_id)


def dbt_model_key(model_name: str) -> AssetKey:
    """The asset key of a dbt model or seed, by its table name."""
    return get_asset_key_for_model([provpanel_dbt_models], model_name)


PANEL_ASSET = dbt_model_key("province_year_panel")


def dbt_resource() -> DbtCliResource:
    return ProvpanelDbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                                   dbt_executable=dbt_executable())


def in_project(dbt: DbtCliResource, project: Path) -> DbtCliResource:
    """The configured dbt resource, run in a home's project folder (its working directory,
    where the profile's relative warehouse path points into that home)."""
    return dbt.model_copy(update={"project_dir": str(project), "profiles_dir": str(project)})
