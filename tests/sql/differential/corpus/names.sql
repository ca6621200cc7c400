-- Result column names as PostgreSQL chooses them (FigureColname) for unaliased expressions.

-- name: names_aggregates
SELECT count(*), count(usage_user), sum(cores), avg(usage_user), min(time), max(hostname) FROM cpu;

-- name: names_statistics
SELECT stddev(usage_user), stddev_samp(usage_user), stddev_pop(usage_user), variance(usage_user),
       var_samp(usage_user), var_pop(usage_user) FROM cpu;

-- name: names_ordered_set
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY usage_user),
       mode() WITHIN GROUP (ORDER BY cores) FROM cpu;

-- name: names_filter
SELECT count(*) FILTER (WHERE usage_user > 50), max(usage_user) FILTER (WHERE cores > 2) FROM cpu;

-- name: names_windows
SELECT row_number() OVER (ORDER BY rack, hostname), rank() OVER (ORDER BY rack), dense_rank() OVER (ORDER BY rack),
       lag(rack) OVER (ORDER BY hostname), sum(weight) OVER (), avg(rack) OVER () FROM hosts;

-- name: names_string_functions
SELECT lower(hostname), upper(hostname), length(hostname), substr(hostname, 1, 2), substring(hostname, 1, 2),
       position('_' in hostname), strpos(hostname, '_'), replace(hostname, 'h', 'H'), concat(hostname, 'x'),
       trim(hostname), char_length(hostname), left(hostname, 1) FROM hosts;

-- name: names_math_functions
SELECT abs(rack), round(weight), ceil(weight), ceiling(weight), floor(weight), power(rack, 2), pow(rack, 2),
       sqrt(weight), mod(rack, 2), greatest(rack, 2), least(rack, 2), trunc(weight) FROM hosts;

-- name: names_time_functions
SELECT date_trunc('hour', time), extract(hour from time), date_part('hour', time), time_bucket('5 minutes', time),
       to_char(time, 'HH24'), now() IS NOT NULL FROM cpu WHERE hostname = 'host_a' AND time = '2024-01-01 00:00:00+00';

-- name: names_casts
SELECT '1'::int, 1::text, cores::float8, CAST(cores AS bigint), 'x'::text, 2.5::numeric, '2024-01-01'::date,
       true::boolean FROM cpu WHERE hostname = 'host_a' AND time = '2024-01-01 00:00:00+00';

-- name: names_case
SELECT CASE WHEN rack > 1 THEN 'big' ELSE 'small' END, CASE WHEN rack > 1 THEN team ELSE hostname END,
       CASE WHEN rack > 1 THEN 1 END, CASE rack WHEN 1 THEN lower(team) ELSE upper(team) END FROM hosts;

-- name: names_operators
SELECT rack + 1, -rack, hostname || 'x', rack IS NULL, NOT (rack > 1), rack BETWEEN 1 AND 2, hostname LIKE 'h%',
       rack IN (1, 2) FROM hosts;

-- name: names_misc
SELECT coalesce(team, 'x'), nullif(rack, 1), (SELECT 1), EXISTS (SELECT 1), ARRAY[rack], (rack), hosts.team,
       row_number() OVER () > 0 FROM hosts;

-- name: names_literals
SELECT 1, 'a', 1.5, NULL, true, interval '1 day', date '2024-01-01', timestamptz '2024-01-01 00:00:00+00';

-- name: names_subquery_column
SELECT (SELECT max(rack) FROM hosts), (SELECT max(rack) AS m FROM hosts);

-- name: names_star_join
SELECT * FROM hosts h JOIN labels l ON l.id = h.rack WHERE l.id <> 2;

-- name: names_duplicate_output
SELECT rack, rack, hostname AS rack FROM hosts;

-- name: names_bool_aggs
SELECT bool_and(door_open), bool_or(door_open), every(door_open), string_agg(note, ','), array_agg(level ORDER BY time)
FROM sensors WHERE time < '2024-01-01 00:30:00+00';

-- name: names_first_last
SELECT first(usage_user, time), last(usage_user, time) FROM cpu WHERE hostname = 'host_a';

-- name: names_coalesce_greatest
SELECT greatest(usage_user, usage_system), least(usage_user, 0), coalesce(usage_user, 0) FROM cpu
WHERE hostname = 'host_b' AND time = '2024-01-01 00:00:00+00';
