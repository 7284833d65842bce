"""Our estimates beside the paper's: sign, significance at 10 %, difference, fit.

The published figures are in `analysis/reference/` (copied from the paper's Tables 1-4).
The paper writes the mediator of Models 7, 9 and 11 as "M"; it is mapped to the model's
mediator (fma, te, ks) here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisInputError
from analysis.estimate import ModelResult, stars
from analysis.specs import display_name, get_spec, mediator_of

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
SIGNIFICANCE_LEVEL = 0.10

COMPARISON_COLUMNS = [
    "model_id", "paper_table", "sample", "dependent", "term", "term_display", "status",
    "published_coef", "published_se", "published_stars", "published_significant",
    "estimate", "std_error", "p_value", "stars", "significant",
    "sign_agree", "significance_agree", "difference",
    "published_r2", "r2_within", "r2_within_effects", "r2_inclusive", "r2_overall",
    "published_nobs", "nobs", "se_type",
]

_COEFFICIENT_COLUMNS = ["table", "model", "sample", "dependent", "term", "coef", "se", "stars"]
_FIT_COLUMNS = ["table", "model", "sample", "dependent", "r2", "nobs"]


@dataclass(frozen=True)
class PublishedEstimates:
    """coefficients: model_id, table, sample, dependent, term (ours), coef, se, stars.
    fit: model_id, table, sample, dependent, r2, nobs, sobel_p, sobel_stat_reported."""

    coefficients: pd.DataFrame
    fit: pd.DataFrame


def load_published(reference_dir: str | Path | None = None) -> PublishedEstimates:
    """Read published_coefficients.csv and published_fit.csv, terms in our lower-case names."""
    folder = Path(reference_dir) if reference_dir is not None else REFERENCE_DIR
    coefficients = _read_reference(folder / "published_coefficients.csv", _COEFFICIENT_COLUMNS)
    fit = _read_reference(folder / "published_fit.csv", _FIT_COLUMNS)
    for frame in (coefficients, fit):
        frame.insert(0, "model_id", frame.pop("model").astype(str))
        frame["dependent"] = frame["dependent"].str.lower()
    coefficients["term"] = [
        _our_term(model_id, term)
        for model_id, term in zip(coefficients["model_id"], coefficients["term"])
    ]
    coefficients["stars"] = coefficients["stars"].fillna("").astype(str)
    return PublishedEstimates(coefficients=coefficients, fit=fit)


def _read_reference(path: Path, required: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise AnalysisInputError(f"{path}: published reference file not found")
    frame = pd.read_csv(path, dtype={"stars": str})
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise AnalysisInputError(f"{path}: header lacks column(s) {missing}; expected {required}")
    return frame


def _our_term(model_id: str, published_term: str) -> str:
    if published_term == "M":
        mediator = mediator_of(get_spec(model_id))
        if mediator is None:
            raise AnalysisInputError(
                f"published_coefficients.csv: model {model_id} has term 'M' but no mediator"
            )
        return mediator
    return published_term.lower()


def compare(
    results: Iterable[ModelResult] | dict[str, ModelResult],
    published: PublishedEstimates | None = None,
) -> pd.DataFrame:
    """One row per published (model, term); columns COMPARISON_COLUMNS.

    status: "estimated", "absorbed" (our effects absorb the term: no estimate), or
    "not estimated" (model not in `results`). sign_agree / significance_agree (at 10 %;
    published significance = at least one star) are NA where we have no estimate.
    difference = ours - published. Fit columns repeat per model: the published R² beside our
    three, each labelled, and N. The paper prints a bare "R²" and names neither the R² nor
    its software, so no R² difference is computed: r2_within is after every effect of the
    model (r2_within_effects says which; reghdfe's and pyfixest's within R²), r2_inclusive
    counts the effects as explained (LSDV), r2_overall applies the slopes to the raw data.
    The published values (0.22-0.60 with province and year effects, 0.91-0.96 with province
    effects only) look like a within R² in Tables 1-3 and an inclusive one in Table 4, but
    that is a guess: set the published R² beside ours only with the label in mind.
    """
    published = published or load_published()
    by_id = dict(results) if isinstance(results, dict) else {r.model_id: r for r in results}
    fit_by_id = published.fit.set_index("model_id")
    rows = []
    for record in published.coefficients.itertuples(index=False):
        result = by_id.get(record.model_id)
        row = {
            "model_id": record.model_id, "paper_table": record.table, "sample": record.sample,
            "dependent": record.dependent, "term": record.term,
            "term_display": display_name(record.term),
            "published_coef": record.coef, "published_se": record.se,
            "published_stars": record.stars,
            "published_significant": record.stars != "",
            "published_r2": fit_by_id["r2"].get(record.model_id, np.nan),
            "published_nobs": fit_by_id["nobs"].get(record.model_id, np.nan),
        }
        row.update(_our_side(result, record.term))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    estimated = frame["status"] == "estimated"
    frame["sign_agree"] = pd.array(
        np.where(estimated, np.sign(frame["estimate"]) == np.sign(frame["published_coef"]), None),
        dtype="boolean",
    )
    frame["significance_agree"] = pd.array(
        np.where(estimated, frame["significant"] == frame["published_significant"], None),
        dtype="boolean",
    )
    frame["significant"] = pd.array(
        np.where(estimated, frame["significant"], None), dtype="boolean"
    )
    frame["difference"] = frame["estimate"] - frame["published_coef"]
    return frame


def _our_side(result: ModelResult | None, term: str) -> dict:
    empty = {"estimate": np.nan, "std_error": np.nan, "p_value": np.nan, "stars": "",
             "significant": False}
    if result is None:
        return {**empty, "status": "not estimated", "r2_within": np.nan, "r2_within_effects": "",
                "r2_inclusive": np.nan, "r2_overall": np.nan, "nobs": np.nan, "se_type": ""}
    fit = {"r2_within": result.r2_within, "r2_within_effects": result.r2_within_effects,
           "r2_inclusive": result.r2_inclusive,
           "r2_overall": result.r2_overall, "nobs": result.nobs, "se_type": result.se_type}
    if term not in result.params.index:
        return {**empty, **fit, "status": "absorbed" if result.absorbed else "not estimated"}
    p_value = float(result.pvalues[term])
    return {
        **fit,
        "status": "estimated",
        "estimate": float(result.params[term]),
        "std_error": float(result.std_errors[term]),
        "p_value": p_value,
        "stars": stars(p_value),
        "significant": p_value < SIGNIFICANCE_LEVEL,
    }



READING_WIDTH = 110  # characters: a terminal reads every line of the printed comparison whole
READING_DECIMALS = 3  # as the paper prints its coefficients


def comparison_markdown(frame: pd.DataFrame, decimals: int = READING_DECIMALS) -> str:
    """The comparison as a reader takes it in: one coefficient table per paper table (the paper's
    coefficient and SE beside ours, the difference, the agreement), then the fit of each model
    (the paper's R² and N beside ours). Lines stay within READING_WIDTH; the CSV keeps every
    column at full precision."""
    from tabulate import tabulate

    def number(value, *, stars_text: str = "", brackets: bool = False) -> str:
        if value is None or pd.isna(value):
            return "—"
        text = f"{round(float(value), decimals) + 0.0:.{decimals}f}{stars_text}"  # + 0.0: never "-0.000"
        return f"({text})" if brackets else text

    def agree(value) -> str:
        return "—" if value is None or pd.isna(value) else ("yes" if value else "NO")

    parts = []
    for table, rows in frame.groupby("paper_table", sort=False):
        cells = [[f"{row.model_id} {row.sample}", row.term_display,
                  _with_se(number(row.published_coef, stars_text=row.published_stars or ""),
                           number(row.published_se, brackets=True)),
                  _with_se(number(row.estimate, stars_text=row.stars or ""), number(row.std_error, brackets=True)),
                  number(row.difference), agree(row.sign_agree), agree(row.significance_agree),
                  row.status] for row in rows.itertuples(index=False)]
        parts.append(f"**Paper's Table {table}: coefficients**\n\n" + tabulate(
            cells, headers=["model", "term", "paper (SE)", "ours (SE)", "diff", "sign", "signif", "status"],
            tablefmt="pipe", disable_numparse=True))
    fit = frame.drop_duplicates("model_id")
    cells = [[f"{row.model_id} {row.sample}", number(row.published_r2), number(row.r2_within),
              row.r2_within_effects or "—", number(row.r2_inclusive), number(row.r2_overall),
              _count(row.published_nobs), _count(row.nobs)] for row in fit.itertuples(index=False)]
    se_types = sorted({str(s) for s in fit["se_type"] if isinstance(s, str) and s})
    note = ("diff: ours − paper; sign, signif: ours has the paper's sign, the paper's significance (yes / NO). "
            "Our R²: within (after the effects it removes), inclusive (the effects count as explained), overall. "
            "The paper does not say which R² it prints. "
            + (f"Standard errors: {', '.join(se_types)}. " if se_types else "")
            + f"Significance compared at {SIGNIFICANCE_LEVEL:.0%}. Every column, in full, is in the CSV.")
    parts.append("**Fit: the paper's R² and N beside ours**\n\n" + tabulate(
        cells, headers=["model", "paper R²", "within", "removes", "inclusive", "overall", "paper N", "N"],
        tablefmt="pipe", disable_numparse=True)
        + "\n\n" + textwrap.fill(note, READING_WIDTH))
    return "\n\n".join(parts)


def _with_se(coefficient: str, std_error: str) -> str:
    return coefficient if coefficient == "—" else f"{coefficient} {std_error}"


def _count(value) -> str:
    return "—" if value is None or pd.isna(value) else str(int(value))
