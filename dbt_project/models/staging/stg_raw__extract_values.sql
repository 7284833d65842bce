-- Catalog indicators only, typed; renaming and casting, nothing else.
{{ staged_source('raw', 'extract_values', [
    'edition', 'file', 'file_sha256', 'sheet', 'source_row', 'source_col', 'province_code', 'year',
    'indicator', 'value', 'unit', 'source_value', 'source_unit', 'loaded_at',
], where='in_catalog') }}
