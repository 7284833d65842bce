-- One row per ingested edition; published (then supersedes, then the key) orders editions for
-- the vintage policy.
{{ staged_source('raw', 'editions', [
    'edition', 'title', 'published', 'source', 'notes', 'loaded_at', 'supersedes',
]) }}
