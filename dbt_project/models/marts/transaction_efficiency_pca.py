"""The transaction-efficiency PCA's statistics in long form: eigenvalues, explained variance,
which components the index retains and their weights, loadings, eigenvectors, KMO and
Bartlett's sphericity test."""

from provpanel.measures.pca import pca_summary_long, transaction_efficiency_pca


def model(dbt, session):
    dbt.config(materialized="table")
    _, result = transaction_efficiency_pca(dbt.ref("int_transaction_efficiency_inputs_prepared").df())
    summary = pca_summary_long(result)
    summary["component"] = summary["component"].astype("string")
    summary["variable"] = summary["variable"].astype("string")
    return summary
