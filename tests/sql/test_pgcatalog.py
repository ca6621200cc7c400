"""pg_catalog / information_schema emulation, driven by the catalog queries real clients send.

The queries are captured from the clients themselves (tests/fixtures/catalog: psql 15's describe
commands via ``psql -E``, SQLAlchemy 2's inspector and pgjdbc's DatabaseMetaData from a real
PostgreSQL 15's statement log, Grafana's data source queries from its source) and replayed in-process
through SqlSession against tables created by SQL DDL and by line-protocol-shaped writes.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from columnar.batch import WriteBatch
from columnar.engine import Engine
from columnar.options import EngineOptions
from sql import errors as E
from sql.engine import SqlEngine
from sql.parse import parse
from sql.rewrite import RewriteContext
from tests.sql.fixtures_loader import Fixture, normalise_sql, text
from tests.sql.fixtures_loader import load as load_rewrite
from tests.sql.test_timescale_information import VIEWS as TIMESCALEDB_VIEWS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catalog"
NS = 1_700_000_000_000_000_000


@dataclass
class Entry:
    client: str
    title: str
    sql: str
    params: list[str | None]

    @property
    def id(self) -> str:
        return f"{self.client}:{self.title}"


def load(name: str) -> list[Entry]:
    """The statements of a fixture file: ``-- <client>: <title>``, optional ``-- params: [json]``."""
    text = (FIXTURES / name).read_text()
    parts = re.split(r"^-- (psql|sqlalchemy|jdbc|grafana): (.*)$", text, flags=re.M)
    out = []
    for client, title, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        params: list[str | None] = []
        m = re.match(r"\s*-- params: (.*)\n", body)
        if m:
            params = json.loads(m.group(1))
            body = body[m.end() :]
        out.append(Entry(client, title, body.strip().rstrip(";"), params))
    return out


class Catalog:
    """A SqlSession over a fresh data directory holding the objects the fixtures name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.storage = Engine.open(path, EngineOptions(compaction_interval_s=0))
        self.session = SqlEngine(self.storage).session("postgres")
        self._replayed: dict[tuple, tuple[list[str], list[tuple]]] = {}  # kept until the next change

    def q(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.run(sql, params)[1]

    def run(self, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
        if not sql.lstrip().upper().startswith("SELECT"):
            self._replayed.clear()
        stmt = self.session.prepare(sql, [])
        res = self.session.execute(stmt, list(params or []))
        rows = [row for b in res.batches for row in zip(*(c.to_pylist() for c in b.columns), strict=True)]
        return [c.name for c in res.columns or []], rows

    def one(self, sql: str, params: list | None = None):
        rows = self.q(sql, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def oid(self, name: str) -> int:
        key = ("oid", name)
        if key not in self._replayed:
            self._replayed[key] = ([], [(self.one(f"SELECT '{name}'::regclass::oid"),)])
        return self._replayed[key][1][0][0]

    def substitute(self, text: str) -> str:
        return re.sub(r"\{oid:(\w+)\}", lambda m: str(self.oid(m[1])), text)

    def replay(self, e: Entry, **param_overrides: str) -> tuple[list[str], list[tuple]]:
        """Run a captured client query (its result is reused until the catalog changes)."""
        params = [self.substitute(p) if isinstance(p, str) else p for p in e.params]
        for i, value in param_overrides.items():
            params[int(i.removeprefix("p")) - 1] = self.substitute(value)
        key = (e.sql, tuple(params))
        if key not in self._replayed:
            self._replayed[key] = self.run(self.substitute(e.sql), params)
        return self._replayed[key]

    def close(self) -> None:
        self.session.close()
        self.storage.close()


SETUP = [
    "CREATE TABLE cpu (time timestamptz NOT NULL, host varchar(20), usage double precision, n int4)",
    "CREATE TABLE readings (time timestamptz NOT NULL, device text NOT NULL, value real, "
    "PRIMARY KEY (device, time))",
    "CREATE TABLE meters (time timestamptz NOT NULL, meter text, kwh numeric(10,2), UNIQUE (meter, time))",
    "CREATE VIEW v_cpu AS SELECT host, usage FROM cpu",
    "CREATE SCHEMA one_week",
    "CREATE TABLE one_week.metrics (time timestamptz NOT NULL, name text, value float8)",
    "CREATE EXTENSION pg_stat_statements",
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory):
    c = Catalog(tmp_path_factory.mktemp("pgcatalog"))
    for sql in SETUP:
        c.q(sql)
    # a table as line protocol creates it: tags and fields, no declared types
    batch = WriteBatch.from_rows(
        "weather",
        [NS, NS + 10**9],
        tags=[{"city": "paris"}, {"city": "oslo"}],
        fields={"temp": [21.5, 3.0], "humidity": [40, 80]},
    )
    c.storage.write("postgres", batch).check()
    yield c
    c.close()


# -- psql 15 -----------------------------------------------------------------------------------------------
PSQL = load("psql15.sql")


@pytest.mark.parametrize("entry", PSQL, ids=[e.id for e in PSQL])
def test_psql_describe_queries_run(cat: Catalog, entry: Entry) -> None:
    cat.replay(entry)


def _psql(cat: Catalog, title: str) -> list[tuple]:
    return cat.replay(next(e for e in PSQL if e.title == title))[1]


def test_psql_lists_databases_schemas_and_tables(cat: Catalog) -> None:
    assert [r[:3] for r in _psql(cat, r"\l (1/1)")] == [("postgres", "postgres", "UTF8")]
    assert _psql(cat, r"\dn (1/1)") == [
        ("one_week", "postgres"),
        ("public", "pg_database_owner"),
        ("timescaledb_information", "postgres"),  # (TimescaleDB's views, as \dn lists them there)
    ]
    # \dt lists the tables on the search path: SQL-created and line-protocol-created alike
    assert _psql(cat, r"\dt (1/1)") == [
        ("public", name, "table", "postgres") for name in ("cpu", "meters", "readings", "weather")
    ]
    assert _psql(cat, r"\dv (1/1)") == [("public", "v_cpu", "view", "postgres")]
    assert _psql(cat, r"\di (1/1)") == [
        ("public", "meters_meter_time_key", "index", "postgres", "meters"),
        ("public", "readings_pkey", "index", "postgres", "readings"),
    ]
    assert ("public", "v_cpu", "view", "postgres") in _psql(cat, r"\d (1/1)")
    assert [r[0] for r in _psql(cat, r"\dx (1/1)")] == ["pg_stat_statements", "plpgsql", "timescaledb"]
    assert _psql(cat, r"\du (1/1)")[0][:2] == ("postgres", True)


def test_psql_describes_a_table(cat: Catalog) -> None:
    assert _psql(cat, r"\d cpu (1/8)") == [(cat.oid("cpu"), "public", "cpu")]
    rel = _psql(cat, r"\d cpu (2/8)")[0]
    assert rel[1] == "r" and rel[-1] == "heap"
    assert _psql(cat, r"\d cpu (3/8)") == [
        ("time", "timestamp with time zone", None, True, None, "", ""),
        ("host", "character varying(20)", None, False, None, "", ""),
        ("usage", "double precision", None, False, None, "", ""),
        ("n", "integer", None, False, None, "", ""),
    ]
    plus = _psql(cat, r"\d+ cpu (3/8)")
    assert [(r[0], r[7]) for r in plus] == [("time", "p"), ("host", "x"), ("usage", "p"), ("n", "p")]


def test_psql_describes_keys_views_and_indexes(cat: Catalog) -> None:
    cols = _psql(cat, r"\d readings (3/9)")
    assert [(r[0], r[1], r[3]) for r in cols] == [
        ("time", "timestamp with time zone", True),
        ("device", "text", True),
        ("value", "real", False),
    ]
    (idx,) = _psql(cat, r"\d readings (4/9)")
    assert idx[:3] == ("readings_pkey", True, True)
    # (pretty, as psql asks: the table as regclass shows it, unqualified on the search path, as PostgreSQL 15)
    assert idx[5] == 'CREATE UNIQUE INDEX readings_pkey ON readings USING btree (device, "time")'
    assert idx[6:8] == ('PRIMARY KEY (device, "time")', "p")
    assert [r[:2] for r in _psql(cat, r"\d v_cpu (3/3)")] == [
        ("host", "character varying(20)"),
        ("usage", "double precision"),
    ]
    assert "SELECT host, usage FROM cpu" in _psql(cat, r"\d+ v_cpu (4/5)")[0][0]
    assert _psql(cat, r"\d readings_pkey (3/4)") == [
        ("device", "text", "yes", "device"),
        ("time", "timestamp with time zone", "yes", '"time"'),
    ]
    assert _psql(cat, r"\d readings_pkey (4/4)")[0][:2] == (True, True)


def test_psql_plus_commands_show_sizes_and_access_methods(cat: Catalog) -> None:
    tables = {r[1]: r for r in _psql(cat, r"\dt+ (1/1)")}
    assert tables["meters"][4:] == ("permanent", "heap", "0 bytes", None)  # nothing flushed yet
    assert [r[1] for r in _psql(cat, r"\di+ (1/1)")] == ["meters_meter_time_key", "readings_pkey"]
    assert [r[0] for r in _psql(cat, r"\l+ (1/1)")] == ["postgres"]
    assert [r[1] for r in _psql(cat, r"\dp (1/1)")] == ["cpu", "meters", "readings", "v_cpu", "weather"]


def test_psql_lists_the_timescaledb_functions(cat: Catalog) -> None:
    rows = _psql(cat, r"\df (1/1)")
    assert (
        "public",
        "time_bucket",
        "timestamp with time zone",
        "interval, timestamp with time zone",
        "func",
    ) in rows
    assert ("public", "last", "anyelement", 'anyelement, "any"', "agg") in rows


def test_line_protocol_table_columns(cat: Catalog) -> None:
    oid = cat.oid("weather")
    rows = cat.q(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull "
        "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 ORDER BY a.attnum",
        [oid],
    )
    assert sorted(rows) == [
        ("city", "text", False),
        ("humidity", "bigint", False),
        ("temp", "double precision", False),
        ("time", "timestamp with time zone", True),
    ]


# -- SQLAlchemy 2 ---------------------------------------------------------------------------------------
SQLALCHEMY = load("sqlalchemy2.sql")


@pytest.mark.parametrize("entry", SQLALCHEMY, ids=[f"{e.id}-{i}" for i, e in enumerate(SQLALCHEMY)])
def test_sqlalchemy_inspector_queries_run(cat: Catalog, entry: Entry) -> None:
    cat.replay(entry)


def _sqlalchemy(cat: Catalog, title: str, n: int = -1, **params: str) -> list[tuple]:
    return cat.replay([e for e in SQLALCHEMY if e.title == title][n], **params)[1]


def test_sqlalchemy_inspector_answers(cat: Catalog) -> None:
    assert sorted(r[0] for r in _sqlalchemy(cat, "get_table_names")) == [
        "cpu",
        "meters",
        "readings",
        "weather",
    ]
    cols = _sqlalchemy(cat, "get_columns")
    assert [(r[0], r[1], r[3]) for r in cols] == [
        ("time", "timestamp with time zone", True),
        ("host", "character varying(20)", False),
        ("usage", "double precision", False),
        ("n", "integer", False),
    ]
    assert _sqlalchemy(cat, "get_pk_constraint")[0][1:3] == (["device", "time"], "readings_pkey")
    assert _sqlalchemy(cat, "has_table") == [("cpu",)]
    assert _sqlalchemy(cat, "has_table", p1="nope") == []
    assert _sqlalchemy(cat, "get_view_names") == [("v_cpu",)]
    assert _sqlalchemy(cat, "get_schema_names") == [
        ("information_schema",),
        ("one_week",),
        ("public",),
        ("timescaledb_information",),
    ]
    # meters has a UNIQUE key: an index and a unique constraint for the inspector
    meters = "{oid:meters}"
    (index,) = _sqlalchemy(cat, "get_indexes", p6=meters)
    assert index[1:4] == ("meters_meter_time_key", True, True) and index[-3] == ["meter", "time"]
    (unique,) = _sqlalchemy(cat, "get_unique_constraints", p4=meters)
    assert unique[1:3] == (["meter", "time"], "meters_meter_time_key")
    assert [r[1] for r in _sqlalchemy(cat, "get_foreign_keys")] == [None]


# -- pgjdbc --------------------------------------------------------------------------------------------------
JDBC = load("jdbc.sql")


@pytest.mark.parametrize("entry", JDBC, ids=[f"{e.id}-{i}" for i, e in enumerate(JDBC)])
def test_jdbc_metadata_queries_run(cat: Catalog, entry: Entry) -> None:
    cat.replay(entry)


def _jdbc(cat: Catalog, title: str) -> list[tuple]:
    return cat.replay(next(e for e in JDBC if e.title == title))[1]


def test_jdbc_metadata_answers(cat: Catalog) -> None:
    tables = [(r[1], r[2], r[3]) for r in _jdbc(cat, "getTables")]
    assert tables == [
        ("one_week", "metrics", "TABLE"),
        ("public", "cpu", "TABLE"),
        ("public", "meters", "TABLE"),
        ("public", "readings", "TABLE"),
        ("public", "weather", "TABLE"),
        ("public", "v_cpu", "VIEW"),
        # TimescaleDB's views: pgjdbc lists every view outside pg_catalog and information_schema
        *[("timescaledb_information", v, "VIEW") for v in TIMESCALEDB_VIEWS],
    ]
    cols = [(r[2], r[3], r[4], r[5], r[8]) for r in _jdbc(cat, "getColumns")]
    assert cols == [
        ("time", 1184, True, -1, 1),
        ("host", 1043, False, 24, 2),
        ("usage", 701, False, -1, 3),
    ] + [("n", 23, False, -1, 4)]
    assert [(r[3], r[4], r[5]) for r in _jdbc(cat, "getPrimaryKeys")] == [
        ("device", 1, "readings_pkey"),
        ("time", 2, "readings_pkey"),
    ]
    assert [r[0] for r in _jdbc(cat, "getSchemas")] == [
        "information_schema",
        "one_week",
        "pg_catalog",
        "public",
        "timescaledb_information",
    ]
    assert [(r[5], r[7], r[8]) for r in _jdbc(cat, "getIndexInfo")] == [
        ("readings_pkey", 1, "device"),
        ("readings_pkey", 2, "time"),
    ]


# -- Grafana ---------------------------------------------------------------------------------------------------
GRAFANA = load("grafana.sql")


@pytest.mark.parametrize("entry", GRAFANA, ids=[e.id for e in GRAFANA])
def test_grafana_queries_run(cat: Catalog, entry: Entry) -> None:
    cat.replay(entry)


def test_grafana_answers(cat: Catalog) -> None:
    def grafana(title: str) -> list[tuple]:
        return cat.replay(next(e for e in GRAFANA if e.title == title))[1]

    assert grafana("getVersion") == [(1500,)]
    assert grafana("getTimescaleDBVersion") == [("2.14.2",)]
    assert grafana("showSchemas") == [("one_week",), ("public",)]
    assert grafana("showTables") == [
        ("cpu",),
        ("meters",),
        ("readings",),
        ("v_cpu",),
        ("weather",),
        ("one_week.metrics",),
    ]
    assert [r[0] for r in grafana("showTables(schema)")] == ["cpu", "meters", "readings", "v_cpu", "weather"]
    expected = [
        ('"time"', "timestamp with time zone"),
        ("host", "character varying"),
        ("usage", "double precision"),
        ("n", "integer"),
    ]
    assert grafana("getSchema(table)") == expected
    assert grafana("getSchema(schema.table)") == expected


# -- functions and syntax ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT format_type(1043, 24)", "character varying(20)"),
        ("SELECT format_type(1043, -1)", "character varying"),
        ("SELECT format_type(1042, 9)", "character(5)"),
        ("SELECT format_type(1042, -1)", "bpchar"),
        ("SELECT format_type(1042, NULL)", "character"),
        ("SELECT format_type(1700, 655366)", "numeric(10,2)"),
        ("SELECT format_type(1184, 3)", "timestamp(3) with time zone"),
        ("SELECT format_type(1115, -1)", "timestamp without time zone[]"),
        ("SELECT format_type(18, -1)", '"char"'),
        ("SELECT pg_catalog.format_type(2205, NULL)", "regclass"),
        ("SELECT quote_ident('time')", '"time"'),
        ("SELECT quote_ident('cpu')", "cpu"),
        ("SELECT quote_ident('Cpu')", '"Cpu"'),
        ("SELECT quote_ident('a\"b')", '"a""b"'),
        ("SELECT pg_size_pretty(10239::bigint)", "10239 bytes"),
        ("SELECT pg_size_pretty(10240::bigint)", "10 kB"),
        ("SELECT pg_size_pretty(1048576::bigint)", "1024 kB"),
        ("SELECT pg_size_pretty(10485760::bigint)", "10 MB"),
        ("SELECT pg_size_pretty(123456789012::bigint)", "115 GB"),
        ("SELECT parse_ident('public.\"Cpu\"')", ["public", "Cpu"]),
        ("SELECT pg_get_userbyid(10)", "postgres"),
        ("SELECT pg_encoding_to_char(6)", "UTF8"),
        ("SELECT has_table_privilege('cpu', 'SELECT')", True),
        ("SELECT pg_is_in_recovery()", False),
        ("SELECT 'integer'::regtype::oid", 23),
        ("SELECT 'varchar(20)'::regtype::text", "character varying"),
        ("SELECT 1043::regtype::text", "character varying"),
        ("SELECT to_regtype('hstore')", None),
        ("SELECT to_regclass('nope')", None),
        ("SELECT 'public'::regnamespace::oid", 2200),
        ("SELECT 'pg_catalog.pg_class'::regclass::oid", 1259),
        ("SELECT 'pg_class'::regclass::text", "pg_class"),
        ("SELECT 'information_schema.tables'::regclass::text", "information_schema.tables"),
        ("SELECT 'array_in'::regproc", "array_in"),
        ("SELECT 'pg_catalog.now'::regproc::oid", 1299),
        (
            "SELECT typname FROM pg_type WHERE typinput = 'pg_catalog.array_in'::regproc AND typelem = 23",
            "_int4",
        ),
        ("SELECT current_schemas(false)", ["public"]),
        ("SELECT 'a' OPERATOR(pg_catalog.=) 'a'", True),
        ("SELECT 'cpu' OPERATOR(pg_catalog.~) '^c' COLLATE pg_catalog.default", True),
        ("SELECT E'a\\nb'", "a\nb"),
        ("SELECT array_to_string(ARRAY['a', 'b'], E'\\n')", "a\nb"),
        ("SELECT pg_get_serial_sequence('cpu', 'n')", None),
        ("SELECT pg_get_partkeydef('cpu'::regclass)", None),
    ],
)
def test_functions(cat: Catalog, sql: str, expected: object) -> None:
    assert cat.one(sql) == expected


def test_regclass_round_trip(cat: Catalog) -> None:
    oid = cat.oid("cpu")
    assert cat.one("SELECT oid FROM pg_class WHERE relname = 'cpu'") == oid
    assert cat.one("SELECT 'public.cpu'::regclass::oid") == oid
    assert cat.one("SELECT '\"cpu\"'::regclass::oid") == oid
    assert cat.one(f"SELECT {oid}::regclass::text") == "cpu"
    assert cat.one(f"SELECT '{oid}'::regclass::oid") == oid
    assert cat.one("SELECT c.oid::regclass FROM pg_class c WHERE c.relname = 'cpu'") == "cpu"
    # not on the search path: schema-qualified, as PostgreSQL prints it
    assert cat.one("SELECT 'one_week.metrics'::regclass::text") == "one_week.metrics"
    assert cat.one("SELECT pg_table_is_visible('one_week.metrics'::regclass)") is False
    assert cat.one("SELECT pg_table_is_visible('cpu'::regclass)") is True
    assert cat.one("SELECT count(*) FROM pg_attribute WHERE attrelid = 'cpu'::regclass AND attnum > 0") == 4
    with pytest.raises(E.SqlError, match='relation "nope" does not exist'):
        cat.q("SELECT 'nope'::regclass")


def test_zero_based_vectors(cat: Catalog) -> None:
    """int2vector columns (pg_index.indkey) are zero-based, as in PostgreSQL."""
    oid = cat.oid("readings")
    row = cat.q(
        "SELECT i.indkey[0], i.indkey[1], array_lower(i.indkey, 1), array_upper(i.indkey, 1) "
        "FROM pg_index i WHERE i.indrelid = $1",
        [oid],
    )
    assert row == [(2, 1, 0, 1)]
    subs = cat.q(
        "SELECT generate_subscripts(indkey, 1) AS k, unnest(indkey) AS a FROM pg_index WHERE indrelid = $1",
        [oid],
    )
    assert subs == [(0, 2), (1, 1)]


def test_catalog_views(cat: Catalog) -> None:
    assert ("public", "cpu", "postgres", None, False, False, False, False) in cat.q("SELECT * FROM pg_tables")
    assert cat.q("SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'") == [
        ("v_cpu", "SELECT host, usage FROM cpu")
    ]
    assert cat.q("SELECT indexname FROM pg_indexes WHERE tablename = 'readings'") == [("readings_pkey",)]
    settings = dict(cat.q("SELECT name, setting FROM pg_settings"))
    assert settings["server_version_num"] == "150006"
    assert cat.one("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()") == 1
    assert cat.q("SELECT datname, encoding FROM pg_database") == [("postgres", 6)]
    for empty in (
        "pg_trigger",
        "pg_policy",
        "pg_enum",
        "pg_range",
        "pg_sequences",
        "pg_matviews",
        "pg_inherits",
    ):
        assert cat.q(f"SELECT * FROM pg_catalog.{empty}") == []
    assert cat.q(
        "SELECT constraint_name, constraint_type FROM information_schema.table_constraints ORDER BY 1"
    ) == [("meters_meter_time_key", "UNIQUE"), ("readings_pkey", "PRIMARY KEY")]
    assert cat.q(
        "SELECT column_name, ordinal_position FROM information_schema.key_column_usage "
        "WHERE table_name = 'readings' ORDER BY 2"
    ) == [("device", 1), ("time", 2)]
    assert cat.q(
        "SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, "
        "datetime_precision, is_nullable FROM information_schema.columns WHERE table_name = 'meters' "
        "ORDER BY ordinal_position"
    ) == [
        ("time", "timestamp with time zone", None, None, None, 6, "NO"),
        ("meter", "text", None, None, None, None, "YES"),
        ("kwh", "numeric", None, 10, 2, None, "YES"),
    ]
    assert cat.q("SELECT character_set_name FROM information_schema.character_sets") == [("UTF8",)]


def test_a_view_over_the_catalog_and_another_database(tmp_path: Path) -> None:
    c = Catalog(tmp_path)
    try:
        c.q("CREATE VIEW v_cols AS SELECT attname FROM pg_attribute WHERE attnum > 0")
        rows = c.q(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = 'v_cols'::regclass ORDER BY a.attnum"
        )
        assert rows == [("attname", "name")]  # (the catalog column's type, as in PostgreSQL)
        c.storage.create_database("metrics")
        batch = WriteBatch.from_rows("mem", [NS], tags=[{"host": "a"}], fields={"used": [1.0]})
        c.storage.write("metrics", batch).check()
        other = SqlEngine(c.storage).session("metrics")
        try:
            res = other.execute(
                other.prepare("SELECT relname FROM pg_class WHERE relnamespace = 2200", []), []
            )
            assert [r["relname"] for b in res.batches for r in b.to_pylist()] == ["mem"]
            res = other.execute(other.prepare("SELECT datname FROM pg_database ORDER BY 1", []), [])
            assert [r["datname"] for b in res.batches for r in b.to_pylist()] == ["metrics", "postgres"]
            sql = "SELECT DISTINCT table_catalog FROM information_schema.columns"
            res = other.execute(other.prepare(sql, []), [])
            assert [r["table_catalog"] for b in res.batches for r in b.to_pylist()] == ["metrics"]
        finally:
            other.close()
    finally:
        c.close()


def test_unknown_catalog_relation(cat: Catalog) -> None:
    with pytest.raises(E.UndefinedTable):
        cat.q("SELECT * FROM pg_catalog.pg_nonesuch")


def test_relation_sizes_come_from_chunk_files(cat: Catalog) -> None:
    assert cat.one("SELECT pg_relation_size('cpu')") == 0
    cat.q(
        "INSERT INTO cpu VALUES ('2024-01-01T00:00:00Z', 'a', 1.5, 1), ('2024-01-01T00:00:01Z', 'b', 2.5, 2)"
    )
    cat.storage.flush()
    size = cat.one("SELECT pg_total_relation_size('cpu'::regclass)")
    assert size > 0
    assert cat.one("SELECT pg_relation_size(oid) FROM pg_class WHERE relname = 'cpu'") == size
    assert cat.one("SELECT reltuples FROM pg_class WHERE relname = 'cpu'") == 2.0
    assert cat.one("SELECT pg_database_size(current_database())") >= size


def test_oids_are_stable_across_restarts(tmp_path: Path) -> None:
    c = Catalog(tmp_path)
    for sql in SETUP:
        c.q(sql)
    query = "SELECT relname, oid FROM pg_class WHERE relnamespace <> 11 AND relnamespace <> 13207 ORDER BY 1"
    before = c.q(query) + c.q("SELECT nspname, oid FROM pg_namespace ORDER BY 1")
    c.close()
    c = Catalog(tmp_path)
    try:
        assert c.q(query) + c.q("SELECT nspname, oid FROM pg_namespace ORDER BY 1") == before
    finally:
        c.close()


def test_timescaledb_is_listed_without_create_extension(tmp_path: Path) -> None:
    c = Catalog(tmp_path)
    try:
        assert c.q("SELECT extname FROM pg_extension ORDER BY 1") == [("plpgsql",), ("timescaledb",)]
    finally:
        c.close()


# -- against PostgreSQL 15 --------------------------------------------------------------------------------
_FORMAT_TYPES = [16, 17, 18, 19, 20, 21, 23, 25, 26, 114, 700, 701, 1000, 1007, 1015, 1042, 1043, 1082]
_FORMAT_TYPES += [1083, 1114, 1115, 1184, 1185, 1231, 1266, 1700, 2205, 2950, 3802]  # not interval:
# PostgreSQL rejects most interval typmods
_SIZES = [0, 1, 10239, 10240, 10241, 20971519, 20971520, 123456789, 10**12, 10**15, 2**62, -1, -10241]
_IDENTS = ["time", "cpu", "Cpu", "a b", "select", "user", "_x", "x$", "x1", "1abc", "", 'a"b', "naïve"]
_TYPE_NAMES = [
    "int", "integer", "int4", "varchar(20)", "character varying", "double precision", "float8",
    "timestamptz", "timestamp with time zone", "timestamp(3) without time zone", "bool", "text[]",
    "_int4", "pg_catalog.int8", '"char"', "char", "numeric(10,2)", "hstore", "regclass", "uuid",
]  # fmt: skip


def _values(items: list, cast: str = "") -> str:
    return ", ".join(
        f"({i!r}{cast})" if not isinstance(i, str) else "('" + i.replace("'", "''") + "')" for i in items
    )


DIFFERENTIAL = [
    f"SELECT o, m, format_type(o, m) FROM (VALUES {_values(_FORMAT_TYPES)}) a(o), "
    "(VALUES (NULL::int), (-1), (0), (3), (5), (9), (24), (655366)) b(m) ORDER BY 1, 2",
    f"SELECT n, pg_size_pretty(n) FROM (VALUES {_values(_SIZES, '::bigint')}) v(n) ORDER BY 1",
    f"SELECT i, quote_ident(i) FROM (VALUES {_values(_IDENTS)}) v(i) ORDER BY 1",
    f"SELECT t, to_regtype(t)::oid, to_regtype(t)::text FROM (VALUES {_values(_TYPE_NAMES)}) v(t) ORDER BY 1",
    "SELECT parse_ident('a.b'), parse_ident('public.\"Cpu\"'), parse_ident('A.b')",
    "SELECT pg_encoding_to_char(6), pg_encoding_to_char(0)",
    "SELECT 'pg_class'::regclass::oid, 'pg_catalog.pg_type'::regclass::text, 'pg_namespace'::regclass",
    "SELECT 'pg_catalog'::regnamespace::oid, 11::regnamespace::text, 23::regtype, 1043::regtype::text",
    "SELECT 'pg_catalog.now'::regproc::oid, 'array_in'::regproc",
    "SELECT current_schemas(false)",
    "SELECT oid, typname, typlen, typbyval, typtype, typcategory, typelem, typarray, typinput, typoutput, "
    "typalign, typstorage FROM pg_type WHERE oid IN (16, 20, 22, 23, 25, 701, 1043, 1184, 1007, 1015) ORDER BY oid",
    "SELECT p.oid, p.proname, p.prorettype, pg_get_function_result(p.oid), "
    "pg_get_function_arguments(p.oid) FROM pg_proc p WHERE p.proname IN ('date_trunc', 'now', 'concat') "
    "ORDER BY 1",
    "SELECT relname, relkind, relnamespace FROM pg_class WHERE oid IN (1259, 1249, 1247, 2615) ORDER BY 1",
    "SELECT attnum, attname, format_type(atttypid, atttypmod) FROM pg_attribute "
    "WHERE attrelid = 'pg_catalog.pg_index'::regclass AND attnum > 0 ORDER BY 1",
]


@pytest.fixture(scope="module")
def postgres(pg_server):
    with pg_server.connect() as conn:
        yield conn


@pytest.mark.parametrize("sql", DIFFERENTIAL)
def test_same_answer_as_postgresql(cat: Catalog, postgres, sql: str) -> None:
    expected = [tuple(r) for r in postgres.execute(sql).fetchall()]
    assert cat.q(sql) == expected


# -- rewrite fixtures (tests/fixtures/rewrite/catalog_*.sql) ----------------------------------------------
REWRITE_FILES = {rule: load_rewrite(rule) for rule in ("catalog_syntax", "catalog_functions")}
REWRITES = [fx for f in REWRITE_FILES.values() for fx in f.fixtures]


@pytest.fixture(scope="module")
def rewrite_sessions(tmp_path_factory: pytest.TempPathFactory):
    out = {}
    for rule, f in REWRITE_FILES.items():
        c = Catalog(tmp_path_factory.mktemp(rule))
        for sql in f.setup:
            c.q(sql)
        out[rule] = c
    yield out
    for c in out.values():
        c.close()


@pytest.mark.parametrize("fx", REWRITES, ids=[fx.id for fx in REWRITES])
def test_rewrite_fixture(rewrite_sessions: dict[str, Catalog], fx: Fixture) -> None:
    if fx.expect_sql is not None:
        rule = getattr(importlib.import_module(f"sql.rewrite.{fx.rule}"), fx.rule)
        got = rule(parse(fx.sql), RewriteContext("postgres", user="grafana")).sql("duckdb")
        assert normalise_sql(got) == normalise_sql(fx.expect_sql)
    c = rewrite_sessions[fx.rule]
    if fx.expect_error is not None:
        code, message = fx.expect_error
        with pytest.raises(E.SqlError) as info:
            c.q(fx.sql)
        assert info.value.sqlstate == code and message in info.value.message
    if fx.expect_rows is not None:
        rows = [" | ".join(text(v) for v in row) for row in c.q(fx.sql)]
        assert rows == fx.expect_rows


def test_time_column_nullability_is_reported_as_declared(cat: Catalog) -> None:
    """PostgreSQL: NOT NULL only when declared; create_hypertable sets it; line protocol's time is NOT NULL."""
    cat.q("CREATE TABLE nn_plain (time timestamptz, v float8)")
    cat.q("CREATE TABLE nn_hyper (ts timestamptz, v float8)")
    cat.q("SELECT create_hypertable('nn_hyper', 'ts')")
    rows = cat.q(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
        "WHERE table_name IN ('nn_plain', 'nn_hyper', 'cpu', 'weather') AND column_name IN ('time', 'ts') "
        "ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [
        ("cpu", "time", "NO"),
        ("nn_hyper", "ts", "NO"),
        ("nn_plain", "time", "YES"),
        ("weather", "time", "NO"),
    ]
