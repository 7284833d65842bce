-- The paper's province-year panel: one row per panel province x year with every model
-- variable (docs/methods.md), its main inputs, which variables rest on filled cells, and which
-- lack an input (a variable is null then; a null with every input present is corrupt input).
{#- the yearly index of FMA_tv: only the exchange rate exists so far; validated so a typo fails -#}
{%- set fma_tv_index = checked_var('fma_tv_index', ['exchange_rate']) | trim %}
with province_years as (
    select * from {{ ref('int_province_years_pivoted') }}
),

provinces as (
    select * from {{ ref('stg_geography__panel_units') }}
    where province_code not in {{ panel_excluded_provinces_sql() }}
),

location_quotients as (
    select * from {{ ref('int_location_quotients_computed') }}
),

human_capital as (
    select * from {{ ref('int_human_capital_computed') }}
),

foreign_market_access as (
    select * from {{ ref('int_foreign_market_access_computed') }}
),

transaction_efficiency as (
    select * from {{ ref('int_transaction_efficiency_computed') }}
),

transaction_efficiency_inputs as (
    -- the TE PCA runs only when some province-years have every input (te_inputs_suffice)
    select count(*) filter (where te is not null) > 0 as te_inputs_suffice
    from transaction_efficiency
),

first_year_exchange_rate as (
    -- FMA_tv index base: the {{ fma_tv_index }} of the panel's first year
    select exchange_rate as base_exchange_rate
    from province_years
    where province_code = '00' and year = {{ panel_start_year() }}
),

trade_used as (
    select * from {{ ref('int_trade_chosen_for_tu') }}
),

panel as (
    select
        provinces.province_code,
        provinces.name_en as province_name_en,
        provinces.name_zh as province_name_zh,
        province_years.year,
        provinces.region,
        provinces.coastal,

        trade_used.trade_cny / province_years.gdp as tu,
        location_quotients.ic,
        location_quotients.ic2,
        province_years.patents_granted / province_years.population as cx,
        human_capital.hum,
        province_years.fdi_actual / province_years.gdp as fdi,
        province_years.fiscal_expenditure / province_years.gdp as gov,
        province_years.optical_cable_length / province_years.population as inf,
        foreign_market_access.fma,
        foreign_market_access.fma * province_years.exchange_rate
            / first_year_exchange_rate.base_exchange_rate as fma_tv,
        transaction_efficiency.te,
        ln(province_years.patent_applications) as ks,

        province_years.gdp,
        province_years.va_secondary,
        province_years.va_tertiary,
        province_years.exports as exports_cny,
        province_years.imports as imports_cny,
        province_years.trade_total as trade_total_cny,
        trade_used.trade_cny,
        trade_used.uses_trade_split,
        province_years.fdi_actual as fdi_actual_cny,
        province_years.fiscal_expenditure,
        province_years.patents_granted,
        province_years.patent_applications,
        province_years.population,
        province_years.employment,
        province_years.optical_cable_length,
        human_capital.average_years_of_schooling,
        human_capital.human_capital_per_worker,
        province_years.exchange_rate,

        -- trade and FDI are converted to CNY at the year's rate: a filled rate fills them too
        trade_used.trade_is_filled or province_years.gdp_is_filled
            or province_years.exchange_rate_is_filled as tu_is_filled,
        location_quotients.ic_is_filled,
        location_quotients.ic2_is_filled,
        province_years.patents_granted_is_filled or province_years.population_is_filled as cx_is_filled,
        human_capital.hum_is_filled,
        province_years.fdi_actual_is_filled or province_years.gdp_is_filled
            or province_years.exchange_rate_is_filled as fdi_is_filled,
        province_years.fiscal_expenditure_is_filled or province_years.gdp_is_filled as gov_is_filled,
        province_years.optical_cable_length_is_filled or province_years.population_is_filled as inf_is_filled,
        false as fma_is_filled,  -- static: seed areas and coordinates only
        province_years.exchange_rate_is_filled as fma_tv_is_filled,
        transaction_efficiency.te_is_filled,
        province_years.patent_applications_is_filled as ks_is_filled,

        -- filled cells among this province-year's own inputs (and the year's exchange rate)
        trade_used.n_filled_trade_cells
        {%- for indicator in [
            'gdp', 'va_secondary', 'va_tertiary', 'fdi_actual', 'fiscal_expenditure',
            'patents_granted', 'patent_applications', 'population', 'employment',
            'edu_none', 'edu_primary', 'edu_junior', 'edu_senior', 'edu_tertiary',
            'optical_cable_length', 'mobile_users', 'internet_users', 'urban_road_area',
            'freight_road', 'freight_water', 'freight_air', 'exchange_rate'] %}
            + cast(province_years.{{ indicator }}_is_filled as integer)
        {%- endfor %} as n_filled_inputs,

        -- model variables of this row that lack an input (the edition set has no value for it
        -- even after interpolation): null by design, explained in marts.variable_availability
        nullif(concat_ws(',',
            case when province_years.gdp is null or trade_used.trade_cny is null then 'tu' end,
            case when province_years.gdp is null or province_years.va_tertiary is null
                or location_quotients.reference_gdp is null
                or location_quotients.reference_va_tertiary is null then 'ic' end,
            case when province_years.gdp is null or province_years.va_secondary is null
                or location_quotients.reference_gdp is null
                or location_quotients.reference_va_secondary is null then 'ic2' end,
            case when province_years.patents_granted is null or province_years.population is null then 'cx' end,
            case when province_years.employment is null
                {%- for level in ['none', 'primary', 'junior', 'senior', 'tertiary'] %}
                or province_years.edu_{{ level }} is null
                {%- endfor %} then 'hum' end,
            case when province_years.fdi_actual is null or province_years.gdp is null then 'fdi' end,
            case when province_years.fiscal_expenditure is null or province_years.gdp is null then 'gov' end,
            case when province_years.optical_cable_length is null or province_years.population is null then 'inf' end,
            case when province_years.exchange_rate is null
                or first_year_exchange_rate.base_exchange_rate is null then 'fma_tv' end,
            case when province_years.mobile_users is null or province_years.internet_users is null
                or province_years.urban_road_area is null or province_years.population is null
                or coalesce(province_years.freight_road, province_years.freight_water, province_years.freight_air) is null
                or not transaction_efficiency_inputs.te_inputs_suffice then 'te' end,
            case when province_years.patent_applications is null then 'ks' end
        ), '') as missing_input_variables
    from province_years
    inner join provinces using (province_code)
    left join trade_used using (province_code, year)
    left join location_quotients using (province_code, year)
    left join human_capital using (province_code, year)
    left join foreign_market_access using (province_code)
    left join transaction_efficiency using (province_code, year)
    -- a left join: without the first year's exchange rate FMA_tv is missing, the panel is not empty
    left join first_year_exchange_rate on true
    cross join transaction_efficiency_inputs
)

select * from panel
