"""The mediation as the paper reads it: a×b with its tests, bootstrap interval and verdict
beside the paper's Table 4 and Section 5.2, in every output format, in `provpanel report`
and in the analysis asset's headline."""

from __future__ import annotations

import csv
import io

import duckdb
import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_provpanel_in_process

from analysis.compare import REFERENCE_DIR
from analysis.mediation_table import (
    MEDIATION_TABLE_STEM,
    MISSING,
    mediation_table,
    reading_number,
    reading_p,
    text_cells,
    to_markdown,
)
from analysis.run import run_all
from analysis.simulate import simulate_panel
from provpanel.report import MEDIATION_STEM


@pytest.fixture(scope="module")
def outputs():
    return run_all(simulate_panel(seed=4), bootstrap_reps=19, seed=9)


@pytest.fixture(scope="module")
def table(outputs):
    return outputs.mediation_table().set_index("mediator", drop=False)


def _published_coefficient(model: int, term: str) -> float:
    """Read straight from the paper's transcription, not through analysis.compare."""
    rows = pd.read_csv(REFERENCE_DIR / "published_coefficients.csv")
    return float(rows.query("model == @model and term == @term")["coef"].iloc[0])


def test_one_row_per_mediator_with_the_mediation_numbers(outputs, table):
    assert list(table["mediator"]) == list(outputs.mediation["mediator"])
    mediation = outputs.mediation.set_index("mediator")
    for column in ("a", "b", "c", "c_prime", "indirect_ab", "sobel_p", "aroian_p", "goodman_p",
                   "boot_ci_low_percentile", "boot_ci_high_percentile", "verdict"):
        pd.testing.assert_series_equal(table[column].rename_axis("mediator"), mediation[column],
                                       check_names=False, check_dtype=False)
    identified = table[table["a"].notna()]
    assert set(identified["mediator"]) == {"te", "ks", "fma_tv"}
    np.testing.assert_allclose(identified["indirect_ab"], identified["a"] * identified["b"], rtol=1e-12)
    np.testing.assert_allclose(identified["share_mediated"], identified["indirect_ab"] / identified["c"])
    assert table.loc["te", "verdict"].startswith("partial mediation")
    assert table["scope"].eq("all provinces").all()


def test_the_papers_figures_come_from_table_4(table):
    for mediator, a_model, b_model in (("fma", 6, 7), ("te", 8, 9), ("ks", 10, 11)):
        row = table.loc[mediator]
        a, b = _published_coefficient(a_model, "IC"), _published_coefficient(b_model, "M")
        assert (row["paper_a"], row["paper_b"]) == (a, b)
        assert row["paper_c_prime"] == _published_coefficient(b_model, "IC")
        assert row["paper_a_times_b"] == pytest.approx(a * b)
        assert row["paper_models"] == f"{a_model}, {b_model}"
    fit = pd.read_csv(REFERENCE_DIR / "published_fit.csv").set_index("model")
    assert table.loc["ks", "paper_sobel_p"] == fit.loc[11, "sobel_p"] == 0.029
    assert "5 %" in table.loc["ks", "paper_verdict"] and "Section 5.2" in table.loc["ks", "paper_verdict"]
    assert "1 %" in table.loc["te", "paper_verdict"]
    # FMA_tv is not the paper's: no figure is made up for it
    fma_tv = table.loc["fma_tv"]
    assert fma_tv[["paper_a", "paper_b", "paper_a_times_b", "paper_sobel_p"]].isna().all()
    assert fma_tv["paper_verdict"].startswith("not in the paper")


def test_text_cells_are_rounded_for_reading_and_say_what_is_missing(table):
    cells = text_cells(table).set_index("Mediator")
    te = table.loc["te"]
    assert cells.loc["TE", "a×b"] == f"{te['indirect_ab']:.3f}"
    assert cells.loc["TE", "Bootstrap interval"] == \
        f"[{te['boot_ci_low_percentile']:.3f}, {te['boot_ci_high_percentile']:.3f}]"
    assert cells.loc["TE", "a"].startswith(f"{te['a']:.3f}") and cells.loc["TE", "a"].endswith("***")
    assert cells.loc["FMA", "a×b"] == MISSING and cells.loc["FMA", "Verdict"].startswith("not identified")
    assert cells.loc["FMA", "Paper: a×b"] == f"{table.loc['fma', 'paper_a_times_b']:.3f}"
    assert cells.loc["FMA_tv", "Paper: a×b"] == MISSING
    text = " ".join(cells.to_numpy().ravel())
    assert "e-" not in text and "nan" not in text


def test_reading_numbers_never_print_zero_or_exponents_for_small_values():
    assert reading_number(0.12049) == "0.120"
    assert reading_number(-0.000206) == "-0.00021"
    assert reading_number(3.2e-7) == "0.00000032"
    assert reading_number(float("nan")) == MISSING
    assert (reading_p(2.5e-7), reading_p(0.0291), reading_p(None)) == ("<0.001", "0.029", MISSING)


def test_written_in_every_format_csv_at_full_precision(outputs, table, tmp_path):
    written = {path.name for path in outputs.write_outputs(tmp_path)}
    assert {f"{MEDIATION_TABLE_STEM}.{suffix}" for suffix in ("md", "tex", "html", "csv")} <= written
    assert MEDIATION_STEM == MEDIATION_TABLE_STEM  # the stem `provpanel report` orders by
    stored = pd.read_csv(tmp_path / "mediation.csv").set_index("mediator")
    assert stored.loc["te", "indirect_ab"] == table.loc["te", "indirect_ab"]  # not rounded
    assert stored.loc["ks", "sobel_p"] == table.loc["ks", "sobel_p"]
    markdown = (tmp_path / "mediation.md").read_text(encoding="utf-8")
    assert "Mediation: does IC work through FMA, TE, KS?" in markdown
    assert f"| {table.loc['te', 'indirect_ab']:.3f} " in markdown and "Section 5.2" in markdown
    latex = (tmp_path / "mediation.tex").read_text(encoding="utf-8")
    assert latex.count(r"\begin{tabular}") == 1 and r"a$\times$b" in latex and "→" not in latex
    assert r"$<$0.001" in latex and "<" not in latex.replace("$<$", "")  # a bare < prints ¡
    assert '<table class="mediation-table">' in (tmp_path / "mediation.html").read_text(encoding="utf-8")


def test_mediation_is_in_the_analysis_headline(outputs, table):
    from orchestration.analysis_metadata import analysis_metadata

    metadata = analysis_metadata("mediation", outputs, settings_line="settings: x")
    assert next(iter(metadata)) == "headline"
    text = metadata["headline"].value
    assert len(text) < 1000  # shown without a click
    te_line = next(line for line in text.splitlines() if line.startswith("| TE |"))
    assert f"| {table.loc['te', 'indirect_ab']:.3f} |" in te_line and "partial mediation" in te_line
    assert f"{table.loc['te', 'paper_a_times_b']:.3f}, 0.000 (0.227)" in te_line


def test_the_markdown_reads_in_a_terminal_and_keeps_every_cell(table):
    """Split into tables narrow enough to read unwrapped, each row still one mediator, and
    every text cell of the row in one of them."""
    markdown = to_markdown(table)
    table_lines = [line for line in markdown.splitlines() if line.startswith("|")]
    assert max(map(len, table_lines)) <= 132, max(table_lines, key=len)  # a wide terminal
    cells = text_cells(table)
    for _, row in cells.iterrows():
        rows_of_mediator = [line for line in table_lines if line.startswith(f"| {row['Mediator']} ")]
        assert len(rows_of_mediator) == 3  # one per part
        shown = {cell.strip() for line in rows_of_mediator for cell in line.strip("|").split("|")}
        assert set(row.astype(str)) <= shown


def test_a_mediator_not_estimable_on_a_partial_panel_says_why_once():
    reason = "not estimable: FDI: fdi_actual has no observations for 2001-2009"
    mediation = pd.DataFrame([{"mediator": m, "verdict": reason} for m in ("fma", "te", "ks")])
    table = mediation_table(mediation)
    assert (table["verdict"] == reason).all() and table["indirect_ab"].isna().all()  # the CSV keeps it
    cells = text_cells(table)
    assert (cells["a×b"] == MISSING).all()
    assert (cells["Verdict"] == "not estimable (reason 1)").all()
    markdown = to_markdown(table)
    assert markdown.count("fdi_actual has no observations") == 1 and "Reason 1: FDI: fdi_actual has no observations for 2001-2009." in markdown


# On the sample build: the files in the output folder and `provpanel report` in each format.

def test_output_folder_has_the_mediation_table(sample_build):
    home, _ = sample_build
    folder = home / "outputs"
    for suffix in ("md", "tex", "html"):
        text = (folder / f"mediation.{suffix}").read_text(encoding="utf-8")
        assert "settings: vintage_policy=" in text.splitlines()[0], suffix
    with duckdb.connect(str(home / "published" / "provpanel.duckdb"), read_only=True) as con:
        stored = dict(con.execute("SELECT mediator, indirect_ab FROM analysis.mediation").fetchall())
    written = pd.read_csv(folder / "mediation.csv").set_index("mediator")["indirect_ab"]
    assert written.dropna().to_dict() == {m: v for m, v in stored.items() if v is not None and not np.isnan(v)}


def test_report_prints_the_mediation_after_table_4(sample_build):
    home, _ = sample_build
    completed = run_provpanel_in_process(["report"], home=home)
    assert completed.returncode == 0, completed.stderr
    text = completed.stdout
    assert text.index("## table_4") < text.index("## mediation") < text.index("## protectionism")
    assert "Mediation: does IC work through FMA, TE, KS?" in text and "Paper's verdict" in text


@pytest.mark.parametrize("fmt, marker", [("latex", r"\caption{Mediation: does IC work through FMA, TE, KS?}"),
                                         ("html", '<table class="mediation-table">')])
def test_report_prints_the_mediation_in_each_format(sample_build, fmt, marker):
    home, _ = sample_build
    completed = run_provpanel_in_process(["report", "--format", fmt], home=home)
    assert completed.returncode == 0, completed.stderr
    assert marker in completed.stdout


def test_report_csv_carries_the_mediation_at_full_precision(sample_build):
    home, _ = sample_build
    completed = run_provpanel_in_process(["report", "--format", "csv"], home=home)
    assert completed.returncode == 0, completed.stderr
    cells = {(r[0], r[1], r[2]): r[3] for r in csv.reader(io.StringIO(completed.stdout))}
    written = pd.read_csv(home / "outputs" / "mediation.csv", dtype=str, keep_default_na=False)
    te_number = str(int(written.index[written["mediator"] == "te"][0]) + 1)
    assert cells[("mediation", te_number, "indirect_ab")] == \
        written.loc[written["mediator"] == "te", "indirect_ab"].iloc[0]
    assert len(cells[("mediation", te_number, "indirect_ab")]) > 8  # not rounded
