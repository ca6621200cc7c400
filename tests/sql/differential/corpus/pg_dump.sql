-- What pg_dump 15 reads from the catalog beyond what psql and drivers do (tests/compat/pg/test_pg_dump.py
-- runs pg_dump itself): system columns of the catalog tables, acldefault, name subscripts, the text of
-- int2vector / oidvector columns, pg_tablespace_location.

-- name: tableoid_of_catalog_rows
SELECT DISTINCT tableoid::int8 AS t FROM pg_class;

-- name: tableoid_qualified_in_a_join
SELECT n.tableoid::int8 AS nt, c.tableoid::int8 AS ct, c.relname::text AS relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relname = 'sensors';

-- name: system_column_in_where
SELECT amname::text AS amname FROM pg_am WHERE tableoid = 2601 AND amname = 'heap';

-- name: acldefault_of_each_kind
SELECT array_to_string(acldefault('n', 10), ',') AS n, array_to_string(acldefault('r', 10), ',') AS r,
       array_to_string(acldefault('s', 10), ',') AS s, array_to_string(acldefault('T', 10), ',') AS t,
       array_to_string(acldefault('f', 10), ',') AS f, array_to_string(acldefault('d', 10), ',') AS d,
       array_to_string(acldefault('l', 10), ',') AS l, array_to_string(acldefault('p', 10), ',') AS p,
       array_to_string(acldefault('L', 10), ',') AS lo, array_to_string(acldefault('t', 10), ',') AS ts,
       array_to_string(acldefault('F', 10), ',') AS fdw, array_to_string(acldefault('S', 10), ',') AS srv;

-- name: name_subscripts_from_zero
SELECT typname[0]::text AS first, typname[1]::text AS second FROM pg_type WHERE typname = '_int4';

-- name: array_types_as_pg_dump_tells_them
SELECT typname::text AS typname,
       typname[0] = '_' AND typelem != 0 AND (SELECT typarray FROM pg_type te WHERE oid = pg_type.typelem) = oid AS isarray
FROM pg_type WHERE typname IN ('int4', '_int4', 'text', '_text') ORDER BY 1;

-- name: oidvector_text
SELECT proargtypes::text AS args FROM pg_proc WHERE oid = 877;

-- name: int2vector_text_of_a_key
SELECT i.indkey::text AS k FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relname = 'sensors' AND i.indisprimary;

-- name: tablespace_location
SELECT spcname::text AS spcname, pg_tablespace_location(oid) AS loc FROM pg_tablespace ORDER BY 1;
