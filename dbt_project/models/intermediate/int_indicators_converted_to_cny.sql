-- The interpolated grid with every USD series (catalog unit usd_10k: trade, FDI) converted to
-- CNY 100m at the national annual average rate of the cell's own year (CNY per 100 USD):
-- 10k USD * rate / 100 = 10k CNY; / 10,000 = 100m CNY. Interpolating first and converting
-- second means a filled year is converted at its own rate, never at a neighbour's. A year
-- without a published rate uses the exchange_rate series as filled like any other series
-- (interpolated or carried), and the cell says so (rate_is_filled).
with interpolated as (
    select * from {{ ref('int_indicators_interpolated') }}
),

catalog as (
    select indicator, canonical_unit from {{ ref('indicator_catalog') }}
),

exchange_rates as (
    select year, value as cny_per_100usd, is_filled as rate_is_filled
    from interpolated
    where indicator = 'exchange_rate' and province_code = '00'
),

converted as (
    select
        interpolated.province_code,
        interpolated.year,
        interpolated.indicator,
        case
            when catalog.canonical_unit = 'usd_10k'
                then {{ usd_10k_to_cny_100m('interpolated.value', 'exchange_rates.cny_per_100usd') }}
            else interpolated.value
        end as value,
        case when catalog.canonical_unit = 'usd_10k' then 'cny_100m' else catalog.canonical_unit end as unit,
        interpolated.value as catalog_unit_value,
        catalog.canonical_unit as catalog_unit,
        catalog.canonical_unit = 'usd_10k' and coalesce(exchange_rates.rate_is_filled, false) as rate_is_filled,
        interpolated.fill_method,
        interpolated.is_observed,
        interpolated.is_filled
    from interpolated
    inner join catalog using (indicator)
    left join exchange_rates using (year)
)

select * from converted
