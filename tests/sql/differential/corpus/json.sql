-- json and jsonb as PostgreSQL 15 writes them: the harness compares their text exactly, and the
-- type OIDs (114 json, 3802 jsonb) with the columns.

-- name: to_json_timestamptz_iso
SELECT to_json(time) AS t, to_json(time::timestamp) AS ts, to_json(time::date) AS d
FROM cpu ORDER BY time LIMIT 3;

-- name: to_json_timestamptz_fraction
SELECT to_json('2016-01-01 00:00:00.5+00'::timestamptz) AS a, to_json('2016-01-01 00:00:00.123'::timestamp) AS b;

-- name: to_json_timestamptz_session_zone
-- session: SET TIME ZONE 'Asia/Kolkata'
SELECT to_json(time) AS t, row_to_json(c) AS r FROM cpu c ORDER BY time, hostname LIMIT 2;

-- name: row_to_json_with_timestamps
SELECT row_to_json(c) AS r FROM cpu c ORDER BY time, hostname LIMIT 4;

-- name: json_agg_rows_with_timestamps
SELECT json_agg(s ORDER BY s.time, s.sensor_id) AS j FROM (SELECT * FROM sensors ORDER BY time, sensor_id LIMIT 3) s;

-- name: json_agg_separator_and_nulls
SELECT json_agg(x) AS j, jsonb_agg(x) AS b FROM (VALUES (1), (NULL), (3)) v(x);

-- name: json_agg_of_arrays
SELECT json_agg(a) AS j FROM (VALUES (ARRAY[1, 2]), (NULL), (ARRAY[3])) v(a);

-- name: json_agg_timestamps
SELECT hostname, json_agg(time ORDER BY time) AS j FROM cpu WHERE time < '2024-01-01 00:02:00+00' GROUP BY hostname ORDER BY hostname;

-- name: jsonb_agg_rows_sorted_keys
SELECT jsonb_agg(t ORDER BY t.hostname) AS j
FROM (SELECT hostname, count(*) AS n, max(time) AS last_seen FROM cpu GROUP BY hostname) t;

-- name: json_build_object_spacing
SELECT json_build_object('b', 1, 'a', 'x', 'c', NULL, 'd', ARRAY[1, 2]) AS o, json_build_object() AS e;

-- name: json_build_object_values
SELECT json_build_object('host', hostname, 'at', time, 'usage', usage_user, 'cores', cores) AS o
FROM cpu ORDER BY time, hostname LIMIT 4;

-- name: json_build_object_nested
SELECT json_build_object('a', json_build_object('b', 1), 'l', json_agg(usage_user ORDER BY time)) AS o
FROM cpu WHERE hostname = 'host_0' AND time < '2024-01-01 00:03:00+00';

-- name: jsonb_build_object_sorted_and_duplicates
SELECT jsonb_build_object('bb', 1, 'a', 'x', 'c', NULL, 'd', ARRAY[1, 2], 'a', 3) AS o;

-- name: jsonb_build_object_values
SELECT jsonb_build_object('host', hostname, 'at', time, 'usage', usage_user) AS o
FROM cpu ORDER BY time, hostname LIMIT 3;

-- name: json_cast_keeps_text
SELECT '{"b":1,  "a":[1,2,{"y":1,"x":2}], "b":3}'::json AS j;

-- name: jsonb_cast_normalised
SELECT '{"b":1,  "a":[1,2,{"yy":1,"x":2}], "b":3, "aaa": {"é": 1.50, "z": -0.0}}'::jsonb AS j, '[1,"a",null,true]'::jsonb AS a;

-- name: jsonb_cast_to_text
SELECT '{"b": 1, "a": 2}'::jsonb::text AS t, to_jsonb(ARRAY[1, 2])::text AS u;

-- name: jsonb_cast_of_text_column
SELECT ('[' || hostname || ']')::text AS s, ('["' || hostname || '", ' || cores || ']')::jsonb AS j
FROM cpu ORDER BY time, hostname LIMIT 2;

-- name: to_json_scalars
SELECT to_json(ARRAY[1, 2]) AS a, to_jsonb(ARRAY[1, 2]) AS b, to_json('a"b\/'::text) AS s, to_json(1e20::float8) AS big,
       to_json('NaN'::float8) AS nan, to_json(true) AS t, to_json(54::float8) AS whole, to_jsonb(2.5::float8) AS half;

-- name: to_json_floats_of_a_table
SELECT to_json(usage_user) AS u, to_jsonb(load_avg) AS l FROM cpu ORDER BY time, hostname LIMIT 5;

-- name: jsonb_arrow_operators
SELECT '{"a":{"c":1,"b":[1, 2]}}'::jsonb -> 'a' AS o, '{"a":{"c":1,"b":[1, 2]}}'::jsonb ->> 'a' AS t,
       '{"a":{"c":1,"b":[1, 2]}}'::jsonb #> '{a,b}' AS p, '{"a":{"c":1,"b":[1, 2]}}'::jsonb #>> '{a,c}' AS pt,
       '{"a":[10,20]}'::jsonb #> '{a,1}' AS i;

-- name: json_arrow_types
SELECT row_to_json(c) -> 'hostname' AS h, row_to_json(c) ->> 'cores' AS n, to_jsonb(c.cores) AS j
FROM cpu c ORDER BY time, hostname LIMIT 2;

-- name: json_typeof_each
SELECT jsonb_typeof(v) AS b, json_typeof(v::json) AS j
FROM (VALUES ('{"a":1}'::jsonb), ('[1]'), ('"s"'), ('1.5'), ('true'), ('null')) t(v);

-- name: jsonb_array_length_of_literal
SELECT jsonb_array_length('[1, [2, 3], {"a": 4}]'::jsonb) AS n;

-- name: json_build_array_spacing
SELECT json_build_array(1, 'a', NULL, now()::date - now()::date) AS j, jsonb_build_array(1, 'a', NULL) AS b;

-- name: jsonb_agg_grouped
SELECT hostname, jsonb_agg(usage_user ORDER BY time) AS j FROM cpu
WHERE time < '2024-01-01 00:03:00+00' GROUP BY hostname ORDER BY hostname;

-- name: json_object_agg_spacing
SELECT json_object_agg(hostname, n) AS j, json_object_agg(hostname, last_seen) AS t
FROM (SELECT hostname, count(*) AS n, max(time) AS last_seen FROM cpu GROUP BY hostname ORDER BY hostname) s;

-- name: json_object_agg_grouped
SELECT hostname, json_object_agg('cores', cores) AS j, json_object_agg('at', time) FILTER (WHERE cores > 0) AS f
FROM cpu WHERE time = '2024-01-01 00:00:00+00' GROUP BY hostname ORDER BY hostname;

-- name: jsonb_object_agg_one_key
SELECT hostname, jsonb_object_agg('n', cores) AS j FROM cpu WHERE time = '2024-01-01 00:00:00+00' GROUP BY hostname ORDER BY hostname;

-- name: json_object_agg_over_window
SELECT hostname, time, json_object_agg(hostname || '@' || extract(minute FROM time)::int, usage_user) FILTER (WHERE usage_user > 0) OVER (PARTITION BY hostname ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS w
FROM cpu ORDER BY hostname, time LIMIT 6;

-- name: row_to_json_of_row_constructor
SELECT row_to_json(ROW(cores, hostname, time)) AS r, json_agg(ROW(cores, hostname)) OVER (ORDER BY hostname ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS w
FROM cpu WHERE time = '2024-01-01 00:00:00+00' ORDER BY hostname;

-- name: to_json_of_json_keeps_text
SELECT to_json('{"a" : 1}'::json) AS j, json_build_object('k', '[1,  2]'::json) AS o, to_jsonb('{"b":1,"a":2}'::json) AS b;

-- name: json_agg_of_json_keeps_text
SELECT json_agg(j) AS a, json_agg(json_build_object('h', hostname) ORDER BY hostname) AS b
FROM (SELECT hostname, '{"a" : 1}'::json AS j FROM cpu WHERE time = '2024-01-01 00:00:00+00') t;

-- name: to_json_timestamptz_negative_offset
-- session: SET TIME ZONE 'America/New_York'
SELECT to_json(time) AS t, json_build_object('at', time) AS o, jsonb_build_object('at', time::timestamp) AS b
FROM cpu ORDER BY time, hostname LIMIT 2;

-- name: jsonb_params
-- params: ["{\"b\": [1,2], \"a\": 1}", "7"]
SELECT $1::jsonb -> 'b' AS b, jsonb_build_object('k', $2::int4) AS o;

-- name: json_agg_distinct_timestamps_and_floats
SELECT hostname, json_agg(DISTINCT date_trunc('hour', time)) AS h, json_agg(DISTINCT cores ORDER BY cores DESC) AS c,
       jsonb_agg(DISTINCT load_avg) FILTER (WHERE load_avg IS NOT NULL) IS NOT NULL AS any_load
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: json_agg_float_arrays_and_window_timestamps
SELECT hostname, time, json_agg(ARRAY[usage_user, 1e20]) OVER w AS a, json_agg(time) OVER w AS t
FROM cpu WINDOW w AS (PARTITION BY hostname ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY hostname, time LIMIT 4;

-- name: floats_in_exponent_form
SELECT to_json(ARRAY[1e-7::float8, 54, 1e20]) AS a, json_build_object('small', 1e-7::float8, 'l', ARRAY[1e16::float8]) AS o,
       json_build_array(usage_user, 1e-5::float8) AS b, json_agg(1e-7::float8) AS j
FROM cpu WHERE time = '2024-01-01 00:00:00+00' AND hostname = 'host_a' GROUP BY usage_user;

-- name: rows_with_json_floats_and_nulls
SELECT row_to_json(t) AS r, to_jsonb(t) AS b
FROM (SELECT 1e-7::float8 AS f, '{"a" : 1}'::json AS j, NULL::text AS "n x", '{"b":1,"a":2}'::jsonb AS jb, ARRAY[1.5::float8, NULL] AS l) t
WHERE false
UNION ALL
SELECT row_to_json(t), NULL::jsonb
FROM (SELECT 1e-7::float8 AS f, '{"a" : 1}'::json AS j, NULL::text AS "n x", '{"b":1,"a":2}'::jsonb AS jb, ARRAY[1.5::float8, NULL] AS l) t
UNION ALL
SELECT NULL::json, to_jsonb(t)
FROM (SELECT 1.5::float8 AS f, '{"a" : 1}'::json AS j, NULL::text AS "n x", '{"b":1,"a":2}'::jsonb AS jb, ARRAY[1.5::float8, NULL] AS l) t;

-- name: json_agg_rows_with_floats
SELECT json_agg(t ORDER BY t.hostname) AS j, jsonb_agg(u ORDER BY u.hostname) AS b
FROM (SELECT hostname, min(usage_user) / 1e9::float8 AS tiny, ARRAY[max(load_avg)] AS l FROM cpu GROUP BY hostname) t
JOIN (SELECT hostname, min(usage_user) AS low, ARRAY[max(load_avg)] AS l FROM cpu GROUP BY hostname) u USING (hostname);

-- name: json_extract_path_functions
SELECT json_extract_path(row_to_json(c), 'hostname') AS h, json_extract_path_text(row_to_json(c), 'cores') AS n,
       jsonb_extract_path(to_jsonb(c), 'region') AS r, jsonb_extract_path_text('{"a":{"b":[1, {"y":1,"x":2}]}}', 'a', 'b', '1') AS t,
       jsonb_extract_path('{"a":{"b":[1, {"y":1,"x":2}]}}', 'a', 'b') AS p
FROM cpu c ORDER BY time, hostname LIMIT 2;
