-- Math functions and operators.

-- name: round_forms
SELECT round(2.5) AS a, round(-2.5) AS b, round(2.345, 2) AS c, round(1234.5, -2) AS d;

-- name: round_double
SELECT round(2.5::float8) AS a, round(3.5::float8) AS b, round(-0.5::float8) AS c;

-- name: round_column
SELECT round(usage_user) AS r, round(usage_user::numeric, 1) AS r1 FROM cpu WHERE time = '2024-01-01 00:04:00+00';

-- name: ceil_floor
SELECT ceil(2.1) AS a, ceiling(-2.1) AS b, floor(2.9) AS c, floor(-2.1) AS d, ceil(2.1::float8) AS e, floor(-0.5::float8) AS f;

-- name: trunc
SELECT trunc(2.789) AS a, trunc(-2.789) AS b, trunc(2.789, 1) AS c, trunc(2.789::float8) AS d;

-- name: abs_sign
SELECT abs(-5) AS a, abs(-5.5) AS b, abs(-2.5::float8) AS c, sign(-3) AS d, sign(0.0) AS e, sign(2.5::float8) AS f;

-- name: power_sqrt
SELECT power(2, 10) AS a, power(2.0, 0.5) AS b, sqrt(16) AS c, sqrt(2.0) AS d, cbrt(27) AS e, 2 ^ 3 AS f;

-- name: exp_ln_log
SELECT exp(1) AS a, ln(10) AS b, log(100) AS c, log(2, 8) AS d, log10(1000) AS e;

-- name: mod_forms
SELECT mod(7, 3) AS a, mod(-7, 3) AS b, mod(7.5, 2) AS c, 7.5 % 2 AS d, mod(cores, 3) AS e
FROM cpu WHERE time = '2024-01-01 00:00:00+00' AND hostname = 'host_d';

-- name: greatest_least_columns
SELECT greatest(usage_user, usage_system) AS g, least(usage_user, usage_system, usage_idle) AS l
FROM cpu WHERE time = '2024-01-01 00:05:00+00';

-- name: greatest_mixed_types
SELECT greatest(1, 2.5, 2) AS g, least(3, 1.5::float8) AS l;

-- name: trig
SELECT sin(0) AS a, cos(0) AS b, tan(0.5) AS c, atan2(1, 1) AS d, degrees(pi()) AS e, radians(180) AS f;

-- name: pi_random_free
SELECT pi() AS p;

-- name: div_function
SELECT div(7, 2) AS a, div(-7, 2) AS b, div(7.5, 2) AS c;

-- name: arithmetic_precedence
SELECT 2 + 3 * 4 AS a, (2 + 3) * 4 AS b, 2 ^ 3 ^ 2 AS c, -2 ^ 2 AS d, 10 - 2 - 3 AS e;

-- name: bitwise
SELECT 5 & 3 AS a, 5 | 3 AS b, 5 # 3 AS c, ~5 AS d, 1 << 4 AS e, 256 >> 2 AS f;

-- name: factorial_gcd
SELECT gcd(12, 18) AS g, lcm(4, 6) AS l;

-- name: width_bucket
SELECT width_bucket(5.35, 0.024, 10.06, 5) AS a, width_bucket(-1, 0, 10, 5) AS b, width_bucket(11, 0, 10, 5) AS c;

-- name: float_special_compare
SELECT 'NaN'::float8 = 'NaN'::float8 AS a, 'NaN'::float8 > 1e308 AS b, 'Infinity'::float8 > 1e308 AS c;

-- name: float_nan_ordering
SELECT v FROM (VALUES (1.0::float8), ('NaN'::float8), ('-Infinity'::float8), (NULL)) t(v) ORDER BY v;

-- name: numeric_rounding_half
SELECT round(0.5) AS a, round(1.5) AS b, round(0.125, 2) AS c, round(-0.125, 2) AS d;

-- name: math_on_aggregates
SELECT round(avg(usage_user)::numeric, 3) AS a, sqrt(sum(usage_system * usage_system)) AS b FROM cpu;

-- name: scale_function
SELECT scale(1.234) AS s, scale(10) AS s0, scale(2.50::numeric(6, 2)) AS s2;

-- name: trim_scale_function
-- xfail: trim_scale() is not implemented
SELECT trim_scale(1.2300) AS t;

-- name: float_int_equality
SELECT 1 = 1.0 AS a, 0.1 + 0.2 = 0.3 AS b, 0.1::float8 + 0.2::float8 = 0.3::float8 AS c;

-- name: modulo_negative_float
SELECT -7.5 % 2 AS a;

-- name: exp_float_column
SELECT exp(usage_user / 100) AS e, ln(usage_user + 1) AS l FROM cpu WHERE time = '2024-01-01 00:06:00+00';

-- name: int_unary_minus
SELECT -cores AS n, +cores AS p, - -cores AS nn FROM cpu WHERE time = '2024-01-01 00:06:00+00';

-- name: floor_division_idiom
SELECT floor(usage_user / 10) * 10 AS band, count(*) FROM cpu WHERE usage_user IS NOT NULL GROUP BY 1 ORDER BY 1;

-- name: numeric_cast_keeps_the_digits
SELECT 1::numeric::text AS a, 0.5::numeric::text AS b, 1.50::numeric::text AS c, '12.50'::numeric::text AS d,
       (0.1::numeric + 0.2::numeric)::text AS e, (CAST('3' AS numeric) + 1)::text AS f,
       abs(-2.50::numeric)::text AS g, round(12.3456::numeric, 2)::text AS h, '1e3'::numeric::text AS i;

-- name: numeric_cast_of_integer_columns
SELECT cores::numeric::text AS a, (cores::numeric * 2.5)::text AS b, sum(cores::numeric)::text AS c
FROM cpu WHERE time = '2024-01-01 00:06:00+00' GROUP BY cores;
