-- WHERE clauses that tsgres pushes into its storage scans (time range, tag predicates): the rows must
-- be exactly PostgreSQL's, including NULL tags, duplicates and bounds at the microsecond.

-- name: tag_ne_excludes_null
SELECT count(*) FROM cpu WHERE region <> 'us-east';

-- name: tag_is_null
SELECT hostname, count(*) FROM cpu WHERE region IS NULL GROUP BY hostname;

-- name: tag_is_not_null
SELECT count(*) FROM cpu WHERE region IS NOT NULL;

-- name: tag_not_in_null_tag
SELECT count(*) FROM cpu WHERE region NOT IN ('us-west');

-- name: tag_not_eq_paren
SELECT count(*) FROM cpu WHERE NOT (region = 'us-east');

-- name: tag_or_field
SELECT count(*) FROM cpu WHERE hostname = 'host_a' OR usage_user > 95;

-- name: tag_like_escape
SELECT DISTINCT hostname FROM cpu WHERE hostname LIKE 'host\_a';

-- name: tag_like_percent_middle
SELECT DISTINCT location FROM sensors WHERE location LIKE 'b%t';

-- name: tag_in_and_time
SELECT hostname, count(*) FROM cpu WHERE hostname IN ('host_b', 'host_d')
  AND time >= '2024-01-01 00:30:00+00' GROUP BY hostname ORDER BY hostname;

-- name: time_bound_exclusive_exact
SELECT count(*) FROM cpu WHERE time > '2024-01-01 00:10:00+00' AND time < '2024-01-01 00:11:00+00';

-- name: time_bound_inclusive_exact
SELECT count(*) FROM cpu WHERE time >= '2024-01-01 00:10:00+00' AND time <= '2024-01-01 00:11:00+00';

-- name: time_equals
SELECT hostname FROM cpu WHERE time = '2024-01-01 00:42:00+00' ORDER BY hostname;

-- name: time_in_list
SELECT count(*) FROM cpu WHERE time IN ('2024-01-01 00:01:00+00', '2024-01-01 00:02:00+00');

-- name: time_microsecond_bounds
SELECT count(*) FROM sensors WHERE time > '2024-01-01 01:00:00.182277+00' AND time <= '2024-01-01 02:00:00.644238+00';

-- name: time_reversed_operands
SELECT count(*) FROM cpu WHERE '2024-01-01 00:50:00+00' < time;

-- name: time_between_symmetric_order
SELECT count(*) FROM cpu WHERE time BETWEEN '2024-01-01 00:20:00+00' AND '2024-01-01 00:10:00+00';

-- name: time_date_literal
SELECT count(*) FROM sensors WHERE time >= date '2024-01-01' AND time < date '2024-01-01' + 1;

-- name: time_interval_arith_bound
SELECT count(*) FROM cpu WHERE time > timestamptz '2024-01-01 00:00:00+00' + interval '55 minutes';

-- name: time_other_zone_literal
SELECT count(*) FROM cpu WHERE time < '2024-01-01 02:10:00+02';

-- name: time_bound_timestamp_table
SELECT count(*) FROM logs WHERE ts >= '2024-01-02 00:00:00' AND ts < '2024-01-02 00:10:00';

-- name: time_or_bounds
SELECT count(*) FROM cpu WHERE time < '2024-01-01 00:05:00+00' OR time > '2024-01-01 00:55:00+00';

-- name: tag_and_time_in_subquery
SELECT count(*) FROM (SELECT * FROM cpu WHERE hostname = 'host_c' AND time < '2024-01-01 00:30:00+00') t
WHERE t.usage_user > 20;

-- name: tag_in_join_on
SELECT count(*) FROM cpu c JOIN hosts h ON c.hostname = h.hostname AND h.team = 'web' WHERE c.region = 'us-west';

-- name: tag_qualified_alias
SELECT count(*) FROM cpu a, cpu b WHERE a.hostname = 'host_a' AND b.hostname = 'host_b' AND a.time = b.time;

-- name: tag_eq_other_column
SELECT count(*) FROM cpu WHERE hostname = region;

-- name: duplicates_filtered
SELECT kind, count(*) FROM events WHERE host = 'host_a' AND time <= '2024-01-01 00:20:00+00' GROUP BY kind ORDER BY kind;

-- name: keyless_where
SELECT hostname FROM hosts WHERE team = 'web' AND rack = 1;

-- name: tsbs_tag_and_range_count
SELECT count(*) FROM tsbs_cpu WHERE hostname IN ('host_1', 'host_8') AND time >= '2016-01-01 00:59:50+00' AND time < '2016-01-01 01:00:20+00';

-- name: tsbs_not_like
SELECT count(DISTINCT hostname) FROM tsbs_cpu WHERE hostname NOT LIKE 'host_1%';
