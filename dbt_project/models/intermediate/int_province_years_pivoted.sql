-- One row per province (and '00') x year with the filled value (trade and FDI in CNY) and the
-- filled flag of every indicator the model variables use, whether each trade series was
-- observed (TU's rule needs it), and the national exchange rate of the year.
{%- set indicators = [
    'gdp', 'va_secondary', 'va_tertiary', 'exports', 'imports', 'trade_total', 'fdi_actual',
    'fiscal_expenditure', 'patents_granted', 'patent_applications', 'population', 'employment',
    'edu_none', 'edu_primary', 'edu_junior', 'edu_senior', 'edu_tertiary',
    'optical_cable_length', 'mobile_users', 'internet_users', 'urban_road_area',
    'freight_road', 'freight_water', 'freight_air'
] %}

{%- set trade_indicators = ['exports', 'imports', 'trade_total'] %}

with converted as (
    select * from {{ ref('int_indicators_converted_to_cny') }}
),

province_indicators as (
    select
        province_code,
        year,
        {%- for indicator in indicators %}
        max(value) filter (where indicator = '{{ indicator }}') as {{ indicator }},
        coalesce(bool_or(is_filled) filter (where indicator = '{{ indicator }}'), false) as {{ indicator }}_is_filled,
        {%- endfor %}
        {%- for indicator in trade_indicators %}
        coalesce(bool_or(is_observed) filter (where indicator = '{{ indicator }}'), false) as {{ indicator }}_is_observed{{ ',' if not loop.last }}
        {%- endfor %}
    from converted
    group by province_code, year
),

exchange_rates as (
    select year, value as exchange_rate, is_filled as exchange_rate_is_filled
    from converted
    where indicator = 'exchange_rate' and province_code = '00'
)

select
    province_indicators.*,
    exchange_rates.exchange_rate,
    coalesce(exchange_rates.exchange_rate_is_filled, false) as exchange_rate_is_filled
from province_indicators
left join exchange_rates using (year)
