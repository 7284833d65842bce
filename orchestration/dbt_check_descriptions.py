"""What each dbt data test guards, in words, for its Dagster asset check.

A test's own `description:` (or `meta.description`) wins; otherwise the sentence is built from
the generic test's name and arguments, so every test, including ones added later, says what it
checks and where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def _model_name(kwargs: Mapping[str, Any]) -> str:
    """`{{ get_where_subquery(ref('provinces')) }}` -> provinces; a source -> raw.extract_values."""
    text = str(kwargs.get("model", ""))
    source = re.search(r"source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)", text)
    if source:
        return f"{source.group(1)}.{source.group(2)}"
    ref = re.search(r"ref\(\s*'([^']+)'\s*\)", text)
    return ref.group(1) if ref else "the model"


def _listing(values, limit: int = 8) -> str:
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _to_ref(text: str) -> str:
    ref = re.search(r"ref\(\s*'([^']+)'\s*\)", str(text))
    source = re.search(r"source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)", str(text))
    if ref:
        return ref.group(1)
    if source:
        return f"{source.group(1)}.{source.group(2)}"
    return str(text)


def generic_test_sentence(test_name: str, kwargs: Mapping[str, Any]) -> str:
    """One sentence for a generic dbt test from its name and arguments."""
    model = _model_name(kwargs)
    column = kwargs.get("column_name")
    if test_name == "not_null":
        return f"No null {column} in {model}."
    if test_name == "unique":
        return f"{column} identifies one row of {model}: no value appears twice."
    if test_name == "accepted_values":
        return f"{column} in {model} takes only the values {_listing(kwargs.get('values', []))}."
    if test_name == "relationships":
        return (f"Every {column} of {model} exists as {kwargs.get('field')} in {_to_ref(kwargs.get('to', ''))}: "
                f"no reference to an unknown row.")
    if test_name == "columns_not_null":
        return f"No null in the columns {_listing(kwargs.get('columns', []))} of {model}; a failing row names its column."
    if test_name == "unique_combination_of_columns":
        return (f"One row of {model} per ({', '.join(map(str, kwargs.get('combination_of_columns', [])))}): "
                f"no duplicate of that grain.")
    if test_name == "null_only_where_input_missing":
        return (f"A null in {_listing(kwargs.get('columns', []), limit=20)} of {model} only where the row "
                f"lacks one of the variable's inputs (reported in variable_availability), never with every input present.")
    arguments = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model")
    return f"dbt test {test_name} on {model}" + (f" ({arguments})." if arguments else ".")


def dbt_test_description(test_props: Mapping[str, Any]) -> str:
    """The description of a dbt test node of the manifest: its own, else one built from it."""
    own = (test_props.get("description") or "").strip() or (test_props.get("meta") or {}).get("description")
    if own:
        return str(own).strip()
    metadata = test_props.get("test_metadata")
    severity = (test_props.get("config") or {}).get("severity") or "error"
    blocking = " Blocks the downstream assets when it fails." if severity.lower() == "error" else ""
    if metadata:
        return generic_test_sentence(metadata["name"], metadata.get("kwargs") or {}) + blocking
    return f"dbt test {test_props.get('name')} ({test_props.get('original_file_path', 'no file')}).{blocking}"
