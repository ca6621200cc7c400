-- Subqueries (scalar, IN, EXISTS, correlated, derived tables) and CTEs.

-- name: scalar_subquery_select
SELECT hostname, (SELECT max(usage_user) FROM cpu c WHERE c.hostname = h.hostname) AS peak FROM hosts h;

-- name: scalar_subquery_where
SELECT time, hostname, usage_user FROM cpu WHERE usage_user = (SELECT max(usage_user) FROM cpu);

-- name: scalar_subquery_compare_avg
SELECT count(*) FROM cpu WHERE usage_user > (SELECT avg(usage_user) FROM cpu);

-- name: in_subquery
SELECT count(*) FROM cpu WHERE hostname IN (SELECT hostname FROM hosts WHERE team = 'web');

-- name: not_in_subquery_with_null
SELECT count(*) FROM cpu WHERE cores NOT IN (SELECT rack FROM hosts);

-- name: not_in_subquery_no_null
SELECT count(*) FROM cpu WHERE cores NOT IN (SELECT rack FROM hosts WHERE rack IS NOT NULL);

-- name: in_list_with_null
SELECT count(*) FROM hosts WHERE rack IN (1, NULL);

-- name: not_in_list_with_null
SELECT count(*) FROM hosts WHERE rack NOT IN (1, NULL);

-- name: exists_correlated
SELECT hostname FROM hosts h WHERE EXISTS (SELECT 1 FROM cpu c WHERE c.hostname = h.hostname AND c.usage_user > 99) ORDER BY 1;

-- name: any_all
SELECT count(*) FROM cpu WHERE usage_user > ALL (SELECT weight * 30 FROM hosts WHERE weight IS NOT NULL);

-- name: any_array
SELECT count(*) FROM cpu WHERE hostname = ANY (ARRAY['host_a', 'host_b']);

-- name: derived_table
SELECT region, avg(m) FROM (SELECT region, hostname, max(usage_user) AS m FROM cpu GROUP BY 1, 2) t
GROUP BY region ORDER BY region NULLS FIRST;

-- name: correlated_count
SELECT h.hostname, (SELECT count(*) FROM events e WHERE e.host = h.hostname) AS n FROM hosts h ORDER BY 1;

-- name: scalar_subquery_empty
SELECT (SELECT usage_user FROM cpu WHERE hostname = 'nope') AS v;

-- name: scalar_subquery_too_many
-- error: 21000
SELECT (SELECT usage_user FROM cpu WHERE hostname = 'host_a') AS v;

-- name: cte_simple
WITH peaks AS (SELECT hostname, max(usage_user) AS peak FROM cpu GROUP BY hostname)
SELECT * FROM peaks WHERE peak > 90 ORDER BY hostname;

-- name: cte_inlined_aggregate
WITH cpu_avg AS (
  SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user, max(usage_system)
  FROM cpu WHERE time >= '2024-01-01 00:10:00 +0000' AND time < '2024-01-02 00:00:00 +0000'
  GROUP BY hour, hostname
)
SELECT hour, hostname, mean_usage_user, max FROM cpu_avg ORDER BY hour, hostname;

-- name: cte_inlined_reordered_desc_limit
WITH x AS (SELECT hostname, region, count(usage_user) AS n FROM cpu GROUP BY hostname, region)
SELECT n, region, hostname FROM x ORDER BY hostname DESC, region LIMIT 3 OFFSET 1;

-- name: cte_inlined_star
WITH x AS (SELECT hostname, min(time) AS first_seen FROM cpu GROUP BY hostname)
SELECT * FROM x ORDER BY first_seen, hostname;

-- name: cte_not_inlined_subset
WITH x AS (SELECT date_trunc('hour', time) AS h, hostname, sum(usage_idle) AS s FROM cpu GROUP BY h, hostname)
SELECT hostname, s FROM x ORDER BY hostname, s;

-- name: cte_two
WITH a AS (SELECT hostname, avg(usage_user) AS u FROM cpu GROUP BY hostname),
     b AS (SELECT avg(u) AS overall FROM a)
SELECT a.hostname, a.u - b.overall AS diff FROM a, b ORDER BY a.hostname;

-- name: cte_referenced_twice
WITH t AS (SELECT sensor_id, max(temperature) AS mx FROM sensors GROUP BY sensor_id)
SELECT x.sensor_id, y.sensor_id FROM t x JOIN t y ON x.mx < y.mx ORDER BY 1, 2;

-- name: cte_recursive
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT sum(i), count(*) FROM n;

-- name: cte_recursive_dates
WITH RECURSIVE d(t) AS (SELECT timestamptz '2024-01-01 00:00:00+00' UNION ALL
                        SELECT t + interval '10 minutes' FROM d WHERE t < '2024-01-01 00:50:00+00')
SELECT d.t, count(c.time) FROM d LEFT JOIN cpu c ON c.time = d.t GROUP BY d.t ORDER BY d.t;

-- name: cte_shadow_table_name
WITH cpu AS (SELECT 1 AS x) SELECT * FROM cpu;

-- name: cte_with_window
WITH r AS (SELECT hostname, time, usage_user, lag(usage_user) OVER (PARTITION BY hostname ORDER BY time) AS prev FROM cpu)
SELECT hostname, count(*) FILTER (WHERE usage_user > prev) AS ups FROM r GROUP BY hostname ORDER BY 1;

-- name: cte_materialized
WITH m AS MATERIALIZED (SELECT DISTINCT kind FROM events) SELECT * FROM m ORDER BY kind;

-- name: subquery_in_from_with_limit
SELECT avg(usage_user) FROM (SELECT usage_user FROM cpu WHERE usage_user IS NOT NULL ORDER BY usage_user DESC LIMIT 10) t;

-- name: subquery_in_having
SELECT hostname FROM cpu GROUP BY hostname HAVING max(usage_user) > (SELECT avg(usage_user) + 40 FROM cpu) ORDER BY 1;

-- name: subquery_in_case
SELECT hostname, CASE WHEN hostname IN (SELECT hostname FROM hosts) THEN 'known' ELSE 'unknown' END AS k
FROM (SELECT DISTINCT hostname FROM cpu) t ORDER BY 1;

-- name: correlated_lateral_agg
SELECT s.sensor_id, x.hi FROM (SELECT DISTINCT sensor_id FROM sensors) s,
LATERAL (SELECT max(temperature) AS hi FROM sensors s2 WHERE s2.sensor_id = s.sensor_id) x ORDER BY 1;

-- name: values_subquery
SELECT * FROM (VALUES (1, 'one'), (2, 'two'), (3, NULL)) AS t(n, name) ORDER BY n;

-- name: exists_uncorrelated
SELECT EXISTS (SELECT 1 FROM cpu WHERE usage_user > 1000) AS e1, EXISTS (SELECT 1 FROM cpu) AS e2;

-- name: in_tuple_subquery
SELECT count(*) FROM cpu WHERE (hostname, cores) IN (SELECT hostname, rack * 2 FROM hosts);
