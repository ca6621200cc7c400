"""COMMENT ON through real clients against ``tsgres serve``: SQLAlchemy's create_all emits it for
``comment=`` and its inspector reads the descriptions back; psql 15 shows them in ``\\d+``, ``\\dt+``,
``\\dv+``, ``\\dn+`` and ``\\l+``. Expected outputs are what the same commands give on PostgreSQL 15.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.compat.pg.conftest import PgServer, psql_output, require, sqlalchemy_engine

try:
    import sqlalchemy as sa
except ImportError:  # CI installs it (.ci/run)
    sa = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def engine(pg_server: PgServer) -> Iterator[sa.Engine]:
    yield from sqlalchemy_engine(pg_server, "comments_sqlalchemy")  # type: ignore[misc]


def test_sqlalchemy_create_all_comments_and_inspector(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    sa.Table(
        "readings",
        meta,
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device", sa.Text, comment="the device's serial number"),
        sa.Column("value", sa.Float, comment="degrees Celsius, it's calibrated"),
        sa.Column("raw", sa.Integer),
        comment="one row per sensor reading",
    )
    meta.create_all(engine)  # CREATE TABLE, then COMMENT ON TABLE / COLUMN
    insp = sa.inspect(engine)
    assert insp.get_table_comment("readings") == {"text": "one row per sensor reading"}
    comments = {c["name"]: c.get("comment") for c in insp.get_columns("readings")}
    assert comments == {
        "time": None,
        "device": "the device's serial number",
        "value": "degrees Celsius, it's calibrated",
        "raw": None,
    }
    # Alembic's alter_column(..., comment=None) and drop_table_comment
    with engine.begin() as conn:
        conn.execute(sa.text("COMMENT ON COLUMN readings.device IS NULL"))
        conn.execute(sa.text("COMMENT ON TABLE readings IS NULL"))
    insp = sa.inspect(engine)
    assert insp.get_table_comment("readings") == {"text": None}
    assert [c.get("comment") for c in insp.get_columns("readings")][1:3] == [
        None,
        "degrees Celsius, it's calibrated",
    ]
    meta.drop_all(engine)


@pytest.fixture(scope="module")
def described(pg_server: PgServer) -> str:
    db = pg_server.database("comments_psql")
    with pg_server.connect(db) as conn:
        for sql in (
            "CREATE TABLE m (time timestamptz NOT NULL, host text, usage double precision)",
            "COMMENT ON TABLE m IS 'cpu usage per host'",
            "COMMENT ON COLUMN m.usage IS 'percent busy'",
            "COMMENT ON COLUMN m.host IS 'host name'",
            "CREATE VIEW v AS SELECT time, usage FROM m",
            "COMMENT ON VIEW v IS 'usage only'",
            "CREATE SCHEMA archive",
            "COMMENT ON SCHEMA archive IS 'old data'",
            "COMMENT ON DATABASE comments_psql IS 'psql describes me'",
        ):
            conn.execute(sql)
    return db


def test_psql_describe_table_shows_column_descriptions(pg_server: PgServer, described: str) -> None:
    lines = psql_output(pg_server, described, r"\d+ m").splitlines()
    assert lines[0] == 'Table "public.m"'
    header = lines[1].split("|")
    assert header[-1] == "Description"
    rows = {r.split("|")[0]: r.split("|")[-1] for r in lines[2:5]}
    assert rows == {"time": "", "host": "host name", "usage": "percent busy"}


def test_psql_lists_descriptions(pg_server: PgServer, described: str) -> None:
    tables = psql_output(pg_server, described, r"\dt+").splitlines()
    assert tables[1].split("|")[-1] == "Description"
    assert tables[2].split("|")[1] == "m" and tables[2].split("|")[-1] == "cpu usage per host"
    views = psql_output(pg_server, described, r"\dv+").splitlines()
    assert views[2].split("|")[1] == "v" and views[2].split("|")[-1] == "usage only"
    # public's ACL has two items, one a line (as PostgreSQL 15's psql prints it): a row may span lines
    fields: list[str] = []
    schemas = {}
    for r in psql_output(pg_server, described, r"\dn+").splitlines()[2:-1]:
        fields = (
            fields[:-1] + [fields[-1] + "\n" + r.split("|")[0], *r.split("|")[1:]] if fields else r.split("|")
        )
        if len(fields) == 4:
            schemas[fields[0]] = fields[-1]
            fields = []
    assert (schemas["archive"], schemas["public"]) == ("old data", "standard public schema")
    databases = {
        r.split("|")[0]: r.split("|")[-1]
        for r in psql_output(pg_server, "postgres", r"\l+").splitlines()[2:-1]
    }
    assert databases[described] == "psql describes me"
    assert databases["postgres"] == "default administrative connection database"


def test_unknown_database_is_a_warning(pg_server: PgServer, described: str) -> None:
    """As in PostgreSQL: COMMENT ON DATABASE of one that does not exist warns and succeeds."""
    with pg_server.connect(described) as conn:
        seen = []
        conn.add_notice_handler(lambda d: seen.append((d.severity, d.sqlstate, d.message_primary)))
        cur = conn.execute("COMMENT ON DATABASE no_such_database IS 'x'")
        assert cur.statusmessage == "COMMENT"
    assert seen == [("WARNING", "3D000", 'database "no_such_database" does not exist')]


def test_alembic_comment_operations(engine: sa.Engine) -> None:
    """Alembic's comment operations (create_table with comment=, alter_column(comment=...),
    create_table_comment, drop_table_comment), as a migration runs them."""
    try:
        from alembic.migration import MigrationContext
        from alembic.operations import Operations
    except ImportError:
        require(False, "alembic")
    with engine.begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        op.create_table(
            "assets",
            sa.Column("time", sa.DateTime(timezone=True), nullable=False),
            sa.Column("reading", sa.Float, comment="raw reading"),
            comment="tracked assets",
        )
        op.alter_column("assets", "reading", comment="the sensor's reading", existing_type=sa.Float)
        op.create_table_comment("assets", "all assets", existing_comment="tracked assets")
    insp = sa.inspect(engine)
    assert insp.get_table_comment("assets") == {"text": "all assets"}
    assert [c.get("comment") for c in insp.get_columns("assets")] == [None, "the sensor's reading"]
    with engine.begin() as conn:
        Operations(MigrationContext.configure(conn)).alter_column(
            "assets", "reading", new_column_name="value"
        )
    comments = {c["name"]: c.get("comment") for c in sa.inspect(engine).get_columns("assets")}
    assert comments == {"time": None, "value": "the sensor's reading"}  # the comment follows the column
    with engine.begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        op.drop_table_comment("assets", existing_comment="all assets")
        op.alter_column(
            "assets", "value", comment=None, existing_comment="the sensor's reading", existing_type=sa.Float
        )
    insp = sa.inspect(engine)
    assert insp.get_table_comment("assets") == {"text": None}
    assert [c.get("comment") for c in insp.get_columns("assets")] == [None, None]
    with engine.begin() as conn:
        Operations(MigrationContext.configure(conn)).drop_table("assets")
