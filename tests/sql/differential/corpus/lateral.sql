-- LATERAL subqueries that pick one row per outer row (tsgres may run them as ASOF joins): the
-- answers must stay PostgreSQL's, including outer rows without a match.

-- name: lateral_latest_per_host
SELECT h.hostname, l.time, l.usage_user FROM hosts h,
LATERAL (SELECT time, usage_user FROM cpu c WHERE c.hostname = h.hostname ORDER BY time DESC LIMIT 1) l
ORDER BY h.hostname;

-- name: left_lateral_latest_keeps_unmatched
SELECT h.hostname, l.time, l.usage_user FROM hosts h
LEFT JOIN LATERAL (SELECT time, usage_user FROM cpu c WHERE c.hostname = h.hostname ORDER BY time DESC LIMIT 1) l ON true
ORDER BY h.hostname;

-- name: lateral_earliest
SELECT h.hostname, l.time FROM hosts h,
LATERAL (SELECT time FROM cpu c WHERE c.hostname = h.hostname ORDER BY time ASC LIMIT 1) l ORDER BY 1;

-- name: lateral_asof_before_event
SELECT e.time, e.host, e.kind, c.time AS cpu_time, c.usage_user FROM events e
LEFT JOIN LATERAL (SELECT time, usage_user FROM cpu WHERE cpu.hostname = e.host AND cpu.time <= e.time
                   ORDER BY time DESC LIMIT 1) c ON true
WHERE e.value IS NOT NULL
ORDER BY e.time, e.host, e.kind, e.value;

-- name: lateral_asof_strictly_before
SELECT e.time, e.host, c.time AS prev FROM (SELECT DISTINCT time, host FROM events) e
LEFT JOIN LATERAL (SELECT time FROM cpu WHERE cpu.hostname = e.host AND cpu.time < e.time ORDER BY time DESC LIMIT 1) c ON true
ORDER BY 1, 2;

-- name: lateral_next_after
SELECT s.sensor_id, s.time, n.time AS next_time FROM (SELECT * FROM sensors WHERE time < '2024-01-01 01:00:00+00') s
LEFT JOIN LATERAL (SELECT time FROM sensors s2 WHERE s2.sensor_id = s.sensor_id AND s2.time > s.time ORDER BY time LIMIT 1) n ON true
ORDER BY 1, 2;

-- name: lateral_by_value_not_time
SELECT h.hostname, l.usage_user FROM hosts h,
LATERAL (SELECT usage_user FROM cpu c WHERE c.hostname = h.hostname AND usage_user IS NOT NULL ORDER BY usage_user DESC LIMIT 1) l
ORDER BY 1;

-- name: lateral_with_filter
SELECT h.hostname, l.time, l.usage_system FROM hosts h,
LATERAL (SELECT time, usage_system FROM cpu c WHERE c.hostname = h.hostname AND c.usage_system > 25 ORDER BY time DESC LIMIT 1) l
ORDER BY 1;

-- name: lateral_null_value_at_latest
SELECT h.hostname, l.region FROM hosts h,
LATERAL (SELECT region FROM cpu c WHERE c.hostname = h.hostname ORDER BY time DESC LIMIT 1) l ORDER BY 1;

-- name: lateral_duplicate_timestamps
SELECT k.kind, l.value FROM (VALUES ('deploy'), ('restart'), ('alert')) AS k(kind),
LATERAL (SELECT value FROM events e WHERE e.kind = k.kind ORDER BY time DESC, value DESC NULLS LAST LIMIT 1) l ORDER BY 1;

-- name: lateral_timestamp_column
SELECT s.service, l.ts, l.bytes FROM (VALUES ('api'), ('db'), ('cache'), ('none')) s(service)
LEFT JOIN LATERAL (SELECT ts, bytes FROM logs WHERE logs.service = s.service ORDER BY ts DESC LIMIT 1) l ON true ORDER BY 1;
