{#- The one place trade and FDI change currency. A rate is CNY per 100 USD (the exchange_rate
    series); the catalog's USD unit is 10k USD and its CNY unit 100m CNY, so
    10k USD * rate / 100 = 10k CNY, and / 10,000 = 100m CNY: one factor of 1,000,000 either way.
    Each direction keeps its own order of operations so the doubles are the ones published. -#}

{% macro usd_10k_to_cny_100m(value, cny_per_100usd) -%}
    {{ value }} * {{ cny_per_100usd }} / {{ _usd_10k_per_cny_100m_at_rate_1() }}
{%- endmacro %}

{% macro cny_100m_to_usd_10k(value, cny_per_100usd) -%}
    {{ value }} * {{ _usd_10k_per_cny_100m_at_rate_1() }} / {{ cny_per_100usd }}
{%- endmacro %}

{% macro _usd_10k_per_cny_100m_at_rate_1() -%}
    1000000
{%- endmacro %}
