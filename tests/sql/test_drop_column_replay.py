"""A dropped column or table stays dropped across a restart that replays WAL records written before
the drop (they still hold it); a column or table of the same name made after the drop keeps only its
own rows and values."""

from __future__ import annotations

from tests.sql.in_process import sql_engine


def _q(session, sql: str) -> list[dict]:
    result = session.execute(session.prepare(sql, []), [])
    return [r for b in result.batches for r in b.to_pylist()]


def test_dropped_tag_and_field_stay_dropped_after_wal_replay(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TABLE t (time timestamptz NOT NULL, host text, zone text, v int8, w int8)")
        _q(s, "INSERT INTO t VALUES ('2024-01-01 00:00:00+00', 'a', 'z', 1, 10)")
        _q(s, "ALTER TABLE t DROP COLUMN zone")
        _q(s, "ALTER TABLE t DROP COLUMN w")
        _q(s, "ALTER TABLE t ADD COLUMN w int8")  # the name again, a new column
        _q(s, "INSERT INTO t VALUES ('2024-01-01 00:00:01+00', 'b', 2, 20)")
        before = _q(s, "SELECT * FROM t ORDER BY time")
    assert [list(r) for r in before] == [["time", "host", "v", "w"]] * 2
    assert [r["w"] for r in before] == [None, 20]
    with sql_engine(tmp_path) as (_storage, engine):  # the memtable comes back from the WAL
        s = engine.session("postgres")
        assert _q(s, "SELECT * FROM t ORDER BY time") == before
        assert [r["column_name"] for r in _q(
            s, "SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"
        )] == ["time", "host", "v", "w"]  # fmt: skip


def test_a_dropped_table_stays_dropped_after_wal_replay(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        _q(s, "CREATE TABLE x (time timestamptz NOT NULL, host text, v int8)")
        _q(s, "INSERT INTO x VALUES ('2024-01-01 00:00:00+00', 'a', 1)")
        _q(s, "DROP TABLE x")
        _q(s, "CREATE TABLE y (time timestamptz NOT NULL, v int8)")
        _q(s, "INSERT INTO y VALUES ('2024-01-01 00:00:00+00', 1)")
        _q(s, "DROP TABLE y")
        _q(s, "CREATE TABLE y (time timestamptz NOT NULL, w text)")  # another table of that name
        _q(s, "INSERT INTO y VALUES ('2024-01-01 00:00:05+00', 'new')")
    with sql_engine(tmp_path) as (storage, engine):
        s = engine.session("postgres")
        assert [t.name for t in storage.tables("postgres")] == ["y"]
        assert [tuple(r.values()) for r in _q(s, "SELECT w FROM y")] == [("new",)]
        assert _q(s, "SELECT column_name FROM information_schema.columns WHERE table_name = 'y'") == [
            {"column_name": "time"},
            {"column_name": "w"},
        ]
