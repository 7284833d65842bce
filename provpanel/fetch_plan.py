"""What to fetch next: which missing inputs stop which models, and the fewest that would let
them be estimated.

A model is stopped by its variables that are null on its sample; a null variable in a year is
explained by the inputs it lacks that year (marts.panel_input_cells, fill_method 'missing', on
any panel province: an input is fetched for every province at once). What a variable needs is
the seed lookups.model_variable_inputs: every input, except where the panel takes one of
several options (ALTERNATIVE_INPUTS: TU the trade total, or exports and imports; TE one freight
series), where one option whole is enough. Fetching an indicator is taken to fill every year
it lacks. A variable null although none of its inputs is missing (a corrupt input, an input the
seed does not list) cannot be fixed by fetching: such a model is never unlocked.

The smallest set is exact: every indicator a model cannot do without is taken, then subsets of
the rest (only alternatives can be left, a handful) are tried by size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import pandas as pd


@dataclass(frozen=True)
class VariableNeeds:
    """What one model variable needs: every `required` input and, of each group of `choices`,
    every input of one option."""

    required: frozenset[str]
    choices: tuple[tuple[frozenset[str], ...], ...] = ()

    @property
    def inputs(self) -> frozenset[str]:
        return self.required.union(*(option for options in self.choices for option in options))

    def met(self, missing: Iterable[str]) -> bool:
        """True when the inputs `missing` do not stop the variable."""
        missing = set(missing)
        return not (self.required & missing) and all(
            any(not (option & missing) for option in options) for options in self.choices)


# Inputs a variable can do without when another option is whole, as marts.province_year_panel
# computes it: TU takes the trade total or exports + imports (int_trade_chosen_for_tu), TE any
# one freight series. Every other input of lookups.model_variable_inputs is needed.
ALTERNATIVE_INPUTS: dict[str, tuple[frozenset[str], ...]] = {
    "tu": (frozenset({"trade_total"}), frozenset({"exports", "imports"})),
    "te": (frozenset({"freight_road"}), frozenset({"freight_water"}), frozenset({"freight_air"})),
}


def variable_needs(rows: pd.DataFrame) -> dict[str, VariableNeeds]:
    """The needs of each variable from the rows (variable, indicator) of lookups.model_variable_inputs."""
    needs: dict[str, VariableNeeds] = {}
    for variable, group in rows.groupby("variable", sort=True):
        inputs = frozenset(group["indicator"])
        options = tuple(option & inputs for option in ALTERNATIVE_INPUTS.get(variable, ()) if option & inputs)
        optional = frozenset().union(*options)
        needs[variable] = VariableNeeds(inputs - optional, (options,) if options else ())
    return needs


@dataclass(frozen=True)
class ModelObstacles:
    """What stops one model: (variable, inputs missing in a year where it is null) pairs, and
    the variables whose nulls no fetch explains."""

    model_id: str
    obstacles: frozenset[tuple[str, frozenset[str]]]
    unfixable: tuple[str, ...]

    @property
    def estimable(self) -> bool:
        return not self.obstacles and not self.unfixable

    @property
    def candidates(self) -> frozenset[str]:
        return frozenset().union(*(missing for _, missing in self.obstacles))

    def estimable_with(self, fetched: Iterable[str], needs: Mapping[str, VariableNeeds]) -> bool:
        fetched = set(fetched)
        return not self.unfixable and all(needs[variable].met(missing - fetched)
                                          for variable, missing in self.obstacles)


def model_obstacles(panel: pd.DataFrame, specs, needs: Mapping[str, VariableNeeds],
                    missing_cells: pd.DataFrame) -> list[ModelObstacles]:
    """The obstacles of each model of `specs` on `panel`; `missing_cells`: province_code, year,
    indicator of the panel's input cells without a value (marts.panel_input_cells)."""
    from analysis.availability import sample_rows, spec_columns

    missing_by_year = missing_cells.groupby("year")["indicator"].agg(frozenset).to_dict()
    result = []
    for spec in specs:
        rows = sample_rows(panel, spec.sample)
        obstacles, unfixable = set(), []
        for column in spec_columns(spec):
            if column not in panel.columns:
                unfixable.append(column)
                continue
            variable_needs_ = needs.get(column, VariableNeeds(frozenset()))
            for year in sorted(set(rows.loc[rows[column].isna(), "year"])):
                missing = variable_needs_.inputs & missing_by_year.get(year, frozenset())
                if variable_needs_.met(missing):
                    unfixable.append(column)
                    break
                obstacles.add((column, frozenset(missing)))
        result.append(ModelObstacles(spec.model_id, frozenset(obstacles), tuple(unfixable)))
    return result


def smallest_fetch(models: list[ModelObstacles], needs: Mapping[str, VariableNeeds],
                   cost: Mapping[str, int]) -> list[str] | None:
    """The fewest indicators whose fetch makes every model of `models` estimable ([] when they
    are; None when no fetch can). Among sets of one size: the fewest missing province-years
    (`cost`), then the names in alphabetical order."""
    if any(model.unfixable for model in models):
        return None
    candidates = frozenset().union(*(model.candidates for model in models))

    def works(fetched) -> bool:
        return all(model.estimable_with(fetched, needs) for model in models)

    if not works(candidates):
        return None
    forced = {name for name in candidates if not works(candidates - {name})}  # in every solution
    rest = sorted(candidates - forced)
    for size in range(len(rest) + 1):
        found = [sorted(forced.union(extra)) for extra in combinations(rest, size) if works(forced.union(extra))]
        if found:
            return min(found, key=lambda names: (sum(cost.get(name, 0) for name in names), names))
    return None  # unreachable: `candidates` works


def unlock_counts(models: list[ModelObstacles], needs: Mapping[str, VariableNeeds],
                  cost: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Per indicator: in how many not-estimable models' smallest fetch it is (what it helps
    unlock), and how many models fetching it alone makes estimable."""
    in_smallest: dict[str, int] = {}
    alone: dict[str, int] = {}
    stopped = [model for model in models if not model.estimable and not model.unfixable]
    for model in stopped:
        for name in smallest_fetch([model], needs, cost) or []:
            in_smallest[name] = in_smallest.get(name, 0) + 1
        for name in model.candidates:
            if model.estimable_with({name}, needs):
                alone[name] = alone.get(name, 0) + 1
    return in_smallest, alone
