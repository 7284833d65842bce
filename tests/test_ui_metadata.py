"""What the Dagster UI shows: the analysis headline, the checks' descriptions and bounds, the
offline Data Docs. Builders only, on small frames (the browser test sees them in the UI)."""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue

from expectations.data_docs_offline import STYLESHEET, make_offline, newest_validation_page
from expectations.gx_runner import ExpectationOutcome, SuiteOutcome
from orchestration.analysis_metadata import frame_table, headline
from orchestration.dbt_check_descriptions import dbt_test_description
from orchestration.validation_metadata import describe_bound, outcome_metadata


def _results(model_2_estimable: bool = True):
    estimates = pd.DataFrame({
        "model_id": ["1", "1", "2"], "term": ["ic", "cx", "ic"],
        "estimate": [0.7694, 0.1, 0.7069 if model_2_estimable else float("nan")],
        "std_error": [0.2090, 0.05, 0.1871 if model_2_estimable else float("nan")],
        "stars": ["***", "", "***" if model_2_estimable else ""],
        "not_estimable_reason": [None, None, None if model_2_estimable else "FDI: fdi_actual has no observations"],
    })
    fit = pd.DataFrame({
        "model_id": ["2", "1"], "nobs": [600, 600], "r2_within": [0.456, 0.321],
        "estimable": [model_2_estimable, True],
        "not_estimable_reason": [None if model_2_estimable else "FDI: fdi_actual has no observations", None],
    })
    return estimates, fit


def test_headline_names_ic_se_n_and_r2_of_models_1_and_2():
    text, values = headline(*_results())
    assert text.splitlines()[0] == "| Model | IC | SE | N | R² within |"
    assert "| 1 | 0.769*** | 0.209 | 600 | 0.321 |" in text
    assert "| 2 | 0.707*** | 0.187 | 600 | 0.456 |" in text
    assert values["ic_model_1"] == 0.7694 and values["n_model_2"] == 600
    assert len(text) < 1000  # the UI shows Markdown under 1,000 characters without a click


def test_headline_says_when_a_model_is_not_estimable():
    text, values = headline(*_results(model_2_estimable=False))
    assert "| 2 | not estimable |" in text
    assert "Model 2: FDI: fdi_actual has no observations" in text
    assert "ic_model_2" not in values and "ic_model_1" in values


def test_a_long_reason_keeps_the_headline_in_place_and_names_what_is_lacking():
    """On a partial real edition the reasons run to 1,000 characters: the headline then names the
    variables each model lacks and points to the coverage report, so the UI still shows it."""
    estimates, fit = _results(model_2_estimable=False)
    long_reason = ("not estimable: TU: exchange_rate has no observations for 2015-2021; exports, imports have "
                   "no observations for 2001-2021; IC: va_tertiary has no observations for 2001-2020; "
                   + "; ".join(f"FMA_tv: indicator_{i} has no observations for 2001-2021" for i in range(30)))
    fit["not_estimable_reason"] = [long_reason, None]
    text, _ = headline(estimates, fit)
    assert len(text) < 1000
    assert "- Model 2: lacks TU, IC, FMA_tv" in text and "coverage report" in text


def test_frame_table_keeps_the_named_columns_in_the_papers_model_order():
    frame = pd.DataFrame({"model_id": ["10", "2", "1"], "estimate": [1.0, 2.0, None], "noise": [1, 2, 3]})
    table = frame_table(frame, {"model_id": ("string", "Model"), "estimate": ("float", "Coefficient")})
    assert [c.name for c in table.schema.columns] == ["model_id", "estimate"]
    assert [r.data["model_id"] for r in table.records] == ["1", "2", "10"]
    assert table.records[0].data["estimate"] is None


def test_metadata_tables_and_failing_rows_print_numbers_rounded_for_reading():
    """A float cell of a metadata table or a failing row reads as a number, not 16 digits or 1.2e+06."""
    frame = pd.DataFrame({"model_id": ["1"], "estimate": [0.7694128533012345], "p_value": [0.000012345678]})
    table = frame_table(frame, {"model_id": ("string", "Model"), "estimate": ("float", "Coefficient"),
                                "p_value": ("float", "p value")})
    assert table.records[0].data["estimate"] == 0.7694
    assert table.records[0].data["p_value"] == 0.00001235
    failed = ExpectationOutcome("expect_column_values_to_be_between", "gdp_yoy_ratio", False, 1,
                                failing_rows=[{"province_code": "44", "population": 1008830.0, "gdp": 113289.8,
                                               "gdp_yoy_ratio": 10.000000000000002}],
                                arguments={"min_value": 0.2, "max_value": 1500000.0})
    metadata = outcome_metadata(SuiteOutcome("province_year_panel", False, [failed]))
    row = metadata["failing_rows_table"].value.records[0].data
    assert row["row"] == "province_code=44, population=1008830, gdp=113289.8, gdp_yoy_ratio=10"
    assert row["bound"] == "0.2 <= value <= 1500000"


def test_dbt_check_descriptions_say_what_is_guarded():
    generic = {"name": "accepted_values_provinces_region", "description": "", "config": {"severity": "error"},
               "test_metadata": {"name": "accepted_values", "kwargs": {
                   "column_name": "region", "values": ["east", "central", "west"],
                   "model": "{{ get_where_subquery(ref('provinces')) }}"}}}
    assert dbt_test_description(generic) == ("region in provinces takes only the values east, central, west. "
                                             "Blocks the downstream assets when it fails.")
    relationship = {"name": "r", "test_metadata": {"name": "relationships", "kwargs": {
        "column_name": "indicator", "to": "ref('indicator_catalog')", "field": "indicator",
        "model": "{{ get_where_subquery(source('raw', 'extract_values')) }}"}}, "config": {"severity": "warn"}}
    assert dbt_test_description(relationship) == (
        "Every indicator of raw.extract_values exists as indicator in indicator_catalog: no reference to an unknown row.")
    own = {"name": "assert_x", "description": "Values agree across files.\n", "test_metadata": None}
    assert dbt_test_description(own) == "Values agree across files."
    unknown = {"name": "t", "test_metadata": {"name": "my_test", "kwargs": {"limit": 3, "model": "ref('m')"}}}
    assert dbt_test_description(unknown).startswith("dbt test my_test on m (limit=3)")


def test_describe_bound():
    assert describe_bound({"min_value": 0, "max_value": 5.5, "strict_min": True}) == "0 < value <= 5.5"
    assert describe_bound({"max_value": 0.3}) == "value <= 0.3"
    assert describe_bound({"value_set": [False]}) == "value in {False}"
    assert describe_bound({"value": 630}) == "= 630"


def test_a_failed_suite_shows_the_failing_rows_and_the_bound(tmp_path):
    failed = ExpectationOutcome("expect_column_values_to_be_between", "tu_yoy_ratio", False, 1,
                                failing_rows=[{"province_code": "44", "year": 2005, "tu_yoy_ratio": 9.5}],
                                arguments={"min_value": 0.2, "max_value": 5})
    met = ExpectationOutcome("expect_table_row_count_to_equal", None, True, 0, arguments={"value": 630})
    page = tmp_path / "validations" / "province_year_panel" / "__none__" / "20260101T000000Z" / "p.html"
    outcome = SuiteOutcome("province_year_panel", False, [failed, met], docs_index=tmp_path / "index.html",
                           docs_page=page)
    metadata = outcome_metadata(outcome)
    assert next(iter(metadata)) == "failures"
    assert "| expect_column_values_to_be_between | tu_yoy_ratio | 0.2 <= value <= 5 | 1 | " \
           "province_code=44, year=2005, tu_yoy_ratio=9.5 |" in metadata["failures"].value
    record = metadata["failing_rows_table"].value.records[0].data
    assert record == {"expectation": "expect_column_values_to_be_between", "column": "tu_yoy_ratio",
                      "bound": "0.2 <= value <= 5", "row": "province_code=44, year=2005, tu_yoy_ratio=9.5"}
    assert "| (table) | the expected number of rows | = 630 | met |" in metadata["suite"].value
    assert metadata["data_docs_page"] == MetadataValue.url(page.as_uri())


def test_data_docs_pages_lose_their_cdn_links(tmp_path):
    page = tmp_path / "validations" / "panel" / "__none__" / "20260101T000000Z" / "panel.html"
    page.parent.mkdir(parents=True)
    head = ('<html><head><link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/b.css"/>'
            '<script src="https://code.jquery.com/jquery.min.js"></script>'
            '<link rel="shortcut icon" href="../../../static/images/favicon.ico"/></head>')
    page.write_text(head + '<body><table class="table"><tr><td>x</td></tr></table>'
                    '<i class="fas fa-times text-danger"></i></body></html>')
    (tmp_path / "index.html").write_text(head + "<body><p>GX</p></body></html>")
    make_offline(tmp_path)
    make_offline(tmp_path)  # a second run (the next suite) changes nothing more
    for written in (page, tmp_path / "index.html"):
        text = written.read_text()
        assert "https://" not in text and "favicon.ico" in text
        assert text.count("provpanel_offline.css") == 1
    assert '<link rel="stylesheet" href="../../../../static/styles/provpanel_offline.css">' in page.read_text()
    assert (tmp_path / STYLESHEET).read_text().startswith("/* provpanel")
    index = (tmp_path / "index.html").read_text()
    assert index.count('href="validations/panel/__none__/20260101T000000Z/panel.html"') == 1
    assert "<td>FAILED</td>" in index
    assert newest_validation_page(tmp_path, "panel") == page


def test_a_failing_indicator_cell_reads_in_full():
    """The line the build prints and the UI lists for a failing cell: 113289.8 and 1008830 whole,
    not 113290 and 1.00883e+06."""
    from expectations.indicator_suite import failure_lines

    row = {"edition": "csy2022", "file": "gdp.csv", "sheet": "", "province_code": "44", "year": 2020,
           "indicator": "gdp", "value": 1008830.0, "check": "yoy_ratio", "statistic": 8.905000000000001,
           "bound": "[0.5, 2]", "compared_edition": "csy2021", "compared_file": "gdp.csv", "compared_year": 2019,
           "compared_value": 113289.8, "denominator": None}
    failed = ExpectationOutcome("expect_column_pair_values_a_to_be_greater_than_b", None, False, 1,
                                failing_rows=[row])
    [_, line] = failure_lines(SuiteOutcome("indicator_values", False, [failed]))
    assert "gdp = 1008830: yoy_ratio 8.905 outside [0.5, 2]" in line
    assert line.endswith("compared with csy2021/gdp.csv, 2019: 113289.8")


def test_a_failing_panel_row_reads_without_float_noise():
    from expectations.panel_provenance import failing_cell_lines

    failed = ExpectationOutcome("expect_column_values_to_be_between", "share_of_something", False, 1,
                                failing_rows=[{"province_code": "44", "year": 2005,
                                               "share_of_something": 0.30000000000000004}])
    [line] = failing_cell_lines(SuiteOutcome("province_year_panel", False, [failed]), con=None)
    assert line.endswith("province_code=44, year=2005, share_of_something=0.3")


def test_the_headline_numbers_of_the_estimates_asset_are_rounded_for_reading():
    """ic_model_1 reads 0.7358, not 0.7357605470404276; analysis.estimates keeps every digit."""
    from analysis.run import run_all
    from analysis.simulate import simulate_panel
    from orchestration.analysis_metadata import READING_DIGITS, analysis_metadata

    results = run_all(simulate_panel(seed=4), bootstrap_reps=19, seed=9)
    metadata = analysis_metadata("estimates", results, settings_line="")
    estimate = float(results.estimates.query("model_id == '1' and term == 'ic'")["estimate"].iloc[0])
    assert metadata["ic_model_1"].value == float(f"{estimate:.{READING_DIGITS}g}") != estimate
    floats = [v.value for v in metadata.values() if type(v).__name__ == "FloatMetadataValue"]
    assert floats and all(len(repr(abs(v)).replace("0.", "").lstrip("0").replace(".", "")) <= READING_DIGITS
                          for v in floats), floats
