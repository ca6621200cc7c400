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

-- name: jsonb_contains_operators
SELECT '{"a":1,"b":{"c":[1,2,3],"d":"x"}}'::jsonb @> '{"b":{"c":[3,1]}}' AS nested,
       '{"a":{"b":1}}'::jsonb @> '{"b":1}' AS not_deeper, '[1,2,[3]]'::jsonb @> '[3]' AS not_inner,
       '[1,2,[3]]'::jsonb @> '[[3]]' AS inner_array, '["a","b"]'::jsonb @> '"a"' AS scalar_in_array,
       '"a"'::jsonb @> '["a"]' AS array_in_scalar, '{"n":1.0}'::jsonb @> '{"n":1}' AS numbers_by_value,
       '{"a":1}'::jsonb @> '{}' AS empty_object, '{}'::jsonb @> '[]' AS other_kind,
       '[{"a":1,"b":2},{"c":3}]'::jsonb @> '[{"a":1},{"c":3}]' AS elements,
       '[{"a":1},{"b":2}]'::jsonb @> '[{"a":1,"b":2}]' AS in_one_element, '{"a":true}'::jsonb @> '{"a":1}' AS bool_is_no_number,
       '{"a":1}'::jsonb <@ '{"a":1,"b":null}' AS contained_by, '[1,1]'::jsonb <@ '[1]' AS duplicates;

-- name: jsonb_contains_columns_and_nulls
SELECT t.id, t.j @> '{"h":"a"}' AS has_h, '{"h":"a","n":[1,2]}'::jsonb @> t.j AS within, t.j <@ NULL AS null_right
FROM (VALUES (1, '{"h":"a","n":[2]}'::jsonb), (2, '{"h":"b"}'), (3, NULL), (4, '[]')) t(id, j) ORDER BY t.id;

-- name: jsonb_contains_in_where
SELECT hostname, count(*) AS n FROM cpu
WHERE jsonb_build_object('host', hostname, 'cores', cores) @> jsonb_build_object('host', hostname) AND to_jsonb(cores) <@ '[1, 2, 4, 8]'
GROUP BY hostname ORDER BY hostname;

-- name: jsonb_key_exists_operators
SELECT '{"a":1,"b":null}'::jsonb ? 'b' AS key_with_null, '{"a":{"c":1}}'::jsonb ? 'c' AS not_nested,
       '["a","b",1]'::jsonb ? 'a' AS string_element, '["a",1]'::jsonb ? '1' AS number_element, '"a"'::jsonb ? 'a' AS scalar,
       '{"a":1}'::jsonb ?| ARRAY['x','a'] AS any_of, '{"a":1}'::jsonb ?| '{x,y}' AS none_of,
       '{"a":1,"b":2}'::jsonb ?& ARRAY['a','b'] AS all_of, '{"a":1}'::jsonb ?& ARRAY['a','z'] AS not_all,
       '{"a":1}'::jsonb ? NULL AS null_key, NULL::jsonb ? 'a' AS null_value, '{"a":1}'::jsonb ?| ARRAY['a', NULL] AS null_element,
       '["a b"]'::jsonb ?& '{"a b"}' AS quoted_element;

-- name: jsonb_key_exists_on_rows
SELECT hostname, jsonb_build_object(hostname, 1, 'cores', cores) ? 'host_a' AS a,
       jsonb_build_object('x', 1) ?| ARRAY[hostname, 'x'] AS x
FROM cpu ORDER BY time, hostname LIMIT 3;

-- name: json_has_no_key_exists_operator
-- error: 42883
SELECT '{"a":1}'::json ? 'a';

-- name: json_has_no_concat_operator
-- error: 42883
SELECT '{"a":1}'::json || '{"b":1}'::json;

-- name: jsonb_minus_operators
SELECT '{"a":1,"b":2,"c":{"a":3}}'::jsonb - 'a' AS key, '{"a":1}'::jsonb - 'z' AS missing_key,
       '["a","b","a",1]'::jsonb - 'a' AS strings, '[1,2,3]'::jsonb - 0 AS first, '[1,2,3]'::jsonb - -1 AS last,
       '[1,2,3]'::jsonb - 5 AS out_of_range, '{"a":1,"b":2,"c":3}'::jsonb - ARRAY['a','c'] AS keys,
       '["x","y",1]'::jsonb - '{y,z}'::text[] AS array_keys, '{"a":1}'::jsonb - NULL::text AS null_key,
       '{"a":2.50,"b":1e2,"c":1}'::jsonb - 'c' AS keeps_numbers, '{}'::jsonb - 'a' AS empty;

-- name: jsonb_minus_key_of_scalar
-- error: 22023
SELECT '"a"'::jsonb - 'a';

-- name: jsonb_minus_index_of_object
-- error: 22023
SELECT '{"a":1}'::jsonb - 0;

-- name: jsonb_minus_keys_of_scalar
-- error: 22023
SELECT '1'::jsonb - ARRAY['a'];

-- name: jsonb_delete_path_operator
SELECT '{"a":{"b":[1,2,3]},"c":1}'::jsonb #- '{a,b,1}' AS nested, '{"a":{"b":1}}'::jsonb #- '{a,x}' AS missing,
       '[1,[2,3]]'::jsonb #- '{1,-1}' AS negative, '{"a":1}'::jsonb #- '{}' AS empty_path,
       '{"a":1}'::jsonb #- '{a,b}' AS through_scalar, '[1,2]'::jsonb #- '{9}' AS past_the_end,
       '{"a b":{"c":1}}'::jsonb #- '{"a b",c}' AS quoted_key, NULL::jsonb #- '{a}' AS null_value;

-- name: jsonb_delete_path_not_an_index
-- error: 22P02
SELECT '{"a":[1,2]}'::jsonb #- '{a,x}';

-- name: jsonb_delete_path_in_scalar
-- error: 22023
SELECT '3'::jsonb #- '{0}';

-- name: jsonb_concat_operator
SELECT '{"b":1,"c":2}'::jsonb || '{"a":3,"b":4}' AS objects, '[1,2]'::jsonb || '[2,3]' AS arrays,
       '[1]'::jsonb || '{"a":1}' AS array_object, '{"a":1}'::jsonb || '[1]' AS object_array,
       '1'::jsonb || '"x"' AS scalars, '{"a":1}'::jsonb || '2' AS object_scalar, '[]'::jsonb || '{"a":1}' AS empty_array,
       '{}'::jsonb || '[1]' AS empty_object, '[]'::jsonb || '1' AS empty_and_scalar, NULL::jsonb || '[1]' AS null_left,
       '{"a":{"x":1}}'::jsonb || '{"a":{"y":2}}' AS shallow;

-- name: jsonb_concat_of_rows
SELECT jsonb_build_object('host', hostname, 'cores', cores) || jsonb_build_object('region', region, 'cores', 0) AS j,
       jsonb_build_array(cores) || to_jsonb(hostname) AS a
FROM cpu ORDER BY time, hostname LIMIT 3;

-- name: jsonb_set_function
SELECT jsonb_set('{"a":{"b":[1,2]},"c":1}', '{a,b,0}', '"x"') AS element, jsonb_set('{"b":1}', '{a}', '[1, 2]') AS new_key,
       jsonb_set('{"b":1}', '{a}', '2', false) AS no_create, jsonb_set('{"a":[1,2]}', '{a,5}', '3') AS append,
       jsonb_set('{"a":[1,2]}', '{a,-5}', '0') AS prepend, jsonb_set('{"a":[1,2]}', '{a,-1}', '9') AS negative,
       jsonb_set('{"a":{}}', '{x,y}', '1') AS missing_step, jsonb_set('[]', '{0}', '1') AS empty_array,
       jsonb_set('{}', '{a}', '1', false) AS empty_no_create, jsonb_set('{"a":1}', '{}', '2') AS empty_path,
       jsonb_set('{"a":[1,2]}', '{a,9}', '3', false) AS no_append, jsonb_set('{"a":1}', '{a,b}', '2') AS through_scalar;

-- name: jsonb_set_nulls
SELECT jsonb_set(NULL, '{a}', '1') AS null_target, jsonb_set('{"a":1}', '{a}', NULL) AS null_value,
       jsonb_set('{"a":1}', NULL, '1') AS null_path, jsonb_set('{"a":1}', '{a}', 'null') AS json_null;

-- name: jsonb_set_on_rows
SELECT hostname, jsonb_set(jsonb_build_object('h', hostname, 'c', cores), '{c}', to_jsonb(cores * 2)) AS doubled,
       jsonb_set('{"z": 0}', ARRAY[hostname], jsonb_build_array(cores)) AS by_column_path
FROM cpu ORDER BY time, hostname LIMIT 3;

-- name: jsonb_set_null_path_element
-- error: 22004
SELECT jsonb_set('{"a":1}', '{a,NULL}', '2');

-- name: jsonb_set_in_scalar
-- error: 22023
SELECT jsonb_set('"x"', '{a}', '2');

-- name: jsonb_set_step_not_an_index
-- error: 22P02
SELECT jsonb_set('{"a":[1]}', '{a,first}', '2');

-- name: jsonb_insert_function
SELECT jsonb_insert('{"a":[1,2]}', '{a,1}', '"x"') AS before, jsonb_insert('{"a":[1,2]}', '{a,1}', '"x"', true) AS after,
       jsonb_insert('{"a":[1,2]}', '{a,-1}', '"x"') AS negative, jsonb_insert('{"a":[1,2]}', '{a,9}', '"x"') AS past_the_end,
       jsonb_insert('{"a":[1,2]}', '{a,-9}', '"x"') AS before_the_start, jsonb_insert('{"b":1}', '{a}', '{"y":1,"x":2}') AS new_key,
       jsonb_insert('[]', '{0}', '1') AS empty_array, jsonb_insert(NULL, '{0}', '1') AS null_target;

-- name: jsonb_insert_existing_key
-- error: 22023
SELECT jsonb_insert('{"a":1}', '{a}', '2');

-- name: jsonb_array_elements_select_list
SELECT jsonb_array_elements('[1, "a", {"b": 2.50, "a": null}, [true]]') AS e;

-- name: jsonb_array_elements_zipped
SELECT jsonb_array_elements('[1,[2]]') AS v, jsonb_array_elements_text('["a","b",null,{"x": "y"}]') AS t;

-- name: jsonb_array_elements_in_from
SELECT e.value, e.value ->> 'h' AS h, pg_typeof(e.value)::text AS ty FROM jsonb_array_elements('[{"h":"a"},{"h":"b"},3]') e;

-- name: jsonb_array_elements_text_in_from
SELECT * FROM jsonb_array_elements_text('[1, "x", null, [1, 2]]') AS e(v);

-- name: jsonb_array_elements_lateral
SELECT c.hostname, e.value FROM (SELECT hostname, jsonb_build_array(cores, hostname, NULL) AS j FROM cpu ORDER BY time, hostname LIMIT 2) c,
     jsonb_array_elements_text(c.j) e
ORDER BY 1, 2;

-- name: jsonb_sets_lateral_joins
SELECT c.hostname, e.key, e.value, x FROM cpu c
CROSS JOIN LATERAL jsonb_each(jsonb_build_object('h', c.hostname, 'n', c.cores)) AS e
LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN c.cores > 4 THEN jsonb_build_array(c.region) END) AS x ON true
WHERE c.time = '2024-01-01 00:00:00+00' ORDER BY 1, 2;

-- name: jsonb_sets_with_ordinality
SELECT a.*, o.k, o.n FROM jsonb_array_elements('[10, [2], "x"]') WITH ORDINALITY AS a,
     jsonb_object_keys('{"bb":1,"a":2}') WITH ORDINALITY AS o(k, n)
ORDER BY a.ordinality, o.n;

-- name: jsonb_set_alias_is_the_value
SELECT e, e ->> 'h' AS h FROM jsonb_array_elements('[{"h":"a"},{"h":"b"},{"x":1}]') e WHERE e ? 'h' ORDER BY e ->> 'h' DESC;

-- name: jsonb_array_elements_of_rows
SELECT hostname, jsonb_array_elements(jsonb_build_array(cores, hostname)) AS e
FROM cpu WHERE time = '2024-01-01 00:00:00+00' ORDER BY 1, 2;

-- name: json_array_elements_keep_text
SELECT json_array_elements('[1, {"b":2,  "a":1}, "x" , 2.50]') AS e, json_array_elements_text('["a\"b", null, 1.0, {"x" : 1}]') AS t;

-- name: jsonb_array_elements_of_object
-- error: 22023
SELECT jsonb_array_elements('{"a":1}');

-- name: json_array_elements_of_scalar
-- error: 22023
SELECT * FROM json_array_elements('"x"');

-- name: jsonb_each_in_from
SELECT key, value, pg_typeof(value)::text AS ty FROM jsonb_each('{"bb": [1, 2], "a": {"y": 1, "x": null}, "c": "s", "a": 2.50}');

-- name: jsonb_each_text_in_from
SELECT * FROM jsonb_each_text('{"a": null, "b": "x\"y", "c": [1, "z"], "d": 1.0}') AS e(k, v);

-- name: json_each_keeps_text_and_duplicates
SELECT * FROM json_each('{"b": [1,  2], "a" : "x", "b": null}');

-- name: json_each_text_in_from
SELECT e.key, e.value FROM json_each_text('{"b": [1,  2], "a" : "x\u00e9", "n": null}') e;

-- name: jsonb_each_lateral
SELECT t.id, e.key, e.value FROM (VALUES (1, '{"b":1,"a":[1,2]}'::jsonb), (2, '{}'), (3, NULL)) t(id, j), jsonb_each(t.j) e
ORDER BY 1, 2;

-- name: jsonb_each_of_array
-- error: 22023
SELECT * FROM jsonb_each('[1]');

-- name: json_each_of_scalar
-- error: 22023
SELECT * FROM json_each_text('1');

-- name: jsonb_object_keys_function
SELECT jsonb_object_keys('{"bb": 1, "a": {"z": 1}, "ccc": 3, "a": 2}') AS k;

-- name: json_object_keys_as_written
SELECT json_object_keys('{"bb": 1, "a": {"z": 1}, "bb": 3}') AS k;

-- name: jsonb_object_keys_in_from
SELECT * FROM jsonb_object_keys('{"b": 1, "a": 2}') AS k;

-- name: jsonb_object_keys_of_rows
SELECT hostname, jsonb_object_keys(to_jsonb(c) - 'time' - 'usage_user' - 'usage_system' - 'usage_idle' - 'load_avg') AS k
FROM cpu c WHERE time = '2024-01-01 00:00:00+00' ORDER BY hostname, k;

-- name: jsonb_object_keys_of_scalar
-- error: 22023
SELECT jsonb_object_keys('1');

-- name: json_object_keys_of_array
-- error: 22023
SELECT json_object_keys('[1]');

-- name: jsonb_array_length_of_object
-- error: 22023
SELECT jsonb_array_length('{"a": 1}');

-- name: json_array_length_of_scalar
-- error: 22023
SELECT json_array_length('3');

-- name: jsonb_pretty_function
SELECT jsonb_pretty('{"b": [1, {"c": null}], "a": 1.50, "e": {}, "f": []}') AS p, jsonb_pretty('[]') AS a, jsonb_pretty('"x"') AS s,
       jsonb_pretty('{}') AS o, jsonb_pretty(NULL) AS n;

-- name: jsonb_strip_nulls_function
SELECT jsonb_strip_nulls('{"a": null, "b": [null, {"c": null, "d": 2.50}], "e": {"f": null}}') AS s, jsonb_strip_nulls('null') AS n,
       jsonb_strip_nulls('[null]') AS a;

-- name: pg_typeof_json_and_jsonb
SELECT pg_typeof('{}'::jsonb)::text AS a, pg_typeof(to_jsonb(c.cores))::text AS b, pg_typeof(jsonb_build_object('a', 1))::text AS c,
       pg_typeof('{}'::json)::text AS d, pg_typeof(row_to_json(c))::text AS e, pg_typeof(jsonb_agg(1) OVER ())::text AS f
FROM cpu c ORDER BY time, hostname LIMIT 1;

-- name: jsonb_cast_refuses_nan
-- error: 22P02
SELECT ('[' || 'NaN' || ']')::jsonb;

-- name: jsonb_cast_of_text_sorts_keys
SELECT ('{"' || hostname || '": 1, "zz": 2.50, "a": [{"yy": 1, "b": 2}], "zz": 3}')::jsonb AS j,
       ('{"b": ' || cores || ', "a": {"dd": 1, "c": 2}}')::json::jsonb AS k
FROM cpu ORDER BY time, hostname LIMIT 2;

-- name: jsonb_object_agg_sorts_keys
SELECT jsonb_object_agg(k, v) AS j FROM (VALUES ('bb', 1), ('a', 2), ('bb', 3), ('ccc', 4)) t(k, v);

-- name: jsonb_object_agg_of_rows
SELECT jsonb_object_agg(hostname || repeat('x', 20 - cores), cores) AS j FROM cpu WHERE time = '2024-01-01 00:00:00+00';

-- name: jsonb_build_object_column_keys
SELECT jsonb_build_object(hostname, cores, 'a', 1, hostname, 2) AS j FROM cpu ORDER BY time, hostname LIMIT 2;

-- name: jsonb_param_sorts_keys
-- params: ["{\"bb\": 1, \"a\": {\"yy\": 2, \"x\": 2.50}, \"bb\": 2}"]
SELECT $1::jsonb AS j, $1::jsonb @> '{"bb": 2}' AS c;

-- name: jsonb_operators_with_params
-- params: ["{\"h\": \"a\"}", "h", "{a,b}", "[1, 2.50]"]
SELECT '{"h": "a", "n": 1}'::jsonb @> $1 AS c, '{"h": 1}'::jsonb ? $2 AS e, jsonb_set('{"a": {"b": 1}}', $3, $4) AS s;
