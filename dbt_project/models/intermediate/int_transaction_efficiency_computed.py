"""Transaction efficiency TE per province-year: the PCA index of the four per-capita inputs
(provpanel.measures.pca holds the computation; this model only moves data)."""

import numpy as np

from provpanel.measures.pca import te_inputs_suffice, transaction_efficiency_pca


def model(dbt, session):
    dbt.config(materialized="table")
    prepared = dbt.ref("int_transaction_efficiency_inputs_prepared").df()
    if te_inputs_suffice(prepared):
        inputs, result = transaction_efficiency_pca(prepared)
        index = result.index.astype(float)
    else:
        # too few province-years with every input (an input has no observations): TE is missing
        inputs, index = prepared.sort_values(["province_code", "year"]).reset_index(drop=True), np.nan
    output = inputs[["province_code", "year", "te_is_filled"]].copy()
    output["year"] = output["year"].astype("int32")
    output["te"] = index
    return output[["province_code", "year", "te", "te_is_filled"]]
