-- One value per province-year-indicator, chosen by the vintage policy:
-- 'latest' = the most recently published edition wins, 'first_release' = the earliest.
-- Editions of one publication date are ordered by the manifests' supersedes (an edition comes
-- after the one it supersedes), then by key; a build warns about disagreeing ties left to the key.
{%- set vintage_policy = checked_var('vintage_policy', ['latest', 'first_release']) | trim %}
{%- set direction = 'desc' if vintage_policy == 'latest' else 'asc' %}

with candidates as (
    select * from {{ ref('int_indicator_values_collapsed_per_edition') }}
),

ranked as (
    select
        *,
        count(*) over cell as n_editions,
        row_number() over (
            partition by province_code, year, indicator
            order by published {{ direction }}, supersession_depth {{ direction }}, edition {{ direction }}
        ) as vintage_rank
    from candidates
    window cell as (partition by province_code, year, indicator)
)

select
    province_code,
    year,
    indicator,
    value,
    unit,
    edition,
    published,
    file,
    n_editions,
    '{{ vintage_policy }}' as vintage_policy
from ranked
where vintage_rank = 1
