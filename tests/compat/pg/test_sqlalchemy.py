"""SQLAlchemy 2 (psycopg 3 dialect) and pandas against tsgres: reflection, Core, read_sql, to_sql.

Expected column types and values are what the same calls give on PostgreSQL 15, with one documented
difference: a table's first timestamp column is its time column and so NOT NULL (docs/sql.md), while
PostgreSQL leaves the column pandas creates nullable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.compat.pg.conftest import PgServer, require

try:
    import pandas as pd
    import sqlalchemy as sa
except ImportError:  # CI installs both (.ci/run)
    pd = sa = None  # type: ignore[assignment]

UTC = dt.UTC


@pytest.fixture(scope="module")
def engine(pg_server: PgServer) -> Iterator[sa.Engine]:
    require(sa is not None and pd is not None, "sqlalchemy and pandas")
    require(sa.__version__.split(".")[0] == "2", f"SQLAlchemy 2 (found {sa.__version__})")
    db = pg_server.database("sqlalchemy")
    eng = sa.create_engine(f"postgresql+psycopg://postgres@{pg_server.host}:{pg_server.port}/{db}")
    with eng.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE cpu (time timestamptz NOT NULL, host varchar(20), usage double precision,"
                " cores int, up boolean)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO cpu VALUES ('2024-01-01 00:00:00+00', 'a', 0.5, 4, true),"
                " ('2024-01-01 00:00:10+00', 'b', 0.75, 8, false)"
            )
        )
    yield eng
    eng.dispose()


def _columns(eng: sa.Engine, table: str) -> list[tuple[str, str, bool]]:
    return [(c["name"], repr(c["type"]), c["nullable"]) for c in sa.inspect(eng).get_columns(table)]


def test_inspector(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    assert "public" in insp.get_schema_names()
    assert insp.get_table_names() == ["cpu"]
    assert insp.has_table("cpu") and not insp.has_table("nope")
    assert _columns(engine, "cpu") == [
        ("time", "TIMESTAMP(timezone=True)", False),
        ("host", "VARCHAR(length=20)", True),
        ("usage", "DOUBLE_PRECISION(precision=53)", True),
        ("cores", "INTEGER()", True),
        ("up", "BOOLEAN()", True),
    ]
    assert insp.get_pk_constraint("cpu")["constrained_columns"] == []
    assert insp.get_indexes("cpu") == []
    assert insp.get_foreign_keys("cpu") == []
    assert insp.get_view_names() == []


def test_server_defaults_round_trip(engine: sa.Engine) -> None:
    """create_all writes server_default as DEFAULT; the inspector reads back PostgreSQL's text of
    each (what Alembic's autogenerate compares), and an INSERT without the columns takes them."""
    md = sa.MetaData()
    t = sa.Table(
        "sensor",
        md,
        sa.Column("time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("site", sa.Text, nullable=False, server_default="north"),
        sa.Column("level", sa.Integer, server_default=sa.text("3")),
        sa.Column("ok", sa.Boolean, server_default=sa.true()),
        sa.Column("reading", sa.Float),
    )
    md.create_all(engine)
    try:
        got = {c["name"]: c["default"] for c in sa.inspect(engine).get_columns("sensor")}
        assert got == {"time": "now()", "site": "'north'::text", "level": "3", "ok": "true", "reading": None}
        with engine.begin() as conn:
            conn.execute(t.insert().values(reading=1.5))
            row = conn.execute(sa.select(t.c.site, t.c.level, t.c.ok, t.c.reading)).one()
        assert tuple(row) == ("north", 3, True, 1.5)
    finally:
        md.drop_all(engine)


def test_foreign_keys_round_trip(engine: sa.Engine) -> None:
    """A ForeignKey from a hypertable-like table to a metadata table: create_all makes it, the
    inspector reads it back (pg_constraint and pg_get_constraintdef, as SQLAlchemy parses them), and
    a row naming an unknown key is refused (IntegrityError: 23503)."""
    md = sa.MetaData()
    sa.Table("site", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
    reading = sa.Table(
        "reading",
        md,
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id", ondelete="RESTRICT")),
        sa.Column("v", sa.Float),
    )
    md.create_all(engine)
    try:
        (fk,) = sa.inspect(engine).get_foreign_keys("reading")
        assert (fk["name"], fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]) == (
            "reading_site_id_fkey",
            ["site_id"],
            "site",
            ["id"],
        )
        assert fk["options"] == {"ondelete": "RESTRICT"}
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO site VALUES (1, 'north')"))
            conn.execute(reading.insert().values(time=dt.datetime(2024, 1, 1, tzinfo=UTC), site_id=1, v=1.0))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(reading.insert().values(time=dt.datetime(2024, 1, 1, tzinfo=UTC), site_id=2, v=1.0))
    finally:
        md.drop_all(engine)


def test_identity_keys_round_trip(engine: sa.Engine) -> None:
    """An ORM table keyed by an Identity() column (SQLAlchemy 2's way, as Django's AutoField is):
    create_all declares it GENERATED BY DEFAULT AS IDENTITY, inserts get their ids back from RETURNING,
    and the inspector reflects the identity with its sequence options."""
    md = sa.MetaData()
    note = sa.Table(
        "note",
        md,
        sa.Column("id", sa.BigInteger, sa.Identity(start=10, increment=5), primary_key=True),
        sa.Column("body", sa.Text),
    )
    md.create_all(engine)
    try:
        with engine.begin() as conn:
            ids = (
                conn.execute(note.insert().returning(note.c.id), [{"body": "a"}, {"body": "b"}])
                .scalars()
                .all()
            )
            assert sorted(ids) == [10, 15]
            assert conn.execute(sa.select(note.c.body).where(note.c.id == 15)).scalar_one() == "b"
        (col, _body) = sa.inspect(engine).get_columns("note")
        assert col["name"] == "id" and col["nullable"] is False and col["default"] is None
        assert col["identity"]["always"] is False
        assert (col["identity"]["start"], col["identity"]["increment"]) == (10, 5)
    finally:
        md.drop_all(engine)


def test_core_reflection_and_parameters(engine: sa.Engine) -> None:
    cpu = sa.Table("cpu", sa.MetaData(), autoload_with=engine)
    assert [c.name for c in cpu.columns] == ["time", "host", "usage", "cores", "up"]
    query = (
        sa.select(cpu.c.host, cpu.c.usage, cpu.c.time)
        .where(cpu.c.cores > sa.bindparam("c"), cpu.c.time >= dt.datetime(2024, 1, 1, tzinfo=UTC))
        .order_by(cpu.c.time)
    )
    with engine.connect() as conn:
        assert conn.execute(query, {"c": 5}).all() == [
            ("b", 0.75, dt.datetime(2024, 1, 1, 0, 0, 10, tzinfo=UTC))
        ]
        total = conn.execute(sa.select(sa.func.sum(cpu.c.cores), sa.func.avg(cpu.c.usage))).one()
        assert tuple(total) == (12, 0.625)


def test_pandas_read_sql(engine: sa.Engine) -> None:
    df = pd.read_sql("SELECT * FROM cpu ORDER BY time", engine)
    assert list(df.columns) == ["time", "host", "usage", "cores", "up"]
    assert str(df["time"].dtype).endswith(", UTC]") and df["usage"].dtype == "float64"
    assert df["cores"].dtype == "int64" and df["up"].dtype == "bool"
    assert df.to_dict("list") == {
        "time": [
            pd.Timestamp("2024-01-01 00:00:00", tz="UTC"),
            pd.Timestamp("2024-01-01 00:00:10", tz="UTC"),
        ],
        "host": ["a", "b"],
        "usage": [0.5, 0.75],
        "cores": [4, 8],
        "up": [True, False],
    }
    hosts = pd.read_sql(sa.text("SELECT host, usage FROM cpu WHERE cores > :c"), engine, params={"c": 5})
    assert hosts.to_dict("list") == {"host": ["b"], "usage": [0.75]}


def test_pandas_to_sql_and_back(engine: sa.Engine) -> None:
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-02-01", periods=5, freq="min", tz="UTC"),
            "name": ["a", "b", "c", "d", "é"],
            "val": [0.0, 1.5, 3.0, -4.5, 1e300],
            "cnt": pd.array([0, 1, 2**40, -3, 4], dtype="int64"),
            "flag": [True, False, True, False, True],
        }
    )
    frame.to_sql("frame", engine, index=False)  # CREATE TABLE through our DDL, INSERT through our DML
    assert _columns(engine, "frame") == [
        ("time", "TIMESTAMP(timezone=True)", True),  # declared without NOT NULL: nullable, as on PostgreSQL
        ("name", "TEXT()", True),
        ("val", "DOUBLE_PRECISION(precision=53)", True),
        ("cnt", "BIGINT()", True),
        ("flag", "BOOLEAN()", True),
    ]
    back = pd.read_sql("SELECT * FROM frame ORDER BY time", engine)
    assert back.to_dict("list") == frame.to_dict("list")
    assert pd.read_sql_table("frame", engine).sort_values("time").to_dict("list") == frame.to_dict("list")

    frame.to_sql("frame", engine, index=False, if_exists="append", method="multi", chunksize=2)
    assert pd.read_sql("SELECT count(*) AS n, sum(cnt) AS s FROM frame", engine).to_dict("list") == {
        "n": [10],
        "s": [2 * (2**40 + 2)],
    }
    # replace: SQLAlchemy reflects the table (current_setting with a bound name) and drops it
    frame.head(2).to_sql("frame", engine, index=False, if_exists="replace")
    assert pd.read_sql("SELECT name FROM frame ORDER BY time", engine)["name"].tolist() == ["a", "b"]
