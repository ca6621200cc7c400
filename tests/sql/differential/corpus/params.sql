-- Statements with $n parameters sent as untyped text values (what drivers do with the extended
-- protocol): the server infers each parameter's type from its context, then decodes the value.

-- name: param_tag_eq
-- params: ["host_a"]
SELECT count(*) FROM cpu WHERE hostname = $1;

-- name: param_tag_and_time_range
-- params: ["host_b", "2024-01-01 00:10:00+00", "2024-01-01 00:15:00+00"]
SELECT time, usage_user FROM cpu WHERE hostname = $1 AND time >= $2 AND time < $3 ORDER BY time;

-- name: param_int_column
-- params: ["1"]
SELECT hostname FROM hosts WHERE rack = $1 ORDER BY hostname;

-- name: param_limit
-- params: ["2"]
SELECT hostname FROM hosts ORDER BY hostname LIMIT $1;

-- name: param_limit_offset
-- params: ["2", "1"]
SELECT hostname FROM hosts ORDER BY hostname LIMIT $1 OFFSET $2;

-- name: param_float_compare
-- params: ["50.5"]
SELECT count(*) FROM cpu WHERE usage_user > $1;

-- name: param_cast_int
-- params: ["41"]
SELECT $1::int + 1 AS answer;

-- name: param_in_list
-- params: ["host_a", "host_c"]
SELECT hostname, count(*) FROM cpu WHERE hostname IN ($1, $2) GROUP BY hostname ORDER BY hostname;

-- name: param_bool
-- params: ["true"]
SELECT count(*) FROM sensors WHERE door_open = $1;

-- name: param_bigint
-- params: ["100"]
SELECT count(*) FROM events WHERE value >= $1;

-- name: param_between
-- params: ["sensor_3", "2024-01-01 02:00:00+00", "2024-01-01 05:00:00+00"]
SELECT avg(temperature), count(*) FROM sensors WHERE sensor_id = $1 AND time BETWEEN $2 AND $3;

-- name: param_null
-- params: [null]
SELECT count(*) FROM cpu WHERE hostname = $1;

-- name: param_select_list_text
-- params: ["hello"]
SELECT $1 AS v;

-- name: param_used_twice
-- params: ["4"]
SELECT count(*) FROM cpu WHERE cores = $1 OR cores * 2 = $1;

-- name: param_numeric_column
-- params: ["500"]
SELECT count(*) FROM orders WHERE price > $1;

-- name: param_timestamp_column
-- params: ["2024-01-02 00:00:00"]
SELECT count(*) FROM logs WHERE ts > $1;

-- name: param_date_column
-- params: ["2024-01-02"]
SELECT count(*) FROM orders WHERE day = $1;

-- name: param_like
-- params: ["host_%"]
SELECT hostname FROM cpu WHERE hostname LIKE $1 GROUP BY 1 ORDER BY 1;

-- name: param_date_trunc_unit
-- params: ["hour"]
SELECT date_trunc($1, time) AS h, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: param_time_bucket_width
-- params: ["10 minutes"]
SELECT time_bucket($1, time) AS b, count(*) FROM cpu GROUP BY b ORDER BY b;

-- name: param_insertless_arith
-- params: ["2.5"]
SELECT usage_user * $1 AS scaled FROM cpu WHERE hostname = 'host_a' AND time < '2024-01-01 00:03:00+00' ORDER BY time;

-- name: param_bad_int
-- params: ["abc"]
-- error: 22P02
SELECT hostname FROM hosts WHERE rack = $1;
