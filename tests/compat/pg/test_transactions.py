"""psycopg's transactions over the wire: a connection without autocommit opens a block for its first
statement and ``rollback()`` must discard what it wrote, nested ``conn.transaction()`` blocks are
savepoints, and a multi-statement simple query is one implicit transaction. The same client code runs
on a real PostgreSQL 15 and on tsgres, and what it reads back is compared.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.compat.pg.conftest import PgServer
from tests.sql.conftest import PgServer as RealPg
from tests.sql.conftest import running_pg


@pytest.fixture(scope="module")
def real_pg() -> Iterator[RealPg]:
    yield from running_pg()


def _rows(conn: psycopg.Connection) -> list[tuple[Any, ...]]:  # type: ignore[type-arg]
    return [tuple(r) for r in conn.execute("SELECT host, time, v FROM tx_m ORDER BY host, time").fetchall()]


def _client(dsn: str) -> list[Any]:
    """What a psycopg application sees: the table after each transaction step."""
    seen: list[Any] = []
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("DROP TABLE IF EXISTS tx_m")
        setup.execute(
            "CREATE TABLE tx_m (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " PRIMARY KEY (host, time))"
        )
        setup.execute("INSERT INTO tx_m VALUES ('2024-01-01 00:00:00+00', 'a', 1)")
    with psycopg.connect(dsn) as conn:  # autocommit off: psycopg sends BEGIN before the first statement
        conn.execute("INSERT INTO tx_m VALUES (%s, %s, %s)", ("2024-01-01 00:00:01+00", "a", 2.0))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tx_m VALUES (%s, %s, %s) ON CONFLICT (host, time) DO UPDATE SET v = EXCLUDED.v",
                [("2024-01-01 00:00:00+00", "a", 10.0), ("2024-01-01 00:00:02+00", "b", 3.0)],
            )
            with cur.copy("COPY tx_m (time, host, v) FROM STDIN") as copy:
                copy.write_row(("2024-01-01 00:00:03+00", "c", 4.0))
        conn.execute("DELETE FROM tx_m WHERE host = 'a' AND v < 5")
        seen.append(("inside", str(conn.info.transaction_status), _rows(conn)))
        conn.rollback()
        seen.append(("rolled back", str(conn.info.transaction_status), _rows(conn)))
        conn.commit()

        conn.execute("UPDATE tx_m SET v = 100 WHERE host = 'a'")
        with conn.transaction():  # a savepoint inside the block
            conn.execute("INSERT INTO tx_m VALUES ('2024-01-01 00:00:05+00', 'd', 5)")
            with pytest.raises(psycopg.errors.DivisionByZero):
                with conn.transaction():
                    conn.execute("INSERT INTO tx_m VALUES ('2024-01-01 00:00:06+00', 'd', 6)")
                    conn.execute("SELECT 1 / 0")
        conn.commit()
        seen.append(("savepoints committed", _rows(conn)))

        conn.execute("DELETE FROM tx_m WHERE host = 'd'")
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute("INSERT INTO tx_m VALUES (NULL, 'e', 7)")
        seen.append(("failed", str(conn.info.transaction_status)))
        conn.rollback()
        with pytest.raises((ValueError, psycopg.Error)):  # psycopg sends CopyFail: the block fails
            with conn.cursor().copy("COPY tx_m (time, host, v) FROM STDIN") as copy:
                copy.write_row(("2024-01-01 00:00:09+00", "h", 1.0))
                raise ValueError("the application gives up")
        seen.append(("copy abandoned", str(conn.info.transaction_status)))
        conn.rollback()
        seen.append(("failed block rolled back", _rows(conn)))
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):  # one implicit transaction: all or nothing
            conn.execute("INSERT INTO tx_m VALUES ('2024-01-01 00:00:07+00', 'f', 8); SELECT 1 / 0")
        seen.append(("implicit transaction", _rows(conn)))
        other = psycopg.connect(dsn)  # a session that ends inside a block is rolled back
        other.execute("INSERT INTO tx_m VALUES ('2024-01-01 00:00:08+00', 'g', 9)")
        other.close()  # (no COMMIT)
        deadline = time.monotonic() + 10
        while any(r[0] == "g" for r in _rows(conn)) and time.monotonic() < deadline:
            time.sleep(0.05)  # (the server ends the session after the client has gone)
        seen.append(("closed in a block", _rows(conn)))
        conn.execute("DROP TABLE tx_m")
    return seen


def test_psycopg_rollback_matches_postgresql(pg_server: PgServer, real_pg: RealPg) -> None:
    expected = _client(real_pg.conninfo("postgres"))
    got = _client(pg_server.dsn(pg_server.database("txn")))
    assert len(expected[1][2]) == 1  # (rolled back to the one row written before)
    assert got == expected
