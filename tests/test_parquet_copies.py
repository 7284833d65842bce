"""The Parquet copies of the published snapshot carry their table and column descriptions (Parquet
key-value metadata, read with DuckDB's parquet_kv_metadata), and the analysis tables are among them."""

from __future__ import annotations

import duckdb

from provpanel.publish import publish, published_dir, published_path


def _descriptions(parquet) -> dict[str, str]:
    """What any Parquet reader gets from the file's key-value metadata."""
    reader = duckdb.connect()
    try:
        rows = reader.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)",
                              [str(parquet)]).fetchall()
    finally:
        reader.close()
    return dict(rows)


def _comments(database, schema: str, table: str) -> dict[str, str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return dict(con.execute("""SELECT column_name, comment FROM duckdb_columns()
                                   WHERE schema_name = ? AND table_name = ? AND comment IS NOT NULL""",
                                [schema, table]).fetchall())
    finally:
        con.close()


def test_copies_carry_descriptions_and_include_the_analysis_tables(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE SCHEMA analysis")
        con.execute("CREATE TABLE marts.indicator_revisions (indicator VARCHAR, value DOUBLE)")
        con.execute("INSERT INTO marts.indicator_revisions VALUES ('gdp', 113389.8)")
        con.execute("COMMENT ON TABLE marts.indicator_revisions IS 'The same cell across editions.'")
        con.execute("COMMENT ON COLUMN marts.indicator_revisions.value IS 'Value in canonical units (CNY 100m, 亿元).'")
        con.execute("CREATE TABLE analysis.estimates (model_id VARCHAR, estimate DOUBLE)")
        con.execute("INSERT INTO analysis.estimates VALUES ('1', 0.25)")
        con.execute("COMMENT ON COLUMN analysis.estimates.estimate IS 'Coefficient; it''s the point estimate.'")
    finally:
        con.close()
    home = tmp_path / "home"
    publish(warehouse, home)
    parquet = published_dir(home) / "parquet"
    assert sorted(p.name for p in parquet.glob("*.parquet")) == ["estimates.parquet", "indicator_revisions.parquet"]
    revisions = _descriptions(parquet / "indicator_revisions.parquet")
    assert revisions["table"] == "marts.indicator_revisions"
    assert revisions["description"] == "The same cell across editions."
    assert revisions["column:value"] == "Value in canonical units (CNY 100m, 亿元)."
    assert _descriptions(parquet / "estimates.parquet")["column:estimate"] == "Coefficient; it's the point estimate."


def test_the_sample_snapshot_copies_every_analysis_table_with_its_column_comments(sample_build):
    home, _ = sample_build
    snapshot, parquet = published_path(home), published_dir(home) / "parquet"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        analysis_tables = [name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'analysis'").fetchall()]
    finally:
        con.close()
    assert {"estimates", "fit", "mediation", "comparison"} <= set(analysis_tables)
    for schema, table in [("marts", "province_year_panel"), *(("analysis", name) for name in analysis_tables)]:
        comments = _comments(snapshot, schema, table)
        carried = _descriptions(parquet / f"{table}.parquet")
        assert comments, f"{schema}.{table} has no column comments to carry"
        assert {key.removeprefix("column:"): value for key, value in carried.items()
                if key.startswith("column:")} == comments, table
