"""Regression tables in the paper's layout, rendered to Markdown, LaTeX, HTML and CSV.

One RegressionTable holds the cells; every format is rendered from the same cells:
a row per term with the coefficient and stars (* 10 %, ** 5 %, *** 1 %), the standard error
in parentheses on the row below, "absorbed" where the fixed effects absorb a term, then
rows for the province and year effects, the R² (labelled with which R²), and N; a model
whose identification is limited (FMA_tv's) gets an "Identification" row and a footnote.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.estimate import CONSTANT, R2_LABELS, ModelResult, stars
from analysis.specs import display_name

ABSORBED = "absorbed"
SE_DESCRIPTIONS = {
    "cluster": "clustered by province (reghdfe small-sample factor, t(G-1) tests)",
    "robust": "heteroskedasticity-robust",
    "driscoll_kraay": "Driscoll-Kraay (Bartlett kernel)",
    "wild_cluster_bootstrap": (
        "clustered by province; stars from wild cluster bootstrap p-values"
    ),
}
TABLE_GROUPS: dict[str, tuple[str, list[str]]] = {
    "table_1": ("Table 1: Benchmark regression results", ["1", "2"]),
    "table_2": ("Table 2: Robustness (IC2)", ["14", "15", "16", "17"]),
    "table_3": ("Table 3: Regional heterogeneity", ["3", "4", "5"]),
    "table_4": ("Table 4: Mediating effects", ["6", "7", "8", "9", "10", "11"]),
    "protectionism": ("New trade protectionism", ["2", "protectionism"]),
    "fma_time_varying": ("Transaction cost with time-varying FMA", ["6tv", "7tv"]),
}


@dataclass
class RegressionTable:
    """A side-by-side table of ModelResults.

    r2_kind: "within", "inclusive" or "overall"; the R² row says which.
    """

    results: list[ModelResult]
    title: str = ""
    r2_kind: str = "within"
    decimals: int = 3
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.r2_kind not in R2_LABELS:
            raise ValueError(f"r2_kind {self.r2_kind!r}: expected one of {list(R2_LABELS)}")
        if not self.results:
            raise ValueError("a RegressionTable needs at least one ModelResult")

    @property
    def column_headers(self) -> list[str]:
        return [f"Model {result.model_id}" for result in self.results]

    def terms(self) -> list[str]:
        """Every term of every model, in order of first appearance, constant last."""
        ordered: list[str] = []
        for result in self.results:
            for term in result.regressors:
                if term not in ordered:
                    ordered.append(term)
        return [*ordered, CONSTANT]

    def cells(self) -> pd.DataFrame:
        """The table as text cells: column "row" then one column per model."""
        rows: list[list[str]] = [["Dependent variable", *(display_name(r.dependent) for r in self.results)]]
        for term in self.terms():
            coefficient_row = [display_name(term)]
            error_row = [""]
            for result in self.results:
                coefficient, error = self._term_cells(result, term)
                coefficient_row.append(coefficient)
                error_row.append(error)
            rows.extend([coefficient_row, error_row])
        rows.append(["Province effects", *(_yes_no(r.entity_effects) for r in self.results)])
        rows.append(["Year effects", *(_yes_no(r.time_effects) for r in self.results)])
        rows.append([R2_LABELS[self.r2_kind], *(self._r2_cell(r) for r in self.results)])
        rows.append(["N", *(str(r.nobs) for r in self.results)])
        if any(result.identification for result in self.results):
            rows.append(["Identification", *(
                (result.identification.split(":")[0] + " (see note)") if result.identification else ""
                for result in self.results)])
        return pd.DataFrame(rows, columns=["row", *self.column_headers])

    def footnote(self) -> str:
        se_types = sorted({result.se_type for result in self.results})
        described = "; ".join(SE_DESCRIPTIONS.get(kind, kind) for kind in se_types)
        lines = [
            (
                "*** p<0.01, ** p<0.05, * p<0.10. Standard errors in parentheses: "
                f"{described}. {R2_LABELS[self.r2_kind]}. \"{ABSORBED}\": the fixed effects "
                "absorb the term, so it has no estimate."
            ),
            *self._identification_notes(),
            *self.notes,
        ]
        return " ".join(lines)

    def _identification_notes(self) -> list[str]:
        """One sentence per distinct identification caveat, naming the models it concerns."""
        by_text: dict[str, list[str]] = {}
        for result in self.results:
            if result.identification:
                by_text.setdefault(result.identification, []).append(f"Model {result.model_id}")
        return [f"{', '.join(models)}: {text}." for text, models in by_text.items()]

    def _term_cells(self, result: ModelResult, term: str) -> tuple[str, str]:
        if term in result.params.index:
            coefficient = f"{result.params[term]:.{self.decimals}f}{stars(result.pvalues[term])}"
            return coefficient, f"({result.std_errors[term]:.{self.decimals}f})"
        if term in result.absorbed or (term == CONSTANT and result.absorbed):
            return ABSORBED, ""
        return "", ""

    def _r2_cell(self, result: ModelResult) -> str:
        value = getattr(result, f"r2_{self.r2_kind}")
        return "" if pd.isna(value) else f"{value:.{self.decimals}f}"

    def to_markdown(self) -> str:
        from tabulate import tabulate

        cells = self.cells()
        body = tabulate(
            cells.to_numpy().tolist(), headers=list(cells.columns), tablefmt="pipe",
            disable_numparse=True,
        )
        title = f"**{self.title}**\n\n" if self.title else ""
        return f"{title}{body}\n\n{self.footnote()}\n"

    def to_latex(self) -> str:
        cells = self.cells()
        lines = [
            r"\begin{table}[htbp]\centering",
            *([rf"\caption{{{_latex_escape(self.title)}}}"] if self.title else []),
            rf"\begin{{tabular}}{{l{'c' * len(self.results)}}}",
            r"\toprule",
            " & ".join(["", *map(_latex_escape, self.column_headers)]) + r" \\",
            r"\midrule",
        ]
        for index, values in enumerate(cells.to_numpy().tolist()):
            if values[0] == "Province effects":
                lines.append(r"\midrule")
            lines.append(" & ".join(_latex_cell(value) for value in values) + r" \\")
            if index == 0:
                lines.append(r"\midrule")
        lines += [
            r"\bottomrule",
            r"\end{tabular}",
            rf"\par\footnotesize {_latex_escape(self.footnote())}",
            r"\end{table}",
        ]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        cells = self.cells()
        header = "".join(f"<th>{html.escape(name)}</th>" for name in ["", *self.column_headers])
        body = "\n".join(
            "<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in values) + "</tr>"
            for values in cells.to_numpy().tolist()
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (
            f'<table class="regression-table">{caption}\n<thead><tr>{header}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody>\n"
            f'<tfoot><tr><td colspan="{len(self.results) + 1}">{html.escape(self.footnote())}'
            "</td></tr></tfoot>\n</table>\n"
        )

    def to_csv(self, path: str | Path | None = None) -> str:
        """The cells as CSV text; also written to `path` when given."""
        text = self.cells().to_csv(index=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def paper_tables(
    results: dict[str, ModelResult], *, r2_kind: str = "within"
) -> dict[str, RegressionTable]:
    """The paper's Tables 1-4 plus the protectionism and FMA_tv tables, from what was fitted."""
    tables = {}
    for key, (title, model_ids) in TABLE_GROUPS.items():
        chosen = [results[model_id] for model_id in model_ids if model_id in results]
        if chosen:
            tables[key] = RegressionTable(chosen, title=title, r2_kind=r2_kind)
    return tables


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}", "\\": r"\textbackslash{}"}


def _latex_escape(text: str) -> str:
    escaped = "".join(_LATEX_SPECIAL.get(character, character) for character in str(text))
    return escaped.replace("×", r"$\times$").replace("²", r"$^2$")


def _latex_cell(value: str) -> str:
    """Stars as superscripts; everything else escaped."""
    text = str(value)
    stripped = text.rstrip("*")
    star_count = len(text) - len(stripped)
    if star_count and stripped:
        return f"{_latex_escape(stripped)}$^{{{'*' * star_count}}}$"
    return _latex_escape(text)
