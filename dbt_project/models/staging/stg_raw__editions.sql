-- One row per ingested edition; published orders editions for the vintage policy.
with source as (
    select * from {{ source('raw', 'editions') }}
),

typed as (
    select
        cast(edition as varchar)    as edition,
        cast(title as varchar)      as title,
        cast(published as date)     as published,
        cast(source as varchar)     as source,
        cast(notes as varchar)      as notes,
        cast(loaded_at as timestamp) as loaded_at
    from source
)

select * from typed
