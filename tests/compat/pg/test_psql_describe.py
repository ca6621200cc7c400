"""psql 15's ``\\d``, ``\\ds``, ``\\du`` and ``\\dp`` against ``tsgres serve``, as PostgreSQL 15 prints them:
TimescaleDB's getting-started schema (defaults, CHECK constraints, foreign keys and what references
a table: footers psql shows only when the catalog says there is something, relchecks and
relhastriggers), and sequences (the list, a sequence's options, the column a SERIAL's sequence is
owned by), with nextval over the wire per row and per session, roles (`\\du`: attributes and
memberships), table privileges (`\\dp`: relacl one aclitem a line) and `\\dt` of a session with
temporary tables (its own listed, shadowing permanent ones; other sessions' not)."""

from __future__ import annotations

import re

from tests.compat.pg.conftest import PgServer, psql_output

SCHEMA = (
    "CREATE TABLE sensors (id serial PRIMARY KEY, type varchar(50) DEFAULT 'probe', location varchar(50))",
    "CREATE TABLE sensor_data (time timestamptz NOT NULL, sensor_id int,"
    " temperature double precision CONSTRAINT sane CHECK (temperature < 1000),"
    " FOREIGN KEY (sensor_id) REFERENCES sensors (id))",
    "SELECT create_hypertable('sensor_data', 'time')",
)


def _created(pg_server: PgServer, name: str, statements: tuple[str, ...]) -> str:
    db = pg_server.database(name)
    with pg_server.connect(db) as conn:
        for sql in statements:
            conn.execute(sql)
    return db


def test_psql_describes_defaults_checks_and_foreign_keys(pg_server: PgServer) -> None:
    db = _created(pg_server, "describe_psql", SCHEMA)
    sensors = psql_output(pg_server, db, r"\d sensors").splitlines()
    assert "id|integer||not null|nextval('sensors_id_seq'::regclass)" in sensors
    assert "type|character varying(50)|||'probe'::character varying" in sensors
    assert sensors[sensors.index("Referenced by:") + 1] == (
        '    TABLE "sensor_data" CONSTRAINT "sensor_data_sensor_id_fkey" FOREIGN KEY (sensor_id)'
        " REFERENCES sensors(id)"
    )
    data = psql_output(pg_server, db, r"\d sensor_data").splitlines()
    assert data[data.index("Check constraints:") + 1] == '    "sane" CHECK ((temperature < 1000))'
    assert data[data.index("Foreign-key constraints:") + 1] == (
        '    "sensor_data_sensor_id_fkey" FOREIGN KEY (sensor_id) REFERENCES sensors(id)'
    )


SEQUENCES = (
    "CREATE SEQUENCE order_no AS integer INCREMENT BY 10 START WITH 1000 MAXVALUE 9999 CYCLE",
    "CREATE TABLE orders (id bigserial, no int DEFAULT nextval('order_no'), item text)",
)


def test_psql_lists_and_describes_sequences(pg_server: PgServer) -> None:
    db = _created(pg_server, "sequences_psql", SEQUENCES)
    with pg_server.connect(db) as conn:
        conn.execute("INSERT INTO orders (item) VALUES ('a'), ('b')")
        assert conn.execute("SELECT id, no FROM orders ORDER BY id").fetchall() == [(1, 1000), (2, 1010)]
        assert conn.execute("SELECT nextval(%s) FROM generate_series(1, 2)", ["order_no"]).fetchall() == [
            (1020,),
            (1030,),
        ]
        with pg_server.connect(db) as other:
            assert other.execute("SELECT nextval('order_no')").fetchone() == (1040,)
        assert conn.execute("SELECT currval('order_no')").fetchone() == (1030,)
    listed = psql_output(pg_server, db, r"\ds").splitlines()
    assert "public|order_no|sequence|postgres" in listed
    assert "public|orders_id_seq|sequence|postgres" in listed
    own = psql_output(pg_server, db, r"\d order_no").splitlines()
    assert own[0] == 'Sequence "public.order_no"'
    assert "integer|1000|1|9999|10|yes|1" in own
    serial = psql_output(pg_server, db, r"\d orders_id_seq").splitlines()
    assert "bigint|1|1|9223372036854775807|1|no|1" in serial
    assert "Owned by: public.orders.id" in serial
    table = psql_output(pg_server, db, r"\d orders").splitlines()
    assert "no|integer|||nextval('order_no'::regclass)" in table
    with pg_server.connect(db) as conn:
        conn.execute("COMMENT ON SEQUENCE order_no IS 'order numbers'")
    described = psql_output(pg_server, db, r"\ds+ order_no").splitlines()
    assert described[1].split("|")[-1] == "Description"
    assert described[2].split("|")[-1] == "order numbers"


def test_psql_lists_roles_and_access_privileges(pg_server: PgServer) -> None:
    db = _created(pg_server, "roles_psql", ("CREATE TABLE readings (time timestamptz NOT NULL, v float8)",))
    with pg_server.connect(db) as conn:
        conn.execute("CREATE ROLE psql_readers NOLOGIN")
        conn.execute("CREATE USER psql_reader WITH PASSWORD 'x' CREATEDB")
        conn.execute("GRANT psql_readers TO psql_reader")
        conn.execute("GRANT SELECT ON readings TO psql_readers")
        conn.execute("GRANT SELECT, INSERT ON readings TO psql_reader")
    try:
        roles = psql_output(pg_server, db, r"\du psql_*").splitlines()
        assert "psql_reader|Create DB|{psql_readers}" in roles
        assert "psql_readers|Cannot login|{}" in roles
        access = psql_output(pg_server, db, r"\dp readings").splitlines()
        assert access[2:6] == [
            "public|readings|table|postgres=arwdDxt/postgres",
            "psql_readers=r/postgres",
            "psql_reader=ar/postgres||",
            "(1 row)",
        ], access
    finally:
        with pg_server.connect(db) as conn:
            conn.execute("DROP TABLE readings")
            conn.execute("DROP ROLE psql_reader, psql_readers")


def test_psql_lists_the_sessions_own_temporary_tables(pg_server: PgServer) -> None:
    """psql's \\dt filters with pg_table_is_visible: the session's temporary tables are listed, in
    its pg_temp_N, and the permanent table one of them shadows is not; another session's are not."""
    db = _created(
        pg_server,
        "temp_psql",
        ("CREATE TABLE readings (time timestamptz NOT NULL, v float8)", "CREATE TABLE shared (a int)"),
    )
    with pg_server.connect(db) as other:
        other.execute("CREATE TEMP TABLE others_only (a int)")
        listed = psql_output(
            pg_server, db, "CREATE TEMP TABLE readings (v int)", "CREATE TEMP TABLE scratch (a int)", r"\dt"
        ).splitlines()
    rows = [line for line in listed if line.count("|") == 3 and not line.startswith("Schema|")]
    assert len(rows) == 3, listed
    assert re.fullmatch(r"pg_temp_\d+\|readings\|table\|postgres", rows[0]), listed
    assert re.fullmatch(r"pg_temp_\d+\|scratch\|table\|postgres", rows[1]), listed
    assert rows[0].split("|")[0] == rows[1].split("|")[0]
    assert rows[2] == "public|shared|table|postgres"
