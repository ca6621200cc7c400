-- Arrays (one-dimensional: DuckDB's nested lists are not PostgreSQL's multi-dimensional arrays).

-- name: array_functions
SELECT array_length(ARRAY[1,2,3], 1) AS a, cardinality(ARRAY[1,2]) AS b, array_position(ARRAY['a','b'], 'b') AS c,
       array_remove(ARRAY[1,2,1], 1) AS d, array_replace(ARRAY[1,2,1], 1, 9) AS e, array_cat(ARRAY[1], ARRAY[2]) AS f;

-- name: array_replace_and_positions_of_null
SELECT array_replace(ARRAY[1,NULL,3], NULL, 0) AS a, array_positions(ARRAY[1,NULL,1,NULL], NULL) AS b,
       array_positions(ARRAY['x','y','x'], 'x') AS c, array_positions(ARRAY[1], 2) AS d;

-- name: array_bounds_ndims
SELECT array_upper(ARRAY[1,2,3], 1) AS a, array_lower(ARRAY[1,2,3], 1) AS b, array_ndims(ARRAY[[1],[2]]) AS c,
       array_ndims(ARRAY[1,2]) AS d;

-- name: array_positions_prepend_append
SELECT array_positions(ARRAY[1,2,1], 1) AS a, array_prepend(0, ARRAY[1]) AS b, array_append(ARRAY[1], 2) AS c;

-- name: array_to_string_nulls
SELECT array_to_string(ARRAY[1, NULL, 3], ',') AS a, array_to_string(ARRAY[1, NULL, 3], ',', '*') AS b;

-- name: generate_subscripts_select_list
SELECT generate_subscripts(ARRAY['a','b','c'], 1) AS s;

-- name: aggregates_into_arrays_ordered
SELECT string_agg(hostname, ',' ORDER BY hostname DESC) AS a, array_agg(hostname ORDER BY hostname DESC) AS b FROM hosts;

-- name: array_literals_described
SELECT '{1,2,3}'::int[] AS a, ARRAY['a b', NULL, 'c'] AS b, '{}'::text[] AS c, ARRAY[1.5, 2] AS d;
