"""Enum types through real clients: SQLAlchemy 2 (psycopg 3) creates a table with ``sa.Enum`` (its
CREATE TYPE first), writes and reads it in the labels' order and reflects it (get_enums,
get_columns); psql 15 shows the type in ``\\dT+`` and the column in ``\\d``. Expected values are
what the same calls give on PostgreSQL 15."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.compat.pg.conftest import PgServer, psql_output, sqlalchemy_engine

try:
    import sqlalchemy as sa
except ImportError:  # CI installs it (.ci/run)
    sa = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def engine(pg_server: PgServer) -> Iterator[sa.Engine]:
    yield from sqlalchemy_engine(pg_server, "enums")  # type: ignore[misc]


def test_sa_enum_create_write_read_reflect(engine: sa.Engine) -> None:
    md = sa.MetaData()
    status = sa.Enum("queued", "running", "done", "failed", name="job_status")
    jobs = sa.Table(
        "jobs",
        md,
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("status", status, nullable=False),
    )
    md.create_all(engine)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            jobs.insert(),
            [
                {"time": t0, "name": "a", "status": "failed"},
                {"time": t0 + dt.timedelta(seconds=1), "name": "b", "status": "queued"},
                {"time": t0 + dt.timedelta(seconds=2), "name": "c", "status": "done"},
            ],
        )
        with pytest.raises(sa.exc.DataError):  # 22P02
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO jobs VALUES (now(), 'd', 'lost')"))
    with engine.connect() as conn:
        ordered = conn.execute(sa.select(jobs.c.name, jobs.c.status).order_by(jobs.c.status)).all()
        assert ordered == [("b", "queued"), ("c", "done"), ("a", "failed")]
        after = conn.execute(sa.select(jobs.c.name).where(jobs.c.status > "running").order_by(jobs.c.name))
        assert after.scalars().all() == ["a", "c"]
    insp = sa.inspect(engine)
    assert insp.get_enums() == [
        {
            "name": "job_status",
            "schema": "public",
            "visible": True,
            "labels": ["queued", "running", "done", "failed"],
        }
    ]
    columns = {c["name"]: c for c in insp.get_columns("jobs")}
    reflected = columns["status"]["type"]
    assert isinstance(reflected, sa.Enum)
    assert reflected.name == "job_status" and reflected.enums == ["queued", "running", "done", "failed"]
    assert columns["status"]["nullable"] is False
    md.drop_all(engine)  # the table, then DROP TYPE job_status
    assert sa.inspect(engine).get_enums() == []


def test_psql_describes_enum_types(pg_server: PgServer) -> None:
    db = pg_server.database("enums_psql")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        conn.execute("CREATE TABLE feelings (time timestamptz NOT NULL, m mood)")
    types = psql_output(pg_server, db, r"\dT+").splitlines()
    assert types[1].split("|")[:5] == ["Schema", "Name", "Internal name", "Size", "Elements"]
    # the labels, one a line, in the order of declaration
    assert types[2] == "public|mood|mood|4|sad" and types[3] == "ok" and types[4].startswith("happy|")
    table = psql_output(pg_server, db, r"\d feelings").splitlines()
    assert table[3].split("|")[:2] == ["m", "mood"]
