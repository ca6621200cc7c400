-- SQL as Grafana's PostgreSQL data source writes it after expanding its macros ($__timeFilter,
-- $__timeGroupAlias, $__timeEpoch ...), with RFC 3339 time range literals.

-- name: grafana_time_series_epoch_group
SELECT floor(extract(epoch from time)/300)*300 AS "time", avg(usage_user) AS "value"
FROM cpu WHERE time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T00:59:59Z'
GROUP BY 1 ORDER BY 1;

-- name: grafana_time_series_metric
SELECT time AS "time", hostname AS metric, usage_user
FROM cpu WHERE time >= '2024-01-01T00:20:00Z' AND time <= '2024-01-01T00:25:00Z'
ORDER BY 1, 2;

-- name: grafana_time_epoch
SELECT extract(epoch from time) AS "time", usage_idle FROM cpu
WHERE hostname = 'host_c' AND time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T00:04:00Z' ORDER BY 1;

-- name: grafana_time_bucket_alias
SELECT time_bucket('1m', time) AS "time", max(usage_system) AS "max system"
FROM cpu WHERE time BETWEEN '2024-01-01T00:10:00Z' AND '2024-01-01T00:14:59Z' GROUP BY 1 ORDER BY 1;

-- name: grafana_group_by_metric_epoch
SELECT floor(extract(epoch from time)/600)*600 AS "time", hostname AS metric, avg(usage_user)
FROM cpu WHERE time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T01:00:00Z'
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: grafana_table_latest
SELECT hostname AS "Host", max(time) AS "Last seen", round(avg(usage_user)::numeric, 1) AS "Avg user"
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: grafana_variable_query
SELECT DISTINCT hostname FROM cpu ORDER BY 1;

-- name: grafana_multi_value_variable
SELECT time_bucket('15m', time) AS "time", hostname, count(*) FROM cpu
WHERE hostname IN ('host_a','host_b') AND time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T01:00:00Z'
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: grafana_unix_epoch_ms
SELECT (extract(epoch from time_bucket('10m', time)) * 1000)::bigint AS "time_ms", count(*) FROM sensors
WHERE time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T03:00:00Z' GROUP BY 1 ORDER BY 1;

-- name: grafana_stat_last
SELECT usage_user FROM cpu WHERE hostname = 'host_b' AND time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T01:00:00Z'
ORDER BY time DESC LIMIT 1;

-- name: grafana_date_trunc_interval
SELECT date_trunc('minute', time) AS "time", sum(value) FROM events
WHERE time BETWEEN '2024-01-01T00:00:00.000Z' AND '2024-01-01T00:30:00.000Z' GROUP BY 1 ORDER BY 1;

-- name: grafana_to_timestamp_epoch_filter
SELECT count(*) FROM cpu WHERE time >= to_timestamp(1704067200) AND time < to_timestamp(1704069000);

-- name: grafana_interval_ms_macro
SELECT time_bucket('300000ms', time) AS "time", count(*) FROM cpu
WHERE time < '2024-01-01T00:20:00Z' GROUP BY 1 ORDER BY 1;

-- name: grafana_heatmap_width_bucket
SELECT time_bucket('20m', time) AS "time", width_bucket(temperature, -10, 40, 5) AS le, count(*)
FROM sensors WHERE temperature IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;
