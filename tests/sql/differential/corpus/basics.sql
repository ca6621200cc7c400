-- name: select_star_cpu
SELECT * FROM cpu;

-- name: count_cpu
SELECT count(*) FROM cpu;

-- name: count_tsbs
SELECT count(*), count(DISTINCT hostname) FROM tsbs_cpu;

-- name: sensors_all
SELECT time, sensor_id, location, temperature, humidity, reading_count, total, level, door_open, note::text
FROM sensors;

-- name: varchar_column_type
SELECT note, 'x'::varchar AS v FROM sensors WHERE note IS NOT NULL;

-- name: hosts_all
SELECT * FROM hosts;

-- name: events_all
SELECT * FROM events;

-- name: logs_all
SELECT * FROM logs;

-- name: tsbs_first_rows
SELECT * FROM tsbs_cpu ORDER BY time, hostname LIMIT 20;

-- name: labels_all
SELECT * FROM labels;

-- name: labels_empty_string
SELECT id FROM labels WHERE label = '';
