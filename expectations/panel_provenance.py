"""Where a failing panel value came from: the edition and file of each input the panel used.

A panel-suite failure points at a (province, year) row and a variable; the person fixing it
needs the download behind it. The panel's inputs are the values the vintage policy chose
(intermediate.int_indicators_resolved_to_edition), one per province-year-indicator; the
variable's inputs are lookups.model_variable_inputs.
"""

from __future__ import annotations

from expectations.gx_runner import SuiteOutcome
from expectations.panel_suite import MODEL_VARIABLES
from provpanel.number_text import readable_number

# the derived columns of expectations.panel_suite.prepare_panel_frame, by the variable they test
_DERIVED_SUFFIXES = ("_yoy_median_ratio", "_yoy_ratio", "_null_without_missing_input",
                     "_gdp_weighted_mean", "_is_filled_share")


def _shown(value):
    """A float for reading (7 significant digits: 9.5, not 9.500000000000002); others as they are."""
    return readable_number(value, 7) if isinstance(value, float) else value


def checked_variable(column: str | None) -> tuple[str | None, bool]:
    """(the model variable a checked column is about, whether the check compares with the year
    before); (None, False) for a check of the whole table."""
    if column is None:
        return None, False
    for suffix in _DERIVED_SUFFIXES:
        if column.endswith(suffix):
            return column[: -len(suffix)], "yoy" in suffix
    return (column, False) if column in MODEL_VARIABLES else (None, False)


# panel columns checked that are neither a model variable nor a catalog indicator
_PANEL_COLUMN_INPUTS = {"trade_cny": ["exports", "imports", "trade_total"]}


def _input_indicators(con, variable: str) -> list[str]:
    """The indicators a panel column is computed from: a model variable's inputs
    (lookups.model_variable_inputs), else the column itself when it is an indicator."""
    if variable in _PANEL_COLUMN_INPUTS:
        return _PANEL_COLUMN_INPUTS[variable]
    inputs = [r[0] for r in con.execute(
        "SELECT indicator FROM lookups.model_variable_inputs WHERE variable = ? ORDER BY indicator",
        [variable]).fetchall()]
    return inputs or [variable]


def _inputs(con, indicators: list[str], province: str, years: list[int]) -> list[tuple]:
    return con.execute(
        """SELECT year, indicator, edition, file FROM intermediate.int_indicators_resolved_to_edition
           WHERE indicator IN (SELECT unnest(?::VARCHAR[])) AND province_code = ?
             AND year IN (SELECT unnest(?::INTEGER[]))
           ORDER BY year, indicator""",
        [indicators, province, years],
    ).fetchall()


def failing_cell_lines(outcome: SuiteOutcome, con, limit: int = 5) -> list[str]:
    """One line per failing panel row (the first `limit` of each failed check): province, year,
    the checked column and its value, and the edition/file of every input the panel took for
    it (for a year-on-year check, of that year and the one before). `con`: the working
    warehouse."""
    lines = []
    for failure in outcome.failures:
        variable, with_year_before = checked_variable(failure.column)
        if variable is None or not failure.failing_rows:  # a check of the whole table: as it is
            rows = "; ".join(", ".join(f"{k}={_shown(v)}" for k, v in row.items()) for row in failure.failing_rows[:5])
            lines.append(f"{failure.expectation}({failure.column or ''}): {failure.unexpected_count} rows "
                         f"{rows or failure.details}")
            continue
        for row in failure.failing_rows[:limit]:  # per check: every failed check is shown
            province, year = row.get("province_code"), row.get("year")
            if province is None or year is None:
                continue
            years = [int(year) - 1, int(year)] if with_year_before else [int(year)]
            inputs = _inputs(con, _input_indicators(con, variable), str(province), years)
            sources = "; ".join(
                f"{indicator}{f' {input_year}' if with_year_before else ''} from {edition}/{file}"
                for input_year, indicator, edition, file in inputs
            ) or "no stored input (interpolated or missing)"
            lines.append(f"province_code={province}, year={year}, {failure.column}={_shown(row.get(failure.column))} "
                         f"({failure.expectation}); inputs: {sources}")
        if failure.unexpected_count > limit:
            lines.append(f"... {failure.unexpected_count - limit} more rows fail {failure.column}")
    return lines
