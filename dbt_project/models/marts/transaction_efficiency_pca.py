"""The transaction-efficiency PCA's statistics in long form: eigenvalues, explained variance,
which components the index retains and their weights, loadings, eigenvectors, KMO and
Bartlett's sphericity test."""

from provpanel.measures.pca import pca_summary_long, principal_component_index

TE_INPUT_COLUMNS = [
    "mobile_users_per_capita",
    "internet_users_per_capita",
    "urban_road_area_per_capita",
    "freight_per_capita",
]


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt.ref("int_transaction_efficiency_inputs_prepared").df()
    inputs = inputs.sort_values(["province_code", "year"]).reset_index(drop=True)
    summary = pca_summary_long(principal_component_index(inputs[TE_INPUT_COLUMNS]))
    summary["component"] = summary["component"].astype("string")
    summary["variable"] = summary["variable"].astype("string")
    return summary
