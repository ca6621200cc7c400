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

-- name: to_char_number_fields
SELECT to_char(price, '9,999.99') AS grouped, to_char(price, 'FM999990.00') AS fm, to_char(-price, '9999.99PR') AS pr,
       to_char(-price, 'S9999.9') AS s, to_char(price, '9999.9MI') AS mi, to_char(qty, '000') AS z, to_char(qty * 1000, 'FM9G999G999') AS g
FROM orders ORDER BY time LIMIT 5;

-- name: to_char_number_edges
SELECT to_char(0.5, '9.99') AS a, to_char(0, 'FM9.9') AS b, to_char(12, 'FM99.') AS c, to_char(12345, '999') AS d,
       to_char(2.5, '9') AS e, to_char(-2.5, '9') AS f, to_char(1234.5, '9.99EEEE') AS g, to_char(-12, 'SG999') AS h,
       to_char(12, 'PL999') AS i, to_char(1, '"n="9') AS j, to_char(3.25::float8, '9D9') AS k, to_char(1234567::bigint, '9,999,999') AS l;

-- name: to_number_templates
SELECT to_number('12,454.8-', '99G999D9S') AS a, to_number('<12>', '99PR') AS b, to_number(' 12.5 ', '999.9') AS c,
       to_number('1234', '99') AS d, to_number('12.345', '99.99') AS e, to_number('$1,234', 'L9,999') AS f;

-- name: to_number_of_column
SELECT item, to_number(to_char(price, 'FM9,999.00'), '9G999D99') = price AS same FROM orders ORDER BY time LIMIT 5;
