"""The mediation read as the paper reads it: one row per mediator, our paths, the indirect
effect a×b with its tests, bootstrap interval and verdict, beside what the paper says.

Built from analysis.mediation's rows (nothing is re-estimated) and the paper's Table 4
(analysis/reference/). The paper prints a (IC in Models 6, 8, 10), b and c′ (M and IC in
Models 7, 9, 11) and a Sobel row, but no indirect effect: `paper_a_times_b` is the product of
its a and b, computed here and labelled so. Rendered to Markdown, LaTeX, HTML (numbers rounded
for reading) and CSV (full precision).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from analysis.estimate import stars
from analysis.mediation import mediation_specs
from analysis.specs import PAPER_MODELS, display_name, mediator_of
from provpanel.number_text import MISSING

MEDIATION_TABLE_STEM = "mediation"
TITLE = "Mediation: does IC work through FMA, TE, KS?"

# The paper's verdict on each channel, as Section 5.2 states it (Table 4 prints no verdict).
PAPER_VERDICTS = {
    "fma": "mediation: Sobel significant at 1 % (Section 5.2)",
    "te": "mediation: Sobel significant at 1 % (Section 5.2)",
    "ks": "mediation: Sobel significant at 5 % (Section 5.2)",
}
NOT_IN_PAPER = "not in the paper (this project's variant)"

MEDIATION_TABLE_COLUMNS = [
    "mediator", "scope", "nobs",
    "a", "a_p", "b", "b_p", "c", "c_p", "c_prime", "c_prime_p", "indirect_ab",
    "sobel_p", "aroian_p", "goodman_p",
    "boot_reps", "boot_confidence", "boot_ci_low_percentile", "boot_ci_high_percentile",
    "share_mediated", "verdict",
    "paper_models", "paper_a", "paper_a_stars", "paper_b", "paper_b_stars",
    "paper_c_prime", "paper_c_prime_stars", "paper_a_times_b", "paper_sobel_p",
    "paper_sobel_parenthesis", "paper_verdict",
]

# The text formats: header, and how a row's cell is made from the full-precision row.
_TEXT_COLUMNS = [
    ("Mediator", lambda r: display_name(r["mediator"])),
    ("Scope", lambda r: r["scope"]),
    ("a", lambda r: _coefficient(r["a"], r["a_p"])),
    ("b", lambda r: _coefficient(r["b"], r["b_p"])),
    ("c", lambda r: _coefficient(r["c"], r["c_p"])),
    ("c′", lambda r: _coefficient(r["c_prime"], r["c_prime_p"])),
    ("a×b", lambda r: reading_number(r["indirect_ab"])),
    ("Bootstrap interval", lambda r: _interval(r["boot_ci_low_percentile"], r["boot_ci_high_percentile"])),
    ("Sobel p", lambda r: reading_p(r["sobel_p"])),
    ("Aroian p", lambda r: reading_p(r["aroian_p"])),
    ("Goodman p", lambda r: reading_p(r["goodman_p"])),
    ("Share mediated", lambda r: _share(r["share_mediated"])),
    ("Verdict", lambda r: r["verdict"] or MISSING),
    ("Paper: a×b", lambda r: reading_number(r["paper_a_times_b"])),
    ("Paper: Sobel p", lambda r: _paper_sobel(r)),
    ("Paper's verdict", lambda r: r["paper_verdict"]),
]


def paper_mediation(mediator: str, published=None) -> dict:
    """The paper's figures for one mediator (NaN / "—" where the paper gives none)."""
    from analysis.compare import load_published

    row = {"paper_models": None, "paper_verdict": PAPER_VERDICTS.get(mediator, NOT_IN_PAPER),
           "paper_sobel_parenthesis": np.nan, "paper_sobel_p": np.nan, "paper_a_times_b": np.nan}
    for name in ("a", "b", "c_prime"):
        row[f"paper_{name}"], row[f"paper_{name}_stars"] = np.nan, ""
    a_model = next((s.model_id for s in PAPER_MODELS if s.dependent == mediator and s.table), None)
    b_model = next((s.model_id for s in PAPER_MODELS if mediator_of(s) == mediator and s.table), None)
    if a_model is None or b_model is None:
        return row
    published = published or load_published()
    coefficients = published.coefficients

    def coefficient(model_id: str, term: str) -> tuple[float, str]:
        found = coefficients[(coefficients["model_id"] == model_id) & (coefficients["term"] == term)]
        return (float(found["coef"].iloc[0]), str(found["stars"].iloc[0])) if len(found) else (np.nan, "")

    row["paper_models"] = f"{a_model}, {b_model}"
    row["paper_a"], row["paper_a_stars"] = coefficient(a_model, "ic")
    row["paper_b"], row["paper_b_stars"] = coefficient(b_model, mediator)
    row["paper_c_prime"], row["paper_c_prime_stars"] = coefficient(b_model, "ic")
    row["paper_a_times_b"] = round(row["paper_a"] * row["paper_b"], 10)  # two printed figures: no binary noise
    fit = published.fit[published.fit["model_id"] == b_model]
    if len(fit):
        row["paper_sobel_p"] = float(fit["sobel_p"].iloc[0])
        row["paper_sobel_parenthesis"] = float(fit["sobel_stat_reported"].iloc[0])
    return row


def mediation_table(mediation: pd.DataFrame, published=None) -> pd.DataFrame:
    """One row per mediator of analysis.mediation (columns MEDIATION_TABLE_COLUMNS): its
    numbers as they are, share mediated = a×b / c, and the paper's figures beside them."""
    rows = []
    for record in mediation.to_dict("records"):
        mediator = str(record["mediator"])
        row = {column: record.get(column, np.nan) for column in MEDIATION_TABLE_COLUMNS}
        row["scope"] = _scope(mediator)
        c, indirect = record.get("c"), record.get("indirect_ab")
        row["share_mediated"] = indirect / c if pd.notna(indirect) and pd.notna(c) and c != 0 else np.nan
        row["verdict"] = record.get("verdict") if isinstance(record.get("verdict"), str) else ""
        row.update(paper_mediation(mediator, published))
        rows.append(row)
    return pd.DataFrame(rows, columns=MEDIATION_TABLE_COLUMNS)


def _scope(mediator: str) -> str:
    """The provinces the three equations are fitted on (the effects: province, in the footnote)."""
    spec = mediation_specs(mediator)[0]
    return "all provinces" if spec.sample == "all" else spec.sample


def reading_number(value, decimals: int = 3) -> str:
    """A number for reading: `decimals` places, more for a small one so it never reads 0.000
    (never scientific notation); "—" when missing."""
    if value is None or pd.isna(value):
        return MISSING
    value = float(value)
    if value != 0 and abs(value) < 10 ** -decimals:
        decimals = min(10, -math.floor(math.log10(abs(value))) + 1)
    return f"{value:.{decimals}f}"


def reading_p(value) -> str:
    if value is None or pd.isna(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _coefficient(value, p_value) -> str:
    return MISSING if pd.isna(value) else reading_number(value) + stars(p_value)


def _interval(low, high) -> str:
    return MISSING if pd.isna(low) or pd.isna(high) else f"[{reading_number(low)}, {reading_number(high)}]"


def _share(value) -> str:
    return MISSING if pd.isna(value) else f"{reading_number(100 * value, 1)} %"


def _paper_sobel(row) -> str:
    if pd.isna(row["paper_sobel_p"]):
        return MISSING
    return f"{row['paper_sobel_p']:.3f} ({row['paper_sobel_parenthesis']:.3f})"


def text_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The table as rounded text cells (what Markdown, LaTeX and HTML show). A mediator not
    estimable on a partial panel points to its reason, written once in the footnote."""
    reasons = _not_estimable_reasons(table)
    cells = pd.DataFrame([[cell(row) for _, cell in _TEXT_COLUMNS] for _, row in table.iterrows()],
                         columns=[header for header, _ in _TEXT_COLUMNS])
    cells["Verdict"] = [f"not estimable (reason {reasons.index(verdict) + 1})" if verdict in reasons
                        else cell for verdict, cell in zip(table["verdict"], cells["Verdict"])]
    return cells


def _not_estimable_reasons(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(v for v in table["verdict"] if str(v).startswith("not estimable")))


def footnote(table: pd.DataFrame, *, se_type: str = "", alpha: float | None = None) -> str:
    from analysis.tables import SE_DESCRIPTIONS

    reps = table["boot_reps"].dropna()
    confidence = table["boot_confidence"].dropna()
    bootstrap = (f"{100 * confidence.iloc[0]:g} % percentile interval of {int(reps.iloc[0])} province-block "
                 "bootstrap draws" if len(reps) and len(confidence) else "province-block bootstrap interval")
    level = f" at level {alpha:g}" if alpha is not None else ""
    errors = f"; standard errors {SE_DESCRIPTIONS.get(se_type, se_type)}" if se_type else ""
    return (
        "a: IC → M; b: M → TU given IC; c: IC → TU; c′: IC → TU given M; each with province "
        "effects on one shared sample, so a×b = c − c′. *** p<0.01, ** p<0.05, * p<0.10"
        f"{errors}. Sobel, Aroian, Goodman: two-sided normal p-values of a×b. Bootstrap interval (of a×b): {bootstrap}. "
        f"Share mediated: a×b / c. Verdict: Wen et al. (2004)'s steps{level}. "
        "Paper: a×b is the product of the paper's a (IC in Models 6, 8, 10 of Table 4) and b "
        "(M in Models 7, 9, 11), computed here: the paper prints no indirect effect. Paper: Sobel p "
        "is Table 4's Sobel row as printed, the figure in parentheses unexplained by the paper. "
        f"Paper's verdict: Section 5.2. {MISSING}: no figure."
        + "".join(f" Reason {number}: {reason.removeprefix('not estimable: ')}." for number, reason in
                  enumerate(_not_estimable_reasons(table), start=1))
    )


# Markdown is read in a terminal: the row's cells split into three tables of one row per
# mediator, each narrow enough to read unwrapped (LaTeX and HTML keep one table).
_MARKDOWN_PARTS = [
    ("Paths and the indirect effect",
     ["a", "b", "c", "c′", "a×b", "Bootstrap interval", "Share mediated"]),
    ("Tests and verdict", ["Sobel p", "Aroian p", "Goodman p", "Verdict"]),
    ("Beside the paper", ["a×b", "Paper: a×b", "Paper: Sobel p", "Paper's verdict"]),
]


def to_markdown(table: pd.DataFrame, **notes) -> str:
    from tabulate import tabulate

    cells = text_cells(table)
    parts = []
    for caption, columns in _MARKDOWN_PARTS:
        part = cells[["Mediator", "Scope", *columns]]
        parts.append(f"*{caption}*\n\n" + tabulate(part.to_numpy().tolist(), headers=list(part.columns),
                                                   tablefmt="pipe", disable_numparse=True))
    body = "\n\n".join(parts)
    return f"**{TITLE}**\n\n{body}\n\n{footnote(table, **notes)}\n"


def to_latex(table: pd.DataFrame, **notes) -> str:
    from analysis.tables import _latex_escape

    def escape(text: str) -> str:
        return (_latex_escape(text).replace("′", "$'$").replace("→", r"$\to$")
                .replace("−", "$-$").replace("—", "---").replace("<", "$<$"))

    cells = text_cells(table)
    lines = [
        r"\begin{table}[htbp]\centering\small",
        rf"\caption{{{escape(TITLE)}}}",
        rf"\begin{{tabular}}{{l{'c' * (len(cells.columns) - 1)}}}",
        r"\toprule",
        " & ".join(escape(header) for header in cells.columns) + r" \\",
        r"\midrule",
        *(" & ".join(escape(value) for value in values) + r" \\" for values in cells.to_numpy().tolist()),
        r"\bottomrule",
        r"\end{tabular}",
        rf"\par\footnotesize {escape(footnote(table, **notes))}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def to_html(table: pd.DataFrame, **notes) -> str:
    cells = text_cells(table)
    header = "".join(f"<th>{html.escape(name)}</th>" for name in cells.columns)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in values) + "</tr>"
                     for values in cells.to_numpy().tolist())
    return (
        f'<table class="mediation-table"><caption>{html.escape(TITLE)}</caption>\n'
        f"<thead><tr>{header}</tr></thead>\n<tbody>\n{body}\n</tbody>\n"
        f'<tfoot><tr><td colspan="{len(cells.columns)}">{html.escape(footnote(table, **notes))}'
        "</td></tr></tfoot>\n</table>\n"
    )


def to_csv(table: pd.DataFrame) -> str:
    """Full precision, one row per mediator."""
    return table.to_csv(index=False)


def headline_markdown(table: pd.DataFrame) -> str:
    """A few columns, short enough for the UI to show inline: a×b, its interval, the verdict,
    the paper's a×b and verdict."""
    lines = ["| M | a×b | bootstrap interval | Sobel p | verdict | paper: a×b, Sobel p |",
             "|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        verdict = str(row["verdict"] or MISSING)
        # the short verdict: the reasons are in the table
        verdict = "not estimable" if verdict.startswith("not estimable") else verdict.split(" (")[0]
        lines.append(
            f"| {display_name(row['mediator'])} | {reading_number(row['indirect_ab'])} | "
            f"{_interval(row['boot_ci_low_percentile'], row['boot_ci_high_percentile'])} | "
            f"{reading_p(row['sobel_p'])} | {verdict} | "
            f"{reading_number(row['paper_a_times_b'])}, {_paper_sobel(row)} |"
        )
    return "\n".join(lines)
