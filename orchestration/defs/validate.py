"""Great Expectations suites as Dagster asset checks. Blocking checks stop the analysis."""

from dagster import AssetCheckResult, AssetCheckSeverity, asset_check

from orchestration.defs.transform import PANEL_ASSET
from orchestration.resources import ProvpanelPaths
from orchestration.validation_metadata import outcome_metadata


@asset_check(
    asset=PANEL_ASSET,
    name="panel_suite",
    description="Great Expectations suite on the panel: grain, row count, no null model variables, "
    "plausible ranges, year-on-year jumps, location-quotient identity, share of filled cells.",
    blocking=True,
    pool="warehouse",
)
def panel_suite_check(paths: ProvpanelPaths) -> AssetCheckResult:
    from expectations.panel_suite import validate_panel
    from provpanel.config import panel_settings
    from provpanel.warehouse import open_warehouse

    with open_warehouse(paths.warehouse, read_only=True) as con:
        panel = con.execute("SELECT * FROM marts.province_year_panel").df()
    outcome = validate_panel(panel, lq_reference=panel_settings()["lq_reference"],
                             docs_dir=paths.outputs / "data_docs")
    return AssetCheckResult(
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata=outcome_metadata(outcome),
    )


@asset_check(
    asset=PANEL_ASSET,
    name="indicator_suite",
    description="Great Expectations suite on every catalog indicator's stored values, per edition and file "
    "(raw.extract_values): year-on-year ratios, the ratio to GDP or population against the other provinces "
    "of the same file and year, whole-file medians, and revisions between editions beyond the stated share "
    "unless the manifest declares them. Catches unit slips (x10 ... x10,000) in a cell, a series or a file.",
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
