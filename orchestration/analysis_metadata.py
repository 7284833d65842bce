"""The analysis results as Dagster metadata a reader takes in at a glance.

The UI shows a Markdown entry under 1,000 characters inline (longer ones behind a click), and
text / float entries inline; tables go in as Dagster table metadata with a few named columns,
not the whole frame. On a partial panel a headline model may not be estimable: the headline
says so and why.
"""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from provpanel.number_text import MISSING, is_missing, rounded

HEADLINE_MODELS = ("1", "2")
HEADLINE_TERM = "ic"
KEY_TERMS = ("ic", "ic2")
MAX_TABLE_ROWS = 60
READING_DIGITS = 4  # significant digits of a float in a metadata table (0.7694, not 0.769412853301...)


def _columns(table: str) -> dict[str, tuple[str, str]]:
    """Columns of a metadata table, one a line: name, Dagster type, description (separated by |)."""
    rows = (line.split("|") for line in table.strip().splitlines())
    return {name.strip(): (kind.strip(), text.strip()) for name, kind, text in rows}


ESTIMATE_TABLE_COLUMNS = _columns("""
model_id  | string | Model, as numbered in the paper
label     | string | What the model is
term      | string | Regressor
estimate  | float  | Coefficient
std_error | float  | Cluster-robust standard error
p_value   | float  | p value
stars     | string | * p<0.1, ** p<0.05, *** p<0.01
status    | string | estimated, absorbed or not estimable
""")

FIT_TABLE_COLUMNS = _columns("""
model_id             | string | Model, as numbered in the paper
label                | string | What the model is
sample               | string | Provinces in the sample
nobs                 | int    | Observations (N)
n_clusters           | int    | Provinces (clusters)
r2_within            | float  | Within R² (fixed effects removed)
estimable            | bool   | False: a variable lacks an input (see not_estimable_reason)
not_estimable_reason | string | Why the model was not fitted
""")

COMPARISON_TABLE_COLUMNS = _columns("""
model_id           | string | Model, as numbered in the paper
term               | string | Regressor
published_coef     | float  | The paper's coefficient
published_stars    | string | The paper's stars
estimate           | float  | Ours
stars              | string | Our stars
sign_agree         | bool   | Same sign as the paper
significance_agree | bool   | Same significance level as the paper
""")

MEDIATION_TABLE_COLUMNS = _columns("""
mediator    | string | Mediator (channel)
nobs        | int    | Observations (N)
a           | float  | Path a: IC on the mediator
b           | float  | Path b: the mediator on TU, given IC
c           | float  | Path c: IC on TU (total effect)
c_prime     | float  | Path c': IC on TU given the mediator (direct effect)
indirect_ab | float  | Indirect effect a*b
sobel_p     | float  | Sobel test p value
verdict     | string | What the paths say
""")


def _number(value, digits: int = 3) -> str:
    if is_missing(value):
        return MISSING
    return f"{value:.{digits}f}"


def _model_sort_key(model_id: str) -> tuple:
    head = "".join(ch for ch in str(model_id) if ch.isdigit())
    return (0, int(head), str(model_id)) if head else (1, 0, str(model_id))


def headline(estimates: pd.DataFrame, fit: pd.DataFrame, *, models=HEADLINE_MODELS,
             term: str = HEADLINE_TERM) -> tuple[str, dict[str, float]]:
    """A small Markdown table of `term` in each of `models` (coefficient, SE, N, within R²),
    and the same numbers as floats keyed like `ic_model_1`. A model that was not estimated
    gets a row saying so (with the reason) and no floats."""
    lines = [f"| Model | {term.upper()} | SE | N | R² within |", "|---|---|---|---|---|"]
    values: dict[str, float] = {}
    notes = []
    for model_id in models:
        fit_row = fit[fit["model_id"].astype(str) == model_id]
        row = estimates[(estimates["model_id"].astype(str) == model_id) & (estimates["term"] == term)]
        estimate = row["estimate"].iloc[0] if len(row) else None
        estimated = len(fit_row) and bool(fit_row["estimable"].iloc[0]) and estimate is not None \
            and not pd.isna(estimate)
        if not estimated:
            reason = None
            for frame in (fit_row, row):
                if len(frame) and "not_estimable_reason" in frame and pd.notna(frame["not_estimable_reason"].iloc[0]):
                    reason = str(frame["not_estimable_reason"].iloc[0])
                    break
            lines.append(f"| {model_id} | not estimable | {MISSING} | {MISSING} | {MISSING} |")
            notes.append(f"Model {model_id}: {reason or 'not estimated on this panel'}")
            continue
        std_error = row["std_error"].iloc[0]
        stars = row["stars"].iloc[0] if "stars" in row and pd.notna(row["stars"].iloc[0]) else ""
        nobs = int(fit_row["nobs"].iloc[0])
        r2 = fit_row["r2_within"].iloc[0]
        lines.append(f"| {model_id} | {_number(estimate)}{stars} | {_number(std_error)} | {nobs} | {_number(r2)} |")
        values.update({f"{term}_model_{model_id}": float(estimate), f"{term}_se_model_{model_id}": float(std_error),
                       f"n_model_{model_id}": float(nobs)})
        if not pd.isna(r2):
            values[f"r2_within_model_{model_id}"] = float(r2)
    text = "\n".join(lines)
    if notes:
        full = text + "\n\n" + "\n".join(f"- {note}" for note in notes)
        # the UI shows Markdown in place only under 1,000 characters: past that, the variables each
        # model lacks, and where the whole reasons are
        text = full if len(full) < UI_INLINE_MARKDOWN else text + "\n\n" + "\n".join(
            [f"- {_lacking(note)}" for note in notes]
            + ["- why, and what to fetch: the coverage report"])  # reports/coverage, `provpanel coverage`
    return text, values


UI_INLINE_MARKDOWN = 1000  # Dagster's UI puts longer Markdown metadata behind "[Show Markdown]"


def _lacking(note: str) -> str:
    """'Model 2: not estimable: TU: x has ...; IC: y has ...' as 'Model 2: lacks TU, IC' (the
    variables, upper-case names, lead each part of the reason)."""
    import re

    model, _, reason = note.partition(": ")
    variables = re.findall(r"(?:^|; )(?:not estimable: )?([A-Z][A-Za-z0-9_]*): ", reason)
    return f"{model}: lacks {', '.join(dict.fromkeys(variables))}" if variables else note


def _cell(value, kind: str):
    if value is None or (not isinstance(value, str | bool) and pd.isna(value)):
        return None
    if kind == "float":  # rounded for reading: the table in the warehouse keeps full precision
        return rounded(float(value), READING_DIGITS)
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def frame_table(frame: pd.DataFrame, columns: dict[str, tuple[str, str]],
                max_rows: int = MAX_TABLE_ROWS) -> MetadataValue:
    """A Dagster table of the named columns (those the frame has), models in the paper's order."""
    present = {name: spec for name, spec in columns.items() if name in frame.columns}
    ordered = frame
    if "model_id" in frame.columns:
        ordered = frame.iloc[sorted(range(len(frame)), key=lambda i: _model_sort_key(frame["model_id"].iloc[i]))]
    records = [
        TableRecord({name: _cell(row[name], kind) for name, (kind, _) in present.items()})
        for _, row in ordered.head(max_rows).iterrows()
    ]
    schema = TableSchema(columns=[TableColumn(name=name, type=kind, description=text)
                                  for name, (kind, text) in present.items()])
    return MetadataValue.table(records=records, schema=schema)


def analysis_metadata(name: str, results, *, settings_line: str) -> dict:
    """Metadata of one analysis table (estimates, fit, mediation, comparison): the headline
    first, then the readable tables, then the counts."""
    metadata: dict = {}
    if name in ("estimates", "fit"):
        text, values = headline(results.estimates, results.fit)
        metadata["headline"] = MetadataValue.md(text)
        # rounded for reading like the tables' cells (analysis.estimates keeps full precision)
        metadata.update({key: MetadataValue.float(rounded(value, READING_DIGITS)) for key, value in values.items()})
    if name == "estimates":
        key_rows = results.estimates[results.estimates["term"].isin(KEY_TERMS)]
        metadata["key_terms"] = frame_table(key_rows, ESTIMATE_TABLE_COLUMNS)
    if name == "fit":
        metadata["models"] = frame_table(results.fit, FIT_TABLE_COLUMNS)
    if name == "mediation":
        from analysis.mediation_table import headline_markdown

        # a×b, its interval and verdict beside the paper's: the mechanism at a glance
        metadata["headline"] = MetadataValue.md(headline_markdown(results.mediation_table()))
        metadata["paths"] = frame_table(results.mediation, MEDIATION_TABLE_COLUMNS)
    if name == "comparison":
        key_rows = results.comparison[results.comparison["term"].isin(KEY_TERMS)] \
            if "term" in results.comparison else results.comparison
        metadata["key_terms_vs_paper"] = frame_table(key_rows, COMPARISON_TABLE_COLUMNS)
    metadata["rows"] = MetadataValue.int(len(getattr(results, name)))
    metadata["settings"] = MetadataValue.text(settings_line)
    return metadata
