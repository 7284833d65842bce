"""Transaction efficiency TE per province-year: the PCA index of the four per-capita inputs
(provpanel.measures.pca holds the computation; this model only moves data)."""

from provpanel.measures.pca import principal_component_index

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
    result = principal_component_index(inputs[TE_INPUT_COLUMNS])
    output = inputs[["province_code", "year", "te_is_filled"]].copy()
    output["year"] = output["year"].astype("int32")
    output["te"] = result.index.astype(float)
    return output[["province_code", "year", "te", "te_is_filled"]]
