"""Partial edition sets build what they can and say what is missing (two full builds).

(a) The bundled sample with FDI blanked for 2001-2009: the panel keeps its 630 rows, FDI is
    null there with the reason, the models needing FDI are not estimable with that reason,
    Model 1 is fitted, and `provpanel coverage` reports it.
(b) An editions folder made only of real downloads (tests/real_editions.py): the build
    succeeds, coverage states exactly which indicators and years are observed, every model
    says why it cannot be estimated, coverage names what to fetch next, and a real value is
    traced to its cell.
"""

from __future__ import annotations

import re
import shutil

import duckdb
import openpyxl
import pytest
from cli_helpers import NBS_REAL_DIR, run_provpanel, run_provpanel_in_process
from real_editions import REAL_FILES, write_real_editions

from provpanel.config import SAMPLE_EDITIONS_DIR

pytestmark = pytest.mark.slow  # two full builds

FDI_WORKBOOK = "csy2021/provincial_indicators_2001-2020.xlsx"
FDI_REASON = "fdi_actual has no observations for 2001-2009"


def _query(home, sql):
    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _section(markdown: str, title: str) -> list[dict[str, str]]:
    """The rows of the Markdown table under `## <title...>` as dicts by column name."""
    body = markdown.split(f"## {title}")[1].split("\n## ")[0]
    lines = [line for line in body.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def _fetch_next(markdown: str) -> list[dict[str, str]]:
    """'What to fetch next': the ranked table's rows, each with its `where_from` from the list
    that follows the table ("- `indicator` (source): where from")."""
    rows = _section(markdown, "What to fetch next")
    body = markdown.split("## What to fetch next")[1].split("\n## ")[0]
    where_from = dict(re.findall(r"^- `([a-z_0-9]+)` \([^)]*\): (.*)$", body, flags=re.MULTILINE))
    assert set(where_from) == {row["indicator"] for row in rows}
    return [{**row, "where_from": where_from[row["indicator"]]} for row in rows]


def _build(home, editions):
    completed = run_provpanel_in_process(["build"], home=home, editions=editions)
    assert completed.returncode == 0, f"build failed:\nSTDOUT:\n{completed.stdout}\nSTDERR:\n{completed.stderr}"
    return completed


@pytest.fixture(scope="module")
def fdi_partial(tmp_path_factory):
    """The sample editions with every FDI cell of 2001-2009 blanked (2010-2021 kept)."""
    editions = tmp_path_factory.mktemp("editions") / "editions"
    shutil.copytree(SAMPLE_EDITIONS_DIR, editions)
    book = openpyxl.load_workbook(editions / FDI_WORKBOOK)
    sheet = book["FDI"]
    header = [cell.value for cell in sheet[1]]
    blanked = [index + 1 for index, year in enumerate(header) if isinstance(year, int) and year <= 2009]
    assert len(blanked) == 9
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.column in blanked:
                cell.value = None
    book.save(editions / FDI_WORKBOOK)
    home = tmp_path_factory.mktemp("fdi-partial-home")
    return home, _build(home, editions)


def test_fdi_partial_panel_keeps_its_rows_with_fdi_null_where_missing(fdi_partial):
    home, _ = fdi_partial
    assert _query(home, "select count(*), min(year), max(year) from marts.province_year_panel") == [(630, 2001, 2021)]
    assert _query(home, """select min(year), max(year), count(*) from marts.province_year_panel
                           where fdi is null""") == [(2001, 2009, 270)]
    assert _query(home, """select count(*) from marts.province_year_panel
                           where fdi is null and not contains(missing_input_variables, 'fdi')""") == [(0,)]
    # every other model variable is complete
    assert _query(home, """select variable, n_null, n_corrupt, years_missing, reason
                           from marts.variable_availability where not is_complete""") == [
        ("fdi", 270, 0, "2001-2009", FDI_REASON)]
    assert _query(home, """select count(*) from marts.indicator_coverage
                           where indicator = 'fdi_actual' and is_left_out and n_missing = 30""") == [(9,)]


def test_fdi_partial_models_needing_fdi_say_why_the_others_are_fitted(fdi_partial):
    home, completed = fdi_partial
    fit = dict(_query(home, "select model_id, estimable from analysis.fit"))
    assert [model for model, estimable in fit.items() if estimable] == ["1"]
    reasons = dict(_query(home, "select model_id, not_estimable_reason from analysis.fit where not estimable"))
    assert len(reasons) == 17
    assert set(reasons.values()) == {f"not estimable: FDI: {FDI_REASON}"}
    assert ("ic",) in _query(home, """select term from analysis.estimates
                                      where status = 'estimated' and model_id = '1'""")
    assert _query(home, """select count(*) from analysis.estimates
                           where status = 'not estimable' and model_id = '2' and estimate is null""") == [(6,)]
    # the printed table: Model 1 fitted beside the reason Model 2 is not
    assert "| Model 1" in completed.stdout and f"Model 2 not estimable: FDI: {FDI_REASON}." in completed.stdout
    # then the models not estimable: the reason once, with the 17 models it stops
    assert f"- FDI: {FDI_REASON} — Models 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, protectionism, 6tv, " \
        "7tv\n" in completed.stdout
    assert "Model 3: not estimable" not in completed.stdout


def test_fdi_partial_coverage_reports_it(fdi_partial):
    home, _ = fdi_partial
    completed = run_provpanel(["coverage"], home=home)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0] == "1 of 18 models estimable; 1 indicator missing"
    assert "warning: fdi_actual: no observations for 2001-2009; left out rather than carried" in completed.stderr
    variables = {row["variable"]: row for row in _section(completed.stdout, "Model variables")}
    assert variables["fdi"]["is_complete"] == "False" and variables["fdi"]["reason"] == FDI_REASON
    assert {name for name, row in variables.items() if row["is_complete"] == "True"} == set(variables) - {"fdi"}
    models = {row["model_id"]: row for row in _section(completed.stdout, "Models")}
    assert models["1"]["estimable"] == "True" and models["2"]["missing_variables"] == "FDI"
    assert completed.stdout.count(FDI_REASON) == 2  # once in the grouped reasons, once in Model variables
    assert f"- FDI: {FDI_REASON} — Models 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14" in completed.stdout
    fetch = _fetch_next(completed.stdout)
    missing = [row for row in fetch if row["years_missing"] != "-"]
    assert [(row["indicator"], row["years_missing"], row["needed_by"], row["models"], row["unlocks_alone"])
            for row in missing] == [("fdi_actual", "2001-2009", "fdi", "17", "17")]
    assert fetch[0]["indicator"] == "fdi_actual"  # the only indicator that unlocks a model ranks first
    assert "**Smallest set that makes Models 1 and 2 estimable** (1): fdi_actual." in completed.stdout
    # the coverage asset ran in the build: its report and heat map are in the outputs
    assert FDI_REASON in (home / "outputs" / "coverage.md").read_text(encoding="utf-8")
    from heatmap_pixels import assert_heat_map_draws

    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        indicators = con.execute("select * from marts.indicator_coverage").df()
    fdi = indicators.query("indicator == 'fdi_actual'").set_index("year").sort_index()
    assert list(fdi.loc[2001:2009, "n_missing"]) == [30] * 9  # the blanked years, drawn as missing cells
    assert_heat_map_draws(home / "outputs" / "coverage_heatmap.png", indicators)
    long = run_provpanel(["coverage", "--format", "csv"], home=home)
    rows = [line.split(",") for line in long.stdout.splitlines()[1:]]
    fdi_2005 = next(row for row in rows if row[0] == "fdi_actual" and row[2] == "2005")
    assert fdi_2005[3:] == ["30", "0", "0", "0", "30", "True", "missing"]


# ---- (b) real files only ----------------------------------------------------------------

# What the real files hold on the 30 panel provinces x the panel's years (README of
# ../shared/data/nbs_real): the panel ends in 2021, the last year most observed inputs have.
REAL_OBSERVED_YEARS = {
    "gdp": "2001-2018, 2021",
    "employment": "2001-2018",
    "population": "2001-2019",
    "patents_granted": "2010-2021",  # the S&T yearbook's .rda from 2010, the portal's export from 2011
    "fiscal_expenditure": "2011-2021",
    "exchange_rate": "2001-2014",  # the national table (1985-2014)
    "trade_total": "2016-2021",  # the portal client's long table (2016-2024)
    "va_primary": "2021",
    "va_secondary": "2021",
    "va_tertiary": "2021",
}


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    editions = write_real_editions(tmp_path_factory.mktemp("real") / "editions")
    home = tmp_path_factory.mktemp("real-home")
    return home, _build(home, editions)


@pytest.mark.real_data
def test_real_build_coverage_states_the_observed_indicators_and_years(real_build):
    home, _ = real_build
    assert _query(home, "select count(*), min(year), max(year) from marts.province_year_panel") == [(630, 2001, 2021)]
    completed = run_provpanel(["coverage"], home=home)
    assert completed.returncode == 0, completed.stderr
    summary = {row["indicator"]: row for row in _section(completed.stdout, "Indicators")}
    observed = {name: row["years_observed"] for name, row in summary.items() if row["years_observed"] != "-"}
    assert observed == REAL_OBSERVED_YEARS
    # GDP 2019-2020 lie between observed years: interpolated, not observed
    assert summary["gdp"]["years_filled"] == "2019-2020"
    assert {name for name, row in summary.items() if row["years_filled"] != "-"} == {"gdp"}


@pytest.mark.real_data
def test_real_build_every_model_says_why_and_coverage_names_what_to_fetch(real_build):
    home, _ = real_build
    fit = _query(home, "select model_id, estimable, not_estimable_reason from analysis.fit")
    assert len(fit) == 18 and not any(estimable for _, estimable, _ in fit)
    reasons = {model: reason for model, _, reason in fit}
    assert reasons["1"] == ("not estimable: TU: exchange_rate has no observations for 2015-2021; exports, "
                            "imports have no observations for 2001-2021; trade_total has no observations "
                            "for 2001-2015; IC: va_tertiary has no observations for 2001-2020")
    assert all(reason.startswith("not estimable: ") for reason in reasons.values())
    fetch = {row["indicator"]: row for row in _fetch_next(run_provpanel(["coverage"], home=home).stdout)}
    assert fetch["trade_total"]["years_missing"] == "2001-2015"
    assert "table A0601" in fetch["trade_total"]["where_from"] and "A060101" in fetch["trade_total"]["where_from"]
    assert fetch["exchange_rate"]["years_missing"] == "2015-2021"
    # GDP lacks no year: 2019-2020 are interpolated for the 30 provinces
    assert fetch["gdp"]["years_missing"] == "-" and fetch["gdp"]["filled"] == "60: 2019-2020"
    assert fetch["gdp"]["where_from"].startswith("portal fsnd table A0201 ") and "A020101" in fetch["gdp"]["where_from"]
    # FDI actually used is not in the portal: coverage says where it comes from instead of a code
    assert fetch["fdi_actual"]["where_from"].startswith("not in the portal: ")
    assert "provincial statistical yearbooks" in fetch["fdi_actual"]["where_from"]
    assert fetch["va_tertiary"]["years_missing"] == "2001-2020"
    assert fetch["patents_granted"]["years_missing"] == "2001-2009"


def _coverage_summary(home):
    """The coverage asset's metadata of the build: its keys in order, and the summary's text."""
    from dagster import AssetKey, DagsterInstance

    instance = DagsterInstance.from_config(str(home / "dagster"))
    metadata = instance.get_latest_materialization_event(AssetKey(["reports", "coverage"])).asset_materialization.metadata
    return list(metadata), metadata["summary"].value


# what Models 1 and 2 lack on the real files, TU taking the trade total (missing 2001-2015) rather
# than exports and imports (never observed)
REAL_SMALLEST_FOR_MODELS_1_AND_2 = [
    "edu_junior", "edu_none", "edu_primary", "edu_senior", "edu_tertiary", "employment", "exchange_rate",
    "fdi_actual", "fiscal_expenditure", "optical_cable_length", "patents_granted", "population",
    "trade_total", "va_tertiary"]


@pytest.mark.real_data
def test_real_coverage_starts_with_the_count_and_ranks_what_to_fetch_by_models_unlocked(real_build):
    from analysis.specs import VARIANT_MODELS, paper_models

    home, _ = real_build
    completed = run_provpanel(["coverage"], home=home)
    assert completed.returncode == 0, completed.stderr
    n_models = len([*paper_models(), *VARIANT_MODELS])
    [(n_missing,)] = _query(home, """select count(distinct indicator) from marts.panel_input_cells
                                    where fill_method = 'missing'""")
    headline = f"0 of {n_models} models estimable; {n_missing} indicators missing"
    assert completed.stdout.splitlines()[0] == headline and n_missing == 24
    keys, summary = _coverage_summary(home)
    assert keys[0] == "summary" and summary == headline  # the asset's metadata starts with it too

    fetch = _fetch_next(completed.stdout)
    models = [int(row["models"]) for row in fetch]
    assert models == sorted(models, reverse=True) and [int(row["rank"]) for row in fetch] == list(
        range(1, len(fetch) + 1))
    by_name = {row["indicator"]: row for row in fetch}
    # TU, FDI and FMA_tv need the exchange rate: every model does
    assert fetch[0]["indicator"] == "exchange_rate" and fetch[0]["models"] == str(n_models)
    assert int(by_name["trade_total"]["models"]) > 0 and by_name["exports"]["models"] == "0"
    assert by_name["exports"]["instead"] == "trade_total" and by_name["trade_total"]["instead"] == "exports + imports"
    # where each comes from, from the portal seed: a portal table with its code and confidence, a
    # file, or not in the portal
    assert by_name["population"]["source"] == "portal"
    assert "table A0301 '总人口'" in by_name["population"]["where_from"]
    assert by_name["population"]["where_from"].endswith("A030101 '年末常住人口' (万人); confidence high")
    assert by_name["exports"]["where_from"].endswith("; confidence table")
    assert by_name["employment"]["source"] == "file" and by_name["employment"]["where_from"].startswith("a file: ")
    assert by_name["fdi_actual"]["source"] == "not in the portal"
    # a tie (17 models each) goes to the easier source: a portal code, a portal table, a file, not in the portal
    order = [row["indicator"] for row in fetch]
    assert order.index("population") < order.index("edu_none") < order.index("employment") < order.index("fdi_actual")
    assert (f"**Smallest set that makes Models 1 and 2 estimable** ({len(REAL_SMALLEST_FOR_MODELS_1_AND_2)}): "
            f"{', '.join(REAL_SMALLEST_FOR_MODELS_1_AND_2)}.") in completed.stdout

    # values read but outside the panel's years are said, with their count
    outside = _query(home, """select indicator, count(*) from raw.extract_values
                              where in_catalog and value is not null and (year < 2001 or year > 2021)
                              group by indicator order by indicator""")
    line = next(line for line in completed.stdout.splitlines()
                if line.startswith("Stored but outside the panel's years 2001-2021"))
    assert f"{sum(n for _, n in outside)} values: " in line
    assert all(f"{indicator} " in line and f"({n})" in line for indicator, n in outside)
    assert "gdp 1985-2000" in line and "trade_total 2022-2024" in line


@pytest.mark.real_data
def test_real_reasons_are_said_once_with_the_models_they_stop(real_build):
    home, built = real_build
    tu = "TU: exchange_rate has no observations for 2015-2021"
    coverage = run_provpanel(["coverage"], home=home).stdout
    for printed in (built.stdout, coverage):  # the build's output, and coverage
        assert printed.count(tu) == 1, printed
        assert f"{tu}; exports, imports have no observations for 2001-2021; trade_total has no observations " \
               "for 2001-2015 — Models 1, 2, 3, 4, 5, 7, 9, 11, 14, 15, 16, 17, protectionism, 7tv\n" in printed
        assert "- KS: patent_applications has no observations for 2001-2021 — Models 10, 11\n" in printed
    assert "Models not estimable on this panel: 18 of 18" in built.stdout


@pytest.mark.real_data
def test_real_heat_map_shows_each_cells_observed_filled_and_missing(real_build):
    from heatmap_pixels import assert_heat_map_draws

    home, _ = real_build
    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        indicators = con.execute("select * from marts.indicator_coverage").df()
    # GDP 2019-2020, interpolated, is a filled cell: a map by majority never showed one
    assert indicators.query("indicator == 'gdp' and year == 2019")["n_interpolated"].item() == 30
    assert_heat_map_draws(home / "outputs" / "coverage_heatmap.png", indicators)


@pytest.mark.real_data
def test_real_value_is_traced_to_its_cell(real_build):
    """Guangdong's patents granted 2020 = 709,725 in both real sources (README of nbs_real), each
    traced to its cell: the portal export's line and column, the R data frame's row and column."""
    home, _ = real_build
    cells = _query(home, """
        select file, edition, sheet, source_row, source_col, source_value, value from raw.extract_values
        where province_code = '44' and year = 2020 and indicator = 'patents_granted' order by file""")
    assert [(file, value) for file, *_, value in cells] == [
        ("patents_granted_2011-2025.csv", 709725), ("patents_granted_sst_yearbook_2010-2023.rda", 709725)]
    for file, edition, *_ in cells:
        assert edition == next(real.edition for real in REAL_FILES if real.name == file)
    # the stated cell of the CSV holds the value (rows and columns counted from 1)
    (_, _, _, row, col, source_value, _) = cells[0]
    lines = (NBS_REAL_DIR / cells[0][0]).read_text(encoding="utf-8-sig").splitlines()
    assert lines[row - 1].split(",")[col - 1].strip() == source_value == "709725"
    assert lines[row - 1].startswith("广东省")
    # the stated cell of the R file: object (sheet), frame row and column, counted from 1
    import pyreadr

    (_, _, frame_name, row, col, source_value, _) = cells[1]
    frame = pyreadr.read_r(str(NBS_REAL_DIR / cells[1][0]))[frame_name]
    assert float(frame.iat[row - 1, col - 1]) == 709725 and source_value == "709725"
    guangdong_row = " ".join(str(value) for value in frame.iloc[row - 1])
    assert "广" in guangdong_row and "2020" in guangdong_row and "合计" in guangdong_row


@pytest.mark.real_data
def test_real_build_trend_plot_stays_on_the_panel_years_and_says_no_data(real_build):
    """ic_tu_by_region on the real files: TU has no value, IC one year: each panel says so, on
    the panel's own years (not matplotlib's 1925-2125 around a single year)."""
    from analysis.plots import narrow_path, trends_by_region_figure

    home, _ = real_build
    written = home / "outputs" / "ic_tu_by_region.png"
    assert written.exists() and narrow_path(written).exists()  # the build wrote it, and the UI's copy
    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        panel = con.execute("select region, year, ic, tu from marts.province_year_panel").df()
    first, last = int(panel["year"].min()), int(panel["year"].max())
    ic_years = sorted(int(y) for y in panel.loc[panel["ic"].notna(), "year"].unique())
    assert panel["tu"].isna().all() and len(ic_years) == 1  # what the real files hold
    ic_axes, tu_axes = trends_by_region_figure(panel).axes
    for axes in (ic_axes, tu_axes):
        low, high = axes.get_xlim()
        assert first <= low < high <= last, (axes.get_title(), low, high)
        assert all(float(tick).is_integer() for tick in axes.get_xticks() if low <= tick <= high)
    assert [t.get_text() for t in tu_axes.texts] == [f"no data: TU has no value in {first}-{last}"]
    assert [t.get_text() for t in ic_axes.texts] == [f"no data for a trend: IC has values in {ic_years[0]} only"]
