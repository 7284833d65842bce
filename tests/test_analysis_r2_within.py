"""The within R² of two-way models is the R² after all the model's effects (issue 14): equal
to pyfixest's `_r2_within` to 1e-8 for Models 1, 2 and the protectionism model on the sample
panel, never negative, and a nesting model never has a lower one."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analysis.estimate import fit_model
from analysis.specs import design_column, get_spec

TWO_WAY_MODELS = ["1", "2", "protectionism"]


@pytest.fixture(scope="module")
def sample_panel(sample_build) -> pd.DataFrame:
    home, _ = sample_build
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT * FROM marts.province_year_panel ORDER BY province_code, year").df()


def _pyfixest_fit(panel: pd.DataFrame, model_id: str):
    import pyfixest as pf

    spec = get_spec(model_id)
    data = pd.DataFrame({name: design_column(panel, name).to_numpy(dtype=float)
                         for name in (spec.dependent, *spec.regressors)})
    data["province_code"] = panel["province_code"].to_numpy()
    data["year"] = panel["year"].to_numpy()
    formula = f"{spec.dependent} ~ {' + '.join(spec.regressors)} | province_code + year"
    return pf.feols(formula, data, vcov={"CRV1": "province_code"})


@pytest.mark.parametrize("model_id", TWO_WAY_MODELS)
def test_within_r2_equals_pyfixest(sample_panel, model_id):
    ours = fit_model(sample_panel, get_spec(model_id))
    theirs = _pyfixest_fit(sample_panel, model_id)
    assert ours.r2_within_effects == "province and year"
    assert ours.r2_within == pytest.approx(theirs._r2_within, abs=1e-8)
    # same regression, so the slopes agree too (the R² is of this fit, not another)
    for term in get_spec(model_id).regressors:
        assert ours.params[term] == pytest.approx(theirs.coef()[term], rel=1e-8, abs=1e-10)


def test_within_r2_is_not_negative_and_grows_with_nesting(sample_panel):
    fits = {model_id: fit_model(sample_panel, get_spec(model_id)) for model_id in TWO_WAY_MODELS}
    assert all(0 <= fit.r2_within <= 1 for fit in fits.values())
    # Model 2 nests Model 1, the protectionism model nests Model 2: an R² of the same
    # demeaned dependent cannot fall when regressors are added
    assert fits["1"].r2_within <= fits["2"].r2_within <= fits["protectionism"].r2_within


def test_one_way_within_r2_names_its_effects(sample_panel):
    result = fit_model(sample_panel, get_spec("7"))
    assert result.r2_within_effects == "province"
    assert 0 <= result.r2_within <= 1
