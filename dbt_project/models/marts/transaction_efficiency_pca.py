"""The transaction-efficiency PCA's statistics in long form: eigenvalues, explained variance,
which components the index retains and their weights, loadings, eigenvectors, KMO and
Bartlett's sphericity test."""

import pandas as pd

from provpanel.measures.pca import pca_summary_long, te_inputs_suffice, transaction_efficiency_pca


def model(dbt, session):
    dbt.config(materialized="table")
    prepared = dbt.ref("int_transaction_efficiency_inputs_prepared").df()
    if not te_inputs_suffice(prepared):
        # no PCA without its inputs (marts.variable_availability says which are missing)
        summary = pd.DataFrame({"statistic": pd.Series(dtype="string"), "component": pd.Series(dtype="string"),
                                "variable": pd.Series(dtype="string"), "value": pd.Series(dtype="float64")})
        return summary
    _, result = transaction_efficiency_pca(prepared)
    summary = pca_summary_long(result)
    summary["component"] = summary["component"].astype("string")
    summary["variable"] = summary["variable"].astype("string")
    return summary
