-- One value per province-year-indicator-edition. Two files (or cells) of one edition that
-- publish the same value collapse to one row; if they disagree the singular test
-- assert_files_of_one_edition_agree fails the build, and the first file in name order is kept.
with recursive extract_values as (
    select * from {{ ref('stg_raw__extract_values') }}
    where value is not null  -- a cell without a number observes nothing
),

editions as (
    select edition, published, supersedes from {{ ref('stg_raw__editions') }}
),

-- how many editions of the same publication date this one comes after through `supersedes:`
-- (0: none); editions are ordered by (published, supersession_depth, edition). The recursion
-- is bounded by the number of editions, so a cycle (refused in manifests) cannot run away.
supersessions as (
    select editions.edition, editions.supersedes
    from editions
    inner join editions as superseded
        on superseded.edition = editions.supersedes and superseded.published = editions.published
),

depths (edition, depth) as (
    select edition, 0 from editions
    union all
    select supersessions.edition, depths.depth + 1
    from supersessions
    inner join depths on supersessions.supersedes = depths.edition
    where depths.depth < (select count(*) from editions)
),

ordered_editions as (
    select editions.edition, editions.published, max(depths.depth) as supersession_depth
    from editions
    inner join depths using (edition)
    group by editions.edition, editions.published
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
    ordered_editions.published,
    ordered_editions.supersession_depth
from collapsed
inner join ordered_editions using (edition)
