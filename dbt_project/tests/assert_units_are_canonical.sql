-- Every catalog value must be in the catalog's canonical unit, except USD series published
-- in CNY (cny_100m), which int_indicators_in_catalog_unit expresses in USD.
{{ config(severity='error') }}

select
    extract_values.edition,
    extract_values.file,
    extract_values.indicator,
    extract_values.unit,
    catalog.canonical_unit,
    count(*) as n_values
from {{ ref('stg_raw__extract_values') }} as extract_values
inner join {{ ref('indicator_catalog') }} as catalog using (indicator)
where extract_values.unit != catalog.canonical_unit
  and not (catalog.canonical_unit = 'usd_10k' and extract_values.unit = 'cny_100m')
group by all
