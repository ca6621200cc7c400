-- A mixed bag of everyday SQL: top-level VALUES/TABLE, constant selects, type promotion in
-- CASE/COALESCE/GREATEST, casts of aggregates, interval aggregates, TimescaleDB selectors.

-- name: top_level_values
VALUES (1, 'a'), (2, 'b');

-- name: table_shorthand
TABLE hosts;

-- name: select_where_false
SELECT 1 AS one WHERE false;

-- name: aggregate_without_from
SELECT count(*) AS n, sum(1) AS s;

-- name: max_with_null_values
SELECT max(x), min(x), count(x) FROM (VALUES (1), (NULL), (3)) t(x);

-- name: case_numeric_promotion
SELECT hostname, CASE WHEN rack > 1 THEN 1 ELSE 1.5 END AS v FROM hosts;

-- name: coalesce_int_numeric
SELECT coalesce(rack, 1.5) AS v FROM hosts;

-- name: greatest_int_float
SELECT greatest(rack, weight) AS g FROM hosts;

-- name: int_aggregate_division
SELECT sum(rack) / count(rack) AS int_avg, sum(rack)::float8 / count(rack) AS f FROM hosts;

-- name: avg_cast_int
SELECT avg(rack)::int AS a, round(avg(rack), 2) AS r FROM hosts;

-- name: avg_cast_numeric_typmod
SELECT avg(usage_user)::numeric(10, 3) AS a FROM cpu;

-- name: percentile_of_int
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY rack) AS p, percentile_disc(0.5) WITHIN GROUP (ORDER BY rack) AS d FROM hosts;

-- name: modulo_signs
SELECT 5 % -3 AS a, -5 % 3 AS b, 5.5 % 2 AS c, mod(-5.5, 2) AS d;

-- name: power_int_numeric
SELECT 2 ^ 0.5 AS a, 2.0 ^ 2 AS b, 4 ^ 0.5 AS c;

-- name: date_plus_time
SELECT date '2024-01-01' + time '10:00' AS ts;

-- name: now_comparison
SELECT now() > '2000-01-01' AS after_2000, now() - now() AS zero;

-- name: date_column_functions
SELECT date_part('year', day) AS y, to_char(day, 'YYYY-MM') AS ym, extract(epoch FROM day) AS e FROM orders ORDER BY time LIMIT 2;

-- name: interval_times_fraction
SELECT interval '1 hour' * 1.5 AS a, interval '1 day' * 2 AS b, 2 * interval '30 minutes' AS c;

-- name: interval_aggregates
SELECT sum(interval '1 hour') AS s, avg(x) AS a, max(x) AS m FROM (VALUES (interval '1 hour'), (interval '3 hours')) t(x);

-- name: max_time_minus_interval
SELECT max(time) - interval '1 hour' AS t FROM cpu;

-- name: date_trunc_plus_interval
SELECT date_trunc('hour', time) + interval '30 minutes' AS half, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: time_bucket_month
SELECT time_bucket('1 month', time) AS m, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: first_last_grouped
SELECT sensor_id, first(temperature, time) AS f, last(temperature, time) AS l FROM sensors GROUP BY sensor_id ORDER BY 1;

-- name: last_of_varchar
-- (::text: the reference's last() is one aggregate per type, TimescaleDB's is polymorphic)
SELECT sensor_id, last(note::text, time) AS n FROM sensors WHERE note IS NOT NULL GROUP BY sensor_id ORDER BY 1;

-- name: first_of_int
SELECT sensor_id, first(reading_count, time) AS f, last(total, time) AS l FROM sensors GROUP BY sensor_id ORDER BY 1;

-- name: array_agg_distinct_nulls
SELECT array_agg(DISTINCT region ORDER BY region) AS regions FROM cpu;

-- name: string_agg_distinct
SELECT string_agg(DISTINCT kind, ',' ORDER BY kind) AS kinds FROM events;

-- name: window_deviation
SELECT hostname, time, usage_user - avg(usage_user) OVER (PARTITION BY hostname) AS dev
FROM cpu WHERE time < '2024-01-01 00:03:00+00';

-- name: subquery_limit_offset
SELECT * FROM (SELECT hostname, rack FROM hosts ORDER BY hostname) t ORDER BY 1 LIMIT 3 OFFSET 1;

-- name: named_window_nulls_last
SELECT hostname, rank() OVER w AS r FROM hosts WINDOW w AS (ORDER BY rack NULLS FIRST, hostname);

-- name: length_to_text_concat
SELECT length(hostname)::text || 'x' AS l FROM hosts;

-- name: float_to_int_division
SELECT rack::float8 / 3 AS third FROM hosts;

-- name: count_filter_null
SELECT count(*) FILTER (WHERE team IS NULL) AS no_team, count(*) FILTER (WHERE rack IS NOT NULL) AS racked FROM hosts;

-- name: exists_in_select_list_correlated
SELECT h.hostname, EXISTS (SELECT 1 FROM events e WHERE e.host = h.hostname AND e.kind = 'alert') AS alerted FROM hosts h;

-- name: in_subquery_select_list
SELECT hostname, hostname IN (SELECT host FROM events) AS has_events FROM hosts;

-- name: nested_ctes_and_union
WITH a AS (SELECT hostname FROM hosts), b AS (SELECT DISTINCT hostname FROM cpu)
SELECT hostname, 'dim' AS src FROM a UNION ALL SELECT hostname, 'fact' FROM b;

-- name: order_by_alias_expression
SELECT hostname, rack * 10 AS r10 FROM hosts ORDER BY r10 DESC NULLS LAST, hostname;

-- name: group_by_alias
SELECT upper(hostname) AS h, count(*) FROM cpu GROUP BY h ORDER BY h;

-- name: having_without_select
SELECT region FROM cpu GROUP BY region HAVING avg(usage_user) > 40 ORDER BY region NULLS FIRST;

-- name: select_star_except_join_qualified
SELECT c.*, h.team FROM (SELECT DISTINCT hostname, region FROM cpu) c LEFT JOIN hosts h USING (hostname);

-- name: bool_expressions
SELECT hostname, (rack > 1) AND (weight IS NOT NULL) AS big, (rack = 1) OR (team = 'web') AS either, NOT (team IS NULL) AS has FROM hosts;

-- name: between_symmetric
SELECT count(*) FROM hosts WHERE rack BETWEEN SYMMETRIC 3 AND 1;

-- name: not_between
SELECT count(*) FROM cpu WHERE usage_user NOT BETWEEN 10 AND 90;

-- name: is_distinct_in_where
SELECT hostname FROM hosts WHERE team IS DISTINCT FROM 'web' ORDER BY 1;

-- name: abs_of_interval_diff
SELECT hostname, max(time) - min(time) AS span FROM cpu GROUP BY hostname ORDER BY 1;

-- name: pg_settings_names_as_postgresql_spells_them
SELECT name, vartype FROM pg_settings
WHERE name IN ('TimeZone', 'DateStyle', 'IntervalStyle', 'server_encoding', 'client_encoding', 'search_path')
ORDER BY name;

-- name: pg_settings_vartypes
SELECT name, vartype FROM pg_settings
WHERE name IN ('IntervalStyle', 'client_min_messages', 'bytea_output', 'transaction_isolation', 'work_mem', 'lock_timeout', 'jit', 'standard_conforming_strings', 'max_connections')
ORDER BY name;

-- name: whole_row_reference_reads_every_column
SELECT row_to_json(c) ->> 'hostname' AS h, (row_to_json(c) ->> 'usage_user')::float8 AS u, row_to_json(c) ->> 'region' AS r
FROM cpu c WHERE usage_user > 90 ORDER BY time, hostname LIMIT 5;

-- name: whole_row_reference_in_an_aggregate
SELECT json_array_length(json_agg(s)) AS n, json_agg(s ORDER BY s.time, s.sensor_id) -> 0 ->> 'sensor_id' AS first_sensor FROM sensors s;

-- name: unnest_several_arrays
SELECT * FROM unnest(ARRAY[1, 2], ARRAY['a', 'b', 'c']) AS t(n, s);

-- name: unnest_several_arrays_with_ordinality
SELECT * FROM unnest(ARRAY[1, 2, 3], ARRAY['a']) WITH ORDINALITY AS t(n, s, i);

-- name: unnest_several_arrays_lateral
SELECT h.hostname, u.* FROM hosts AS h, LATERAL unnest(ARRAY[h.hostname, h.team], ARRAY[h.rack]) AS u(v, k)
ORDER BY 1, 2, 3;
