-- Grafana-style panels: absolute time ranges, time_bucket group-bys, top-k, last value per host.

-- name: range_rows
SELECT time, hostname, usage_user FROM cpu
WHERE time >= '2024-01-01 00:10:00+00' AND time < '2024-01-01 00:20:00+00'
ORDER BY time, hostname;

-- name: range_between
SELECT count(*) FROM cpu WHERE time BETWEEN '2024-01-01 00:10:00+00' AND '2024-01-01 00:20:00+00';

-- name: range_one_host
SELECT time, usage_user, usage_system FROM cpu
WHERE hostname = 'host_b' AND time > '2024-01-01 00:30:00+00' ORDER BY time;

-- name: range_hosts_in
SELECT hostname, count(*) FROM cpu WHERE hostname IN ('host_a', 'host_c') GROUP BY hostname ORDER BY hostname;

-- name: bucket_5m_avg
SELECT time_bucket('5 minutes', time) AS bucket, avg(usage_user) AS avg_user
FROM cpu GROUP BY bucket ORDER BY bucket;

-- name: bucket_5m_host
SELECT time_bucket('5 minutes', time) AS bucket, hostname, max(usage_user), min(usage_system)
FROM cpu GROUP BY bucket, hostname ORDER BY bucket, hostname;

-- name: bucket_interval_typed
SELECT time_bucket(interval '10 minutes', time) AS b, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

-- name: bucket_15m_range
SELECT time_bucket('15 minutes', time) AS b, round(avg(usage_idle)::numeric, 2) AS idle
FROM cpu WHERE time >= '2024-01-01 00:00:00+00' AND time < '2024-01-01 01:00:00+00'
GROUP BY b ORDER BY b;

-- name: bucket_1h_sensors
SELECT time_bucket('1 hour', time) AS hour, sensor_id, avg(temperature) AS t, max(humidity) AS h
FROM sensors GROUP BY hour, sensor_id ORDER BY hour, sensor_id;

-- name: bucket_origin
SELECT time_bucket('1 hour', time, '2024-01-01 00:30:00+00'::timestamptz) AS b, count(*)
FROM sensors GROUP BY b ORDER BY b;

-- name: bucket_90s_tsbs
SELECT time_bucket('90 seconds', time) AS b, max(usage_user)
FROM tsbs_cpu WHERE hostname = 'host_3' AND time < '2016-01-01 00:30:00+00' GROUP BY b ORDER BY b;

-- name: bucket_1d
SELECT time_bucket('1 day', time) AS d, count(*) FROM sensors GROUP BY d ORDER BY d;

-- name: bucket_timestamp_no_tz
SELECT time_bucket('10 minutes', ts) AS b, count(*), sum(bytes) FROM logs GROUP BY b ORDER BY b;

-- name: bucket_int
SELECT time_bucket(10, reading_count) AS b, count(*) FROM sensors WHERE reading_count IS NOT NULL
GROUP BY b ORDER BY b;

-- name: top3_hosts_by_avg
SELECT hostname, avg(usage_user) AS a FROM cpu GROUP BY hostname ORDER BY a DESC LIMIT 3;

-- name: top5_tsbs_max
SELECT hostname, max(usage_user) AS m, min(usage_idle) FROM tsbs_cpu
GROUP BY hostname ORDER BY m DESC, hostname LIMIT 5;

-- name: last_per_host_distinct_on
SELECT DISTINCT ON (hostname) hostname, time, usage_user FROM cpu ORDER BY hostname, time DESC;

-- name: last_per_host_last_fn
SELECT hostname, last(usage_system, time) AS last_system, first(usage_system, time) AS first_system
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: last_per_host_max_time
SELECT c.hostname, c.time, c.usage_idle FROM cpu c
JOIN (SELECT hostname, max(time) AS t FROM cpu GROUP BY hostname) m
  ON c.hostname = m.hostname AND c.time = m.t
ORDER BY c.hostname;

-- name: last_value_window
SELECT hostname, time, usage_user FROM (
  SELECT hostname, time, usage_user,
         row_number() OVER (PARTITION BY hostname ORDER BY time DESC) AS rn
  FROM cpu) t
WHERE rn = 1 ORDER BY hostname;

-- name: stat_panel_latest
SELECT usage_user FROM cpu WHERE hostname = 'host_a' ORDER BY time DESC LIMIT 1;

-- name: gauge_now_like
SELECT avg(usage_user), max(usage_user), min(usage_user) FROM cpu
WHERE time > '2024-01-01 00:54:00+00';

-- name: table_panel_region
SELECT region, count(*) AS n, avg(usage_user) AS avg_user, sum(cores) AS cores
FROM cpu GROUP BY region ORDER BY region;

-- name: heatmap_buckets
SELECT time_bucket('10 minutes', time) AS b, width_bucket(usage_user, 0, 100, 5) AS band, count(*)
FROM cpu WHERE usage_user IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;

-- name: bucket_multi_agg_tsbs
SELECT time_bucket('1 hour', time) AS hour, hostname,
       max(usage_user) AS max_user, max(usage_system) AS max_system, max(usage_idle) AS max_idle
FROM tsbs_cpu WHERE hostname IN ('host_0', 'host_1')
GROUP BY hour, hostname ORDER BY hour, hostname;

-- name: bucket_minute_count
SELECT date_trunc('minute', time) AS m, count(*) FROM cpu
WHERE time < '2024-01-01 00:05:00+00' GROUP BY m ORDER BY m;

-- name: rate_of_counter
SELECT sensor_id, max(total) - min(total) AS increase FROM sensors GROUP BY sensor_id ORDER BY sensor_id;

-- name: uptime_fraction
SELECT sensor_id, avg(CASE WHEN door_open THEN 1.0 ELSE 0.0 END) AS open_ratio
FROM sensors GROUP BY sensor_id ORDER BY sensor_id;

-- name: threshold_alert
SELECT hostname, count(*) FILTER (WHERE usage_user > 90) AS hot, count(*) AS total
FROM cpu GROUP BY hostname HAVING count(*) FILTER (WHERE usage_user > 90) > 0 ORDER BY hostname;

-- name: bucket_desc_limit
SELECT time_bucket('5 minutes', time) AS b, avg(usage_user) AS v FROM cpu
GROUP BY b ORDER BY b DESC LIMIT 4;

-- name: range_empty
SELECT hostname, avg(usage_user) FROM cpu WHERE time > '2030-01-01' GROUP BY hostname;

-- name: range_empty_agg
SELECT count(*), avg(usage_user), max(time) FROM cpu WHERE time > '2030-01-01';

-- name: single_host_series
SELECT time, usage_user FROM tsbs_cpu
WHERE hostname = 'host_7' AND time >= '2016-01-01 01:00:00+00' AND time < '2016-01-01 01:05:00+00'
ORDER BY time;

-- name: tsbs_cpu_max_all_1
SELECT time_bucket('1 hour', time) AS hour,
  max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait),
  max(usage_irq), max(usage_softirq), max(usage_steal), max(usage_guest), max(usage_guest_nice)
FROM tsbs_cpu WHERE hostname IN ('host_9')
  AND time >= '2016-01-01 00:00:00+00' AND time < '2016-01-01 02:00:00+00'
GROUP BY hour ORDER BY hour;

-- name: tsbs_double_groupby
SELECT time_bucket('1 hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user
FROM tsbs_cpu WHERE time >= '2016-01-01 00:00:00+00' AND time < '2016-01-01 02:00:00+00'
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: tsbs_high_cpu
SELECT * FROM tsbs_cpu WHERE usage_user > 90.0
  AND time >= '2016-01-01 00:00:00+00' AND time < '2016-01-01 00:20:00+00' AND hostname = 'host_2'
ORDER BY time;

-- name: tsbs_lastpoint
SELECT DISTINCT ON (hostname) * FROM tsbs_cpu ORDER BY hostname, time DESC;

-- name: tsbs_groupby_orderby_limit
SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM tsbs_cpu
WHERE time < '2016-01-01 01:30:00+00' GROUP BY minute ORDER BY minute DESC LIMIT 5;

-- name: tsbs_single_groupby_5
SELECT time_bucket('1 minute', time) AS minute,
  max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait)
FROM tsbs_cpu WHERE hostname IN ('host_1', 'host_4')
  AND time >= '2016-01-01 00:40:00+00' AND time < '2016-01-01 00:50:00+00'
GROUP BY minute ORDER BY minute;

-- name: tsbs_by_region
SELECT region, datacenter, count(DISTINCT hostname) AS hosts, avg(usage_steal) FROM tsbs_cpu
GROUP BY region, datacenter ORDER BY region, datacenter;

-- name: tsbs_tag_like
SELECT hostname, count(*) FROM tsbs_cpu WHERE service_environment LIKE 'prod%'
GROUP BY hostname ORDER BY hostname;

-- name: tsbs_tag_not_in
SELECT count(*) FROM tsbs_cpu WHERE hostname NOT IN ('host_0', 'host_1', 'host_2');

-- name: tsbs_tag_or
SELECT count(*) FROM tsbs_cpu WHERE (hostname = 'host_0' OR team = 'LON') AND time < '2016-01-01 00:10:00+00';

-- name: tsbs_tag_ne
SELECT count(*) FROM tsbs_cpu WHERE os <> 'Ubuntu16.04LTS';
