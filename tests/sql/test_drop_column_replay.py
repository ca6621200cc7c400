"""A dropped column stays dropped across a restart that replays WAL records written before the drop
(they still hold it); a column of the same name added after the drop keeps only its own values."""

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
