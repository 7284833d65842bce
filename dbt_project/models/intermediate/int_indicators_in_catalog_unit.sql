-- Every resolved value in its catalog unit before interpolation, so that each series is
-- interpolated in the unit it is published in (docs/methods.md): a USD series (catalog unit
-- usd_10k: trade, FDI) that an edition printed in CNY (cny_100m) is expressed in USD with the
-- published exchange rate of the same year: 100m CNY * 1,000,000 / rate = 10k USD. A CNY value
-- whose year has no published rate becomes null (a gap, then interpolated and flagged).
-- Conversion to CNY happens after interpolation (int_indicators_converted_to_cny).
with resolved as (
    select * from {{ ref('int_indicators_resolved_to_edition') }}
),

catalog as (
    select indicator, canonical_unit from {{ ref('indicator_catalog') }}
),

published_exchange_rates as (
    select year, value as cny_per_100usd
    from resolved
    where indicator = 'exchange_rate' and province_code = '00'
),

in_catalog_unit as (
    select
        resolved.province_code,
        resolved.year,
        resolved.indicator,
        case
            when catalog.canonical_unit = 'usd_10k' and resolved.unit = 'cny_100m'
                then {{ cny_100m_to_usd_10k('resolved.value', 'published_exchange_rates.cny_per_100usd') }}
            else resolved.value
        end as value,
        catalog.canonical_unit as unit,
        resolved.value as published_value,
        resolved.unit as published_unit,
        resolved.edition
    from resolved
    inner join catalog using (indicator)
    left join published_exchange_rates using (year)
)

select * from in_catalog_unit
