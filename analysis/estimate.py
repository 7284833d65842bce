"""Fit one ModelSpec on the province-year panel: within OLS with honest inference.

Point estimates and R² come from linearmodels' PanelOLS on a (province, year) MultiIndex.
Regressors the fixed effects absorb are found first (see `within.find_absorbed`), left out
of the fit and reported in `ModelResult.absorbed`; they never get a coefficient.

Standard errors (`se_type`):
- "cluster" (default): clustered by province, scaled like reghdfe / `fixest` / pyfixest's
  default `ssc()`: G/(G-1) × (N-1)/(N-K), where K counts the slopes, the constant, and the
  levels of every effect *not* nested in the clusters minus one (province + year effects
  clustered by province: K = slopes + 1 + (T-1)). p-values and intervals use t(G-1).
  linearmodels 7.1 cannot produce this: with `cluster_entity=True` it always scales by
  N/(N - df_effects), counting the province effects that are nested in the clusters (as
  Stata's `areg` does), with or without `debiased`/`group_debias` — none of its four
  combinations matches. So the sandwich is computed here on PanelOLS's within data; it
  matches `pyfixest.feols(..., vcov={"CRV1": "province_code"})` with default `ssc`.
  (`xtreg, fe vce(cluster)` would use K = slopes + 1.)
- "robust": heteroskedasticity-robust, PanelOLS `cov_type="robust", debiased=True`.
- "driscoll_kraay": PanelOLS `cov_type="kernel"` (Bartlett kernel, its default bandwidth),
  `debiased=True`: robust to cross-sectional and serial correlation.
- "wild_cluster_bootstrap": the cluster SEs and intervals as above, with p-values (and so
  stars) from a restricted wild cluster bootstrap (`analysis.bootstrap`), Webb weights by
  default.

Whatever se_type, the slopes named in `wild_bootstrap_terms` also get a wild cluster
bootstrap p-value (`bootstrap_pvalues`, the estimates' wild_bootstrap_p) beside the
analytic one, which keeps setting the stars; with "wild_cluster_bootstrap" every slope gets one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import bootstrap
from analysis.errors import AnalysisInputError
from analysis.specs import SE_TYPES, ModelSpec, design_column, source_columns
from analysis.within import EffectCodes, cluster_sandwich, demean, find_absorbed, reghdfe_k
from provpanel.analysis_defaults import R2_KINDS

CONSTANT = "const"
# One label per kind the r2_kind setting offers (strict: a kind without a label fails at import).
R2_LABELS = dict(zip(R2_KINDS, (
    "R² (within: after all the model's fixed effects)",
    "R² (incl. fixed effects)",
    "R² (overall)",
), strict=True))


@dataclass(frozen=True)
class ModelResult:
    """Estimates of one model. Terms absorbed by the effects appear only in `absorbed`.

    params, std_errors, tstats, pvalues: Series indexed by term ("const" included).
    conf_int: DataFrame with columns "lower", "upper" (level `confidence`).
    r2_within: R² of the regression after every fixed effect of the model is removed (province
    and year effects in a two-way model), 1 - SSR / sum of the fully demeaned dependent's
    squares: reghdfe's "Within R-sq." and pyfixest's `_r2_within`; never negative.
    r2_within_effects: which effects r2_within removes ("province and year", "province",
    "year", "none"). r2_inclusive: R² counting the fixed effects as explained (LSDV R²);
    r2_overall: R² of the fitted slopes on the raw data (linearmodels' `rsquared_overall`).
    n_params_ssc: the K in the (N-1)/(N-K) factor; inference_df: t degrees of freedom.
    bootstrap_pvalues: wild cluster bootstrap p-values, when computed.
    identification: what limits the model's identification (spec.identification), "" if nothing.
    """

    model_id: str
    label: str
    table: int | None
    dependent: str
    sample: str
    entity_effects: bool
    time_effects: bool
    se_type: str
    regressors: tuple[str, ...]
    params: pd.Series
    std_errors: pd.Series
    tstats: pd.Series
    pvalues: pd.Series
    conf_int: pd.DataFrame
    nobs: int
    n_clusters: int
    n_params_ssc: int
    inference_df: float | None
    r2_within: float
    r2_within_effects: str
    r2_inclusive: float
    r2_overall: float
    absorbed: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.95
    bootstrap_pvalues: pd.Series | None = None
    bootstrap_weights: str | None = None
    bootstrap_reps: int | None = None
    notes: tuple[str, ...] = ()
    identification: str = ""

    @property
    def terms(self) -> list[str]:
        """Requested regressors in spec order, then the constant (absorbed ones included)."""
        return [*self.regressors, CONSTANT]

    def estimates_frame(self) -> pd.DataFrame:
        """One tidy row per term; see `analysis.run.ESTIMATE_COLUMNS` for the columns."""
        rows = []
        for term in self.terms:
            row = {
                "model_id": self.model_id,
                "paper_table": self.table,
                "label": self.label,
                "sample": self.sample,
                "dependent": self.dependent,
                "term": term,
            }
            if term in self.params.index:
                p_value = float(self.pvalues[term])
                row.update(
                    status="estimated",
                    estimate=float(self.params[term]),
                    std_error=float(self.std_errors[term]),
                    t_stat=float(self.tstats[term]),
                    p_value=p_value,
                    ci_low=float(self.conf_int.loc[term, "lower"]),
                    ci_high=float(self.conf_int.loc[term, "upper"]),
                    stars=stars(p_value),
                    wild_bootstrap_p=(
                        float(self.bootstrap_pvalues[term])
                        if self.bootstrap_pvalues is not None
                        and term in self.bootstrap_pvalues.index
                        else np.nan
                    ),
                    absorbed_reason="",
                )
            else:
                row.update(
                    status="absorbed",
                    estimate=np.nan,
                    std_error=np.nan,
                    t_stat=np.nan,
                    p_value=np.nan,
                    ci_low=np.nan,
                    ci_high=np.nan,
                    stars="",
                    wild_bootstrap_p=np.nan,
                    absorbed_reason=self.absorbed.get(term, "not estimated"),
                )
            row["se_type"] = self.se_type
            row["identification"] = self.identification
            rows.append(row)
        return pd.DataFrame(rows)

    def fit_row(self) -> dict:
        """One tidy row of fit statistics; see `analysis.run.FIT_COLUMNS`."""
        return {
            "model_id": self.model_id,
            "paper_table": self.table,
            "label": self.label,
            "sample": self.sample,
            "dependent": self.dependent,
            "nobs": self.nobs,
            "n_clusters": self.n_clusters,
            "n_params_ssc": self.n_params_ssc,
            "inference_df": self.inference_df,
            "r2_within": self.r2_within,
            "r2_within_effects": self.r2_within_effects,
            "r2_inclusive": self.r2_inclusive,
            "r2_overall": self.r2_overall,
            "entity_effects": self.entity_effects,
            "time_effects": self.time_effects,
            "se_type": self.se_type,
            "absorbed": ",".join(self.absorbed),
            "identification": self.identification,
            "notes": " | ".join(self.notes),
        }


def stars(p_value: float) -> str:
    """*** below 1 %, ** below 5 %, * below 10 %."""
    if p_value is None or not np.isfinite(p_value):
        return ""
    if p_value < 0.01:
        return "***"
    if p_value < 0.05:
        return "**"
    if p_value < 0.10:
        return "*"
    return ""


@dataclass(frozen=True)
class EstimationSample:
    """The rows, codes and demeaned arrays one model is estimated on."""

    frame: pd.DataFrame  # province_code, year, dependent, regressors (raw values)
    effects: EffectCodes
    cluster_codes: np.ndarray
    demeaned_dependent: np.ndarray
    demeaned_regressors: np.ndarray  # all requested regressors, absorbed ones included
    dropped_rows: int


def prepare_sample(
    panel: pd.DataFrame,
    spec: ModelSpec,
    *,
    extra_columns: tuple[str, ...] = (),
    source: str = "panel",
) -> EstimationSample:
    """Select the spec's sample and variables, drop incomplete rows, demean.

    `extra_columns` widens the listwise deletion so that several equations (mediation) share
    one sample.
    """
    context = f"{source} (model {spec.model_id})"
    needed = {"province_code", "year"}
    if spec.sample != "all":
        needed.add("region")
    for name in (spec.dependent, *spec.regressors, *extra_columns):
        needed.update(source_columns(name))
    missing = sorted(needed - set(panel.columns))
    if missing:
        raise AnalysisInputError(
            f"{context}: missing column(s) {missing}; expected the lower-case columns of "
            "marts.province_year_panel (province_code, year, region, tu, ic, ...)"
        )
    rows = panel
    if spec.sample != "all":
        rows = panel[panel["region"].astype(str).str.lower() == spec.sample]
        if rows.empty:
            raise AnalysisInputError(
                f"{context}: column 'region' has no rows equal to {spec.sample!r}; "
                "expected east/central/west"
            )
    variables = list(dict.fromkeys((spec.dependent, *spec.regressors, *extra_columns)))
    frame = pd.DataFrame(
        {"province_code": rows["province_code"].astype(str).to_numpy(),
         "year": pd.to_numeric(rows["year"], errors="coerce").to_numpy()}
    )
    for name in variables:
        try:
            frame[name] = pd.to_numeric(design_column(rows, name), errors="coerce").to_numpy()
        except (TypeError, ValueError) as error:
            raise AnalysisInputError(
                f"{context}: column {name!r} is not numeric ({error})"
            ) from None
    complete = frame.notna().all(axis=1)
    dropped = int((~complete).sum())
    frame = frame[complete].reset_index(drop=True)
    frame["year"] = frame["year"].astype(int)
    if frame.empty:
        raise AnalysisInputError(
            f"{context}: no complete rows for {variables} in sample {spec.sample!r}"
        )
    duplicated = frame.duplicated(["province_code", "year"], keep=False)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise AnalysisInputError(
            f"{context}: province-year ({first['province_code']}, {first['year']}) appears "
            "more than once; expected one row per province and year"
        )
    entity_codes = pd.factorize(frame["province_code"])[0]
    time_codes = pd.factorize(frame["year"])[0]
    effects = EffectCodes(
        entity=entity_codes if spec.entity_effects else None,
        time=time_codes if spec.time_effects else None,
    )
    regressors = frame[list(spec.regressors)].to_numpy(dtype=float)
    return EstimationSample(
        frame=frame,
        effects=effects,
        cluster_codes=entity_codes,
        demeaned_dependent=demean(frame[spec.dependent].to_numpy(dtype=float), effects),
        demeaned_regressors=demean(regressors, effects),
        dropped_rows=dropped,
    )


def fit_model(
    panel: pd.DataFrame,
    spec: ModelSpec,
    *,
    se_type: str | None = None,
    confidence: float = 0.95,
    bootstrap_weights: str = bootstrap.DEFAULT_WEIGHTS,
    bootstrap_reps: int = bootstrap.DEFAULT_REPS,
    seed: int = bootstrap.DEFAULT_SEED,
    extra_columns: tuple[str, ...] = (),
    wild_bootstrap_terms: tuple[str, ...] = (),
) -> ModelResult:
    """Estimate `spec` on `panel` (one row per province-year, lower-case columns).

    se_type: one of SE_TYPES; None takes `spec.se_type` ("cluster" for every paper model).
    bootstrap_*/seed: the wild cluster bootstrap (WCR, province clusters) of se_type
    "wild_cluster_bootstrap" (every slope, its p-values replace the analytic ones) and of the
    slopes in wild_bootstrap_terms (any se_type; reported beside the analytic p-values).
    extra_columns: also require these columns to be non-missing (shared samples).
    Raises AnalysisInputError for a panel that lacks what the model needs.
    """
    from linearmodels import PanelOLS  # ~4 s to import: only when a model is fitted
    from scipy import stats  # ~2 s to import here: also kept off package import

    chosen_se = se_type or spec.se_type
    if chosen_se not in SE_TYPES:
        raise ValueError(f"se_type {chosen_se!r}: expected one of {SE_TYPES}")
    sample = prepare_sample(panel, spec, extra_columns=extra_columns)
    names = list(spec.regressors)
    absorbed = find_absorbed(
        sample.demeaned_regressors, sample.frame[names].to_numpy(dtype=float), names
    )
    if _has_no_within_variation(sample, spec.dependent):
        reason = f"dependent {spec.dependent} has no variation left after the fixed effects"
        absorbed = {name: reason for name in names}
    kept = [name for name in names if name not in absorbed]
    kept_index = [names.index(name) for name in kept]
    notes = []
    if sample.dropped_rows:
        notes.append(f"{sample.dropped_rows} row(s) with missing values dropped")
    for name, reason in absorbed.items():
        notes.append(f"{name} absorbed: {reason}")

    if len(absorbed) == len(names) and names:
        return _unidentified_result(spec, chosen_se, sample, absorbed, confidence, notes)

    indexed = sample.frame.set_index(["province_code", "year"])
    exog = indexed[kept].copy()
    exog.insert(0, CONSTANT, 1.0)
    model = PanelOLS(
        indexed[spec.dependent],
        exog,
        entity_effects=spec.entity_effects,
        time_effects=spec.time_effects,
    )
    nobs = len(sample.frame)
    n_clusters = int(sample.cluster_codes.max()) + 1
    n_params_ssc = reghdfe_k(len(kept), sample.effects, sample.cluster_codes)
    terms = [CONSTANT, *kept]

    if chosen_se in ("robust", "driscoll_kraay"):
        cov_type = "robust" if chosen_se == "robust" else "kernel"
        fitted = model.fit(cov_type=cov_type, debiased=True)
        params = fitted.params[terms]
        std_errors = fitted.std_errors[terms]
        inference_df = float(fitted.df_resid)
    else:
        fitted = model.fit(cov_type="unadjusted")
        params = fitted.params[terms]
        std_errors = _reghdfe_cluster_se(sample, kept, kept_index, params, n_params_ssc)
        std_errors = pd.Series(std_errors, index=terms, name="std_error")
        inference_df = float(n_clusters - 1)

    tstats = params / std_errors
    pvalues = pd.Series(2 * stats.t.sf(np.abs(tstats), inference_df), index=terms)
    critical = stats.t.ppf(0.5 + confidence / 2, inference_df)
    conf_int = pd.DataFrame(
        {"lower": params - critical * std_errors, "upper": params + critical * std_errors}
    )

    bootstrap_pvalues = None
    every_slope = chosen_se == "wild_cluster_bootstrap"
    boot_terms = kept if every_slope else [name for name in kept if name in wild_bootstrap_terms]
    if boot_terms:
        wild = bootstrap.wild_cluster_pvalues(
            sample.demeaned_dependent,
            sample.demeaned_regressors[:, kept_index],
            sample.effects,
            sample.cluster_codes,
            weights=bootstrap_weights,
            reps=bootstrap_reps,
            seed=seed,
            columns=[kept.index(name) for name in boot_terms],
        )
        bootstrap_pvalues = pd.Series(wild, index=boot_terms)
        described = (f"wild cluster bootstrap ({bootstrap_weights} weights, {bootstrap_reps} "
                     f"draws, seed {seed}, null imposed)")
        if every_slope:
            pvalues = pvalues.copy()
            pvalues[kept] = wild
            notes.append(f"p-values of slopes from a {described}; intervals from t(G-1)")
        else:
            notes.append(f"wild_bootstrap_p of {', '.join(boot_terms)} from a {described}")

    return ModelResult(
        **_described_by(spec),
        se_type=chosen_se,
        params=params.rename("parameter"),
        std_errors=std_errors.rename("std_error"),
        tstats=tstats.rename("t_stat"),
        pvalues=pvalues.rename("p_value"),
        conf_int=conf_int,
        nobs=nobs,
        n_clusters=n_clusters,
        n_params_ssc=n_params_ssc,
        inference_df=inference_df,
        r2_within=_r2_within_all_effects(sample, kept_index, params),
        r2_inclusive=float(fitted.rsquared_inclusive),
        r2_overall=float(fitted.rsquared_overall),
        absorbed=absorbed,
        confidence=confidence,
        bootstrap_pvalues=bootstrap_pvalues,
        bootstrap_weights=bootstrap_weights if bootstrap_pvalues is not None else None,
        bootstrap_reps=bootstrap_reps if bootstrap_pvalues is not None else None,
        notes=tuple(notes),
    )


def _described_by(spec: ModelSpec) -> dict:
    """The fields of a ModelResult that restate its spec, whether it was fitted or not."""
    return {
        "model_id": spec.model_id,
        "label": spec.label,
        "table": spec.table,
        "dependent": spec.dependent,
        "sample": spec.sample,
        "entity_effects": spec.entity_effects,
        "time_effects": spec.time_effects,
        "regressors": tuple(spec.regressors),
        "r2_within_effects": effects_removed(spec.entity_effects, spec.time_effects),
        "identification": spec.identification,
    }


def _reghdfe_cluster_se(
    sample: EstimationSample,
    kept: list[str],
    kept_index: list[int],
    params: pd.Series,
    n_params_ssc: int,
) -> np.ndarray:
    """Province-clustered SEs of (const, slopes) with reghdfe's small-sample factor.

    The constant is Stata's: the regression of y on [1, X] after the effects are swept out
    and the grand means added back; its slope block equals the plain within regression.
    """
    slopes = params.to_numpy()[1:]
    within_x = sample.demeaned_regressors[:, kept_index]
    residuals = sample.demeaned_dependent - within_x @ slopes
    raw_x = sample.frame[kept].to_numpy(dtype=float)
    nobs = raw_x.shape[0]
    has_effects = bool(sample.effects.levels)
    design = within_x + raw_x.mean(axis=0) if has_effects else raw_x
    design = np.column_stack([np.ones(nobs), design])
    n_clusters = int(sample.cluster_codes.max()) + 1
    factor = n_clusters / (n_clusters - 1) * (nobs - 1) / (nobs - n_params_ssc)
    covariance = factor * cluster_sandwich(design, residuals, sample.cluster_codes)
    return np.sqrt(np.diag(covariance))


def effects_removed(entity_effects: bool, time_effects: bool) -> str:
    """Which fixed effects a model removes, in words (the label of its within R²)."""
    names = [name for name, used in (("province", entity_effects), ("year", time_effects)) if used]
    return " and ".join(names) or "none"


def _r2_within_all_effects(sample: EstimationSample, kept_index: list[int], params: pd.Series) -> float:
    """1 - SSR / TSS of the regression on the data demeaned by every effect of the model.

    linearmodels' `rsquared_within` removes only the entity effects and applies the slopes
    there, which leaves the year effects unexplained and can go negative in a two-way model;
    reghdfe and pyfixest report this one. Without effects it is the centred R².
    """
    dependent = sample.demeaned_dependent
    residuals = dependent - sample.demeaned_regressors[:, kept_index] @ params.to_numpy()[1:]
    if not sample.effects.levels:  # nothing demeaned: the constant takes the means
        dependent = dependent - dependent.mean()
        residuals = residuals - residuals.mean()
    total = float(dependent @ dependent)
    return float(1.0 - residuals @ residuals / total) if total > 0 else np.nan


def _has_no_within_variation(sample: EstimationSample, dependent: str) -> bool:
    """True when the effects explain the dependent variable completely (e.g. static FMA)."""
    raw = sample.frame[dependent].to_numpy(dtype=float)
    scale = max(float(np.linalg.norm(raw)), 1e-300)
    return float(np.linalg.norm(sample.demeaned_dependent)) <= 1e-9 * scale


def _unidentified_result(
    spec: ModelSpec,
    se_type: str,
    sample: EstimationSample,
    absorbed: dict[str, str],
    confidence: float,
    notes: list[str],
) -> ModelResult:
    """A result with no estimates: every term is absorbed, so nothing is identified."""
    empty = pd.Series(dtype=float)
    return ModelResult(
        **_described_by(spec),
        se_type=se_type,
        params=empty,
        std_errors=empty,
        tstats=empty,
        pvalues=empty,
        conf_int=pd.DataFrame(columns=["lower", "upper"], dtype=float),
        nobs=len(sample.frame),
        n_clusters=int(sample.cluster_codes.max()) + 1,
        n_params_ssc=0,
        inference_df=None,
        r2_within=np.nan,
        r2_inclusive=np.nan,
        r2_overall=np.nan,
        absorbed=absorbed,
        confidence=confidence,
        notes=(*notes, "not identified: every term is absorbed by the fixed effects"),
    )
