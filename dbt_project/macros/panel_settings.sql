{#- Panel settings read from vars, validated once so a typo fails the run with a clear message. -#}

{% macro panel_start_year() -%}
    {{ var('panel_start_year') | int }}
{%- endmacro %}

{#- SQL expression for the last panel year: the var, or the last year with catalog data. -#}
{% macro panel_end_year_sql() -%}
    {%- set end_year = var('panel_end_year') -%}
    {%- if end_year | string | lower == 'latest' -%}
        (select max(year) from {{ ref('stg_raw__extract_values') }} where value is not null)
    {%- else -%}
        {{ end_year | int }}
    {%- endif -%}
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
