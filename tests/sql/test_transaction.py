"""The undo log of a transaction block (sql/transaction.py), in-process: what an entry holds (nothing
of an append), exact restores (nanosecond times, flushed chunk files), its row limit, and what stays
immediate (TRUNCATE). Behaviour compared with PostgreSQL: tests/sql/differential/test_transactions.py."""

from __future__ import annotations

import pytest

from columnar.batch import WriteBatch
from sql import errors as E
from sql import transaction
from sql.session import CopyRequest
from tests.sql.test_session import q, session  # noqa: F401 - the fixture

T = "2024-01-01 00:00:0"


def _table(s) -> list:
    return q(s, "SELECT * FROM u ORDER BY time, host")[2]


def _make(s) -> None:
    q(
        s,
        "CREATE TABLE u (time timestamptz NOT NULL, host text NOT NULL, v double precision, PRIMARY KEY (host, time))",
    )
    q(s, f"INSERT INTO u VALUES ('{T}0+00', 'a', 1), ('{T}1+00', 'a', 2), ('{T}1+00', 'b', 3)")


def test_an_append_holds_its_span_not_its_rows(session):  # noqa: F811
    _make(session)
    before = _table(session)
    q(session, "BEGIN")
    r = session.execute(session.prepare("COPY u FROM STDIN (FORMAT csv)", []), [])
    assert isinstance(r.copy, CopyRequest)
    rows = "".join(f"2024-01-02 00:00:{i % 60:02d}.{i // 60:06d}+00,h{i % 7},{i}\n" for i in range(5000))
    assert session.copy_in(r.copy, iter([rows.encode()])) == "COPY 5000"
    q(session, f"INSERT INTO u VALUES ('{T}5+00', 'new', 1)")  # a new series, inside the stored times
    txn = session.txn
    assert txn is not None and txn.held == 0 and all(e.prior is None for e in txn.entries)
    assert q(session, "SELECT count(*) FROM u")[2] == [(5004,)]
    q(session, "ROLLBACK")
    assert session.txn is None and _table(session) == before


def test_an_overwrite_holds_only_the_rows_in_its_span(session):  # noqa: F811
    _make(session)
    session.storage.flush()  # (the rows in a chunk file: the undo deletes with a tombstone)
    before = _table(session)
    q(session, "BEGIN")
    q(
        session,
        f"INSERT INTO u VALUES ('{T}1+00', 'a', 20) ON CONFLICT (host, time) DO UPDATE SET v = EXCLUDED.v",
    )
    assert session.txn.held == 1
    q(session, "DELETE FROM u WHERE host = 'b'")
    assert session.txn.held == 2
    q(session, "UPDATE u SET v = -v")
    assert [r[2] for r in _table(session)] == [-1, -20]
    q(session, "ROLLBACK")
    assert _table(session) == before


def test_undo_restores_nanosecond_times(session):  # noqa: F811
    """A line-protocol point keeps its nanoseconds, which SQL's microsecond timestamps would lose."""
    ns = 1_704_067_200_000_000_123  # 2024-01-01 00:00:00.000000123
    batch = WriteBatch.from_rows("lp", [ns, ns + 1000], [{"host": "a"}] * 2, {"v": [1.0, 2.0]})
    session.storage.write("postgres", batch)
    q(session, "BEGIN")
    q(session, "DELETE FROM lp WHERE host = 'a'")
    q(session, "INSERT INTO lp (time, host, v) VALUES ('2024-01-01 00:00:00+00', 'a', 9)")
    q(session, "ROLLBACK")
    assert q(session, "SELECT tsgres_time_ns, v FROM lp ORDER BY 1")[2] == [(ns, 1.0), (ns + 1000, 2.0)]


def test_a_block_holding_too_many_rows_fails_at_that_statement(session, monkeypatch):  # noqa: F811
    _make(session)
    monkeypatch.setattr(transaction, "MAX_UNDO_ROWS", 2)
    q(session, "BEGIN")
    q(session, "DELETE FROM u WHERE host = 'b'")  # one row held
    with pytest.raises(E.ProgramLimitExceeded) as err:
        q(session, "DELETE FROM u WHERE host = 'a'")  # two more: refused before deleting
    assert err.value.sqlstate == "54000"
    assert session.transaction_status == "E"
    other = session.sql_engine.session("postgres", "alice")
    assert [r[1] for r in _table(other)] == ["a", "a"]  # (the refused DELETE deleted nothing)
    other.close()
    q(session, "ROLLBACK")
    assert [r[1] for r in _table(session)] == ["a", "a", "b"]


def test_truncate_stays_and_the_writes_after_it_are_undone(session):  # noqa: F811
    _make(session)
    q(session, "BEGIN")
    q(
        session,
        f"INSERT INTO u VALUES ('{T}0+00', 'a', 100) ON CONFLICT (host, time) DO UPDATE SET v = EXCLUDED.v",
    )
    q(session, "TRUNCATE u")
    q(session, f"INSERT INTO u VALUES ('{T}2+00', 'c', 4)")
    q(session, "ROLLBACK")
    assert _table(session) == []


def test_rollback_with_writes_to_undo_is_not_answered_on_the_loop(session):  # noqa: F811
    _make(session)
    q(session, "BEGIN")
    assert session.immediate("ROLLBACK")  # (nothing to undo)
    q(session, f"INSERT INTO u VALUES ('{T}2+00', 'c', 4)")
    assert not session.immediate("ROLLBACK") and not session.immediate(session.prepare("ABORT", []))
    assert session.immediate("SAVEPOINT s")
    q(session, "ROLLBACK")


def test_outside_a_block_nothing_is_noted(session, monkeypatch):  # noqa: F811
    _make(session)

    def fail(*_a, **_k):
        raise AssertionError("no undo outside a block")

    monkeypatch.setattr(transaction, "before_write", fail)
    monkeypatch.setattr(transaction, "before_delete", fail)
    q(
        session,
        f"INSERT INTO u VALUES ('{T}0+00', 'a', 100) ON CONFLICT (host, time) DO UPDATE SET v = EXCLUDED.v",
    )
    q(session, "DELETE FROM u WHERE v > 50")
    assert session.txn is None


def test_a_session_closed_in_a_block_rolls_it_back(session):  # noqa: F811
    _make(session)
    other = session.sql_engine.session("postgres", "alice")
    q(other, "BEGIN")
    q(other, f"INSERT INTO u VALUES ('{T}3+00', 'z', 1)")
    q(other, "DELETE FROM u WHERE host = 'a'")
    assert len(_table(session)) == 2  # (read uncommitted: the other session's writes are seen)
    other.close()
    assert [r[1] for r in _table(session)] == ["a", "a", "b"]


def test_a_table_dropped_in_the_block_is_left_alone(session):  # noqa: F811
    _make(session)
    q(session, "BEGIN")
    q(session, f"INSERT INTO u VALUES ('{T}3+00', 'z', 1)")
    q(session, "DROP TABLE u")
    q(session, "CREATE TABLE u (time timestamptz NOT NULL, host text NOT NULL, v double precision)")
    q(session, f"INSERT INTO u VALUES ('{T}3+00', 'y', 2)")
    q(session, "ROLLBACK")
    assert _table(session) == []


def test_appends_share_an_entry_until_a_savepoint(session):  # noqa: F811
    """An ORM's one-row INSERTs of new times hold one entry, not one each: memory bounded per block."""
    _make(session)
    before = _table(session)
    q(session, "BEGIN")
    for i in range(50):
        q(session, f"INSERT INTO u VALUES ('2024-01-02 00:00:{i:02d}+00', 'h{i % 3}', {i})")
    assert len(session.txn.entries) == 1 and session.txn.held == 0
    q(session, "SAVEPOINT s")
    q(session, "INSERT INTO u VALUES ('2024-01-03 00:00:00+00', 'a', 1)")
    q(session, "INSERT INTO u VALUES ('2024-01-03 00:00:01+00', 'x', 2)")
    assert len(session.txn.entries) == 2
    q(session, "ROLLBACK TO s")
    assert q(session, "SELECT count(*) FROM u")[2] == [(53,)]
    q(session, "INSERT INTO u VALUES ('2024-01-03 00:00:00+00', 'b', 1)")
    q(session, f"INSERT INTO u VALUES ('{T}9+00', 'a', 9)")  # (inside the stored times: an entry of its own)
    assert len(session.txn.entries) == 3
    q(session, "ROLLBACK")
    assert _table(session) == before


def test_an_append_entry_does_not_grow_over_stored_rows(session):  # noqa: F811
    """Two appends with stored rows between their spans: merged, their undo would delete those."""
    q(session, "CREATE TABLE u (time timestamptz NOT NULL, host text NOT NULL, v double precision)")
    q(session, "INSERT INTO u VALUES ('2024-01-05 00:00:00+00', 'a', 5)")
    q(session, "BEGIN")
    q(session, "INSERT INTO u VALUES ('2024-01-01 00:00:00+00', 'a', 1)")  # before every stored time
    q(session, "INSERT INTO u VALUES ('2024-01-09 00:00:00+00', 'a', 9)")  # after
    q(session, "ROLLBACK")
    assert [r[2] for r in _table(session)] == [5]
