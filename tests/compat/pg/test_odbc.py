"""psqlODBC (Debian odbc-postgresql on unixODBC) through pyodbc: connect, tables(), columns(), parameters.

The expected metadata is what psqlODBC reports for the same table on PostgreSQL 15 (checked by hand):
booleans come back as '1'/'0' text (psqlODBC's BoolsAsChar default), timestamptz as a naive timestamp
in the session's time zone (UTC), float8 as SQL_FLOAT.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.compat.pg.conftest import PgServer, require

DRIVER = "PostgreSQL Unicode"  # /etc/odbcinst.ini of Debian's odbc-postgresql


@pytest.fixture(scope="module")
def odbc(pg_server: PgServer):  # type: ignore[no-untyped-def]
    try:
        import pyodbc
    except ImportError:
        pyodbc = None
    require(pyodbc, "pyodbc")
    require(DRIVER in pyodbc.drivers(), f"the ODBC driver {DRIVER!r} (Debian odbc-postgresql + unixodbc)")
    db = pg_server.database("odbc")
    with pg_server.connect(db) as conn:
        conn.execute(
            "CREATE TABLE sensors (time timestamptz NOT NULL, name varchar(20), value double precision,"
            " n bigint, flag boolean, note text)"
        )
        conn.execute(
            "INSERT INTO sensors VALUES ('2024-05-01 10:00:00+00', 'a', 1.25, 7, true, 'x'),"
            " ('2024-05-01 10:00:05.5+00', 'b', -2.5, -8, false, NULL)"
        )
    cs = (
        f"Driver={{{DRIVER}}};Server={pg_server.host};Port={pg_server.port};Database={db};"
        "Uid=postgres;Pwd=unused;"
    )
    return pyodbc, cs


def test_odbc_metadata(odbc) -> None:  # type: ignore[no-untyped-def]
    pyodbc, cs = odbc
    with pyodbc.connect(cs, timeout=10) as cn:
        cur = cn.cursor()
        assert cn.getinfo(pyodbc.SQL_DBMS_NAME) == "PostgreSQL"
        assert cn.getinfo(pyodbc.SQL_DBMS_VER).startswith("15.")
        tables = [(r.table_schem, r.table_name, r.table_type) for r in cur.tables(schema="public")]
        assert tables == [("public", "sensors", "TABLE")]
        cols = [
            (r.column_name, r.type_name, r.data_type, r.column_size, r.nullable, r.ordinal_position)
            for r in cur.columns(table="sensors")
        ]
        assert cols == [
            ("time", "timestamptz", pyodbc.SQL_TYPE_TIMESTAMP, 26, 0, 1),
            ("name", "varchar", pyodbc.SQL_WVARCHAR, 20, 1, 2),
            ("value", "float8", pyodbc.SQL_FLOAT, 17, 1, 3),
            ("n", "int8", pyodbc.SQL_BIGINT, 19, 1, 4),
            ("flag", "bool", pyodbc.SQL_VARCHAR, 5, 1, 5),
            ("note", "text", pyodbc.SQL_WLONGVARCHAR, 8190, 1, 6),
        ]
        assert [r.column_name for r in cur.columns(table="sensors", column="n%")] == ["name", "n", "note"]
        assert list(cur.primaryKeys("sensors")) == []


def test_odbc_parameterised_queries(odbc) -> None:  # type: ignore[no-untyped-def]
    pyodbc, cs = odbc
    sql = "SELECT time, name, value, n, flag, note FROM sensors WHERE n > ? AND name <> ? ORDER BY time"
    with pyodbc.connect(cs, timeout=10, autocommit=True) as cn:
        cur = cn.cursor()
        for _ in range(3):  # the same statement handle again: psqlODBC DEALLOCATEs its plan in between
            rows = [tuple(r) for r in cur.execute(sql, -100, "zz").fetchall()]
            assert rows == [
                (dt.datetime(2024, 5, 1, 10, 0), "a", 1.25, 7, "1", "x"),
                (dt.datetime(2024, 5, 1, 10, 0, 5, 500000), "b", -2.5, -8, "0", None),
            ]
        assert [tuple(r) for r in cur.execute("SELECT name, value * ? FROM sensors WHERE n = ?", 2.0, 7)] == [
            ("a", 2.5)
        ]
        cur.execute(
            "INSERT INTO sensors (time, name, value, n) VALUES (?, ?, ?, ?)",
            dt.datetime(2024, 5, 1, 11, 0, 0, 250000),
            "c ü",
            3.5,
            2**53 + 1,
        )
        assert cur.rowcount == 1
        row = cur.execute("SELECT time, name, value, n FROM sensors WHERE name = ?", "c ü").fetchone()
        assert tuple(row) == (dt.datetime(2024, 5, 1, 11, 0, 0, 250000), "c ü", 3.5, 2**53 + 1)
        assert cur.execute("SELECT count(*) FROM sensors").fetchval() == 3


def test_odbc_transaction_and_error(odbc) -> None:  # type: ignore[no-untyped-def]
    pyodbc, cs = odbc
    with pyodbc.connect(cs, timeout=10) as cn:  # autocommit off: psqlODBC runs BEGIN and savepoints
        cur = cn.cursor()
        with pytest.raises(pyodbc.Error, match="42P01"):
            cur.execute("SELECT * FROM no_such_table")
        assert cur.execute("SELECT ? || ?", "a", "b").fetchval() == "ab"
        cn.rollback()
        assert cur.execute("SELECT max(value) FROM sensors WHERE n < ?", 100).fetchval() == 1.25
