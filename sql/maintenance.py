"""Maintenance statements: CHECKPOINT, VACUUM, ANALYZE, REINDEX, CLUSTER and LOCK, and what each
means for columnar storage. Scripts run them after bulk loads and deletes, and migrations and dump
tools take table locks; each checks what it names and gives PostgreSQL's errors.

- ``CHECKPOINT`` (superusers, as in PostgreSQL 15): every memtable is written to chunk files and the
  WAL segments they came from are dropped, which is what a checkpoint is for: the data files hold
  every acknowledged write and a restart replays nothing.
- ``VACUUM [FULL] [table [, ...]]`` reclaims what deletes left: the chunk files a DELETE or a
  retention tombstone touched are rewritten without the deleted rows, and runs of small files are
  merged as the background compaction would; ``FULL`` merges each table's files of a time
  partition into one. Without a table, every table of the current database. Not inside a
  transaction block (25001). Rows still in the memtable are not touched (deletes remove them there
  at once).
- ``ANALYZE [table [(column, ...)] ...]`` (also ``VACUUM ANALYZE``) checks its tables and columns
  and has nothing to gather: the native executor plans from the block statistics each chunk file is
  written with, and DuckDB from the Arrow data it is handed, so there are no planner statistics to
  go stale.
- ``REINDEX {INDEX | TABLE | SCHEMA | DATABASE | SYSTEM} name`` checks its target: the series index
  is updated with every write and there is nothing to rebuild. REINDEX INDEX finds its index
  (sql/indexes.py): 42P01 for none, 42809 for a table.
- ``CLUSTER [table [USING index]]``: rows are always stored in (series, time) order. As in
  PostgreSQL, a table named without USING was never clustered (42704), and USING names an index of
  the table (42704).
- ``LOCK [TABLE] name [, ...] [IN mode MODE] [NOWAIT]`` only inside a transaction block (25P01),
  checks its tables and takes no lock: transactions are not isolated here (writes apply as they are
  made, docs/sql.md), so there is nothing for a lock to hold back.

Privileges (for users who are not superusers, sql/privileges.py): REINDEX and CLUSTER of a table need
its ownership, and of a schema or database a superuser; LOCK in ACCESS SHARE mode needs SELECT, in
another mode UPDATE (PostgreSQL also takes INSERT, DELETE or TRUNCATE for some modes); VACUUM and
ANALYZE skip the tables the user does not own with PostgreSQL's WARNING.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sql import errors as E
from sql import indexes
from sql.binder import resolve_table
from sql.session import Result

if TYPE_CHECKING:
    from columnar.catalog import TableMeta
    from sql.engine import SqlSession

WORDS = frozenset({"CHECKPOINT", "VACUUM", "ANALYZE", "ANALYSE", "REINDEX", "CLUSTER", "LOCK"})

_TOKEN = re.compile(r"""\s*("(?:[^"]|"")*"|[A-Za-z_][\w$]*|[-+]?\d+(?:\.\d+)?|'(?:[^']|'')*'|[(),.*=;])""")
_VACUUM_OPTIONS = {
    "FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE", "DISABLE_PAGE_SKIPPING", "SKIP_LOCKED",
    "INDEX_CLEANUP", "PROCESS_TOAST", "TRUNCATE", "PARALLEL",
}  # fmt: skip
_ANALYZE_OPTIONS = {"VERBOSE", "SKIP_LOCKED"}
_LOCK_MODES = {
    ("ACCESS", "SHARE"), ("ROW", "SHARE"), ("ROW", "EXCLUSIVE"), ("SHARE", "UPDATE", "EXCLUSIVE"),
    ("SHARE",), ("SHARE", "ROW", "EXCLUSIVE"), ("EXCLUSIVE",), ("ACCESS", "EXCLUSIVE"),
}  # fmt: skip


def is_statement(word: str) -> bool:
    return word in WORDS


def run(session: SqlSession, sql: str) -> Result:
    toks = _Tokens(sql)
    word = toks.next_word()
    if word == "CHECKPOINT":
        toks.end()
        return _checkpoint(session)
    if word == "VACUUM":
        return _vacuum(session, toks)
    if word in ("ANALYZE", "ANALYSE"):
        return _analyze(session, toks)
    if word == "REINDEX":
        return _reindex(session, toks)
    if word == "CLUSTER":
        return _cluster(session, toks)
    return _lock(session, toks)


# -- statements -------------------------------------------------------------------------------------------
def _checkpoint(session: SqlSession) -> Result:
    if not session.is_superuser():
        raise E.InsufficientPrivilege(
            "must be superuser or have privileges of pg_checkpoint to do CHECKPOINT"
        )
    session.storage.flush()
    return Result(None, tag="CHECKPOINT")


def _vacuum(session: SqlSession, toks: _Tokens) -> Result:
    options = _options(toks, "VACUUM", _VACUUM_OPTIONS)
    if options is None:  # the old form: VACUUM [FULL] [FREEZE] [VERBOSE] [ANALYZE]
        options = set()
        for word in ("FULL", "FREEZE", "VERBOSE", "ANALYZE"):
            if toks.peek_word() == word or (word == "ANALYZE" and toks.peek_word() == "ANALYSE"):
                toks.next_word()
                options.add(word)
    targets = _targets(toks)
    if any(cols for _, cols in targets) and "ANALYZE" not in options:
        raise E.FeatureNotSupported("ANALYZE option must be specified when a column list is provided")
    if "FULL" in options and "PARALLEL" in options:
        raise E.FeatureNotSupported("VACUUM FULL cannot be performed in parallel")
    _outside_transaction(session, "VACUUM")
    metas = _owned(session, _resolved(session, targets) or _database_tables(session), "vacuum")
    from columnar.compaction import compact_due

    if metas:
        compact_due(session.storage, full="FULL" in options, table_ids={m.id for m in metas})
    return Result(None, tag="VACUUM")


def _analyze(session: SqlSession, toks: _Tokens) -> Result:
    if _options(toks, "ANALYZE", _ANALYZE_OPTIONS) is None and toks.peek_word() == "VERBOSE":
        toks.next_word()
    _owned(session, _resolved(session, _targets(toks)), "analyze")
    return Result(None, tag="ANALYZE")


@dataclass
class _Reindex:
    kind: str  # INDEX | TABLE | SCHEMA | DATABASE | SYSTEM
    concurrently: bool
    name: str | None  # SCHEMA, DATABASE, SYSTEM (None: the current database)
    table: exp.Table | None  # INDEX (the index's name), TABLE


def _parse_reindex(toks: _Tokens) -> _Reindex:
    _options(toks, "REINDEX", {"VERBOSE", "CONCURRENTLY", "TABLESPACE"})
    kind = toks.next_word()
    if kind not in ("INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM"):
        raise toks.syntax_error()
    concurrently = toks.peek_word() == "CONCURRENTLY"
    if concurrently:
        toks.next_word()
    name = table = None
    if kind in ("INDEX", "TABLE"):
        table = toks.table()
    elif kind == "SCHEMA" or not toks.at_end():
        name = toks.name()
    toks.end()
    return _Reindex(kind, concurrently, name, table)


def _reindex(session: SqlSession, toks: _Tokens) -> Result:
    r = _parse_reindex(toks)
    if r.kind == "SYSTEM" and r.concurrently:
        raise E.FeatureNotSupported("cannot reindex system catalogs concurrently")
    if r.kind in ("DATABASE", "SYSTEM"):
        _outside_transaction(session, f"REINDEX {r.kind}")
        if (r.name or session.database) != session.database:
            raise E.FeatureNotSupported("can only reindex the currently open database")
        return Result(None, tag="REINDEX")
    if r.concurrently:
        _outside_transaction(session, "REINDEX CONCURRENTLY")
    if r.kind == "SCHEMA":
        _outside_transaction(session, "REINDEX SCHEMA")
        if r.name != "public":
            try:
                session.storage.catalog.retention_policy(session.database, r.name)
            except Exception:  # (StorageError: no such retention policy, the schema's storage)
                raise E.InvalidSchemaName(f'schema "{r.name}" does not exist') from None
        return Result(None, tag="REINDEX")
    if r.kind == "TABLE":
        assert r.table is not None
        resolve_table(session.storage, session.database, r.table)
    if r.kind == "INDEX":
        assert r.table is not None
        _index(session, r.table)
    return Result(None, tag="REINDEX")


def _index(session: SqlSession, name: exp.Table) -> indexes.Found:
    """The index ``name`` names (sql/indexes.py); 42809 for another relation, else 42P01."""
    found = indexes.find(session, name)
    if found is not None:
        return found
    if indexes.relation_taken(session, name.db or None, name.name):
        raise E.WrongObjectType(f'"{name.name}" is not an index')
    shown = f"{name.db}.{name.name}" if name.db else name.name
    raise E.UndefinedTable(f'relation "{shown}" does not exist')


def _parse_cluster(toks: _Tokens) -> tuple[exp.Table | None, str | None]:
    """CLUSTER's table (None: none named) and the index it names (USING), if any."""
    if toks.peek_word() == "VERBOSE":
        toks.next_word()
    if toks.at_end():
        return None, None
    table = toks.table()
    using = None
    if toks.peek_word() == "USING":
        toks.next_word()
        using = toks.name()
    toks.end()
    return table, using


def _cluster(session: SqlSession, toks: _Tokens) -> Result:
    table, using = _parse_cluster(toks)
    if table is None:
        _outside_transaction(session, "CLUSTER")
        return Result(None, tag="CLUSTER")  # every table clustered before: none
    _, meta = resolve_table(session.storage, session.database, table)
    if not using:
        raise E.UndefinedObject(f'there is no previously clustered index for table "{meta.name}"')
    index = exp.Table(this=exp.to_identifier(using), db=table.args.get("db"))
    found = indexes.find(session, index)
    if found is None or found.meta.id != meta.id:
        raise E.UndefinedObject(f'index "{using}" for table "{meta.name}" does not exist')
    if found.spec is not None and found.spec.get("where"):
        raise E.FeatureNotSupported(f'cannot cluster on partial index "{using}"')
    if found.spec is not None and found.spec.get("method", "btree") != "btree":
        raise E.FeatureNotSupported(
            f'cannot cluster on index "{using}" because access method does not support clustering'
        )
    return Result(None, tag="CLUSTER")


def _parse_lock(toks: _Tokens) -> tuple[list[exp.Table], tuple[str, ...]]:
    """LOCK's tables and its mode (ACCESS EXCLUSIVE when none is named, as in PostgreSQL)."""
    if toks.peek_word() == "TABLE":
        toks.next_word()
    tables = []
    while True:
        if toks.peek_word() == "ONLY":
            toks.next_word()
        tables.append(toks.table())
        if toks.peek() == "*":
            toks.take()
        if toks.peek() != ",":
            break
        toks.take()
    mode: tuple[str, ...] = ("ACCESS", "EXCLUSIVE")
    if toks.peek_word() == "IN":
        toks.next_word()
        words = []
        while not toks.at_end() and toks.peek_word() != "MODE":
            words.append(toks.next_word())
        mode = tuple(words)
        if toks.next_word() != "MODE" or mode not in _LOCK_MODES:
            raise toks.syntax_error()
    if toks.peek_word() == "NOWAIT":
        toks.next_word()
    toks.end()
    return tables, mode


def _lock(session: SqlSession, toks: _Tokens) -> Result:
    tables, _mode = _parse_lock(toks)
    if session.transaction_status == "I":
        raise E.NoActiveSqlTransaction("LOCK TABLE can only be used in transaction blocks")
    for table in tables:
        resolve_table(session.storage, session.database, table)
    return Result(None, tag="LOCK TABLE")


# -- privileges ---------------------------------------------------------------------------------------
def needs(session: SqlSession, sql: str) -> list:
    """What a user who is not a superuser needs to run ``sql`` (privileges.Need rows); raises 42501
    for what needs a superuser. (VACUUM and ANALYZE need nothing: they skip what is not the user's.)"""
    from sql import privileges

    toks = _Tokens(sql)
    word = toks.next_word()
    tables: list[exp.Table] = []
    privilege = privileges.OWNER
    if word == "REINDEX":
        r = _parse_reindex(toks)
        if r.kind in ("SCHEMA", "DATABASE", "SYSTEM"):
            raise E.InsufficientPrivilege(f"permission denied: REINDEX {r.kind} needs a superuser in tsgres")
        if r.kind == "TABLE" and r.table is not None:
            tables = [r.table]
    elif word == "CLUSTER":
        table, _using = _parse_cluster(toks)
        tables = [] if table is None else [table]
    elif word == "LOCK":
        tables, mode = _parse_lock(toks)
        privilege = "r" if mode == ("ACCESS", "SHARE") else "w"
    out = []
    for table in tables:
        found = privileges.target(session, table)
        if found is not None:
            key, kind, label = found
            out.append(privileges.Need(key, kind, privilege, label, None))
    return out


def _owned(session: SqlSession, metas: list[TableMeta], verb: str) -> list[TableMeta]:
    """The tables of ``metas`` the session's user owns (a superuser: all); a WARNING for each other,
    as PostgreSQL skips them."""
    from sql import roles

    catalog = session.storage.catalog
    if roles.is_superuser(catalog, session.user):
        return metas
    members = roles.effective_roles(catalog, session.user)
    out = []
    for meta in metas:
        if roles.acl(catalog, roles.table_key(meta.id)).owner_name() in members:
            out.append(meta)
        else:
            session.notice(_Skipped(f'skipping "{meta.name}" --- only table or database owner can {verb} it'))
    return out


class _Skipped(E.Warning_, sqlstate="42501"): ...


# -- shared parts ---------------------------------------------------------------------------------------
def _outside_transaction(session: SqlSession, what: str) -> None:
    if session.transaction_status != "I":
        raise E.ActiveSqlTransaction(f"{what} cannot run inside a transaction block")


def _database_tables(session: SqlSession) -> list[TableMeta]:
    return session.storage.tables(session.database)


def _options(toks: _Tokens, what: str, known: set[str]) -> set[str] | None:
    """A parenthesised option list (``(FULL, VERBOSE false, PARALLEL 2)``): the options set true;
    None when there is none."""
    if toks.peek() != "(":
        return None
    toks.take()
    out: set[str] = set()
    while True:
        name = toks.next_word()
        if name not in known:
            raise E.SyntaxError_(f'unrecognized {what} option "{name.lower()}"')
        value = True
        if toks.peek() not in (",", ")"):
            v = toks.take().strip("'").lower()
            value = v not in ("false", "off", "0")
        elif name == "PARALLEL":
            raise E.SyntaxError_("parallel option requires a value between 0 and 1024")
        if value:
            out.add("ANALYZE" if name == "ANALYSE" else name)
        if toks.take() == ")":
            return out


def _targets(toks: _Tokens) -> list[tuple[exp.Table, list[str]]]:
    """``table [(column, ...)] [, ...]`` up to the end."""
    out: list[tuple[exp.Table, list[str]]] = []
    while not toks.at_end():
        table = toks.table()
        cols: list[str] = []
        if toks.peek() == "(":
            toks.take()
            while True:
                cols.append(toks.name())
                if toks.take() == ")":
                    break
        out.append((table, cols))
        if toks.at_end():
            break
        if toks.take() != ",":
            raise toks.syntax_error(back=1)
    return out


def _resolved(session: SqlSession, targets: list[tuple[exp.Table, list[str]]]) -> list[TableMeta]:
    """The tables of ``targets``, each and its columns checked."""
    out = []
    for table, cols in targets:
        _, meta = resolve_table(session.storage, session.database, table)
        for col in cols:
            if meta.column(col) is None:
                raise E.UndefinedColumn(f'column "{col}" of relation "{meta.name}" does not exist')
        out.append(meta)
    return out


class _Tokens:
    """The statement's tokens: words (upper-cased by next_word), quoted names, numbers, punctuation."""

    def __init__(self, sql: str) -> None:
        text = sql.strip().rstrip(";").rstrip()
        self.toks: list[str] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise E.SyntaxError_(f'syntax error at or near "{text[pos:].split()[0]}"')
            self.toks.append(m.group(1))
            pos = m.end()
        self.i = 0

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    def peek(self) -> str:
        return self.toks[self.i] if self.i < len(self.toks) else ""

    def peek_word(self) -> str:
        t = self.peek()
        return t.upper() if t[:1].isalpha() or t[:1] == "_" else ""

    def take(self) -> str:
        if self.at_end():
            raise E.SyntaxError_("syntax error at end of input")
        self.i += 1
        return self.toks[self.i - 1]

    def next_word(self) -> str:
        return self.take().upper()

    def name(self) -> str:
        t = self.take()
        if t.startswith('"'):
            return t[1:-1].replace('""', '"')
        if not (t[:1].isalpha() or t[:1] == "_"):
            raise E.SyntaxError_(f'syntax error at or near "{t}"')
        return t.lower()

    def table(self) -> exp.Table:
        name = self.name()
        if self.peek() == ".":
            self.take()
            return exp.Table(this=exp.to_identifier(self.name()), db=exp.to_identifier(name))
        return exp.Table(this=exp.to_identifier(name))

    def end(self) -> None:
        if not self.at_end():
            raise self.syntax_error()

    def syntax_error(self, back: int = 0) -> E.SqlError:
        i = self.i - back
        if i >= len(self.toks):
            return E.SyntaxError_("syntax error at end of input")
        return E.SyntaxError_(f'syntax error at or near "{self.toks[i]}"')
