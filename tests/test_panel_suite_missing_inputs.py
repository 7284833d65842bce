"""The panel suite tells missing input (a null the row's missing_input_variables explains:
reported, not blocking) from corrupt input (a null with every input present: blocking)."""

from __future__ import annotations

import numpy as np

from analysis.simulate import simulate_panel
from expectations.panel_suite import validate_panel

NULL_CHECK = "fdi_null_without_missing_input"


def _null_failures(outcome, column=NULL_CHECK):
    return [failure for failure in outcome.failures if failure.column == column]


def test_a_null_explained_by_a_missing_input_does_not_fail():
    panel = simulate_panel(seed=4)
    early = panel["year"] <= 2009
    panel.loc[early, "fdi"] = np.nan
    panel["missing_input_variables"] = np.where(early, "fdi,fma_tv", None)
    outcome = validate_panel(panel)
    assert _null_failures(outcome) == []


def test_a_null_with_every_input_present_fails_and_names_the_rows():
    panel = simulate_panel(seed=4)
    corrupt = (panel["province_code"] == "440000") & (panel["year"] == 2015)
    panel.loc[corrupt, "fdi"] = np.nan
    panel["missing_input_variables"] = np.where(panel["year"] <= 2009, "fdi", None)  # not 2015
    outcome = validate_panel(panel)
    assert not outcome.success
    [failure] = _null_failures(outcome)
    assert {(row["province_code"], row["year"]) for row in failure.failing_rows} == {("440000", 2015)}


def test_without_the_column_every_null_is_corrupt():
    panel = simulate_panel(seed=4)
    panel.loc[panel.index[0], "ks"] = np.nan
    [failure] = _null_failures(validate_panel(panel), "ks_null_without_missing_input")
    assert failure.unexpected_count == 1
