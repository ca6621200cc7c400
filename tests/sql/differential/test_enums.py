"""Enum types, differentially: CREATE / ALTER / DROP TYPE, columns of them, the checks of every write,
and queries ordering and comparing by the labels' order, on PostgreSQL 15 and tsgres side by side.

Enum type OIDs differ between the two servers: result columns of an enum type are compared by the
type's name (each server's pg_type tells it).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import (
    Outcome,
    differences,
    run_on_both,
    run_pg,
    run_tsgres,
    same_outcomes,
)

TYPES = ("e_mood", "e_level", "e_renamed", "e_spare")
TABLE = "e_events"

# each statement, then SELECT * FROM e_events (when it exists) is compared
SCENARIO = [
    "CREATE TYPE e_mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE TYPE e_mood AS ENUM ('x')",  # 42710
    "CREATE TYPE e_spare AS ENUM ()",
    "CREATE TYPE e_dup AS ENUM ('a', 'a')",
    f"CREATE TYPE e_dup AS ENUM ('{'x' * 64}')",  # a label longer than NAMEDATALEN - 1
    "CREATE TABLE e_events (time timestamptz NOT NULL, host text, mood e_mood, v int4)",
    "CREATE TABLE e_nope (time timestamptz NOT NULL, m e_nosuch)",  # 42704
    "INSERT INTO e_events VALUES ('2024-01-01 00:00:00+00', 'a', 'happy', 1),"
    " ('2024-01-01 00:00:01+00', 'b', 'sad', 2), ('2024-01-01 00:00:02+00', 'c', 'ok', 3),"
    " ('2024-01-01 00:00:03+00', 'd', NULL, 4)",
    "INSERT INTO e_events VALUES ('2024-01-01 00:00:04+00', 'e', 'angry', 5)",  # 22P02
    "INSERT INTO e_events VALUES ('2024-01-01 00:00:04+00', 'e', 'Happy', 5)",  # 22P02: labels are exact
    "INSERT INTO e_events (time, host, mood) SELECT time + interval '1 hour', host, mood FROM e_events"
    " WHERE v < 3",
    "UPDATE e_events SET mood = 'ok' WHERE host = 'a'",
    "UPDATE e_events SET mood = 'nope' WHERE host = 'b'",  # 22P02
    "DROP TYPE e_mood",  # 2BP01: a column uses it
    "DROP TYPE e_nosuch",  # 42704
    "DROP TYPE IF EXISTS e_nosuch",
    "ALTER TYPE e_mood ADD VALUE 'meh' BEFORE 'ok'",
    "ALTER TYPE e_mood ADD VALUE 'ecstatic'",
    "ALTER TYPE e_mood ADD VALUE IF NOT EXISTS 'ok'",
    "ALTER TYPE e_mood ADD VALUE 'ok'",  # 42710
    "ALTER TYPE e_mood ADD VALUE 'x' AFTER 'nosuch'",  # 22023
    "ALTER TYPE e_mood ADD VALUE 'awful' BEFORE 'sad'",
    "INSERT INTO e_events VALUES ('2024-01-01 00:00:05+00', 'f', 'meh', 6), ('2024-01-01 00:00:06+00', 'g', 'awful', 7)",
    "ALTER TYPE e_mood RENAME VALUE 'sad' TO 'blue'",
    "ALTER TYPE e_mood RENAME VALUE 'nosuch' TO 'x'",  # 22023
    "ALTER TYPE e_mood RENAME VALUE 'ok' TO 'happy'",  # 42710
    "INSERT INTO e_events VALUES ('2024-01-01 00:00:07+00', 'h', 'sad', 8)",  # 22P02: renamed
    "INSERT INTO e_events VALUES ('2024-01-01 00:00:07+00', 'h', 'blue', 8)",
    "ALTER TYPE e_mood RENAME TO e_renamed",
    "ALTER TYPE e_mood ADD VALUE 'x'",  # 42704
    "ALTER TYPE e_renamed RENAME TO e_spare",  # 42710
    "CREATE TYPE e_level AS ENUM ('low', 'high')",
    "ALTER TABLE e_events ADD COLUMN level e_level",
    "INSERT INTO e_events (time, host, level) VALUES ('2024-01-01 00:00:08+00', 'i', 'high')",
    "INSERT INTO e_events (time, host, level) VALUES ('2024-01-01 00:00:09+00', 'j', 'medium')",  # 22P02
    "DROP TYPE e_spare",
    "DROP TYPE IF EXISTS e_spare, e_nosuch",
]

QUERIES = [
    "SELECT host, mood FROM e_events ORDER BY mood, host",
    "SELECT host, mood FROM e_events ORDER BY mood DESC, host",
    "SELECT host FROM e_events WHERE mood > 'meh' ORDER BY host",
    "SELECT host FROM e_events WHERE mood <= 'ok' ORDER BY host",
    "SELECT host FROM e_events WHERE mood BETWEEN 'blue' AND 'ok' ORDER BY host",
    "SELECT host FROM e_events WHERE mood IN ('ok', 'happy') ORDER BY host",
    "SELECT host FROM e_events WHERE mood = 'ok' ORDER BY host",
    "SELECT host FROM e_events WHERE mood = 'nope'",  # 22P02
    "SELECT host FROM e_events WHERE mood < 'happy'::e_renamed ORDER BY host",
    "SELECT min(mood), max(mood), count(mood) FROM e_events",
    "SELECT mood, count(*) FROM e_events GROUP BY mood ORDER BY mood",
    "SELECT DISTINCT mood FROM e_events ORDER BY mood",
    "SELECT mood::text AS t FROM e_events ORDER BY t",
    "SELECT e.host, e.mood FROM e_events e JOIN e_events f ON e.host = f.host WHERE e.mood >= 'ok'"
    " ORDER BY e.mood, e.host",
    "SELECT host, level FROM e_events WHERE level IS NOT NULL ORDER BY level",
    "SELECT 'ok'::e_renamed < 'happy'::e_renamed, 'blue'::e_renamed > 'awful'::e_renamed",
    "SELECT 'x'::e_renamed",  # 22P02
    "SELECT enum_first(NULL::e_renamed)::text, enum_last(NULL::e_renamed)::text",
    "SELECT enum_range(NULL::e_renamed)::text[]",
    "SELECT enum_range('meh'::e_renamed, 'happy'::e_renamed)::text[]",
    "SELECT count(*) FROM e_events WHERE mood IS NULL",
    # arrays of the enum: their type, text, and labels checked element by element
    "SELECT array_agg(mood ORDER BY mood) AS a FROM e_events",
    "SELECT '{ok, \"blue\", NULL}'::e_renamed[] AS a, '{}'::e_renamed[] AS b",
    "SELECT '{ok,nope}'::e_renamed[]",  # 22P02
    "SELECT host FROM e_events WHERE mood = any('{ok,blue}'::e_renamed[]) ORDER BY host",
    "SELECT enum_range(NULL::e_renamed) AS r, enum_first(NULL::e_renamed) AS f, 'ok'::e_renamed AS o",
]

CATALOG = [
    # pg_type rows of the enum types and their arrays (OIDs joined away)
    "SELECT t.typname::text, t.typtype::text, t.typcategory::text, t.typlen, t.typbyval, t.typalign::text,"
    " t.typstorage::text, t.typinput::text, t.typoutput::text, a.typname::text AS array_name,"
    " a.typcategory::text AS array_category, n.nspname::text, format_type(t.oid, NULL) AS fmt,"
    " format_type(a.oid, NULL) AS array_fmt"
    " FROM pg_type t JOIN pg_type a ON a.oid = t.typarray AND a.typelem = t.oid"
    " JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' ORDER BY 1",
    # pg_enum: labels in sort order with their orders
    "SELECT t.typname::text, e.enumlabel::text, e.enumsortorder FROM pg_enum e"
    " JOIN pg_type t ON t.oid = e.enumtypid ORDER BY 1, e.enumsortorder",
    # the column's type as clients read it
    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typtype::text FROM pg_attribute a"
    " JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = 'e_events'::regclass AND a.attnum > 0"
    " ORDER BY a.attnum",
    # what psql's \dT+ reads
    "SELECT n.nspname::text AS schema, pg_catalog.format_type(t.oid, NULL) AS name,"
    " pg_catalog.array_to_string(ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e"
    " WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), E'\\n') AS elements"
    " FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
    " WHERE (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))"
    " AND NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)"
    " AND n.nspname = 'public' AND t.typname LIKE 'e\\_%' ORDER BY 1, 2",
]


def _enum_names(run: Any, conn: Any) -> dict[int, str]:
    got = run(conn, "SELECT oid, typarray, typname::text FROM pg_type WHERE typtype = 'e'")
    assert not got.failed, got.message
    return {
        **{int(oid): f"enum {name}" for oid, _, name in got.rows},
        **{int(array): f"enum {name}[]" for _, array, name in got.rows},
    }


def _named(outcome: Outcome, names: dict[int, str]) -> Outcome:
    """The outcome with enum type OIDs replaced by the type's name (OIDs differ between servers)."""
    outcome.columns = [(n, names.get(o, o)) for n, o in outcome.columns]  # type: ignore[misc]
    if outcome.described is not None:
        outcome.described = [(n, names.get(o, o)) for n, o in outcome.described]  # type: ignore[misc]
    return outcome


def _compare(pair: Any, sql: str) -> list[str]:
    pg, ts = run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)
    pg = _arrays_read(_named(pg, _enum_names(run_pg, pair.pg)))
    ts = _named(ts, _enum_names(run_tsgres, pair.ts))
    return differences(sql, pg, ts)


def _arrays_read(outcome: Outcome) -> Outcome:
    """psycopg has no loader for an enum's array type: its text read as a list, as tsgres's are."""
    from sql.rewrite.pg_json import array_items

    arrays = [i for i, (_, t) in enumerate(outcome.columns) if str(t).endswith("[]")]
    if arrays:
        outcome.rows = [
            tuple(array_items(v) if i in arrays and isinstance(v, str) else v for i, v in enumerate(r))
            for r in outcome.rows
        ]
    return outcome


def _cleanup(pair: Any) -> None:
    run_on_both(pair, [f"DROP TABLE IF EXISTS {TABLE}", *(f"DROP TYPE IF EXISTS {t}" for t in TYPES)])


@pytest.fixture
def enum_pair(pair: Any) -> Any:
    _cleanup(pair)
    try:
        yield pair
    finally:
        _cleanup(pair)


def _run_scenario(pair: Any) -> None:
    exists = False
    for i, sql in enumerate(SCENARIO):
        same_outcomes(pair, sql, i)
        exists = exists or sql.startswith(f"CREATE TABLE {TABLE}")
        if exists:
            diff = _compare(pair, f"SELECT * FROM {TABLE} ORDER BY time")
            assert not diff, f"step {i}: {sql}\n" + "\n".join(diff)


def test_enum_statements_and_writes(enum_pair: Any) -> None:
    _run_scenario(enum_pair)


def test_enum_queries(enum_pair: Any) -> None:
    _run_scenario(enum_pair)
    failures = []
    for sql in QUERIES:
        diff = _compare(enum_pair, sql)
        if diff:
            failures.append(sql + "\n  " + "\n  ".join(diff))
    assert not failures, "\n".join(failures)


# bind parameters compared with an enum column take its type, as PostgreSQL infers them
PARAMETERS = [
    ("SELECT host FROM e_events WHERE mood > $1 ORDER BY host", ("meh",)),
    ("SELECT host FROM e_events WHERE mood = $1 ORDER BY host", ("ok",)),
    ("SELECT host FROM e_events WHERE mood BETWEEN $1 AND $2 ORDER BY host", ("awful", "ok")),
    ("SELECT host FROM e_events WHERE mood < $1", ("nope",)),  # 22P02
]


def test_enum_parameters(enum_pair: Any) -> None:
    _run_scenario(enum_pair)
    for sql, params in PARAMETERS:
        pg, ts = run_pg(enum_pair.pg, sql, params), run_tsgres(enum_pair.ts, sql, params)
        diff = differences(sql, pg, ts)
        assert not diff, f"{sql} {params}\n" + "\n".join(diff)


def test_enum_catalog(enum_pair: Any) -> None:
    _run_scenario(enum_pair)
    for sql in CATALOG:
        diff = _compare(enum_pair, sql)
        assert not diff, sql + "\n" + "\n".join(diff)
        assert run_pg(enum_pair.pg, sql).rows, sql


def test_enum_copy(enum_pair: Any) -> None:
    """COPY FROM checks the values as INSERT does (22P02), and writes nothing when one fails."""
    pair = enum_pair
    for sql in (
        "CREATE TYPE e_mood AS ENUM ('sad', 'ok', 'happy')",
        f"CREATE TABLE {TABLE} (time timestamptz NOT NULL, mood e_mood)",
    ):
        pair.pg.execute(sql)
        run_tsgres(pair.ts, sql)
    good = "2024-01-01 00:00:00+00\tok\n2024-01-01 00:00:01+00\thappy\n2024-01-01 00:00:02+00\t\\N\n"
    bad = "2024-01-01 00:00:03+00\tsad\n2024-01-01 00:00:04+00\tnope\n"
    states = []
    for data in (good, bad):
        import psycopg

        from sql.errors import SqlError

        try:
            with pair.pg.cursor().copy(f"COPY {TABLE} FROM STDIN") as copy:
                copy.write(data)
            pg_state = None
        except psycopg.Error as exc:
            pg_state = exc.sqlstate
        try:
            result = pair.ts.execute(pair.ts.prepare(f"COPY {TABLE} FROM STDIN", []), [])
            pair.ts.copy_in(result.copy, iter([data.encode()]))
            ts_state = None
        except SqlError as exc:
            ts_state = exc.sqlstate
        states.append((pg_state, ts_state))
    assert states == [(None, None), ("22P02", "22P02")]
    diff = _compare(pair, f"SELECT * FROM {TABLE} ORDER BY mood")
    assert not diff, "\n".join(diff)


# -- drivers' type introspection ---------------------------------------------------------------------
def _introspection_queries(pg: Any) -> list[tuple[str, str]]:
    """(what, SQL with $1) of the queries drivers learn an unknown type OID or name by: asyncpg's
    (PostgreSQL >= 14 and older), and psycopg's TypeInfo.fetch and EnumInfo.fetch."""
    from asyncpg import introspection
    from psycopg.types import TypeInfo
    from psycopg.types.enum import EnumInfo

    def psycopg_query(cls: Any) -> str:
        return cls._get_info_query(pg).as_string(pg).replace("%(name)s", "$1")

    return [
        ("asyncpg", introspection.INTRO_LOOKUP_TYPES),
        ("asyncpg < 14", introspection.INTRO_LOOKUP_TYPES_13),
        ("psycopg TypeInfo", psycopg_query(TypeInfo)),
        ("psycopg EnumInfo", psycopg_query(EnumInfo)),
    ]


def _enum_oids(run: Any, conn: Any) -> dict[int, str]:
    """Each enum type's OID and its array type's, to the type's name."""
    got = run(conn, "SELECT oid, typarray, typname::text FROM pg_type WHERE typtype = 'e'")
    assert not got.failed, got.message
    return {**{int(o): n for o, _, n in got.rows}, **{int(a): "_" + n for _, a, n in got.rows}}


def _by_name(outcome: Outcome, names: dict[int, str]) -> Outcome:
    """Enum OIDs in the rows (as values or in lists) replaced by the types' names."""

    def swap(v: Any) -> Any:
        if isinstance(v, list):
            return [swap(x) for x in v]
        return names.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else v

    outcome.rows = [tuple(swap(v) for v in r) for r in outcome.rows]
    return outcome


def test_driver_type_introspection(enum_pair: Any) -> None:
    """asyncpg's introspection query (a recursive CTE over pg_type, pg_namespace and pg_range, with an
    oid[] parameter) and psycopg's TypeInfo / EnumInfo queries answer alike for built-in types, their
    arrays, and enum types and their arrays: the rows, and the columns' types (asyncpg reads
    pg_type.typtype as a "char", and knows oid[] but not int8[])."""
    _run_scenario(enum_pair)
    pg_names, ts_names = _enum_oids(run_pg, enum_pair.pg), _enum_oids(run_tsgres, enum_pair.ts)
    failures = []
    for what, sql in _introspection_queries(enum_pair.pg):
        if what.startswith("asyncpg"):
            cases = [
                (
                    names,
                    "{" + ",".join(str(o) for o in [16, 23, 1007, 25, 1009, 1184, 26, 1028, *names]) + "}",
                )
                for names in (pg_names, ts_names)
            ]
            pg_param, ts_param = cases[0][1], cases[1][1]
            checks = [((pg_param,), (ts_param,))]
        else:
            checks = [((n,), (n,)) for n in ("e_renamed", "e_level", "_e_level", "int4", "text", "_text")]
        for pg_params, ts_params in checks:
            pg = _by_name(_named(run_pg(enum_pair.pg, sql, pg_params), pg_names), pg_names)
            ts = _by_name(_named(run_tsgres(enum_pair.ts, sql, ts_params), ts_names), ts_names)
            assert pg.rows, (what, pg_params)
            diff = differences(sql, pg, ts)
            if diff:
                failures.append(f"{what} {pg_params}\n  " + "\n  ".join(diff))
    assert not failures, "\n".join(failures)


def test_pg_type_columns_drivers_read(enum_pair: Any) -> None:
    """The pg_type columns drivers' introspection reads (typtype, typelem, typarray, typbasetype,
    typdelim, typlen, the binary I/O functions) of every built-in type tsgres lists, and of the enum
    types and their arrays, as PostgreSQL 15 has them."""
    _run_scenario(enum_pair)
    listed = run_tsgres(enum_pair.ts, "SELECT oid FROM pg_type WHERE oid < 16384 ORDER BY oid")
    oids = "{" + ",".join(str(r[0]) for r in listed.rows) + "}"
    sql = (
        "SELECT t.typname::text, t.typtype::text, t.typlen, t.typelem::regtype::text AS elem,"
        " t.typarray::regtype::text AS arr, t.typbasetype, t.typdelim::text, t.typreceive::text,"
        " t.typsend::text, t.typinput::text, t.typoutput::text FROM pg_type t"
        " WHERE t.oid = any($1::oid[]) OR t.typname IN ('e_renamed', '_e_renamed', 'e_level', '_e_level')"
        " ORDER BY 1"
    )
    diff = differences(sql, run_pg(enum_pair.pg, sql, (oids,)), run_tsgres(enum_pair.ts, sql, (oids,)))
    assert not diff, "\n".join(diff)
