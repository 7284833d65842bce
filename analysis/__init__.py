"""The paper's econometrics on the province-year panel: plain Python, no Dagster or dbt.

Entry point: `run_all(panel)`. Building blocks: `specs` (models as data), `estimate`
(`fit_model`), `mediation`, `tables`, `compare`, `plots`. linearmodels is imported only when a
model is fitted, so importing this package stays cheap.
"""

from analysis.compare import compare, load_published
from analysis.errors import AnalysisInputError
from analysis.estimate import ModelResult, fit_model
from analysis.mediation import analyse_mediator, run_mediation
from analysis.run import AnalysisResults, run_all
from analysis.specs import PAPER_MODELS, VARIANT_MODELS, ModelSpec, protectionism_model
from analysis.tables import RegressionTable, paper_tables

__all__ = [
    "PAPER_MODELS",
    "VARIANT_MODELS",
    "AnalysisInputError",
    "AnalysisResults",
    "ModelResult",
    "ModelSpec",
    "RegressionTable",
    "analyse_mediator",
    "compare",
    "fit_model",
    "load_published",
    "paper_tables",
    "protectionism_model",
    "run_all",
    "run_mediation",
]
