"""ALTER TABLE ... RENAME COLUMN of a tag through SQL: after a restart, in prepared statements, COPY
and psql's catalog; the views that read the column (sql/view_renames.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sql import errors as E
from sql.view_renames import rename_in_view
from tests.sql.in_process import sql_engine


def _run(s, sql):
    r = s.execute(s.prepare(sql, []), [])
    return [tuple(row.values()) for b in (r.batches or []) for row in b.to_pylist()]


def _setup(s) -> None:
    for sql in (
        "CREATE TABLE m (time timestamptz NOT NULL, host text, v double precision)",
        "INSERT INTO m VALUES ('2024-01-01 00:00:00+00', 'a', 1), ('2024-01-02 00:00:00+00', 'b', 2)",
        "CREATE VIEW by_host AS SELECT host, sum(v) AS total FROM m WHERE m.host <> 'z' GROUP BY host",
        "CREATE VIEW everything AS SELECT * FROM m",
    ):
        _run(s, sql)


def test_renamed_tag_after_a_restart(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        _setup(s)
        by_name = s.prepare("SELECT host FROM m WHERE host = 'a'", [])
        star = s.prepare("SELECT * FROM m", [])
        _run(s, "ALTER TABLE m RENAME COLUMN host TO hostname")
        with pytest.raises(E.UndefinedColumn):  # prepared before: planned again, as PostgreSQL does
            s.execute(by_name, [])
        with pytest.raises(E.FeatureNotSupported, match="cached plan must not change result type"):
            s.execute(star, [])
        copy = s.execute(s.prepare("COPY m (time, hostname, v) FROM STDIN", []), [])
        assert s.copy_in(copy.copy, [b"2024-01-03 00:00:00+00\ta\t5\n"]) == "COPY 1"
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        assert _run(s, "SELECT hostname, sum(v) FROM m WHERE hostname = 'a' GROUP BY hostname") == [
            ("a", 6.0)
        ]
        with pytest.raises(E.UndefinedColumn):
            _run(s, "SELECT host FROM m")
        assert _run(
            s,
            "SELECT attname FROM pg_attribute WHERE attrelid = 'm'::regclass AND attnum > 0 ORDER BY attnum",
        ) == [("time",), ("hostname",), ("v",)]
        # the views keep their columns' names, reading the renamed one
        assert _run(s, "SELECT host, total FROM by_host ORDER BY host") == [("a", 6.0), ("b", 2.0)]
        assert _run(s, "SELECT host FROM everything WHERE v = 2") == [("b",)]


def test_a_star_over_a_join_refuses_the_rename(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_storage, sql):
        s = sql.session("postgres")
        _setup(s)
        _run(s, "CREATE TABLE hosts (name text PRIMARY KEY, rack int4)")
        _run(s, "CREATE VIEW joined AS SELECT * FROM m JOIN hosts ON hosts.name = m.host")
        with pytest.raises(E.FeatureNotSupported, match='view "joined" selects \\* over a join'):
            _run(s, "ALTER TABLE m RENAME COLUMN host TO hostname")
        assert _run(s, "SELECT host FROM m WHERE host = 'a'") == [("a",)]  # nothing changed
        assert _run(s, "SELECT host FROM by_host WHERE host = 'b'") == [("b",)]
        _run(s, "DROP VIEW joined")
        _run(s, "ALTER TABLE m RENAME COLUMN host TO hostname")
        assert _run(s, "SELECT host FROM by_host WHERE host = 'b'") == [("b",)]


COLUMNS = {"m": ["time", "host", "v"], "n": ["time", "host", "w"], "o": ["x"]}


@pytest.mark.parametrize(
    ("query", "renamed"),
    [
        (
            "SELECT host, avg(v) FROM m WHERE m.host <> 'x' GROUP BY host ORDER BY host",
            'SELECT "hostname" AS "host", AVG(v) FROM m WHERE "m"."hostname" <> \'x\' GROUP BY "hostname" '
            "ORDER BY host",
        ),
        ("SELECT * FROM m", 'SELECT "m"."time", "m"."hostname" AS "host", "m"."v" FROM m'),
        (
            "SELECT a.*, o.x FROM m AS a JOIN o ON o.x = a.v",
            'SELECT "a"."time", "a"."hostname" AS "host", "a"."v", o.x FROM m AS a JOIN o ON o.x = a.v',
        ),
        (
            "SELECT m.host AS h, n.host FROM m JOIN n ON m.time = n.time",
            'SELECT "m"."hostname" AS h, n.host FROM m JOIN n ON m.time = n.time',
        ),
        (
            "SELECT host FROM (SELECT host FROM m) AS s",
            'SELECT host FROM (SELECT "hostname" AS "host" FROM m) AS s',
        ),
        ("SELECT host FROM n", None),
        ("SELECT x FROM o", None),
        ("SELECT * FROM archive.m", None),  # another schema's table of that name
    ],
)
def test_rename_in_view(query: str, renamed: str | None) -> None:
    got = rename_in_view(query, "v", "public", "m", "host", "hostname", lambda _s, t: COLUMNS.get(t))
    assert got == renamed
