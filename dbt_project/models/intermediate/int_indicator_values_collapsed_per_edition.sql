-- One value per province-year-indicator-edition. Two files (or cells) of one edition that
-- publish the same value collapse to one row; if they disagree the singular test
-- assert_files_of_one_edition_agree fails the build, and the first file in name order is kept.
with extract_values as (
    select * from {{ ref('stg_raw__extract_values') }}
    where value is not null  -- a cell without a number observes nothing
),

editions as (
    select edition, published from {{ ref('stg_raw__editions') }}
),

collapsed as (
    select
        province_code,
        year,
        indicator,
        edition,
        -- the first cell in (file, sheet, row, col) order; a struct compares field by field
        arg_min(value, {'file': file, 'sheet': coalesce(sheet, ''), 'row': source_row, 'col': source_col}) as value,
        arg_min(unit, {'file': file, 'sheet': coalesce(sheet, ''), 'row': source_row, 'col': source_col}) as unit,
        min(file) as file,
        count(*) as n_source_cells,
        count(distinct {'value': value, 'unit': unit}) as n_distinct_values
    from extract_values
    group by province_code, year, indicator, edition
)

select
    collapsed.*,
    editions.published
from collapsed
inner join editions using (edition)
