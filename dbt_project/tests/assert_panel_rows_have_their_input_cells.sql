-- Every panel row has one row of marts.panel_input_cells per input indicator, and every
-- observed input names the edition and the cell it was read from.
{{ config(severity='error') }}

with inputs_per_row as (
    select
        province_code,
        year,
        count(*) as n_inputs,
        count(*) filter (where fill_method = 'observed' and (edition is null or file is null
                         or source_row is null or source_col is null)) as n_observed_untraced
    from {{ ref('panel_input_cells') }}
    group by province_code, year
),

expected as (
    -- every input indicator, under every row; none at all (an empty table) fails every row
    select coalesce(nullif(count(distinct indicator), 0), -1) as n_inputs
    from {{ ref('panel_input_cells') }}
)

select
    panel.province_code,
    panel.year,
    coalesce(inputs_per_row.n_inputs, 0) as n_inputs,
    expected.n_inputs as n_inputs_expected,
    inputs_per_row.n_observed_untraced
from {{ ref('province_year_panel') }} as panel
cross join expected
left join inputs_per_row using (province_code, year)
where coalesce(inputs_per_row.n_inputs, 0) <> expected.n_inputs
    or inputs_per_row.n_observed_untraced > 0
