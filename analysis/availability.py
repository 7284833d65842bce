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


def missing_variable_parts(
    panel: pd.DataFrame, spec: ModelSpec, reasons: Mapping[str, str] | None = None
) -> list[str]:
    """Why `spec` cannot be estimated, one part per incomplete variable ('FDI: fdi_actual has no
    observations for 2001-2009', with the reason from `reasons`, variable -> text, or the count
    of its nulls); empty when every variable has a value on every row of its sample."""
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
    return parts


def reason_from_parts(parts: list[str]) -> str | None:
    return f"{NOT_ESTIMABLE}: " + "; ".join(parts) if parts else None


def not_estimable_reason(
    panel: pd.DataFrame, spec: ModelSpec, reasons: Mapping[str, str] | None = None
) -> str | None:
    """None when every variable of `spec` has a value on every row of its sample; else
    'not estimable: FDI: fdi_actual has no observations for 2001-2009; ...' (missing_variable_parts)."""
    return reason_from_parts(missing_variable_parts(panel, spec, reasons))


def grouped_reasons(parts_by_model: Mapping[str, list[str]]) -> list[tuple[str, list[str]]]:
    """Each distinct reason once, with the models it stops (in the order given): the reason
    that stops most models first, ties in the order the reasons first appear."""
    models: dict[str, list[str]] = {}
    for model_id, parts in parts_by_model.items():
        for part in parts:
            models.setdefault(part, [])
            if model_id not in models[part]:
                models[part].append(model_id)
    first_seen = {part: position for position, part in enumerate(models)}
    return sorted(models.items(), key=lambda item: (-len(item[1]), first_seen[item[0]]))


def model_list(model_ids: list[str]) -> str:
    """'Model 1' or 'Models 1, 2, 7tv'."""
    return ("Model " if len(model_ids) == 1 else "Models ") + ", ".join(model_ids)


def grouped_reasons_markdown(parts_by_model: Mapping[str, list[str]], n_models: int) -> str:
    """The models not estimable as a Markdown list: one line per reason, with the models it stops
    (a model missing several variables is under each), instead of the whole reason per model."""
    if not parts_by_model:
        return ""
    lines = [f"- {part} — {model_list(models)}" for part, models in grouped_reasons(parts_by_model)]
    return (f"**Models not estimable on this panel: {len(parts_by_model)} of {n_models}**; each reason "
            "once, with the models it stops:\n\n" + "\n".join(lines) + "\n")


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
    """One row per model: model_id, label, estimable, reason (None when estimable) and its parts,
    one per incomplete variable (missing_variable_parts)."""
    rows = []
    for spec in specs:
        parts = missing_variable_parts(panel, spec, reasons)
        rows.append({"model_id": spec.model_id, "label": spec.label, "estimable": not parts,
                     "reason": reason_from_parts(parts), "reason_parts": parts})
    return pd.DataFrame(rows, columns=["model_id", "label", "estimable", "reason", "reason_parts"])
