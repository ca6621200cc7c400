"""psycopg 3 server-side (named) cursors against ``tsgres serve``, and pg_catalog.pg_cursors.

psycopg declares a named cursor with DECLARE, reads it with FETCH and closes it with CLOSE; closing a
cursor it did not declare itself first asks ``SELECT 1 FROM pg_catalog.pg_cursors WHERE name = ...``.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from tests.compat.pg.conftest import PgServer

ROWS = 2_500


@pytest.fixture(scope="module")
def cursors_db(pg_server: PgServer) -> str:
    db = pg_server.database("cursors")
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TABLE m (time timestamptz NOT NULL, host text, v int8)")
        with conn.cursor().copy("COPY m (time, host, v) FROM STDIN") as copy:
            for i in range(ROWS):
                copy.write_row((base + dt.timedelta(seconds=i), f"h{i % 5}", i))
    return db


def _connect(pg_server: PgServer, db: str, autocommit: bool = False) -> psycopg.Connection:  # type: ignore[type-arg]
    return psycopg.connect(pg_server.dsn(db), autocommit=autocommit, connect_timeout=10)


def test_named_cursor_iterate_close_and_reuse_the_connection(pg_server: PgServer, cursors_db: str) -> None:
    with _connect(pg_server, cursors_db) as conn:
        for round_ in range(2):  # the same name again after close: the first one is really gone
            with conn.cursor("big", binary=round_ == 1) as cur:
                cur.itersize = 300  # several FETCH FORWARD 300
                cur.execute("SELECT v, host FROM m ORDER BY time")
                seen = [v for v, _ in cur]
                assert seen == list(range(ROWS))
                names = conn.execute("SELECT name, is_holdable FROM pg_catalog.pg_cursors").fetchall()
                assert names == [("big", False)]
            assert conn.execute("SELECT count(*) FROM pg_catalog.pg_cursors").fetchone() == (0,)
        # fetchmany / scroll-free partial reads, then close before the end
        with conn.cursor("part") as cur:
            cur.execute("SELECT v FROM m WHERE v < %s ORDER BY time", (100,))
            assert [r[0] for r in cur.fetchmany(7)] == list(range(7))
            assert cur.fetchone() == (7,)
        with conn.cursor("by_host") as cur:  # a text parameter (psycopg sends it untyped)
            cur.execute("SELECT v FROM m WHERE host = %s AND v < %s ORDER BY time", ("h3", 40))
            assert [r[0] for r in cur] == [3, 8, 13, 18, 23, 28, 33, 38]
        conn.commit()
        assert conn.execute("SELECT count(*) FROM m").fetchone() == (ROWS,)  # the connection still works


def test_closing_a_cursor_psycopg_did_not_declare_asks_pg_cursors(
    pg_server: PgServer, cursors_db: str
) -> None:
    with _connect(pg_server, cursors_db) as conn:
        conn.execute('DECLARE "theirs" CURSOR FOR SELECT v FROM m ORDER BY time')
        row = conn.execute(
            "SELECT name, statement, is_holdable, is_binary, is_scrollable, creation_time <= now() "
            "FROM pg_catalog.pg_cursors"
        ).fetchone()
        assert row == (
            "theirs",
            'DECLARE "theirs" CURSOR FOR SELECT v FROM m ORDER BY time',
            False,
            False,
            False,
            True,
        )
        cur = conn.cursor("theirs")  # psycopg attaches to the existing cursor (Describe P, then FETCH)
        assert cur.fetchmany(2) == [(0,), (1,)]
        conn.execute('DECLARE "other" CURSOR FOR SELECT 1')
        conn.cursor("other").close()  # not described by psycopg: looked up in pg_cursors, then CLOSE
        assert conn.execute("SELECT name FROM pg_catalog.pg_cursors").fetchall() == [("theirs",)]
        cur.close()
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_cursors").fetchone() == (0,)
        never = conn.cursor("never_declared")
        never.close()  # not in pg_cursors: no CLOSE, so no error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.commit()


def test_withhold_cursor_in_autocommit(pg_server: PgServer, cursors_db: str) -> None:
    with _connect(pg_server, cursors_db, autocommit=True) as conn:
        with conn.cursor("held", withhold=True) as cur:
            cur.execute("SELECT host, count(*) FROM m GROUP BY host ORDER BY host")
            assert cur.fetchall() == [(f"h{i}", ROWS // 5) for i in range(5)]
            assert conn.execute("SELECT name, is_holdable FROM pg_catalog.pg_cursors").fetchall() == [
                ("held", True)
            ]
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_cursors").fetchone() == (0,)
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_declare_parameters_take_their_types_from_the_query(pg_server: PgServer, cursors_db: str) -> None:
    """An untyped parameter compared with the time column is a timestamptz, as PostgreSQL infers it."""
    with _connect(pg_server, cursors_db) as conn:
        with conn.cursor("since") as cur:
            cur.execute(
                "SELECT v FROM m WHERE time >= %s AND v < %s ORDER BY time",
                ("2024-01-01 00:00:10+00", 13),
            )
            assert [r[0] for r in cur] == [10, 11, 12]
        conn.commit()
