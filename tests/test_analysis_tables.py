"""RegressionTable: paper layout, stars from p-values, absorbed terms, four renderings."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from analysis.estimate import R2_LABELS, fit_model, stars
from analysis.simulate import simulate_panel
from analysis.specs import display_name, get_spec
from analysis.tables import RegressionTable, paper_tables


@pytest.fixture(scope="module")
def results():
    panel = simulate_panel(seed=3)
    return {model_id: fit_model(panel, get_spec(model_id)) for model_id in ("1", "2", "6", "7")}


@pytest.fixture(scope="module")
def table(results):
    return RegressionTable([results["2"], results["7"]], title="Demo", r2_kind="within")


@pytest.mark.parametrize(
    ("p_value", "expected"), [(0.001, "***"), (0.0099, "***"), (0.01, "**"), (0.049, "**"),
                              (0.05, "*"), (0.099, "*"), (0.1, ""), (0.7, "")],
)
def test_star_thresholds(p_value, expected):
    assert stars(p_value) == expected


def test_cells_follow_paper_layout(table, results):
    cells = table.cells().set_index("row", drop=False)
    labels = list(cells["row"])
    ic_row = labels.index("IC")
    assert labels[ic_row + 1] == ""  # SE row directly below
    assert labels[-4:] == ["Province effects", "Year effects", R2_LABELS["within"], "N"]
    assert labels[-5] == "" and labels[-6] == "Constant"
    model_2 = results["2"]
    for term in model_2.params.index:
        row = labels.index(display_name(term))
        coefficient = cells.iloc[row]["Model 2"]
        assert coefficient == f"{model_2.params[term]:.3f}{stars(model_2.pvalues[term])}"
        assert cells.iloc[row + 1]["Model 2"] == f"({model_2.std_errors[term]:.3f})"
    effects = cells.loc["Province effects"]
    assert (effects["Model 2"], effects["Model 7"]) == ("Yes", "Yes")
    assert cells.loc["Year effects", "Model 7"] == "No"
    assert cells.loc["N", "Model 2"] == "630"
    assert cells.loc[R2_LABELS["within"], "Model 7"] == f"{results['7'].r2_within:.3f}"
    assert "after all the model's fixed effects" in R2_LABELS["within"]


def test_absorbed_term_has_no_estimate(table):
    cells = table.cells()
    labels = list(cells["row"])
    fma_row = labels.index("FMA")
    assert cells.iloc[fma_row]["Model 7"] == "absorbed"
    assert cells.iloc[fma_row + 1]["Model 7"] == ""  # no standard error
    assert cells.iloc[fma_row]["Model 2"] == ""  # not in Model 2 at all


def test_stars_in_every_format_match_pvalues(table, results):
    model_2 = results["2"]
    expected = {f"{model_2.params[t]:.3f}": stars(model_2.pvalues[t]) for t in model_2.params.index}
    markdown = table.to_markdown()
    html = table.to_html()
    latex = table.to_latex()
    csv_cells = pd.read_csv(io.StringIO(table.to_csv()), dtype=str, keep_default_na=False)
    for number, star in expected.items():
        assert f"{number}{star} " in markdown or f"{number}{star}|" in markdown
        assert f"<td>{number}{star}</td>" in html
        if star:
            assert f"{number}$^{{{star}}}$" in latex
        else:
            assert re.search(rf"{re.escape(number)}( |\\\\|&)", latex)
        assert f"{number}{star}" in set(csv_cells["Model 2"])


def test_all_formats_render(table, tmp_path):
    markdown = table.to_markdown()
    assert markdown.startswith("**Demo**") and "| Province effects" in markdown
    assert "absorbed" in markdown
    latex = table.to_latex()
    assert latex.count(r"\begin{tabular}{lcc}") == 1 and r"\bottomrule" in latex
    assert "R$^2$ (within: after all the model" in latex
    html = table.to_html()
    assert html.count("<tr>") == len(table.cells()) + 2 and "<caption>Demo</caption>" in html
    path = tmp_path / "table.csv"
    text = table.to_csv(path)
    assert path.read_text(encoding="utf-8") == text
    assert list(pd.read_csv(path).columns) == ["row", "Model 2", "Model 7"]


def test_r2_kind_is_labelled(results):
    inclusive = RegressionTable([results["1"]], r2_kind="inclusive").cells()
    assert "R² (incl. fixed effects)" in set(inclusive["row"])
    with pytest.raises(ValueError, match="r2_kind"):
        RegressionTable([results["1"]], r2_kind="adjusted")


def test_paper_tables_group_models(results):
    tables = paper_tables(results)
    assert [r.model_id for r in tables["table_1"].results] == ["1", "2"]
    assert [r.model_id for r in tables["table_4"].results] == ["6", "7"]
    unidentified = tables["table_4"].cells()
    assert unidentified.iloc[list(unidentified["row"]).index("IC")]["Model 6"] == "absorbed"


def test_fma_tv_weak_identification_beside_its_estimates():
    """FMA_tv's weak identification is in its table (a row and a footnote), not only in the
    mediation notes; tables without such a model have neither."""
    panel = simulate_panel(seed=3)
    fitted = {model_id: fit_model(panel, get_spec(model_id)) for model_id in ("2", "6tv", "7tv")}
    tables = paper_tables(fitted)
    fma_tv = tables["fma_time_varying"]
    cells = fma_tv.cells().set_index("row")
    assert cells.loc["Identification", "Model 6tv"].startswith("weakly identified")
    assert cells.loc["Identification", "Model 7tv"].startswith("weakly identified")
    assert "Model 6tv, Model 7tv: weakly identified" in fma_tv.footnote()
    for rendered in (fma_tv.to_markdown(), fma_tv.to_html(), fma_tv.to_latex()):
        assert "weakly identified" in rendered
    table_1 = tables["protectionism"]
    assert "Identification" not in set(table_1.cells()["row"])
    assert "weakly" not in table_1.footnote()
