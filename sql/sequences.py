"""Sequences, as PostgreSQL 15 has them: CREATE / ALTER / DROP SEQUENCE, nextval / currval / setval /
lastval, and the state the catalog views show.

A sequence is one JSON object in the storage catalog's meta table under ``seq:<database>:<schema>.<name>``
(sql/ddl.py ``sequence_key``), changed in one SQLite transaction per call with synchronous=FULL: a
value nextval handed out is never handed out again, even after a crash (PostgreSQL's log_cnt
guarantees the same by logging ahead). Its fields::

    last, called     last_value and is_called: the next nextval gives ``last`` when not called,
                     else ``last + inc``
    type             smallint | integer | bigint (AS ...)
    start inc min max cache cycle
    owned            [table, column] (OWNED BY, or the SERIAL column it was made for) or null
    id               its identity, which currval and lastval go by (PostgreSQL's OID)

SERIAL sequences made before these fields existed hold ``last`` and ``called`` only: they read as
bigint sequences starting at 1.

nextval, currval, setval and lastval in a query are calls of :data:`FUNCTION`, a DuckDB function with
side effects (sql/rewrite/session_functions.py writes them), so that ``SELECT nextval('s') FROM
generate_series(1, 3)`` takes a value per row. currval and lastval are the session's: the values are
kept per session (:func:`attach`), as PostgreSQL keeps them per backend. A column ``DEFAULT
nextval('s')`` is kept as a SERIAL's is (``{"seq": name}``, sql/column_defaults.py) and filled the same
way, one block of values per INSERT (sql/dml.py).
"""

from __future__ import annotations

import json
import re
import secrets
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sql import errors as E
from sql import temp_tables

if TYPE_CHECKING:
    import duckdb

    from sql.engine import SqlSession
    from sql.session import Result

FUNCTION = "tsgres_sequence"  # (pid BIGINT, op VARCHAR, name VARCHAR, value BIGINT, called BOOLEAN) -> BIGINT

RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
TYPE_OIDS = {"smallint": 21, "integer": 23, "bigint": 20}
_TYPE_NAMES = {
    "smallint": "smallint",
    "int2": "smallint",
    "integer": "integer",
    "int": "integer",
    "int4": "integer",
    "bigint": "bigint",
    "int8": "bigint",
}
SERIAL_TYPES = {"smallserial": "smallint", "serial2": "smallint", "bigserial": "bigint", "serial8": "bigint"}


# -- per-session values (currval, lastval) ------------------------------------------------------------------
@dataclass
class _Values:
    # the sequence's identity (it keeps it through RENAME; one dropped and created again under its
    # name has another, as PostgreSQL's OID) -> the value nextval last gave
    current: dict[str, int] = field(default_factory=dict)
    last: str | None = None  # lastval's sequence


_sessions: weakref.WeakValueDictionary[int, SqlSession] = weakref.WeakValueDictionary()
_values: weakref.WeakKeyDictionary[SqlSession, _Values] = weakref.WeakKeyDictionary()


def attach(session: SqlSession) -> None:
    """Make ``session`` known to :data:`FUNCTION` by its backend pid."""
    _sessions[session.backend_pid] = session


def _session_values(session: SqlSession) -> _Values:
    v = _values.get(session)
    if v is None:
        v = _values[session] = _Values()
    return v


def install(con: duckdb.DuckDBPyConnection) -> None:
    con.create_function(
        FUNCTION,
        _call_chunk,
        ["BIGINT", "VARCHAR", "VARCHAR", "BIGINT", "BOOLEAN"],
        "BIGINT",
        type="arrow",  # (a chunk of rows at a time: a run of nextval of one sequence is one block)
        null_handling="special",  # (NULL in, NULL out: the functions are strict, as PostgreSQL's)
        side_effects=True,  # (never folded or cached: every row gets its own call)
    )


def _call_chunk(pid, op, name, value, called) -> pa.Array:
    """:data:`FUNCTION` over a chunk of rows, in row order: each run of rows calling nextval of the
    same sequence takes one block of values (one durable transaction, not one per row)."""
    cols = [c.to_pylist() for c in (pid, op, name, value, called)]
    out: list[int | None] = [None] * len(cols[0])
    i = 0
    while i < len(out):
        row = [c[i] for c in cols]
        if any(v is None for v in row[:4]) or (row[1] == "setval" and row[4] is None):
            i += 1
            continue
        j = i + 1
        if row[1] == "nextval":
            while j < len(out) and [c[j] for c in cols[:3]] == row[:3]:
                j += 1
        session = _sessions.get(row[0])
        if session is None:
            raise RuntimeError(f"pgsql 0A000: {row[1]}() is not supported here")
        try:
            schema, seq = resolve(session, row[2]) if j - i > 1 else ("", "")
            if j - i > 1 and exists(session, _schema_of(session, schema), seq):
                out[i:j] = next_values(session, _key(session, schema, seq), seq, j - i, shown=row[2]).tolist()
            else:  # (one row, or the errors call() tells apart)
                j = i + 1
                out[i] = call(session, row[1], row[2], row[3], row[4])
        except E.SqlError as exc:
            raise RuntimeError(f"pgsql {exc.sqlstate}: {exc.message}") from None
        i = j
    return pa.array(out, pa.int64())


def call(session: SqlSession, op: str, name: str, value: int = 0, called: bool = True) -> int:
    """nextval / currval / setval / lastval of the sequence named ``name`` (as regclass reads it)."""
    mine = _session_values(session)
    if op == "lastval":
        if mine.last is None or not any(_ident(k, st) == mine.last for k, st in all_states(session)):
            raise E.ObjectNotInPrerequisiteState("lastval is not yet defined in this session")
        return mine.current[mine.last]
    schema, seq = resolve(session, name)
    schema = _schema_of(session, schema)  # (3F000 for a schema that does not exist, as regclass)
    key = _key(session, schema, seq)
    if session.storage.catalog.get_meta(key) is None and _relation_exists(session, schema, seq):
        raise E.WrongObjectType(f'"{seq}" is not a sequence')
    if op == "currval":
        text = session.storage.catalog.get_meta(key)
        if text is None:
            raise _undefined(name)
        ident = _ident(key, json.loads(text))
        if ident not in mine.current:
            raise E.ObjectNotInPrerequisiteState(
                f'currval of sequence "{seq}" is not yet defined in this session'
            )
        return mine.current[ident]
    if op == "setval":
        return setval(session, key, seq, name, value, called)
    return int(next_values(session, key, seq, 1, shown=name)[0])


def _ident(key: str, state: dict) -> str:
    """A sequence's identity: the id it was created with (sequences made before ids: its key)."""
    return state.get("id") or key


def _undefined(name: str) -> E.SqlError:
    return E.UndefinedTable(f'relation "{name}" does not exist')


def resolve(session: SqlSession, text: str) -> tuple[str, str]:
    """(schema, name) of a relation name written as regclass input: ``s``, ``"S"``, ``public.s``."""
    parts = []
    for m in re.finditer(r'"((?:[^"]|"")*)"|([^."]+)|(\.)', text.strip()):
        if m.group(1) is not None:
            parts.append(m.group(1).replace('""', '"'))
        elif m.group(2) is not None:
            parts.append(m.group(2).strip().lower())
    if not parts or len(parts) > 3:
        raise E.InvalidParameterValue(f"invalid name syntax: {text}")
    if len(parts) == 3:
        if parts[0] != session.database:
            raise E.FeatureNotSupported(f"cross-database references are not implemented: {text}")
        parts = parts[1:]
    if session.temp_schema is not None:  # its temporary schema first (sql/temp_tables.py)
        schema = temp_tables.schema_named(session, parts[0] if len(parts) == 2 else None, parts[-1], True)
        return schema or "public", parts[-1]
    return (parts[0], parts[1]) if len(parts) == 2 else ("public", parts[0])


def exists(session: SqlSession, schema: str, name: str) -> bool:
    return session.storage.catalog.get_meta(_key(session, schema, name)) is not None


def sequence_key(session: SqlSession, schema: str, name: str) -> str:
    return _key(session, schema, name)


def _key(session: SqlSession, schema: str, name: str) -> str:
    from sql.ddl import sequence_key

    return sequence_key(session.database, schema, name)


def normalised(state: dict) -> dict:
    """The state with every field (SERIAL sequences made before the options were kept have none)."""
    if "inc" in state:
        return state
    return {
        "type": "bigint",
        "start": 1,
        "inc": 1,
        "min": 1,
        "max": RANGES["bigint"][1],
        "cache": 1,
        "cycle": False,
        "owned": None,
        **state,
        "last": state["last"] if state.get("called") else max(int(state["last"]), 1),
    }


def next_values(session: SqlSession, key: str, seq: str, n: int, shown: str | None = None) -> np.ndarray:
    """The next ``n`` values of a sequence (a block, reserved in one transaction), as nextval gives
    them one at a time; the session's currval and lastval become the last of them."""

    def change(state: dict | None):
        if state is None:
            raise _undefined(shown or seq)
        s = normalised(state)
        inc, lo, hi = s["inc"], s["min"], s["max"]
        first = s["last"] if not s["called"] else s["last"] + inc
        last = first + inc * (n - 1)
        if s["called"] and lo <= first <= hi and lo <= last <= hi or not s["called"] and lo <= last <= hi:
            values = first + inc * np.arange(n, dtype=np.int64)  # (no overflow: last is in range)
        else:
            values = np.empty(n, np.int64)
            cur, called = s["last"], s["called"]
            for i in range(n):
                v = cur + inc if called else cur
                called = True
                if v > hi or v < lo:
                    if not s["cycle"]:
                        word, limit = ("maximum", hi) if v > hi else ("minimum", lo)
                        raise E.SequenceGeneratorLimitExceeded(
                            f'nextval: reached {word} value of sequence "{seq}" ({limit})'
                        )
                    v = lo if inc > 0 else hi
                values[i] = cur = v
        return {**s, "last": int(values[-1]), "called": True}, (values, _ident(key, s))

    values, ident = session.storage.catalog.sequence_update(key, change)
    if n:
        mine = _session_values(session)
        mine.current[ident] = int(values[-1])
        mine.last = ident
    return values


def setval(session: SqlSession, key: str, seq: str, shown: str, value: int, called: bool) -> int:
    def change(state: dict | None):
        if state is None:
            raise _undefined(shown)
        s = normalised(state)
        if not s["min"] <= value <= s["max"]:
            raise E.NumericValueOutOfRange(
                f'setval: value {value} is out of bounds for sequence "{seq}" ({s["min"]}..{s["max"]})'
            )
        return {**s, "last": int(value), "called": bool(called)}, _ident(key, s)

    ident = session.storage.catalog.sequence_update(key, change)
    if called:
        _session_values(session).current[ident] = int(value)
    return value


# -- statements -----------------------------------------------------------------------------------------
_TOKEN = re.compile(r'\s+|--[^\n]*|"(?:[^"]|"")*"|[A-Za-z_][\w$]*|[+-]?\d+|\S')


@dataclass
class _Tokens:
    items: list[tuple[str, str]]  # (UPPER word or symbol, the identifier as it names something)
    at: int = 0

    def peek(self, k: int = 0) -> str:
        i = self.at + k
        return self.items[i][0] if i < len(self.items) else ""

    def take(self, *words: str) -> bool:
        if all(self.peek(i) == w for i, w in enumerate(words)):
            self.at += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.take(*words):
            raise self.error()

    def error(self) -> E.SqlError:
        near = self.items[self.at][1] if self.at < len(self.items) else None
        return E.SyntaxError_(f'syntax error at or near "{near}"' if near else "syntax error at end of input")

    def ident(self) -> str:
        if self.at >= len(self.items) or not re.match(r'[A-Za-z_"]', self.items[self.at][1][:1] or "0"):
            raise self.error()
        self.at += 1
        return self.items[self.at - 1][1]

    def name(self) -> tuple[str | None, str]:
        first = self.ident()
        if self.take("."):
            return first, self.ident()
        return None, first

    def number(self) -> int:
        word = self.peek()
        if not re.fullmatch(r"[+-]?\d+", word):
            if word == "-" and re.fullmatch(r"\d+", self.peek(1)):
                self.at += 2
                return -int(self.items[self.at - 1][0])
            raise self.error()
        self.at += 1
        return int(word)

    def done(self) -> bool:
        return self.at >= len(self.items)


def _tokens(sql: str) -> _Tokens:
    items = []
    for m in _TOKEN.finditer(sql.strip().rstrip(";")):
        t = m.group(0)
        if t.isspace() or t.startswith("--"):
            continue
        if t.startswith('"'):
            items.append(("\0" + t, t[1:-1].replace('""', '"')))
        else:
            items.append((t.upper(), t.lower() if re.match(r"[A-Za-z_]", t) else t))
    return _Tokens(items)


def is_statement(sql: str) -> bool:
    t = _tokens(sql[:200])
    return t.peek() in ("CREATE", "ALTER", "DROP") and t.peek(1) == "SEQUENCE"


def run(session: SqlSession, sql: str) -> Result:
    session.sql_engine.schema_changed()
    t = _tokens(sql)
    verb = t.peek()
    t.at = 2
    if verb == "CREATE":
        return _create(session, t)
    if verb == "ALTER":
        return _alter(session, t)
    return _drop(session, t)


def _schema_of(session: SqlSession, schema: str | None) -> str:
    from columnar.engine import StorageError

    schema = schema or "public"
    if schema != "public":
        try:
            session.storage.catalog.retention_policy(session.database, schema)
        except StorageError:
            raise E.InvalidSchemaName(f'schema "{schema}" does not exist') from None
    return schema


def _relation_exists(session: SqlSession, schema: str, name: str) -> bool:
    """A table, view, sequence or index of that name in the schema (they share one namespace)."""
    from sqlglot import exp

    from sql.ddl import _rp_of, _view_key  # noqa: PLC2701

    table = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema))
    cat = session.storage.catalog
    rpm = cat.retention_policy(session.database, _rp_of(table))
    if session.storage.table(rpm.database_id, rpm.name, name) is not None:
        return True
    if cat.get_meta(_view_key(session, table)) is not None or cat.get_meta(_key(session, schema, name)):
        return True
    from sql import indexes

    return indexes.name_taken(session, schema, name)


def _options(t: _Tokens, alter: bool, single: bool = False) -> dict:
    """The options after the name, as given (keys of the state, plus "restart"); ``single``: one
    option only (ALTER TABLE ... ALTER COLUMN's SET option of an identity, sql/identity.py)."""
    given: dict = {}

    def put(k: str, v) -> None:
        if k in given:
            raise E.SyntaxError_("conflicting or redundant options")
        given[k] = v

    while not t.done() and not (single and given):
        if t.take("AS"):
            word = t.ident()
            if word not in _TYPE_NAMES:
                raise E.InvalidParameterValue("sequence type must be smallint, integer, or bigint")
            put("type", _TYPE_NAMES[word])
        elif t.take("INCREMENT"):
            t.take("BY")
            put("inc", t.number())
        elif t.take("MINVALUE"):
            put("min", t.number())
        elif t.take("MAXVALUE"):
            put("max", t.number())
        elif t.take("NO", "MINVALUE"):
            put("min", None)
        elif t.take("NO", "MAXVALUE"):
            put("max", None)
        elif t.take("NO", "CYCLE"):
            put("cycle", False)
        elif t.take("CYCLE"):
            put("cycle", True)
        elif t.take("START"):
            t.take("WITH")
            put("start", t.number())
        elif alter and t.take("RESTART"):
            put("restart", t.number() if t.take("WITH") or re.fullmatch(r"[+-]?\d+|-", t.peek()) else True)
        elif t.take("CACHE"):
            put("cache", t.number())
        elif t.take("OWNED", "BY"):
            if t.take("NONE"):
                put("owned", None)
            else:
                first = [t.ident()]
                while t.take("."):
                    first.append(t.ident())
                if len(first) < 2:
                    raise E.SyntaxError_(
                        "invalid OWNED BY option", hint="Specify OWNED BY table.column or OWNED BY NONE."
                    )
                put("owned", first[-2:] if len(first) == 2 else first[-3:])
        else:
            raise t.error()
    return given


def _settle(seq: str, old: dict | None, given: dict) -> dict:
    """PostgreSQL's init_params: the new state from the old one (None: CREATE) and the options."""
    s = dict(old) if old else {"type": "bigint", "cache": 1, "cycle": False, "owned": None}
    old_type = s["type"]
    if "type" in given:
        s["type"] = given["type"]
    lo_t, hi_t = RANGES[s["type"]]
    if "inc" in given:
        if given["inc"] == 0:
            raise E.InvalidParameterValue("INCREMENT must not be zero")
        s["inc"] = given["inc"]
    s.setdefault("inc", 1)
    inc = s["inc"]
    if "max" in given and given["max"] is not None:
        s["max"] = given["max"]
    elif (
        "max" in given
        or old is None
        or ("type" in given and s["max"] == (RANGES[old_type][1] if s["inc"] > 0 else -1))
    ):
        s["max"] = hi_t if inc > 0 else -1
    if "min" in given and given["min"] is not None:
        s["min"] = given["min"]
    elif (
        "min" in given
        or old is None
        or ("type" in given and s["min"] == (RANGES[old_type][0] if inc < 0 else 1))
    ):
        s["min"] = 1 if inc > 0 else lo_t
    if not lo_t <= s["max"] <= hi_t:
        raise E.InvalidParameterValue(
            f"MAXVALUE ({s['max']}) is out of range for sequence data type {s['type']}"
        )
    if not lo_t <= s["min"] <= hi_t:
        raise E.InvalidParameterValue(
            f"MINVALUE ({s['min']}) is out of range for sequence data type {s['type']}"
        )
    if s["min"] >= s["max"]:
        raise E.InvalidParameterValue(f"MINVALUE ({s['min']}) must be less than MAXVALUE ({s['max']})")
    if "start" in given:
        s["start"] = given["start"]
    elif old is None:
        s["start"] = s["min"] if inc > 0 else s["max"]
    if s["start"] < s["min"]:
        raise E.InvalidParameterValue(f"START value ({s['start']}) cannot be less than MINVALUE ({s['min']})")
    if s["start"] > s["max"]:
        raise E.InvalidParameterValue(
            f"START value ({s['start']}) cannot be greater than MAXVALUE ({s['max']})"
        )
    restart = given.get("restart")
    if old is None:
        s["last"], s["called"] = s["start"], False
        s["id"] = secrets.token_hex(8)
    elif restart is not None:
        s["last"], s["called"] = (s["start"] if restart is True else restart), False
    if s["last"] < s["min"]:
        raise E.InvalidParameterValue(
            f"RESTART value ({s['last']}) cannot be less than MINVALUE ({s['min']})"
        )
    if s["last"] > s["max"]:
        raise E.InvalidParameterValue(
            f"RESTART value ({s['last']}) cannot be greater than MAXVALUE ({s['max']})"
        )
    if "cache" in given:
        if given["cache"] < 1:
            raise E.InvalidParameterValue(f"CACHE ({given['cache']}) must be greater than zero")
        s["cache"] = given["cache"]
    if "cycle" in given:
        s["cycle"] = given["cycle"]
    return s


def _owned(session: SqlSession, schema: str, given: dict) -> None:
    """Check OWNED BY t.c names a column of a table in the sequence's schema."""
    owned = given.get("owned")
    if not owned:
        return
    from sqlglot import exp

    from sql.binder import resolve_table

    tschema = owned[0] if len(owned) == 3 else "public"
    table, col = owned[-2], owned[-1]
    try:
        _rp, meta = resolve_table(
            session.storage,
            session.database,
            exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(tschema)),
        )
    except E.SqlError:
        raise E.UndefinedTable(f'relation "{table}" does not exist') from None
    if tschema != schema:
        raise E.ObjectNotInPrerequisiteState("sequence must be in same schema as table it is linked to")
    if meta.column(col) is None:
        raise E.UndefinedColumn(f'column "{col}" of relation "{table}" does not exist')
    given["owned"] = [table, col]


def _create(session: SqlSession, t: _Tokens) -> Result:
    from sql.session import Result

    exists_ok = t.take("IF", "NOT", "EXISTS")
    schema, seq = t.name()
    schema = _schema_of(session, schema)
    given = _options(t, alter=False)
    if _relation_exists(session, schema, seq):
        if exists_ok:
            session.notice(E.ExistsSkipping(f'relation "{seq}" already exists, skipping'))
            return Result(None, tag="CREATE SEQUENCE")
        raise E.DuplicateTable(f'relation "{seq}" already exists')
    state = _settle(seq, None, given)
    _owned(session, schema, given)
    state["owned"] = given.get("owned")
    session.storage.catalog.sequence_update(_key(session, schema, seq), lambda _old: (state, None))
    return Result(None, tag="CREATE SEQUENCE")


def create_for_table(session: SqlSession, schema: str, table: str, cols: list, defaults: dict) -> None:
    """CREATE TABLE's sequences: a SERIAL or identity column's own (owned by it, of its integer type);
    a column ``DEFAULT nextval('s')`` needs ``s`` to exist (42P01 otherwise, as in PostgreSQL)."""
    declared = {c[0]: c[1] for c in cols}
    for column, d in defaults.items():
        if "seq" not in d:
            continue
        if "type" in d:  # DEFAULT nextval('s')
            sschema, name = resolve(session, d["seq"])
            if session.storage.catalog.get_meta(_key(session, sschema, name)) is None:
                raise _undefined(d["seq"])
            continue
        typ = SERIAL_TYPES.get(declared.get(column, ""), "integer")
        state = _settle(d["seq"], None, d.get("options") or {"type": typ})  # (an identity's options)
        state["owned"] = [table, column]
        key = _key(session, schema, d["seq"])
        session.storage.catalog.sequence_update(key, lambda old, state=state: (old or state, None))


def _alter(session: SqlSession, t: _Tokens) -> Result:
    from sql.session import Result

    missing_ok = t.take("IF", "EXISTS")
    schema, seq = t.name()
    schema = schema or "public"
    key = _key(session, schema, seq)
    if session.storage.catalog.get_meta(key) is None:
        if missing_ok:
            session.notice(E.Notice_(f'relation "{seq}" does not exist, skipping'))
            return Result(None, tag="ALTER SEQUENCE")
        raise _undefined(seq)
    if t.take("RENAME", "TO"):
        new = t.ident()
        if not t.done():
            raise t.error()
        if _relation_exists(session, schema, new):
            raise E.DuplicateTable(f'relation "{new}" already exists in schema "{schema}"')
        session.storage.catalog.sequence_update(key, lambda s: (s, None), new_key=_key(session, schema, new))
        _rewrite_defaults(session, schema, seq, new)
        return Result(None, tag="ALTER SEQUENCE")
    if t.take("OWNER", "TO"):
        from sql.roles import unchanged_owner

        new_owner = t.ident()
        if not t.done():
            raise t.error()
        unchanged_owner(
            session, new_owner.strip('"') if new_owner.startswith('"') else new_owner.lower(), "a sequence"
        )
        return Result(None, tag="ALTER SEQUENCE")
    given = _options(t, alter=True)
    if not given:
        raise t.error()
    _owned(session, schema, given)

    def change(state: dict | None):
        if state is None:
            raise _undefined(seq)
        s = _settle(seq, normalised(state), given)
        if "owned" in given:
            s["owned"] = given["owned"]
        return s, None

    session.storage.catalog.sequence_update(key, change)
    return Result(None, tag="ALTER SEQUENCE")


def _users(session: SqlSession, schema: str, seq: str) -> list:
    """(table meta, column) of every column whose DEFAULT is nextval of this sequence."""
    out = []
    db = session.storage.catalog.database(session.database)
    default_rp = db.default_rp
    for meta in session.storage.catalog.tables(db.id):
        tschema = "public" if meta.rp == default_rp else meta.rp
        for column, d in (meta.options.get("defaults") or {}).items():
            if "seq" not in d:
                continue
            if "type" in d:
                where, name = resolve(session, d["seq"])
            else:
                where, name = tschema, d["seq"]
            if (where, name) == (schema, seq):
                out.append((meta, column))
    return out


def _set_default(session: SqlSession, meta, column: str, d: dict | None) -> None:
    opts = dict(meta.options)
    defaults = dict(opts.get("defaults") or {})
    if d is None:
        defaults.pop(column, None)
    else:
        defaults[column] = d
    opts["defaults"] = defaults
    session.storage.catalog.set_table_options(meta.id, meta.time_column, opts)
    session.storage.invalidate_tables()


def _rewrite_defaults(session: SqlSession, schema: str, old: str, new: str) -> None:
    """A renamed sequence stays the one its columns' defaults call (PostgreSQL refers to it by OID)."""
    for meta, column in _users(session, schema, old):
        d = dict(meta.options["defaults"][column])
        d["seq"] = new if "type" not in d or schema == "public" else f"{schema}.{new}"
        _set_default(session, meta, column, d)


def _drop(session: SqlSession, t: _Tokens) -> Result:
    from sql.session import Result

    missing_ok = t.take("IF", "EXISTS")
    names = [t.name()]
    while t.take(","):
        names.append(t.name())
    cascade = t.take("CASCADE")
    if not cascade:
        t.take("RESTRICT")
    if not t.done():
        raise t.error()
    found = []
    for schema, seq in names:
        schema = schema or "public"
        key = _key(session, schema, seq)
        if session.storage.catalog.get_meta(key) is None:
            if missing_ok:
                session.notice(E.Notice_(f'sequence "{seq}" does not exist, skipping'))
                continue
            raise E.UndefinedTable(f'sequence "{seq}" does not exist')
        users = _users(session, schema, seq)
        if users and not cascade:
            detail = "\n".join(
                f"default value for column {c} of table {m.name} depends on sequence {seq}" for m, c in users
            )
            raise E.DependentObjectsStillExist(
                f"cannot drop sequence {seq} because other objects depend on it",
                detail=detail,
                hint="Use DROP ... CASCADE to drop the dependent objects too.",
            )
        found.append((key, users))
    for key, users in found:
        for meta, column in users:
            session.notice(
                E.Notice_(f"drop cascades to default value for column {column} of table {meta.name}")
            )
            _set_default(session, meta, column, None)
        _delete(session, key)
    return Result(None, tag="DROP SEQUENCE")


def _delete(session: SqlSession, key: str) -> None:
    """Drop a sequence, and its description (sql/comments.py keeps it by the sequence's id)."""
    catalog = session.storage.catalog
    state = catalog.sequence_update(key, lambda s: (None, s))
    if state and state.get("id"):
        catalog.drop_comments(catalog.database(session.database).id, "sequence", state["id"])


def drop_owned(session: SqlSession, schema: str, table: str, column: str | None = None) -> None:
    """DROP TABLE (or DROP COLUMN) drops the sequences its columns own (a SERIAL's, OWNED BY)."""
    for key, state in all_states(session):
        _db, sschema, _name = split_key(session, key)
        owned = state.get("owned") or [None, None]
        if sschema == schema and owned[0] == table and column in (None, owned[1]):
            _delete(session, key)


def rename_owner(
    session: SqlSession, schema: str, table: str, new_table: str, column=None, new_column=None
) -> None:
    """ALTER TABLE ... RENAME [COLUMN]: the sequences the table's (or the column's) owns stay owned."""
    for key, state in all_states(session):
        _db, sschema, _name = split_key(session, key)
        owned = state.get("owned") or [None, None]
        if sschema == schema and owned[0] == table and column in (None, owned[1]):
            new = [new_table, new_column if column is not None else owned[1]]
            session.storage.catalog.sequence_update(key, lambda s, new=new: ({**s, "owned": new}, None))


def split_key(session: SqlSession, key: str) -> tuple[str, str, str]:
    """(database, schema, name) of a sequence key."""
    rest = key[len(f"seq:{session.database}:") :]
    schema, _, name = rest.partition(".")
    return session.database, schema, name


def all_states(session: SqlSession) -> list[tuple[str, dict]]:
    return [
        (k, normalised(json.loads(v)))
        for k, v in session.storage.catalog.meta_items(f"seq:{session.database}:")
    ]


def alter_state(session: SqlSession, schema: str, seq: str, given: dict) -> None:
    """Apply options ``given`` (as :func:`options` reads them) to sequence ``seq``, as ALTER SEQUENCE does."""
    key = _key(session, schema, seq)

    def change(state: dict | None):
        if state is None:
            raise _undefined(seq)
        return _settle(seq, normalised(state), given), None

    session.storage.catalog.sequence_update(key, change)


# what sql/identity.py reads identity columns' sequence options and names with
Tokens = _Tokens
tokens = _tokens
options = _options
TYPE_NAMES = _TYPE_NAMES
relation_exists = _relation_exists
set_default = _set_default
