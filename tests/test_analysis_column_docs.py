"""Every column of the analysis tables has its comment in analysis/column_docs.py (one place),
and the comments cite the project's own docs."""

from pathlib import Path

from analysis.column_docs import COLUMN_COMMENTS, ESTIMATE_HISTORY_COLUMNS, comment_statements
from analysis.compare import COMPARISON_COLUMNS
from analysis.mediation import MEDIATION_COLUMNS
from analysis.run import ESTIMATE_COLUMNS, FIT_COLUMNS
from orchestration.defs.analysis import ANALYSIS_TABLES

REPO = Path(__file__).resolve().parents[1]


def test_every_column_list_has_exactly_its_comments():
    lists = {"estimates": ESTIMATE_COLUMNS, "fit": FIT_COLUMNS, "mediation": MEDIATION_COLUMNS,
             "comparison": COMPARISON_COLUMNS, "estimate_history": ESTIMATE_HISTORY_COLUMNS}
    assert set(COLUMN_COMMENTS) == set(lists) and set(ANALYSIS_TABLES) <= set(COLUMN_COMMENTS)
    for table, columns in lists.items():
        assert list(COLUMN_COMMENTS[table]) == list(columns), table
        assert all(text.strip() for text in COLUMN_COMMENTS[table].values()), table


def test_comment_statements_quote_and_cite_docs_inside_the_repo():
    statements = comment_statements("fit")
    assert len(statements) == len(FIT_COLUMNS)
    assert statements[0].startswith('COMMENT ON COLUMN analysis.fit."model_id" IS \'')
    cited = {word.strip("(),;.") for table in COLUMN_COMMENTS.values() for text in table.values()
             for word in text.split() if word.startswith("docs/")}
    assert cited == {"docs/methods.md"}
    assert all((REPO / path).is_file() for path in cited)


def test_rows_of_models_not_estimable_have_every_documented_column():
    """A run in which no model is estimable still writes every column (the real first edition)."""
    from analysis.availability import not_estimable_estimates, not_estimable_fit
    from analysis.specs import get_spec

    spec = get_spec("7tv")
    assert list(not_estimable_estimates(spec, "not estimable: x")[ESTIMATE_COLUMNS].columns) == ESTIMATE_COLUMNS
    assert set(not_estimable_fit(spec, "not estimable: x")) == set(FIT_COLUMNS)
    assert not_estimable_fit(spec, "x")["identification"] == spec.identification != ""
