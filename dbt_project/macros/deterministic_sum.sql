{#- A sum of doubles that does not depend on the order DuckDB's threads add the rows in: each
    value is taken exactly to 18 decimals (below a double's precision for any value above 0.01)
    and summed as a decimal, exactly, then turned back into a double once. Two builds of the
    same inputs then publish the same bits (a float sum differs in its last digit between runs). -#}
{% macro deterministic_sum(expression) -%}
    sum(({{ expression }})::decimal(38, 18))::double
{%- endmacro %}
