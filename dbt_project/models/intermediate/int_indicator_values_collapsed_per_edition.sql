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
        arg_min(value, [file, coalesce(sheet, ''), lpad(cast(source_row as varchar), 9, '0'), lpad(cast(source_col as varchar), 9, '0')]) as value,
        arg_min(unit, [file, coalesce(sheet, ''), lpad(cast(source_row as varchar), 9, '0'), lpad(cast(source_col as varchar), 9, '0')]) as unit,
        min(file) as file,
        count(*) as n_source_cells,
        count(distinct [cast(value as varchar), unit]) as n_distinct_values
    from extract_values
    group by province_code, year, indicator, edition
)

select
    collapsed.*,
    editions.published
from collapsed
inner join editions using (edition)
