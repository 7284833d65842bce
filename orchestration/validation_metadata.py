"""Validation outcomes as Dagster metadata: the failing rows, visible in the UI."""

from __future__ import annotations

from dagster import MetadataValue

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
    docs = {"data_docs": MetadataValue.path(str(outcome.docs_index))} if outcome.docs_index else {}
    return {
        **docs,
        "expectations": MetadataValue.int(len(outcome.expectations)),
        "failed_expectations": MetadataValue.int(len(failures)),
        "failures": MetadataValue.md("\n".join(lines) if failures else "all expectations met"),
        "failing_rows": MetadataValue.json(rows_json),
    }
