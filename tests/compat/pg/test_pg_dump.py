"""pg_dump 15 backs up a tsgres database, and what it writes restores: the plain format with psql and
the custom format with pg_restore, into a fresh tsgres database and into a real PostgreSQL 15. The
schema covers ordinary tables, a hypertable, a table with tag columns, the column types tsgres keeps,
NOT NULL, DEFAULTs, CHECK / PRIMARY KEY / UNIQUE / FOREIGN KEY constraints, sequences (one owned by a
SERIAL column, one a default calls), an enum type, a view, comments and a grant. Each restored
database is compared with the source by querying both.

What does not survive (docs/sql.md, "pg_dump"): a hypertable comes back as a plain table (pg_dump writes
no create_hypertable call), and a table's tag columns are those the restoring server picks by default.
PostgreSQL prints definitions in its own normal form (``(1000)::double precision``, qualified names);
for it defaults and CHECKs are compared without casts and parentheses.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.compat.pg.conftest import PgServer, require_command
from tests.sql.conftest import PgServer as RealPg
from tests.sql.conftest import running_pg

ROLE = "pgdump_reader"
SCHEMA = (
    f"CREATE ROLE {ROLE} NOLOGIN",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE SEQUENCE order_no AS integer INCREMENT BY 10 START WITH 1000",
    "CREATE TABLE sensors (id serial PRIMARY KEY, name varchar(50) NOT NULL UNIQUE,"
    " kind text DEFAULT 'probe', m mood DEFAULT 'ok', created date)",
    "CREATE TABLE readings (time timestamptz NOT NULL, sensor_id int REFERENCES sensors (id),"
    " location text, temperature double precision CONSTRAINT sane CHECK (temperature < 1000),"
    " humidity real, count bigint, ok boolean, no int DEFAULT nextval('order_no'))",
    "SELECT create_hypertable('readings', 'time')",
    "CREATE TABLE metrics (time timestamptz NOT NULL, host text NOT NULL, region varchar(20),"
    " cpu double precision, small smallint DEFAULT 7, price numeric(10,2), at timestamp, id uuid,"
    " doc jsonb) WITH (tags = 'host,region')",
    "CREATE INDEX readings_by_location ON readings (location, time DESC) WHERE location IS NOT NULL",
    "CREATE UNIQUE INDEX ON sensors (kind, created)",
    "CREATE VIEW hot AS SELECT time, sensor_id, temperature FROM readings WHERE temperature > 30",
    "COMMENT ON TABLE sensors IS 'the sensors'",
    "COMMENT ON COLUMN sensors.name IS 'unique name'",
    "COMMENT ON VIEW hot IS 'hot readings'",
    f"GRANT SELECT ON sensors TO {ROLE}",
    "INSERT INTO sensors (name, m, created) VALUES ('a', 'happy', '2024-01-02'), ('b', DEFAULT, NULL),"
    " ('it''s', NULL, '2020-02-29')",
    "INSERT INTO readings (time, sensor_id, location, temperature, humidity, count, ok) VALUES"
    " ('2024-01-01 00:00:00+00', 1, 'x', 20.5, 0.5, 10, true),"
    " ('2024-01-01 00:01:00+00', 2, NULL, 35.25, NULL, -3, false),"
    " ('2024-02-01 00:00:00.123456+00', 1, E'tab\\tquote\"', NULL, 1.5, NULL, NULL)",
    "INSERT INTO metrics VALUES ('2024-03-01 10:00:00+00', 'h1', 'eu', 0.5, 1, 12.34, '2024-03-01 11:00:00',"
    " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}'),"
    " ('2024-03-01 10:00:10+00', 'h2', NULL, NULL, DEFAULT, NULL, NULL, NULL, NULL)",
)
TABLES = ("sensors", "readings", "metrics", "hot")

# what both servers answer alike, through the catalog a restore recreates
COLUMNS = (
    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
    " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped"
    " ORDER BY c.relname, a.attnum"
)
CONSTRAINTS = (
    "SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid) FROM pg_constraint con"
    " JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = con.connamespace"
    " WHERE n.nspname = 'public' ORDER BY 1, 2"
)
SEQUENCES = (
    "SELECT sequencename, data_type::text, start_value, increment_by, last_value FROM pg_sequences"
    " WHERE schemaname = 'public' ORDER BY 1"
)
OWNED = "SELECT pg_get_serial_sequence('sensors', 'id')"
ENUMS = (
    "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY 1,"
    " e.enumsortorder"
)
COMMENTS = (
    "SELECT c.relname, d.objsubid, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.classoid = 1259 AND n.nspname = 'public'"
    " ORDER BY 1, 2"
)
GRANTS = (
    "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants"
    f" WHERE grantee = '{ROLE}' ORDER BY 2, 3"
)
VIEWS = "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1"
INDEXES = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"
SCHEMA_QUERIES = (COLUMNS, CONSTRAINTS, SEQUENCES, OWNED, ENUMS, COMMENTS, GRANTS, VIEWS, INDEXES)


@pytest.fixture(scope="module")
def real_pg() -> Iterator[RealPg]:
    for server in running_pg():
        with server.connect() as conn:
            conn.execute(f"CREATE ROLE {ROLE} NOLOGIN")
        yield server


@pytest.fixture(scope="module")
def source(pg_server: PgServer) -> str:
    """The database pg_dump backs up."""
    require_command("pg_dump")
    db = pg_server.database("dump_source")
    with pg_server.connect(db) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
        for sql in SCHEMA:
            conn.execute(sql)
    return db


def _env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PG")}, "PGCONNECT_TIMEOUT": "10"}


def _run(argv: list[str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=_env(), check=False)
    assert out.returncode == 0, f"{' '.join(argv)}\n{out.stderr}"
    assert "ERROR" not in out.stderr, out.stderr
    return out.stdout


def _conn_args(host: str, port: int, db: str) -> list[str]:
    return ["-h", host, "-p", str(port), "-U", "postgres", "-d", db]


def _dump(pg_server: PgServer, db: str, path: Path, fmt: str) -> None:
    _run(
        [
            require_command("pg_dump"),
            *_conn_args(pg_server.host, pg_server.port, db),
            f"-F{fmt}",
            "-f",
            str(path),
        ]
    )


def _restore(host: str, port: int, db: str, path: Path, fmt: str) -> None:
    if fmt == "p":
        _run(
            [
                require_command("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                *_conn_args(host, port, db),
                "-f",
                str(path),
            ]
        )
    else:
        _run([require_command("pg_restore"), "--exit-on-error", *_conn_args(host, port, db), str(path)])


def _answers(conn: psycopg.Connection) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    out = {q: conn.execute(q).fetchall() for q in SCHEMA_QUERIES}
    for t in TABLES:
        rows = conn.execute(f"SELECT * FROM {t}").fetchall()
        out[t] = sorted(rows, key=repr)
    return out


def _loose(value: object) -> object:
    """A definition without casts and parentheses: PostgreSQL writes ``(1000)::double precision``."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\s+", " ", re.sub(r"::[\w ]+?(?=[),]|$)|[()]|\bpublic\.", "", value)).strip()


def _loosened(answers: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {
        q: [tuple(_loose(v) for v in row) if q in (COLUMNS, CONSTRAINTS) else row for row in rows]
        for q, rows in answers.items()
    }


@pytest.mark.parametrize("fmt", ["p", "c"])
def test_dump_restores_into_tsgres(pg_server: PgServer, source: str, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"dump.{fmt}"
    _dump(pg_server, source, path, fmt)
    target = pg_server.database(f"dump_restored_{fmt}")
    _restore(pg_server.host, pg_server.port, target, path, fmt)
    with pg_server.connect(source) as a, pg_server.connect(target) as b:
        want, got = _answers(a), _answers(b)
        for q in want:
            assert got[q] == want[q], (q, got[q], want[q])
        assert a.execute("SELECT hypertable_name FROM timescaledb_information.hypertables").fetchall() == [
            ("readings",)
        ]
        # the documented loss: pg_dump writes no create_hypertable call
        assert b.execute("SELECT hypertable_name FROM timescaledb_information.hypertables").fetchall() == []
        # the restored sequences go on where the source's were
        assert b.execute("SELECT nextval('order_no'), nextval('sensors_id_seq')").fetchone() == (1030, 4)


@pytest.mark.parametrize("fmt", ["p", "c"])
def test_dump_restores_into_postgresql(
    pg_server: PgServer, source: str, real_pg: RealPg, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"dump.{fmt}"
    _dump(pg_server, source, path, fmt)
    target = f"restored_{fmt}"
    with real_pg.connect() as conn:
        conn.execute(f"CREATE DATABASE {target}")
    _restore(real_pg.host, real_pg.port, target, path, fmt)
    with pg_server.connect(source) as a, real_pg.connect(target) as b:
        want, got = _loosened(_answers(a)), _loosened(_answers(b))
        for q in want:
            assert got[q] == want[q], q
        assert b.execute("SELECT nextval('order_no'), nextval('sensors_id_seq')").fetchone() == (1030, 4)


def test_a_hypertable_kept_by_restoring_in_sections(pg_server: PgServer, source: str, tmp_path: Path) -> None:
    """The way docs/sql.md gives to keep a hypertable one: pg_restore the pre-data section, call
    create_hypertable on the empty table, then restore the data and post-data sections."""
    path = tmp_path / "dump.c"
    _dump(pg_server, source, path, "c")
    target = pg_server.database("dump_restored_sections")
    pg_restore = require_command("pg_restore")
    conn = _conn_args(pg_server.host, pg_server.port, target)
    _run([pg_restore, "--exit-on-error", "--section=pre-data", *conn, str(path)])
    with pg_server.connect(target) as b:
        # (the dump's post-data section makes readings_time_idx, which create_hypertable would make)
        b.execute("SELECT create_hypertable('readings', 'time', create_default_indexes => false)")
    _run([pg_restore, "--exit-on-error", "--section=data", "--section=post-data", *conn, str(path)])
    with pg_server.connect(source) as a, pg_server.connect(target) as b:
        assert _answers(b) == _answers(a)
        assert b.execute("SELECT hypertable_name FROM timescaledb_information.hypertables").fetchall() == [
            ("readings",)
        ]
