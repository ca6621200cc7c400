-- PostgreSQL's built-in functions and operators by family: dates and intervals, math, statistics,
-- casts and comparisons (to_date / to_timestamp templates and justify_interval were added for these).

-- name: date_part_forms
SELECT date_part('epoch', '2024-01-01 00:00:00+00'::timestamptz) AS a, extract(isodow from '2024-01-07'::date) AS b, extract(doy from '2024-03-01'::date) AS c, extract(week from '2024-01-01'::date) AS d;


-- name: age
SELECT age('2024-03-01'::timestamp, '2023-01-15'::timestamp) AS a;


-- name: date_arith
SELECT '2024-01-31'::date + 1 AS a, '2024-03-01'::date - '2024-02-01'::date AS b, '2024-01-31'::date + interval '1 month' AS c;


-- name: make_functions
SELECT make_date(2024, 2, 29) AS a, make_time(12, 30, 15.5) AS b, make_interval(days => 3, hours => 2) AS c;


-- name: to_char_dates
SELECT to_char('2024-03-05 14:07:09+00'::timestamptz, 'YYYY-MM-DD HH24:MI:SS') AS a, to_char('2024-03-05'::date, 'Dy DD Mon YYYY') AS b, to_char('2024-03-05 14:07:09+00'::timestamptz, 'HH12:MI AM') AS c;


-- name: to_timestamp
SELECT to_timestamp(1700000000) AS a, to_timestamp('2024-03-05 14:07', 'YYYY-MM-DD HH24:MI') AS b, to_date('05 Mar 2024', 'DD Mon YYYY') AS c;


-- name: date_trunc_forms
SELECT date_trunc('week', '2024-03-07 10:00:00+00'::timestamptz) AS a, date_trunc('quarter', '2024-05-07'::timestamp) AS b, date_trunc('month', '2024-05-07'::date) AS c;


-- name: interval_math
SELECT interval '1 day' * 1.5 AS a, interval '90 minutes' / 2 AS b, interval '1 hour' + interval '30 minutes' AS c, -interval '1 day' AS d;


-- name: math
SELECT round(2.5) AS a, round(-2.5) AS b, round(2.567, 2) AS c, trunc(2.567, 1) AS d, ceil(-1.5) AS e, floor(-1.5) AS f, sign(-3) AS g, mod(-7, 3) AS h;


-- name: math2
SELECT power(2, 10) AS a, 7 / 2 AS b, 7.0 / 2 AS c, 7 % 3 AS d, abs(-5) AS e, gcd(12, 18) AS f, lcm(4, 6) AS g, factorial(5) AS h;


-- name: math3
SELECT cbrt(27) AS a, exp(1) AS b, log(2, 8) AS c, pi() AS d, degrees(pi()) AS e, radians(180) AS f, div(7, 2) AS g;


-- name: numeric_text
SELECT 1.10::numeric AS a, 1.10::numeric(5,3) AS b, 10::numeric / 3 AS c, 0.1 + 0.2 AS d;


-- name: greatest_least
SELECT greatest(1, 3, 2) AS a, least('b', 'a') AS b, greatest(1, NULL) AS c, coalesce(NULL, 2) AS d, nullif(1, 1) AS e;


-- name: case_bool
SELECT bool_and(x) AS a, bool_or(x) AS b, every(x) AS c FROM (VALUES (true), (false)) t(x);


-- name: stats
SELECT stddev(x) AS a, variance(x) AS b, stddev_pop(x) AS c, corr(x, y) AS d, regr_slope(y, x) AS e FROM (VALUES (1.0, 2.0), (2.0, 4.5), (3.0, 6.1)) t(x, y);


-- name: percentile
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS a, percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS b, mode() WITHIN GROUP (ORDER BY x) AS c FROM (VALUES (1), (2), (2), (4)) t(x);


-- name: bit_ops
SELECT 5 & 3 AS a, 5 | 3 AS b, 5 # 3 AS c, ~5 AS d, 1 << 4 AS e, 16 >> 2 AS f;


-- name: string_casts
SELECT 'true'::boolean AS a, 'yes'::boolean AS b, '1'::int + 1 AS c, 12.5::text AS d, true::text AS e, 3::text || 'x' AS f;


-- name: timestamp_text
SELECT '2024-01-01 12:00:00.5+00'::timestamptz::text AS a, '2024-01-01'::date::text AS b, '12:30'::time::text AS c;


-- name: justify
SELECT justify_hours(interval '36 hours') AS a, justify_days(interval '40 days') AS b, justify_interval(interval '1 month -1 hour') AS c;


-- name: uuid_md5
SELECT md5('') AS a, length(gen_random_uuid()::text) AS b;


-- name: row_compare
SELECT (1, 2) < (1, 3) AS a, ROW(1, 'a') = ROW(1, 'a') AS b;


-- name: overlaps_between
SELECT 5 BETWEEN 1 AND 10 AS a, 5 BETWEEN SYMMETRIC 10 AND 1 AS b, 'b' BETWEEN 'a' AND 'c' AS c;


-- name: is_distinct
SELECT NULL IS DISTINCT FROM 1 AS a, NULL IS NOT DISTINCT FROM NULL AS b, 1 IS DISTINCT FROM 1 AS c;


-- name: any_all
SELECT 2 = ANY(ARRAY[1,2,3]) AS a, 2 > ALL(ARRAY[1,2]) AS b, 'x' = ANY('{x,y}'::text[]) AS c;


-- name: date_bin
SELECT date_bin('15 minutes', '2024-01-01 10:07:00+00'::timestamptz, '2024-01-01 00:00:00+00'::timestamptz) AS a;


-- name: extract_epoch_interval
SELECT extract(epoch from interval '1 day 2 hours') AS a, date_part('hour', interval '26 hours') AS b;


-- name: to_date_names
SELECT to_date('05 Mar 2024', 'DD Mon YYYY') AS a, to_date('Tuesday 5 MARCH 2024', 'Day DD Month YYYY') AS b, to_timestamp('2024-03-05 02:07:09 PM', 'YYYY-MM-DD HH12:MI:SS AM') AS c;


-- name: to_timestamp_frac
SELECT to_timestamp('2024-03-05 14:07:09.123', 'YYYY-MM-DD HH24:MI:SS.MS') AS a, to_timestamp('20240305', 'YYYYMMDD') AS b, to_date('2024-065', 'YYYY-DDD') AS c;


-- name: to_timestamp_quoted
SELECT to_timestamp('2024-03-05T14:07', 'YYYY-MM-DD"T"HH24:MI') AS a, to_timestamp(0) AS b;


-- name: justify_interval_signs
SELECT justify_interval(interval '1 month -1 hour') AS a, justify_interval(interval '-1 month 1 hour') AS b, justify_interval(interval '50 days 30 hours') AS c, justify_interval(interval '-50 days -30 hours') AS d, justify_interval(interval '1 month -30 days -1 hour') AS e, justify_interval(interval '-35 hours') AS f;

-- name: numeric_ops
SELECT 10.5::numeric(10,2) * 3 AS a, round(10.555::numeric, 2) AS b, 1::numeric / 3 AS c, 2::numeric ^ 10 AS d, sqrt(2::numeric) AS e;

-- name: float_ops
SELECT 0.1::float8 + 0.2::float8 AS a, 1e300::float8 * 10 AS b, 'NaN'::float8 AS c, '-Infinity'::float8 AS d, 1/3::float4 AS e;

-- name: int_overflow
SELECT 2147483647::int + 0 AS a, 9223372036854775807::bigint AS b, (-32768)::smallint AS c;

-- name: bool_out
SELECT true AS a, 't'::boolean AND 'off'::boolean AS b, NOT 'n'::boolean AS c, true::int AS d;

-- name: text_compare
SELECT 'a' < 'B' AS a, 'abc' LIKE 'A%' AS b, 'abc' ILIKE 'A%' AS c, 'abc' SIMILAR TO '(a|b)%' AS d;

-- name: json_cast_text
SELECT '{"a": [1, 2.50, "x"]}'::jsonb AS a, '{"a":1}'::json AS b;

-- name: cast_errors_ok
SELECT '  42 '::int AS a, '1e3'::float8 AS b, '0x1A'::text AS c, ' true '::boolean AS d;

-- name: interval_compare
SELECT interval '1 day' = interval '24 hours' AS a, interval '1 month' > interval '29 days' AS b, interval '1 month' = interval '30 days' AS c;

-- name: typeof_local
SELECT pg_typeof(localtimestamp)::text AS a, pg_typeof(localtime)::text AS b, pg_typeof(now())::text AS c, pg_typeof(current_date)::text AS d;

-- name: time_arith
SELECT '10:00'::time + interval '90 minutes' AS a, '23:30'::time + interval '1 hour' AS b, '10:00'::time - '09:15'::time AS c,
       '09:15'::time - '10:00:30'::time AS d, '10:00'::time - interval '11 hours' AS e;

-- name: bytea_length
SELECT length('abc'::bytea) AS a, octet_length('abcd'::bytea) AS c, pg_typeof('a'::bytea)::text AS d;

-- name: varchar_cast_cuts
SELECT 'abcdef'::varchar(3) AS a, CAST('xy' AS character varying(5)) AS b, 'abc'::varchar AS c, hostname::varchar(4) AS d FROM hosts ORDER BY 4;

-- name: num_nulls_nonnulls
SELECT num_nulls(1, NULL, NULL) AS a, num_nonnulls(1, NULL) AS b, num_nulls(NULL::text) AS c;
