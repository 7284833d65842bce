"""One call for the orchestration layer: every model, the mediation, tables, comparison.

`run_all(panel)` returns four tidy DataFrames meant for the warehouse tables
analysis.estimates, analysis.fit, analysis.mediation and analysis.comparison, plus the
rendered tables. Column lists are fixed (ESTIMATE_COLUMNS, FIT_COLUMNS,
mediation.MEDIATION_COLUMNS, compare.COMPARISON_COLUMNS) so the warehouse schema is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import bootstrap
from analysis.availability import (
    grouped_reasons_markdown,
    missing_variable_parts,
    not_estimable_estimates,
    not_estimable_fit,
    not_estimable_reason,
    reason_from_parts,
)
from analysis.compare import COMPARISON_COLUMNS, compare
from analysis.estimate import ModelResult, fit_model
from analysis.mediation import (
    DEFAULT_MEDIATION_REPS,
    MEDIATION_COLUMNS,
    MEDIATORS,
    mediation_specs,
    run_mediation,
)
from analysis.specs import DEFAULT_BREAK_YEAR, VARIANT_MODELS, paper_models, source_columns
from analysis.tables import TABLE_GROUPS, RegressionTable, paper_tables

# analysis.estimates: one row per model and term.
#   model_id, paper_table (the paper's table number, NULL if unpublished), label, sample,
#   dependent, term; status ("estimated" | "absorbed" | "not estimable");
#   estimate, std_error, t_stat, p_value, ci_low, ci_high (NaN when absorbed); stars;
#   wild_bootstrap_p: p-value of a wild cluster bootstrap (WCR: null imposed, province
#   clusters, wild_bootstrap_weights, wild_bootstrap_reps draws, seed), computed for the
#   slopes named in the setting wild_bootstrap_terms (default ic and ic2, in every model
#   that has them) whatever se_type, and for every slope when se_type is
#   wild_cluster_bootstrap (then it is also p_value); NaN for every other term, the constant
#   and absorbed terms; absorbed_reason; se_type;
#   identification (what limits the model's identification, e.g. FMA_tv's weak
#   identification; "" when nothing is to be said);
#   not_estimable_reason (status "not estimable": a variable lacks an input, and why).
ESTIMATE_COLUMNS = [
    "model_id", "paper_table", "label", "sample", "dependent", "term", "status",
    "estimate", "std_error", "t_stat", "p_value", "ci_low", "ci_high", "stars",
    "wild_bootstrap_p", "absorbed_reason", "se_type", "identification", "not_estimable_reason",
]
# analysis.fit: one row per model.
#   nobs, n_clusters (provinces in the sample), n_params_ssc (K of (N-1)/(N-K)),
#   inference_df (t degrees of freedom); r2_within: R² after every fixed effect of the model
#   is removed (reghdfe's "Within R-sq.", pyfixest's _r2_within), r2_within_effects: which
#   effects those are ("province and year", "province"); r2_inclusive: fixed effects counted
#   as explained (LSDV R²); r2_overall: the slopes on the raw data; entity_effects,
#   time_effects, se_type, absorbed (comma list), identification (as in analysis.estimates),
#   notes, estimable, not_estimable_reason (a model whose variables are incomplete on its
#   sample is not fitted: e.g. "not estimable: FDI: fdi_actual has no observations for 2001-2009").
FIT_COLUMNS = [
    "model_id", "paper_table", "label", "sample", "dependent", "nobs", "n_clusters",
    "n_params_ssc", "inference_df", "r2_within", "r2_within_effects", "r2_inclusive", "r2_overall",
    "entity_effects", "time_effects", "se_type", "absorbed", "identification", "notes", "estimable",
    "not_estimable_reason",
]


@dataclass
class AnalysisResults:
    """Everything run_all produced. The four DataFrames go to the warehouse as they are."""

    estimates: pd.DataFrame
    fit: pd.DataFrame
    mediation: pd.DataFrame
    comparison: pd.DataFrame
    tables: dict[str, RegressionTable]
    results: dict[str, ModelResult]
    settings: dict
    skipped: dict[str, str] = field(default_factory=dict)
    not_estimable: dict[str, str] = field(default_factory=dict)  # model_id -> reason
    # model_id -> the reason's parts, one per incomplete variable (to group models by reason)
    not_estimable_parts: dict[str, list[str]] = field(default_factory=dict)

    def not_estimable_markdown(self) -> str:
        """The models that were not fitted and why, each reason once with the models it stops
        (empty when every model was)."""
        n_models = len(self.fit) if len(self.fit) else len(self.not_estimable)
        return grouped_reasons_markdown(self.not_estimable_parts, n_models)

    def write_outputs(self, folder: str | Path) -> list[Path]:
        """Tables in Markdown, LaTeX, HTML and CSV, and the figures (PNG + SVG), into `folder`."""
        from analysis.plots import plot_coefficients, plot_key_terms, plot_mediation_paths

        output = Path(folder)
        output.mkdir(parents=True, exist_ok=True)
        for name in set(TABLE_GROUPS) - set(self.tables):  # an earlier build's table, now not estimable
            for suffix in ("md", "tex", "html", "csv"):
                (output / f"{name}.{suffix}").unlink(missing_ok=True)
        written = []
        for name, table in self.tables.items():
            for suffix, text in (
                ("md", table.to_markdown()), ("tex", table.to_latex()),
                ("html", table.to_html()), ("csv", table.to_csv()),
            ):
                path = output / f"{name}.{suffix}"
                path.write_text(text, encoding="utf-8")
                written.append(path)
        written.extend(self._write_mediation_table(output))
        if self.results:
            written.append(plot_key_terms(self.comparison, output / "key_terms_vs_published.png",
                                          our_ci=self.estimates))
            written.append(
                plot_coefficients(self.comparison, output / "coefficients_vs_published.png",
                                  our_ci=self.estimates)
            )
        if self.mediation["a"].notna().any():
            written.append(plot_mediation_paths(self.mediation, output / "mediation_paths.png"))
        stale = output / f"{NOT_ESTIMABLE_STEM}.md"
        if self.not_estimable:
            stale.write_text(self.not_estimable_markdown(), encoding="utf-8")
            written.append(stale)
        elif stale.exists():
            stale.unlink()  # an earlier build's list no longer applies
        return written


    def mediation_table(self) -> pd.DataFrame:
        """analysis.mediation read as the paper reads it, beside the paper's figures."""
        from analysis.mediation_table import mediation_table

        return mediation_table(self.mediation)

    def mediation_texts(self) -> dict[str, str]:
        """The mediation table by file suffix: Markdown, LaTeX, HTML (rounded), CSV (full precision)."""
        from analysis import mediation_table as rendering

        table = self.mediation_table()
        notes = {"se_type": self.settings.get("se_type", ""), "alpha": self.settings.get("alpha")}
        return {"md": rendering.to_markdown(table, **notes), "tex": rendering.to_latex(table, **notes),
                "html": rendering.to_html(table, **notes), "csv": rendering.to_csv(table)}

    def _write_mediation_table(self, output: Path) -> list[Path]:
        from analysis.mediation_table import MEDIATION_TABLE_STEM

        paths = []
        for suffix, text in self.mediation_texts().items():
            path = output / f"{MEDIATION_TABLE_STEM}.{suffix}"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        return paths


NOT_ESTIMABLE_STEM = "not_estimable"


def run_all(
    panel: pd.DataFrame,
    *,
    missing_reasons: dict[str, str] | None = None,
    se_type: str = "cluster",
    bootstrap_reps: int = DEFAULT_MEDIATION_REPS,
    seed: int = bootstrap.DEFAULT_SEED,
    break_year: int = DEFAULT_BREAK_YEAR,
    wild_bootstrap_reps: int = bootstrap.DEFAULT_REPS,
    wild_bootstrap_weights: str = bootstrap.DEFAULT_WEIGHTS,
    wild_bootstrap_terms: tuple[str, ...] = bootstrap.DEFAULT_TERMS,
    mediators: tuple[str, ...] = MEDIATORS,
    alpha: float = 0.05,
    r2_kind: str = "within",
) -> AnalysisResults:
    """Fit Models 1-11, 14-17, the protectionism model and the FMA_tv variants; mediation.

    se_type: for every model and the mediation paths ("cluster", "robust",
    "driscoll_kraay", "wild_cluster_bootstrap"). bootstrap_reps / seed: province-block
    bootstrap of the indirect effects (seed also seeds the wild bootstrap).
    wild_bootstrap_terms: slopes that get a wild cluster bootstrap p-value (wild_bootstrap_p)
    in every model that has them, whatever se_type; () for none. Each must be a regressor of
    some model (a typo is an error, not a silently empty column).
    The FMA_tv variants are skipped (listed in `skipped`) when the panel has no fma_tv.
    A model whose variables are not complete on its sample (a partial edition set) is not
    fitted: it is listed in `not_estimable` with the reason, taken from `missing_reasons`
    (variable -> why it is missing, e.g. marts.variable_availability.reason), and appears in
    estimates and fit with status "not estimable"; the other models are fitted as usual.
    """
    specs = [*paper_models(break_year), *VARIANT_MODELS]
    wild_bootstrap_terms = tuple(wild_bootstrap_terms)
    known_terms = {term for spec in specs for term in spec.regressors}
    unknown = [term for term in wild_bootstrap_terms if term not in known_terms]
    if unknown:
        raise ValueError(
            f"wild_bootstrap_terms {unknown}: not a regressor of any model; expected some of "
            f"{sorted(known_terms)}"
        )
    results: dict[str, ModelResult] = {}
    skipped: dict[str, str] = {}
    not_estimable: dict[str, str] = {}
    not_estimable_parts: dict[str, list[str]] = {}
    estimate_frames: list[pd.DataFrame] = []
    fit_rows: list[dict] = []
    for spec in specs:
        needed = {column for name in (spec.dependent, *spec.regressors)
                  for column in source_columns(name)}
        if spec in VARIANT_MODELS and not needed <= set(panel.columns):
            skipped[spec.model_id] = f"panel lacks {sorted(needed - set(panel.columns))}"
            continue
        parts = missing_variable_parts(panel, spec, missing_reasons)
        reason = reason_from_parts(parts)
        if reason:
            not_estimable[spec.model_id] = reason
            not_estimable_parts[spec.model_id] = parts
            estimate_frames.append(not_estimable_estimates(spec, reason))
            fit_rows.append(not_estimable_fit(spec, reason))
            continue
        result = fit_model(
            panel, spec, se_type=se_type, bootstrap_reps=wild_bootstrap_reps,
            bootstrap_weights=wild_bootstrap_weights, seed=seed,
            wild_bootstrap_terms=wild_bootstrap_terms,
        )
        results[spec.model_id] = result
        frame = result.estimates_frame()
        frame["not_estimable_reason"] = None
        estimate_frames.append(frame)
        fit_rows.append({**result.fit_row(), "estimable": True, "not_estimable_reason": None})
    estimates = (pd.concat(estimate_frames, ignore_index=True)[ESTIMATE_COLUMNS] if estimate_frames
                 else pd.DataFrame(columns=ESTIMATE_COLUMNS))
    fit = pd.DataFrame(fit_rows, columns=FIT_COLUMNS)
    for column in ("nobs", "n_clusters", "n_params_ssc"):  # integers, NA where not estimable
        fit[column] = fit[column].astype("Int64")
    mediation = _mediation(panel, mediators, missing_reasons, se_type=se_type, alpha=alpha,
                           bootstrap_reps=bootstrap_reps, seed=seed)
    comparison = compare(results)[COMPARISON_COLUMNS]
    # Models without a published table have table None: keep the column integer-typed.
    for frame in (estimates, fit, comparison):
        frame["paper_table"] = frame["paper_table"].astype("Int64")
    # models by number (1, 2, ..., 10, 11, 14, ...), never as text (10, 11, 6, ...)
    estimates, fit, comparison = (_in_paper_order(frame) for frame in (estimates, fit, comparison))
    settings = {
        "se_type": se_type, "bootstrap_reps": bootstrap_reps, "seed": seed,
        "break_year": break_year, "wild_bootstrap_reps": wild_bootstrap_reps,
        "wild_bootstrap_weights": wild_bootstrap_weights,
        "wild_bootstrap_terms": ",".join(wild_bootstrap_terms), "alpha": alpha, "r2_kind": r2_kind,
    }
    tables = paper_tables(results, r2_kind=r2_kind)
    for key, table in tables.items():  # a table missing some of its models says why
        table.notes.extend(f"Model {model_id} {not_estimable[model_id]}."
                           for model_id in TABLE_GROUPS[key][1] if model_id in not_estimable)
    return AnalysisResults(
        estimates=estimates,
        fit=fit,
        mediation=mediation[MEDIATION_COLUMNS],
        comparison=comparison,
        tables=tables,
        results=results,
        settings=settings,
        skipped=skipped,
        not_estimable=not_estimable,
        not_estimable_parts=not_estimable_parts,
    )


def _in_paper_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows by model in the paper's order (analysis.plots.paper_order), each model's rows
    in the order they came."""
    from analysis.plots import paper_order

    rank = {model_id: position for position, model_id in enumerate(paper_order(frame["model_id"]))}
    return frame.sort_values("model_id", key=lambda ids: ids.astype(str).map(rank), kind="stable",
                             ignore_index=True)


def _mediation(panel: pd.DataFrame, mediators: tuple[str, ...], missing_reasons: dict[str, str] | None,
               **settings) -> pd.DataFrame:
    """run_mediation on the mediators whose three regressions are estimable; a row saying why
    for each of the others."""
    rows: dict[str, dict] = {}
    estimable = []
    for mediator in mediators:
        reasons = [not_estimable_reason(panel, spec, missing_reasons)
                   for spec in mediation_specs(mediator)] if mediator in panel.columns else [None]
        reason = next((text for text in reasons if text), None)
        if reason:
            rows[mediator] = {"mediator": mediator, "verdict": reason}
        else:
            estimable.append(mediator)
    fitted, _ = run_mediation(panel, tuple(estimable), **settings) if estimable else (None, [])
    if fitted is not None:
        rows.update({row["mediator"]: row for row in fitted.to_dict("records")})
    return pd.DataFrame([rows[mediator] for mediator in mediators], columns=MEDIATION_COLUMNS)
