{#- Panel settings read from vars, validated once so a typo fails the run with a clear message. -#}

{% macro panel_start_year() -%}
    {{ var('panel_start_year') | int }}
{%- endmacro %}

{#- SQL expression for the last panel year: the var, or with 'latest' the last year the data
    carry: the last year in which most of the model inputs that have any observation are
    observed for most panel provinces. A year with only a few series (a late release of two
    indicators) or only a few provinces would rest on carried values: it is not a panel year. -#}
{% macro panel_end_year_sql() -%}
    {%- set end_year = var('panel_end_year') -%}
    {%- if end_year | string | lower == 'latest' -%}
        (
            with panel_units as (
                select province_code from {{ ref('stg_geography__panel_units') }}
                where province_code not in {{ panel_excluded_provinces_sql() }}
            ),
            provinces_observed as (
                select indicator, year, count(distinct province_code) as n_provinces
                from {{ ref('int_indicators_in_catalog_unit') }}  -- observed values, before interpolation
                inner join panel_units using (province_code)
                where value is not null
                    and indicator in ({% for indicator in panel_input_indicators() %}'{{ indicator }}'{{ ', ' if not loop.last }}{% endfor %})
                group by indicator, year
            ),
            inputs_by_year as (
                select year, count(*) filter (where n_provinces * 2 > (select count(*) from panel_units)) as n_inputs
                from provinces_observed
                group by year
            )
            select max(year) from inputs_by_year
            where n_inputs * 2 >= (select count(distinct indicator) from provinces_observed)
        )
    {%- else -%}
        {{ end_year | int }}
    {%- endif -%}
{%- endmacro %}

{#- The provincial catalog indicators that some model variable uses (docs/methods.md). -#}
{% macro panel_input_indicators() -%}
    {{ return([
        'gdp', 'va_secondary', 'va_tertiary', 'exports', 'imports', 'trade_total', 'fdi_actual',
        'fiscal_expenditure', 'patents_granted', 'patent_applications', 'population', 'employment',
        'edu_none', 'edu_primary', 'edu_junior', 'edu_senior', 'edu_tertiary',
        'optical_cable_length', 'mobile_users', 'internet_users', 'urban_road_area',
        'freight_road', 'freight_water', 'freight_air']) }}
{%- endmacro %}

{#- SQL list literal of excluded province codes, e.g. ('54'); never empty. -#}
{% macro panel_excluded_provinces_sql() -%}
    {%- set codes = var('panel_exclude_provinces') -%}
    {%- if codes is string -%}{%- set codes = [codes] -%}{%- endif -%}
    ({%- for code in codes -%}'{{ code }}'{%- if not loop.last -%}, {% endif -%}{%- endfor -%}
    {%- if codes | length == 0 -%}'__none__'{%- endif -%})
{%- endmacro %}

{% macro checked_var(name, allowed) -%}
    {%- set value = var(name) | string -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error("var '" ~ name ~ "' is '" ~ value ~ "'; expected one of " ~ allowed | join(', ')) }}
    {%- endif -%}
    {{ value }}
{%- endmacro %}
