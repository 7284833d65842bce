"""Comparison with the published estimates: mapping, agreement flags, planted disagreement."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_provpanel

from analysis.compare import (
    COMPARISON_COLUMNS,
    READING_WIDTH,
    compare,
    comparison_markdown,
    load_published,
)
from analysis.errors import AnalysisInputError
from analysis.estimate import fit_model
from analysis.simulate import simulate_panel
from analysis.specs import get_spec


@pytest.fixture(scope="module")
def published():
    return load_published()


@pytest.fixture(scope="module")
def results():
    panel = simulate_panel(seed=21)
    return {model_id: fit_model(panel, get_spec(model_id)) for model_id in ("1", "2", "7", "9")}


def test_published_models_and_mediator_mapping(published):
    models = sorted(published.coefficients["model_id"].unique(), key=int)
    assert models == [str(m) for m in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17]]
    terms_9 = set(published.coefficients.query("model_id == '9'")["term"])
    assert "te" in terms_9 and "M" not in terms_9
    assert set(published.fit["model_id"]) == set(models)


def _with_planted_sign(result, term):
    params = result.params.copy()
    params[term] = -np.sign(1.447) * abs(params[term])  # published Model 2 IC is +1.447
    return dataclasses.replace(result, params=params)


def test_planted_sign_disagreement_is_flagged(results, published):
    planted = dict(results)
    planted["2"] = _with_planted_sign(results["2"], "ic")
    table = compare(planted, published).set_index(["model_id", "term"])
    assert not table.loc[("2", "ic"), "sign_agree"]
    assert table.loc[("1", "ic"), "sign_agree"]  # untouched model agrees (simulated +0.92)
    row = table.loc[("2", "ic")]
    assert row["difference"] == pytest.approx(row["estimate"] - 1.447)


def test_significance_agreement_at_ten_percent(results, published):
    table = compare(results, published).set_index(["model_id", "term"])
    for (model_id, term), row in table[table["status"] == "estimated"].iterrows():
        ours = results[model_id].pvalues[term] < 0.10
        assert row["significant"] == ours
        assert row["significance_agree"] == (ours == (row["published_stars"] != ""))


def test_absorbed_and_missing_models_have_no_numbers(results, published):
    table = compare(results, published)
    assert list(table.columns) == COMPARISON_COLUMNS
    fma = table[(table["model_id"] == "7") & (table["term"] == "fma")].iloc[0]
    assert fma["status"] == "absorbed" and np.isnan(fma["estimate"])
    assert pd.isna(fma["sign_agree"]) and pd.isna(fma["significance_agree"])
    missing = table[table["model_id"] == "14"]
    assert (missing["status"] == "not estimated").all()
    fit = table[table["model_id"] == "2"].iloc[0]
    assert fit["published_r2"] == pytest.approx(0.515) and fit["published_nobs"] == 630
    assert fit["nobs"] == 630 and fit["r2_within"] == pytest.approx(results["2"].r2_within)
    assert fit["r2_within_effects"] == "province and year"


def test_bad_reference_folder_is_reported(tmp_path):
    with pytest.raises(AnalysisInputError, match="published_coefficients.csv"):
        load_published(tmp_path)
    (tmp_path / "published_coefficients.csv").write_text("model,term\n1,IC\n")
    (tmp_path / "published_fit.csv").write_text("model\n1\n")
    with pytest.raises(AnalysisInputError, match="header lacks"):
        load_published(tmp_path)


def test_printed_comparison_fits_a_terminal_and_keeps_every_row(results, published):
    """The full frame is over 500 characters wide; printed, it is split into one coefficient
    table per paper table and a fit table, every line within READING_WIDTH, no row lost."""
    table = compare(results, published)
    assert len(table.to_markdown(index=False)) / (len(table) + 2) > 300  # what the report printed
    text = comparison_markdown(table)
    widest = max(text.splitlines(), key=len)
    assert len(widest) <= READING_WIDTH, widest
    sections: dict[str, list[str]] = {}
    for line in text.splitlines():  # a title line "**...**", then its table: header, |:--- rule, rows
        if line.startswith("**") and line.endswith("**"):
            title = line.strip("*")
            sections[title] = []
        elif line.startswith("| "):
            sections[title].append(line)
    sections = {title: lines[1:] for title, lines in sections.items()}  # without the header
    coefficient_rows = [row for title, rows in sections.items() if title.endswith("coefficients") for row in rows]
    fit_rows = [row for title, rows in sections.items() if title.startswith("Fit") for row in rows]
    assert len(coefficient_rows) == len(table)
    assert len(fit_rows) == table["model_id"].nunique()
    assert {f"Paper's Table {t}: coefficients" for t in table["paper_table"].unique()} <= set(sections)
    # Model 2's IC row: the paper's 1.447*** beside our estimate, to three decimals
    ours = table[(table["model_id"] == "2") & (table["term"] == "ic")].iloc[0]
    row = next(line for line in coefficient_rows if line.startswith("| 2 all ") and "| IC " in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2] == "1.447*** (0.080)"
    assert cells[3] == f"{ours['estimate']:.3f}{ours['stars']} ({ours['std_error']:.3f})"
    assert "nan" not in text and "e-0" not in text


def test_the_written_comparison_and_the_report_fit_a_terminal(sample_build):
    """What `provpanel report` prints of the comparison (outputs/comparison_with_published.md)."""
    home, _ = sample_build
    completed = run_provpanel(["report"], home=home)
    assert completed.returncode == 0, completed.stderr
    printed = completed.stdout.split("## comparison_with_published", 1)[1].split("\n## ", 1)[0]
    assert "Paper's Table 1: coefficients" in printed
    # the settings record heads every table file on one line (provpanel.report); the tables fit
    widest = max((line for line in printed.splitlines() if not line.startswith("settings: ")), key=len)
    assert len(widest) <= READING_WIDTH, widest
