-- NULL semantics: three-valued logic, COALESCE/NULLIF, IS DISTINCT FROM, NULLs in expressions.

-- name: coalesce_fields
SELECT time, hostname, coalesce(usage_user, usage_system, -1) FROM cpu WHERE usage_user IS NULL;

-- name: coalesce_text
SELECT hostname, coalesce(team, 'none') FROM hosts;

-- name: nullif
SELECT nullif(rack, 1), nullif(team, 'web') FROM hosts;

-- name: is_distinct_from
SELECT hostname, team IS DISTINCT FROM 'web' AS d, team IS NOT DISTINCT FROM NULL AS nd FROM hosts;

-- name: null_equality
SELECT NULL = NULL AS a, NULL <> 1 AS b, NULL IS NULL AS c, 1 IS NOT NULL AS d;

-- name: three_valued_and_or
SELECT (NULL::boolean AND false) AS a, (NULL::boolean AND true) AS b, (NULL::boolean OR true) AS c,
       (NULL::boolean OR false) AS d, NOT NULL::boolean AS e;

-- name: where_null_comparison
SELECT count(*) FROM cpu WHERE region = NULL;

-- name: where_not_null_filter
SELECT count(*) FROM cpu WHERE NOT (usage_user > 50);

-- name: is_true_unknown
SELECT door_open IS TRUE AS t, door_open IS NOT FALSE AS nf, door_open IS UNKNOWN AS u, count(*)
FROM sensors GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- name: null_arith
SELECT 1 + NULL AS a, NULL::int * 3 AS b, usage_user + NULL AS c FROM cpu LIMIT 1;

-- name: null_concat_operator
SELECT 'a' || NULL AS x, hostname || '-' || region AS hr FROM cpu WHERE time = '2024-01-01 00:55:00+00';

-- name: concat_function_skips_null
SELECT concat('a', NULL, 'b', 1, NULL) AS c, concat_ws('-', 'x', NULL, 'y') AS cw;

-- name: case_null_branch
SELECT hostname, CASE team WHEN 'web' THEN 1 WHEN NULL THEN 2 ELSE 3 END FROM hosts;

-- name: case_when_is_null
SELECT hostname, CASE WHEN team IS NULL THEN 'missing' ELSE team END FROM hosts;

-- name: greatest_least_null
SELECT greatest(1, NULL, 3) AS g, least(NULL::int, 2) AS l, greatest(NULL::int, NULL) AS gn;

-- name: null_in_group_and_order
SELECT team, count(*) FROM hosts GROUP BY team ORDER BY team NULLS FIRST;

-- name: count_null_vs_star
SELECT count(*), count(team), count(rack), count(weight) FROM hosts;

-- name: null_sorting_tags
SELECT DISTINCT region FROM cpu ORDER BY region DESC;

-- name: null_in_case_agg
SELECT sum(CASE WHEN usage_user IS NULL THEN 1 ELSE 0 END) AS nulls FROM cpu;

-- name: coalesce_mixed_numeric
SELECT coalesce(reading_count, level) AS c, coalesce(reading_count, 0.5) AS d FROM sensors
WHERE reading_count IS NULL;

-- name: null_bool_filter
SELECT count(*) FROM sensors WHERE door_open;

-- name: null_bool_not_filter
SELECT count(*) FROM sensors WHERE NOT door_open;

-- name: nulls_in_min_max_text
SELECT min(note), max(note), count(note) FROM sensors;

-- name: null_typed_literals
SELECT NULL::int AS i, NULL::text AS t, NULL::timestamptz AS ts, NULL::boolean AS b, NULL::float8 AS f;

-- name: untyped_null
SELECT NULL AS n;
