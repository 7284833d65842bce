-- Data error: two cells of one edition (different files, sheets or positions) publish
-- different values for the same province-year-indicator. Each failing row names the cells.
{{ config(severity='error') }}

with extract_values as (
    select * from {{ ref('stg_raw__extract_values') }}
    where value is not null
)

select
    edition,
    province_code,
    year,
    indicator,
    count(distinct {'value': value, 'unit': unit}) as n_distinct_values,
    string_agg(file || coalesce(' [' || sheet || ']', '') || ' row ' || source_row || ' col ' || source_col
               || ': ' || value || ' ' || unit, '; ' order by file, source_row) as cells
from extract_values
group by edition, province_code, year, indicator
having count(distinct {'value': value, 'unit': unit}) > 1
