"""Session statements: SET/SHOW/RESET, transaction control, cursors, DISCARD, LISTEN and friends.

They are parsed here by their keywords (sqlglot has no use for them) and act on the session only.
Transaction control tracks PostgreSQL's status (I/T/E) for clients and the block's undo log
(sql/transaction.py): ROLLBACK, ROLLBACK TO SAVEPOINT and a failed block's end undo its data writes.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sql import errors as E
from sql import settings, temp_tables, transaction
from sql.session import ColumnDesc, Result
from sql.types import TEXT

if TYPE_CHECKING:
    from sql.engine import SqlSession

WORDS = {
    "SET", "SHOW", "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT",
    "RELEASE", "DECLARE", "FETCH", "MOVE", "CLOSE", "DEALLOCATE", "DISCARD", "LISTEN", "UNLISTEN",
    "NOTIFY", "PREPARE", "EXECUTE",
}  # fmt: skip

_TOKEN = re.compile(
    r"""\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z_][\w.$/:+-]*|[-+]?\d+(?:\.\d+)?\w*|=|,|\(|\)|\*)"""
)
_DECLARE = re.compile(r"(?is)^\s*DECLARE\s+(.*?)\bCURSOR\b(.*?)\bFOR\b(.*)$")
_NAME = r'("(?:[^"]|"")*"|[A-Za-z_][\w$]*)'
_PREPARE = re.compile(r"(?is)^\s*PREPARE\s+" + _NAME + r"\s*(?:\((.*?)\))?\s*AS\s+(.*)$")
_EXECUTE = re.compile(r"(?is)^\s*EXECUTE\s+" + _NAME + r"\s*(?:\((.*)\))?\s*;?\s*$")


def _tokens(sql: str) -> list[str]:
    out, pos, s = [], 0, sql.strip().rstrip(";").strip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            raise E.SyntaxError_(f'syntax error at or near "{s[pos:].split()[0]}"', position=pos + 1)
        out.append(m.group(1))
        pos = m.end()
    return out


def _unquote(tok: str) -> str:
    if tok.startswith("'") and tok.endswith("'"):
        return tok[1:-1].replace("''", "'")
    if tok.startswith('"') and tok.endswith('"'):
        return tok[1:-1].replace('""', '"')
    return tok


@dataclass
class Cursor:
    name: str
    columns: list[ColumnDesc]
    batches: Iterator[pa.RecordBatch]
    hold: bool
    statement: str = ""  # the DECLARE statement as sent (pg_cursors.statement)
    binary: bool = False
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    pending: pa.RecordBatch | None = None
    done: bool = False
    position: int = 0

    def take(self, n: int | None) -> list[pa.RecordBatch]:
        """Up to n rows (None: all that are left)."""
        out: list[pa.RecordBatch] = []
        want = n
        while not self.done and (want is None or want > 0):
            if self.pending is None or self.pending.num_rows == 0:
                try:
                    self.pending = next(self.batches)
                except StopIteration:
                    self.done = True
                    break
                continue
            k = self.pending.num_rows if want is None else min(want, self.pending.num_rows)
            out.append(self.pending.slice(0, k))
            self.pending = self.pending.slice(k)
            self.position += k
            if want is not None:
                want -= k
        return out


@dataclass
class CommandState:
    cursors: dict[str, Cursor] = field(default_factory=dict)
    listening: set[str] = field(default_factory=set)


def describe(session: SqlSession, sql: str) -> list[ColumnDesc] | None:
    if sql.lstrip()[:7].upper() in ("DECLARE", "PREPARE"):
        return None  # its query (any SQL, $n parameters too) is prepared when it runs
    if sql.lstrip()[:7].upper() == "EXECUTE":
        return _sql_prepared(session, sql)[0].columns
    toks = _tokens(sql)
    word = toks[0].upper()
    if word == "SHOW":
        if len(toks) > 1 and toks[1].upper() == "ALL":
            return [ColumnDesc(n, TEXT.oid) for n in ("name", "setting", "description")]
        return [ColumnDesc(_show_name(toks[1:]), TEXT.oid)]
    if word == "FETCH":
        cur = session.commands.cursors.get(_cursor_name(toks).lower())
        if cur is None:
            raise E.InvalidCursorName(f'cursor "{_cursor_name(toks)}" does not exist')
        return cur.columns
    return None


def _show_name(toks: list[str]) -> str:
    name = " ".join(toks).lower()
    return {"time zone": "TimeZone", "transaction isolation level": "transaction_isolation"}.get(
        name, _unquote(toks[0]) if toks else ""
    )


def run(session: SqlSession, sql: str) -> Result:
    if sql.lstrip()[:7].upper() == "DECLARE":
        return _declare(session, sql)
    if sql.lstrip()[:7].upper() == "PREPARE":
        return _prepare(session, sql)
    if sql.lstrip()[:7].upper() == "EXECUTE":
        return _execute(session, sql)
    toks = _tokens(sql)
    return _HANDLERS[toks[0].upper()](session, toks)


def _set(session: SqlSession, toks: list[str]) -> Result:
    rest = toks[1:]
    if (
        rest
        and rest[0].upper() in ("SESSION", "LOCAL")
        and len(rest) > 1
        and rest[1].upper() != "CHARACTERISTICS"
    ):
        rest = rest[1:]
    if not rest:
        raise E.SyntaxError_("syntax error at end of input")
    head = rest[0].upper()
    if head in ("TRANSACTION", "SESSION") or (head == "CONSTRAINTS"):
        return Result(None, tag="SET")  # isolation levels and constraint timing: accepted
    if head == "TIME" and len(rest) > 2 and rest[1].upper() == "ZONE":
        name, values = "timezone", rest[2:]
    elif head == "NAMES":
        name, values = "client_encoding", rest[1:]
    else:
        name = rest[0].lower()
        if len(rest) < 3 or rest[1].upper() not in ("TO", "="):
            raise E.SyntaxError_(f'syntax error at or near "{rest[1] if len(rest) > 1 else name}"')
        values = rest[2:]
    if len(values) == 1 and values[0].upper() in ("DEFAULT", "LOCAL"):
        changed = session.reset_setting(name)
        return Result(None, tag="SET", changed_parameters=changed)
    value = ", ".join(_unquote(v) for v in values if v != ",")
    changed = session.set_setting(name, value)
    return Result(None, tag="SET", changed_parameters=changed)


def _show(session: SqlSession, toks: list[str]) -> Result:
    if len(toks) > 1 and toks[1].upper() == "ALL":
        rows = sorted({**settings.every_default(), **session.settings}.items())
        table = pa.table(
            {"name": [k for k, _ in rows], "setting": [v for _, v in rows], "description": [""] * len(rows)}
        )
        return Result(describe(session, " ".join(toks)), iter(table.to_batches()), tag="SHOW")
    label = _show_name(toks[1:])
    name = label.lower()
    value = session.settings.get(name, settings.default_shown(name))
    if value is None:
        raise E.UndefinedObject(f'unrecognized configuration parameter "{name}"')
    table = pa.table({label: [value]})
    return Result([ColumnDesc(label, TEXT.oid)], iter(table.to_batches()), tag="SHOW")


def _reset(session: SqlSession, toks: list[str]) -> Result:
    if len(toks) < 2:
        raise E.SyntaxError_("syntax error at end of input")
    changed: dict[str, str] = {}
    if toks[1].upper() == "ALL":
        for name in list(session.settings):
            changed.update(session.reset_setting(name))
    else:
        changed = session.reset_setting(
            " ".join(toks[1:]).lower() if toks[1].upper() == "TIME" else toks[1].lower()
        )
    return Result(None, tag="RESET", changed_parameters=changed)


def _begin(session: SqlSession, toks: list[str]) -> Result:
    tag = "START TRANSACTION" if toks[0].upper() == "START" else "BEGIN"
    if session.transaction_status == "I":
        session.transaction_status = "T"
        session.txn = transaction.Transaction()
    else:
        session.notice(E.TransactionInProgress("there is already a transaction in progress"))
    return Result(None, tag=tag)


def _commit(session: SqlSession, toks: list[str]) -> Result:
    failed = session.transaction_status == "E"
    if session.transaction_status == "I":
        session.notice(E.NoTransactionInProgress("there is no transaction in progress"))
    _end_transaction(session, undo=failed)  # (COMMIT of a failed block rolls it back)
    return Result(None, tag="ROLLBACK" if failed else "COMMIT")


def _rollback(session: SqlSession, toks: list[str]) -> Result:
    words = [t.upper() for t in toks[1:]]
    if words[:1] in (["WORK"], ["TRANSACTION"]):
        words, toks = words[1:], toks[1:]
    if words[:1] == ["TO"]:
        if session.transaction_status == "I":
            raise E.NoActiveSqlTransaction("ROLLBACK TO SAVEPOINT can only be used in transaction blocks")
        name = _savepoint_name(toks[3:] if words[1:2] == ["SAVEPOINT"] else toks[2:])
        if session.txn is None:  # (a block opened without one: nothing to undo)
            session.txn = transaction.Transaction()
        session.txn.rollback_to(session, name)
        session.transaction_status = "T"
        return Result(None, tag="ROLLBACK")
    if session.transaction_status == "I":
        session.notice(E.NoTransactionInProgress("there is no transaction in progress"))
    _end_transaction(session, undo=True)
    return Result(None, tag="ROLLBACK")


def _end_transaction(session: SqlSession, *, undo: bool) -> None:
    txn, session.txn = session.txn, None
    session.transaction_status = "I"
    for name in [n for n, c in session.commands.cursors.items() if not c.hold]:
        del session.commands.cursors[name]
    if undo and txn is not None:
        txn.undo(session)
    elif txn is not None and txn.wal_seq:  # COMMIT: durable once the block's WAL records are
        session.storage.sync(txn.wal_seq)


def _savepoint_name(toks: list[str]) -> str:
    if len(toks) != 1:
        raise E.SyntaxError_(
            f'syntax error at or near "{toks[1]}"' if toks else "syntax error at end of input"
        )
    tok = toks[0]
    return _unquote(tok) if tok.startswith('"') else tok.lower()


def _savepoint(session: SqlSession, toks: list[str]) -> Result:
    name = _savepoint_name(toks[1:])
    if session.transaction_status == "I":
        raise E.NoActiveSqlTransaction("SAVEPOINT can only be used in transaction blocks")
    if session.txn is None:
        session.txn = transaction.Transaction()
    session.txn.savepoint(name)
    return Result(None, tag="SAVEPOINT")


def _release(session: SqlSession, toks: list[str]) -> Result:
    rest = toks[2:] if len(toks) > 1 and toks[1].upper() == "SAVEPOINT" else toks[1:]
    name = _savepoint_name(rest)
    if session.transaction_status == "I":
        raise E.NoActiveSqlTransaction("RELEASE SAVEPOINT can only be used in transaction blocks")
    if session.txn is None:
        session.txn = transaction.Transaction()
    session.txn.release(name)
    return Result(None, tag="RELEASE")


def _declare(session: SqlSession, sql: str) -> Result:
    m = _DECLARE.match(sql)
    if not m:
        raise E.SyntaxError_("syntax error in DECLARE")
    head = _tokens(m.group(1))
    if not head:
        raise E.SyntaxError_("syntax error in DECLARE")
    opts = [t.upper() for t in head[1:]]
    if "SCROLL" in opts and "NO" not in opts:
        raise E.FeatureNotSupported("scrollable cursors are not supported")
    hold = "WITH" in [t.upper() for t in _tokens(m.group(2))]
    if not hold and session.transaction_status == "I":
        raise E.SqlError("DECLARE CURSOR can only be used in transaction blocks")
    name = _unquote(head[0])
    key = name if head[0].startswith('"') else name.lower()
    if key in session.commands.cursors:
        raise E.DuplicateCursor(f'cursor "{name}" already exists')
    stmt = session.prepare(m.group(3), [])
    if stmt.columns is None:
        raise E.SqlError("cursor can only be declared for a SELECT query")
    res = session.execute(stmt, session.current_params)
    session.commands.cursors[key] = Cursor(
        name, res.columns or [], res.batches, hold, statement=sql.strip(), binary="BINARY" in opts
    )
    return Result(None, tag="DECLARE CURSOR")


def _split_list(text: str) -> list[str]:
    """A comma-separated list, commas inside parentheses or quotes not splitting it."""
    out, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return out + [last] if last or out else out


def _statement_key(name: str) -> str:
    return _unquote(name) if name.startswith('"') else name.lower()


def _prepare(session: SqlSession, sql: str) -> Result:
    """PREPARE name [(type, ...)] AS statement: prepared now, as the extended protocol's Parse would."""
    from sql.types import lookup

    m = _PREPARE.match(sql)
    if m is None:
        raise E.SyntaxError_("syntax error in PREPARE")
    key = _statement_key(m.group(1))
    if key in session.sql_prepared:
        raise E.DuplicatePreparedStatement(f'prepared statement "{key}" already exists')
    oids = []
    for declared in _split_list(m.group(2) or ""):
        try:
            oids.append(lookup(declared).oid)
        except KeyError:
            oids.append(0)  # (oid, regclass ...): inferred from where the parameter is used
    stmt = copy.copy(session.prepare(m.group(3).strip().rstrip(";"), oids))
    stmt.memo = {**stmt.memo, "name": key}
    session.sql_prepared[key] = stmt
    return Result(None, tag="PREPARE")


def _sql_prepared(session: SqlSession, sql: str) -> tuple[Any, str]:
    m = _EXECUTE.match(sql)
    if m is None:
        raise E.SyntaxError_("syntax error in EXECUTE")
    key = _statement_key(m.group(1))
    stmt = session.sql_prepared.get(key)
    if stmt is None:
        raise E.InvalidSqlStatementName(f'prepared statement "{key}" does not exist')
    return stmt, m.group(2) or ""


def _execute(session: SqlSession, sql: str) -> Result:
    """EXECUTE name [(value, ...)]: the values (expressions) computed, as the statement's parameter
    types, then the statement run with them."""
    from sql.parse import parse
    from sql.types import BY_OID

    stmt, args = _sql_prepared(session, sql)
    values = _split_list(args)
    if len(values) != len(stmt.param_oids):
        raise E.SyntaxError_(f'wrong number of parameters for prepared statement "{stmt.memo.get("name")}"')
    params: list[object] = []
    if values:
        typed = [
            f"CAST({v} AS {BY_OID[o].sql_name})" if o in BY_OID else v
            for v, o in zip(values, stmt.param_oids, strict=True)
        ]
        row = session.query_arrow(parse("SELECT " + ", ".join(typed)), []).to_pylist()[0]
        params = list(row.values())
    return session.execute(stmt, params)


def _cursor_name(toks: list[str]) -> str:
    return _unquote(toks[-1])


def _count(toks: list[str]) -> int | None:
    """FETCH/MOVE direction words -> rows forward (None = ALL)."""
    words = [t.upper() for t in toks[1:-1] if t.upper() not in ("FROM", "IN")]
    if not words or words == ["NEXT"] or words == ["FORWARD"]:
        return 1
    if words in (["ALL"], ["FORWARD", "ALL"]):
        return None
    if words[0] == "FORWARD":
        words = words[1:]
    if len(words) == 1 and re.fullmatch(r"\d+", words[0]):
        return int(words[0])
    raise E.FeatureNotSupported("cursor can only scan forward")


def _fetch(session: SqlSession, toks: list[str]) -> Result:
    name = _cursor_name(toks)
    cur = session.commands.cursors.get(name.lower()) or session.commands.cursors.get(name)
    if cur is None:
        raise E.InvalidCursorName(f'cursor "{name}" does not exist')
    batches = cur.take(_count(toks))
    n = sum(b.num_rows for b in batches)
    word = toks[0].upper()
    if word == "MOVE":
        return Result(None, tag=f"MOVE {n}")
    return Result(cur.columns, iter(batches), tag=f"FETCH {n}")


def _close(session: SqlSession, toks: list[str]) -> Result:
    if len(toks) > 1 and toks[1].upper() == "ALL":
        session.commands.cursors.clear()
        return Result(None, tag="CLOSE CURSOR ALL")
    name = _cursor_name(toks)
    if (
        session.commands.cursors.pop(name.lower(), None) is None
        and session.commands.cursors.pop(name, None) is None
    ):
        raise E.InvalidCursorName(f'cursor "{name}" does not exist')
    return Result(None, tag="CLOSE CURSOR")


def _deallocate(session: SqlSession, toks: list[str]) -> Result:
    words = [t.upper() for t in toks[1:] if t.upper() != "PREPARE"]
    if words == ["ALL"]:
        session.sql_prepared.clear()
        return Result(None, tag="DEALLOCATE ALL")
    name = _unquote(toks[-1])
    if session.sql_prepared.pop(name.lower(), None) is None:
        raise E.InvalidSqlStatementName(f'prepared statement "{name}" does not exist')
    return Result(None, tag="DEALLOCATE")


def _discard(session: SqlSession, toks: list[str]) -> Result:
    what = toks[1].upper() if len(toks) > 1 else ""
    if what == "ALL":
        if session.transaction_status != "I":
            raise E.SqlError("DISCARD ALL cannot run inside a transaction block")
        session.commands.cursors.clear()
        session.commands.listening.clear()
        session.sql_prepared.clear()
        temp_tables.drop_all(session)
        changed: dict[str, str] = {}
        for name in list(session.settings):
            changed.update(session.reset_setting(name))
        return Result(None, tag="DISCARD ALL", changed_parameters=changed)
    if what in ("TEMP", "TEMPORARY"):
        temp_tables.drop_all(session)
    if what in ("PLANS", "SEQUENCES", "TEMP", "TEMPORARY"):
        return Result(None, tag=f"DISCARD {'TEMP' if what == 'TEMPORARY' else what}")
    raise E.SyntaxError_(f'syntax error at or near "{toks[1] if len(toks) > 1 else "DISCARD"}"')


def _listen(session: SqlSession, toks: list[str]) -> Result:
    word = toks[0].upper()
    if word == "LISTEN":
        session.commands.listening.add(_unquote(toks[1]))
    elif word == "UNLISTEN":
        if toks[1] == "*":
            session.commands.listening.clear()
        else:
            session.commands.listening.discard(_unquote(toks[1]))
    return Result(None, tag=word)


_HANDLERS = {
    "SET": _set,
    "SHOW": _show,
    "RESET": _reset,
    "BEGIN": _begin,
    "START": _begin,
    "COMMIT": _commit,
    "END": _commit,
    "ROLLBACK": _rollback,
    "ABORT": _rollback,
    "SAVEPOINT": _savepoint,
    "RELEASE": _release,
    "DECLARE": _declare,
    "FETCH": _fetch,
    "MOVE": _fetch,
    "CLOSE": _close,
    "DEALLOCATE": _deallocate,
    "DISCARD": _discard,
    "LISTEN": _listen,
    "UNLISTEN": _listen,
    "NOTIFY": _listen,
}

__all__ = ["WORDS", "describe", "run", "settings", "CommandState", "Cursor"]
