"""sql.column_origin: RowDescription's table OID and column number, as PostgreSQL 15 gives them.

The expectations were read from a PostgreSQL 15 server (libpq's PQftable/PQftablecol) for the same
statements; the OIDs are the ones pg_catalog reports for our tables.
"""

from __future__ import annotations

import pytest

from sql.column_origin import annotate
from sql.parse import parse
from sql.session import ColumnDesc


def _origins(session, sql: str) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    columns = session.prepare(sql, []).columns
    bare = [ColumnDesc(c.name, c.type_oid, c.typmod) for c in columns]
    return [(c.name, c.table_oid, c.column_number) for c in annotate(session, parse(sql), bare)]


def _oid(session, name: str) -> int:  # type: ignore[no-untyped-def]
    stmt = session.prepare(f"SELECT '{name}'::regclass::oid", [])
    return next(iter(session.execute(stmt, []).batches)).column(0)[0].as_py()


@pytest.fixture
def tables(tsgres_session):  # type: ignore[no-untyped-def]
    s = tsgres_session
    for sql in (
        "CREATE TABLE IF NOT EXISTS nn (time timestamptz NOT NULL, host text, v float8)",
        "CREATE TABLE IF NOT EXISTS yn (time timestamptz NOT NULL, k int8)",
    ):
        s.execute(s.prepare(sql, []), [])
    return s, _oid(s, "nn"), _oid(s, "yn")


def test_plain_columns_aliases_and_computed(tables) -> None:  # type: ignore[no-untyped-def]
    s, nn, _ = tables
    assert _origins(s, "SELECT v, time AS t, v + 1 AS w, 1 AS one, nn.* FROM nn") == [
        ("v", nn, 3),
        ("t", nn, 1),
        ("w", 0, 0),
        ("one", 0, 0),
        ("time", nn, 1),
        ("host", nn, 2),
        ("v", nn, 3),
    ]


def test_through_subqueries_ctes_and_joins(tables) -> None:  # type: ignore[no-untyped-def]
    s, nn, yn = tables
    assert _origins(s, "SELECT * FROM (SELECT v FROM nn) sub") == [("v", nn, 3)]
    assert _origins(s, "WITH q AS (SELECT host, v FROM nn) SELECT v, host FROM q") == [
        ("v", nn, 3),
        ("host", nn, 2),
    ]
    assert _origins(s, "SELECT a.v, b.time, k FROM nn a JOIN yn b ON a.time = b.time") == [
        ("v", nn, 3),
        ("time", yn, 1),
        ("k", yn, 2),
    ]
    assert _origins(s, "SELECT max(v), host FROM nn GROUP BY host") == [("max", 0, 0), ("host", nn, 2)]


def test_set_operations_and_constants_have_none(tables) -> None:  # type: ignore[no-untyped-def]
    s, _, _ = tables
    assert _origins(s, "SELECT v FROM nn UNION ALL SELECT v FROM nn") == [("v", 0, 0)]
    assert _origins(s, "SELECT 1") == [("?column?", 0, 0)]


def test_catalog_relations_have_postgres_numbers(tables) -> None:  # type: ignore[no-untyped-def]
    s, _, _ = tables
    assert _origins(s, "SELECT relname, oid FROM pg_catalog.pg_class LIMIT 1") == [
        ("relname", 1259, 2),
        ("oid", 1259, 1),
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM generate_series(1, 3) g",
        "SELECT x FROM (VALUES (1), (2)) v(x)",
        "SELECT n.v FROM nn n, LATERAL (SELECT 1 AS one) l",
        "SELECT v FROM nn WHERE v IN (SELECT k FROM yn)",
    ],
)
def test_shapes_it_does_not_follow_leave_zeros(tables, sql: str) -> None:  # type: ignore[no-untyped-def]
    s, nn, _ = tables
    got = _origins(s, sql)
    assert got and all((t, c) in ((0, 0), (nn, 3)) for _, t, c in got)  # no error, nothing wrong


def test_a_view_is_the_origin_of_its_columns(tables) -> None:  # type: ignore[no-untyped-def]
    s, nn, _ = tables
    s.execute(s.prepare("CREATE OR REPLACE VIEW v_nn AS SELECT host, v * 2 AS w, v FROM nn", []), [])
    view = _oid(s, "v_nn")
    assert view not in (0, nn)
    assert _origins(s, "SELECT v, host, 1 AS one FROM v_nn") == [
        ("v", view, 3),
        ("host", view, 1),
        ("one", 0, 0),
    ]
    assert _origins(s, "SELECT w FROM (SELECT * FROM v_nn) x") == [("w", view, 2)]
