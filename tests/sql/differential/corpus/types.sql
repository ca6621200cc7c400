-- Type coercion and result types: integer division, numeric, casts, literals.

-- name: integer_division
SELECT 7 / 2 AS a, -7 / 2 AS b, 7 % 3 AS c, -7 % 3 AS d;

-- name: int_column_division
SELECT cores, cores / 3 AS d, cores % 3 AS m FROM cpu WHERE time = '2024-01-01 00:00:00+00';

-- name: int_float_mix
SELECT 7 / 2.0 AS a, 7::float8 / 2 AS b, 1 + 1.5 AS c, 2 * 0.1 AS d;

-- name: numeric_literal_types
SELECT 1.5 AS a, 10.0 / 4 AS b, 0.1 + 0.2 AS c;

-- name: int8_literal
SELECT 3000000000 AS big, 2147483647 AS max4, -2147483648 AS min4;

-- name: int_mixed_widths
SELECT level + reading_count AS a, level * total AS b, reading_count + total AS c FROM sensors
WHERE time < '2024-01-01 00:30:00+00';

-- name: real_times_double
SELECT humidity * temperature AS a, humidity + 1 AS b, humidity::float8 AS c FROM sensors
WHERE time < '2024-01-01 00:30:00+00';

-- name: cast_text_to_int
SELECT '42'::int AS a, ' 7 '::int AS b, CAST('123' AS bigint) AS c, '12'::smallint AS d;

-- name: cast_float_to_int_rounds
SELECT 2.5::int AS a, 3.5::int AS b, (-2.5)::int AS c, 2.4999::int AS d, 1.5::float8::int AS e, 2.5::float8::int AS f;

-- name: cast_double_col_to_int
SELECT usage_user, usage_user::int AS i, usage_user::bigint AS b FROM cpu WHERE time = '2024-01-01 00:01:00+00';

-- name: cast_to_text
SELECT 42::text AS a, 1.50::text AS b, true::text AS c, 2.5::float8::text AS d;

-- name: cast_bool
SELECT 'yes'::boolean AS a, 'f'::boolean AS b, 'on'::bool AS c, 1::boolean AS d, 0::boolean AS e;

-- name: cast_numeric_scale
SELECT 3.14159::numeric(10, 2) AS a, 2.5::numeric(3, 0) AS b, 123.456::numeric AS c;

-- name: cast_timestamp_text
SELECT '2024-03-04 05:06:07'::timestamp AS a, '2024-03-04 05:06:07+02'::timestamptz AS b, '2024-03-04'::date AS c;

-- name: cast_interval
SELECT '1 day 2 hours'::interval AS a, interval '90 minutes' AS b, '1 mon'::interval AS c, '-3 days'::interval AS d;

-- name: cast_double_from_text
SELECT '1e3'::float8 AS a, '-0.5'::double precision AS b, 'NaN'::float8 AS c, 'Infinity'::float8 AS d;

-- name: numeric_arithmetic
SELECT 1.10::numeric + 2.20 AS a, 10::numeric / 3 AS b, 2::numeric ^ 10 AS c;

-- name: numeric_division_scale
SELECT 1::numeric / 3 AS a, 2.00 / 3 AS b;

-- name: int4_sum_type
SELECT sum(cores) AS s, sum(cores::int8) AS s8, sum(cores::int2) AS s2 FROM cpu;

-- name: count_type
SELECT count(*) + 1 AS c FROM hosts;

-- name: float_division_by_int
SELECT usage_user / 2 AS half FROM cpu WHERE time = '2024-01-01 00:02:00+00';

-- name: int_to_double_compare
SELECT count(*) FROM cpu WHERE cores = 4.0;

-- name: text_int_compare
SELECT hostname FROM hosts WHERE rack = '1' ORDER BY hostname;

-- name: typed_literal_prefixes
SELECT int4 '5' AS a, float8 '2.5' AS b, text 'x' AS c, date '2024-02-29' AS d, timestamptz '2024-01-01 12:00:00+00' AS e;

-- name: bool_to_int_cast
SELECT door_open::int AS d, count(*) FROM sensors WHERE door_open IS NOT NULL GROUP BY 1 ORDER BY 1;

-- name: int_to_bool_compare
SELECT count(*) FROM sensors WHERE door_open = true;

-- name: text_concat_number
SELECT hostname || cores AS hc, 'n=' || 1.5 AS n FROM cpu WHERE time = '2024-01-01 00:03:00+00';

-- name: array_literal
SELECT ARRAY[1, 2, 3] AS a, ARRAY['x', 'y'] AS b, '{4,5}'::int[] AS c;

-- name: array_functions
SELECT array_length(ARRAY[1, 2, 3], 1) AS n, cardinality(ARRAY[1, 2]) AS c, (ARRAY[10, 20, 30])[2] AS e,
       array_position(ARRAY['a', 'b'], 'b') AS p;

-- name: unnest
SELECT unnest(ARRAY[3, 1, 2]) AS v ORDER BY v;

-- name: unnest_from
SELECT x FROM unnest(ARRAY['b', 'a', 'c']) AS t(x) ORDER BY x;

-- name: cast_real
SELECT 0.1::real AS r, 1.0::real / 3 AS q;

-- name: smallint_arith
SELECT level * 2 AS l2, -level AS neg, abs(level) AS a FROM sensors WHERE time < '2024-01-01 00:15:00+00';

-- name: int_compare_bigint_literal
SELECT count(*) FROM sensors WHERE total > 2147483647;

-- name: pg_typeof
-- xfail: the names are PostgreSQL's, but the column is text: results cannot carry regtype (OID 2206) yet
SELECT pg_typeof(1) AS a, pg_typeof(1.5) AS b, pg_typeof(7 / 2) AS c, pg_typeof(now()) AS d, pg_typeof('x'::text) AS e;


-- name: pg_typeof_names
SELECT pg_typeof(ARRAY[1, 2])::text AS a, pg_typeof(1::int8)::text AS b, pg_typeof(1.5::float8)::text AS c, pg_typeof('x')::text AS d, pg_typeof(NULL)::text AS e,
       pg_typeof(true)::text AS g, pg_typeof(interval '1 day')::text AS h, pg_typeof('x'::varchar)::text AS i, pg_typeof(now()::timestamp)::text AS j,
       pg_typeof(current_date)::text AS k, pg_typeof(1::real)::text AS l, pg_typeof(1::smallint)::text AS m, pg_typeof(usage_user)::text AS n, pg_typeof(hostname)::text AS o
FROM cpu LIMIT 1;


-- name: real_compared_with_numeric
-- (found by test_randomized: real <> 1.3 is float48ne, compared in double precision, where 1.3 is
-- no real; an untyped '1.3' and an IN list are compared as reals)
SELECT count(*) FILTER (WHERE load_avg = 1.3) AS eq, count(*) FILTER (WHERE load_avg <> 1.3) AS ne,
       count(*) FILTER (WHERE 1.3 <= load_avg) AS ge, count(*) FILTER (WHERE load_avg BETWEEN 1.3 AND 2) AS bt,
       count(*) FILTER (WHERE load_avg = '1.3') AS untyped, count(*) FILTER (WHERE load_avg IN (1.3, 2.0)) AS inl
FROM cpu;

-- name: coalesce_smallint_with_literal
-- (found by test_randomized: an integer literal is int4, so coalesce(smallint, -1) is integer)
SELECT time, coalesce(level, -1) AS c, greatest(level, 3) AS g, least(level, 2::int8) AS l,
       CASE WHEN level > 50 THEN level ELSE 0 END AS k, coalesce(level, level) AS same
FROM sensors ORDER BY time LIMIT 5;
