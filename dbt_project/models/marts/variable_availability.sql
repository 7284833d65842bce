-- Per model variable: how many panel rows are null, whether because an input is missing from
-- the edition set (reported, not blocking) or despite every input being present (corrupt
-- input: the panel's blocking test fails on those), and in words why, e.g.
-- "fdi_actual has no observations for 2001-2009".
{%- set variables = ['tu', 'ic', 'ic2', 'cx', 'hum', 'fdi', 'gov', 'inf', 'fma', 'fma_tv', 'te', 'ks'] %}
with panel as (
    select province_code, year, missing_input_variables, {{ variables | join(', ') }}
    from {{ ref('province_year_panel') }}
),

panel_cells as (
    -- include nulls: the null cells are what this model counts
    select * from panel
    unpivot include nulls (value for variable in ({{ variables | join(', ') }}))
),

cells as (
    select
        variable,
        province_code,
        year,
        value is null or isnan(value) as is_null,  -- NaN (ln of a negative) is corrupt, like null
        list_contains(string_split(coalesce(missing_input_variables, ''), ','), variable) as lacks_input
    from panel_cells
),

null_years as (
    select variable, year from cells where is_null group by variable, year
),

inputs as (
    select variable, indicator from {{ ref('model_variable_inputs') }}
),

coverage as (
    select * from {{ ref('indicator_coverage') }}
),

-- an input with no value at all in a year where the variable is null
input_gap_years as (
    select inputs.variable, inputs.indicator, null_years.year,
        coverage.n_observed = 0 and coverage.n_interpolated = 0 and coverage.n_carried = 0 as has_no_value,
        coverage.n_missing
    from null_years
    inner join inputs using (variable)
    inner join coverage on coverage.indicator = inputs.indicator and coverage.year = null_years.year
),

gap_runs as (
    -- consecutive years of one input without any value form one run (gaps and islands)
    select variable, indicator, year, year - row_number() over (partition by variable, indicator order by year) as run
    from input_gap_years
    where has_no_value
),

gap_spans as (
    select variable, indicator, string_agg(span, ', ' order by first_year) as years
    from (
        select variable, indicator, run, min(year) as first_year,
            case when min(year) = max(year) then min(year)::varchar
                 else min(year)::varchar || '-' || max(year)::varchar end as span
        from gap_runs
        group by variable, indicator, run
    )
    group by variable, indicator
),

partial_gaps as (
    -- inputs missing for some units only, in years where they are not wholly absent
    select variable, indicator, sum(n_missing) as n_missing_cells
    from input_gap_years
    where not has_no_value and n_missing > 0
    group by variable, indicator
),

reasons as (
    select variable, string_agg(reason, '; ' order by indicator) as reason
    from (
        -- inputs missing in the same years are named together
        select variable, min(indicator) as indicator,
            string_agg(indicator, ', ' order by indicator)
                || case when count(*) = 1 then ' has' else ' have' end
                || ' no observations for ' || years as reason
        from gap_spans
        group by variable, years
        union all
        select variable, indicator, indicator || ' is missing for ' || n_missing_cells || ' province-years' as reason
        from partial_gaps
    )
    group by variable
),

year_runs as (
    select variable, year, year - row_number() over (partition by variable order by year) as run
    from null_years
),

null_year_spans as (
    select variable, string_agg(span, ', ' order by first_year) as years_missing
    from (
        select variable, run, min(year) as first_year,
            case when min(year) = max(year) then min(year)::varchar
                 else min(year)::varchar || '-' || max(year)::varchar end as span
        from year_runs
        group by variable, run
    )
    group by variable
),

counts as (
    select
        variable,
        count(*) as n_rows,
        count(*) filter (where is_null) as n_null,
        count(*) filter (where is_null and lacks_input) as n_missing_input,
        count(*) filter (where is_null and not lacks_input) as n_corrupt,
        min(year) filter (where not is_null) as first_year,
        max(year) filter (where not is_null) as last_year
    from cells
    group by variable
)

select
    counts.variable,
    counts.n_rows,
    counts.n_null,
    counts.n_missing_input,
    counts.n_corrupt,
    counts.n_null = 0 as is_complete,
    counts.first_year,
    counts.last_year,
    null_year_spans.years_missing,
    case
        when counts.n_null = 0 then null
        when counts.n_missing_input = 0 then 'null although every input is present (corrupt input)'
        else coalesce(reasons.reason, 'an input is missing')
    end as reason
from counts
left join null_year_spans using (variable)
left join reasons using (variable)
