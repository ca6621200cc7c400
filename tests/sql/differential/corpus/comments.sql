-- Descriptions written with COMMENT ON (tests/fixtures/sql/differential_schema.sql), read the ways
-- psql, SQLAlchemy and JDBC read them.

-- name: obj_description_table
SELECT obj_description('cpu'::regclass, 'pg_class') AS d, obj_description('orders'::regclass, 'pg_class') AS removed,
       obj_description('hosts'::regclass, 'pg_class') AS never, obj_description('logs'::regclass) AS one_arg;

-- name: obj_description_other_catalog
SELECT obj_description('cpu'::regclass, 'pg_namespace') AS wrong_catalog,
       obj_description('public'::regnamespace, 'pg_namespace') AS public_schema,
       obj_description('public'::regnamespace, 'pg_class') AS public_as_class;

-- name: col_description_each_column
SELECT a.attnum, a.attname::text AS attname, col_description(a.attrelid, a.attnum) AS d
FROM pg_attribute a WHERE a.attrelid = 'cpu'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: col_description_empty_is_none
SELECT col_description('sensors'::regclass, a.attnum) AS d, col_description('orders'::regclass, 4) AS price
FROM pg_attribute a WHERE a.attrelid = 'sensors'::regclass AND a.attname = 'note';

-- name: pg_description_join_columns
SELECT c.relname::text AS relname, d.objsubid, a.attname::text AS attname, d.description
FROM pg_description d
JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE c.relnamespace = 'public'::regnamespace
ORDER BY c.relname, d.objsubid;

-- name: pg_description_table_comments_sqlalchemy
SELECT c.relname::text AS relname, d.description
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d
  ON c.oid = d.objoid AND d.objsubid = 0 AND d.classoid = CAST('pg_catalog.pg_class' AS REGCLASS)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
ORDER BY c.relname;

-- name: pg_description_namespaces
SELECT n.nspname::text AS nspname, d.description
FROM pg_namespace n JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
WHERE n.nspname IN ('public', 'pg_catalog', 'pg_toast', 'information_schema')
ORDER BY n.nspname;

-- name: schema_descriptions_psql_dn
SELECT n.nspname::text AS nspname, pg_catalog.obj_description(n.oid, 'pg_namespace') AS "Description"
FROM pg_catalog.pg_namespace n
WHERE n.nspname IN ('public', 'pg_catalog', 'information_schema')
ORDER BY 1;

-- name: database_description
SELECT shobj_description(d.oid, 'pg_database') AS d, obj_description(d.oid, 'pg_database') AS not_here
FROM pg_database d WHERE d.datname = current_database();

-- name: pg_shdescription_join
SELECT s.description, s.classoid = 'pg_database'::regclass AS is_db
FROM pg_shdescription s JOIN pg_database d ON d.oid = s.objoid
WHERE d.datname = current_database();

-- name: extension_description
SELECT e.extname::text AS extname, obj_description(e.oid, 'pg_extension') AS d
FROM pg_extension e WHERE e.extname = 'plpgsql';

-- name: table_without_comments_has_no_rows
SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid WHERE c.relname = 'hosts';
