"""Grafana's PostgreSQL data source against tsgres: the SQL it sends, answered correctly.

What Grafana sends was read from its public source (grafana/grafana):

* pkg/tsdb/grafana-postgresql-datasource/macros.go expands the macros before sending a panel's query:
  ``$__timeFilter(c)`` -> ``c BETWEEN '<from>' AND '<to>'`` (RFC 3339, UTC, trailing zeros trimmed),
  ``$__timeGroup(c, 1m)`` -> ``time_bucket('60.000s',c)`` when the data source has TimescaleDB enabled,
  else ``floor(extract(epoch from c)/60)*60``; ``$__timeGroupAlias`` adds ``AS "time"``;
  ``$__unixEpochFilter(c)`` -> ``c >= <from s> AND c <= <to s>``; ``$__timeFrom()`` / ``$__timeTo()``.
  :func:`expand` below does the same for a given time range.
* sqleng/sql_engine_pgx.go sends the expanded text with pgconn's Exec: the simple query protocol, text
  results. :func:`simple` does that with libpq's PQexec.
* postgresMetaQuery.ts: the version probe, the TimescaleDB probe (which turns on time_bucket in the
  data source settings) and the query builder's schema / table / column lists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.compat.pg.conftest import PgServer

UTC = dt.UTC
FROM = dt.datetime(2024, 1, 1, 0, 10, 0, 500000, tzinfo=UTC)  # a dashboard range: 00:10:00.5 .. 00:40
TO = dt.datetime(2024, 1, 1, 0, 40, 0, tzinfo=UTC)
START = dt.datetime(2024, 1, 1, tzinfo=UTC)
STEP_S = 10
N = 360  # one point per host every 10 s for an hour
HOSTS = ("web-1", "web-2")


def usage(i: int, host: str) -> float:
    return (i % 37) * 0.25 + (10.0 if host == "web-2" else 0.0)


# ---------------------------------------------------------------- Grafana's macro engine, in Python


def _rfc3339nano(t: dt.datetime) -> str:
    """Go's time.RFC3339Nano for a UTC time: fractional seconds without trailing zeros, 'Z'."""
    text = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += "." + f"{t.microsecond:06d}".rstrip("0")
    return text + "Z"


def _go_float(x: float) -> str:
    """Go's %v for a float64 (as Grafana prints interval seconds)."""
    return str(int(x)) if x == int(x) and abs(x) < 1e21 else repr(x)


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _interval_s(text: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)", text.strip().strip("'"))
    assert match, text
    return int(match[1]) * _UNITS[match[2]]


def expand(sql: str, start: dt.datetime, end: dt.datetime, timescaledb: bool) -> str:
    """Expand Grafana's PostgreSQL macros as its macro engine does for the range start..end."""

    def one(m: re.Match[str]) -> str:
        name, args = m[1], [a.strip() for a in m[2].split(",")]
        if name == "__timeGroup" and sql[m.end() : m.end() + 1] == ",":
            name = "__timeGroupAlias"  # pre-5.3 compatibility, as Grafana does
        if name == "__time":
            return f'{args[0]} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{_rfc3339nano(start)}' AND '{_rfc3339nano(end)}'"
        if name == "__timeFrom":
            return f"'{_rfc3339nano(start)}'"
        if name == "__timeTo":
            return f"'{_rfc3339nano(end)}'"
        if name in ("__timeGroup", "__timeGroupAlias"):
            secs = _interval_s(args[1])
            if timescaledb:
                group = f"time_bucket('{secs:.3f}s',{args[0]})"
            else:
                group = f"floor(extract(epoch from {args[0]})/{_go_float(secs)})*{_go_float(secs)}"
            return group + (' AS "time"' if name == "__timeGroupAlias" else "")
        if name == "__unixEpochFilter":
            return f"{args[0]} >= {int(start.timestamp())} AND {args[0]} <= {int(end.timestamp())}"
        if name in ("__unixEpochGroup", "__unixEpochGroupAlias"):
            width = _go_float(_interval_s(args[1]))
            return f"floor(({args[0]})/{width})*{width}" + (' AS "time"' if name.endswith("Alias") else "")
        raise AssertionError(f"unknown macro {name}")

    return re.sub(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)", one, sql)


def test_expand_matches_grafanas_own_examples() -> None:
    # the expansions Grafana's macros_test.go expects, for its time range 2018-04-12T18:00:00Z + 5 min
    start = dt.datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
    end = start + dt.timedelta(minutes=5)
    assert expand("WHERE $__timeFilter(time_column)", start, end, False) == (
        "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"
    )
    assert expand("GROUP BY $__timeGroup(time_column,'5m')", start, end, False) == (
        "GROUP BY floor(extract(epoch from time_column)/300)*300"
    )
    assert expand("GROUP BY $__timeGroup(time_column,'5m')", start, end, True) == (
        "GROUP BY time_bucket('300.000s',time_column)"
    )
    assert expand("select $__timeGroupAlias(time_column,'5m')", start, end, False) == (
        'select floor(extract(epoch from time_column)/300)*300 AS "time"'
    )
    assert expand("select $__unixEpochFilter(time)", start, end, False) == (
        f"select time >= {int(start.timestamp())} AND time <= {int(end.timestamp())}"
    )


# ---------------------------------------------------------------- the server side


def simple(conn: psycopg.Connection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:  # type: ignore[type-arg]
    """Run ``sql`` over the simple query protocol (as pgx's PgConn.Exec does): type names and text rows."""
    res = conn.pgconn.exec_(sql.encode())
    if res.status != psycopg.pq.ExecStatus.TUPLES_OK:
        raise AssertionError(f"{res.error_message.decode()}\n{sql}")
    oids = [res.ftype(i) for i in range(res.nfields)]
    names = {
        16: "bool",
        20: "int8",
        23: "int4",
        25: "text",
        701: "float8",
        1043: "varchar",
        1184: "timestamptz",
    }
    types = [names.get(o, str(o)) for o in oids]
    rows: list[tuple[Any, ...]] = []  # text values, None for NULL
    for r in range(res.ntuples):
        values = [res.get_value(r, c) for c in range(res.nfields)]
        rows.append(tuple(None if v is None else v.decode() for v in values))
    return types, rows


@pytest.fixture(scope="module")
def grafana(pg_server: PgServer) -> Iterator[psycopg.Connection]:  # type: ignore[type-arg]
    db = pg_server.database("grafana")
    with pg_server.connect(db) as conn:
        conn.execute(
            "CREATE TABLE cpu (time timestamptz NOT NULL, host text, usage double precision, epoch bigint)"
        )
        with conn.cursor().copy("COPY cpu (time, host, usage, epoch) FROM STDIN") as copy:
            for i in range(N):
                t = START + dt.timedelta(seconds=STEP_S * i)
                for host in HOSTS:
                    copy.write_row((t, host, usage(i, host), int(t.timestamp())))
        conn.execute("CREATE SCHEMA archive")
        conn.execute('CREATE TABLE archive."Old-Cpu" (time timestamptz NOT NULL, v int)')
        yield conn


def _points(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, str, float]]:
    out: list[tuple[dt.datetime, str, float]] = []
    for i in range(N):
        t = START + dt.timedelta(seconds=STEP_S * i)
        if start <= t <= end:
            out.extend((t, h, usage(i, h)) for h in HOSTS)
    return out


def _buckets(width_s: int, host: str | None = None) -> dict[int, tuple[float, int]]:
    """epoch seconds of each bucket in FROM..TO -> (avg usage, count), over one host or all."""
    sums: dict[int, list[float]] = {}
    for t, h, v in _points(FROM, TO):
        if host is None or h == host:
            key = int(t.timestamp()) // width_s * width_s
            sums.setdefault(key, []).append(v)
    return {k: (sum(v) / len(v), len(v)) for k, v in sorted(sums.items())}


def _ts_text(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def test_version_and_timescaledb_probes(grafana: psycopg.Connection) -> None:  # type: ignore[type-arg]
    assert simple(grafana, "SELECT current_setting('server_version_num')::int/100 as version") == (
        ["int4"],
        [("1500",)],
    )
    types, rows = simple(grafana, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    assert types == ["text"]
    assert len(rows) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", rows[0][0] or "")
    assert simple(grafana, "SELECT 1") == (["int4"], [("1",)])  # the data source's health check


@pytest.mark.parametrize("timescaledb", [True, False], ids=["time_bucket", "floor_epoch"])
def test_time_series_panel(grafana: psycopg.Connection, timescaledb: bool) -> None:  # type: ignore[type-arg]
    # what the query builder writes for "avg(usage) per 1m of cpu", then Grafana expands
    raw = (
        'SELECT $__timeGroupAlias(time, 1m), avg(usage) AS "usage", count(*) AS n FROM cpu '
        "WHERE $__timeFilter(time) GROUP BY 1 ORDER BY 1"
    )
    sql = expand(raw, FROM, TO, timescaledb)
    assert ("time_bucket('60.000s',time)" in sql) is timescaledb
    assert "time BETWEEN '2024-01-01T00:10:00.5Z' AND '2024-01-01T00:40:00Z'" in sql
    types, rows = simple(grafana, sql)
    expected = _buckets(60)
    assert len(rows) == len(expected) == 31
    if timescaledb:
        assert types == ["timestamptz", "float8", "int8"]
        assert [r[0] for r in rows] == [_ts_text(k) for k in expected]
    else:
        assert types[1:] == ["float8", "int8"] and types[0] == "1700"  # numeric, as in PostgreSQL 15
        assert [r[0] for r in rows] == [str(k) for k in expected]
    assert [float(r[1]) for r in rows] == pytest.approx([v[0] for v in expected.values()], rel=1e-12)
    assert [int(r[2]) for r in rows] == [v[1] for v in expected.values()]
    assert int(rows[0][2]) == 10  # 00:10:00 itself is before the range start (00:10:00.5)


@pytest.mark.parametrize("timescaledb", [True, False], ids=["time_bucket", "floor_epoch"])
def test_time_series_per_host_with_metric_column(grafana: psycopg.Connection, timescaledb: bool) -> None:  # type: ignore[type-arg]
    raw = (
        "SELECT $__timeGroupAlias(time, '5m'), host AS metric, max(usage) AS \"max\" FROM cpu "
        "WHERE $__timeFilter(time) AND host IN ('web-1','web-2') GROUP BY 1, 2 ORDER BY 1, 2"
    )
    _, rows = simple(grafana, expand(raw, FROM, TO, timescaledb))
    want = []
    for k in _buckets(300):
        for host in HOSTS:
            vals = [v for t, h, v in _points(FROM, TO) if h == host and int(t.timestamp()) // 300 * 300 == k]
            want.append((_ts_text(k) if timescaledb else str(k), host, max(vals)))
    assert [(r[0], r[1], float(r[2])) for r in rows] == want  # type: ignore[arg-type]


def test_unix_epoch_filter_and_time_macros(grafana: psycopg.Connection) -> None:  # type: ignore[type-arg]
    raw = (
        "SELECT epoch AS \"time\", usage FROM cpu WHERE $__unixEpochFilter(epoch) AND host = 'web-1' "
        "ORDER BY 1"
    )
    _, rows = simple(grafana, expand(raw, FROM, TO, False))
    lo, hi = int(FROM.timestamp()), int(TO.timestamp())
    want = [
        (int(t.timestamp()), v)
        for t, h, v in _points(START, TO)
        if h == "web-1" and lo <= t.timestamp() <= hi
    ]
    assert [(int(r[0]), float(r[1])) for r in rows] == want  # type: ignore[arg-type]
    assert want[0][0] == lo  # the filter is in whole seconds: 00:10:00 is in

    raw = (
        "SELECT $__timeGroupAlias(time, 10m), count(*) FROM cpu "
        "WHERE time >= $__timeFrom() AND time < $__timeTo() GROUP BY 1 ORDER BY 1"
    )
    _, rows = simple(grafana, expand(raw, FROM, TO, True))
    assert rows == [
        ("2024-01-01 00:10:00+00", "118"),
        ("2024-01-01 00:20:00+00", "120"),
        ("2024-01-01 00:30:00+00", "120"),
    ]

    _, rows = simple(
        grafana,
        expand("SELECT $__time(time), $__timeEpoch(time) FROM cpu ORDER BY 1 LIMIT 1", FROM, TO, False),
    )
    assert rows == [("2024-01-01 00:00:00+00", "1704067200.000000")]


def test_query_builder_catalog_queries(grafana: psycopg.Connection) -> None:  # type: ignore[type-arg]
    schema_constraint = """
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )"""
    excluded = """('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')"""
    show_schemas = """SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name"""
    assert simple(grafana, show_schemas)[1] == [("archive",), ("public",)]

    show_tables = f"""SELECT
    CASE WHEN {schema_constraint}
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN {excluded}
    ORDER BY CASE WHEN {schema_constraint} THEN 0 ELSE 1 END, 1"""
    assert simple(grafana, show_tables)[1] == [("cpu",), ('archive."Old-Cpu"',)]

    def show_tables_in(schema: str) -> str:
        return f"""SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = '{schema}'
      ORDER BY 1"""

    assert simple(grafana, show_tables_in("public"))[1] == [("cpu",)]
    assert simple(grafana, show_tables_in("archive"))[1] == [('"Old-Cpu"',)]

    def get_schema(table: str) -> str:
        part = "'" + table.replace("'", "''") + "'"
        return f"""SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident({part}),1) = 2
        THEN quote_ident(table_schema) = (parse_ident({part}))[1]
          AND quote_ident(table_name) = (parse_ident({part}))[2]
        ELSE quote_ident(table_name) = {part}
          AND {schema_constraint}
      END"""

    columns = [
        ('"time"', "timestamp with time zone"),  # quote_ident quotes the keyword, as PostgreSQL does
        ("host", "text"),
        ("usage", "double precision"),
        ("epoch", "bigint"),
    ]
    assert sorted(simple(grafana, get_schema("cpu"))[1]) == sorted(columns)
    assert sorted(simple(grafana, get_schema("public.cpu"))[1]) == sorted(
        simple(grafana, get_schema("cpu"))[1]
    )
    # a quoted name: Grafana compares quote_ident(table_name) with parse_ident's unquoted part, so it
    # finds no columns; PostgreSQL 15 answers the same (empty)
    assert simple(grafana, get_schema('archive."Old-Cpu"'))[1] == []
