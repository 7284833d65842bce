-- HUM = ln(h * L): E = average years of schooling of the 6+ population from the attainment
-- counts, h = exp(phi(E)) with phi piecewise linear (returns per bracket from the seed),
-- L = employed persons (10k).
with province_years as (
    select * from {{ ref('int_province_years_pivoted') }}
    where province_code != '00'
),

schooling_years as (
    select indicator, years_of_schooling from {{ ref('schooling_years') }}
),

schooling_returns as (
    select years_from, years_to, "return" as return_per_year from {{ ref('schooling_returns') }}
),

attainment as (
    -- long form of the five attainment counts, to weight them with the seed's years
    unpivot (
        select province_code, year, edu_none, edu_primary, edu_junior, edu_senior, edu_tertiary
        from province_years
    )
    on edu_none, edu_primary, edu_junior, edu_senior, edu_tertiary
    into name indicator value persons
),

average_schooling as (
    select
        province_code,
        year,
        {{ deterministic_sum('persons * years_of_schooling') }} / nullif({{ deterministic_sum('persons') }}, 0)
            as average_years_of_schooling,
        count(persons) as n_attainment_counts
    from attainment
    inner join schooling_years using (indicator)
    group by province_code, year
),

{%- set bracket_return %}
            return_per_year * greatest(
                0,
                least(average_years_of_schooling, coalesce(years_to, 'infinity'::double)) - years_from
            )
{%- endset %}
schooling_return_sums as (
    -- phi(E) = sum over brackets of return * years of E falling inside the bracket
    select
        province_code,
        year,
        average_years_of_schooling,
        {{ deterministic_sum(bracket_return) }} as schooling_return
    from average_schooling
    cross join schooling_returns
    where n_attainment_counts = 5
    group by province_code, year, average_years_of_schooling
)

select
    province_years.province_code,
    province_years.year,
    schooling_return_sums.average_years_of_schooling,
    schooling_return_sums.schooling_return,
    exp(schooling_return_sums.schooling_return) as human_capital_per_worker,
    province_years.employment,
    ln(exp(schooling_return_sums.schooling_return) * province_years.employment) as hum,
    province_years.edu_none_is_filled or province_years.edu_primary_is_filled
        or province_years.edu_junior_is_filled or province_years.edu_senior_is_filled
        or province_years.edu_tertiary_is_filled or province_years.employment_is_filled as hum_is_filled
from province_years
left join schooling_return_sums using (province_code, year)
