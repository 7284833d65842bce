{#- Missing input is reported, corrupt input blocks: a model variable may be null only in a row
    whose column `missing_by` lists it (an input has no value in the edition set). A null with
    every input present comes from a corrupt value (a negative count under ln gives NaN, which
    counts as null here as it does in pandas). -#}
{% test null_only_where_input_missing(model, columns, missing_by='missing_input_variables') %}
{%- for column in columns %}
select '{{ column }}' as null_column, province_code, year, {{ missing_by }}
from {{ model }}
where ({{ column }} is null or isnan({{ column }}))
    and not list_contains(string_split(coalesce({{ missing_by }}, ''), ','), '{{ column }}')
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endtest %}
