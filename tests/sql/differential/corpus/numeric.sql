-- numeric and date columns: exact decimal arithmetic, declared scale, calendar arithmetic.

-- name: orders_all
SELECT * FROM orders;

-- name: numeric_sum_avg
SELECT sum(price), avg(price), min(price), max(ratio), sum(ratio) FROM orders;

-- name: numeric_times_int
SELECT item, price * qty AS total FROM orders WHERE price IS NOT NULL ORDER BY time LIMIT 6;

-- name: numeric_grouped
SELECT item, sum(price * qty) AS revenue, count(price) FROM orders GROUP BY item ORDER BY item;

-- name: numeric_round
SELECT round(price, 1) AS r1, round(price) AS r0, trunc(price, 1) AS t1 FROM orders WHERE price IS NOT NULL ORDER BY time LIMIT 5;

-- name: numeric_compare_literal
SELECT count(*) FROM orders WHERE price > 500.5;

-- name: numeric_division
SELECT price / qty AS unit FROM orders WHERE price IS NOT NULL ORDER BY time LIMIT 5;

-- name: numeric_cast_float
SELECT price::float8 AS f, ratio::float8 AS r FROM orders WHERE price IS NOT NULL AND ratio IS NOT NULL ORDER BY time LIMIT 4;

-- name: date_column_ops
SELECT day, day + 7 AS next_week, day - date '2024-01-01' AS age_days, extract(dow FROM day) AS dow
FROM orders ORDER BY time LIMIT 6;

-- name: date_group
SELECT day, count(*), sum(qty) FROM orders GROUP BY day ORDER BY day;

-- name: date_compare_timestamptz
SELECT count(*) FROM orders WHERE time >= day + interval '12 hours';

-- name: date_trunc_date
SELECT date_trunc('month', day) AS m, count(*) FROM orders GROUP BY 1 ORDER BY 1;

-- name: bool_column_agg
SELECT shipped, count(*), sum(qty) FROM orders GROUP BY shipped ORDER BY shipped;

-- name: numeric_coalesce
SELECT coalesce(price, 0) AS p, coalesce(ratio, 0.5) AS r FROM orders ORDER BY time LIMIT 8;

-- name: numeric_window
SELECT time, price, sum(price) OVER (ORDER BY time ROWS 2 PRECEDING) AS s FROM orders ORDER BY time LIMIT 8;

-- name: avg_int_column
SELECT item, avg(qty) AS a FROM orders GROUP BY item ORDER BY item;

-- name: sum_int8_divided
-- (found by test_randomized: sum(bigint) is numeric, and numeric / bigint keeps the fraction)
SELECT service, sum(bytes) / count(bytes) AS mean, sum(bytes) / nullif(count(*), 0) AS per_row
FROM logs GROUP BY service ORDER BY service;

-- name: sum_int8_divided_outside
WITH s AS (SELECT host, sum(value) AS v FROM events GROUP BY host)
SELECT host, v / 7 AS a, (SELECT sum(value) FROM events) / 9 AS b FROM s ORDER BY host;
