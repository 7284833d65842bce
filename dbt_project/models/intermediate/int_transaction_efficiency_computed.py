"""Transaction efficiency TE per province-year: the PCA index of the four per-capita inputs
(provpanel.measures.pca holds the computation; this model only moves data)."""

from provpanel.measures.pca import transaction_efficiency_pca


def model(dbt, session):
    dbt.config(materialized="table")
    inputs, result = transaction_efficiency_pca(dbt.ref("int_transaction_efficiency_inputs_prepared").df())
    output = inputs[["province_code", "year", "te_is_filled"]].copy()
    output["year"] = output["year"].astype("int32")
    output["te"] = result.index.astype(float)
    return output[["province_code", "year", "te", "te_is_filled"]]
