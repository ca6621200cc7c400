-- Values cast to text: the text PostgreSQL produces for each type (what clients see in text mode too).

-- name: text_of_timestamptz
SELECT time::text FROM cpu WHERE hostname = 'host_a' AND time < '2024-01-01 00:02:00+00';

-- name: text_of_timestamptz_fraction
SELECT time::text FROM sensors WHERE sensor_id = 'sensor_0' AND time < '2024-01-01 01:00:00+00';

-- name: text_of_timestamp
SELECT ts::text FROM logs ORDER BY ts LIMIT 3;

-- name: text_of_date
SELECT day::text FROM orders ORDER BY time LIMIT 2;

-- name: text_of_interval
SELECT (interval '1 day 2 hours 3 minutes')::text AS a, (interval '90 minutes')::text AS b, (interval '-1 day')::text AS c;

-- name: text_of_bool
SELECT door_open::text, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: text_of_float
SELECT usage_user::text FROM cpu WHERE hostname = 'host_b' AND time < '2024-01-01 00:03:00+00';

-- name: text_of_real
SELECT humidity::text FROM sensors WHERE sensor_id = 'sensor_1' AND time < '2024-01-01 01:00:00+00';

-- name: text_of_numeric
SELECT price::text FROM orders WHERE price IS NOT NULL ORDER BY time LIMIT 3;

-- name: text_of_int_array
SELECT ARRAY[1, 2, 3]::text AS a;

-- name: text_of_text_array
SELECT array_agg(hostname ORDER BY hostname)::text FROM hosts;

-- name: text_concat_timestamp
SELECT 'at ' || time FROM cpu WHERE hostname = 'host_c' AND time = '2024-01-01 00:00:00+00';

-- name: text_of_float_special
SELECT (1e100::float8)::text AS big, (1.0::float8 / 3)::text AS third, (0.1::float8 + 0.2::float8)::text AS sum;

-- name: text_of_interval_mixed
SELECT (interval '1 year 2 months -3 days 4 hours 5 minutes 6.5 seconds')::text AS a, (interval '0')::text AS b,
       (max(time) - min(time))::text AS span, 'took ' || (interval '36 hours') AS c FROM cpu;
