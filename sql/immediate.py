"""Which statements a session answers at once: what ``Session.immediate`` reports to pgwire.

pgwire answers an immediate statement on its event loop instead of handing it to a thread and back
(~40-100 us of a round trip on the 2-core machine). Immediate means microseconds of CPU and no
waiting: a query whose cached plan holds its constant result (``SELECT 1``, ``SELECT version()`` ...
answered from the prepare, sql/engine.py), the session commands that only touch session state, and a
cached native plan whose recent executions were cheap (a dashboard's small time-bucket query: its
plan's running estimate of CPU time per execution at most :data:`EXECUTE_BUDGET_S`). Anything else
(a plan not cached yet, a plan never run, DuckDB, FETCH) is not.

    immediate(session, "SELECT 1")        # True once prepared before
    immediate(session, "SET TimeZone = 'UTC'; BEGIN")   # True
    immediate(session, prepared)          # a Statement from prepare(): by its kind, plan and cost
    constant(prepared)                    # True for SELECT 1: its result was computed at prepare
    try_execute(session, prepared, [])    # execute, or None when it ran past LOOP_LIMIT_S

Execute times: the engine records the CPU time (of its thread: a machine busy with other work does
not make a query look dearer) of each native execution of a plan (``record``) in the plan's ``memo``,
shared by every text that shares the plan (sql/plan_cache.py). The estimate is the median of the last
three runs (of two, the dearer): one slow run among cheap ones (a garbage collection in the middle)
does not move a plan off the loop, two do (the data grew). A plan's first run (its one-time costs:
memos, code paths run for the first time) is the estimate only until the second replaces it, so a
dashboard's new query runs on the loop from its third execution when the second was cheap. The estimate is a guess about the next run's parameters (a template shares its
plan between a one-hour and a one-month range), so an execution on the loop carries a deadline
(``try_execute``): past :data:`LOOP_LIMIT_S` of wall time the native scan's next check raises
:class:`Overrun`, which counts as a run of that length, and the statement (a query: it wrote nothing)
is executed again in a thread. A native plan that would fall back to DuckDB for
these parameters, or whose session turned the native executor off, raises Overrun before DuckDB
starts: DuckDB never runs on the loop.

A statement on the loop holds every other connection's bytes until it ends; in a pool thread it
would hold the GIL for most of that time as well (these are Python-heavy microsecond queries), so
the budget bounds what a connection can take from the others, not the work done.

``constant`` is what ``Session.constant`` reports to pgwire: running such a statement reads and changes
nothing of the session, so pgwire may answer the same request bytes again with the same reply bytes
(pgwire/handlers.py, ``Handler.reply``).
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING

from sql import errors as E
from sql import plan_cache
from sql.parse import command_word, split
from sql.session import Result, Statement

if TYPE_CHECKING:
    from sql.engine import Prepared, SqlSession

MAX_TEXT = 4096  # longer texts are not looked at (splitting them is itself work)
# a native plan whose CPU time estimate per execution is at most this is immediate (at 1 ms a plan near
# 1 ms, TSBS high-cpu-1, went back and forth between the loop and the pool, ~0.2 ms of CPU a hop)
EXECUTE_BUDGET_S = 0.002
LOOP_LIMIT_S = 0.005  # an execution on the loop still running after this (wall time) is abandoned
COMMANDS = frozenset(
    {"SET", "SHOW", "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
     "CLOSE", "DEALLOCATE", "DISCARD", "LISTEN", "UNLISTEN"}
)  # fmt: skip
NUMERIC_OID = 1700
_COST = "execute_s"  # the key of a plan's estimate in Prepared.memo
_RUNS = "execute_runs"  # ... and of its last three runs' CPU times


class Overrun(Exception):  # noqa: N818 - a signal, not an error: no SqlError, the session stays as it was
    """An execution on the event loop ran past its deadline: run it again in a thread."""


@lru_cache(maxsize=1024)
def _split(sql: str) -> tuple[str, ...]:
    """sql.parse.split, remembered: clients send the same few texts again and again, and tokenizing
    even ``SELECT 1`` takes ~13 us (a 400-character TSBS query ~200-400 us)."""
    one = _single(sql)
    return one if one is not None else tuple(split(sql))


_EDGE_SPACE = " \t\n\r"


def _single(sql: str) -> tuple[str, ...] | None:
    """split(sql) without tokenizing, for a text that can only be one statement: no ``;`` anywhere
    (so none outside quotes either), no comment (``--``, ``/*``, sqlglot's ``{#``: the statement then
    runs from its first to its last character that is not white space), quotes paired (an
    unterminated one is split's error to report; quotes paired but crossed, the parse reports the
    same error). None: tokenize. Dashboards send one statement per Query, each with new constants."""
    if ";" in sql or "--" in sql or "/*" in sql or "{#" in sql or sql.count("'") % 2 or sql.count('"') % 2:
        return None
    text = sql.strip(_EDGE_SPACE)
    if not text:
        return ()
    if text[0].isspace() or text[-1].isspace() or "$" in text or "\\" in text:
        return None  # other white space, dollar quotes, backslash escapes: as the tokenizer sees them
    return (text,)


def cached_split(sql: str) -> list[str]:
    """sql.parse.split of ``sql`` from the same cache (a new list: callers may consume it);
    ``SqlSession.split`` can answer with it and save the ~13 us tokenization per simple query."""
    return list(_split(sql))


def immediate(session: SqlSession, what: str | Statement) -> bool:
    """True when preparing and running ``what`` (SQL text: every statement of it) or running it
    (a prepared Statement) takes no I/O and only microseconds."""
    if isinstance(what, Statement):
        if getattr(what, "constant", None) is not None:
            return True
        if getattr(what, "kind", "") == "command":
            return command_word(what.sql) in COMMANDS and not _undoes(session, what.sql)
        return cheap(session, what)  # type: ignore[arg-type]
    if len(what) > MAX_TEXT:
        return False
    try:
        statements = _split(what)
    except E.SqlError:
        return False  # let the statement report its error where errors are reported
    if not statements:
        return True  # EmptyQueryResponse
    for sql in statements:
        if command_word(sql) in COMMANDS:
            if _undoes(session, sql):
                return False
            continue
        plan = lookup(session, sql, ())
        if plan is None or (plan.constant is None and not cheap(session, plan)):
            return False
    return True


def _undoes(session: SqlSession, sql: str) -> bool:
    """Whether ``sql`` may end (or roll back part of) a transaction block that has writes to undo:
    storage work, not the loop's (sql/transaction.py)."""
    txn = getattr(session, "txn", None)
    return bool(txn is not None and txn.entries and command_word(sql) in _ENDS)


_ENDS = frozenset({"ROLLBACK", "ABORT", "COMMIT", "END"})


def constant(what: Statement) -> bool:
    """True when ``what`` (a prepared Statement) is a query whose result was computed at prepare:
    running it takes microseconds, reads nothing of the session and changes nothing in it."""
    return getattr(what, "constant", None) is not None


def cheap(session: SqlSession, plan: Prepared) -> bool:
    """A cached native query plan of the current catalog whose recent executions took at most
    :data:`EXECUTE_BUDGET_S` (never run: not cheap). A numeric column (avg of an integer field) is
    cast by DuckDB even on the native path (sql/executor.py): not cheap either."""
    if plan.kind != "query" or plan.native is None or plan.version != session.sql_engine.catalog_version:
        return False
    if any(c.type_oid == NUMERIC_OID for c in plan.columns or ()):
        return False
    cost = plan.memo.get(_COST)
    return cost is not None and cost <= EXECUTE_BUDGET_S


def record(plan: Prepared, seconds: float) -> None:
    """One execution of ``plan`` took ``seconds`` of CPU: the estimate is the median of the last three
    (of two, the dearer). A plan's first execution pays its one-time costs (its memos, code paths run
    for the first time: ten times a later run's CPU and more); it is the estimate only until the
    second execution replaces it."""
    memo = plan.memo
    runs = memo.get(_RUNS)
    if runs is None:
        memo[_RUNS] = ()  # (the first run is kept as the estimate alone)
        memo[_COST] = seconds
        return
    runs = (*runs[-2:], seconds)  # (threads may race here: a run may be lost, no more)
    memo[_RUNS] = runs
    memo[_COST] = sorted(runs)[len(runs) // 2]


def try_execute(session: SqlSession, statement: Statement, params: list[object | None]) -> Result | None:
    """``session.execute(statement, params)`` on the event loop, given :data:`LOOP_LIMIT_S`: None when it
    ran past that (or would have run DuckDB, or its plan is of an older catalog): nothing was answered
    and the session is as before, so the caller executes it again in a thread."""
    if getattr(statement, "kind", "") == "query" and getattr(statement, "constant", None) is None:
        if statement.version != session.sql_engine.catalog_version:  # type: ignore[attr-defined]
            return None  # it would be planned again
        started = time.perf_counter()
        session.loop_deadline = started + LOOP_LIMIT_S
        try:
            return session.execute(statement, params)
        except Overrun:
            record(statement, time.perf_counter() - started)  # type: ignore[arg-type]
            return None
        finally:
            session.loop_deadline = 0.0
    return session.execute(statement, params)


def lookup(session: SqlSession, sql: str, param_oids: tuple[int, ...] | list[int]) -> Prepared | None:
    """What ``session.prepare(sql, param_oids)`` would answer from the engine's caches alone: the plan
    cached for this text, or the instance of a cached template variant (sql/plan_cache.py; what
    ``SqlSession._prepare_template`` finds before it plans); None when preparing it would plan.
    A template instance found here is kept for the session's next prepare of the same text (``taken``),
    so a text is cut into its template once per Parse."""
    engine = session.sql_engine
    version = engine.catalog_version
    oids = tuple(param_oids)
    plan = engine.cached_plan((session.plan_scope, sql, oids, version))
    if plan is not None:
        return plan  # type: ignore[no-any-return]
    if command_word(sql) not in ("SELECT", "WITH") or session.settings.get("tsgres.shared_plans") == "off":
        return None
    tz = session.settings.get("timezone", "UTC")
    key = (sql, oids, version, tz)  # what the instance depends on (values are read in the TimeZone)
    kept = session.looked_up
    if kept is not None and kept[0] == key:
        return kept[1]
    tpl = plan_cache.template(sql, len(oids))
    if tpl is None:
        return None
    for variant in engine.template_variants((session.plan_scope, tpl.text, oids, version)) or ():
        values = variant.values(tpl, tz)
        if values is not None:
            found = session._instance(variant, sql, values)
            found.version = version
            session.looked_up = (key, found)
            return found
    return None


def taken(session: SqlSession, sql: str, param_oids: list[int]) -> Prepared | None:
    """The template instance :func:`lookup` found for exactly this prepare (same text, parameter
    types, catalog version and TimeZone), handed out once; else None."""
    kept = session.looked_up
    if kept is None:
        return None
    session.looked_up = None
    if session.settings.get("tsgres.shared_plans") == "off":
        return None  # (a SET between the lookup and this prepare)
    version, tz = session.sql_engine.catalog_version, session.settings.get("timezone", "UTC")
    return kept[1] if kept[0] == (sql, tuple(param_oids), version, tz) else None
