-- Every indicator on the province x year grid: observed values kept, gaps filled by linear
-- interpolation between the nearest observed years of the same province (observed years
-- outside the grid count as anchors), edges carried or left missing (var interpolation_edges).
-- Values are in their catalog unit: USD series are interpolated in USD (docs/methods.md) and only
-- then converted to CNY at each year's own rate (int_indicators_converted_to_cny).
-- An edge is carried only into a year in which the indicator has observations of some province:
-- a whole indicator-year that would rest on carried values alone stays missing (left out, and
-- reported by marts.indicator_coverage) rather than invented.
{%- set edges = checked_var('interpolation_edges', ['carry', 'missing']) | trim %}

with in_catalog_unit as (
    select * from {{ ref('int_indicators_in_catalog_unit') }}
),

catalog as (
    select indicator, scope from {{ ref('indicator_catalog') }}
),

-- all 31 provinces (excluded ones too: the all_provinces LQ reference needs them) plus the
-- national total '00' (the national LQ reference and national series need it)
entities as (
    select province_code from {{ ref('stg_geography__panel_units') }}
    union
    select '00' as province_code
),

grid_years as (
    select cast(unnest(generate_series({{ panel_start_year() }}, {{ panel_end_year_sql() }})) as integer) as year
),

grid as (
    select entities.province_code, catalog.indicator, grid_years.year
    from entities
    cross join catalog
    cross join grid_years
    where catalog.scope = 'province' or entities.province_code = '00'
),

observed as (
    select province_code, indicator, year, value, edition
    from in_catalog_unit
    where value is not null
),

cells as (
    select
        coalesce(grid.province_code, observed.province_code) as province_code,
        coalesce(grid.indicator, observed.indicator) as indicator,
        coalesce(grid.year, observed.year) as year,
        observed.value as observed_value,
        observed.edition,
        grid.year is not null as is_in_grid,
        -- the indicator has an observation this year (provinces and the national '00' apart)
        bool_or(observed.value is not null) over (
            partition by coalesce(grid.indicator, observed.indicator), coalesce(grid.year, observed.year),
                coalesce(grid.province_code, observed.province_code) = '00'
        ) as is_year_observed
    from grid
    full outer join observed
        on grid.province_code = observed.province_code
        and grid.indicator = observed.indicator
        and grid.year = observed.year
),

neighbours as (
    select
        *,
        last_value(case when observed_value is not null then year end ignore nulls) over up_to_here as previous_year,
        last_value(observed_value ignore nulls) over up_to_here as previous_value,
        first_value(case when observed_value is not null then year end ignore nulls) over from_here as next_year,
        first_value(observed_value ignore nulls) over from_here as next_value
    from cells
    window
        up_to_here as (
            partition by province_code, indicator order by year
            rows between unbounded preceding and current row
        ),
        from_here as (
            partition by province_code, indicator order by year
            rows between current row and unbounded following
        )
),

filled as (
    select
        province_code,
        year,
        indicator,
        observed_value,
        edition,
        coalesce(is_year_observed, false) as is_year_observed,
        -- an edge that would have been carried but the indicator has no observation that year
        {%- if edges == 'carry' %}
        observed_value is null and (previous_year is null) <> (next_year is null)
            and not coalesce(is_year_observed, false) as is_left_out,
        {%- else %}
        false as is_left_out,
        {%- endif %}
        case
            when observed_value is not null then 'observed'
            when previous_year is not null and next_year is not null then 'interpolated'
            {%- if edges == 'carry' %}
            when (previous_year is not null or next_year is not null) and is_year_observed then 'carried'
            {%- endif %}
        end as fill_method,
        case
            when observed_value is not null then observed_value
            when previous_year is not null and next_year is not null
                then previous_value
                    + (next_value - previous_value) * (year - previous_year) / (next_year - previous_year)
            {%- if edges == 'carry' %}
            when previous_year is not null and is_year_observed then previous_value
            when next_year is not null and is_year_observed then next_value
            {%- endif %}
        end as value
    from neighbours
    where is_in_grid
)

select
    province_code,
    cast(year as integer) as year,
    indicator,
    value,
    observed_value,
    edition,
    fill_method,
    is_year_observed,
    is_left_out,
    observed_value is not null as is_observed,
    observed_value is null and value is not null as is_filled
from filled
