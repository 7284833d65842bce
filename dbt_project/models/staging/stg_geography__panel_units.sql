-- The panel's units with their attributes: the provinces seed, or, when var geography_dir names
-- a folder (PROVPANEL_GEOGRAPHY, e.g. the scale benchmark's prefectures or counties), that
-- folder's provinces.csv with the same columns. Every model reads the units from here.
{%- set geography_dir = var('geography_dir', '') | string %}
{{ config(materialized='table') }}
-- the seed is a parent either way, so the dbt graph (and the manifest) does not depend on the var:
-- depends_on: {{ ref('provinces') }}
{% if geography_dir %}
select * from read_csv(
    '{{ geography_dir | replace("'", "''") }}/provinces.csv',
    header = true,
    auto_detect = false,
    columns = {
        'province_code': 'varchar', 'name_zh': 'varchar', 'name_short_zh': 'varchar',
        'name_en': 'varchar', 'region': 'varchar', 'coastal': 'boolean', 'capital': 'varchar',
        'capital_lat': 'double', 'capital_lon': 'double', 'area_km2': 'double'
    }
)
{% else %}
select * from {{ ref('provinces') }}
{% endif %}
