-- One row per ingested edition; published orders editions for the vintage policy.
{{ staged_source('raw', 'editions', [
    'edition', 'title', 'published', 'source', 'notes', 'loaded_at',
]) }}
