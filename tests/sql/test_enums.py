"""Enum types in the storage catalog: they, their labels (with ALTER TYPE's changes) and the columns
of them survive a restart, and writes after it are still checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from sql.errors import InvalidTextRepresentation
from tests.sql.in_process import sql_engine


def _rows(session, sql: str) -> list[tuple]:
    result = session.execute(session.prepare(sql, []), [])
    rows: list[tuple] = []
    for b in result.batches or []:
        rows.extend(zip(*[c.to_pylist() for c in b.columns], strict=True))
    return rows


def test_enum_types_survive_restart(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        for sql in (
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
            "ALTER TYPE mood ADD VALUE 'meh' AFTER 'sad'",
            "CREATE TABLE t (time timestamptz NOT NULL, m mood)",
            "INSERT INTO t VALUES ('2024-01-01 00:00:00+00', 'happy'), ('2024-01-01 00:00:01+00', 'meh')",
            "ALTER TYPE mood RENAME TO feeling",
        ):
            _rows(s, sql)
    with sql_engine(tmp_path) as (_storage, engine):
        s = engine.session("postgres")
        assert _rows(s, "SELECT m::text AS label FROM t ORDER BY m") == [("meh",), ("happy",)]
        assert _rows(
            s,
            "SELECT t.typname::text, e.enumlabel::text, e.enumsortorder FROM pg_enum e"
            " JOIN pg_type t ON t.oid = e.enumtypid ORDER BY e.enumsortorder",
        ) == [
            ("feeling", "sad", 1.0),
            ("feeling", "meh", 1.5),
            ("feeling", "ok", 2.0),
            ("feeling", "happy", 3.0),
        ]
        assert _rows(
            s,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum = 2",
        ) == [("feeling",)]
        with pytest.raises(InvalidTextRepresentation, match='invalid input value for enum feeling: "x"'):
            _rows(s, "INSERT INTO t VALUES ('2024-01-01 00:00:02+00', 'x')")
        _rows(s, "INSERT INTO t VALUES ('2024-01-01 00:00:02+00', 'sad')")
        assert _rows(s, "SELECT min(m)::text, max(m)::text FROM t") == [("sad", "happy")]
