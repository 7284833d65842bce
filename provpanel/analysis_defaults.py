"""The analysis's defaults and allowed values that are also settings, defined once, below both:
provpanel.settings offers them (defaults, choices) without importing the analysis, which is a
later stage, and analysis/ takes them as its keyword defaults."""

from __future__ import annotations

# Standard errors of every model and mediation path (analysis.estimate.fit_model).
SE_TYPES: tuple[str, ...] = ("cluster", "robust", "driscoll_kraay", "wild_cluster_bootstrap")
# First year of the protectionism period, P_t = 1{year >= break_year} (analysis.specs).
DEFAULT_BREAK_YEAR = 2018
# The wild cluster bootstrap (analysis.bootstrap): Webb's six-point weights suit few clusters.
WEIGHT_TYPES: tuple[str, ...] = ("webb", "rademacher")
DEFAULT_WEIGHTS = "webb"
DEFAULT_REPS = 999
DEFAULT_SEED = 20240101
# The terms whose wild bootstrap p-value every model reports by default (whatever se_type):
# the paper's key regressors. Cheap: one restricted refit per term.
DEFAULT_TERMS: tuple[str, ...] = ("ic", "ic2")
# Draws of the province-block bootstrap of the indirect effects (analysis.mediation).
DEFAULT_MEDIATION_REPS = 499
# Which R² the regression tables print; analysis.estimate.R2_LABELS labels each.
R2_KINDS: tuple[str, ...] = ("within", "inclusive", "overall")
