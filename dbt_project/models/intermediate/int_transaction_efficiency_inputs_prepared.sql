-- The four per-capita inputs of the transaction-efficiency PCA, on the panel's provinces and
-- years only (the z-scores are pooled over the panel).
with province_years as (
    select * from {{ ref('int_province_years_pivoted') }}
),

panel_provinces as (
    select province_code from {{ ref('stg_geography__panel_units') }}
    where province_code not in {{ panel_excluded_provinces_sql() }}
)

select
    province_code,
    year,
    mobile_users / population as mobile_users_per_capita,
    internet_users / population as internet_users_per_capita,
    urban_road_area / population as urban_road_area_per_capita,
    -- a freight mode a province does not publish (no waterways, no airport) counts as zero
    case when coalesce(freight_road, freight_water, freight_air) is not null
        then (coalesce(freight_road, 0) + coalesce(freight_water, 0) + coalesce(freight_air, 0)) / population
    end as freight_per_capita,
    mobile_users_is_filled or internet_users_is_filled or urban_road_area_is_filled
        or freight_road_is_filled or freight_water_is_filled or freight_air_is_filled
        or population_is_filled as te_is_filled
from province_years
inner join panel_provinces using (province_code)
