-- Location quotients IC (tertiary) and IC2 (secondary): a province's sector share of GDP over
-- the reference economy's share. Reference (var lq_reference): 'panel' = sums over the panel's
-- provinces, 'all_provinces' = sums over all 31, 'national' = the national-total ('00') rows.
{%- set reference = checked_var('lq_reference', ['panel', 'all_provinces', 'national']) | trim %}

with province_years as (
    select * from {{ ref('int_province_years_pivoted') }}
),

provinces as (
    select province_code from {{ ref('stg_geography__panel_units') }}
),

reference_members as (
    {%- if reference == 'national' %}
    select '00' as province_code
    {%- elif reference == 'all_provinces' %}
    select province_code from provinces
    {%- else %}
    select province_code from provinces
    where province_code not in {{ panel_excluded_provinces_sql() }}
    {%- endif %}
),

reference_totals as (
    -- a reference member without a value makes the total null (loudly failing the panel's
    -- not-null tests) rather than silently smaller
    select
        year,
        case when count(gdp) = count(*) then {{ deterministic_sum('gdp') }} end as reference_gdp,
        case when count(va_secondary) = count(*) then {{ deterministic_sum('va_secondary') }} end as reference_va_secondary,
        case when count(va_tertiary) = count(*) then {{ deterministic_sum('va_tertiary') }} end as reference_va_tertiary
    from province_years
    inner join reference_members using (province_code)
    group by year
)

select
    province_years.province_code,
    province_years.year,
    (province_years.va_tertiary / province_years.gdp)
        / (reference_totals.reference_va_tertiary / reference_totals.reference_gdp) as ic,
    (province_years.va_secondary / province_years.gdp)
        / (reference_totals.reference_va_secondary / reference_totals.reference_gdp) as ic2,
    province_years.va_tertiary_is_filled or province_years.gdp_is_filled as ic_is_filled,
    province_years.va_secondary_is_filled or province_years.gdp_is_filled as ic2_is_filled,
    reference_totals.reference_gdp,
    reference_totals.reference_va_secondary,
    reference_totals.reference_va_tertiary,
    '{{ reference }}' as lq_reference
from province_years
inner join provinces using (province_code)
left join reference_totals using (year)
