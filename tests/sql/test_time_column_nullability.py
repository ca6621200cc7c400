"""DROP NOT NULL of the timestamp tsgres chose as a table's time (sql/ddl.py ``_time_column_away``):
what it does on an empty table is checked against PostgreSQL in tests/sql/differential/
test_table_checks.py; here what stays tsgres's own."""

from __future__ import annotations

import pytest

from sql import errors as E
from tests.sql.in_process import sql_engine


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [row for b in (r.batches or []) for row in b.to_pylist()]


@pytest.fixture
def s(tmp_path):
    with sql_engine(tmp_path) as (_storage, sql):
        yield sql.session("postgres")


def test_the_time_moves_to_the_next_not_null_timestamp_and_rows_keep_their_order(s):
    _run(s, "CREATE TABLE u (id int PRIMARY KEY, seen timestamptz NOT NULL, joined timestamptz NOT NULL)")
    _run(s, "ALTER TABLE u ALTER COLUMN seen DROP NOT NULL")
    meta = s.storage.table(s.storage.database("postgres").id, "autogen", "u")
    assert meta.time_column == "joined"
    _run(s, "INSERT INTO u VALUES (1, NULL, '2024-01-02 00:00:00+00'), (2, NULL, '2024-01-01 00:00:00+00')")
    assert [r["id"] for r in _run(s, "SELECT id FROM u WHERE joined >= '2024-01-02'")] == [1]


def test_with_rows_or_on_a_hypertable_it_is_refused_and_nothing_changes(s):
    _run(s, "CREATE TABLE r (id int PRIMARY KEY, seen timestamptz NOT NULL)")
    _run(s, "INSERT INTO r VALUES (1, '2024-01-01 00:00:00+00')")
    with pytest.raises(E.FeatureNotSupported, match="holds rows"):
        _run(s, "ALTER TABLE r ALTER COLUMN seen DROP NOT NULL")
    with pytest.raises(E.NotNullViolation):
        _run(s, "INSERT INTO r VALUES (2, NULL)")
    _run(s, "CREATE TABLE h (time timestamptz NOT NULL, v float8)")
    _run(s, "SELECT create_hypertable('h', 'time')")
    with pytest.raises(E.InvalidTableDefinition, match="time-partitioned"):
        _run(s, "ALTER TABLE h ALTER COLUMN time DROP NOT NULL")
