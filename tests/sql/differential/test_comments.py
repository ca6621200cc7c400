"""COMMENT ON over an object's life, differentially: each scenario runs its statements in order on
PostgreSQL 15 and on tsgres; after every statement the outcome (the SQLSTATE and message of an
error) and what pg_description / pg_shdescription then hold for the scenario's objects must agree.

Scenarios use their own objects (created and dropped here), so the read-only corpus is unaffected.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres

# what pg_description holds for relations named like the scenario's prefix, with column names
_RELATIONS = """
SELECT c.relname::text AS relname, c.relkind::text AS relkind, d.objsubid, a.attname::text AS attname,
       d.description
FROM pg_description d
JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE c.relname LIKE '{prefix}%'
"""
_SCHEMAS = """
SELECT n.nspname::text AS nspname, obj_description(n.oid, 'pg_namespace') AS d
FROM pg_namespace n WHERE n.nspname LIKE '{prefix}%' OR n.nspname = 'public'
"""
# what obj_description and pg_description say of the scenario's types (enum types, tables' row types
# and their arrays, by name: LIKE's _ would match any character)
_TYPES = """
SELECT t.typname::text AS typname, obj_description(t.oid, 'pg_type') AS d, d.description,
       d.classoid::regclass::text AS catalog
FROM pg_type t LEFT JOIN pg_description d ON d.objoid = t.oid
WHERE t.typname IN ('{prefix}mood', '_{prefix}mood', '{prefix}mood2', '_{prefix}mood2', '{prefix}t', '_{prefix}t',
                    '{prefix}t2', '_{prefix}t2')
"""
# the built-in types' descriptions this scenario writes ('cb: ...'; PostgreSQL has its own, which
# tsgres does not list)
_BUILTIN_TYPES = """
SELECT t.typname::text AS typname, d.description, obj_description(t.oid, 'pg_type') AS d
FROM pg_description d JOIN pg_type t ON t.oid = d.objoid AND d.classoid = 'pg_type'::regclass
WHERE d.description LIKE 'cb:%'
"""

# (id, name prefix of its objects, probe, statements, cleanup)
SCENARIOS: list[tuple[str, str, str, list[str], list[str]]] = [
    (
        "table_and_columns",
        "cm_",
        _RELATIONS,
        [
            "CREATE TABLE cm_t (time timestamptz NOT NULL, host text, v double precision, n int4)",
            "COMMENT ON TABLE cm_t IS 'a table'",
            "COMMENT ON COLUMN cm_t.v IS 'a value'",
            "COMMENT ON COLUMN public.cm_t.time IS E'when\\n(UTC)'",
            "COMMENT ON COLUMN cm_t.n IS 'count'",
            "COMMENT ON TABLE cm_t IS 'replaced'",
            "ALTER TABLE cm_t RENAME COLUMN v TO value",  # the comment follows the column
            "COMMENT ON COLUMN cm_t.v IS 'gone'",
            "ALTER TABLE cm_t DROP COLUMN n",  # and goes with it
            "ALTER TABLE cm_t ADD COLUMN n int4",
            "COMMENT ON COLUMN cm_t.value IS ''",
            "COMMENT ON COLUMN cm_t.nope IS 'x'",
            "COMMENT ON COLUMN cm_t IS 'x'",
            "COMMENT ON TABLE otherdb.public.cm_t IS 'x'",
            "COMMENT ON TABLE cm_t IS 42",
            "ALTER TABLE cm_t RENAME TO cm_renamed",
            "COMMENT ON TABLE cm_renamed IS NULL",
            "COMMENT ON TABLE cm_t IS 'x'",
            "COMMENT ON TABLE cm_renamed IS 'again'",
            "DROP TABLE cm_renamed",
            "CREATE TABLE cm_renamed (time timestamptz NOT NULL, value double precision)",
        ],
        ["DROP TABLE IF EXISTS cm_renamed", "DROP TABLE IF EXISTS cm_t"],
    ),
    (
        "key_index",
        "ck_",
        _RELATIONS,
        [
            "CREATE TABLE ck_t (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " PRIMARY KEY (time, host))",
            "COMMENT ON INDEX ck_t_pkey IS 'the key'",
            "COMMENT ON INDEX ck_t IS 'x'",
            "COMMENT ON TABLE ck_t_pkey IS 'x'",
            "COMMENT ON COLUMN ck_t_pkey.time IS 'x'",
            "COMMENT ON INDEX ck_t_pkey IS NULL",
            "COMMENT ON INDEX ck_t_pkey IS 'the key again'",
            "DROP TABLE ck_t",
        ],
        ["DROP TABLE IF EXISTS ck_t"],
    ),
    (
        "view",
        "cv_",
        _RELATIONS,
        [
            "CREATE TABLE cv_t (time timestamptz NOT NULL, host text, v double precision)",
            "CREATE VIEW cv_v AS SELECT time, host, v FROM cv_t",
            "COMMENT ON VIEW cv_v IS 'a view'",
            "COMMENT ON COLUMN cv_v.host IS 'its host'",
            "COMMENT ON TABLE cv_v IS 'x'",
            "COMMENT ON VIEW cv_t IS 'x'",
            "COMMENT ON COLUMN cv_v.nope IS 'x'",
            "DROP VIEW cv_v",
            "CREATE VIEW cv_v AS SELECT time, host, v FROM cv_t",
        ],
        ["DROP VIEW IF EXISTS cv_v", "DROP TABLE IF EXISTS cv_t"],
    ),
    (
        # a sequence is described as a relation; its description follows a rename, goes with a
        # DROP SEQUENCE and with the table that owns it (a SERIAL's)
        "sequence",
        "cq_",
        _RELATIONS,
        [
            "CREATE SEQUENCE cq_s",
            "CREATE TABLE cq_t (id serial, v int4)",
            "COMMENT ON SEQUENCE cq_s IS 'a sequence'",
            "COMMENT ON SEQUENCE public.cq_t_id_seq IS 'a serial'",
            "COMMENT ON SEQUENCE cq_t IS 'x'",
            "COMMENT ON TABLE cq_s IS 'x'",
            "COMMENT ON VIEW cq_s IS 'x'",
            "COMMENT ON INDEX cq_s IS 'x'",
            "COMMENT ON COLUMN cq_s.last_value IS 'x'",
            "COMMENT ON SEQUENCE cq_nope IS 'x'",
            "COMMENT ON SEQUENCE cq_nope.cq_s IS 'x'",
            "ALTER SEQUENCE cq_s RENAME TO cq_s2",
            "COMMENT ON SEQUENCE cq_s2 IS ''",
            "COMMENT ON SEQUENCE cq_s2 IS 'again'",
            "DROP SEQUENCE cq_s2",
            "CREATE SEQUENCE cq_s2",
            "DROP TABLE cq_t",
            "CREATE TABLE cq_t (id serial, v int4)",
        ],
        ["DROP TABLE IF EXISTS cq_t", "DROP SEQUENCE IF EXISTS cq_s2", "DROP SEQUENCE IF EXISTS cq_s"],
    ),
    (
        # an enum type, a table's row type and their arrays, under any of their names; the
        # description follows a rename and goes with the type (or table); tsgres has no domains
        "type",
        "ct_",
        _TYPES,
        [
            "CREATE TYPE ct_mood AS ENUM ('sad', 'ok')",
            "CREATE TABLE ct_t (time timestamptz NOT NULL, m ct_mood, v float8)",
            "COMMENT ON TYPE ct_mood IS 'feelings'",
            "COMMENT ON TYPE public.ct_mood IS 'feelings, again'",
            "COMMENT ON TYPE ct_mood[] IS 'lists of feelings'",
            "COMMENT ON TYPE _ct_t IS 'rows'",
            "COMMENT ON TYPE ct_t IS 'a row'",
            "COMMENT ON TYPE ct_nope IS 'x'",
            "COMMENT ON TYPE ct_nope.ct_mood IS 'x'",
            "COMMENT ON TYPE pg_catalog.ct_mood IS 'x'",
            "COMMENT ON DOMAIN ct_mood IS 'x'",
            "COMMENT ON DOMAIN ct_nope IS 'x'",
            "COMMENT ON TYPE ct_mood IS ''",
            "COMMENT ON TYPE \"ct_mood\" IS 'back'",
            "ALTER TYPE ct_mood RENAME TO ct_mood2",
            "ALTER TABLE ct_t RENAME TO ct_t2",
            "COMMENT ON TYPE ct_t2 IS NULL",
            "DROP TABLE ct_t2",
            "DROP TYPE ct_mood2",
            "CREATE TYPE ct_mood AS ENUM ('x')",
            "CREATE TABLE ct_t (a int4)",
        ],
        [
            "DROP TABLE IF EXISTS ct_t",
            "DROP TABLE IF EXISTS ct_t2",
            "DROP TYPE IF EXISTS ct_mood",
            "DROP TYPE IF EXISTS ct_mood2",
        ],
    ),
    (
        "builtin_type",
        "",
        _BUILTIN_TYPES,
        [
            "COMMENT ON TYPE int4 IS 'cb: ints'",
            "COMMENT ON TYPE character varying(10) IS 'cb: texts'",
            "COMMENT ON TYPE integer[] IS 'cb: lists'",
            "COMMENT ON TYPE pg_catalog.int4 IS 'cb: ints again'",
            "COMMENT ON TYPE public.int4 IS 'x'",
            "COMMENT ON TYPE integer IS NULL",
        ],
        [  # (PostgreSQL's own descriptions back)
            "COMMENT ON TYPE int4 IS '-2 billion to 2 billion integer, 4-byte storage'",
            "COMMENT ON TYPE varchar IS 'varchar(length), non-blank-padded string, variable storage length'",
            "COMMENT ON TYPE _int4 IS NULL",
        ],
    ),
    (
        "schema",
        "cs_",
        _SCHEMAS,
        [
            "CREATE SCHEMA cs_s",
            "COMMENT ON SCHEMA cs_s IS 'a schema'",
            "COMMENT ON SCHEMA public IS NULL",  # hides PostgreSQL's own 'standard public schema'
            "COMMENT ON SCHEMA public IS 'ours'",
            "COMMENT ON SCHEMA cs_nope IS 'x'",
            "COMMENT ON TABLE cs_nope.t IS 'x'",
            "DROP SCHEMA cs_s",
            "CREATE SCHEMA cs_s",
            "COMMENT ON SCHEMA public IS 'standard public schema'",
        ],
        ["DROP SCHEMA IF EXISTS cs_s"],
    ),
    (
        "database",
        "",
        "SELECT shobj_description(d.oid, 'pg_database') AS d FROM pg_database d"
        " WHERE d.datname = current_database()",
        [
            "COMMENT ON DATABASE postgres IS 'described'",
            "COMMENT ON DATABASE cd_nope IS 'x'",  # only a warning
            "COMMENT ON DATABASE postgres IS ''",
            "COMMENT ON DATABASE postgres IS 'differential'",  # as the fixture left it
        ],
        [],
    ),
    (
        "extension",
        "",
        "SELECT obj_description(e.oid, 'pg_extension') AS d FROM pg_extension e WHERE e.extname = 'plpgsql'",
        [
            "COMMENT ON EXTENSION plpgsql IS 'procedures'",
            "COMMENT ON EXTENSION plpgsql IS NULL",
            "COMMENT ON EXTENSION ce_nope IS 'x'",
            "COMMENT ON EXTENSION plpgsql IS 'PL/pgSQL procedural language'",
        ],
        [],
    ),
]


def _run(pair: Any, sql: str) -> tuple[Any, Any]:
    return run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_comments(pair: Any, scenario: tuple[str, str, str, list[str], list[str]]) -> None:
    _id, prefix, probe, statements, cleanup = scenario
    probe = probe.format(prefix=prefix)
    try:
        for i, sql in enumerate(statements):
            where = f"step {i}: {sql}"
            pg, ts = _run(pair, sql)
            assert (ts.sqlstate, ts.message) == (pg.sqlstate, pg.message), where
            pg, ts = _run(pair, probe)
            assert not pg.failed, pg.message
            diff = differences(probe, pg, ts)
            assert not diff, f"{where}\n" + "\n".join(diff)
    finally:
        for sql in cleanup:
            _run(pair, sql)
