-- Dates, times and intervals: truncation, extraction, arithmetic, zones, formatting.

-- name: date_trunc_units
SELECT date_trunc('hour', time) AS h, date_trunc('day', time) AS d, date_trunc('month', time) AS m,
       date_trunc('minute', time) AS mi, date_trunc('second', time) AS s
FROM sensors WHERE sensor_id = 'sensor_0' AND time < '2024-01-01 01:00:00+00';

-- name: date_trunc_week_quarter_year
SELECT date_trunc('week', time) AS w, date_trunc('quarter', time) AS q, date_trunc('year', time) AS y
FROM cpu WHERE time = '2024-01-01 00:00:00+00' AND hostname = 'host_a';

-- name: date_trunc_timestamp
SELECT date_trunc('hour', ts) AS h, count(*) FROM logs GROUP BY 1 ORDER BY 1;

-- name: date_trunc_ms
SELECT date_trunc('milliseconds', time) AS ms FROM sensors WHERE sensor_id = 'sensor_1' AND time < '2024-01-01 01:00:00+00';

-- name: extract_fields
SELECT extract(year FROM time) AS y, extract(month FROM time) AS mo, extract(day FROM time) AS d,
       extract(hour FROM time) AS h, extract(minute FROM time) AS mi
FROM cpu WHERE time = '2024-01-01 00:07:00+00' AND hostname = 'host_a';

-- name: extract_second_fraction
SELECT extract(second FROM time) AS s, extract(milliseconds FROM time) AS ms, extract(microseconds FROM time) AS us
FROM sensors WHERE sensor_id = 'sensor_2' AND time < '2024-01-01 01:00:00+00';

-- name: extract_epoch
SELECT extract(epoch FROM time) AS e FROM sensors WHERE sensor_id = 'sensor_3' AND time < '2024-01-01 01:00:00+00';

-- name: extract_dow_doy_week
SELECT extract(dow FROM ts) AS dow, extract(isodow FROM ts) AS isodow, extract(doy FROM ts) AS doy,
       extract(week FROM ts) AS wk, extract(quarter FROM ts) AS q
FROM logs WHERE service = 'db' ORDER BY ts LIMIT 3;

-- name: date_part_fields
SELECT date_part('hour', time) AS h, date_part('minute', time) AS m, date_part('epoch', time) AS e,
       date_part('dow', time) AS dow
FROM cpu WHERE time = '2024-01-01 00:09:00+00' AND hostname = 'host_b';

-- name: date_part_second
SELECT date_part('second', time) AS s FROM sensors WHERE sensor_id = 'sensor_4' AND time < '2024-01-01 01:00:00+00';

-- name: extract_from_interval
SELECT extract(epoch FROM interval '1 day 2 hours') AS e, extract(hour FROM interval '26 hours') AS h,
       date_part('day', interval '3 days 4 hours') AS d;

-- name: extract_group_by_hour
SELECT extract(hour FROM time) AS h, count(*), avg(temperature) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: to_timestamp_epoch
SELECT to_timestamp(1704067200) AS a, to_timestamp(1704067200.5) AS b, to_timestamp(0) AS c;

-- name: to_timestamp_format
SELECT to_timestamp('2024-02-03 04:05:06', 'YYYY-MM-DD HH24:MI:SS') AS t;

-- name: to_date
SELECT to_date('2024-02-03', 'YYYY-MM-DD') AS d;

-- name: date_bin
SELECT date_bin('15 minutes', time, '2024-01-01 00:00:00+00') AS b, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

-- name: date_bin_offset_origin
SELECT date_bin('1 hour', time, '2000-01-01 00:20:00+00') AS b, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: at_time_zone_tstz
SELECT time AT TIME ZONE 'America/New_York' AS ny, time AT TIME ZONE 'UTC' AS utc
FROM cpu WHERE time = '2024-01-01 00:00:00+00' AND hostname = 'host_a';

-- name: at_time_zone_timestamp
SELECT ts AT TIME ZONE 'Europe/Berlin' AS b FROM logs WHERE service = 'api' ORDER BY ts LIMIT 3;

-- name: timezone_function
SELECT timezone('Asia/Tokyo', time) AS tokyo FROM cpu WHERE time = '2024-01-01 00:30:00+00' AND hostname = 'host_c';

-- name: interval_add
SELECT time + interval '1 hour' AS a, time - interval '30 minutes' AS b, time + interval '1 month' AS c
FROM cpu WHERE time = '2024-01-01 00:10:00+00' AND hostname = 'host_a';

-- name: timestamp_difference
SELECT max(time) - min(time) AS span FROM cpu;

-- name: timestamp_difference_ts
SELECT max(ts) - min(ts) AS span, max(ts)::date - min(ts)::date AS days FROM logs;

-- name: interval_arithmetic
SELECT interval '1 hour' * 3 AS a, interval '1 day' / 4 AS b, interval '1 day' + interval '1 hour' AS c,
       interval '1 hour' - interval '90 minutes' AS d;

-- name: interval_compare
SELECT interval '24 hours' = interval '1 day' AS a, interval '1 month' > interval '29 days' AS b;

-- name: date_arithmetic
SELECT date '2024-02-28' + 1 AS a, date '2024-03-01' - date '2024-02-01' AS b, date '2024-01-31' + interval '1 month' AS c,
       date '2024-01-01' - 1 AS d;

-- name: make_functions
SELECT make_date(2024, 2, 29) AS d, make_timestamp(2024, 1, 2, 3, 4, 5.5) AS ts, make_interval(hours => 2, mins => 3) AS i;

-- name: cast_timestamptz_to_date
SELECT time::date AS d, count(*) FROM sensors GROUP BY 1 ORDER BY 1;

-- name: cast_timestamptz_to_timestamp
SELECT time::timestamp AS t FROM cpu WHERE time = '2024-01-01 00:20:00+00' AND hostname = 'host_b';

-- name: cast_timestamp_to_timestamptz
SELECT ts::timestamptz AS t FROM logs ORDER BY ts LIMIT 2;

-- name: cast_time_of_day
SELECT time::time AS t FROM cpu WHERE time = '2024-01-01 00:21:00+00' AND hostname = 'host_b';

-- name: timestamp_compare_date
SELECT count(*) FROM logs WHERE ts >= '2024-01-02';

-- name: timestamptz_compare_date_literal
SELECT count(*) FROM cpu WHERE time < date '2024-01-02';

-- name: age_function
SELECT age(timestamp '2024-03-01', timestamp '2023-01-15') AS a;

-- name: justify
SELECT justify_hours(interval '27 hours') AS h, justify_days(interval '35 days') AS d;

-- name: to_char_timestamp
SELECT to_char(time, 'YYYY-MM-DD HH24:MI:SS') AS s FROM cpu WHERE time = '2024-01-01 00:22:00+00' AND hostname = 'host_c';

-- name: to_char_formats
SELECT to_char(timestamp '2024-07-04 15:06:07', 'DD/MM/YY HH12:MI AM') AS a, to_char(timestamp '2024-07-04 15:06:07', 'Mon DD, YYYY') AS b;

-- name: to_char_number
SELECT to_char(1234.5, '9999.99') AS a, to_char(42, '000') AS b;

-- name: generate_series_int
SELECT * FROM generate_series(1, 5) AS g;

-- name: generate_series_step
SELECT g FROM generate_series(10, 0, -3) AS g;

-- name: generate_series_timestamps
SELECT g FROM generate_series('2024-01-01 00:00:00+00'::timestamptz, '2024-01-01 01:00:00+00', '15 minutes') AS g;

-- name: generate_series_join
SELECT g AS minute, count(c.time) AS points
FROM generate_series('2024-01-01 00:00:00+00'::timestamptz, '2024-01-01 00:05:00+00'::timestamptz, interval '1 minute') g
LEFT JOIN cpu c ON c.time = g AND c.hostname = 'host_d'
GROUP BY g ORDER BY g;

-- name: generate_series_select_list
SELECT generate_series(1, 3) AS n;

-- name: generate_series_with_ordinality
SELECT * FROM generate_series(1, 3) WITH ORDINALITY AS g(v, i);

-- name: generate_series_negative_step_with_ordinality
SELECT * FROM generate_series(10, -2, -4) WITH ORDINALITY;

-- name: generate_series_timestamps_with_ordinality
SELECT * FROM generate_series('2024-01-01 00:00:00+00'::timestamptz, '2024-01-01 00:30:00+00', '15 minutes')
    WITH ORDINALITY AS g(t, n);

-- name: generate_series_numeric_step
SELECT * FROM generate_series(0.5, 2.0, 0.5) AS s;

-- name: timestamp_literal_comparison_types
SELECT count(*) FROM cpu WHERE time > timestamp '2024-01-01 00:58:00';

-- name: epoch_ms_roundtrip
SELECT to_timestamp(extract(epoch FROM time)) = time AS same FROM cpu WHERE hostname = 'host_a' AND time < '2024-01-01 00:03:00+00';

-- name: isfinite_infinity
SELECT isfinite(date '2024-01-01') AS a, 'infinity'::timestamp > now()::timestamp AS b;

-- name: overlaps
SELECT (date '2024-01-01', date '2024-01-10') OVERLAPS (date '2024-01-05', date '2024-01-20') AS o;

-- name: interval_units_plural
SELECT interval '2 weeks' AS a, interval '1 year 2 months' AS b, interval '1.5 hours' AS c, interval '100 milliseconds' AS d;

-- name: bucket_then_extract
SELECT extract(minute FROM time_bucket('10 minutes', time)) AS m, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

-- name: time_literal_functions
SELECT time '12:34:56' AS t, time '12:00' + interval '90 minutes' AS t2;

-- name: justify_more
SELECT justify_hours(interval '-27 hours') AS a, justify_hours(interval '1 day -1 hour') AS b,
       justify_days(interval '65 days') AS c, justify_days(interval '1 mon -1 day') AS d;

-- name: generate_series_numeric_tenths
SELECT s FROM generate_series(0.1, 1.0, 0.1) AS s;

-- name: generate_series_numeric_descending
SELECT s FROM generate_series(2.5, 1, -0.5) AS s;

-- name: generate_series_numeric_inexact_step
SELECT count(*), sum(s) FROM generate_series(0.1, 0.7, 0.1) AS s;

-- name: overlaps_forms
SELECT (timestamp '2024-01-10', timestamp '2024-01-01') OVERLAPS (timestamp '2024-01-05', timestamp '2024-01-06') AS swapped,
       (date '2024-01-01', date '2024-01-05') OVERLAPS (date '2024-01-05', date '2024-01-09') AS touching,
       (date '2024-01-05', date '2024-01-05') OVERLAPS (date '2024-01-01', date '2024-01-09') AS instant,
       (timestamp '2024-01-01', interval '2 days') OVERLAPS (timestamp '2024-01-02', interval '1 hour') AS with_interval,
       (timestamp '2024-01-01', NULL::timestamp) OVERLAPS (timestamp '2024-01-02', timestamp '2024-01-03') AS null_end,
       (NULL::timestamp, timestamp '2024-01-02') OVERLAPS (timestamp '2024-01-01', timestamp '2024-01-03') AS null_start,
       (date '2024-01-01', date '2024-01-02') OVERLAPS (date '2024-01-01', date '2024-01-02') AS same;

-- name: overlaps_over_rows
SELECT a.id, b.id, (a.s, a.e) OVERLAPS (b.s, b.e) AS o
FROM (VALUES (1, timestamp '2024-01-01', timestamp '2024-01-03'), (2, timestamp '2024-01-03', NULL), (3, NULL, NULL)) a(id, s, e),
     (VALUES (1, timestamp '2024-01-02', timestamp '2024-01-04'), (2, timestamp '2024-01-03', timestamp '2024-01-03')) b(id, s, e)
ORDER BY 1, 2;

-- name: interval_signed_fields
SELECT interval '1 year 2 months 3 days 04:05:06.7' AS a, interval '-1 day +2 hours' AS b, interval '36 hours' AS c,
       '-1 days +02:00:00'::interval AS d, interval '+3 days -00:30:00' AS e, '1 mon +1.5 days'::interval AS f;

-- name: interval_day_and_clock
SELECT interval '1 day 02:00:00' AS a, interval '3 days -00:30:00' AS b, '2 days 00:00:01.5'::interval AS c,
       now() - interval '1 day 02:00:00' < now() - interval '1 day' AS d, interval '1 year 2 mons' AS e;

-- name: generate_series_numeric_select_list
SELECT generate_series(1.0, 2.0, 0.5) AS a;

-- name: generate_series_numeric_select_list_default_step
SELECT x, generate_series(0.5, x) AS s FROM (VALUES (1.5), (2.5)) t(x) ORDER BY 1, 2;

-- name: date_trunc_century_millennium
SELECT date_trunc('millennium', timestamp '2024-05-15') AS m, date_trunc('century', timestamptz '2000-05-15 00:00+00') AS c,
       date_trunc('century', date '2001-01-01') AS d, date_trunc('century', time) AS t FROM cpu WHERE hostname = 'host_a' ORDER BY time LIMIT 1;

-- name: interval_unit_abbreviations
SELECT interval '1 min' AS a, interval '2 mins' AS b, interval '3 hrs' AS c, interval '2 secs' AS d,
       interval '1 msec' AS e, interval '1 yr' AS f, interval '1 mon' AS g, '90 min'::interval AS h,
       now() - interval '10 mins' < now() AS i;

-- name: interval_iso_8601
SELECT interval 'P1DT2H' AS a, 'PT90M'::interval AS b, interval 'P1Y2M3W4DT5H6M7.5S' AS c, interval 'P0D' AS d;
