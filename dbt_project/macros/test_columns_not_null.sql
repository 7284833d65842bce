{#- Several columns of a model checked for nulls by one test: each failing row names its column.
    One test node instead of one per column: every node costs dbt and the Dagster run a fixed
    overhead (~0.1 s), which on a panel of this size outweighs the query itself. -#}
{% test columns_not_null(model, columns) %}
{%- for column in columns %}
select '{{ column }}' as null_column, * from {{ model }} where {{ column }} is null
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endtest %}
