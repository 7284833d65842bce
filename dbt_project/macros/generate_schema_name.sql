{#- Schemas are exactly the configured names (staging, intermediate, marts, lookups),
    not dbt's default '<target_schema>_<custom>' (e.g. main_marts). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
