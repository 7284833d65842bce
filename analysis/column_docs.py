"""What every column of the analysis tables means: the one place their comments come from.

`COLUMN_COMMENTS[table][column]` becomes `COMMENT ON COLUMN analysis.<table>.<column>` when the
orchestration writes the table (orchestration/defs/analysis.py), so the comments travel into
the published snapshot. tests/test_analysis_column_docs.py keeps the keys equal to the column
lists (ESTIMATE_COLUMNS, FIT_COLUMNS, MEDIATION_COLUMNS, COMPARISON_COLUMNS,
ESTIMATE_HISTORY_COLUMNS). Definitions of the variables and models: docs/methods.md.
"""

from __future__ import annotations

_METHODS = "docs/methods.md"

_MODEL = {
    "model_id": f"The model: the paper's number 1-11, 14-17, protectionism, or the variants 6tv, 7tv ({_METHODS}, Models).",
    "paper_table": "The paper's table printing the model (1-4); null for a model the paper prints no table for.",
    "label": "What the model is, in words.",
    "sample": "Provinces in the sample: all, east, central or west (region, docs/methods.md).",
    "dependent": "Dependent variable, lower case (tu, fma, te, ks, fma_tv).",
}
_SE_TYPE = (f"Standard errors: cluster (by province, reghdfe's small-sample factor, t(G-1)), robust, "
            f"driscoll_kraay or wild_cluster_bootstrap (setting se_type; {_METHODS}, Inference).")
_IDENTIFICATION = ("What limits the model's identification (e.g. FMA_tv's weak identification); "
                   "empty when nothing is to be said.")
_NOT_ESTIMABLE = ("Why the model was not fitted: a variable lacks an input in the edition set "
                  "(marts.variable_availability); null when it was fitted.")
_R2 = {
    "r2_within": (f"R² after every fixed effect of the model is removed (reghdfe's within R-sq.); "
                  f"{_METHODS}, R²."),
    "r2_within_effects": "Which effects r2_within removes: province and year, or province.",
    "r2_inclusive": "R² counting the fixed effects as explained (LSDV R²).",
    "r2_overall": "R² of the slopes applied to the untransformed data.",
}

ESTIMATE_HISTORY_COLUMNS = ["run_id", "built_at", "editions", "model_id", "term", "estimate",
                            "std_error", "p_value"]

COLUMN_COMMENTS: dict[str, dict[str, str]] = {
    "estimates": {
        **_MODEL,
        "term": (f"Regressor, lower case (ic, cx, ..., const; <var>_x_p<year>: var × P_t, "
                 f"P_t = 1 from the break year on; {_METHODS}, Variables)."),
        "status": "estimated; absorbed (the fixed effects absorb the term: no estimate); not estimable.",
        "estimate": "Coefficient (within OLS); NaN when absorbed or not estimable.",
        "std_error": "Standard error of the kind se_type names.",
        "t_stat": "estimate / std_error.",
        "p_value": ("Two-sided p-value: t(G-1) for cluster SEs, t(inference_df of analysis.fit) otherwise; "
                    "the wild bootstrap p-value when se_type is wild_cluster_bootstrap."),
        "ci_low": "Lower bound of the 95 % confidence interval.",
        "ci_high": "Upper bound of the 95 % confidence interval.",
        "stars": "*** p < 0.01, ** p < 0.05, * p < 0.10 (from p_value), as the paper prints them.",
        "wild_bootstrap_p": ("p-value of a restricted wild cluster bootstrap (null imposed, province clusters; "
                             "settings wild_bootstrap_terms, _weights, _reps, seed); NaN for other terms."),
        "absorbed_reason": "Why the effects absorb the term (e.g. time-invariant within a province).",
        "se_type": _SE_TYPE,
        "identification": _IDENTIFICATION,
        "not_estimable_reason": _NOT_ESTIMABLE,
    },
    "fit": {
        **_MODEL,
        "nobs": "Observations (province-years) in the estimation sample.",
        "n_clusters": "Provinces in the sample (G).",
        "n_params_ssc": f"K of the small-sample factor (N-1)/(N-K) ({_METHODS}, Inference).",
        "inference_df": ("Degrees of freedom of the t tests and intervals: G-1 with cluster SEs, "
                         "PanelOLS's residual degrees of freedom with robust and driscoll_kraay."),
        **_R2,
        "entity_effects": "True when the model has province fixed effects.",
        "time_effects": "True when the model has year fixed effects.",
        "se_type": _SE_TYPE,
        "absorbed": "Comma list of regressors the fixed effects absorb (not estimated).",
        "identification": _IDENTIFICATION,
        "notes": "Further remarks on the fit, separated by |.",
        "estimable": "False when a variable lacks an input (not_estimable_reason says which).",
        "not_estimable_reason": _NOT_ESTIMABLE,
    },
    "mediation": {
        "mediator": f"The mediator M of IC → TU: fma, te, ks or fma_tv ({_METHODS}, Mediation).",
        "nobs": "Observations of the shared sample of the three equations.",
        "n_clusters": "Provinces in that sample.",
        "se_type": _SE_TYPE,
        "a": "Path a: coefficient of IC in M on IC + controls (province effects).",
        "a_se": "Standard error of a.",
        "a_p": "p-value of a.",
        "b": "Path b: coefficient of M in TU on IC + M + controls.",
        "b_se": "Standard error of b.",
        "b_p": "p-value of b.",
        "c": "Path c: total effect, coefficient of IC in TU on IC + controls.",
        "c_se": "Standard error of c.",
        "c_p": "p-value of c.",
        "c_prime": "Path c': direct effect, coefficient of IC in TU on IC + M + controls.",
        "c_prime_se": "Standard error of c'.",
        "c_prime_p": "p-value of c'.",
        "indirect_ab": "Indirect effect a × b.",
        "total_minus_direct": "c - c'.",
        "identity_gap": "(c - c') - a × b: zero up to rounding, as the three equations share sample and effects.",
        "sobel_z": "Sobel z of a × b: a b / sqrt(b² sa² + a² sb²).",
        "sobel_p": "Two-sided normal p-value of sobel_z.",
        "aroian_z": "Aroian z: the Sobel variance plus sa² sb².",
        "aroian_p": "Two-sided normal p-value of aroian_z.",
        "goodman_z": "Goodman z: the Sobel variance minus sa² sb² (NaN when negative).",
        "goodman_p": "Two-sided normal p-value of goodman_z.",
        "boot_reps": "Draws of the province-block bootstrap of a × b (setting bootstrap_reps).",
        "boot_seed": "Seed of that bootstrap (setting seed).",
        "boot_confidence": "Confidence level of the bootstrap intervals.",
        "boot_ci_low_percentile": "Lower bound of the percentile bootstrap interval of a × b.",
        "boot_ci_high_percentile": "Upper bound of the percentile bootstrap interval of a × b.",
        "boot_ci_low_bc": "Lower bound of the bias-corrected bootstrap interval of a × b.",
        "boot_ci_high_bc": "Upper bound of the bias-corrected bootstrap interval of a × b.",
        "verdict": ("Wen et al. (2004) stepwise verdict at level alpha: full, partial, by Sobel test, "
                    "none, or not identified (mediator absorbed by the province effects)."),
        "note": "Remark on the mediator (e.g. static FMA absorbed, FMA_tv weakly identified).",
    },
    "comparison": {
        "model_id": _MODEL["model_id"],
        "paper_table": _MODEL["paper_table"],
        "sample": _MODEL["sample"],
        "dependent": _MODEL["dependent"],
        "term": "Regressor, lower case; the paper's M is the model's mediator.",
        "term_display": "The term as the paper prints it (IC, CX, ..., IC × P(2018)).",
        "status": "estimated, absorbed (our effects absorb the term) or not estimated.",
        "published_coef": "The paper's coefficient (analysis/reference/published_coefficients.csv).",
        "published_se": "The paper's standard error.",
        "published_stars": "The paper's significance stars.",
        "published_significant": "True when the paper prints at least one star.",
        "estimate": "Our coefficient.",
        "std_error": "Our standard error (se_type).",
        "p_value": "Our p-value.",
        "stars": "Our stars: *** p < 0.01, ** p < 0.05, * p < 0.10.",
        "significant": "True when our p_value < 0.10; null when not estimated.",
        "sign_agree": "Our sign equals the paper's; null when not estimated.",
        "significance_agree": "Significance at 10 % agrees with the paper's; null when not estimated.",
        "difference": "estimate - published_coef.",
        "published_r2": ("The paper's R² (which R² it is the paper does not say; "
                         "analysis/reference/published_fit.csv)."),
        **_R2,
        "published_nobs": "The paper's N.",
        "nobs": "Our N.",
        "se_type": _SE_TYPE,
    },
    "estimate_history": {
        "run_id": "The Dagster run that estimated the models.",
        "built_at": "When (local time).",
        "editions": "Comma list of the editions in the warehouse then.",
        "model_id": _MODEL["model_id"],
        "term": "Regressor, lower case.",
        "estimate": "Coefficient.",
        "std_error": "Standard error (se_type of that run).",
        "p_value": "p-value.",
    },
}


def comment_statements(table: str) -> list[str]:
    """`COMMENT ON COLUMN analysis.<table>.<column>` for every documented column of `table`."""
    return [
        f"COMMENT ON COLUMN analysis.{table}.\"{column}\" IS '{text.replace(chr(39), chr(39) * 2)}'"
        for column, text in COLUMN_COMMENTS[table].items()
    ]
