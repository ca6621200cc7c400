"""What PostgreSQL 15 refuses or fills in when tables are made and written, step by step against it:
ON CONFLICT with a target arbitrates that key only (a row new to it but not to another UNIQUE key is
23505; it was written), a target naming no column or no key (42703, 42P10; was XX000), ADD COLUMN ...
NOT NULL on a table with rows (23502; the column was added holding NULLs), and CREATE TABLE (LIKE t
[INCLUDING DEFAULTS]) (it made a table without columns); generated columns (GENERATED ALWAYS AS (...)
STORED: computed on every write, 428C9 for a value given them; the expression was dropped and the
column stayed NULL) and UPDATE ... SET c = DEFAULT (42703 before)."""

from __future__ import annotations

from typing import Any

from tests.sql.differential.harness import step_failures

TABLES = ["tc_keys", "tc_like", "tc_like2", "tc_like3", "tc_gen", "tc_def"]

STEPS = [
    "CREATE TABLE tc_keys (time timestamptz NOT NULL, id int PRIMARY KEY, name text UNIQUE, v int)",
    "INSERT INTO tc_keys VALUES ('2024-01-01 00:00:00+00', 1, 'a', 1)",
    "INSERT INTO tc_keys VALUES ('2024-01-02 00:00:00+00', 2, 'a', 2) ON CONFLICT (id) DO NOTHING",
    "INSERT INTO tc_keys VALUES ('2024-01-02 00:00:00+00', 1, 'b', 2) ON CONFLICT (id) DO NOTHING",
    "INSERT INTO tc_keys VALUES ('2024-01-02 00:00:00+00', 3, 'a', 2) ON CONFLICT DO NOTHING",
    "INSERT INTO tc_keys VALUES ('2024-01-02 00:00:00+00', 4, 'd', 2) ON CONFLICT (name) DO NOTHING",
    "INSERT INTO tc_keys VALUES ('2024-01-02 00:00:00+00', 5, 'e', 2) ON CONFLICT (nosuch) DO NOTHING",
    "INSERT INTO tc_keys VALUES ('2024-01-02 00:00:00+00', 5, 'e', 2) ON CONFLICT (v) DO NOTHING",
    "SELECT id, name, v FROM tc_keys ORDER BY id",
    "ALTER TABLE tc_keys ADD COLUMN z int NOT NULL",
    "ALTER TABLE tc_keys ADD COLUMN z int NOT NULL DEFAULT 0",
    "SELECT id, z FROM tc_keys ORDER BY id",
    "INSERT INTO tc_keys (time, id, name, v, z) VALUES ('2024-01-03 00:00:00+00', 9, 'i', 1, NULL)",
    "CREATE TABLE tc_like (time timestamptz NOT NULL, host text, v int DEFAULT 7, s varchar(3))",
    "CREATE TABLE tc_like2 (LIKE tc_like)",
    "CREATE TABLE tc_like3 (LIKE tc_like INCLUDING DEFAULTS, extra int)",
    "CREATE TABLE tc_like4 (LIKE nosuch)",
    "CREATE TABLE tc_like4 (LIKE nosuch.tc_like)",
    "INSERT INTO tc_like2 (time, host) VALUES ('2024-01-01 00:00:00+00', 'a')",
    "INSERT INTO tc_like3 (time, host) VALUES ('2024-01-01 00:00:00+00', 'a')",
    "INSERT INTO tc_like3 (time, host, s) VALUES ('2024-01-01 00:00:00+00', 'a', 'abcd')",
    "INSERT INTO tc_like2 (host) VALUES ('a')",
    "SELECT * FROM tc_like2",
    "SELECT * FROM tc_like3",
    "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
    " WHERE table_name = 'tc_like3' ORDER BY ordinal_position",
]


GENERATED_STEPS = [
    "CREATE TABLE tc_gen (time timestamptz NOT NULL, host text, a int, b double precision,"
    " a2 int GENERATED ALWAYS AS (a * 2) STORED, label text GENERATED ALWAYS AS (host || '-' || a) STORED,"
    " ratio double precision GENERATED ALWAYS AS (b / NULLIF(a, 0)) STORED)",
    "INSERT INTO tc_gen (time, host, a, b) VALUES ('2024-01-01 00:00:00+00', 'x', 21, 1.5),"
    " ('2024-01-02 00:00:00+00', 'y', 0, 2)",
    "SELECT host, a, a2, label, ratio FROM tc_gen ORDER BY time",
    "INSERT INTO tc_gen (time, host, a, a2) VALUES ('2024-01-03 00:00:00+00', 'z', 1, 5)",
    "INSERT INTO tc_gen (time, host, a, a2) VALUES ('2024-01-03 00:00:00+00', 'z', 1, DEFAULT)",
    "UPDATE tc_gen SET a = 10 WHERE host = 'x'",
    "UPDATE tc_gen SET a2 = 3",
    "UPDATE tc_gen SET a2 = DEFAULT, b = 4 WHERE host = 'y'",
    "INSERT INTO tc_gen (time, host, a) SELECT time + interval '1 day', host || '2', a + 1 FROM tc_gen WHERE host = 'z'",
    "SELECT host, a, b, a2, label, ratio FROM tc_gen ORDER BY time, host",
    "SELECT column_name, is_generated, column_default FROM information_schema.columns"
    " WHERE table_name = 'tc_gen' ORDER BY ordinal_position",
    "SELECT attname, attgenerated FROM pg_attribute WHERE attrelid = 'tc_gen'::regclass AND attnum > 0 ORDER BY attnum",
    "CREATE TABLE tc_gen2 (time timestamptz NOT NULL, a int, b int GENERATED ALWAYS AS (nosuch + 1) STORED)",
    "CREATE TABLE tc_gen3 (time timestamptz NOT NULL, a int, b int GENERATED ALWAYS AS (a + 1) STORED,"
    " c int GENERATED ALWAYS AS (b + 1) STORED)",
    "CREATE TABLE tc_def (time timestamptz NOT NULL, v int DEFAULT 5, w text)",
    "INSERT INTO tc_def VALUES ('2024-01-01 00:00:00+00', 1, 'a')",
    "UPDATE tc_def SET v = DEFAULT, w = 'b'",
    "SELECT v, w FROM tc_def",
]


def test_generated_columns_match_postgres(fresh_pair: Any) -> None:
    for name in TABLES:
        fresh_pair.pg.execute(f"DROP TABLE IF EXISTS {name}")
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, GENERATED_STEPS)
    assert not failures, failures


VIEW_STEPS = [
    "CREATE TABLE tc_base (time timestamptz NOT NULL, x int)",
    "INSERT INTO tc_base VALUES ('2024-01-01 00:00:00+00', 1)",
    "CREATE VIEW tc_v1 AS SELECT x + 1 AS x1 FROM tc_base",
    "CREATE VIEW tc_v2 AS SELECT x1 * 2 AS x2 FROM tc_v1",
    "CREATE VIEW tc_v3 AS WITH tc_base AS (SELECT 5 AS q) SELECT q FROM tc_base",  # (a CTE, not the table)
    "DROP TABLE tc_base",
    "DROP VIEW tc_v1",
    "SELECT * FROM tc_v2",
    "DROP VIEW tc_v1 CASCADE",
    "SELECT * FROM tc_v2",
    "CREATE VIEW tc_v1 AS SELECT x + 1 AS x1 FROM tc_base",
    "CREATE VIEW tc_v2 AS SELECT x1 * 2 AS x2 FROM tc_v1",
    "DROP VIEW tc_v2, tc_v1",
    "CREATE VIEW tc_v1 AS SELECT x + 1 AS x1 FROM tc_base",
    "DROP TABLE tc_base CASCADE",
    "SELECT * FROM tc_v1",
    "SELECT * FROM tc_v3",
    "DROP VIEW tc_v3",
]


def test_drop_with_dependent_views_matches_postgres(fresh_pair: Any) -> None:
    """DROP TABLE / DROP VIEW of what a view reads: 2BP01 naming the views (they were left reading a
    relation that no longer exists), CASCADE drops them too."""
    for sql in ["DROP VIEW IF EXISTS tc_v2", "DROP VIEW IF EXISTS tc_v1", "DROP VIEW IF EXISTS tc_v3"]:
        fresh_pair.pg.execute(sql)
    fresh_pair.pg.execute("DROP TABLE IF EXISTS tc_base")
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, VIEW_STEPS)
    assert not failures, failures


def test_table_checks_match_postgres(fresh_pair: Any) -> None:
    for name in TABLES:
        fresh_pair.pg.execute(f"DROP TABLE IF EXISTS {name}")
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, STEPS)
    assert not failures, failures


NULLABLE_STEPS = [
    # Django's auth_user: created with last_login NOT NULL, relaxed by a later migration
    "CREATE TABLE tc_user (id int NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, last_login timestamptz"
    " NOT NULL, name varchar(20) NOT NULL, joined timestamptz NOT NULL, note text NULL)",
    "ALTER TABLE tc_user ALTER COLUMN last_login DROP NOT NULL",
    "INSERT INTO tc_user (last_login, name, joined) VALUES (NULL, 'ann', '2024-01-01 00:00:00+00')",
    "INSERT INTO tc_user (last_login, name, joined, note) VALUES ('2024-02-01 00:00:00+00', 'bob',"
    " '2024-01-02 00:00:00+00', 'x')",
    "SELECT id, last_login, name, joined, note FROM tc_user ORDER BY id",
    "SELECT id FROM tc_user WHERE last_login IS NULL",
    "UPDATE tc_user SET last_login = '2024-03-01 00:00:00+00' WHERE name = 'ann'",
    "SELECT name, last_login FROM tc_user ORDER BY name",
    "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'tc_user'::regclass AND attnum > 0 ORDER BY attnum",
    # the only timestamp: the table goes on in insertion order
    "CREATE TABLE tc_one (id int PRIMARY KEY, seen timestamptz NOT NULL)",
    "ALTER TABLE tc_one ALTER COLUMN seen DROP NOT NULL",
    "INSERT INTO tc_one VALUES (1, NULL), (2, '2024-01-01 00:00:00+00')",
    "SELECT id, seen FROM tc_one ORDER BY id",
]


def test_drop_not_null_of_a_timestamp_matches_postgres(fresh_pair: Any) -> None:
    """DROP NOT NULL of the timestamp tsgres chose as an empty table's time (it kept refusing NULL
    there): the time moves to the next NOT NULL timestamp, or to the insertion order."""
    for name in ("tc_user", "tc_one"):
        fresh_pair.pg.execute(f"DROP TABLE IF EXISTS {name}")
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, NULLABLE_STEPS)
    assert not failures, failures
