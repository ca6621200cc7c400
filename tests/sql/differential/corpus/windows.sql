-- Window functions: ranking, lag/lead, frames, moving averages, running totals.

-- name: row_number_partition
SELECT hostname, time, row_number() OVER (PARTITION BY hostname ORDER BY time) AS rn
FROM cpu WHERE time < '2024-01-01 00:05:00+00';

-- name: rank_dense_rank
SELECT hostname, cores, rank() OVER (ORDER BY cores DESC), dense_rank() OVER (ORDER BY region)
FROM (SELECT DISTINCT hostname, cores, region FROM cpu WHERE region IS NOT NULL) t;

-- name: rank_ties
SELECT time, host, value, rank() OVER (PARTITION BY time ORDER BY host), dense_rank() OVER (ORDER BY time)
FROM events;

-- name: percent_rank_cume_dist
SELECT hostname, rack, percent_rank() OVER (ORDER BY rack), cume_dist() OVER (ORDER BY rack) FROM hosts;

-- name: ntile
SELECT sensor_id, time, ntile(4) OVER (PARTITION BY sensor_id ORDER BY time) FROM sensors
WHERE time < '2024-01-01 02:00:00+00';

-- name: lag_lead
SELECT hostname, time, usage_user,
       lag(usage_user) OVER w AS prev, lead(usage_user) OVER w AS next
FROM cpu WHERE hostname IN ('host_a', 'host_b') AND time < '2024-01-01 00:08:00+00'
WINDOW w AS (PARTITION BY hostname ORDER BY time);

-- name: lag_offset_default
SELECT time, total, lag(total, 2, 0::bigint) OVER (ORDER BY time) FROM sensors WHERE sensor_id = 'sensor_3'
AND time < '2024-01-01 03:00:00+00';

-- name: delta_with_lag
SELECT time, total - lag(total) OVER (ORDER BY time) AS delta FROM sensors WHERE sensor_id = 'sensor_2';

-- name: moving_avg_rows
SELECT hostname, time, avg(usage_idle) OVER (PARTITION BY hostname ORDER BY time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
FROM cpu WHERE time < '2024-01-01 00:15:00+00';

-- name: moving_avg_range_interval
SELECT hostname, time, avg(usage_idle) OVER (PARTITION BY hostname ORDER BY time
                                             RANGE BETWEEN interval '3 minutes' PRECEDING AND CURRENT ROW)
FROM cpu WHERE time < '2024-01-01 00:15:00+00';

-- name: running_total
SELECT time, value, sum(value) OVER (ORDER BY time, host, kind ROWS UNBOUNDED PRECEDING) AS running
FROM events WHERE value IS NOT NULL AND time > '2024-01-01 00:10:00+00';

-- name: running_total_range_default
SELECT time, sum(value) OVER (ORDER BY time) FROM events;

-- name: window_count_partition
SELECT hostname, count(*) OVER (PARTITION BY hostname) AS n, usage_user FROM cpu WHERE time = '2024-01-01 00:30:00+00';

-- name: window_whole
SELECT hostname, rack, avg(rack) OVER () AS avg_rack, max(weight) OVER () FROM hosts;

-- name: first_last_value
SELECT hostname, time,
       first_value(usage_user) OVER w, last_value(usage_user) OVER w,
       nth_value(usage_user, 2) OVER w
FROM cpu WHERE hostname = 'host_b' AND time < '2024-01-01 00:06:00+00'
WINDOW w AS (ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);

-- name: last_value_default_frame
SELECT time, last_value(usage_user) OVER (ORDER BY time) FROM cpu WHERE hostname = 'host_a' AND time < '2024-01-01 00:05:00+00';

-- name: window_following_frame
SELECT time, sum(usage_user) OVER (ORDER BY time ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)
FROM cpu WHERE hostname = 'host_c' AND time < '2024-01-01 00:10:00+00';

-- name: window_in_subquery_filter
SELECT * FROM (
  SELECT sensor_id, time, temperature, rank() OVER (PARTITION BY sensor_id ORDER BY temperature DESC NULLS LAST, time) AS r
  FROM sensors) t WHERE r <= 2 ORDER BY sensor_id, r;

-- name: window_over_aggregate
SELECT hostname, avg(usage_user) AS a, rank() OVER (ORDER BY avg(usage_user) DESC) FROM cpu GROUP BY hostname;

-- name: window_rows_order_desc
SELECT time, usage_user, row_number() OVER (ORDER BY time DESC) FROM cpu WHERE hostname = 'host_d' AND time > '2024-01-01 00:50:00+00';

-- name: window_filter_clause
SELECT hostname, time, count(*) FILTER (WHERE usage_user > 50) OVER (PARTITION BY hostname ORDER BY time) AS busy_so_far
FROM cpu WHERE time < '2024-01-01 00:06:00+00';

-- name: window_tsbs_moving
SELECT time, avg(usage_user) OVER (ORDER BY time ROWS BETWEEN 5 PRECEDING AND CURRENT ROW)
FROM tsbs_cpu WHERE hostname = 'host_5' AND time < '2016-01-01 00:05:00+00';

-- name: window_lag_timestamp
SELECT ts, ts - lag(ts) OVER (ORDER BY ts) AS gap FROM logs WHERE service = 'api';

-- name: window_max_partition_time
SELECT sensor_id, max(time) OVER (PARTITION BY sensor_id) = time AS is_last, time FROM sensors
WHERE time > '2024-01-01 11:00:00+00';

-- name: window_sum_int_type
SELECT sensor_id, sum(reading_count) OVER (PARTITION BY sensor_id), avg(level) OVER (PARTITION BY sensor_id)
FROM sensors WHERE time < '2024-01-01 01:00:00+00';

-- name: window_groups_frame
SELECT time, count(*) OVER (ORDER BY time GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM events;

-- name: window_exclude_current
SELECT time, host, sum(value) OVER (ORDER BY time, host, kind ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW)
FROM events WHERE time < '2024-01-01 00:15:00+00' AND value IS NOT NULL AND value NOT IN (0, 40);
