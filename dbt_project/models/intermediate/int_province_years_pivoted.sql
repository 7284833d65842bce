-- One row per province (and '00') x year with the filled value and the filled flag of every
-- indicator the model variables use, and the national exchange rate of the year.
{%- set indicators = [
    'gdp', 'va_secondary', 'va_tertiary', 'exports', 'imports', 'trade_total', 'fdi_actual',
    'fiscal_expenditure', 'patents_granted', 'patent_applications', 'population', 'employment',
    'edu_none', 'edu_primary', 'edu_junior', 'edu_senior', 'edu_tertiary',
    'optical_cable_length', 'mobile_users', 'internet_users', 'urban_road_area',
    'freight_road', 'freight_water', 'freight_air'
] %}

with interpolated as (
    select * from {{ ref('int_indicators_interpolated') }}
),

province_indicators as (
    select
        province_code,
        year,
        {%- for indicator in indicators %}
        max(value) filter (where indicator = '{{ indicator }}') as {{ indicator }},
        coalesce(bool_or(is_filled) filter (where indicator = '{{ indicator }}'), false) as {{ indicator }}_is_filled{{ ',' if not loop.last }}
        {%- endfor %}
    from interpolated
    group by province_code, year
),

exchange_rates as (
    select year, value as exchange_rate, is_filled as exchange_rate_is_filled
    from interpolated
    where indicator = 'exchange_rate' and province_code = '00'
)

select
    province_indicators.*,
    exchange_rates.exchange_rate,
    coalesce(exchange_rates.exchange_rate_is_filled, false) as exchange_rate_is_filled
from province_indicators
left join exchange_rates using (year)
