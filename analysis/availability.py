"""Which models the panel can estimate, and why not the others.

A partial edition set leaves model variables null where an input is missing (the warehouse's
marts.variable_availability says why, e.g. "fdi_actual has no observations for 2001-2009").
The paper's models are balanced-panel regressions: a model whose variables are not complete
on its sample is not estimable, and says why, instead of being fitted on a silently smaller
sample. No Dagster or dbt here: the reasons come in as a plain mapping.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.specs import ModelSpec, display_name, source_columns

NOT_ESTIMABLE = "not estimable"


def spec_columns(spec: ModelSpec) -> list[str]:
    """The panel columns a model's dependent variable and regressors are built from, in order."""
    columns: list[str] = []
    for name in (spec.dependent, *spec.regressors):
        for column in source_columns(name):
            if column not in columns:
                columns.append(column)
    return columns


def sample_rows(panel: pd.DataFrame, sample: str) -> pd.DataFrame:
    if sample == "all" or "region" not in panel.columns:
        return panel
    return panel[panel["region"].astype(str).str.lower() == sample]


def not_estimable_reason(
    panel: pd.DataFrame, spec: ModelSpec, reasons: Mapping[str, str] | None = None
) -> str | None:
    """None when every variable of `spec` has a value on every row of its sample; else
    'not estimable: FDI: fdi_actual has no observations for 2001-2009; ...' with the reason of
    each incomplete variable from `reasons` (variable -> text), or the count of its nulls."""
    reasons = reasons or {}
    rows = sample_rows(panel, spec.sample)
    parts = []
    for column in spec_columns(spec):
        if column not in panel.columns:
            parts.append(f"{display_name(column)}: not in the panel")
            continue
        n_null = int(rows[column].isna().sum())
        if n_null:
            why = reasons.get(column) or f"missing for {n_null} of {len(rows)} province-years"
            parts.append(f"{display_name(column)}: {why}")
    if not parts and rows.empty:
        parts.append(f"no province-years in sample {spec.sample!r}")
    return f"{NOT_ESTIMABLE}: " + "; ".join(parts) if parts else None


def not_estimable_estimates(spec: ModelSpec, reason: str) -> pd.DataFrame:
    """analysis.estimates rows of a model that was not estimated: one per term, no numbers."""
    return pd.DataFrame([
        {
            "model_id": spec.model_id, "paper_table": spec.table, "label": spec.label,
            "sample": spec.sample, "dependent": spec.dependent, "term": term,
            "status": NOT_ESTIMABLE, "estimate": np.nan, "std_error": np.nan, "t_stat": np.nan,
            "p_value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "stars": "",
            "wild_bootstrap_p": np.nan, "absorbed_reason": "", "se_type": spec.se_type,
            "identification": spec.identification, "not_estimable_reason": reason,
        }
        for term in spec.regressors
    ])


def not_estimable_fit(spec: ModelSpec, reason: str) -> dict:
    """The analysis.fit row of a model that was not estimated."""
    return {
        "model_id": spec.model_id, "paper_table": spec.table, "label": spec.label,
        "sample": spec.sample, "dependent": spec.dependent, "nobs": np.nan, "n_clusters": np.nan,
        "n_params_ssc": np.nan, "inference_df": np.nan, "r2_within": np.nan, "r2_within_effects": "",
        "r2_inclusive": np.nan, "r2_overall": np.nan, "entity_effects": spec.entity_effects,
        "time_effects": spec.time_effects, "se_type": spec.se_type, "absorbed": "",
        "identification": spec.identification, "notes": reason, "estimable": False, "not_estimable_reason": reason,
    }


def model_estimability(
    panel: pd.DataFrame, specs: list[ModelSpec], reasons: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per model: model_id, label, estimable, reason (None when estimable)."""
    rows = []
    for spec in specs:
        reason = not_estimable_reason(panel, spec, reasons)
        rows.append({"model_id": spec.model_id, "label": spec.label, "estimable": reason is None,
                     "reason": reason})
    return pd.DataFrame(rows, columns=["model_id", "label", "estimable", "reason"])
