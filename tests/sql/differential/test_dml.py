"""Writes, differentially: each scenario runs its statements in order on PostgreSQL 15 and on tsgres,
and after every statement compares the outcome (rows affected, or the SQLSTATE) and the whole table.

Scenarios use their own tables (created and dropped here), so the read-only corpus is unaffected.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres

# (id, table, statements); every statement is followed by a comparison of SELECT * FROM <table> (each
# of "a, b, c": referencing tables before the tables they reference, the order they are dropped in)
SCENARIOS: list[tuple[str, str, list[str]]] = [
    (
        "insert_forms",
        "w_metrics",
        [
            "CREATE TABLE w_metrics (time timestamptz NOT NULL, host text, v double precision, n int4)",
            "INSERT INTO w_metrics VALUES ('2024-01-01 00:00:00+00', 'a', 1.5, 1)",
            "INSERT INTO w_metrics (time, host) VALUES ('2024-01-01 00:00:01+00', 'b')",
            "INSERT INTO w_metrics (host, time, n, v) VALUES ('c', '2024-01-01 00:00:02+00', '42', '2.25')",
            "INSERT INTO w_metrics VALUES ('2024-01-01 00:00:00+00', 'a', 1.5, 1)",  # duplicate row, kept
            "INSERT INTO w_metrics SELECT time + interval '1 hour', host, v * 2, n + 1 FROM w_metrics",
            "INSERT INTO w_metrics SELECT time, hostname, usage_user, cores FROM cpu"
            " WHERE time < '2024-01-01 00:03:00+00' AND hostname = 'host_a'",
            "INSERT INTO w_metrics VALUES ('2024-01-01 00:00:09+00', NULL, NULL, NULL)",
        ],
    ),
    (
        "insert_errors",
        "w_errors",
        [
            "CREATE TABLE w_errors (time timestamptz NOT NULL, host text, n int4, s smallint)",
            "INSERT INTO w_errors VALUES (NULL, 'a', 1, 1)",
            "INSERT INTO w_errors VALUES ('2024-01-01 00:00:00+00', 'a', 'x', 1)",
            "INSERT INTO w_errors VALUES ('2024-01-01 00:00:00+00', 'a', 1, 70000)",
            "INSERT INTO w_errors VALUES ('2024-01-01 00:00:00+00', 'a', 1, 2, 3)",
            "INSERT INTO w_errors (time, nope) VALUES ('2024-01-01 00:00:00+00', 1)",
            "INSERT INTO w_errors VALUES ('not a time', 'a', 1, 1)",
            "INSERT INTO w_errors VALUES ('2024-01-01 00:00:00+00', 'a', 2147483647, -32768)",
        ],
    ),
    (
        "upsert_with_key",
        "w_keyed",
        [
            "CREATE TABLE w_keyed (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " n int8, PRIMARY KEY (time, host))",
            "INSERT INTO w_keyed VALUES ('2024-01-01 00:00:00+00', 'a', 1, 10), ('2024-01-01 00:00:00+00', 'b', 2, 20)",
            "INSERT INTO w_keyed VALUES ('2024-01-01 00:00:00+00', 'a', 5, 50) ON CONFLICT DO NOTHING",
            "INSERT INTO w_keyed VALUES ('2024-01-01 00:00:00+00', 'a', 7, 70)"
            " ON CONFLICT (time, host) DO UPDATE SET v = EXCLUDED.v",
            "INSERT INTO w_keyed VALUES ('2024-01-01 00:00:01+00', 'a', 8, 80)"
            " ON CONFLICT (time, host) DO UPDATE SET v = EXCLUDED.v",
            "UPDATE w_keyed SET n = n + 1 WHERE host = 'b'",
            "UPDATE w_keyed SET v = v * 10",
        ],
    ),
    (
        "update_to_null",
        "w_nulled",
        [
            "CREATE TABLE w_nulled (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " PRIMARY KEY (time, host))",
            "INSERT INTO w_nulled VALUES ('2024-01-01 00:00:00+00', 'a', 1), ('2024-01-01 00:00:01+00', 'a', 2)",
            "UPDATE w_nulled SET v = NULL WHERE time > '2024-01-01 00:00:00+00'",
        ],
    ),
    (
        "delete_and_truncate",
        "w_delete",
        [
            "CREATE TABLE w_delete (time timestamptz NOT NULL, host text, v double precision)",
            "INSERT INTO w_delete SELECT time, hostname, usage_user FROM cpu WHERE time < '2024-01-01 00:10:00+00'",
            "DELETE FROM w_delete WHERE host = 'host_b'",
            "DELETE FROM w_delete WHERE time < '2024-01-01 00:02:00+00'",
            "DELETE FROM w_delete WHERE host IN ('host_c', 'host_x') AND time >= '2024-01-01 00:08:00+00'",
            "DELETE FROM w_delete WHERE host = 'nobody'",
            "TRUNCATE w_delete",
            "INSERT INTO w_delete VALUES ('2024-01-01 00:00:00+00', 'z', 0.5)",
        ],
    ),
    (
        "keyless_dimension",
        "w_dim",
        [
            "CREATE TABLE w_dim (name text, rank int4, score real, active boolean)",
            "INSERT INTO w_dim VALUES ('x', 1, 0.5, true), ('y', NULL, 1.25, false), ('x', 1, 0.5, true)",
            "INSERT INTO w_dim (name) VALUES ('z')",
            "INSERT INTO w_dim SELECT hostname, rack, weight, rack > 1 FROM hosts",
        ],
    ),
    (
        "json_columns",
        "w_json",
        [
            "CREATE TABLE w_json (time timestamptz NOT NULL, host text, doc jsonb, raw json)",
            # jsonb is stored as PostgreSQL writes it (keys ordered, the last duplicate kept, spaced);
            # json keeps the text as given
            """INSERT INTO w_json VALUES ('2024-01-01 00:00:00+00', 'a',"""
            """ '{"bb": 1, "a": {"z": [1,2], "y": "x\\"y"}, "bb": 3, "n": 1.0e1}', '{"b" : 1,  "a":2}')""",
            "INSERT INTO w_json VALUES ('2024-01-01 00:00:01+00', 'b', NULL, NULL)",
            "INSERT INTO w_json SELECT time + interval '1 hour', host, jsonb_build_object('h', host, 'at', time),"
            " json_build_object('h', host) FROM w_json WHERE host = 'a'",
            "INSERT INTO w_json VALUES ('2024-01-01 00:00:02+00', 'c', 'nope', '{}')",
            "INSERT INTO w_json VALUES ('2024-01-01 00:00:02+00', 'c', '{}', '{nope')",
        ],
    ),
    (
        # DEFAULTs: omitted columns take them; ADD COLUMN ... DEFAULT fills the rows already there;
        # SET / DROP DEFAULT; a renamed column keeps its default and its NOT NULL
        "column_defaults",
        "w_defaults",
        [
            "CREATE TABLE w_defaults (time timestamptz NOT NULL, host text NOT NULL,"
            " v double precision DEFAULT 1.5, n int4 DEFAULT -2, m int4 NOT NULL DEFAULT 0,"
            " PRIMARY KEY (time, host))",
            "INSERT INTO w_defaults (time, host) VALUES ('2024-01-01 00:00:00+00', 'a')",
            "ALTER TABLE w_defaults ADD COLUMN k int8 DEFAULT 7",
            "INSERT INTO w_defaults (time, host) VALUES ('2024-01-01 00:00:01+00', 'b')",
            "ALTER TABLE w_defaults ALTER COLUMN v SET DEFAULT 2.5",
            "ALTER TABLE w_defaults ALTER COLUMN n DROP DEFAULT",
            "INSERT INTO w_defaults (time, host) VALUES ('2024-01-01 00:00:02+00', 'c')",
            "ALTER TABLE w_defaults RENAME COLUMN k TO kk",
            "ALTER TABLE w_defaults RENAME COLUMN m TO mm",
            "INSERT INTO w_defaults (time, host) VALUES ('2024-01-01 00:00:03+00', 'd')",
            "INSERT INTO w_defaults (time, host, mm) VALUES ('2024-01-01 00:00:05+00', 'f', NULL)",
            "ALTER TABLE w_defaults ADD COLUMN label text DEFAULT 'x'",
            "INSERT INTO w_defaults (time, host, v, label) VALUES ('2024-01-01 00:00:04+00', 'e', NULL, 'y')",
            "ALTER TABLE w_defaults ALTER COLUMN nope SET DEFAULT 1",
            "ALTER TABLE w_defaults DROP COLUMN kk",
            "ALTER TABLE w_defaults ADD COLUMN kk int4",
            "INSERT INTO w_defaults (time, host) VALUES ('2024-01-01 00:00:06+00', 'g')",
        ],
    ),
    (
        # DEFAULT in VALUES (a whole column of it, or some rows), DEFAULT VALUES, fewer values than
        # columns without a column list, SERIAL defaults among given ids; NOT NULL without a default
        "default_values",
        "w_default_values",
        [
            "CREATE TABLE w_default_values (time timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00',"
            " host text DEFAULT 'h', v int4 DEFAULT 4, id serial, n int4)",
            "INSERT INTO w_default_values VALUES (DEFAULT, 'a', DEFAULT)",
            "INSERT INTO w_default_values DEFAULT VALUES",
            "INSERT INTO w_default_values (host, v) VALUES ('b', DEFAULT), (DEFAULT, 9)",
            "INSERT INTO w_default_values (time, id, n) VALUES ('2024-01-02 00:00:00+00', DEFAULT, 1),"
            " ('2024-01-03 00:00:00+00', 100, DEFAULT), (DEFAULT, DEFAULT, DEFAULT)",
            "INSERT INTO w_default_values (time, host, v) VALUES (DEFAULT, DEFAULT, DEFAULT)",
            "INSERT INTO w_default_values (n) VALUES (DEFAULT)",
            "ALTER TABLE w_default_values ALTER COLUMN time DROP DEFAULT",
            "INSERT INTO w_default_values DEFAULT VALUES",
            "INSERT INTO w_default_values VALUES (DEFAULT, 'z', 1)",
        ],
    ),
    (
        # what Alembic sends to record a migration: RETURNING naming the table, then an UPDATE of the
        # key column of a table without a time column
        "alembic_version",
        "alembic_version",
        [
            "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL,"
            " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
            "INSERT INTO alembic_version (version_num) VALUES ('abc123') RETURNING alembic_version.version_num",
            "UPDATE alembic_version SET version_num='def456' WHERE alembic_version.version_num = 'abc123'",
            "UPDATE alembic_version SET version_num='x' WHERE alembic_version.version_num = 'nope'",
            "DELETE FROM alembic_version WHERE alembic_version.version_num = 'def456'",
        ],
    ),
    (
        # UPDATE of tags and times, and of tables that keep duplicate rows (by time and tag conditions)
        "update_rekeyed",
        "w_rekeyed",
        [
            "CREATE TABLE w_rekeyed (time timestamptz NOT NULL, host text, v double precision)",
            "INSERT INTO w_rekeyed VALUES ('2024-01-01 00:00:00+00', 'a', 1), ('2024-01-01 00:00:00+00', 'a', 1),"
            " ('2024-01-01 00:00:01+00', 'b', 2), ('2024-01-01 00:00:02+00', 'c', 3)",
            "UPDATE w_rekeyed SET v = v + 10 WHERE host = 'a'",
            "UPDATE w_rekeyed SET host = 'bb' WHERE host = 'b' AND time >= '2024-01-01 00:00:01+00'",
            "UPDATE w_rekeyed SET time = time + interval '1 hour' WHERE host IN ('c', 'bb')",
            "UPDATE w_rekeyed SET host = upper(host), v = NULL",
            "UPDATE w_rekeyed SET v = 0 WHERE host = 'nobody'",
        ],
    ),
    (
        # ALTER COLUMN ... SET / DROP NOT NULL and TYPE between types stored alike, with the checks
        # PostgreSQL makes of the rows already there
        "alter_columns",
        "w_altered",
        [
            "CREATE TABLE w_altered (time timestamptz NOT NULL, host varchar(10) NOT NULL, v int8, s int4,"
            " f real, PRIMARY KEY (time, host))",
            "INSERT INTO w_altered VALUES ('2024-01-01 00:00:00+00', 'abcdef', 3000000000, 7, 1.5),"
            " ('2024-01-01 00:00:01+00', 'b', NULL, -40000, 2.25)",
            "ALTER TABLE w_altered ALTER COLUMN v SET NOT NULL",
            "ALTER TABLE w_altered ALTER COLUMN s SET NOT NULL",
            "INSERT INTO w_altered (time, host, v) VALUES ('2024-01-01 00:00:02+00', 'c', 1)",
            "ALTER TABLE w_altered ALTER COLUMN s DROP NOT NULL",
            "ALTER TABLE w_altered ALTER COLUMN host DROP NOT NULL",
            "INSERT INTO w_altered (time, host, v) VALUES ('2024-01-01 00:00:02+00', 'c', 1)",
            "ALTER TABLE w_altered ALTER COLUMN v TYPE int4",
            "ALTER TABLE w_altered ALTER COLUMN s TYPE int2",
            "ALTER TABLE w_altered ALTER COLUMN s TYPE int8",
            "INSERT INTO w_altered VALUES ('2024-01-01 00:00:03+00', 'd', 1, 9000000000, 0.5)",
            "ALTER TABLE w_altered ALTER COLUMN f TYPE double precision",
            "ALTER TABLE w_altered ALTER COLUMN host TYPE varchar(3)",
            "ALTER TABLE w_altered ALTER COLUMN host TYPE text",
            "ALTER TABLE w_altered ALTER COLUMN nope SET NOT NULL",
        ],
    ),
    (
        # CHECK constraints (column and table, named or not) on INSERT and UPDATE; ADD CONSTRAINT
        # checked against the rows there (CHECK, UNIQUE, PRIMARY KEY); DROP CONSTRAINT; a renamed
        # column keeps its check
        "check_constraints",
        "w_checked",
        [
            "CREATE TABLE w_checked (time timestamptz NOT NULL, host text, v double precision CHECK (v >= 0),"
            " n int4 CONSTRAINT n_small CHECK (n < 10), CONSTRAINT v_top CHECK (v < 1000), CHECK (n < v))",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:00+00', 'a', 5, 1)",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:01+00', 'a', -1, NULL)",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:01+00', 'a', 5, 11)",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:01+00', 'a', 5000, 1)",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:01+00', 'a', 5, 7)",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:02+00', 'b', NULL, NULL), ('2024-01-01 00:00:03+00', 'b', 3, 1)",
            "UPDATE w_checked SET v = -5 WHERE host = 'b'",
            "ALTER TABLE w_checked ADD CONSTRAINT host_short CHECK (length(host) < 2)",
            "ALTER TABLE w_checked ADD CONSTRAINT host_a CHECK (host = 'a')",
            "ALTER TABLE w_checked ADD CONSTRAINT host_short CHECK (host <> '')",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:04+00', 'cc', 1, 0)",
            "ALTER TABLE w_checked DROP CONSTRAINT host_short",
            "ALTER TABLE w_checked DROP CONSTRAINT nope",
            "ALTER TABLE w_checked DROP CONSTRAINT IF EXISTS nope",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:04+00', 'cc', 1, 0)",
            "ALTER TABLE w_checked RENAME COLUMN v TO value",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:05+00', 'd', -2, 0)",
            "ALTER TABLE w_checked ADD CONSTRAINT u_time_host UNIQUE (time, host)",
            "ALTER TABLE w_checked ADD CONSTRAINT u_host UNIQUE (host)",
            "ALTER TABLE w_checked ADD PRIMARY KEY (time, host)",
            "ALTER TABLE w_checked ADD PRIMARY KEY (time)",
            "ALTER TABLE w_checked DROP COLUMN n",
            "INSERT INTO w_checked VALUES ('2024-01-01 00:00:06+00', 'e', 0.5)",
        ],
    ),
    (
        # upserts beyond SET c = EXCLUDED.c: on a table without a time key (a metadata table), with
        # expressions over the stored row, a WHERE, ON CONSTRAINT, and PostgreSQL's errors
        "upsert_metadata",
        "w_devices",
        [
            "CREATE TABLE w_devices (id int4 PRIMARY KEY, name text, n int4 DEFAULT 0)",
            "INSERT INTO w_devices VALUES (1, 'a', 0), (2, 'b', 0)",
            "INSERT INTO w_devices (id, name) VALUES (1, 'a2'), (3, 'c')"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, n = w_devices.n + 1",
            "INSERT INTO w_devices (id, name) VALUES (1, 'a3'), (2, 'b3')"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name || '!' WHERE w_devices.name <> 'b'",
            "INSERT INTO w_devices (id, name) VALUES (3, 'c4') ON CONFLICT ON CONSTRAINT w_devices_pkey"
            " DO UPDATE SET n = w_devices.n + 10",
            "INSERT INTO w_devices (id, name) VALUES (5, 'e'), (5, 'f') ON CONFLICT (id) DO UPDATE SET name = 'x'",
            "INSERT INTO w_devices (id, name) VALUES (1, 'z') ON CONFLICT (name) DO UPDATE SET name = 'x'",
            "INSERT INTO w_devices (id, name) VALUES (1, 'z') ON CONFLICT (id) DO NOTHING",
            "INSERT INTO w_devices (id, name) VALUES (2, 'y') ON CONFLICT (id) DO UPDATE SET n = NULL",
        ],
    ),
    (
        "upsert_expressions",
        "w_upserted",
        [
            "CREATE TABLE w_upserted (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " hits int4, PRIMARY KEY (time, host))",
            "INSERT INTO w_upserted VALUES ('2024-01-01 00:00:00+00', 'a', 1, 1)",
            "INSERT INTO w_upserted VALUES ('2024-01-01 00:00:00+00', 'a', 5, 1), ('2024-01-01 00:00:01+00', 'a', 2, 1)"
            " ON CONFLICT (time, host) DO UPDATE SET v = w_upserted.v + EXCLUDED.v, hits = w_upserted.hits + 1",
            "INSERT INTO w_upserted VALUES ('2024-01-01 00:00:00+00', 'a', 100, 1)"
            " ON CONFLICT (time, host) DO UPDATE SET v = EXCLUDED.v WHERE EXCLUDED.v > w_upserted.v * 100",
            "INSERT INTO w_upserted VALUES ('2024-01-01 00:00:01+00', 'a', 3, 1)"
            " ON CONFLICT (time, host) DO UPDATE SET v = GREATEST(w_upserted.v, EXCLUDED.v), hits = NULL",
        ],
    ),
    (
        # FOREIGN KEYs: a hypertable's rows reference a metadata table's key; writes of unknown keys,
        # deletes and key updates of referenced rows, TRUNCATE and DROP of the referenced table,
        # ADD CONSTRAINT over the rows there, and a reference to a column that is no key
        "foreign_keys",
        "w_readings",
        [
            "CREATE TABLE w_sensors (id int4 PRIMARY KEY, kind text)",
            "CREATE TABLE w_readings (time timestamptz NOT NULL, sensor_id int4 REFERENCES w_sensors (id),"
            " v double precision)",
            "INSERT INTO w_sensors VALUES (1, 'a'), (2, 'b'), (3, 'c')",
            "INSERT INTO w_readings VALUES ('2024-01-01 00:00:00+00', 1, 0.5), ('2024-01-01 00:00:01+00', NULL, 1)",
            "INSERT INTO w_readings VALUES ('2024-01-01 00:00:02+00', 9, 1)",
            "INSERT INTO w_readings VALUES ('2024-01-01 00:00:02+00', 3, 1)",
            "UPDATE w_readings SET sensor_id = 7 WHERE time = '2024-01-01 00:00:00+00'",
            "DELETE FROM w_sensors WHERE id = 1",
            "DELETE FROM w_sensors WHERE id = 2",
            "UPDATE w_sensors SET id = 5 WHERE id = 1",
            "UPDATE w_sensors SET kind = 'aa' WHERE id = 1",
            "TRUNCATE w_sensors",
            "DROP TABLE w_sensors",
            "CREATE TABLE w_bad (x int4 REFERENCES w_sensors (kind))",
            "ALTER TABLE w_readings DROP CONSTRAINT w_readings_sensor_id_fkey",
            "DELETE FROM w_sensors WHERE id = 1",
            "ALTER TABLE w_readings ADD CONSTRAINT r_fk FOREIGN KEY (sensor_id) REFERENCES w_sensors (id)",
            "DELETE FROM w_readings WHERE time = '2024-01-01 00:00:00+00'",
            "ALTER TABLE w_readings ADD CONSTRAINT r_fk FOREIGN KEY (sensor_id) REFERENCES w_sensors (id)"
            " ON DELETE CASCADE",
            "DROP TABLE w_sensors CASCADE",
            "INSERT INTO w_readings VALUES ('2024-01-01 00:00:05+00', 42, 1)",
        ],
    ),
    (
        # a PRIMARY KEY / UNIQUE key without the time column is unique, as in PostgreSQL: INSERT,
        # UPDATE and a repeat within one statement (a key over the time column replaces instead)
        "unique_keys",
        "w_unique",
        [
            "CREATE TABLE w_unique (id int4 PRIMARY KEY, code text UNIQUE, n int4)",
            "INSERT INTO w_unique VALUES (1, 'a', 0), (2, 'b', 0)",
            "INSERT INTO w_unique VALUES (1, 'c', 0)",
            "INSERT INTO w_unique VALUES (3, 'a', 0)",
            "INSERT INTO w_unique VALUES (3, 'c', 0), (3, 'd', 0)",
            "INSERT INTO w_unique VALUES (3, NULL, 0), (4, NULL, 0)",
            "UPDATE w_unique SET id = 2 WHERE id = 1",
            "UPDATE w_unique SET code = 'z' WHERE id = 1",
            "UPDATE w_unique SET id = 5 WHERE id = 1",
            "UPDATE w_unique SET n = 7 WHERE id = 2",
            # conditions on fields and UPDATE ... FROM: the rows found by their key
            "UPDATE w_unique SET n = n + 1 WHERE n = 7",
            "UPDATE w_unique SET n = s.n, code = s.code FROM (VALUES (2, 40, 'q'), (9, 90, 'r')) AS s(id, n, code)"
            " WHERE w_unique.id = s.id",
            "UPDATE w_unique SET code = 'a' FROM (VALUES (3)) AS s(id) WHERE w_unique.id = s.id",
            "DELETE FROM w_unique WHERE n > 30",
            "DELETE FROM w_unique USING (VALUES (3), (8)) AS s(id) WHERE w_unique.id = s.id",
        ],
    ),
    (
        # ON DELETE CASCADE / SET NULL between metadata tables (keyed by tags), chained
        "foreign_key_actions",
        "w_fk_child",
        [
            "CREATE TABLE w_fk_parent (id int4 PRIMARY KEY, name text)",
            "CREATE TABLE w_fk_child (id int4 PRIMARY KEY, parent_id int4 REFERENCES w_fk_parent ON DELETE CASCADE,"
            " n int4)",
            "CREATE TABLE w_fk_grandchild (id int4 PRIMARY KEY, child_id int4 REFERENCES w_fk_child ON DELETE SET NULL)",
            "INSERT INTO w_fk_parent VALUES (1, 'a'), (2, 'b')",
            "INSERT INTO w_fk_child VALUES (10, 1, 0), (11, 1, 0), (20, 2, 0)",
            "INSERT INTO w_fk_grandchild VALUES (100, 10), (200, 20)",
            "DELETE FROM w_fk_parent WHERE id = 1",
            "SELECT * FROM w_fk_grandchild WHERE child_id IS NULL AND id = 100",
            "DELETE FROM w_fk_child WHERE n = 0",
            "DROP TABLE w_fk_grandchild",
            "DROP TABLE w_fk_parent CASCADE",
        ],
    ),
    (
        # DROP COLUMN of a tag: its rows stay (rows that differed only by it too); a column added
        # again under its name is NULL for the old rows; a key over it goes with it
        "drop_tag_columns",
        "w_droptag",
        [
            "CREATE TABLE w_droptag (time timestamptz NOT NULL, host text, region text, v double precision,"
            " UNIQUE (time, host, region))",
            "INSERT INTO w_droptag VALUES ('2024-01-01 00:00:00+00', 'a', 'east', 1),"
            " ('2024-01-01 00:00:00+00', 'a', 'west', 2), ('2024-01-01 00:00:01+00', 'b', 'east', 3)",
            "ALTER TABLE w_droptag DROP COLUMN region",
            "INSERT INTO w_droptag VALUES ('2024-01-01 00:00:00+00', 'a', 4)",
            "SELECT * FROM w_droptag WHERE host = 'a'",
            "ALTER TABLE w_droptag ADD COLUMN region text",
            "INSERT INTO w_droptag VALUES ('2024-01-01 00:00:02+00', 'c', 5, 'north')",
            "SELECT * FROM w_droptag WHERE region IS NULL",
            "ALTER TABLE w_droptag DROP COLUMN host",
        ],
    ),
    (
        # RENAME COLUMN of tags: reads, writes, keys, updates and deletes by the new name; the old
        # name is gone (42703); a taken name (42701) or a missing column (42703) is refused
        "rename_tag_columns",
        "w_retagged",
        [
            "CREATE TABLE w_retagged (time timestamptz NOT NULL, host text NOT NULL, region text,"
            " v double precision, PRIMARY KEY (time, host))",
            "INSERT INTO w_retagged VALUES ('2024-01-01 00:00:00+00', 'a', 'east', 1),"
            " ('2024-01-01 00:00:00+00', 'b', 'west', 2), ('2024-01-01 00:00:01+00', 'a', 'east', 3)",
            "ALTER TABLE w_retagged RENAME COLUMN host TO hostname",
            "SELECT * FROM w_retagged WHERE hostname = 'a'",
            "SELECT hostname, count(*) FROM w_retagged GROUP BY hostname",
            "SELECT host FROM w_retagged",
            "SELECT * FROM w_retagged WHERE host = 'a'",
            "INSERT INTO w_retagged (time, hostname, region, v) VALUES ('2024-01-01 00:00:02+00', 'a', 'east', 4)",
            "INSERT INTO w_retagged (time, host, v) VALUES ('2024-01-01 00:00:03+00', 'a', 5)",
            "INSERT INTO w_retagged VALUES ('2024-01-01 00:00:00+00', 'a', 'east', 10)"
            " ON CONFLICT (time, hostname) DO UPDATE SET v = EXCLUDED.v",
            "ALTER TABLE w_retagged RENAME COLUMN region TO hostname",
            "ALTER TABLE w_retagged RENAME COLUMN region TO v",
            "ALTER TABLE w_retagged RENAME COLUMN nope TO x",
            "ALTER TABLE w_retagged RENAME COLUMN region TO zone",
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'w_retagged'"
            " AND column_name IN ('hostname', 'zone')",
            "SELECT attname FROM pg_attribute WHERE attrelid = 'w_retagged'::regclass AND attname = 'region'",
            "UPDATE w_retagged SET zone = 'north' WHERE hostname = 'b'",
            "DELETE FROM w_retagged WHERE zone = 'east' AND time < '2024-01-01 00:00:01+00'",
            "ALTER TABLE w_retagged RENAME COLUMN hostname TO host",
            "INSERT INTO w_retagged VALUES ('2024-01-01 00:00:01+00', 'a', 'east', 6)"
            " ON CONFLICT (time, host) DO UPDATE SET v = EXCLUDED.v",
            "SELECT host, zone, sum(v) FROM w_retagged WHERE host IN ('a', 'b') GROUP BY host, zone",
        ],
    ),
    (
        # a tag renamed to the name of a dropped tag, whose values the stored series keys still hold:
        # the old values stay dropped
        "rename_tag_over_dropped",
        "w_retagged2",
        [
            "CREATE TABLE w_retagged2 (time timestamptz NOT NULL, host text, region text, v double precision)",
            "INSERT INTO w_retagged2 VALUES ('2024-01-01 00:00:00+00', 'a', 'east', 1),"
            " ('2024-01-01 00:00:01+00', 'b', 'west', 2)",
            "ALTER TABLE w_retagged2 DROP COLUMN region",
            "ALTER TABLE w_retagged2 RENAME COLUMN host TO region",
            "SELECT * FROM w_retagged2 WHERE region = 'a'",
            "SELECT * FROM w_retagged2 WHERE region = 'east'",
            "INSERT INTO w_retagged2 VALUES ('2024-01-01 00:00:02+00', 'c', 3)",
            "ALTER TABLE w_retagged2 ADD COLUMN host text",
            "INSERT INTO w_retagged2 VALUES ('2024-01-01 00:00:03+00', 'd', 4, 'h')",
        ],
    ),
    (
        # a renamed column in what names it: views (their columns keep their names, as PostgreSQL
        # rewrites their definitions) and foreign keys, on either side
        "rename_tag_views_and_keys",
        "w_rk_child",
        [
            "CREATE TABLE w_rk_parent (code text PRIMARY KEY, name text)",
            "CREATE TABLE w_rk_child (time timestamptz NOT NULL, code text REFERENCES w_rk_parent (code),"
            " v double precision)",
            "INSERT INTO w_rk_parent VALUES ('a', 'A'), ('b', 'B')",
            "INSERT INTO w_rk_child VALUES ('2024-01-01 00:00:00+00', 'a', 1), ('2024-01-01 00:00:01+00', 'b', 2)",
            "CREATE VIEW w_rk_view AS SELECT code, avg(v) AS v FROM w_rk_child WHERE w_rk_child.code <> 'z'"
            " GROUP BY code",
            "CREATE VIEW w_rk_star AS SELECT * FROM w_rk_child",
            "ALTER TABLE w_rk_parent RENAME COLUMN code TO pcode",
            "ALTER TABLE w_rk_child RENAME COLUMN code TO ccode",
            "SELECT * FROM w_rk_view WHERE code = 'a'",
            "SELECT code, v FROM w_rk_star WHERE code = 'b'",
            "SELECT ccode FROM w_rk_star",
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'w_rk_star' AND column_name = 'code'",
            "INSERT INTO w_rk_child VALUES ('2024-01-01 00:00:02+00', 'x', 3)",
            "INSERT INTO w_rk_child (time, ccode, v) VALUES ('2024-01-01 00:00:02+00', 'b', 3)",
            "DELETE FROM w_rk_parent WHERE pcode = 'a'",
            "DELETE FROM w_rk_child WHERE ccode = 'a'",
            "DELETE FROM w_rk_parent WHERE pcode = 'a'",
            "DROP VIEW w_rk_view",
            "DROP VIEW w_rk_star",
            "DROP TABLE w_rk_parent CASCADE",
        ],
    ),
]


# ALTER TABLE ... RENAME TO (what migrations do): every row under the new name, from the memtable,
# chunk files (CHECKPOINT) and compacted files (VACUUM FULL); the old name is gone (42P01) until a new
# table takes it; a taken name (42P07) is refused; views and foreign keys follow the table
SCENARIOS += [
    (
        "character_lengths",
        "w_chars",
        [
            "CREATE TABLE w_chars (id int4, v varchar(3), c char(2), d character)",
            "INSERT INTO w_chars VALUES (1, 'abc', 'xy', 'z')",
            "INSERT INTO w_chars VALUES (2, 'abcdef', 'xy', 'z')",  # 22001: varchar(3)
            "INSERT INTO w_chars VALUES (3, 'ab  ', 'xy  ', 'z ')",  # only spaces past n: cut to n
            "INSERT INTO w_chars VALUES (4, 'ab', 'xyz', 'z')",  # 22001: character(2)
            "INSERT INTO w_chars VALUES (5, 'ab', 'xy', 'zz')",  # 22001: character (1)
            "INSERT INTO w_chars SELECT id + 10, v || 'q', c, d FROM w_chars WHERE id = 1",  # 22001
            "UPDATE w_chars SET v = 'toolong' WHERE id = 1",  # 22001
        ],
    ),
    (
        "rename_table",
        "w_renamed",
        [
            "CREATE TABLE w_rn_src (time timestamptz NOT NULL, host text NOT NULL, v int8,"
            " PRIMARY KEY (time, host))",
            "INSERT INTO w_rn_src VALUES ('2024-01-01 00:00:00+00', 'a', 1), ('2024-01-01 00:00:00+00', 'b', 2)",
            "CHECKPOINT",
            "INSERT INTO w_rn_src VALUES ('2024-01-01 00:00:01+00', 'a', 3)",
            "CREATE VIEW w_rn_view AS SELECT w_rn_src.host, count(*) AS n FROM w_rn_src GROUP BY w_rn_src.host",
            "CREATE TABLE w_rn_other (time timestamptz NOT NULL, v int8)",
            "ALTER TABLE w_rn_src RENAME TO w_rn_other",
            "ALTER TABLE w_rn_src RENAME TO w_rn_view",
            "ALTER TABLE w_rn_src RENAME TO w_rn_src",
            "ALTER TABLE w_rn_nope RENAME TO w_renamed",
            "ALTER TABLE IF EXISTS w_rn_nope RENAME TO w_renamed",
            "ALTER TABLE w_rn_src RENAME TO w_renamed",
            "SELECT * FROM w_rn_src",
            "INSERT INTO w_rn_src VALUES ('2024-01-01 00:00:02+00', 'a', 4)",
            "SELECT host, sum(v) FROM w_renamed GROUP BY host ORDER BY host",
            "SELECT * FROM w_rn_view ORDER BY host",
            "INSERT INTO w_renamed VALUES ('2024-01-01 00:00:02+00', 'c', 5)",
            "INSERT INTO w_renamed VALUES ('2024-01-01 00:00:00+00', 'a', 10) ON CONFLICT (time, host)"
            " DO UPDATE SET v = EXCLUDED.v",
            "UPDATE w_renamed SET v = v * 2 WHERE host = 'b'",
            "VACUUM FULL w_renamed",
            "DELETE FROM w_renamed WHERE host = 'c'",
            "SELECT relname FROM pg_class WHERE relname IN ('w_rn_src', 'w_renamed')",
            "SELECT table_name FROM information_schema.tables WHERE table_name IN ('w_rn_src', 'w_renamed')",
            "CREATE TABLE w_rn_src (time timestamptz NOT NULL, host text, v int8)",
            "INSERT INTO w_rn_src VALUES ('2024-01-01 00:00:00+00', 'z', 99)",
            "SELECT * FROM w_rn_src",
            "SELECT count(*) FROM w_renamed WHERE host = 'z'",
            "DROP VIEW w_rn_view",
            "DROP TABLE w_rn_src",
            "DROP TABLE w_rn_other",
        ],
    ),
    (
        # the referenced table renamed: the foreign key follows it (inserts checked, deletes refused)
        "rename_referenced_table",
        "w_rn_child",
        [
            "CREATE TABLE w_rn_parent (code text PRIMARY KEY, name text)",
            "CREATE TABLE w_rn_child (time timestamptz NOT NULL, code text REFERENCES w_rn_parent (code),"
            " v double precision)",
            "INSERT INTO w_rn_parent VALUES ('a', 'A'), ('b', 'B')",
            "INSERT INTO w_rn_child VALUES ('2024-01-01 00:00:00+00', 'a', 1)",
            "ALTER TABLE w_rn_parent RENAME TO w_rn_parent2",
            "INSERT INTO w_rn_child VALUES ('2024-01-01 00:00:01+00', 'x', 2)",
            "INSERT INTO w_rn_child VALUES ('2024-01-01 00:00:01+00', 'b', 2)",
            "DELETE FROM w_rn_parent2 WHERE code = 'a'",
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'w_rn_child_code_fkey'",
            "ALTER TABLE w_rn_child RENAME TO w_rn_child2",
            "ALTER TABLE w_rn_child2 RENAME TO w_rn_child",
            "DELETE FROM w_rn_child WHERE code = 'a'",
            "DELETE FROM w_rn_parent2 WHERE code = 'a'",
            "DROP TABLE w_rn_parent2 CASCADE",
        ],
    ),
]


# a key over time and one tag, beside a text column outside it: one row per key value
SCENARIOS += [
    (
        "key_beside_text_column",
        "w_zoned",
        [
            "CREATE TABLE w_zoned (time timestamptz NOT NULL, host text NOT NULL, zone text, v float8,"
            " PRIMARY KEY (time, host))",
            "INSERT INTO w_zoned VALUES ('2024-01-01 00:00:00+00', 'a', 'z1', 1), ('2024-01-01 00:00:00+00', 'b', 'z1', 2)",
            "INSERT INTO w_zoned VALUES ('2024-01-01 00:00:00+00', 'a', 'z2', 5)"
            " ON CONFLICT (time, host) DO UPDATE SET zone = EXCLUDED.zone, v = EXCLUDED.v",
            "INSERT INTO w_zoned VALUES ('2024-01-01 00:00:00+00', 'a', 'z3', 7) ON CONFLICT (time, host) DO UPDATE SET v = EXCLUDED.v",
            "INSERT INTO w_zoned VALUES ('2024-01-01 00:00:00+00', 'b', 'z3', 7) ON CONFLICT DO NOTHING",
            "INSERT INTO w_zoned VALUES ('2024-01-01 00:00:01+00', 'b', NULL, 8), ('2024-01-01 00:00:02+00', 'c', 'z1', 9)",
            "UPDATE w_zoned SET zone = 'z9' WHERE host = 'a'",
            "UPDATE w_zoned SET v = v + 1 WHERE zone = 'z1'",
            "DELETE FROM w_zoned WHERE zone IS NULL",
            "SELECT zone, count(*), sum(v) FROM w_zoned GROUP BY zone ORDER BY zone",
            "SELECT host FROM w_zoned WHERE zone = 'z9'",
        ],
    ),
]


# DELETE with conditions on fields, on a table that keeps duplicates: the found rows' series and time
# span are deleted and the rest of that span written back
SCENARIOS += [
    (
        "delete_by_fields",
        "w_fielded",
        [
            "CREATE TABLE w_fielded (time timestamptz NOT NULL, host text, v double precision, n int4)",
            "INSERT INTO w_fielded VALUES ('2024-01-01 00:00:00+00', 'a', 1, 1), ('2024-01-01 00:00:01+00', 'a', 2, 2),"
            " ('2024-01-01 00:00:02+00', 'a', 3, NULL), ('2024-01-01 00:00:01+00', 'b', 2, 2),"
            " ('2024-01-01 00:00:01+00', 'a', 2, 2), ('2024-01-01 00:00:01+00', NULL, 5, 5),"
            " ('2024-01-01 00:00:03+00', NULL, 6, 6)",
            "DELETE FROM w_fielded WHERE v = 2 AND host = 'a'",
            "DELETE FROM w_fielded WHERE n > 4",
            "DELETE FROM w_fielded WHERE n IS NULL RETURNING host, v",
            "DELETE FROM w_fielded AS f WHERE f.v < 2 OR f.n = 2",
            "INSERT INTO w_fielded VALUES ('2024-01-01 00:00:00+00', 'a', 1, 1), ('2024-01-01 00:00:01+00', 'a', 2, 2),"
            " ('2024-01-01 00:00:01+00', 'a', 2, 2), ('2024-01-01 00:00:01+00', NULL, 5, 5)",
            "UPDATE w_fielded SET n = n * 10 WHERE v = 2",
            "UPDATE w_fielded SET host = 'c' WHERE n = 5",
            "UPDATE w_fielded SET n = NULL WHERE v > 2 AND v < 4",
            "UPDATE w_fielded SET time = time + interval '1 hour' WHERE n = 10",
        ],
    ),
]


# NULL tags stay NULL when rows are written back: UPDATE and DELETE by conditions on fields (the found
# rows' series and span rewritten, or the rows found by a key of tags that may hold NULLs), upserts
# that SET a tag; '' and the text 'None' beside them are other values
SCENARIOS += [
    (
        "null_tags_rewritten",
        "w_nulltags",
        [
            "CREATE TABLE w_nulltags (time timestamptz NOT NULL, host text, region text, v float8, n int4)",
            "INSERT INTO w_nulltags VALUES ('2024-01-01 00:00:00+00', NULL, NULL, 1, 1),"
            " ('2024-01-01 00:00:01+00', NULL, 'r1', 2, 2), ('2024-01-01 00:00:02+00', 'a', NULL, 3, 3),"
            " ('2024-01-01 00:00:03+00', '', NULL, 4, 4), ('2024-01-01 00:00:04+00', 'None', NULL, 5, 5),"
            " ('2024-01-01 00:00:05+00', NULL, NULL, 6, 6)",
            "UPDATE w_nulltags SET n = n * 10 WHERE v < 4",
            "SELECT host, region, n FROM w_nulltags WHERE host IS NULL",
            "DELETE FROM w_nulltags WHERE v = 2 OR v = 6",
            "SELECT time, n FROM w_nulltags WHERE region IS NULL AND host IS NULL",
            "UPDATE w_nulltags SET v = NULL WHERE n = 10",
            "UPDATE w_nulltags SET region = NULL, n = 0 WHERE v > 4",
            "DELETE FROM w_nulltags WHERE n = 0 RETURNING host, region",
            "SELECT count(*) FROM w_nulltags WHERE host = 'None' OR host = ''",
        ],
    ),
    (
        "null_tags_keyed",
        "w_nullkey",
        [
            "CREATE TABLE w_nullkey (code text UNIQUE, name text, n int4)",
            "INSERT INTO w_nullkey VALUES (NULL, 'x', 0), (NULL, NULL, 0), (NULL, 'y', 5), ('a', NULL, 0),"
            " ('None', 'z', 0), ('', 'e', 0)",
            "UPDATE w_nullkey SET n = n + 1 WHERE n = 0",
            "SELECT name, n FROM w_nullkey WHERE code IS NULL",
            "UPDATE w_nullkey SET name = NULL WHERE name = 'x'",
            "DELETE FROM w_nullkey WHERE n = 5",
            "SELECT count(*) FROM w_nullkey WHERE code IS NULL",
            "INSERT INTO w_nullkey VALUES ('a', 'w', 9) ON CONFLICT (code) DO UPDATE SET code = NULL, n = EXCLUDED.n",
            "INSERT INTO w_nullkey VALUES ('None', 'w', 9) ON CONFLICT (code) DO UPDATE SET name = NULL",
            "DELETE FROM w_nullkey WHERE n > 0 AND name IS NULL",
            "INSERT INTO w_nullkey VALUES (NULL, 'p', 1), (NULL, 'q', 2), (NULL, 'p', 3)",
            "UPDATE w_nullkey SET n = s.n FROM (VALUES ('p', 70)) AS s(name, n) WHERE w_nullkey.name = s.name",
            "DELETE FROM w_nullkey USING (VALUES ('q'), ('e')) AS s(name) WHERE w_nullkey.name = s.name",
            "SELECT name, n FROM w_nullkey WHERE code IS NULL",
        ],
    ),
]

# referential actions of FOREIGN KEYs, as PostgreSQL 15 has them: ON UPDATE CASCADE / SET NULL /
# SET DEFAULT and ON DELETE SET NULL / SET DEFAULT (with a column list), from a metadata table keyed
# by tags to metadata tables and a hypertable whose referencing column is a field; RESTRICT against
# NO ACTION when another row takes the old key; the errors of defaults the parent lacks
SCENARIOS += [
    (
        "foreign_key_update_actions",
        "w_fu_meta, w_fu_readings, w_fu_log, w_fu_parent",
        [
            "CREATE TABLE w_fu_parent (id int4 PRIMARY KEY, name text)",
            "CREATE TABLE w_fu_meta (id int4 PRIMARY KEY,"
            " parent_id int4 REFERENCES w_fu_parent ON UPDATE CASCADE ON DELETE SET NULL, n int4)",
            "CREATE TABLE w_fu_readings (time timestamptz NOT NULL, parent_id int4 DEFAULT 0"
            " REFERENCES w_fu_parent ON UPDATE SET DEFAULT ON DELETE SET DEFAULT, v float8)",
            "CREATE TABLE w_fu_log (time timestamptz NOT NULL, parent_id int4"
            " REFERENCES w_fu_parent ON UPDATE CASCADE ON DELETE CASCADE, v float8)",
            "INSERT INTO w_fu_parent VALUES (0, 'default'), (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')",
            "INSERT INTO w_fu_log VALUES ('2024-01-01 00:00:00+00', 1, 1), ('2024-01-01 00:00:00+00', 2, 2),"
            " ('2024-01-01 00:00:01+00', 1, 3), ('2024-01-01 00:00:01+00', 4, 4), ('2024-01-01 00:00:02+00', NULL, 5)",
            "INSERT INTO w_fu_meta VALUES (10, 1, 0), (11, 1, 1), (20, 2, 0), (30, NULL, 0), (40, 4, 0)",
            "INSERT INTO w_fu_readings VALUES ('2024-01-01 00:00:00+00', 1, 0.5), ('2024-01-01 00:00:01+00', 2, 1.5),"
            " ('2024-01-01 00:00:02+00', 3, 2.5), ('2024-01-01 00:00:03+00', NULL, 3.5),"
            " ('2024-01-01 00:00:04+00', 4, 4.5)",
            "UPDATE w_fu_parent SET id = 5 WHERE id = 1",
            "UPDATE w_fu_parent SET name = 'bb' WHERE id = 2",
            "UPDATE w_fu_parent SET id = id * 10 WHERE id IN (2, 3, 5)",
            "SELECT * FROM w_fu_meta WHERE parent_id = 50",
            "SELECT * FROM w_fu_readings WHERE parent_id = 0",
            "DELETE FROM w_fu_parent WHERE id = 20",
            "SELECT * FROM w_fu_meta WHERE parent_id IS NULL",
            "DELETE FROM w_fu_parent WHERE name = 'd'",
            "SELECT * FROM w_fu_readings WHERE parent_id = 0",
            "DELETE FROM w_fu_parent WHERE id = 0",
            "UPDATE w_fu_parent SET id = 7 WHERE id = 0",
            "UPDATE w_fu_parent SET id = NULL WHERE id = 50",
            "UPDATE w_fu_parent SET name = 'x' WHERE id = 50 RETURNING id, name",
        ],
    ),
    (
        "foreign_key_restrict",
        "w_fr_restrict, w_fr_noaction, w_fr_parent",
        [
            "CREATE TABLE w_fr_parent (id int4 PRIMARY KEY, name text)",
            "CREATE TABLE w_fr_noaction (id int4 PRIMARY KEY, parent_id int4 REFERENCES w_fr_parent ON UPDATE NO ACTION)",
            "CREATE TABLE w_fr_restrict (id int4 PRIMARY KEY, parent_id int4 REFERENCES w_fr_parent (id) ON UPDATE RESTRICT"
            " ON DELETE RESTRICT)",
            "INSERT INTO w_fr_parent VALUES (1, 'a'), (2, 'b'), (3, 'c')",
            "INSERT INTO w_fr_noaction VALUES (10, 1)",
            "INSERT INTO w_fr_restrict VALUES (30, 3)",
            # the row of 1 moves to 4 and that of 2 takes 1: NO ACTION finds 1 still there
            "UPDATE w_fr_parent SET id = CASE id WHEN 1 THEN 4 ELSE 1 END WHERE id IN (1, 2)",
            "UPDATE w_fr_parent SET id = 6 WHERE id = 1",
            # (PostgreSQL's scan meets 3 first: RESTRICT refuses its change, whoever takes 3)
            "UPDATE w_fr_parent SET id = CASE id WHEN 3 THEN 7 ELSE 3 END WHERE id IN (3, 4)",
            "UPDATE w_fr_parent SET name = 'cc' WHERE id = 3",
            "DELETE FROM w_fr_parent WHERE id = 3",
            "DELETE FROM w_fr_parent WHERE id = 4",
        ],
    ),
    (
        # a table referencing itself: the rows one statement changes are not the stored ones
        "foreign_key_self",
        "w_fs_tree, w_fs_plain",
        [
            "CREATE TABLE w_fs_tree (id int4 PRIMARY KEY, up int4 DEFAULT 1"
            " REFERENCES w_fs_tree ON UPDATE CASCADE ON DELETE CASCADE, n int4)",
            "CREATE TABLE w_fs_plain (id int4 PRIMARY KEY, up int4 REFERENCES w_fs_plain)",
            "INSERT INTO w_fs_tree VALUES (1, NULL, 0)",
            "INSERT INTO w_fs_tree VALUES (2, 1, 0), (5, 1, 0)",
            "INSERT INTO w_fs_tree VALUES (3, 2, 0)",
            "INSERT INTO w_fs_tree VALUES (4, 3, 0)",
            "UPDATE w_fs_tree SET id = 10 WHERE id = 1",
            "UPDATE w_fs_tree SET id = id * 100, n = 1 WHERE id IN (2, 3)",
            "ALTER TABLE w_fs_tree DROP CONSTRAINT w_fs_tree_up_fkey",
            "ALTER TABLE w_fs_tree ADD FOREIGN KEY (up) REFERENCES w_fs_tree ON UPDATE SET DEFAULT ON DELETE SET NULL",
            "UPDATE w_fs_tree SET id = 30 WHERE id = 300",
            "DELETE FROM w_fs_tree WHERE id = 200",
            "INSERT INTO w_fs_tree VALUES (1, NULL, 0)",
            "UPDATE w_fs_tree SET id = 20 WHERE id = 10",
            "DELETE FROM w_fs_tree WHERE id IN (1, 30)",
            "INSERT INTO w_fs_plain VALUES (1, NULL)",
            "INSERT INTO w_fs_plain VALUES (2, 1)",
            "INSERT INTO w_fs_plain VALUES (3, 2)",
            "DELETE FROM w_fs_plain WHERE id = 2",
            "DELETE FROM w_fs_plain WHERE id IN (2, 3)",
            "UPDATE w_fs_plain SET id = 7 WHERE id = 1",
        ],
    ),
    (
        "foreign_key_set_columns",
        "w_fc_child, w_fc_parent",
        [
            "CREATE TABLE w_fc_parent (tenant int4, author int4, name text, PRIMARY KEY (tenant, author))",
            "CREATE TABLE w_fc_child (id int4 PRIMARY KEY, tenant int4 NOT NULL, author int4 DEFAULT 0,"
            " FOREIGN KEY (tenant, author) REFERENCES w_fc_parent ON UPDATE SET NULL (author))",
            "CREATE TABLE w_fc_child (id int4 PRIMARY KEY, tenant int4 NOT NULL, author int4 DEFAULT 0,"
            " FOREIGN KEY (tenant, author) REFERENCES w_fc_parent ON DELETE SET NULL (nope))",
            "CREATE TABLE w_fc_child (id int4 PRIMARY KEY, tenant int4 NOT NULL, author int4 DEFAULT 0,"
            " FOREIGN KEY (tenant, author) REFERENCES w_fc_parent ON DELETE SET NULL (author))",
            "SELECT conname FROM pg_constraint WHERE conrelid = 'w_fc_child'::regclass AND contype = 'f'"
            " AND confdeltype = 'n' AND confupdtype = 'a' AND confdelsetcols = '{3}'"
            " AND pg_get_constraintdef(oid) = 'FOREIGN KEY (tenant, author) REFERENCES w_fc_parent(tenant, author)"
            " ON DELETE SET NULL (author)'",
            "INSERT INTO w_fc_parent VALUES (1, 0, 'nobody'), (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c')",
            "INSERT INTO w_fc_child VALUES (1, 1, 1), (2, 1, 2), (3, 2, 1), (4, 1, NULL)",
            "DELETE FROM w_fc_parent WHERE author = 1 AND tenant = 1",
            "UPDATE w_fc_parent SET author = 3 WHERE tenant = 1 AND author = 2",
            "ALTER TABLE w_fc_child DROP CONSTRAINT w_fc_child_tenant_author_fkey",
            "ALTER TABLE w_fc_child ADD FOREIGN KEY (tenant, author) REFERENCES w_fc_parent"
            " ON DELETE SET DEFAULT (author) ON UPDATE CASCADE",
            "UPDATE w_fc_parent SET tenant = 9 WHERE tenant = 2",
            "DELETE FROM w_fc_parent WHERE tenant = 9",
            "DELETE FROM w_fc_parent WHERE author = 0",
        ],
    ),
]

# CREATE TABLE AS, SELECT INTO and temporary tables (sql/ddl.py create_table_as, sql/temp_tables.py)
SCENARIOS += [
    (
        "create_table_as",
        "w_ctas",
        [
            "CREATE TABLE w_src (time timestamptz NOT NULL, host text, v double precision, n int4)",
            "INSERT INTO w_src VALUES ('2024-01-01 00:00:00+00', 'a', 1.5, 1), ('2024-01-01 00:00:01+00', 'a', 2.5, 2),"
            " ('2024-01-01 00:00:02+00', 'b', 0.5, 3), ('2024-01-01 00:00:03+00', NULL, 4, NULL)",
            "CREATE TABLE w_ctas AS SELECT host, sum(v) AS total, count(*) AS n, max(time) AS last FROM w_src GROUP BY host",
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'w_ctas'"
            " ORDER BY ordinal_position",
            "CREATE TABLE w_ctas AS SELECT 1",
            "CREATE TABLE IF NOT EXISTS w_ctas AS SELECT 1",
            "DROP TABLE w_ctas",
            "CREATE TABLE w_ctas (h, t) AS SELECT host, time FROM w_src WHERE v > 1 WITH NO DATA",
            "INSERT INTO w_ctas SELECT host, time FROM w_src",
            "DROP TABLE w_ctas",
            "SELECT host, time, v INTO w_ctas FROM w_src WHERE n > 1",
            "DROP TABLE w_ctas",
            "CREATE TABLE w_ctas AS SELECT 1 AS a, 2 AS a",
            "CREATE TABLE w_ctas (a, b, c) AS SELECT 1, 2",
            "CREATE TEMP TABLE w_ctas AS SELECT host, time FROM w_src",
            "INSERT INTO w_ctas VALUES ('z', '2024-01-02 00:00:00+00')",
            "DROP TABLE w_ctas",
            "CREATE TEMP TABLE w_ctas (a int) ON COMMIT DROP",  # (its implicit transaction ends: gone)
            "CREATE TEMPORARY TABLE w_ctas (a int) ON COMMIT DELETE ROWS",
            "BEGIN",
            "INSERT INTO w_ctas VALUES (1)",
            "COMMIT",
            "INSERT INTO w_ctas VALUES (2)",
            "DROP TABLE w_ctas",
            "CREATE TABLE w_ctas (a int) ON COMMIT DROP",
            "CREATE UNLOGGED TABLE w_ctas (a int)",
            "DROP TABLE w_ctas",
            "CREATE TABLE w_ctas AS SELECT 1 / (n - 2) AS x FROM w_src",  # (fails whole: no table)
            "CREATE TABLE w_ctas AS SELECT CASE WHEN n = 1 THEN time END AS t, host FROM w_src",
            "DROP TABLE w_ctas",
            "CREATE TABLE w_ctas AS SELECT time, host FROM w_src ORDER BY time LIMIT 2",
            "WITH x AS (SELECT time + interval '1 day' AS t, host FROM w_src WHERE n = 1),"
            " y AS (SELECT t, upper(host) AS h FROM x) INSERT INTO w_ctas SELECT t, h FROM y",
            "DROP TABLE w_src",
        ],
    ),
]


# maintenance statements (sql/maintenance.py): their tags, their errors, and the table unchanged
SCENARIOS += [
    (
        "maintenance",
        "w_maint",
        [
            "CREATE TABLE w_maint (time timestamptz NOT NULL, host text, v double precision)",
            "INSERT INTO w_maint VALUES ('2024-01-01 00:00:00+00', 'a', 1), ('2024-01-01 00:00:01+00', 'b', 2)",
            "VACUUM w_maint",
            "VACUUM FULL w_maint",
            "VACUUM FULL FREEZE ANALYZE w_maint (v, host)",
            "VACUUM (FULL, ANALYZE false, PARALLEL 2) w_maint",
            "VACUUM (ANALYZE) w_maint (v), cpu",
            "VACUUM w_maint (v)",
            "VACUUM (NOPE) w_maint",
            "VACUUM nope_table",
            "VACUUM",
            "ANALYZE w_maint",
            "ANALYSE w_maint (v, host)",
            "ANALYZE (SKIP_LOCKED) w_maint, cpu",
            "ANALYZE w_maint (nope)",
            "ANALYZE nope_table",
            "ANALYZE",
            "DELETE FROM w_maint WHERE host = 'a'",
            "VACUUM ANALYZE w_maint",
            "CHECKPOINT",
            "REINDEX TABLE w_maint",
            "REINDEX TABLE public.w_maint",
            "REINDEX TABLE nope_table",
            "REINDEX SCHEMA public",
            "REINDEX SCHEMA nope_schema",
            "REINDEX DATABASE other_db",
            "REINDEX TABLE CONCURRENTLY w_maint",
            "CLUSTER w_maint",
            "CLUSTER nope_table",
            "CLUSTER",
            "LOCK TABLE w_maint",
            "BEGIN",
            "LOCK TABLE w_maint IN ACCESS SHARE MODE",
            "LOCK w_maint, cpu IN SHARE ROW EXCLUSIVE MODE NOWAIT",
            "VACUUM w_maint",
            "ROLLBACK",
            "BEGIN",
            "LOCK TABLE ONLY w_maint IN EXCLUSIVE MODE",
            "ANALYZE w_maint",
            "REINDEX TABLE CONCURRENTLY w_maint",
            "ROLLBACK",
            "BEGIN",
            "LOCK TABLE nope_table",
            "ROLLBACK",
            "BEGIN",
            "CLUSTER",
            "ROLLBACK",
            "BEGIN",
            "REINDEX SCHEMA public",
            "ROLLBACK",
            "LOCK TABLE w_maint IN NOPE MODE",
        ],
    ),
]


def _table(pair: Any, table: str) -> tuple[Any, Any]:
    sql = f"SELECT * FROM {table}"
    return run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)


def _tables(table: str) -> list[str]:
    return [t.strip() for t in table.split(",")]


def _tag_count(tag: str) -> str:
    """The row count of a command tag (INSERT 0 3 -> 3), or the tag itself."""
    parts = tag.split()
    return parts[-1] if parts and parts[-1].isdigit() else tag


XFAIL: dict[str, str] = {}


def _param(s: tuple[str, str, list[str]]):  # -> pytest.ParameterSet
    marks = [pytest.mark.xfail(reason=XFAIL[s[0]], strict=True)] if s[0] in XFAIL else []
    return pytest.param(s, id=s[0], marks=marks)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_dml(pair: Any, scenario: tuple[str, str, list[str]]) -> None:
    import psycopg

    from sql.errors import SqlError

    _id, table, statements = scenario
    threshold = pair.pg.prepare_threshold
    pair.pg.prepare_threshold = None  # (a table made again with other columns: no prepared SELECT *)
    try:
        for i, sql in enumerate(statements):
            where = f"step {i}: {sql}"
            try:
                cur = pair.pg.execute(sql)
                pg_state, pg_tag = None, cur.statusmessage or ""
            except psycopg.Error as exc:
                pg_state, pg_tag = exc.sqlstate, ""
            try:
                stmt = pair.ts.prepare(sql, [])
                result = pair.ts.execute(stmt, [])
                for _ in result.batches:
                    pass
                ts_state, ts_tag = None, result.tag
            except SqlError as exc:
                ts_state, ts_tag = exc.sqlstate, ""
            assert ts_state == pg_state, (
                f"{where}\nPostgreSQL {pg_state or pg_tag}, tsgres {ts_state or ts_tag}"
            )
            if pg_state is None and not sql.startswith("CREATE"):
                assert _tag_count(ts_tag) == _tag_count(pg_tag), f"{where}\ntags: {pg_tag!r} vs {ts_tag!r}"
            for name in _tables(table):
                pg, ts = _table(pair, name)
                diff = differences(f"SELECT * FROM {name}", pg, ts)
                assert not diff, f"{where}\n{name}:\n" + "\n".join(diff)
    finally:
        pair.pg.prepare_threshold = threshold
        for name in _tables(table):
            pair.pg.execute(f"DROP TABLE IF EXISTS {name}")
            stmt = pair.ts.prepare(f"DROP TABLE IF EXISTS {name}", [])
            pair.ts.execute(stmt, [])
