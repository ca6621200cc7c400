"""Transaction blocks, differentially: ROLLBACK, ROLLBACK TO SAVEPOINT and a failed block's end undo the
block's INSERTs, upserts, UPDATEs, DELETEs and COPYs on tsgres as on PostgreSQL 15; COMMIT keeps them;
reads inside the block see its own writes. Each scenario runs its steps in order on both, and after
every step compares the outcome (the tag's row count, or the SQLSTATE) and the whole table.

A step is SQL text, or ``(COPY statement, data)`` for COPY ... FROM STDIN.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres

T0 = "2024-01-01 00:00:0"
Step = str | tuple[str, str]

SCENARIOS: list[tuple[str, str, list[Step]]] = [
    (
        "rollback_undoes_every_write",
        "x_keyed",
        [
            "CREATE TABLE x_keyed (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " n int4, PRIMARY KEY (host, time))",
            f"INSERT INTO x_keyed VALUES ('{T0}0+00', 'a', 1, 1), ('{T0}1+00', 'b', 2, 2), ('{T0}2+00', 'c', 3, 3)",
            "BEGIN",
            f"INSERT INTO x_keyed VALUES ('{T0}3+00', 'a', 4, 4), ('{T0}3+00', 'd', 5, 5)",  # appends
            f"INSERT INTO x_keyed VALUES ('{T0}0+00', 'a', 10, 10)"
            " ON CONFLICT (host, time) DO UPDATE SET v = EXCLUDED.v",  # an overwrite of a stored point
            f"INSERT INTO x_keyed VALUES ('{T0}1+00', 'b', 20, 20), ('{T0}9+00', 'b', 21, 21)"
            " ON CONFLICT DO NOTHING",
            "UPDATE x_keyed SET n = n * 100 WHERE host = 'c'",
            "DELETE FROM x_keyed WHERE host = 'b'",
            "INSERT INTO x_keyed SELECT time + interval '1 hour', host, v, n FROM x_keyed WHERE host = 'a'",
            "SELECT host, count(*), sum(v), sum(n) FROM x_keyed GROUP BY host ORDER BY host",
            "ROLLBACK",
            "SELECT host, count(*), sum(v), sum(n) FROM x_keyed GROUP BY host ORDER BY host",
            "BEGIN",
            f"INSERT INTO x_keyed VALUES ('{T0}4+00', 'e', 6, 6)",
            "UPDATE x_keyed SET v = -1 WHERE host = 'a'",
            "DELETE FROM x_keyed WHERE host = 'c'",
            "COMMIT",  # kept
            "START TRANSACTION",
            "DELETE FROM x_keyed",
            "SELECT count(*) FROM x_keyed",
            "ABORT",
        ],
    ),
    (
        "savepoints",
        "x_sp",
        [
            "CREATE TABLE x_sp (time timestamptz NOT NULL, host text NOT NULL, v double precision,"
            " PRIMARY KEY (host, time))",
            f"INSERT INTO x_sp VALUES ('{T0}0+00', 'a', 1)",
            "SAVEPOINT outside",
            "RELEASE SAVEPOINT outside",
            "ROLLBACK TO SAVEPOINT outside",
            "BEGIN",
            f"INSERT INTO x_sp VALUES ('{T0}1+00', 'a', 2)",
            "SAVEPOINT s1",
            f"INSERT INTO x_sp VALUES ('{T0}2+00', 'a', 3)",
            "UPDATE x_sp SET v = v + 10",
            "SAVEPOINT s2",
            "DELETE FROM x_sp WHERE v > 12",
            "ROLLBACK TO SAVEPOINT s2",  # the DELETE undone
            "DELETE FROM x_sp WHERE v < 12",
            "ROLLBACK TO s2",  # s2 is still there: the DELETE again undone
            "RELEASE s2",
            "ROLLBACK TO s2",  # gone: 3B001, the block fails
            "SELECT count(*) FROM x_sp",  # 25P02
            "ROLLBACK TO s1",  # a failed block recovers at a savepoint: the INSERT and UPDATE undone
            "SELECT * FROM x_sp ORDER BY time",
            "SAVEPOINT S1",  # (names fold to lower case: a second s1)
            f"INSERT INTO x_sp VALUES ('{T0}5+00', 'b', 5)",
            'ROLLBACK TO "s1"',
            "RELEASE SAVEPOINT s1",
            f"INSERT INTO x_sp VALUES ('{T0}6+00', 'b', 6)",
            "COMMIT",  # the first INSERT and the last kept
            "BEGIN",
            "SAVEPOINT a",
            f"INSERT INTO x_sp VALUES ('{T0}7+00', 'c', 7)",
            "SAVEPOINT b",
            f"INSERT INTO x_sp VALUES ('{T0}8+00', 'c', 8)",
            "ROLLBACK TO a",
            "ROLLBACK TO b",  # (gone with the rollback to a)
            "ROLLBACK",
        ],
    ),
    (
        "failed_blocks",
        "x_fail",
        [
            "CREATE TABLE x_fail (time timestamptz NOT NULL, host text NOT NULL, v int4, PRIMARY KEY (host, time))",
            f"INSERT INTO x_fail VALUES ('{T0}0+00', 'a', 1)",
            "BEGIN",
            f"INSERT INTO x_fail VALUES ('{T0}1+00', 'a', 2)",
            f"UPDATE x_fail SET v = 100 WHERE time = '{T0}0+00'",
            f"INSERT INTO x_fail VALUES ('{T0}3+00', 'a', 3), ('{T0}4+00', 'a', 1 / 0)",  # 22012: fails
            f"INSERT INTO x_fail VALUES ('{T0}2+00', 'a', 4)",  # 25P02
            "ROLLBACK",
            "BEGIN",
            f"INSERT INTO x_fail VALUES ('{T0}1+00', 'b', 2)",
            "INSERT INTO x_fail VALUES (NULL, 'b', 3)",  # 23502
            "COMMIT",  # of a failed block: ROLLBACK
            "BEGIN",
            f"INSERT INTO x_fail VALUES ('{T0}3+00', 'c', 1)",
            "SAVEPOINT before_bad",
            f"INSERT INTO x_fail VALUES ('{T0}4+00', 'c', 2), ('{T0}5+00', 'c', 'x')",  # 22P02
            "ROLLBACK TO before_bad",
            f"INSERT INTO x_fail VALUES ('{T0}6+00', 'c', 3)",
            "COMMIT",
        ],
    ),
    (
        "keyless_rewrites",  # no key: DELETE / UPDATE by a field condition delete a span and write back
        "x_keyless",
        [
            "CREATE TABLE x_keyless (time timestamptz NOT NULL, host text, v double precision, s text)",
            f"INSERT INTO x_keyless VALUES ('{T0}0+00', 'a', 1, 'p'), ('{T0}1+00', 'a', 2, NULL),"
            f" ('{T0}2+00', 'a', 3, 'r'), ('{T0}1+00', NULL, 4, 's'), ('{T0}1+00', 'a', 2, NULL)",
            "BEGIN",
            "DELETE FROM x_keyless WHERE v >= 2 AND v < 4",
            "UPDATE x_keyless SET s = 'changed' WHERE v = 1",
            f"INSERT INTO x_keyless VALUES ('{T0}1+00', 'a', 2, NULL)",  # a duplicate of a deleted row
            "UPDATE x_keyless SET host = 'b' WHERE host IS NULL",
            "SELECT host, count(*) FROM x_keyless GROUP BY host ORDER BY host",
            "ROLLBACK",
            "BEGIN",
            "DELETE FROM x_keyless WHERE s IS NULL",
            "COMMIT",
        ],
    ),
    (
        "no_time_column",  # rows kept in order of writing (a hidden time of their own)
        "x_kv",
        [
            "CREATE TABLE x_kv (id int4 PRIMARY KEY, name text, score double precision)",
            "INSERT INTO x_kv VALUES (1, 'one', 1), (2, 'two', 2)",
            "BEGIN",
            "INSERT INTO x_kv VALUES (3, 'three', 3)",
            "UPDATE x_kv SET name = 'uno' WHERE id = 1",
            "DELETE FROM x_kv WHERE id = 2",
            "INSERT INTO x_kv VALUES (2, 'dos', 22) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
            "SELECT * FROM x_kv ORDER BY id",
            "ROLLBACK",
            "BEGIN",
            "UPDATE x_kv SET score = score * 2",
            "COMMIT",
        ],
    ),
    (
        "copy",
        "x_copy",
        [
            "CREATE TABLE x_copy (time timestamptz NOT NULL, host text, v double precision)",
            ("COPY x_copy FROM STDIN (FORMAT csv)", f"{T0}0+00,a,1\n{T0}1+00,b,2\n"),
            "BEGIN",
            ("COPY x_copy FROM STDIN (FORMAT csv)", f"{T0}2+00,a,3\n{T0}3+00,b,4\n{T0}0+00,c,5\n"),
            ("COPY x_copy (host, time) FROM STDIN", f"a\t{T0}4+00\nd\t{T0}0+00\n"),
            "SELECT count(*), sum(v) FROM x_copy",
            "ROLLBACK",
            "BEGIN",
            ("COPY x_copy FROM STDIN (FORMAT csv)", f"{T0}5+00,a,6\n"),
            ("COPY x_copy FROM STDIN (FORMAT csv)", f"{T0}6+00,a,7\nnot a time,a,8\n"),  # 22007: fails
            "SELECT count(*) FROM x_copy",  # 25P02
            "ROLLBACK",
            "BEGIN",
            ("COPY x_copy FROM STDIN (FORMAT csv)", f"{T0}7+00,e,9\n"),
            "COMMIT",
        ],
    ),
    (
        "temp_table_on_commit_delete_rows",
        "x_temp",
        [
            "CREATE TEMP TABLE x_temp (time timestamptz NOT NULL, v int4) ON COMMIT DELETE ROWS",
            "BEGIN",
            f"INSERT INTO x_temp VALUES ('{T0}0+00', 1)",
            "SAVEPOINT s",
            f"INSERT INTO x_temp VALUES ('{T0}1+00', 2)",
            "ROLLBACK TO s",
            "SELECT count(*) FROM x_temp",
            "ROLLBACK",
            "BEGIN",
            f"INSERT INTO x_temp VALUES ('{T0}0+00', 1)",
            "SELECT count(*) FROM x_temp",
            "COMMIT",
        ],
    ),
]


def _count(tag: str) -> str:
    parts = tag.split()
    return parts[-1] if parts and parts[-1].isdigit() else tag


def _run_pg(conn: Any, step: Step) -> tuple[str | None, str]:
    import psycopg

    try:
        if isinstance(step, tuple):
            with conn.cursor() as cur:
                with cur.copy(step[0]) as copy:
                    copy.write(step[1].encode())
                return None, cur.statusmessage or ""
        cur = conn.execute(step)
        return None, cur.statusmessage or ""
    except psycopg.Error as exc:
        return exc.sqlstate, ""


def _run_ts(session: Any, step: Step) -> tuple[str | None, str]:
    from sql.errors import SqlError

    try:
        result = session.execute(session.prepare(step[0] if isinstance(step, tuple) else step, []), [])
        if isinstance(step, tuple):
            return None, session.copy_in(result.copy, iter([step[1].encode()]))
        for _ in result.batches:
            pass
        return None, result.tag
    except SqlError as exc:
        return exc.sqlstate, ""


_STATUS = {"IDLE": "I", "INTRANS": "T", "INERROR": "E"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_transactions(pair: Any, scenario: tuple[str, str, list[Step]]) -> None:
    _id, table, steps = scenario
    threshold = pair.pg.prepare_threshold
    pair.pg.prepare_threshold = None
    try:
        for i, step in enumerate(steps):
            where = f"step {i}: {step}"
            pg_state, pg_tag = _run_pg(pair.pg, step)
            ts_state, ts_tag = _run_ts(pair.ts, step)
            assert ts_state == pg_state, (
                f"{where}\nPostgreSQL {pg_state or pg_tag}, tsgres {ts_state or ts_tag}"
            )
            if pg_state is None:
                assert _count(ts_tag) == _count(pg_tag), f"{where}\ntags: {pg_tag!r} vs {ts_tag!r}"
            status = _STATUS[pair.pg.info.transaction_status.name]
            assert pair.ts.transaction_status == status, (
                f"{where}\nstatus {status} vs {pair.ts.transaction_status}"
            )
            if isinstance(step, str) and step.startswith("SELECT"):
                diff = differences(step, run_pg(pair.pg, step), run_tsgres(pair.ts, step))
                assert not diff, f"{where}\n" + "\n".join(diff)
            sql = f"SELECT * FROM {table}"
            diff = differences(sql, run_pg(pair.pg, sql), run_tsgres(pair.ts, sql))
            assert not diff, f"{where}\n" + "\n".join(diff)
    finally:
        pair.pg.prepare_threshold = threshold
        for sql in ("ROLLBACK", f"DROP TABLE IF EXISTS {table}"):
            pair.pg.execute(sql)
            _run_ts(pair.ts, sql)
