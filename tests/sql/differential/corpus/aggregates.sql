-- Aggregates: result types, NULL handling, ordered-set aggregates, FILTER, HAVING.

-- name: count_variants
SELECT count(*), count(usage_user), count(DISTINCT hostname), count(region) FROM cpu;

-- name: sum_double
SELECT sum(usage_user), sum(usage_system) FROM cpu;

-- name: sum_int4
SELECT sum(reading_count), sum(level) FROM sensors;

-- name: sum_int8
SELECT sum(total) FROM sensors;

-- name: avg_int4
SELECT avg(reading_count) FROM sensors;

-- name: avg_int8
SELECT avg(total) FROM sensors;

-- name: avg_int2
SELECT avg(level), sum(level)::int8 AS s FROM sensors;

-- name: avg_real
SELECT avg(humidity), sum(humidity) FROM sensors;

-- name: min_max_types
SELECT min(reading_count), max(total), min(level), max(humidity), min(time), max(note) FROM sensors;

-- name: min_max_text
SELECT min(hostname), max(region) FROM cpu;

-- name: min_max_bool
SELECT bool_and(door_open), bool_or(door_open), every(door_open) FROM sensors;

-- name: bool_agg_grouped
SELECT sensor_id, bool_and(door_open), bool_or(door_open) FROM sensors GROUP BY sensor_id ORDER BY 1;

-- name: stddev_family
SELECT stddev(usage_user), stddev_samp(usage_user), stddev_pop(usage_user),
       variance(usage_user), var_samp(usage_user), var_pop(usage_user) FROM cpu;

-- name: stddev_int
SELECT stddev(reading_count), variance(level) FROM sensors;

-- name: stddev_single_row
SELECT stddev(usage_user), var_pop(usage_user) FROM cpu WHERE hostname = 'host_a' AND time = '2024-01-01 00:00:00+00';

-- name: string_agg_ordered
SELECT string_agg(hostname, ',' ORDER BY hostname) FROM hosts;

-- name: string_agg_grouped
SELECT region, string_agg(DISTINCT hostname, ';' ORDER BY hostname) FROM cpu GROUP BY region ORDER BY region;

-- name: array_agg_ordered
SELECT array_agg(rack ORDER BY hostname) FROM hosts;

-- name: array_agg_text
SELECT team, array_agg(hostname ORDER BY hostname) FROM hosts GROUP BY team ORDER BY team;

-- name: array_agg_with_nulls
SELECT array_agg(team ORDER BY hostname) FROM hosts;

-- name: percentile_cont
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user) FROM cpu;

-- name: percentile_cont_grouped
SELECT hostname, percentile_cont(0.9) WITHIN GROUP (ORDER BY usage_user) AS p90
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: percentile_disc
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY usage_system) FROM cpu;

-- name: percentile_disc_int
SELECT percentile_disc(0.25) WITHIN GROUP (ORDER BY reading_count) FROM sensors;

-- name: percentile_cont_array
SELECT percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY temperature) FROM sensors;

-- name: percentile_cont_real
-- (found by test_randomized: PostgreSQL interpolates a real column in float8 and answers float8)
SELECT sensor_id, percentile_cont(0.25) WITHIN GROUP (ORDER BY humidity) AS p FROM sensors
WHERE time >= '2024-01-01 00:00:00+00' GROUP BY sensor_id ORDER BY sensor_id;

-- name: percentile_cont_real_numeric_duckdb
SELECT percentile_cont(0.3) WITHIN GROUP (ORDER BY load_avg) AS l,
       percentile_cont(0.3) WITHIN GROUP (ORDER BY price) AS p,
       percentile_cont(ARRAY[0.1, 0.5]) WITHIN GROUP (ORDER BY price) AS ps
FROM cpu, (SELECT price FROM orders WHERE price IS NOT NULL) o WHERE hostname = 'host_a';

-- name: mode_agg
SELECT mode() WITHIN GROUP (ORDER BY cores) FROM cpu;

-- name: filter_clause
SELECT count(*) FILTER (WHERE usage_user > 50) AS busy,
       avg(usage_user) FILTER (WHERE hostname = 'host_a') AS a_avg,
       sum(cores) FILTER (WHERE region IS NULL) AS no_region
FROM cpu;

-- name: filter_grouped
SELECT sensor_id, count(*) FILTER (WHERE door_open) AS opened, max(temperature) FILTER (WHERE NOT door_open)
FROM sensors GROUP BY sensor_id ORDER BY sensor_id;

-- name: having_count
SELECT hostname, count(*) FROM cpu GROUP BY hostname HAVING count(*) > 55 ORDER BY hostname;

-- name: having_avg
SELECT sensor_id, avg(temperature) FROM sensors GROUP BY sensor_id HAVING avg(temperature) > 10 ORDER BY 1;

-- name: having_no_group
SELECT count(*) FROM cpu HAVING count(*) > 1000;

-- name: group_by_expression
SELECT cores * 2 AS c2, count(*) FROM cpu GROUP BY cores * 2 ORDER BY c2;

-- name: group_by_ordinal
SELECT region, hostname, count(*) FROM cpu GROUP BY 1, 2 ORDER BY 1, 2;

-- name: group_by_bool
SELECT door_open, count(*) FROM sensors GROUP BY door_open ORDER BY door_open;

-- name: group_by_null_group
SELECT region, count(*) FROM cpu GROUP BY region ORDER BY region NULLS FIRST;

-- name: agg_empty_input
SELECT sum(cores), avg(cores), min(cores), count(cores), string_agg(hostname, ','), array_agg(cores),
       bool_and(true), stddev(cores)
FROM cpu WHERE false;

-- name: agg_all_nulls
SELECT sum(usage_user), avg(usage_user), count(usage_user) FROM cpu WHERE usage_user IS NULL;

-- name: count_distinct_multi
SELECT count(DISTINCT (hostname, region)) FROM cpu;

-- name: sum_distinct
SELECT sum(DISTINCT cores), avg(DISTINCT cores) FROM cpu;

-- name: agg_of_expression
SELECT sum(usage_user * cores) / sum(cores) AS weighted FROM cpu WHERE usage_user IS NOT NULL;

-- name: nested_agg_in_case
SELECT CASE WHEN max(usage_user) > 99 THEN 'high' ELSE 'normal' END AS level FROM cpu;

-- name: grouping_sets
SELECT region, hostname, count(*) FROM cpu GROUP BY GROUPING SETS ((region), (hostname), ()) 
ORDER BY region NULLS LAST, hostname NULLS LAST;

-- name: rollup
SELECT region, hostname, sum(cores) FROM cpu GROUP BY ROLLUP (region, hostname)
ORDER BY region NULLS LAST, hostname NULLS LAST;

-- name: cube
SELECT sensor_id, door_open, count(*) FROM sensors WHERE sensor_id IN ('sensor_0', 'sensor_1')
GROUP BY CUBE (sensor_id, door_open) ORDER BY 1 NULLS LAST, 2 NULLS LAST;

-- name: corr_regr
SELECT corr(usage_user, usage_system), covar_pop(usage_user, usage_system), covar_samp(usage_user, usage_system),
       regr_slope(usage_user, usage_system), regr_intercept(usage_user, usage_system)
FROM cpu;

-- name: count_star_tsbs_group
SELECT team, service_environment, count(*) FROM tsbs_cpu GROUP BY team, service_environment ORDER BY 1, 2;

-- name: avg_tsbs_all_fields
SELECT avg(usage_user), avg(usage_system), avg(usage_idle), avg(usage_nice), avg(usage_iowait),
       avg(usage_irq), avg(usage_softirq), avg(usage_steal), avg(usage_guest), avg(usage_guest_nice)
FROM tsbs_cpu;

-- name: sum_int8_overflow_safe
SELECT sum(total * 1000) FROM sensors;

-- name: max_of_sum
SELECT max(s) FROM (SELECT sum(value) AS s FROM events GROUP BY host) t;

-- name: events_duplicates_count
SELECT time, count(*) FROM events GROUP BY time ORDER BY time;

-- name: events_distinct_rows
SELECT count(*) FROM (SELECT DISTINCT * FROM events) t;

-- name: logs_level_stats
SELECT level, count(*), sum(bytes), avg(latency_ms), max(ts) FROM logs GROUP BY level ORDER BY level;

-- name: bit_and_or
SELECT bit_and(cores), bit_or(cores) FROM cpu;

-- name: avg_numeric_literal
SELECT avg(x) FROM (VALUES (1), (2), (2)) v(x);

-- name: sum_numeric_cast
SELECT sum(usage_user::numeric(10,2)) FROM cpu;

-- name: json_agg_grouped_ordered
SELECT hostname, json_agg(usage_user ORDER BY time DESC, usage_user) AS j, json_agg(region ORDER BY time) AS r
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: json_agg_filter_and_nulls
SELECT json_agg(note ORDER BY time, note) FILTER (WHERE level > 2) AS j, json_agg(note ORDER BY time, note) AS all_notes
FROM sensors;

-- name: json_agg_no_rows_is_null
SELECT json_agg(usage_user) AS j, json_agg(hostname) AS h FROM cpu WHERE usage_user > 1000;

-- name: json_agg_of_rows
SELECT json_agg(t ORDER BY t.hostname) AS rows
FROM (SELECT hostname, max(usage_user) AS top, count(*) AS n FROM cpu GROUP BY hostname) t;

-- name: json_agg_window
SELECT hostname, time, json_agg(usage_user) OVER (PARTITION BY hostname ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS w
FROM cpu ORDER BY hostname, time LIMIT 20;

-- name: jsonb_agg_read_back
SELECT hostname, jsonb_array_length(jsonb_agg(usage_user)) AS n, jsonb_agg(usage_user ORDER BY time DESC) ->> 0 AS newest
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: json_agg_filter_over_window
SELECT hostname, time, json_agg(usage_user) FILTER (WHERE usage_user > 50) OVER (PARTITION BY hostname ORDER BY time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS w
FROM cpu ORDER BY hostname, time LIMIT 12;

-- name: last_beside_filtered_aggregate
-- (found by test_randomized: the native last(value, time) picked another FILTER's piece, which holds
-- no row of its own, and answered NULL)
SELECT hostname, last(usage_system, time) AS l, first(usage_user, time) AS f,
       max(usage_user) FILTER (WHERE usage_user > 50) AS hi, count(*) FILTER (WHERE hostname = 'host_b') AS b
FROM cpu WHERE time >= '2024-01-01 00:00:00+00' AND time < '2024-01-01 01:00:00+00'
GROUP BY hostname ORDER BY hostname;
