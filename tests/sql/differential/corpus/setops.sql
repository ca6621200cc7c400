-- UNION / INTERSECT / EXCEPT, DISTINCT, DISTINCT ON, LIMIT / OFFSET.

-- name: union_distinct
SELECT hostname FROM cpu UNION SELECT hostname FROM hosts;

-- name: union_all
SELECT hostname FROM hosts UNION ALL SELECT host FROM events WHERE time < '2024-01-01 00:06:00+00';

-- name: union_ordered
SELECT hostname AS h FROM hosts UNION SELECT DISTINCT hostname FROM cpu ORDER BY h DESC;

-- name: union_type_widening
SELECT rack FROM hosts UNION ALL SELECT level FROM sensors WHERE time < '2024-01-01 00:30:00+00';

-- name: union_int_float
SELECT cores::int4 AS v FROM cpu WHERE time = '2024-01-01 00:00:00+00' UNION ALL SELECT 2.5::float8;

-- name: intersect
SELECT hostname FROM cpu INTERSECT SELECT hostname FROM hosts;

-- name: except
SELECT hostname FROM hosts EXCEPT SELECT hostname FROM cpu;

-- name: except_all
SELECT host FROM events EXCEPT ALL SELECT hostname FROM hosts;

-- name: intersect_all
SELECT kind FROM events INTERSECT ALL SELECT kind FROM events WHERE value > 100;

-- name: union_null_rows
SELECT NULL::text AS x UNION SELECT NULL::text UNION SELECT 'a';

-- name: distinct_simple
SELECT DISTINCT region FROM cpu;

-- name: distinct_multi
SELECT DISTINCT hostname, region FROM cpu ORDER BY hostname, region;

-- name: distinct_on_first
SELECT DISTINCT ON (sensor_id) sensor_id, time, temperature FROM sensors ORDER BY sensor_id, time;

-- name: distinct_on_max
SELECT DISTINCT ON (hostname) hostname, usage_user, time FROM cpu WHERE usage_user IS NOT NULL
ORDER BY hostname, usage_user DESC, time;

-- name: distinct_on_expression
SELECT DISTINCT ON (date_trunc('hour', time)) date_trunc('hour', time) AS h, sensor_id, temperature
FROM sensors ORDER BY date_trunc('hour', time), temperature DESC NULLS LAST, sensor_id;

-- name: limit_offset
SELECT time, hostname FROM cpu ORDER BY time, hostname LIMIT 5 OFFSET 10;

-- name: offset_only
SELECT hostname FROM hosts ORDER BY hostname OFFSET 3;

-- name: limit_zero
SELECT * FROM cpu LIMIT 0;

-- name: limit_all
SELECT hostname FROM hosts ORDER BY hostname LIMIT ALL;

-- name: fetch_first
SELECT hostname FROM hosts ORDER BY hostname FETCH FIRST 2 ROWS ONLY;

-- name: limit_null
SELECT hostname FROM hosts ORDER BY hostname LIMIT NULL;

-- name: limit_expression
SELECT id FROM labels ORDER BY id LIMIT 1 + 1;

-- name: distinct_count_types
SELECT count(DISTINCT door_open), count(DISTINCT note), count(DISTINCT location) FROM sensors;

-- name: union_in_subquery_agg
SELECT count(*), count(DISTINCT h) FROM (SELECT hostname AS h FROM hosts UNION ALL SELECT hostname FROM hosts) t;

-- name: order_by_nulls_default_asc
SELECT team FROM hosts ORDER BY team;

-- name: order_by_nulls_default_desc
SELECT team FROM hosts ORDER BY team DESC;

-- name: order_by_nulls_first_explicit
SELECT rack FROM hosts ORDER BY rack NULLS FIRST;

-- name: order_by_nulls_last_desc
SELECT rack, hostname FROM hosts ORDER BY rack DESC NULLS LAST, hostname;

-- name: order_by_expression
SELECT hostname, rack FROM hosts ORDER BY coalesce(rack, 0) * -1, hostname;

-- name: order_by_text_collation_c
SELECT label FROM labels WHERE id <> 2 UNION ALL SELECT x FROM (VALUES (''), ('Zeta'), ('_x'), ('a b')) v(x)
ORDER BY label;

-- name: order_by_mixed_case
SELECT DISTINCT location FROM sensors ORDER BY location;

-- name: order_by_bool
SELECT DISTINCT door_open FROM sensors ORDER BY door_open;
