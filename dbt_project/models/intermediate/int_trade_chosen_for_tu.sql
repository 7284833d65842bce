-- The trade figure TU divides by GDP, per province (and '00') x year, chosen by one rule
-- (docs/methods.md, issue 14): an observed value beats a filled one, and the published total beats
-- the split. So filled exports and imports never override an observed total.
with province_years as (
    select * from {{ ref('int_province_years_pivoted') }}
),

trade as (
    -- (1) the observed total; (2) exports + imports when both are observed; (3) the filled
    -- total; (4) filled exports + imports
    select
        province_code,
        year,
        case
            when trade_total_is_observed then 'observed_total'
            when exports_is_observed and imports_is_observed then 'observed_split'
            when trade_total is not null then 'filled_total'
            when exports is not null and imports is not null then 'filled_split'
        end as trade_source,
        exports,
        imports,
        trade_total,
        exports_is_filled,
        imports_is_filled,
        trade_total_is_filled
    from province_years
),

chosen as (
    select
        province_code,
        year,
        trade_source,
        coalesce(trade_source in ('observed_split', 'filled_split'), false) as uses_trade_split,
        case when trade_source in ('observed_split', 'filled_split') then exports + imports
             else trade_total end as trade_cny,
        case when trade_source in ('observed_split', 'filled_split') then exports_is_filled or imports_is_filled
             else trade_total_is_filled end as trade_is_filled,
        case when trade_source in ('observed_split', 'filled_split')
                 then cast(exports_is_filled as integer) + cast(imports_is_filled as integer)
             else cast(trade_total_is_filled as integer) end as n_filled_trade_cells
    from trade
)

select
    province_code,
    year,
    trade_source,
    uses_trade_split,
    trade_cny,
    trade_is_filled,
    n_filled_trade_cells
from chosen
