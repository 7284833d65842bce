-- Static foreign market access: coastal i: 100 / D_ii; inland i: 100 / min over coastal j of
-- (D_ij + D_jj). D_ii = (2/3) sqrt(area_i / pi) km (internal distance); D_ij = great-circle
-- (haversine, R = 6371 km) distance between capitals.
with provinces as (
    select * from {{ ref('stg_geography__panel_units') }}
),

internal_distances as (
    select
        province_code,
        coastal,
        capital_lat,
        capital_lon,
        (2.0 / 3.0) * sqrt(area_km2 / pi()) as internal_distance_km
    from provinces
),

coastal_routes as (
    select
        origin.province_code,
        port.province_code as port_province_code,
        2 * 6371 * asin(sqrt(
            power(sin(radians(port.capital_lat - origin.capital_lat) / 2), 2)
            + cos(radians(origin.capital_lat)) * cos(radians(port.capital_lat))
              * power(sin(radians(port.capital_lon - origin.capital_lon) / 2), 2)
        )) + port.internal_distance_km as route_km
    from internal_distances as origin
    cross join internal_distances as port
    where port.coastal and not origin.coastal
),

nearest_ports as (
    select
        province_code,
        arg_min(port_province_code, route_km) as nearest_coastal_province_code,
        min(route_km) as route_km
    from coastal_routes
    group by province_code
)

select
    internal_distances.province_code,
    internal_distances.coastal,
    internal_distances.internal_distance_km,
    nearest_ports.nearest_coastal_province_code,
    case when internal_distances.coastal then internal_distances.internal_distance_km
         else nearest_ports.route_km end as distance_to_sea_km,
    100 / case when internal_distances.coastal then internal_distances.internal_distance_km
               else nearest_ports.route_km end as fma
from internal_distances
left join nearest_ports using (province_code)
