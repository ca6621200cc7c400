"""The SQL session core, in-process: DDL mapping onto storage, DML, COPY, cursors, transaction
status, errors with SQLSTATEs, pushdown into scans."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from columnar.engine import Engine
from columnar.options import EngineOptions
from sql import errors as E
from sql.engine import SqlEngine
from sql.session import CopyRequest

UTC = dt.UTC


@pytest.fixture
def session(tmp_path):
    engine = Engine.open(tmp_path / "d", EngineOptions(compaction_interval_s=0, wal_fsync="off"))
    sql_engine = SqlEngine(engine)
    s = sql_engine.session("postgres", "alice")
    yield s
    s.close()
    sql_engine.close()
    engine.close()


def q(s, sql, params=()):
    """Run every statement; return (tag, column names, rows) of the last."""
    out = None
    for stmt in s.split(sql):
        r = s.execute(s.prepare(stmt, []), list(params))
        rows = [tuple(row.values()) for b in r.batches for row in pa.Table.from_batches([b]).to_pylist()]
        out = (r.tag, [c.name for c in r.columns or []], rows)
    return out


def t(sec: int) -> dt.datetime:
    return dt.datetime(2016, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=sec)


def test_create_table_maps_tags_time_and_keys(session):
    q(
        session,
        "CREATE TABLE m (ts timestamptz NOT NULL, host varchar(20), rack int4, v double precision, n int2, PRIMARY KEY (ts, host, rack))",
    )
    meta = session.storage.table(1, "autogen", "m")
    kinds = {c.name: c.kind for c in meta.columns}
    assert kinds == {"ts": "time", "host": "tag", "rack": "tag", "v": "field", "n": "field"}
    assert meta.time_column == "ts" and meta.dedupe
    assert {c.name: c.pg_type for c in meta.columns}["host"] == "varchar(20)"
    q(
        session,
        "INSERT INTO m VALUES ('2016-01-01 00:00:00+00', 'a', 7, 1.5, 3), ('2016-01-01 00:00:00+00', 'a', 7, 2.5, 4)",
    )
    tag, cols, rows = q(session, "SELECT * FROM m")
    assert cols == ["ts", "host", "rack", "v", "n"]
    assert rows == [(t(0), "a", 7, 2.5, 4)]  # same key: the last write wins
    with pytest.raises(E.DuplicateTable):
        q(session, "CREATE TABLE m (ts timestamptz)")
    assert q(session, "CREATE TABLE IF NOT EXISTS m (ts timestamptz)")[0] == "CREATE TABLE"


def test_keyless_tables_keep_duplicates_and_tables_without_time_work(session):
    q(session, "CREATE TABLE log (time timestamptz NOT NULL, msg text, level int4)")
    q(
        session,
        "INSERT INTO log VALUES ('2016-01-01 00:00:00+00', 'x', 1), ('2016-01-01 00:00:00+00', 'x', 1)",
    )
    assert q(session, "SELECT count(*) FROM log")[2] == [(2,)]
    q(session, "CREATE TABLE hosts (hostname text, rack int4)")
    q(session, "INSERT INTO hosts VALUES ('h1', 1), ('h2', 2), ('h1', 1)")
    q(session, "INSERT INTO hosts (hostname) VALUES ('h3')")
    tag, cols, rows = q(session, "SELECT hostname, rack FROM hosts ORDER BY hostname, rack")
    assert cols == ["hostname", "rack"]
    assert rows == [("h1", 1), ("h1", 1), ("h2", 2), ("h3", None)]


def test_insert_with_parameters_types_and_errors(session):
    q(session, "CREATE TABLE s (time timestamptz NOT NULL, id text, temp real, ok boolean, cnt int8)")
    p = session.prepare("INSERT INTO s (time, id, temp, ok, cnt) VALUES ($1, $2, $3, $4, $5)", [])
    assert p.param_oids == [1184, 25, 700, 16, 20]
    for i in range(3):
        assert session.execute(p, [t(i), "a", 20.5 + i, i % 2 == 0, i]).tag == "INSERT 0 1"
    sel = session.prepare("SELECT temp, ok FROM s WHERE cnt >= $1 ORDER BY time", [])
    assert sel.param_oids == [20] and [c.type_oid for c in sel.columns] == [700, 16]
    rows = [r for b in session.execute(sel, [1]).batches for r in b.to_pylist()]
    assert rows == [{"temp": 21.5, "ok": False}, {"temp": 22.5, "ok": True}]
    with pytest.raises(E.NotNullViolation):
        q(session, "INSERT INTO s (id) VALUES ('x')")
    with pytest.raises(E.UndefinedColumn):
        q(session, "INSERT INTO s (time, nope) VALUES (now(), 1)")
    with pytest.raises(E.InvalidTextRepresentation) as exc:
        q(session, "INSERT INTO s (time, cnt) VALUES (now(), 'abc')")
    assert exc.value.sqlstate == "22P02"


@pytest.mark.parametrize(
    "sql, state",
    [
        ("SELECT * FROM nosuch", "42P01"),
        ("SELECT nosuch FROM (SELECT 1 AS a) x", "42703"),
        ("SELECT nosuchfn(1)", "42883"),
        ("SELEC 1", "42601"),
        ("SELECT 'x'::int", "22P02"),
        ("SELECT 2147483647::int + 1", "22003"),
        ("SHOW nosuch_setting", "42704"),
        ("FETCH 1 FROM nosuch", "34000"),
    ],
)
def test_errors_carry_postgres_sqlstates(session, sql, state):
    with pytest.raises(E.SqlError) as exc:
        q(session, sql)
    assert exc.value.sqlstate == state


def test_syntax_error_position(session):
    with pytest.raises(E.SyntaxError_) as exc:
        session.prepare("SELECT 1 FROM WHERE", [])
    assert exc.value.position == 15


def test_transaction_status_and_failed_block(session):
    assert session.transaction_status == "I"
    q(session, "BEGIN")
    assert session.transaction_status == "T"
    with pytest.raises(E.SqlError):
        q(session, "SELECT * FROM nosuch")
    assert session.transaction_status == "E"
    with pytest.raises(E.InFailedTransaction):
        q(session, "SELECT 1")
    assert q(session, "COMMIT")[0] == "ROLLBACK"
    assert session.transaction_status == "I"


def test_set_show_reset_and_reported_parameters(session):
    assert session.parameters["server_version"].startswith("15.")
    assert session.parameters["DateStyle"] == "ISO, MDY"
    r = session.execute(session.prepare("SET TimeZone = 'Europe/Berlin'", []), [])
    assert r.changed_parameters == {"TimeZone": "Europe/Berlin"}
    assert q(session, "SHOW timezone")[2] == [("Europe/Berlin",)]
    q(session, "RESET TimeZone")
    assert q(session, "SHOW TimeZone") == ("SHOW", ["TimeZone"], [("UTC",)])
    assert q(session, "SELECT current_setting('server_version_num')::int / 100 AS v")[2] == [(1500,)]
    assert q(session, "SELECT current_user, current_database()")[2] == [("alice", "postgres")]


def test_cursors_declare_fetch_move_close(session):
    q(session, "CREATE TABLE c (time timestamptz NOT NULL, v int4)")
    q(session, "INSERT INTO c SELECT to_timestamp(i), i FROM generate_series(1, 10) AS g(i)")
    q(session, "BEGIN")
    q(session, "DECLARE cur CURSOR FOR SELECT v FROM c ORDER BY v")
    assert q(session, "FETCH 3 FROM cur") == ("FETCH 3", ["v"], [(1,), (2,), (3,)])
    assert q(session, "MOVE 2 IN cur")[0] == "MOVE 2"
    assert q(session, "FETCH ALL FROM cur")[2] == [(6,), (7,), (8,), (9,), (10,)]
    assert q(session, "FETCH NEXT FROM cur")[0] == "FETCH 0"
    assert q(session, "CLOSE cur")[0] == "CLOSE CURSOR"
    q(session, "COMMIT")
    with pytest.raises(E.InvalidCursorName):
        q(session, "FETCH 1 FROM cur")


def test_update_and_delete_returning(session):
    """UPDATE ... RETURNING gives the rows as written (it gave none), DELETE ... RETURNING the rows
    deleted (it answered 0A000); both may name the table."""
    q(session, "CREATE TABLE dv (id int4 PRIMARY KEY, name text, n int4)")
    q(session, "INSERT INTO dv VALUES (1, 'a', 0), (2, 'b', 0)")
    assert q(session, "UPDATE dv SET n = n + 1 WHERE id = 1 RETURNING dv.id, n") == (
        "UPDATE 1",
        ["id", "n"],
        [(1, 1)],
    )
    assert q(session, "DELETE FROM dv WHERE id = 2 RETURNING *") == (
        "DELETE 1",
        ["id", "name", "n"],
        [(2, "b", 0)],
    )
    assert q(session, "SELECT id, n FROM dv")[2] == [(1, 1)]


def test_array_columns_are_written_by_insert_update_and_copy(session):
    """int4[] (sql/arrays.py): ARRAY[...] and PostgreSQL's array text through INSERT, UPDATE and COPY's
    text format, read back as lists; a malformed text is 22P02 and writes nothing."""
    q(session, "CREATE TABLE arr (time timestamptz NOT NULL, v int4[], n int4)")
    q(session, "INSERT INTO arr VALUES ('2016-01-01 00:00:00+00', ARRAY[1, 2], 1)")
    q(session, "INSERT INTO arr (time, v) VALUES ('2016-01-01 00:00:01+00', '{3,NULL}')")
    q(session, "UPDATE arr SET v = ARRAY[5] WHERE n = 1")
    r = session.execute(session.prepare("COPY arr (time, v) FROM STDIN", []), [])
    session.copy_in(r.copy, iter([b"2016-01-01 00:00:02+00\t{7, 8}\n2016-01-01 00:00:03+00\t\\N\n"]))
    r = session.execute(session.prepare("COPY arr (time, v) FROM STDIN", []), [])
    with pytest.raises(E.InvalidTextRepresentation, match="malformed array literal"):
        session.copy_in(r.copy, iter([b"2016-01-01 00:00:04+00\t{7\n"]))
    assert q(session, "SELECT v FROM arr ORDER BY time")[2] == [([5],), ([3, None],), ([7, 8],), (None,)]


def test_writing_array_columns_of_other_element_types_is_refused_cleanly(session):
    """Arrays of elements sql/arrays.py does not read as lists (numeric ...) are declared and not
    written: INSERT, UPDATE and COPY that give one a value answer 0A000 naming it; the other columns
    of such a table are written as usual."""
    q(session, "CREATE TABLE arrn (time timestamptz NOT NULL, v numeric[], n int4)")
    for sql in (
        "INSERT INTO arrn VALUES ('2016-01-01 00:00:00+00', ARRAY[1.5, 2], 1)",
        "INSERT INTO arrn (time, v) VALUES ('2016-01-01 00:00:00+00', '{3,4}')",
        "UPDATE arrn SET v = ARRAY[5]",
    ):
        with pytest.raises(E.FeatureNotSupported, match='array column "v"'):
            q(session, sql)
    r = session.execute(session.prepare("COPY arrn (time, v) FROM STDIN", []), [])
    with pytest.raises(E.FeatureNotSupported, match='array column "v"'):
        session.copy_in(r.copy, iter([b"2016-01-01 00:00:00+00\t{1}\n"]))
    q(session, "INSERT INTO arrn (time, n) VALUES ('2016-01-01 00:00:00+00', 7)")
    assert q(session, "SELECT v, n FROM arrn")[2] == [(None, 7)]


def test_copy_in_checks_constraints(session):
    """COPY FROM writes through the CHECK constraints as INSERT does: a violating row fails it."""
    q(session, "CREATE TABLE ck (time timestamptz NOT NULL, v double precision CHECK (v > 0))")
    r = session.execute(session.prepare("COPY ck FROM STDIN WITH (FORMAT csv)", []), [])
    with pytest.raises(E.CheckViolation, match='violates check constraint "ck_v_check"'):
        session.copy_in(r.copy, iter([b"2016-01-01 00:00:00+00,1\n2016-01-01 00:00:01+00,-1\n"]))
    assert q(session, "SELECT count(*) FROM ck")[2] == [(0,)]
    r = session.execute(session.prepare("COPY ck FROM STDIN WITH (FORMAT csv)", []), [])
    assert session.copy_in(r.copy, iter([b"2016-01-01 00:00:00+00,1\n"])) == "COPY 1"


def test_copy_in_csv_and_text_then_copy_out(session):
    q(session, "CREATE TABLE k (time timestamptz NOT NULL, host text, v double precision)")
    r = session.execute(
        session.prepare("COPY k (time, host, v) FROM STDIN WITH (FORMAT csv, HEADER)", []), []
    )
    assert (
        isinstance(r.copy, CopyRequest)
        and r.copy.direction == "in"
        and [c.name for c in r.copy.columns] == ["time", "host", "v"]
    )
    data = [b"time,host,v\n2016-01-01 00:00:00+00,a,1.5\n", b'2016-01-01 00:00:10+00,"b,c",\n']
    assert session.copy_in(r.copy, iter(data)) == "COPY 2"
    r = session.execute(session.prepare("COPY k FROM STDIN", []), [])
    assert session.copy_in(r.copy, iter([b"2016-01-01 00:00:20+00\ta\t\\N\n\\.\n"])) == "COPY 1"
    assert q(session, "SELECT host, v FROM k ORDER BY time")[2] == [("a", 1.5), ("b,c", None), ("a", None)]
    out = session.execute(
        session.prepare("COPY (SELECT host FROM k ORDER BY time) TO STDOUT (FORMAT csv)", []), []
    )
    assert out.copy.direction == "out" and out.copy.format == "csv"
    assert [r for b in out.batches for r in b.to_pylist()] == [{"host": "a"}, {"host": "b,c"}, {"host": "a"}]


def test_copy_in_text_decodes_backslash_escapes(session):
    """Text format escapes, as pg_dump writes them: a tab, a newline and a backslash in a value; \\N
    alone is NULL, an escaped backslash before N is the text \\N."""
    q(session, "CREATE TABLE esc (time timestamptz NOT NULL, s text)")
    r = session.execute(session.prepare("COPY esc FROM STDIN", []), [])
    data = b"2016-01-01 00:00:00+00\ta\\tb\\nc\\\\d\n2016-01-01 00:00:01+00\t\\N\n"
    data += b"2016-01-01 00:00:02+00\t\\\\N\\101\\x42\n\\.\n"
    assert session.copy_in(r.copy, iter([data])) == "COPY 3"
    assert q(session, "SELECT s FROM esc ORDER BY time")[2] == [("a\tb\nc\\d",), (None,), ("\\NAB",)]


def test_prepare_and_execute_statements(session):
    """SQL-level PREPARE / EXECUTE (pg_dump prepares its per-object queries so)."""
    q(session, "CREATE TABLE pe (time timestamptz NOT NULL, v int8)")
    q(session, "INSERT INTO pe VALUES ('2016-01-01 00:00:00+00', 1), ('2016-01-01 00:00:01+00', 2)")
    assert q(session, "PREPARE two(int8, text) AS SELECT v, $2 AS t FROM pe WHERE v = $1")[0] == "PREPARE"
    assert q(session, "EXECUTE two('2', 'x')")[1:] == (["v", "t"], [(2, "x")])
    assert q(session, "EXECUTE two(1 + 0, 'y')")[2] == [(1, "y")]
    with pytest.raises(E.DuplicatePreparedStatement):
        q(session, "PREPARE two AS SELECT 1")
    with pytest.raises(E.SyntaxError_):
        q(session, "EXECUTE two(1)")
    q(session, "DEALLOCATE two")
    with pytest.raises(E.InvalidSqlStatementName):
        q(session, "EXECUTE two(1, 'z')")


def test_a_sequence_reads_as_a_relation(session):
    """SELECT last_value, is_called FROM s: what pg_dump reads to write setval()."""
    q(session, "CREATE SEQUENCE s START WITH 5")
    assert q(session, "SELECT last_value, log_cnt, is_called FROM s")[2] == [(5, 0, False)]
    q(session, "SELECT nextval('s')")
    q(session, "SELECT nextval('s')")
    assert q(session, "SELECT * FROM public.s")[1:] == (
        ["last_value", "log_cnt", "is_called"],
        [(6, 0, True)],
    )


def test_catalog_system_columns_are_not_in_star(session):
    """tableoid of a catalog table is its OID; ``*`` does not list it, as in PostgreSQL."""
    tag, cols, rows = q(session, "SELECT *, tableoid FROM pg_am WHERE amname = 'heap'")
    assert cols == ["oid", "amname", "amhandler", "amtype", "tableoid"] and rows[0][-1] == 1259 + 1342
    assert q(session, "SELECT a.* FROM pg_am a WHERE a.tableoid = 2601 AND a.xmin > 0")[1] == cols[:-1]


def test_delete_update_and_pushdown_bounds(session):
    q(
        session,
        "CREATE TABLE d (time timestamptz NOT NULL, host text, v double precision, PRIMARY KEY (time, host))",
    )
    q(
        session,
        "INSERT INTO d SELECT to_timestamp(1451606400 + i), 'h' || (i % 3), i FROM generate_series(0, 29) AS g(i)",
    )
    plan = "\n".join(
        r[0]
        for r in q(
            session, "EXPLAIN SELECT v FROM d WHERE host IN ('h1', 'h2') AND time > '2016-01-01 00:00:10+00'"
        )[2]
    )
    assert "TagIn(key='host'" in plan and "time range: [1451606410000001000" in plan
    assert q(session, "DELETE FROM d WHERE host = 'h0' AND time < '2016-01-01 00:00:15+00'")[0] == "DELETE 5"
    assert q(session, "SELECT count(*) FROM d")[2] == [(25,)]
    # a condition on a field: the rows' series and span are deleted, the others there written back
    assert q(session, "DELETE FROM d WHERE v > 3 AND v < 6")[0] == "DELETE 2"  # (h1's 4, h2's 5)
    assert q(session, "SELECT count(*), sum(v) FROM d")[2] == [
        (23, sum(range(30)) - (0 + 3 + 6 + 9 + 12) - 4 - 5)
    ]
    assert (
        q(session, "UPDATE d SET v = v * 10 WHERE host = 'h1' AND time >= '2016-01-01 00:00:25+00'")[0]
        == "UPDATE 2"
    )
    assert q(session, "SELECT v FROM d WHERE v > 100 ORDER BY v")[2] == [(250.0,), (280.0,)]
    q(session, "INSERT INTO d VALUES ('2016-01-01 00:00:01+00', 'h1', -1) ON CONFLICT DO NOTHING")
    assert q(session, "SELECT v FROM d WHERE time = '2016-01-01 00:00:01+00'")[2] == [(1.0,)]
    q(
        session,
        "INSERT INTO d VALUES ('2016-01-01 00:00:01+00', 'h1', -1) ON CONFLICT (time, host) DO UPDATE SET v = EXCLUDED.v",
    )
    assert q(session, "SELECT v FROM d WHERE time = '2016-01-01 00:00:01+00'")[2] == [(-1.0,)]


def test_hypertable_views_alter_truncate(session):
    q(session, "CREATE EXTENSION IF NOT EXISTS timescaledb")
    q(session, "CREATE TABLE h (created timestamptz, time timestamptz NOT NULL, v int4)")
    assert session.storage.table(1, "autogen", "h").time_column == "time"
    tag, cols, rows = q(session, "SELECT create_hypertable('h', 'created')")
    assert cols == ["create_hypertable"] and rows[0][0].endswith(",public,h,t)")
    assert session.storage.table(1, "autogen", "h").time_column == "created"
    q(session, "INSERT INTO h VALUES ('2016-01-01 00:00:00+00', '2016-01-01 00:00:05+00', 1)")
    q(session, "ALTER TABLE h ADD COLUMN note int8")
    q(session, "ALTER TABLE h RENAME COLUMN v TO value")
    assert q(session, "SELECT value, note FROM h")[2] == [(1, None)]
    q(session, "CREATE VIEW hv AS SELECT value * 2 AS doubled FROM h")
    assert q(session, "SELECT doubled FROM hv") == ("SELECT 1", ["doubled"], [(2,)])
    assert q(session, "SELECT v.doubled + 1 AS x FROM hv AS v")[2] == [(3,)]
    q(session, "TRUNCATE h")
    assert q(session, "SELECT count(*) FROM h")[2] == [(0,)]


def test_add_column_default_fills_rows_of_tables_without_a_key(session, monkeypatch):
    """The rows already there take the new column's DEFAULT (before, they kept NULL, unlike
    PostgreSQL), duplicates included; a text column so added is a tag like the others. Past
    FILL_MAX_ROWS rows the ALTER is refused and changes nothing."""
    from sql import ddl

    q(session, "CREATE TABLE kl (time timestamptz NOT NULL, v int4)")
    q(session, "ALTER TABLE kl ADD COLUMN early int4 DEFAULT 1")
    q(session, "INSERT INTO kl (time, v) VALUES ('2016-01-01 00:00:00+00', 1), ('2016-01-01 00:00:00+00', 1)")
    q(session, "ALTER TABLE kl ADD COLUMN late int4 DEFAULT 2, ADD COLUMN site text DEFAULT 'n'")
    q(session, "ALTER TABLE kl ADD COLUMN nothing int4 DEFAULT NULL")
    assert q(session, "SELECT * FROM kl") == (
        "SELECT 2",
        ["time", "v", "early", "late", "site", "nothing"],
        [(t(0), 1, 1, 2, "n", None)] * 2,
    )
    assert session.storage.table(1, "autogen", "kl").column("site").kind == "tag"
    monkeypatch.setattr(ddl, "FILL_MAX_ROWS", 1)
    with pytest.raises(E.FeatureNotSupported, match="2 rows again") as err:
        q(session, "ALTER TABLE kl ADD COLUMN refused int4 DEFAULT 3")
    assert "SET DEFAULT" in err.value.hint
    assert q(session, "SELECT * FROM kl")[1] == ["time", "v", "early", "late", "site", "nothing"]


def test_keyless_table_may_have_a_column_named_time(session):
    q(session, "CREATE TABLE ev (time int4, label text)")
    q(session, "INSERT INTO ev VALUES (3, 'c'), (1, 'a')")
    assert q(session, "SELECT time, label FROM ev ORDER BY time") == (
        "SELECT 2",
        ["time", "label"],
        [(1, "a"), (3, "c")],
    )


def test_tsbs_time_literals_with_a_spaced_offset(session):
    q(session, "CREATE TABLE tl (time timestamptz NOT NULL, v int4)")
    q(session, "INSERT INTO tl VALUES ('2016-01-01 00:00:00 +0000', 1), ('2016-01-01 01:00:00 -0130', 2)")
    assert q(
        session,
        "SELECT v FROM tl WHERE time >= '2016-01-01 00:00:00 +0000' AND time < '2016-01-01 03:00:00 +00' ORDER BY v",
    )[2] == [(1,), (2,)]
    assert q(session, "SELECT time FROM tl WHERE v = 2")[2] == [(t(2 * 3600 + 1800),)]
    assert q(session, "SELECT '2016-01-01 00:00:00 +0000' AS s")[2] == [("2016-01-01 00:00:00 +0000",)]
