-- What the edition set holds: per catalog indicator and panel year, how many panel units
-- (provinces; '00' for national series) have an observed value, a filled one (interpolated
-- or carried) or none, and whether a whole year was left out rather than carried.
with interpolated as (
    select * from {{ ref('int_indicators_interpolated') }}
),

catalog as (
    select indicator, name_en, scope from {{ ref('indicator_catalog') }}
),

panel_units as (
    select province_code from {{ ref('stg_geography__panel_units') }}
    where province_code not in {{ panel_excluded_provinces_sql() }}
),

cells as (
    -- provincial series on the panel's units, national series on '00'
    select interpolated.*, catalog.name_en, catalog.scope
    from interpolated
    inner join catalog using (indicator)
    where (catalog.scope = 'province' and interpolated.province_code in (select province_code from panel_units))
        or (catalog.scope = 'national' and interpolated.province_code = '00')
)

select
    indicator,
    name_en,
    scope,
    year,
    count(*) as n_units,
    count(*) filter (where is_observed) as n_observed,
    count(*) filter (where fill_method = 'interpolated') as n_interpolated,
    count(*) filter (where fill_method = 'carried') as n_carried,
    count(*) filter (where value is null) as n_missing,
    bool_or(is_left_out) as is_left_out,
    case
        when count(*) filter (where is_observed) * 2 > count(*) then 'observed'
        when count(*) filter (where value is not null) > 0 then 'filled'
        else 'missing'
    end as status
from cells
group by indicator, name_en, scope, year
