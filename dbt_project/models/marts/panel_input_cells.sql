-- The inputs of every panel row, one row per panel province x year x input indicator: the value
-- the panel used, whether it was observed, interpolated or carried, and for an observed value
-- the cell it was read from (edition, file, sheet, row, column, the text as printed). The
-- edition is the one the vintage policy chose (int_indicators_resolved_to_edition), so nobody
-- has to re-implement the policy to trace a panel value to its source.
-- National series (the exchange rate, which converts trade and FDI to CNY) are listed under
-- every province, read from the national row '00' (source_province_code).
{#- the panel variables in the paper's order, to list them in that order -#}
{%- set variable_order = ['tu', 'ic', 'ic2', 'cx', 'hum', 'fdi', 'gov', 'inf', 'fma', 'fma_tv', 'te', 'ks'] %}

with panel_rows as (
    select province_code, year from {{ ref('province_year_panel') }}
),

catalog as (
    select indicator, scope from {{ ref('indicator_catalog') }}
),

-- which input enters which variable: the seed marts.variable_availability reads too
variable_inputs as (
    select variable, indicator from {{ ref('model_variable_inputs') }}
),

trade_used as (
    select province_code, year, uses_trade_split from {{ ref('int_trade_chosen_for_tu') }}
),

cells as (
    select
        panel_rows.province_code,
        panel_rows.year,
        variable_inputs.indicator,
        case when catalog.scope = 'national' then '00' else panel_rows.province_code end as source_province_code,
        -- TU takes either the total or exports + imports (int_trade_chosen_for_tu): the other
        -- trade series does not enter it in this row
        coalesce(string_agg(variable_inputs.variable, ','
                            order by list_position({{ variable_order }}, variable_inputs.variable))
            filter (where not (variable_inputs.variable = 'tu' and (
                (variable_inputs.indicator = 'trade_total' and coalesce(trade_used.uses_trade_split, false))
                or (variable_inputs.indicator in ('exports', 'imports') and not coalesce(trade_used.uses_trade_split, false))))),
            '') as variables
    from panel_rows
    cross join variable_inputs
    inner join catalog using (indicator)
    left join trade_used using (province_code, year)
    group by panel_rows.province_code, panel_rows.year, variable_inputs.indicator, catalog.scope,
        trade_used.uses_trade_split
),

-- the cell of the chosen edition the value was read from: when several cells of that edition
-- hold it (they agree, or assert_files_of_one_edition_agree fails the build), the first in
-- (file, sheet, row, col) order, as int_indicator_values_collapsed_per_edition keeps it
source_cells as (
    select
        extract_values.province_code,
        extract_values.year,
        extract_values.indicator,
        arg_min(
            {'file': extract_values.file, 'file_sha256': extract_values.file_sha256,
             'sheet': extract_values.sheet, 'source_row': extract_values.source_row,
             'source_col': extract_values.source_col, 'source_value': extract_values.source_value,
             'source_unit': extract_values.source_unit},
            {'file': extract_values.file, 'sheet': coalesce(extract_values.sheet, ''),
             'row': extract_values.source_row, 'col': extract_values.source_col}
        ) as cell,
        count(*) as n_source_cells
    from {{ ref('stg_raw__extract_values') }} as extract_values
    inner join {{ ref('int_indicators_resolved_to_edition') }} as resolved
        on extract_values.province_code = resolved.province_code
        and extract_values.year = resolved.year
        and extract_values.indicator = resolved.indicator
        and extract_values.edition = resolved.edition
    where extract_values.value is not null
    group by extract_values.province_code, extract_values.year, extract_values.indicator
),

-- observed values (in the catalog unit, years outside the grid too): the anchors of fills
anchors as (
    select province_code, indicator, year, edition
    from {{ ref('int_indicators_in_catalog_unit') }}
    where value is not null
),

traced as (
    select
        cells.province_code,
        cells.year,
        cells.indicator,
        cells.source_province_code,
        cells.variables,
        converted.value,
        converted.unit,
        coalesce(converted.fill_method, 'missing') as fill_method,
        converted.catalog_unit_value,
        converted.catalog_unit,
        coalesce(converted.rate_is_filled, false) as rate_is_filled,
        observed.edition,
        resolved.published,
        resolved.n_editions,
        resolved.vintage_policy,
        observed.published_value,
        observed.published_unit,
        source_cells.cell.file as file,
        source_cells.cell.file_sha256 as file_sha256,
        source_cells.cell.sheet as sheet,
        source_cells.cell.source_row as source_row,
        source_cells.cell.source_col as source_col,
        source_cells.cell.source_value as source_value,
        source_cells.cell.source_unit as source_unit,
        source_cells.n_source_cells
    from cells
    left join {{ ref('int_indicators_converted_to_cny') }} as converted
        on converted.province_code = cells.source_province_code
        and converted.year = cells.year
        and converted.indicator = cells.indicator
    -- the edition's cell only where the panel observed it (a CNY value of a year without a
    -- published rate is not used: it is filled instead)
    left join {{ ref('int_indicators_in_catalog_unit') }} as observed
        on converted.fill_method = 'observed'
        and observed.province_code = cells.source_province_code
        and observed.year = cells.year
        and observed.indicator = cells.indicator
    left join {{ ref('int_indicators_resolved_to_edition') }} as resolved
        on observed.province_code = resolved.province_code
        and observed.year = resolved.year
        and observed.indicator = resolved.indicator
    left join source_cells
        on observed.province_code = source_cells.province_code
        and observed.year = source_cells.year
        and observed.indicator = source_cells.indicator
)

-- a filled value's nearest observed years before and after it (the anchors it was filled from)
select
    traced.*,
    case when traced.fill_method in ('interpolated', 'carried') then previous_anchor.year end
        as previous_anchor_year,
    case when traced.fill_method in ('interpolated', 'carried') then previous_anchor.edition end
        as previous_anchor_edition,
    case when traced.fill_method in ('interpolated', 'carried') then next_anchor.year end
        as next_anchor_year,
    case when traced.fill_method in ('interpolated', 'carried') then next_anchor.edition end
        as next_anchor_edition
from traced
asof left join anchors as previous_anchor
    on previous_anchor.province_code = traced.source_province_code
    and previous_anchor.indicator = traced.indicator
    and previous_anchor.year < traced.year
asof left join anchors as next_anchor
    on next_anchor.province_code = traced.source_province_code
    and next_anchor.indicator = traced.indicator
    and next_anchor.year > traced.year
