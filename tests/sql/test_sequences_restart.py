"""Sequences are persistent: after a restart (or a crash) nextval goes on from where it was, never
backwards, with the options and the SERIAL and DEFAULT nextval('s') columns that use them; currval is
the new session's (not yet defined)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sql.errors import SqlError
from tests.sql.in_process import sql_engine


def _rows(session, sql: str) -> list[tuple]:
    result = session.execute(session.prepare(sql, []), [])
    out = []
    for b in result.batches:
        out.extend(zip(*[c.to_pylist() for c in b.columns], strict=True))
    return out


SETUP = [
    "CREATE SEQUENCE r_plain",
    "CREATE SEQUENCE r_step AS integer INCREMENT BY 5 MAXVALUE 30 START WITH 10 CYCLE",
    "CREATE TABLE r_t (id serial, n int DEFAULT nextval('r_plain'), v text)",
    "INSERT INTO r_t (v) VALUES ('a'), ('b')",
    "SELECT nextval('r_step'), nextval('r_step')",
]


def test_sequences_survive_restart(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        for sql in SETUP:
            _rows(s, sql)
        assert _rows(s, "SELECT nextval('r_plain')") == [(3,)]
        s.close()
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        with pytest.raises(SqlError) as err:
            _rows(s, "SELECT currval('r_plain')")
        assert err.value.sqlstate == "55000"
        assert _rows(s, "SELECT nextval('r_plain'), nextval('r_step'), nextval('r_step')") == [(4, 20, 25)]
        assert _rows(s, "SELECT nextval('r_step') FROM generate_series(1, 2)") == [(30,), (1,)]  # cycles
        _rows(s, "INSERT INTO r_t (v) VALUES ('c')")
        assert _rows(s, "SELECT id, n, v FROM r_t ORDER BY v") == [(1, 1, "a"), (2, 2, "b"), (3, 5, "c")]
        assert _rows(
            s,
            "SELECT sequencename::text, data_type::text, start_value, increment_by, max_value, cycle"
            " FROM pg_sequences ORDER BY 1",
        ) == [
            ("r_plain", "bigint", 1, 1, 2**63 - 1, False),
            ("r_step", "integer", 10, 5, 30, True),
            ("r_t_id_seq", "integer", 1, 1, 2**31 - 1, False),
        ]
        s.close()


def test_nextval_never_goes_back_after_a_crash(tmp_path: Path) -> None:
    """The data directory copied while the server runs (as a crash leaves it, the catalog's SQLite
    WAL included): every value handed out before is behind the next one."""
    live, crashed = tmp_path / "live", tmp_path / "crashed"
    with sql_engine(live) as (_storage, engine):
        s = engine.session("postgres")
        _rows(s, "CREATE SEQUENCE c_seq")
        _rows(s, "CREATE TABLE c_t (id serial, v int)")
        handed = [v for (v,) in _rows(s, "SELECT nextval('c_seq') FROM generate_series(1, 5)")]
        _rows(s, "INSERT INTO c_t (v) VALUES (1), (2), (3)")
        shutil.copytree(live, crashed)
        s.close()
    with sql_engine(crashed) as (_storage, engine):
        s = engine.session("postgres")
        assert _rows(s, "SELECT nextval('c_seq')")[0][0] > max(handed)
        assert _rows(s, "SELECT nextval('c_t_id_seq')")[0][0] > 3
        s.close()


def test_sessions_keep_their_own_currval(tmp_path: Path) -> None:
    """Two sessions, attached under the pids pgwire gives them: nextval per row, currval per session."""
    from sql.activity import Connection

    with sql_engine(tmp_path) as (_storage, engine):
        a, b = engine.session("postgres"), engine.session("postgres")
        a.attach(900001, Connection())
        b.attach(900002, Connection())
        _rows(a, "CREATE SEQUENCE two")
        assert _rows(a, "SELECT nextval('two') FROM generate_series(1, 2)") == [(1,), (2,)]
        assert _rows(b, "SELECT nextval('two')") == [(3,)]
        assert _rows(a, "SELECT currval('two'), lastval()") == [(2, 2)]
        assert _rows(b, "SELECT currval('two')") == [(3,)]
        a.close()
        b.close()
