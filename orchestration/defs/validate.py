"""Great Expectations suites as Dagster asset checks. Blocking checks stop the analysis."""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from expectations.indicator_suite import STORED_DESCRIPTION as STORED_INDICATOR_SUITE_DESCRIPTION
from expectations.panel_suite import DESCRIPTION as PANEL_SUITE_DESCRIPTION
from orchestration.defs.transform import PANEL_ASSET
from orchestration.resources import ProvpanelPaths
from orchestration.settings_resource import ProvpanelSettings
from orchestration.validation_metadata import outcome_metadata


@asset_check(
    asset=PANEL_ASSET,
    name="panel_suite",
    description=PANEL_SUITE_DESCRIPTION,
    blocking=True,
    pool="warehouse",
)
def panel_suite_check(context: AssetCheckExecutionContext, paths: ProvpanelPaths,
                      settings: ProvpanelSettings) -> AssetCheckResult:
    from expectations.panel_suite import validate_panel
    from provpanel.warehouse import open_warehouse

    # the run's settings, as the dbt assets of this run built the panel with them
    lq_reference = settings.resolve(context.run.tags).values["lq_reference"]
    with open_warehouse(paths.warehouse, read_only=True) as con:
        panel = con.execute("SELECT * FROM marts.province_year_panel").df()
        # missing inputs (a partial edition set) are reported here, not failed
        missing = con.execute("""SELECT variable, n_missing_input, years_missing, reason
                                 FROM marts.variable_availability WHERE n_missing_input > 0
                                 ORDER BY variable""").df()
    outcome = validate_panel(panel, lq_reference=lq_reference, docs_dir=paths.outputs / "data_docs")
    metadata = {**outcome_metadata(outcome), "lq_reference": lq_reference}
    if not outcome.success:  # the edition and file behind each failing value (the build prints it)
        from expectations.panel_provenance import failing_cell_lines

        with open_warehouse(paths.warehouse, read_only=True) as con:
            lines = failing_cell_lines(outcome, con)
        if lines:
            metadata["failing_cells"] = MetadataValue.md("\n".join(f"- {line}" for line in lines))
    metadata["missing_inputs"] = MetadataValue.md(
        missing.to_markdown(index=False) if len(missing) else "No model variable lacks an input.")
    return AssetCheckResult(
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


@asset_check(
    asset=PANEL_ASSET,
    name="indicator_suite",
    description=STORED_INDICATOR_SUITE_DESCRIPTION,
    blocking=True,
    pool="warehouse",
)
def indicator_suite_check(paths: ProvpanelPaths) -> AssetCheckResult:
    from dagster import MetadataValue

    from expectations.indicator_suite import (
        failure_lines,
        prepare_indicator_frame_from_warehouse,
        validate_indicator_frame,
    )

    frame = prepare_indicator_frame_from_warehouse(paths.warehouse)
    outcome = validate_indicator_frame(frame, docs_dir=paths.outputs / "data_docs")
    lines = failure_lines(outcome, limit=50)
    return AssetCheckResult(
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(lines[:5]) if lines else None,
        metadata={**outcome_metadata(outcome), "checked_rows": MetadataValue.int(len(frame)),
                  "failing_cells": MetadataValue.md("\n".join(f"- {line}" for line in lines) or "none")},
    )
