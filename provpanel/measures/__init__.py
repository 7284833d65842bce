"""Pure-Python measures of the panel (no dbt, no Dagster): called from dbt Python models."""

from provpanel.measures.pca import (
    PcaResult,
    bartlett_sphericity,
    kmo,
    pca_summary_long,
    principal_component_index,
)

__all__ = ["PcaResult", "bartlett_sphericity", "kmo", "pca_summary_long", "principal_component_index"]
