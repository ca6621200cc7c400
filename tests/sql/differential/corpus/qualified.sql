-- Function calls qualified with their schema, as clients (pg_catalog.) and migrations (public.) write
-- them. On the reference server time_bucket, first and last are the shim's, created in public.

-- name: qualified_builtins_keep_types
SELECT pg_catalog.length(hostname) AS n, pg_catalog.upper(hostname) AS u, pg_catalog.substr(hostname, 0, 3) AS s
FROM hosts ORDER BY 2;

-- name: qualified_aggregate_filter
SELECT pg_catalog.count(*) FILTER (WHERE usage_user > 50) AS busy, pg_catalog.count(*) AS n FROM cpu;

-- name: qualified_time_bucket_everywhere
SELECT public.time_bucket('15 minutes', time) AS b, pg_catalog.avg(usage_user) AS a FROM cpu
WHERE pg_catalog.lower(hostname) = 'host_a'
GROUP BY public.time_bucket('15 minutes', time) ORDER BY public.time_bucket('15 minutes', time);

-- name: qualified_first_last
SELECT hostname, public.first(usage_user, time) AS f, public.last(usage_user, time) AS l
FROM cpu GROUP BY hostname ORDER BY hostname;

-- name: qualified_unknown_schema
-- error: 3F000
SELECT nosuch.lower(hostname) FROM hosts;

-- name: qualified_unknown_schema_in_from
-- error: 3F000
SELECT * FROM nosuch.generate_series(1, 2);

-- name: qualified_schema_without_the_function
-- error: 42883
SELECT pg_toast.lower(hostname) FROM hosts;

-- name: qualified_other_database
-- error: 0A000
SELECT other.pg_catalog.lower(hostname) FROM hosts;
