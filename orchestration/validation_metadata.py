"""Validation outcomes as Dagster metadata: what each expectation guards, and for a failure the
failing rows and the bound they broke, visible in the UI."""

from __future__ import annotations

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from provpanel.number_text import readable_number

MAX_ROWS_IN_METADATA = 50
MAX_FAILING_ROWS_TABLE = 200

# what an expectation type guards, in words (the bound is added from its arguments)
EXPECTATION_PURPOSE = {
    "expect_column_values_to_be_between": "every value within the bound",
    "expect_column_values_to_be_in_set": "every value one of the allowed values",
    "expect_column_values_to_not_be_null": "no missing value",
    "expect_column_values_to_be_unique": "no value twice",
    "expect_compound_columns_to_be_unique": "one row per combination (the grain)",
    "expect_table_row_count_to_equal": "the expected number of rows",
    "expect_table_row_count_to_be_between": "a number of rows within the bound",
    "expect_column_pair_values_a_to_be_greater_than_b": "the first column above the second",
}


def _fmt(value) -> str:
    if isinstance(value, float):  # 7 significant digits: a cell's 113289.8 whole, a ratio without float noise
        return readable_number(value, 7)
    if isinstance(value, list):
        return "{" + ", ".join(_fmt(v) for v in value) + "}"
    return str(value)


def describe_bound(arguments: dict) -> str:
    """The bound of an expectation from its arguments: `0 < x <= 5`, `in {False}`, `= 630`."""
    low, high = arguments.get("min_value"), arguments.get("max_value")
    if low is not None or high is not None:
        lower = "" if low is None else f"{_fmt(low)} {'<' if arguments.get('strict_min') else '<='} "
        upper = "" if high is None else f" {'<' if arguments.get('strict_max') else '<='} {_fmt(high)}"
        return f"{lower}value{upper}"
    if "value_set" in arguments:
        return f"value in {_fmt(arguments['value_set'])}"
    if "value" in arguments:
        return f"= {_fmt(arguments['value'])}"
    if "column_list" in arguments:
        return f"unique ({', '.join(map(str, arguments['column_list']))})"
    shown = {k: v for k, v in arguments.items() if k not in ("mostly", "result_format", "meta", "notes")}
    return ", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()) or "–"


def expectation_purpose(expectation: str) -> str:
    return EXPECTATION_PURPOSE.get(expectation, expectation.removeprefix("expect_").replace("_", " "))


def _row_text(row: dict) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in row.items())


def failing_rows_table(failures) -> MetadataValue:
    """One record per failing row: the expectation, its column, the bound and the row."""
    records = []
    for failure in failures:
        rows = failure.failing_rows[:MAX_ROWS_IN_METADATA] or [failure.details]
        for row in rows:
            records.append(TableRecord({
                "expectation": failure.expectation, "column": failure.column or "(table)",
                "bound": describe_bound(failure.arguments), "row": _row_text(row) or "–",
            }))
    schema = TableSchema(columns=[
        TableColumn("expectation", "string", description="The Great Expectations expectation"),
        TableColumn("column", "string", description="The column checked"),
        TableColumn("bound", "string", description="What each value had to satisfy"),
        TableColumn("row", "string", description="The failing row: province, year and the value"),
    ])
    return MetadataValue.table(records=records[:MAX_FAILING_ROWS_TABLE], schema=schema)


def outcome_metadata(outcome) -> dict:
    """Failing expectations with their bound and failing rows first, then every expectation of
    the suite with what it guards, and the link to its Data Docs page."""
    failures = outcome.failures
    lines = ["| expectation | column | bound | failing rows | first rows |", "|---|---|---|---|---|"]
    rows_json = {}
    for failure in failures:
        shown = "; ".join(_row_text(row) for row in failure.failing_rows[:5]) or _row_text(failure.details)
        lines.append(f"| {failure.expectation} | {failure.column or ''} | {describe_bound(failure.arguments)} "
                     f"| {failure.unexpected_count} | {shown} |")
        rows_json[f"{failure.expectation}:{failure.column or 'table'}"] = failure.failing_rows[:MAX_ROWS_IN_METADATA]
    suite = ["| column | guards | bound | result |", "|---|---|---|---|"]
    for expectation in outcome.expectations:
        suite.append(f"| {expectation.column or '(table)'} | {expectation_purpose(expectation.expectation)} "
                     f"| {describe_bound(expectation.arguments)} "
                     f"| {'met' if expectation.success else f'FAILED ({expectation.unexpected_count} rows)'} |")
    metadata = {
        "failures": MetadataValue.md("\n".join(lines) if failures else "All expectations met."),
    }
    if failures:
        metadata["failing_rows_table"] = failing_rows_table(failures)
    if outcome.docs_index:
        metadata["data_docs"] = MetadataValue.path(str(outcome.docs_index))
        validation_page = getattr(outcome, "docs_page", None)
        if validation_page:
            metadata["data_docs_page"] = MetadataValue.url(validation_page.as_uri())
    metadata.update({
        "expectations": MetadataValue.int(len(outcome.expectations)),
        "failed_expectations": MetadataValue.int(len(failures)),
        "suite": MetadataValue.md("\n".join(suite)),
        "failing_rows": MetadataValue.json(rows_json),
    })
    return metadata
