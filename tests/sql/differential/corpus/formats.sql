-- Numeric precision of casts and the formats of to_char, which dashboards and reports lean on.

-- name: float_to_numeric_unconstrained
SELECT (1 / 3.0::float8)::numeric AS third, usage_user::numeric AS u FROM cpu WHERE hostname = 'host_a' AND time < '2024-01-01 00:02:00+00' ORDER BY time;

-- name: float_to_numeric_typmod_rounding
SELECT usage_user::numeric(6, 1) AS u1, (usage_user / 7)::numeric(10, 4) AS u4 FROM cpu
WHERE hostname = 'host_b' AND usage_user IS NOT NULL ORDER BY time LIMIT 5;

-- name: avg_to_numeric
SELECT hostname, avg(usage_user)::numeric AS a FROM cpu GROUP BY hostname ORDER BY 1;

-- name: text_to_numeric
SELECT '123.456789012345678'::numeric AS a, '-0.5'::numeric AS b, '1e3'::numeric AS c;

-- name: numeric_round_half_away
SELECT round(0.125::numeric, 2) AS a, round(-0.125::numeric, 2) AS b, round(2.5::numeric) AS c, round((-2.5)::numeric) AS d;

-- name: to_char_iso_literal
SELECT to_char(time, 'YYYY-MM-DD"T"HH24:MI:SS') AS iso FROM cpu WHERE hostname = 'host_a' AND time = '2024-01-01 00:05:00+00';

-- name: to_char_fractional
SELECT to_char(time, 'HH24:MI:SS.MS') AS ms, to_char(time, 'SS.US') AS us FROM sensors
WHERE sensor_id = 'sensor_0' AND time < '2024-01-01 00:30:00+00' ORDER BY time;

-- name: to_char_day_month_names
SELECT to_char(day, 'FMDay') AS dname, to_char(day, 'Dy') AS dy, to_char(day, 'FMMonth') AS mname, to_char(day, 'Mon') AS mon
FROM orders ORDER BY time LIMIT 3;

-- name: to_char_iso_week
SELECT to_char(day, 'IYYY-IW') AS isoweek, to_char(day, 'YYYY-DDD') AS doy, to_char(day, 'Q') AS quarter FROM orders ORDER BY time LIMIT 3;

-- name: to_char_12h
SELECT to_char(ts, 'HH12:MI am') AS t FROM logs ORDER BY ts LIMIT 4;
