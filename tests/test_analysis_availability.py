"""A panel with a variable missing for some years: the models that need it are reported not
estimable with the reason, the others are fitted; nothing fitted at all still gives outputs."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.availability import model_estimability, not_estimable_reason
from analysis.run import ESTIMATE_COLUMNS, FIT_COLUMNS, run_all
from analysis.simulate import simulate_panel
from analysis.specs import get_spec, paper_models

FDI_REASON = "fdi_actual has no observations for 2001-2009"


@pytest.fixture(scope="module")
def panel_without_early_fdi():
    panel = simulate_panel(seed=4)
    panel.loc[panel["year"] <= 2009, "fdi"] = np.nan
    return panel


@pytest.fixture(scope="module")
def outputs(panel_without_early_fdi):
    return run_all(panel_without_early_fdi, missing_reasons={"fdi": FDI_REASON}, bootstrap_reps=9, seed=9)


def test_models_needing_fdi_say_why_and_the_others_are_fitted(outputs):
    assert set(outputs.results) == {"1"}  # Model 1 (TU on IC) needs no control
    assert outputs.not_estimable["2"] == f"not estimable: FDI: {FDI_REASON}"
    assert set(outputs.not_estimable) == {
        *map(str, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17]), "protectionism", "6tv", "7tv"}
    fit = outputs.fit.set_index("model_id")
    assert list(outputs.fit.columns) == FIT_COLUMNS
    assert bool(fit.loc["1", "estimable"]) and fit.loc["1", "nobs"] == 630
    assert not bool(fit.loc["2", "estimable"]) and fit.loc["2", "not_estimable_reason"].endswith(FDI_REASON)
    assert pd.isna(fit.loc["2", "nobs"])
    estimates = outputs.estimates
    assert list(estimates.columns) == ESTIMATE_COLUMNS
    model_2 = estimates[estimates["model_id"] == "2"]
    assert set(model_2["status"]) == {"not estimable"} and model_2["estimate"].isna().all()
    assert set(estimates.loc[estimates["model_id"] == "1", "status"]) == {"estimated"}
    # every mediation path uses the controls, FDI among them
    assert outputs.mediation["verdict"].str.startswith("not estimable: FDI").all()


def test_the_printed_tables_name_the_missing_models(outputs, tmp_path):
    table_1 = outputs.tables["table_1"].to_markdown()
    assert f"Model 2 not estimable: FDI: {FDI_REASON}." in table_1
    written = {path.name for path in outputs.write_outputs(tmp_path)}
    assert "not_estimable.md" in written
    # the reason once, with every model it stops (not the same reason under 17 models)
    listed = (tmp_path / "not_estimable.md").read_text()
    assert listed.count(FDI_REASON) == 1 and "Models not estimable on this panel: 17 of 18" in listed
    assert f"- FDI: {FDI_REASON} — Models 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, protectionism, 6tv, 7tv\n" \
        in listed


def test_frames_load_into_duckdb(outputs, tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        for name in ("estimates", "fit", "mediation", "comparison"):
            con.register("frame", getattr(outputs, name))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
        assert con.execute("SELECT count(*) FROM fit WHERE NOT estimable AND nobs IS NULL").fetchone()[0] == 17
        assert con.execute("SELECT typeof(nobs) FROM fit LIMIT 1").fetchone()[0] == "BIGINT"


def test_nothing_estimable_still_gives_outputs(tmp_path):
    panel = simulate_panel(seed=4)
    panel[["ic", "ic2"]] = np.nan  # every model has IC or IC2
    reasons = {"ic": "va_tertiary has no observations for 2001-2021",
               "ic2": "va_secondary has no observations for 2001-2021"}
    outputs = run_all(panel, missing_reasons=reasons, bootstrap_reps=9, mediators=("ks",))
    assert outputs.results == {} and outputs.tables == {}
    assert outputs.not_estimable["1"] == "not estimable: IC: va_tertiary has no observations for 2001-2021"
    assert outputs.not_estimable["14"] == "not estimable: IC2: va_secondary has no observations for 2001-2021"
    assert len(outputs.fit) == 18 and not outputs.fit["estimable"].any()
    assert set(outputs.comparison["status"]) == {"not estimated"}
    assert list(outputs.mediation["verdict"]) == [outputs.not_estimable["10"]]
    outputs.write_outputs(tmp_path)
    assert "- IC2: va_secondary has no observations for 2001-2021 — Models 14, 15, 16, 17\n" in \
        (tmp_path / "not_estimable.md").read_text()


def test_reason_without_a_recorded_cause_counts_the_nulls():
    panel = simulate_panel(seed=4)
    panel.loc[panel.index[:3], "ks"] = np.nan
    reason = not_estimable_reason(panel, get_spec("10"))
    assert reason == f"not estimable: KS: missing for 3 of {len(panel)} province-years"
    table = model_estimability(panel, paper_models())
    assert set(table.loc[~table["estimable"], "model_id"]) == {"10", "11"}
