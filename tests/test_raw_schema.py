"""The raw tables are defined once (provpanel.raw_schema): the warehouse, an edition read into
memory, the dbt sources and the staging models all follow that spec, and drift fails here."""

from __future__ import annotations

import re

import duckdb
import yaml

from provpanel.config import DBT_PROJECT_DIR, REPO_ROOT
from provpanel.extracts.values import ExtractValue
from provpanel.raw_schema import EDITIONS, EXTRACT_VALUES, RAW_TABLES, READ_VALUE_DTYPES
from provpanel.warehouse import ensure_raw_schema

STAGING = DBT_PROJECT_DIR / "models" / "staging"
SPEC = {table.name: table for table in RAW_TABLES}


def test_the_warehouse_is_made_from_the_spec():
    with duckdb.connect() as con:
        ensure_raw_schema(con)
        ensure_raw_schema(con)  # idempotent
        for table in RAW_TABLES:
            schema, name = table.name.split(".")
            comment = con.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                                  [schema, name]).fetchone()[0]
            assert comment == table.comment
            columns = con.execute("""SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns()
                                     WHERE schema_name = ? AND table_name = ? ORDER BY column_index""",
                                  [schema, name]).fetchall()
            assert columns == [(c.name, c.sql_type, c.nullable, c.comment)
                               for c in table.columns], table.name


def test_what_a_reader_yields_is_the_raw_row_without_the_edition_file_and_load_time():
    assert set(ExtractValue._fields) == set(READ_VALUE_DTYPES) - {"edition", "file", "file_sha256"}
    assert list(READ_VALUE_DTYPES) == [name for name in EXTRACT_VALUES.column_names if name != "loaded_at"]


def test_the_dbt_sources_list_exactly_the_spec():
    sources = yaml.safe_load((STAGING / "_raw__sources.yml").read_text(encoding="utf-8"))["sources"]
    [raw] = [source for source in sources if source["name"] == "raw"]
    declared = {f"{raw['schema']}.{table['name']}": table for table in raw["tables"]}
    assert set(declared) == {EXTRACT_VALUES.name, EDITIONS.name}  # the tables dbt reads
    for name, table in declared.items():
        spec = SPEC[name]
        assert table["description"] == spec.comment, name
        found = [(column["name"], column.get("data_type"), column.get("description")) for column in table["columns"]]
        expected = [(column.name, column.sql_type.lower(), column.comment) for column in spec.columns]
        assert found == expected, f"{name}: _raw__sources.yml differs from provpanel/raw_schema.py"


def _staged_columns(model: str) -> tuple[str, list[str]]:
    """The source table and the columns a staging model keeps (its staged_source call)."""
    sql = (STAGING / f"{model}.sql").read_text(encoding="utf-8")
    call = re.search(r"staged_source\(\s*'raw',\s*'(\w+)',\s*\[(.*?)\]", sql, re.DOTALL)
    assert call, f"{model}.sql does not stage a raw table with staged_source"
    return call.group(1), re.findall(r"'(\w+)'", call.group(2))


def test_the_staging_models_keep_spec_columns_in_spec_order_and_document_them():
    for model in ("stg_raw__extract_values", "stg_raw__editions"):
        table, columns = _staged_columns(model)
        spec_names = SPEC[f"raw.{table}"].column_names
        assert columns == [name for name in spec_names if name in columns], model
        assert set(columns) <= set(spec_names), model
        documented = yaml.safe_load((STAGING / f"{model}.yml").read_text(encoding="utf-8"))["models"][0]
        assert [column["name"] for column in documented["columns"]] == columns, model


def test_staging_keeps_every_value_column_of_extract_values():
    # in_catalog is the filter (catalog indicators only); everything else is kept
    _, columns = _staged_columns("stg_raw__extract_values")
    assert set(EXTRACT_VALUES.column_names) - set(columns) == {"in_catalog"}


def test_the_editions_doc_names_every_column():
    doc = (REPO_ROOT / "docs" / "editions.md").read_text(encoding="utf-8")
    section = doc[doc.index("## What is stored"):]
    table_rows = re.findall(r"^\| ([a-z_0-9, ]+) \|", section, re.MULTILINE)
    documented = [name.strip() for row in table_rows if row.strip() != "column" for name in row.split(",")]
    assert documented == EXTRACT_VALUES.column_names
    editions_paragraph = section[section.index("`raw.editions`"):section.index("`raw.declared_revisions`")]
    assert re.findall(r"`(\w+)`", editions_paragraph) == EDITIONS.column_names
