"""Sequences, differentially: CREATE / ALTER / DROP SEQUENCE, nextval / currval / setval / lastval and
a column DEFAULT nextval('s'), each statement run on PostgreSQL 15 and on tsgres in order, comparing
the outcome (the rows, or the SQLSTATE; the command tag of other statements); then the catalog
(pg_sequences, information_schema.sequences, pg_class + pg_sequence, psql's \\ds) for the same
sequences.

The pair's sessions outlive a scenario (currval and lastval are per session), so every scenario names
its own sequences and tables, and drops them after.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres

# (id, statements, relations to drop after: (kind, name))
SCENARIOS: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    (
        "create_forms",
        [
            "CREATE SEQUENCE sq_a",
            "CREATE SEQUENCE IF NOT EXISTS sq_a",
            "CREATE SEQUENCE sq_a",
            "CREATE TABLE sq_a (v int)",
            "CREATE TABLE IF NOT EXISTS sq_a (v int)",
            "CREATE TABLE sq_a_t (v int)",
            "CREATE SEQUENCE sq_a_t",
            "CREATE SEQUENCE sq_b AS integer INCREMENT BY 5 MINVALUE 10 MAXVALUE 100 START WITH 20 CACHE 1 NO CYCLE",
            "CREATE SEQUENCE sq_c AS smallint INCREMENT -1",
            "CREATE SEQUENCE sq_e INCREMENT 3 START 7 NO MINVALUE NO MAXVALUE CYCLE",
            "CREATE SEQUENCE sq_d INCREMENT 0",
            "CREATE SEQUENCE sq_d AS text",
            "CREATE SEQUENCE sq_d MINVALUE 10 MAXVALUE 5",
            "CREATE SEQUENCE sq_d START 0",
            "CREATE SEQUENCE sq_d START 200 MAXVALUE 100",
            "CREATE SEQUENCE sq_d AS smallint MAXVALUE 40000",
            "CREATE SEQUENCE sq_d AS integer MINVALUE -3000000000",
            "CREATE SEQUENCE sq_d CACHE 0",
            "CREATE SEQUENCE sq_d INCREMENT 1 INCREMENT 2",
            "CREATE SEQUENCE nope.sq_d",
            "CREATE SEQUENCE sq_d OWNED BY nope",
            "SELECT nextval('sq_d')",
            "SELECT nextval('sq_a'), currval('sq_a'), lastval()",
            "SELECT nextval('sq_b'), nextval('sq_b'), currval('sq_b'), lastval()",
            "SELECT nextval('sq_c') FROM generate_series(1, 3)",
            "SELECT nextval('sq_e') FROM generate_series(1, 2)",
            "SELECT sequencename::text, data_type::text, start_value, min_value, max_value, increment_by,"
            " cycle, cache_size, last_value FROM pg_sequences WHERE sequencename LIKE 'sq_%' ORDER BY 1",
        ],
        [
            ("TABLE", "sq_a_t"),
            ("SEQUENCE", "sq_a"),
            ("SEQUENCE", "sq_b"),
            ("SEQUENCE", "sq_c"),
            ("SEQUENCE", "sq_e"),
        ],
    ),
    (
        "nextval_currval_setval",
        [
            "CREATE SEQUENCE sq_v",
            "SELECT currval('sq_v')",
            "SELECT nextval('sq_v')",
            "SELECT currval('sq_v')",
            "SELECT setval('sq_v', 10)",
            "SELECT currval('sq_v'), nextval('sq_v')",
            "SELECT setval('sq_v', 20, false)",
            "SELECT currval('sq_v')",
            "SELECT nextval('sq_v'), nextval('sq_v')",
            "SELECT setval('sq_v', 30, true), nextval('sq_v')",
            "SELECT setval('sq_v', 0)",
            "SELECT setval('sq_v', -5, false)",
            "SELECT nextval('nope_seq')",
            "SELECT currval('nope_seq')",
            "SELECT setval('nope_seq', 1)",
            "SELECT nextval('sq_v') FROM generate_series(1, 3)",
            "SELECT g, nextval('sq_v') FROM generate_series(1, 4) g ORDER BY g",
            "SELECT lastval()",
            "SELECT count(*), count(DISTINCT v), min(v), max(v)"
            " FROM (SELECT nextval('sq_v') AS v FROM generate_series(1, 5000)) x",
            "SELECT lastval(), currval('sq_v')",
            "CREATE SEQUENCE sq_v2 START 100",
            "SELECT nextval(CASE WHEN g % 2 = 0 THEN 'sq_v' ELSE 'sq_v2' END) FROM generate_series(1, 4) g",
            "SELECT nextval(NULL), setval('sq_v', NULL)",
            "SELECT nextval('\"sq_v\"'), nextval('public.sq_v'), nextval('SQ_V'::regclass)",
            "SELECT currval('sq_v') + 1",
        ],
        [("SEQUENCE", "sq_v"), ("SEQUENCE", "sq_v2")],
    ),
    (
        "limits_and_cycle",
        [
            "CREATE SEQUENCE sq_m MAXVALUE 3",
            "SELECT nextval('sq_m') FROM generate_series(1, 3)",
            "SELECT nextval('sq_m')",
            "SELECT currval('sq_m')",
            "SELECT nextval('sq_m') FROM generate_series(1, 2)",
            "CREATE SEQUENCE sq_n INCREMENT -2 MINVALUE -5 MAXVALUE 0 CYCLE",
            "SELECT nextval('sq_n') FROM generate_series(1, 6)",
            "CREATE SEQUENCE sq_o MINVALUE 1 MAXVALUE 3 CYCLE",
            "SELECT nextval('sq_o') FROM generate_series(1, 7)",
            "CREATE SEQUENCE sq_p INCREMENT -1 MINVALUE -1 MAXVALUE 0",
            "SELECT nextval('sq_p'), nextval('sq_p')",
            "SELECT nextval('sq_p')",
            "CREATE SEQUENCE sq_q AS smallint START 32766",
            "SELECT nextval('sq_q'), nextval('sq_q')",
            "SELECT nextval('sq_q')",
            "SELECT setval('sq_q', 40000)",
        ],
        [("SEQUENCE", n) for n in ("sq_m", "sq_n", "sq_o", "sq_p", "sq_q")],
    ),
    (
        "alter",
        [
            "CREATE SEQUENCE sq_r",
            "SELECT nextval('sq_r'), nextval('sq_r')",
            "ALTER SEQUENCE sq_r RESTART",
            "SELECT nextval('sq_r')",
            "ALTER SEQUENCE sq_r RESTART WITH 50",
            "SELECT currval('sq_r'), nextval('sq_r')",
            "ALTER SEQUENCE sq_r INCREMENT BY 10 MAXVALUE 70",
            "SELECT nextval('sq_r'), nextval('sq_r')",
            "SELECT nextval('sq_r')",
            "ALTER SEQUENCE sq_r CYCLE",
            "SELECT nextval('sq_r')",
            "ALTER SEQUENCE sq_r AS smallint",
            "ALTER SEQUENCE sq_r MINVALUE 5",
            "ALTER SEQUENCE sq_r START WITH 7 RESTART",
            "SELECT nextval('sq_r')",
            "ALTER SEQUENCE sq_r NO MAXVALUE NO CYCLE CACHE 5",
            "ALTER SEQUENCE sq_r CACHE 1",  # (PostgreSQL shows values cached ahead as last_value)
            "ALTER SEQUENCE sq_r RESTART WITH 1",
            "ALTER SEQUENCE sq_r INCREMENT 0",
            "ALTER SEQUENCE sq_r RENAME TO sq_r2",
            "SELECT nextval('sq_r2')",
            "SELECT nextval('sq_r')",
            "ALTER SEQUENCE IF EXISTS nope_seq RESTART",
            "ALTER SEQUENCE nope_seq RESTART",
            "SELECT sequencename::text, data_type::text, start_value, min_value, max_value, increment_by,"
            " cycle, cache_size, last_value FROM pg_sequences WHERE sequencename = 'sq_r2'",
        ],
        [("SEQUENCE", "sq_r"), ("SEQUENCE", "sq_r2")],
    ),
    (
        "column_default_nextval",
        [
            "CREATE SEQUENCE sq_id START 100 INCREMENT 10",
            "CREATE TABLE sq_t (id int DEFAULT nextval('sq_id'), v text)",
            "CREATE TABLE sq_u (id int DEFAULT nextval('sq_missing'), v text)",
            "INSERT INTO sq_t (v) VALUES ('a'), ('b'), ('c')",
            "SELECT currval('sq_id')",
            "INSERT INTO sq_t VALUES (DEFAULT, 'd'), (5, 'e'), (DEFAULT, 'f')",
            "INSERT INTO sq_t VALUES (DEFAULT, 'g') RETURNING id",
            "SELECT lastval()",
            "SELECT * FROM sq_t ORDER BY v",
            "SELECT column_default::text FROM information_schema.columns WHERE table_name = 'sq_t'"
            " ORDER BY ordinal_position",
            "DROP SEQUENCE sq_id",
            "DROP SEQUENCE sq_id RESTRICT",
            "DROP SEQUENCE sq_id CASCADE",
            "INSERT INTO sq_t (v) VALUES ('h')",
            "SELECT * FROM sq_t ORDER BY v",
            "SELECT column_default::text FROM information_schema.columns WHERE table_name = 'sq_t'"
            " ORDER BY ordinal_position",
        ],
        [("TABLE", "sq_t"), ("SEQUENCE", "sq_id")],
    ),
    (
        "add_column_default_nextval",
        [
            "CREATE SEQUENCE sq_add START 7",
            "CREATE TABLE sq_add_t (time timestamptz NOT NULL PRIMARY KEY, v int)",
            "INSERT INTO sq_add_t VALUES ('2024-01-01 00:00:00+00', 1), ('2024-01-02 00:00:00+00', 2)",
            "ALTER TABLE sq_add_t ADD COLUMN id int DEFAULT nextval('sq_add')",
            "SELECT * FROM sq_add_t ORDER BY time",
            "INSERT INTO sq_add_t VALUES ('2024-01-03 00:00:00+00', 3, DEFAULT), ('2024-01-04 00:00:00+00', 4, 70)",
            "INSERT INTO sq_add_t (time) VALUES ('2024-01-05 00:00:00+00')",
            "SELECT * FROM sq_add_t ORDER BY time",
            "CREATE SEQUENCE sq_add2 INCREMENT -1 MAXVALUE 1000 START 1000",
            "ALTER TABLE sq_add_t ALTER COLUMN v SET DEFAULT nextval('sq_add2')",
            "INSERT INTO sq_add_t (time) VALUES ('2024-01-06 00:00:00+00'), ('2024-01-07 00:00:00+00')",
            "SELECT * FROM sq_add_t ORDER BY time",
            "SELECT nextval('sq_add_t')",
            "SELECT currval('sq_add_t')",
        ],
        [("TABLE", "sq_add_t"), ("SEQUENCE", "sq_add"), ("SEQUENCE", "sq_add2")],
    ),
    (
        "default_out_of_column_range",
        [
            "CREATE SEQUENCE sq_big START 2147483646",
            "CREATE TABLE sq_narrow (id int DEFAULT nextval('sq_big'), v int)",
            "INSERT INTO sq_narrow (v) VALUES (1)",
            "INSERT INTO sq_narrow (v) VALUES (2), (3)",
            "INSERT INTO sq_narrow VALUES (DEFAULT, 4)",
            "SELECT * FROM sq_narrow",
            "SELECT nextval('nope_schema.sq_big')",
        ],
        [("TABLE", "sq_narrow"), ("SEQUENCE", "sq_big")],
    ),
    (
        "serial",
        [
            "CREATE TABLE sq_s (id serial, v text)",
            "INSERT INTO sq_s (v) VALUES ('a'), ('b')",
            "SELECT currval('sq_s_id_seq')",
            "SELECT pg_get_serial_sequence('sq_s', 'id'), pg_get_serial_sequence('sq_s', 'v')",
            "SELECT setval(pg_get_serial_sequence('sq_s', 'id'), 10)",
            "INSERT INTO sq_s (v) VALUES ('c')",
            "SELECT * FROM sq_s ORDER BY id",
            "SELECT sequencename::text, data_type::text, max_value, last_value FROM pg_sequences"
            " WHERE sequencename = 'sq_s_id_seq'",
            "DROP SEQUENCE sq_s_id_seq",
            "ALTER SEQUENCE sq_s_id_seq RESTART WITH 100",
            "INSERT INTO sq_s (v) VALUES ('d')",
            "SELECT * FROM sq_s ORDER BY id",
            "DROP TABLE sq_s",
            "SELECT nextval('sq_s_id_seq')",
        ],
        [("TABLE", "sq_s")],
    ),
    (
        "orm_sequence_reset",  # Django's sequence_reset_sql and Rails' reset_pk_sequence!
        [
            "CREATE TABLE sq_orm (id bigserial PRIMARY KEY, v int)",
            "INSERT INTO sq_orm (id, v) VALUES (1, 1), (2, 2), (5, 3)",
            "SELECT setval(pg_get_serial_sequence('\"sq_orm\"','id'), coalesce(max(\"id\"), 1),"
            ' max("id") IS NOT null) FROM "sq_orm"',
            "SELECT nextval('sq_orm_id_seq')",
            "SELECT setval('sq_orm_id_seq', COALESCE(MAX(id)+(SELECT increment_by FROM pg_sequences"
            " WHERE schemaname='public' AND sequencename='sq_orm_id_seq'), (SELECT min_value FROM pg_sequences"
            " WHERE schemaname='public' AND sequencename='sq_orm_id_seq')), false) FROM sq_orm",
            "INSERT INTO sq_orm (v) VALUES (4) RETURNING id",
            "SELECT * FROM sq_orm ORDER BY id",
        ],
        [("TABLE", "sq_orm")],
    ),
    (
        "drop_and_owned_by",
        [
            "CREATE SEQUENCE sq_x",
            "CREATE SEQUENCE sq_y",
            "DROP SEQUENCE sq_x, sq_y",
            "DROP SEQUENCE sq_x",
            "DROP SEQUENCE IF EXISTS sq_x",
            "DROP SEQUENCE IF EXISTS sq_x, sq_y RESTRICT",
            "CREATE TABLE sq_own (c int, d int)",
            "CREATE SEQUENCE sq_x OWNED BY nope.c",
            "CREATE SEQUENCE sq_x OWNED BY sq_own.zz",
            "CREATE SEQUENCE sq_x OWNED BY sq_own.c",
            "CREATE SEQUENCE sq_y",
            "ALTER SEQUENCE sq_y OWNED BY sq_own.d",
            "CREATE SEQUENCE sq_z OWNED BY sq_own.d",
            "ALTER SEQUENCE sq_z OWNED BY NONE",
            "SELECT pg_get_serial_sequence('sq_own', 'c')",
            "ALTER TABLE sq_own RENAME COLUMN c TO c2",
            "ALTER TABLE sq_own RENAME TO sq_own2",
            "SELECT pg_get_serial_sequence('sq_own2', 'c2')",
            "CREATE TABLE sq_col (id serial, keep serial, v int)",
            "ALTER TABLE sq_col DROP COLUMN id",
            "SELECT nextval('sq_col_id_seq')",
            "SELECT nextval('sq_col_keep_seq')",
            "DROP TABLE sq_col",
            "DROP TABLE sq_own2",
            "SELECT nextval('sq_x')",
            "SELECT nextval('sq_y')",
            "SELECT nextval('sq_z')",
            "CREATE SEQUENCE sq_x",
            "SELECT currval('sq_x')",
            "SELECT nextval('sq_x')",
            "ALTER SEQUENCE sq_x RENAME TO sq_y",
            "SELECT currval('sq_y'), lastval()",
            "DROP SEQUENCE sq_y",
            "SELECT lastval()",
            "CREATE SEQUENCE sq_y",
            "SELECT currval('sq_y')",
            "SELECT lastval()",
        ],
        [
            ("TABLE", "sq_own"),
            ("TABLE", "sq_own2"),
            ("TABLE", "sq_col"),
            ("SEQUENCE", "sq_x"),
            ("SEQUENCE", "sq_y"),
            ("SEQUENCE", "sq_z"),
        ],
    ),
]


def _ts(session: Any, sql: str) -> tuple[str | None, str]:
    from sql.errors import SqlError

    try:
        result = session.execute(session.prepare(sql, []), [])
        for _ in result.batches:
            pass
    except SqlError as exc:
        return exc.sqlstate, ""
    return None, result.tag


def _pg(conn: Any, sql: str) -> tuple[str | None, str]:
    import psycopg

    try:
        cur = conn.execute(sql)
    except psycopg.Error as exc:
        return exc.sqlstate, ""
    return None, cur.statusmessage or ""


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_sequences(pair: Any, scenario: tuple[str, list[str], list[tuple[str, str]]]) -> None:
    _id, statements, dropped = scenario
    try:
        for i, sql in enumerate(statements):
            where = f"step {i}: {sql}"
            if sql.startswith("SELECT") or "RETURNING" in sql:
                pg, ts = run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)
                diff = differences(sql, pg, ts)
                assert not diff, f"{where}\n" + "\n".join(diff)
                continue
            (pg_state, pg_tag), (ts_state, ts_tag) = _pg(pair.pg, sql), _ts(pair.ts, sql)
            assert (ts_state, ts_tag) == (pg_state, pg_tag), (
                f"{where}\nPostgreSQL {pg_state or pg_tag}, tsgres {ts_state or ts_tag}"
            )
    finally:
        for kind, name in dropped:
            sql = f"DROP {kind} IF EXISTS {name} CASCADE"
            pair.pg.execute(sql)
            _ts(pair.ts, sql)


CATALOG_SETUP = [
    "CREATE SEQUENCE sqc_plain",
    "CREATE SEQUENCE sqc_small AS smallint INCREMENT -3 CACHE 4 CYCLE",
    "CREATE SEQUENCE sqc_int AS integer MINVALUE -10 MAXVALUE 1000 START 5",
    "CREATE TABLE sqc_t (id bigserial, n serial, s smallserial, v int)",
    "SELECT nextval('sqc_plain'), nextval('sqc_plain')",
    "SELECT setval('sqc_int', 42, false)",
]
CATALOG = [
    "SELECT schemaname::text, sequencename::text, sequenceowner::text, data_type::text, start_value,"
    " min_value, max_value, increment_by, cycle, cache_size, last_value FROM pg_sequences"
    " WHERE sequencename LIKE 'sqc_%' ORDER BY 2",
    "SELECT sequence_catalog::text, sequence_schema::text, sequence_name::text, data_type::text,"
    " numeric_precision, numeric_precision_radix, numeric_scale, start_value::text, minimum_value::text,"
    " maximum_value::text, increment::text, cycle_option::text FROM information_schema.sequences"
    " WHERE sequence_name LIKE 'sqc_%' ORDER BY 3",
    "SELECT c.relname::text, c.relkind::text, c.relnatts, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart,"
    " s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid WHERE c.relname LIKE 'sqc_%' ORDER BY 1",
    # psql's \ds
    "SELECT n.nspname::text as \"Schema\", c.relname::text as \"Name\", CASE c.relkind WHEN 'r' THEN 'table'"
    " WHEN 'v' THEN 'view' WHEN 'S' THEN 'sequence' END as \"Type\","
    ' pg_catalog.pg_get_userbyid(c.relowner)::text as "Owner" FROM pg_catalog.pg_class c'
    " LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('S','')"
    " AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'"
    " AND pg_catalog.pg_table_is_visible(c.oid) AND c.relname LIKE 'sqc_%' ORDER BY 1,2",
    # psql's \d of a sequence: its "Owned by" line
    "SELECT pg_catalog.quote_ident(relname) || '.' || pg_catalog.quote_ident(attname), d.deptype::text"
    " FROM pg_catalog.pg_class c INNER JOIN pg_catalog.pg_depend d ON c.oid=d.refobjid"
    " INNER JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid AND a.attnum=d.refobjsubid)"
    " WHERE d.classid='pg_catalog.pg_class'::pg_catalog.regclass"
    " AND d.refclassid='pg_catalog.pg_class'::pg_catalog.regclass"
    " AND d.objid='sqc_t_n_seq'::regclass AND d.deptype IN ('a', 'i')",
    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
    " WHERE a.attrelid = 'sqc_plain'::regclass AND a.attnum > 0 ORDER BY a.attnum",
]


def test_sequences_in_catalog(pair: Any) -> None:
    try:
        for sql in CATALOG_SETUP:
            pg, ts = run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)
            assert pg.sqlstate == ts.sqlstate, (sql, pg.message, ts.message)
        for sql in CATALOG:
            pg, ts = run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)
            diff = differences(sql, pg, ts)
            assert not diff, f"{sql}\n" + "\n".join(diff)
            assert pg.rows, sql
    finally:
        for sql in (
            "DROP TABLE IF EXISTS sqc_t",
            "DROP SEQUENCE IF EXISTS sqc_plain, sqc_small, sqc_int",
        ):
            pair.pg.execute(sql)
            _ts(pair.ts, sql)
