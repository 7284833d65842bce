-- Every province-year-indicator that editions publish differently, one row per edition, with
-- the edition the vintage policy picked for the panel flagged.
with per_edition as (
    select * from {{ ref('int_indicator_values_collapsed_per_edition') }}
),

resolved as (
    select province_code, year, indicator, edition as panel_edition
    from {{ ref('int_indicators_resolved_to_edition') }}
),

revised_cells as (
    select province_code, year, indicator
    from per_edition
    group by province_code, year, indicator
    having count(distinct [cast(value as varchar), unit]) > 1
)

select
    per_edition.province_code,
    per_edition.year,
    per_edition.indicator,
    per_edition.edition,
    per_edition.published,
    per_edition.value,
    per_edition.unit,
    per_edition.edition = resolved.panel_edition as is_panel_edition,
    resolved.panel_edition
from per_edition
inner join revised_cells using (province_code, year, indicator)
inner join resolved using (province_code, year, indicator)
