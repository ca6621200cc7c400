"""psql 15's ``\\d`` of TimescaleDB's getting-started schema against ``tsgres serve``: defaults,
CHECK constraints, foreign keys and what references a table, as PostgreSQL 15 prints them (the
footers psql shows only when the catalog says there is something: relchecks, relhastriggers)."""

from __future__ import annotations

from tests.compat.pg.conftest import PgServer
from tests.compat.pg.test_comments import _psql

SCHEMA = (
    "CREATE TABLE sensors (id serial PRIMARY KEY, type varchar(50) DEFAULT 'probe', location varchar(50))",
    "CREATE TABLE sensor_data (time timestamptz NOT NULL, sensor_id int,"
    " temperature double precision CONSTRAINT sane CHECK (temperature < 1000),"
    " FOREIGN KEY (sensor_id) REFERENCES sensors (id))",
    "SELECT create_hypertable('sensor_data', 'time')",
)


def test_psql_describes_defaults_checks_and_foreign_keys(pg_server: PgServer) -> None:
    db = pg_server.database("describe_psql")
    with pg_server.connect(db) as conn:
        for sql in SCHEMA:
            conn.execute(sql)
    sensors = _psql(pg_server, db, r"\d sensors").splitlines()
    assert "id|integer||not null|nextval('sensors_id_seq'::regclass)" in sensors
    assert "type|character varying(50)|||'probe'::character varying" in sensors
    assert sensors[sensors.index("Referenced by:") + 1] == (
        '    TABLE "sensor_data" CONSTRAINT "sensor_data_sensor_id_fkey" FOREIGN KEY (sensor_id)'
        " REFERENCES sensors(id)"
    )
    data = _psql(pg_server, db, r"\d sensor_data").splitlines()
    assert data[data.index("Check constraints:") + 1] == '    "sane" CHECK ((temperature < 1000))'
    assert data[data.index("Foreign-key constraints:") + 1] == (
        '    "sensor_data_sensor_id_fkey" FOREIGN KEY (sensor_id) REFERENCES sensors(id)'
    )
