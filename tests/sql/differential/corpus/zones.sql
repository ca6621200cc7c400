-- timestamptz in a session TimeZone other than UTC: what depends on the zone (casts to date and
-- timestamp, date_trunc, extract, text) must use it; instants themselves do not change.

-- name: tz_instants_unchanged
-- session: SET TIME ZONE 'America/New_York'
SELECT time, usage_user FROM cpu WHERE hostname = 'host_a' AND time < '2024-01-01 00:03:00+00' ORDER BY time;

-- name: tz_cast_to_date
-- session: SET TIME ZONE 'America/New_York'
SELECT time::date AS d, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: tz_cast_to_timestamp
-- session: SET TIME ZONE 'Asia/Kolkata'
SELECT time::timestamp AS local FROM cpu WHERE hostname = 'host_b' AND time < '2024-01-01 00:02:00+00' ORDER BY 1;

-- name: tz_date_trunc_day
-- session: SET TIME ZONE 'America/Los_Angeles'
SELECT date_trunc('day', time) AS d, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: tz_extract_hour
-- session: SET TIME ZONE 'Europe/Berlin'
SELECT extract(hour FROM time) AS h, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: tz_literal_without_offset
-- session: SET TIME ZONE 'Europe/Berlin'
SELECT count(*) FROM cpu WHERE time < '2024-01-01 01:10:00';

-- name: tz_text
-- session: SET TIME ZONE 'Asia/Tokyo'
SELECT time::text FROM cpu WHERE hostname = 'host_c' AND time = '2024-01-01 00:00:00+00';

-- name: tz_time_bucket_day
-- session: SET TIME ZONE 'America/New_York'
SELECT time_bucket('1 day', time) AS d, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: tz_at_time_zone_utc
-- session: SET TIME ZONE 'America/New_York'
SELECT time AT TIME ZONE 'UTC' AS utc FROM cpu WHERE hostname = 'host_d' AND time = '2024-01-01 00:10:00+00';

-- name: tz_show
-- session: SET TIME ZONE 'Europe/Berlin'
SELECT current_setting('TimeZone') AS tz;

-- name: timestamp_column_bounds_in_another_zone
-- session: SET TimeZone = 'Europe/Berlin'
-- (found by test_randomized: the bounds on a timestamp without time zone were read in the session's
-- zone, an hour off, and storage's time range dropped rows the WHERE keeps)
SELECT service, count(*) AS n, min(ts) AS first FROM logs
WHERE ts >= '2024-01-01 23:50:00' AND ts < '2024-01-02 00:20:00' GROUP BY service ORDER BY service;

-- name: timestamp_column_rows_in_another_zone
-- session: SET TimeZone = 'Asia/Kolkata'
SELECT ts, level FROM logs WHERE ts BETWEEN '2024-01-02 00:10:00' AND '2024-01-02 00:20:00+05'
  AND ts > '2024-01-02 05:00:00+05:30'::timestamptz - interval '1 hour' ORDER BY ts;

-- name: date_trunc_with_zone_argument
-- (found by test_randomized: the native executor truncated in the session's zone, and DuckDB's SQL
-- lost the zone below a day; Asia/Kolkata's hours start at :30 UTC)
SELECT date_trunc('hour', time, 'Asia/Kolkata') AS h, hostname, count(*) AS n, max(usage_user) AS m
FROM cpu WHERE time >= '2024-01-01 00:00:00+00' GROUP BY 1, 2 ORDER BY 1, 2;

-- name: date_trunc_with_zone_argument_distinct
SELECT DISTINCT date_trunc('day', time, 'Europe/Berlin') AS d, date_trunc('minute', ts, 'Asia/Kathmandu') AS m
FROM cpu, (SELECT ts FROM logs WHERE level = 'ERROR' ORDER BY ts LIMIT 3) l ORDER BY 1, 2;
