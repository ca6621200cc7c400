-- Edge cases of operators and functions: overflow, empty strings, regex flags, window frames.

-- name: int8_multiply_overflow
-- error: 22003
SELECT total * total * total FROM sensors;

-- name: int4_abs_min_overflow
-- error: 22003
SELECT abs((-2147483648)::int4);

-- name: int2_negate_overflow
-- error: 22003
SELECT -((-32768)::int2);

-- name: sum_int8_large
SELECT sum(total * 1000000) AS s FROM sensors;

-- name: regexp_flags
SELECT regexp_replace(hostname, 'HOST', 'h', 'gi') AS r, hostname ~* '^HOST_[AB]$' AS m FROM hosts;

-- name: regexp_classes
SELECT location ~ '^[[:alpha:]]+$' AS alpha, location ~ '[[:digit:]]' AS has_digit, count(*)
FROM sensors GROUP BY 1, 2 ORDER BY 1, 2;

-- name: substring_regex
SELECT substring(hostname from '_(.)$') AS last_char, substring(hostname from '[0-9]+') AS digits FROM hosts;

-- name: string_empty_args
SELECT position('' in 'abc') AS p, replace('abc', '', 'x') AS r, repeat('ab', 0) AS z, split_part('a,b', '', 1) AS s,
       lpad('ab', 5, 'xyz') AS lp, rpad('ab', 1) AS rp;

-- name: ilike_escape
SELECT hostname FROM hosts WHERE hostname ILIKE 'HOST\_A' OR hostname ILIKE '%\_F';

-- name: window_range_numeric
SELECT rack, hostname, sum(weight) OVER (ORDER BY rack RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS s
FROM hosts WHERE rack IS NOT NULL;

-- name: window_nulls_in_order
SELECT hostname, rank() OVER (ORDER BY team) AS r, row_number() OVER (ORDER BY team DESC, hostname) AS rn FROM hosts;

-- name: window_lag_default_type_mix
SELECT hostname, lag(rack, 1, 0) OVER (ORDER BY hostname) AS prev_rack FROM hosts;

-- name: window_percent_rank_ties
SELECT rack, percent_rank() OVER (ORDER BY rack), cume_dist() OVER (ORDER BY rack) FROM hosts;

-- name: case_without_else_null
SELECT hostname, CASE WHEN rack = 1 THEN 'one' END AS c FROM hosts;

-- name: nested_case_simple
SELECT CASE rack WHEN 1 THEN CASE team WHEN 'web' THEN 'w1' ELSE 'x1' END WHEN 2 THEN 'two' ELSE 'other' END AS c FROM hosts;

-- name: coalesce_all_null
SELECT coalesce(NULL::int, NULL::int) AS c, nullif(NULL::int, 1) AS n;

-- name: greatest_text
SELECT greatest(hostname, 'host_c') AS g, least(team, 'm') AS l FROM hosts;

-- name: round_negative_digits_int
SELECT round(1234.5678, -2) AS a, trunc(1234.5678, -1) AS b;

-- name: division_negative_int
SELECT -7 / 2 AS a, 7 / -2 AS b, -7 % -2 AS c;

-- name: float_overflow_to_infinity
-- error: 22003
-- xfail: float8 arithmetic that overflows gives Infinity instead of raising 22003
SELECT 1e308::float8 * 10 AS inf;

-- name: split_part_zero_field
-- error: 22023
SELECT split_part('a,b', ',', 0);

-- name: int4_negate_overflow
-- error: 22003
SELECT -((-2147483648)::int4);

-- name: int_negate_in_range
SELECT -(32767::int2) AS a, -((-32767)::int2) AS b, -(2147483647) AS c, -((-5)::int8) AS d, pg_typeof(-(1::int2))::text AS e;

-- name: int8_negate_overflow
-- error: 22003
SELECT -((-9223372036854775808)::int8);
