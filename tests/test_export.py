"""`provpanel export`: the published panel as Stata, CSV and Parquet files that read back equal."""

from __future__ import annotations

import csv
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_provpanel

from provpanel.export import STATA_LABEL_MAX, ExportError, export_panel, stata_label
from provpanel.publish import published_path


@pytest.fixture(scope="module")
def published(sample_build):
    """The sample build's home, its published panel and the panel's column types and comments."""
    home, _ = sample_build
    con = duckdb.connect(str(published_path(home)), read_only=True)
    try:
        panel = con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()
        columns = con.execute(
            """SELECT column_name, data_type, comment FROM duckdb_columns()
               WHERE schema_name = 'marts' AND table_name = 'province_year_panel' ORDER BY column_index""").fetchall()
    finally:
        con.close()
    return home, panel, {name: (data_type, comment) for name, data_type, comment in columns}


def _booleans(columns) -> list[str]:
    return [name for name, (data_type, _) in columns.items() if data_type == "BOOLEAN"]


def _as_text(series: pd.Series) -> list[str]:
    """Strings with a null as "" (Stata and CSV have no string null)."""
    return series.astype(object).where(series.notna(), "").astype(str).tolist()


def _assert_same_values(ours: pd.DataFrame, panel: pd.DataFrame, booleans: list[str]) -> None:
    assert list(ours.columns) == list(panel.columns)
    assert len(ours) == len(panel) == 630
    for name in panel.columns:
        expected, got = panel[name], ours[name]
        if name in booleans:
            assert got.tolist() == expected.astype(int).tolist(), name
        elif pd.api.types.is_numeric_dtype(expected):
            np.testing.assert_allclose(got.astype(float), expected.astype(float), rtol=1e-15, equal_nan=True,
                                       err_msg=name)
        else:
            assert _as_text(got) == _as_text(expected), name


def test_dta_reads_back_with_labels_and_equal_values(published, tmp_path):
    import pyreadstat

    home, panel, columns = published
    out = tmp_path / "panel.dta"
    completed = run_provpanel(["export", "--format", "dta", "--out", str(out)], home=home)
    assert completed.returncode == 0, completed.stderr
    assert f"wrote {out} (630 rows, {len(columns)} columns)" in completed.stdout
    frame, meta = pyreadstat.read_dta(str(out))
    # every variable labelled from its column comment, within Stata's limits
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert all(labels[name] and len(labels[name]) <= STATA_LABEL_MAX for name in columns)
    assert all(len(name) <= 32 for name in meta.column_names)
    assert labels["year"] == "Calendar year"
    for name, (_, comment) in columns.items():  # every word of a label is the comment's
        assert set(_words(labels[name])) <= set(_words(comment)), name
    assert labels["tu"].startswith("Trade openness (TU)")
    # booleans are 0/1 integers (Stata has no boolean), the values are the panel's
    booleans = _booleans(columns)
    assert booleans and all(meta.readstat_variable_types[name].startswith("int") for name in booleans)
    assert meta.readstat_variable_types["province_name_zh"] == "string"
    _assert_same_values(frame, panel, booleans)


def test_csv_has_booleans_as_0_1_and_equal_values(published, tmp_path):
    home, panel, columns = published
    out = tmp_path / "panel.csv"
    completed = run_provpanel(["export", "--format", "csv", "--out", str(out)], home=home)
    assert completed.returncode == 0, completed.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    booleans = _booleans(columns)
    assert {row[name] for row in rows for name in booleans} == {"0", "1"}
    frame = pd.read_csv(out, dtype={"province_code": str}, keep_default_na=False, na_values=[""])
    _assert_same_values(frame, panel, booleans)
    assert frame.loc[frame["province_code"] == "44", "province_name_zh"].iloc[0] == "广东省"


def test_parquet_equals_the_published_table(published, tmp_path):
    home, panel, columns = published
    out = tmp_path / "panel.parquet"
    completed = run_provpanel(["export", "--format", "parquet", "--out", str(out)], home=home)
    assert completed.returncode == 0, completed.stderr
    con = duckdb.connect(str(published_path(home)), read_only=True)
    try:
        differences = con.execute(
            f"""SELECT count(*) FROM (
                    (SELECT * FROM marts.province_year_panel EXCEPT ALL SELECT * FROM '{out}')
                    UNION ALL
                    (SELECT * FROM '{out}' EXCEPT ALL SELECT * FROM marts.province_year_panel))""").fetchone()[0]
        types_match = con.execute(
            f"""SELECT (SELECT list(column_type) FROM (DESCRIBE SELECT * FROM '{out}'))
                     = (SELECT list(column_type) FROM (DESCRIBE marts.province_year_panel))""").fetchone()[0]
    finally:
        con.close()
    assert differences == 0 and types_match
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall() == [(len(panel),)]
    # the column comments travel with the file (Parquet key-value metadata)
    carried = dict(duckdb.sql(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{out}')").fetchall())
    assert {name: carried.get(f"column:{name}") for name in columns} == \
        {name: comment for name, (_, comment) in columns.items()}


def test_an_existing_file_is_kept_unless_forced(published, tmp_path):
    home, _, _ = published
    out = tmp_path / "mine.csv"
    out.write_text("an analyst's edited copy\n")
    refused = run_provpanel(["export", "--format", "csv", "--out", str(out)], home=home)
    assert refused.returncode == 2
    assert f"{out}: exists; give --force" in refused.stderr and "Traceback" not in refused.stderr
    assert out.read_text() == "an analyst's edited copy\n"
    forced = run_provpanel(["export", "--format", "csv", "--out", str(out), "--force"], home=home)
    assert forced.returncode == 0, forced.stderr
    assert out.read_text().startswith("province_code,")
    assert list(tmp_path.iterdir()) == [out]  # no partial file left behind


def test_default_path_is_the_current_folder(published, tmp_path, monkeypatch):
    home, _, _ = published
    monkeypatch.chdir(tmp_path)
    result = export_panel(published_path(home), "parquet")
    assert result.path == tmp_path / "province_year_panel.parquet" and result.path.is_file()


def test_errors_name_what_is_wrong(tmp_path):
    no_build = run_provpanel(["export", "--format", "dta", "--out", str(tmp_path / "p.dta")], home=tmp_path / "home")
    assert no_build.returncode == 2 and "no published snapshot" in no_build.stderr
    assert "Traceback" not in no_build.stderr and not (tmp_path / "p.dta").exists()
    with pytest.raises(ExportError, match="no such folder"):
        export_panel(tmp_path / "x.duckdb", "csv", tmp_path / "missing" / "p.csv")
    with pytest.raises(ExportError, match="unknown format"):
        export_panel(tmp_path / "x.duckdb", "xlsx", tmp_path / "p.xlsx")


def test_stata_label_is_the_first_sentence_within_80_characters():
    assert stata_label("Calendar year.") == "Calendar year"
    assert stata_label("GDP in CNY 100m. Interpolated in USD.") == "GDP in CNY 100m"
    long = stata_label("word " * 40)
    assert len(long) <= STATA_LABEL_MAX and long.endswith("…") and not long.endswith(" …")
    assert stata_label(None) == ""


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'+*/=-]+", text.lower())


def _panel_column_comments() -> dict[str, str]:
    """The panel's column comments as dbt writes them (the model's .yml)."""
    import yaml

    from provpanel.config import DBT_PROJECT_DIR

    doc = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/province_year_panel.yml").read_text(encoding="utf-8"))
    return {column["name"]: column.get("description", "") for column in doc["models"][0]["columns"]}


def test_stata_labels_lead_with_the_meaning_and_name_no_internal_model():
    comments = _panel_column_comments()
    labels = {name: stata_label(comment) for name, comment in comments.items()}
    # "TU, trade openness: trade_cny / GDP, ..." reads "Trade openness (TU): trade_cny / GDP, ..."
    assert labels["tu"].startswith("Trade openness (TU): trade_cny / GDP")
    assert labels["hum"] == "Human capital stock (HUM): ln(h * L)"
    assert labels["te"] == "Transaction-efficiency PCA index (TE)"
    assert labels["ic"] == "Tertiary location quotient (IC)"
    # the comments name dbt models (int_...) and vars; the labels never do
    assert any("int_" in comment for comment in comments.values())
    assert not [name for name, label in labels.items() if "int_" in label or "(var " in label], labels
    assert all(0 < len(label) <= STATA_LABEL_MAX for label in labels.values())


def test_a_label_is_cut_after_the_meaning_not_inside_it():
    meaning = "a meaning of sixty characters that must be kept whole in it"
    label = stata_label(f"X, {meaning}: then a definition that runs well past the eighty characters Stata allows.")
    assert label.startswith(meaning[:1].upper() + meaning[1:] + " (X): then")
    assert len(label) <= STATA_LABEL_MAX and label.endswith("…")
