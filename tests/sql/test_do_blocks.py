"""DO blocks (sql/plpgsql.py): the PL/pgSQL migrations wrap their DDL in, e.g. Drizzle's
``EXCEPTION WHEN duplicate_object THEN null`` and ``IF NOT EXISTS (...) THEN ... END IF``."""

from __future__ import annotations

import pytest

from sql import errors as E
from tests.sql.in_process import sql_engine


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return r.tag, [tuple(row.values()) for b in (r.batches or []) for row in b.to_pylist()]


@pytest.fixture
def s(tmp_path):
    with sql_engine(tmp_path) as (_storage, sql):
        yield sql.session("postgres")


# a migration as Drizzle generates it, run twice
DRIZZLE = [
    """DO $$ BEGIN
 CREATE TYPE "public"."mood" AS ENUM('sad', 'ok', 'happy');
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;""",
    'CREATE TABLE IF NOT EXISTS "users" ("id" serial PRIMARY KEY NOT NULL, "mood" "mood")',
    'CREATE TABLE IF NOT EXISTS "posts" ("id" serial PRIMARY KEY NOT NULL, "author_id" integer)',
    """DO $$ BEGIN
 ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;""",
]


def test_a_drizzle_migration_runs_twice(s):
    for _ in range(2):
        for sql in DRIZZLE:
            assert _run(s, sql)[0] in ("DO", "CREATE TABLE")
    assert _run(s, "SELECT enumlabel FROM pg_enum ORDER BY enumsortorder")[1] == [
        ("sad",),
        ("ok",),
        ("happy",),
    ]
    assert _run(s, "SELECT conname FROM pg_constraint WHERE contype = 'f'")[1] == [
        ("posts_author_id_users_id_fk",)
    ]
    # without the handler the error is the statement's
    with pytest.raises(E.DuplicateObject):
        _run(s, "DO $$ BEGIN CREATE TYPE mood AS ENUM ('x'); END $$")


def test_if_elsif_else_and_raise(s):
    _run(s, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
    block = """DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM t WHERE id = 1) THEN
        INSERT INTO t VALUES (1, 'first');
      ELSIF (SELECT count(*) FROM t) < 2 THEN
        INSERT INTO t VALUES (2, 'second');
      ELSE
        RAISE NOTICE 'full: % rows', (SELECT count(*) FROM t);
      END IF;
    END $$"""
    for _ in range(3):
        assert _run(s, block)[0] == "DO"
    assert _run(s, "SELECT id, v FROM t ORDER BY id")[1] == [(1, "first"), (2, "second")]
    with pytest.raises(E.SqlError, match="too many: 2") as info:
        _run(s, "DO $$ BEGIN IF (SELECT count(*) FROM t) > 1 THEN RAISE EXCEPTION 'too many: %', "
                "(SELECT count(*) FROM t); END IF; END $$")  # fmt: skip
    assert info.value.sqlstate == "P0001"
    with pytest.raises(E.SqlError) as info:
        _run(s, "DO $$ BEGIN RAISE EXCEPTION 'dup' USING ERRCODE = 'unique_violation'; END $$")
    assert info.value.sqlstate == "23505"
    assert _run(s, "DO 'BEGIN PERFORM count(*) FROM t; END'")[0] == "DO"  # (a quoted body)


def test_handlers_nested_blocks_and_conditions(s):
    _run(s, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
    _run(
        s,
        """DO $$ BEGIN
      <<inner>> BEGIN
        PERFORM 1 / 0;
      EXCEPTION WHEN division_by_zero THEN
        INSERT INTO t VALUES (1, 'caught');
      END inner;
      INSERT INTO t VALUES (2, 'after');
      BEGIN
        CREATE TABLE t (x INT);
      EXCEPTION WHEN SQLSTATE '42P07' OR duplicate_object THEN
        INSERT INTO t VALUES (3, 'by sqlstate');
      END;
      BEGIN
        INSERT INTO t VALUES (1, 'again');
      EXCEPTION WHEN others THEN
        INSERT INTO t VALUES (4, 'others');
      END;
      RETURN;
      INSERT INTO t VALUES (5, 'never');
    END $$""",
    )
    assert _run(s, "SELECT id, v FROM t ORDER BY id")[1] == [
        (1, "caught"), (2, "after"), (3, "by sqlstate"), (4, "others")
    ]  # fmt: skip
    # an error no handler names goes on out of the block
    with pytest.raises(E.UniqueViolation):
        _run(
            s, "DO $$ BEGIN INSERT INTO t VALUES (1, 'x'); EXCEPTION WHEN division_by_zero THEN NULL; END $$"
        )


def test_a_handled_error_leaves_the_transaction_usable(s):
    _run(s, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
    _run(s, "BEGIN")
    _run(s, "DO $$ BEGIN CREATE TABLE t (x INT); EXCEPTION WHEN duplicate_table THEN NULL; END $$")
    _run(s, "INSERT INTO t VALUES (1, 'in the block')")
    _run(s, "COMMIT")
    assert _run(s, "SELECT v FROM t")[1] == [("in the block",)]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("DO $$ DECLARE c CURSOR FOR SELECT 1; BEGIN NULL; END $$", E.FeatureNotSupported),
        (
            "DO $$ BEGIN FOREACH x SLICE 1 IN ARRAY ARRAY[[1]] LOOP NULL; END LOOP; END $$",
            E.FeatureNotSupported,
        ),
        ("DO $$ BEGIN FOR i IN 1..3 LOOP NULL; END LOOP x; END $$", E.SyntaxError_),
        ("DO $$ BEGIN SELECT 1; END $$", E.SyntaxError_),
        ("DO $$ BEGIN EXIT; END $$", E.SyntaxError_),
        ("DO $$ BEGIN n := 1; END $$", E.SyntaxError_),
        ("DO $$ DECLARE n int NOT NULL; BEGIN NULL; END $$", E.NullValueNotAllowed),
        ("DO $$ DECLARE n nosuchtype; BEGIN NULL; END $$", E.UndefinedObject),
        ("DO LANGUAGE plpython3u $$ pass $$", E.FeatureNotSupported),
        ("DO $$ BEGIN IF true THEN NULL; END $$", E.SyntaxError_),
        ("DO $$ BEGIN NULL; EXCEPTION WHEN no_such_condition THEN NULL; END $$", E.UndefinedObject),
        ("DO $$ NULL; $$", E.SyntaxError_),
    ],
)
def test_what_is_refused(s, sql, error):
    with pytest.raises(error):
        _run(s, sql)


def test_case_statements(tmp_path):
    """CASE ... WHEN ... END CASE (a selector compared with each value, or conditions); without ELSE a
    value no WHEN takes raises 20000, as PostgreSQL's."""
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        run = lambda sql: s.execute(s.prepare(sql, []), [])  # noqa: E731
        run("CREATE TABLE cs (time timestamptz NOT NULL, v int4)")
        run(
            "DO $$ BEGIN CASE 2 WHEN 1 THEN NULL; WHEN 2, 3 THEN"
            " INSERT INTO cs VALUES ('2024-01-01 00:00:00+00', 2); END CASE; END $$"
        )
        run(
            "DO $$ BEGIN CASE WHEN 1 > 2 THEN NULL; ELSE INSERT INTO cs VALUES ('2024-01-01 00:00:01+00', 3); END CASE; END $$"
        )
        rows = [r["v"] for b in run("SELECT v FROM cs ORDER BY time").batches for r in b.to_pylist()]
        assert rows == [2, 3]
        with pytest.raises(E.SqlError) as info:
            run("DO $$ BEGIN CASE 5 WHEN 1 THEN NULL; END CASE; END $$")
        assert info.value.sqlstate == "20000"


def test_notices_carry_the_variables_values(s):
    notices = []
    s.notice = notices.append
    _run(
        s,
        """DO $$ DECLARE r record; ok boolean := true; BEGIN
      FOR r IN SELECT g AS n, g * 0.5 AS half FROM generate_series(1, 2) AS g LOOP
        RAISE NOTICE 'n=% half=% ok=% none=%', r.n, r.half, ok, NULL;
      END LOOP;
    END $$""",
    )
    assert [str(n) for n in notices] == ["n=1 half=0.5 ok=t none=<NULL>", "n=2 half=1.0 ok=t none=<NULL>"]


def test_statement_timeout_stops_a_loop_that_runs_no_statement(s):
    _run(s, "SET statement_timeout = '200ms'")
    with pytest.raises(E.QueryCanceled, match="statement timeout"):
        _run(s, "DO $$ DECLARE i int := 0; BEGIN LOOP i := i + 1; END LOOP; END $$")
    _run(s, "SET statement_timeout = 0")
    assert _run(s, "SELECT 1")[1] == [(1,)]  # (the session goes on)


def test_a_timescaledb_migration_loop(s):
    """Hypertables made per name in a loop, and a retention policy per hypertable found."""
    _run(
        s,
        """DO $$ DECLARE t text; BEGIN
      FOREACH t IN ARRAY ARRAY['cpu', 'mem'] LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I (time timestamptz NOT NULL, host text, v float8)', t);
        PERFORM create_hypertable(t, 'time', if_not_exists => TRUE);
      END LOOP;
    END $$""",
    )
    _run(
        s,
        """DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1 LOOP
        PERFORM add_retention_policy(r.hypertable_name::regclass, INTERVAL '30 days', if_not_exists => TRUE);
      END LOOP;
    END $$""",
    )
    assert _run(s, "SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1")[1] == [
        ("cpu",), ("mem",)
    ]  # fmt: skip
    assert _run(s, "SELECT hypertable_name FROM timescaledb_information.jobs WHERE proc_name = "
                   "'policy_retention' ORDER BY 1")[1] == [("cpu",), ("mem",)]  # fmt: skip


def test_a_do_block_inside_a_transaction_is_rolled_back_with_it(s):
    _run(s, "CREATE TABLE t (time timestamptz NOT NULL, v int)")
    _run(s, "BEGIN")
    _run(
        s,
        "DO $$ BEGIN FOR i IN 1..3 LOOP INSERT INTO t VALUES (now() + i * interval '1 s', i); END LOOP; END $$",
    )
    assert _run(s, "SELECT count(*) FROM t")[1] == [(3,)]
    _run(s, "ROLLBACK")
    assert _run(s, "SELECT count(*) FROM t")[1] == [(0,)]
