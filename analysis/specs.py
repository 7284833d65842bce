"""The paper's models as data: one frozen ModelSpec per published model.

Numbering follows Xu & Zhao. The published tables hold Models 1-11 and 14-17; Models 12 and
13 do not appear anywhere in the paper (Table 4 ends at Model 11, Table 2 starts at Model
14), so they are not defined here. The protectionism model is described in the paper's text
but has no published table.

Derived terms are named, not computed, in a spec: `<var>_x_p<YYYY>` means
var × P_t with P_t = 1{year >= YYYY} and is built by `design_column`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

# Defined below the settings, which offer them (provpanel.analysis_defaults).
from provpanel.analysis_defaults import DEFAULT_BREAK_YEAR, SE_TYPES

CONTROLS: tuple[str, ...] = ("cx", "hum", "fdi", "gov", "inf")
SAMPLES: tuple[str, ...] = ("all", "east", "central", "west")

DISPLAY_NAMES: dict[str, str] = {
    "tu": "TU",
    "ic": "IC",
    "ic2": "IC2",
    "cx": "CX",
    "hum": "HUM",
    "fdi": "FDI",
    "gov": "GOV",
    "inf": "INF",
    "fma": "FMA",
    "fma_tv": "FMA_tv",
    "te": "TE",
    "ks": "KS",
    "const": "Constant",
}

_POST_INTERACTION = re.compile(r"^(?P<base>[a-z0-9_]+?)_x_p(?P<year>\d{4})$")


@dataclass(frozen=True)
class ModelSpec:
    """One regression: `dependent` on `regressors` (a constant is always added).

    model_id     the paper's model number as text ("1".."17"), or a name for extra models
    table        the paper's table number, None when the paper prints no table for it
    sample       "all", "east", "central" or "west"
    se_type      default standard errors: one of SE_TYPES
    identification  what limits the model's identification, stated beside its estimates
                 (tables, analysis.fit); "" when nothing is to be said
    """

    model_id: str
    table: int | None
    dependent: str
    regressors: tuple[str, ...]
    sample: str
    entity_effects: bool
    time_effects: bool
    se_type: str
    label: str
    identification: str = ""


def _spec(model_id, table, dependent, regressors, sample, time_effects, label,
          identification: str = "") -> ModelSpec:
    return ModelSpec(
        model_id=str(model_id),
        table=table,
        dependent=dependent,
        regressors=tuple(regressors),
        sample=sample,
        entity_effects=True,
        time_effects=time_effects,
        se_type="cluster",
        label=label,
        identification=identification,
    )


def protectionism_model(break_year: int = DEFAULT_BREAK_YEAR) -> ModelSpec:
    """Model 2 plus IC × P_t and CX × P_t, P_t = 1{year >= break_year}, two-way effects.

    P_t itself is a function of the year alone, so the year effects absorb it and it is not
    a regressor.
    """
    interactions = (f"ic_x_p{break_year}", f"cx_x_p{break_year}")
    return _spec(
        "protectionism", None, "tu", ("ic", *CONTROLS, *interactions), "all", True,
        f"Protectionism: IC and CX interacted with P_t = 1{{year >= {break_year}}}",
    )


def _paper_models() -> list[ModelSpec]:
    base = ("ic", *CONTROLS)
    robustness = ("ic2", *CONTROLS)
    models = [
        _spec(1, 1, "tu", ("ic",), "all", True, "Baseline, IC only"),
        _spec(2, 1, "tu", base, "all", True, "Baseline with controls"),
        _spec(3, 3, "tu", base, "east", True, "East"),
        _spec(4, 3, "tu", base, "central", True, "Central"),
        _spec(5, 3, "tu", base, "west", True, "West"),
        _spec(6, 4, "fma", base, "all", False, "Mediator FMA (transaction cost), eq. 3"),
        _spec(7, 4, "tu", (*base, "fma"), "all", False, "TU with FMA, eq. 4"),
        _spec(8, 4, "te", base, "all", False, "Mediator TE (transaction efficiency), eq. 3"),
        _spec(9, 4, "tu", (*base, "te"), "all", False, "TU with TE, eq. 4"),
        _spec(10, 4, "ks", base, "all", False, "Mediator KS (knowledge spillover), eq. 3"),
        _spec(11, 4, "tu", (*base, "ks"), "all", False, "TU with KS, eq. 4"),
        _spec(14, 2, "tu", robustness, "all", True, "Robustness: IC2, all"),
        _spec(15, 2, "tu", robustness, "east", True, "Robustness: IC2, east"),
        _spec(16, 2, "tu", robustness, "central", True, "Robustness: IC2, central"),
        _spec(17, 2, "tu", robustness, "west", True, "Robustness: IC2, west"),
    ]
    return models


PAPER_MODELS: list[ModelSpec] = [*_paper_models(), protectionism_model()]

# Not in the paper: Models 6 and 7 with the time-varying FMA, which province effects do not
# absorb (its identification rests on the national yearly index alone: weak).
FMA_TV_IDENTIFICATION = (
    "weakly identified: FMA_tv varies within a province only through one national yearly "
    "index (static FMA x the exchange rate relative to the first year), so its within "
    "variation is a single national series scaled by each province's FMA"
)
VARIANT_MODELS: list[ModelSpec] = [
    _spec("6tv", None, "fma_tv", ("ic", *CONTROLS), "all", False,
          "Mediator FMA_tv (time-varying variant), eq. 3", FMA_TV_IDENTIFICATION),
    _spec("7tv", None, "tu", ("ic", *CONTROLS, "fma_tv"), "all", False,
          "TU with FMA_tv, eq. 4", FMA_TV_IDENTIFICATION),
]


def paper_models(break_year: int = DEFAULT_BREAK_YEAR) -> list[ModelSpec]:
    """PAPER_MODELS with the protectionism break year set."""
    return [*_paper_models(), protectionism_model(break_year)]


def get_spec(model_id: str, break_year: int = DEFAULT_BREAK_YEAR) -> ModelSpec:
    for spec in [*paper_models(break_year), *VARIANT_MODELS]:
        if spec.model_id == str(model_id):
            return spec
    raise KeyError(f"no model {model_id!r}; known: 1-11, 14-17, protectionism, 6tv, 7tv")


def mediator_of(spec: ModelSpec) -> str | None:
    """The mediator in an eq.-4 model (the regressor beyond IC and the controls), else None."""
    extra = [name for name in spec.regressors if name not in ("ic", "ic2", *CONTROLS)]
    if spec.dependent == "tu" and len(extra) == 1 and "_x_p" not in extra[0]:
        return extra[0]
    return None


def source_columns(name: str) -> list[str]:
    """Panel columns a (possibly derived) term is built from."""
    match = _POST_INTERACTION.match(name)
    if match:
        return [match.group("base"), "year"]
    return [name]


def design_column(panel: pd.DataFrame, name: str) -> pd.Series:
    """The values of term `name` on `panel`, building derived interaction terms."""
    match = _POST_INTERACTION.match(name)
    if match:
        post = (panel["year"].astype(int) >= int(match.group("year"))).astype(float)
        return panel[match.group("base")].astype(float) * post
    return panel[name].astype(float)


def display_name(term: str) -> str:
    """The paper's upper-case name of a term (IC, CX, ..., IC × P(2018))."""
    match = _POST_INTERACTION.match(term)
    if match:
        base = DISPLAY_NAMES.get(match.group("base"), match.group("base").upper())
        return f"{base} × P({match.group('year')})"
    return DISPLAY_NAMES.get(term, term.upper())


def is_post_interaction(term: str) -> bool:
    return bool(_POST_INTERACTION.match(term))


__all__ = [
    "CONTROLS",
    "DEFAULT_BREAK_YEAR",
    "DISPLAY_NAMES",
    "PAPER_MODELS",
    "SAMPLES",
    "SE_TYPES",
    "VARIANT_MODELS",
    "ModelSpec",
    "design_column",
    "display_name",
    "get_spec",
    "mediator_of",
    "paper_models",
    "protectionism_model",
    "source_columns",
]
