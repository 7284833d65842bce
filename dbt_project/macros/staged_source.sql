{#- A staging model of a raw table: the listed columns, each cast to the data_type its source
    declares in _raw__sources.yml (which tests/test_raw_schema.py holds to provpanel/raw_schema.py),
    optionally filtered. Renaming and casting, nothing else. The types are read from the graph,
    which exists only when the model runs: parsing sees the bare columns. -#}
{% macro staged_source(source_name, table_name, columns, where=none) -%}
{%- set declared = {} -%}
{%- if execute -%}
    {%- for node in graph.sources.values() if node.source_name == source_name and node.name == table_name -%}
        {%- for name, column in node.columns.items() -%}
            {%- do declared.update({name: column.data_type}) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}
with source as (
    select * from {{ source(source_name, table_name) }}
),

typed as (
    select
    {%- for name in columns %}
        {% if execute -%}
            {%- if not declared.get(name) -%}
                {{ exceptions.raise_compiler_error("source " ~ source_name ~ "." ~ table_name ~ " declares no data_type for column " ~ name) }}
            {%- endif -%}
            cast({{ name }} as {{ declared[name] }}) as {{ name }}
        {%- else -%}
            {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
    from source
    {%- if where %}
    where {{ where }}
    {%- endif %}
)

select * from typed
{%- endmacro %}
