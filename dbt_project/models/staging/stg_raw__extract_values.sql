-- Catalog indicators only, typed; renaming and casting, nothing else.
with source as (
    select * from {{ source('raw', 'extract_values') }}
),

typed as (
    select
        cast(edition as varchar)        as edition,
        cast(file as varchar)           as file,
        cast(file_sha256 as varchar)    as file_sha256,
        cast(sheet as varchar)          as sheet,
        cast(source_row as integer)     as source_row,
        cast(source_col as integer)     as source_col,
        cast(province_code as varchar)  as province_code,
        cast(year as integer)           as year,
        cast(indicator as varchar)      as indicator,
        cast(value as double)           as value,
        cast(unit as varchar)           as unit,
        cast(source_value as varchar)   as source_value,
        cast(source_unit as varchar)    as source_unit,
        cast(loaded_at as timestamp)    as loaded_at
    from source
    where in_catalog
)

select * from typed
