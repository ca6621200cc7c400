-- Joins: inner/left/right/full/cross, the dimension table, self joins, USING/NATURAL, lateral.

-- name: inner_dimension
SELECT c.hostname, h.team, count(*) FROM cpu c JOIN hosts h ON c.hostname = h.hostname
GROUP BY c.hostname, h.team ORDER BY c.hostname;

-- name: left_dimension
SELECT c.hostname, h.rack, count(*) FROM cpu c LEFT JOIN hosts h ON c.hostname = h.hostname
GROUP BY 1, 2 ORDER BY 1;

-- name: right_dimension
SELECT h.hostname, count(c.time) FROM cpu c RIGHT JOIN hosts h ON c.hostname = h.hostname
GROUP BY h.hostname ORDER BY h.hostname;

-- name: full_dimension
SELECT coalesce(c.hostname, h.hostname) AS host, count(c.time) AS points, max(h.team) AS team
FROM cpu c FULL JOIN hosts h ON c.hostname = h.hostname GROUP BY 1 ORDER BY 1;

-- name: full_join_distinct_hosts
SELECT c.hostname AS c_host, h.hostname AS h_host
FROM (SELECT DISTINCT hostname FROM cpu) c FULL OUTER JOIN hosts h ON c.hostname = h.hostname;

-- name: cross_join_small
SELECT h.hostname, l.id FROM hosts h CROSS JOIN labels l;

-- name: cross_join_comma
SELECT count(*) FROM hosts, labels WHERE hosts.rack = labels.id;

-- name: join_using
SELECT hostname, team, max(usage_user) FROM cpu JOIN hosts USING (hostname) GROUP BY hostname, team ORDER BY 1;

-- name: join_using_star
SELECT * FROM hosts JOIN (SELECT DISTINCT hostname, region FROM cpu) r USING (hostname);

-- name: natural_join
SELECT * FROM hosts NATURAL JOIN (SELECT 'host_a'::text AS hostname, 42 AS answer) x;

-- name: self_join_lag
SELECT a.time, a.hostname, b.usage_user - a.usage_user AS delta
FROM cpu a JOIN cpu b ON a.hostname = b.hostname AND b.time = a.time + interval '1 minute'
WHERE a.hostname = 'host_c' AND a.time < '2024-01-01 00:10:00+00' ORDER BY a.time;

-- name: join_on_time
SELECT c.time, c.hostname, e.kind FROM cpu c JOIN events e ON c.time = e.time AND c.hostname = e.host;

-- name: join_duplicates_multiply
SELECT e1.time, count(*) FROM events e1 JOIN events e2 ON e1.time = e2.time GROUP BY e1.time ORDER BY 1;

-- name: join_three_way
SELECT h.team, s.sensor_id, count(*) FROM hosts h
JOIN cpu c ON c.hostname = h.hostname
JOIN sensors s ON date_trunc('hour', s.time) = date_trunc('hour', c.time) AND s.sensor_id = 'sensor_1'
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: join_non_equi
SELECT h.hostname, count(*) FROM hosts h JOIN labels l ON l.id > h.rack GROUP BY h.hostname ORDER BY 1;

-- name: left_join_filter_in_on
SELECT h.hostname, count(c.time) FROM hosts h
LEFT JOIN cpu c ON c.hostname = h.hostname AND c.usage_user > 95 GROUP BY 1 ORDER BY 1;

-- name: left_join_is_null
SELECT h.hostname FROM hosts h LEFT JOIN cpu c ON c.hostname = h.hostname WHERE c.hostname IS NULL ORDER BY 1;

-- name: join_null_keys_never_match
SELECT count(*) FROM hosts a JOIN hosts b ON a.team = b.team;

-- name: join_is_not_distinct
SELECT count(*) FROM hosts a JOIN hosts b ON a.team IS NOT DISTINCT FROM b.team;

-- name: lateral_top2
SELECT h.hostname, t.time, t.usage_user FROM hosts h,
LATERAL (SELECT time, usage_user FROM cpu c WHERE c.hostname = h.hostname AND usage_user IS NOT NULL
         ORDER BY usage_user DESC, time LIMIT 2) t
ORDER BY h.hostname, t.usage_user DESC;

-- name: left_lateral
SELECT h.hostname, t.n FROM hosts h
LEFT JOIN LATERAL (SELECT count(*) AS n FROM cpu c WHERE c.hostname = h.hostname) t ON true ORDER BY 1;

-- name: join_tsbs_with_hosts
SELECT t.hostname, h.team, avg(t.usage_user) FROM tsbs_cpu t LEFT JOIN hosts h ON t.hostname = h.hostname
WHERE t.hostname IN ('host_0', 'host_1') GROUP BY 1, 2 ORDER BY 1;

-- name: join_sensors_labels
SELECT s.sensor_id, l.label FROM (SELECT DISTINCT sensor_id FROM sensors) s
JOIN labels l ON l.id = substr(s.sensor_id, 8)::int
WHERE l.id <> 2  -- the row holding '' (basics/labels_all)
ORDER BY 1;

-- name: join_values_list
SELECT v.hostname, v.pri, h.team FROM (VALUES ('host_a', 1), ('host_e', 2), ('host_z', 3)) AS v(hostname, pri)
LEFT JOIN hosts h ON h.hostname = v.hostname ORDER BY v.pri;

-- name: join_logs_ts
SELECT l1.service, count(*) FROM logs l1 JOIN logs l2 ON l1.service = l2.service AND l2.ts > l1.ts
GROUP BY 1 ORDER BY 1;

-- name: semi_join_exists
SELECT hostname FROM hosts h WHERE EXISTS (SELECT 1 FROM cpu c WHERE c.hostname = h.hostname) ORDER BY 1;

-- name: anti_join_not_exists
SELECT hostname FROM hosts h WHERE NOT EXISTS (SELECT 1 FROM cpu c WHERE c.hostname = h.hostname) ORDER BY 1;
