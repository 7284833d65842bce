"""Great Expectations suites as Dagster asset checks. Blocking checks stop the analysis."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from orchestration.defs.transform import PANEL_ASSET
from orchestration.resources import ProvpanelPaths

MAX_ROWS_IN_METADATA = 50


def outcome_metadata(outcome) -> dict:
    """Failing expectations with their failing rows (province, year, value), for the UI."""
    failures = outcome.failures
    lines = ["| expectation | column | failing rows | first rows (province, year, value) |", "|---|---|---|---|"]
    rows_json = {}
    for failure in failures:
        sample = failure.failing_rows[:5]
        shown = "; ".join(
            ", ".join(f"{k}={v}" for k, v in row.items()) for row in sample
        ) or str(failure.details)
        lines.append(f"| {failure.expectation} | {failure.column or ''} | {failure.unexpected_count} | {shown} |")
        rows_json[f"{failure.expectation}:{failure.column or 'table'}"] = failure.failing_rows[:MAX_ROWS_IN_METADATA]
    return {
        "expectations": MetadataValue.int(len(outcome.expectations)),
        "failed_expectations": MetadataValue.int(len(failures)),
        "failures": MetadataValue.md("\n".join(lines) if failures else "all expectations met"),
        "failing_rows": MetadataValue.json(rows_json),
    }


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
    outcome = validate_panel(panel, lq_reference=panel_settings()["lq_reference"])
    return AssetCheckResult(
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata=outcome_metadata(outcome),
    )
