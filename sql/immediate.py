"""Which statements a session answers at once: what ``Session.immediate`` reports to pgwire.

pgwire answers an immediate statement on its event loop instead of handing it to a thread and back
(~40 us of a SELECT 1 round trip on the 2-core machine). Immediate means microseconds of CPU and no
I/O: a query whose cached plan holds its constant result (``SELECT 1``, ``SELECT version()`` ...
answered from the prepare, sql/engine.py) and the session commands that only touch session state.
Anything else (a plan not cached yet, DuckDB, storage, FETCH) is not.

    immediate(session, "SELECT 1")        # True once prepared before
    immediate(session, "SET TimeZone = 'UTC'; BEGIN")   # True
    immediate(session, prepared)          # a Statement from prepare(): by its kind and plan
    constant(prepared)                    # True for SELECT 1: its result was computed at prepare

``constant`` is what ``Session.constant`` reports to pgwire: running such a statement reads and changes
nothing of the session, so pgwire may answer the same request bytes again with the same reply bytes
(pgwire/handlers.py, ``Handler.reply``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sql import errors as E
from sql.parse import command_word, split
from sql.session import Statement

if TYPE_CHECKING:
    from sql.engine import SqlSession

MAX_TEXT = 4096  # longer texts are not looked at (splitting them is itself work)
COMMANDS = frozenset(
    {"SET", "SHOW", "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
     "CLOSE", "DEALLOCATE", "DISCARD", "LISTEN", "UNLISTEN"}
)  # fmt: skip


@lru_cache(maxsize=1024)
def _split(sql: str) -> tuple[str, ...]:
    """sql.parse.split, remembered: clients send the same few texts again and again, and tokenizing
    even ``SELECT 1`` takes ~13 us."""
    return tuple(split(sql))


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
        return getattr(what, "kind", "") == "command" and command_word(what.sql) in COMMANDS
    if len(what) > MAX_TEXT:
        return False
    try:
        statements = _split(what)
    except E.SqlError:
        return False  # let the statement report its error where errors are reported
    if not statements:
        return True  # EmptyQueryResponse
    engine = session.sql_engine
    for sql in statements:
        if command_word(sql) in COMMANDS:
            continue
        plan = engine.cached_plan((session.database, sql, (), engine.catalog_version))
        if plan is None or getattr(plan, "constant", None) is None:
            return False
    return True


def constant(what: Statement) -> bool:
    """True when ``what`` (a prepared Statement) is a query whose result was computed at prepare:
    running it takes microseconds, reads nothing of the session and changes nothing in it."""
    return getattr(what, "constant", None) is not None
