-- Trade and FDI values published in USD (usd_10k) converted to CNY (cny_100m) with the
-- national annual average rate of the same year (CNY per 100 USD):
-- 10k USD * rate / 100 = 10k CNY; / 10,000 = 100m CNY. Values published in CNY pass unchanged.
-- Converting before interpolation keeps every series in one unit even when editions differ.
with resolved as (
    select * from {{ ref('int_indicators_resolved_to_edition') }}
),

catalog as (
    select indicator, canonical_unit from {{ ref('indicator_catalog') }}
),

exchange_rates as (
    select year, value as cny_per_100usd
    from resolved
    where indicator = 'exchange_rate' and province_code = '00'
),

converted as (
    select
        resolved.province_code,
        resolved.year,
        resolved.indicator,
        case
            when resolved.unit = 'usd_10k' and catalog.canonical_unit = 'usd_10k'
                then resolved.value * exchange_rates.cny_per_100usd / 1000000
            else resolved.value
        end as value,
        case
            when catalog.canonical_unit = 'usd_10k' then 'cny_100m'
            else resolved.unit
        end as unit,
        resolved.value as published_value,
        resolved.unit as published_unit,
        resolved.edition
    from resolved
    inner join catalog using (indicator)
    left join exchange_rates using (year)
)

select * from converted
