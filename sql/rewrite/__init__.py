"""Rewrite rules: one function per module, ``rule(expression, ctx) -> expression``, applied in order.

Each rule turns PostgreSQL / TimescaleDB constructs into what the executor (DuckDB) runs with the
same meaning. Pushdown (sql/rewrite/pushdown.py) is not a tree rewrite: the binder asks it for scan
bounds and leaves the tree as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from sql.rewrite.asof import asof
from sql.rewrite.catalog_functions import catalog_functions
from sql.rewrite.catalog_syntax import catalog_syntax
from sql.rewrite.cte_inline import cte_inline
from sql.rewrite.enum_casts import enum_casts
from sql.rewrite.first_last import first_last
from sql.rewrite.gapfill import gapfill
from sql.rewrite.histogram import histogram
from sql.rewrite.output_names import output_names
from sql.rewrite.percentile import percentile
from sql.rewrite.pg_semantics import pg_semantics
from sql.rewrite.qualified_calls import qualified_calls
from sql.rewrite.rate import rate
from sql.rewrite.sequence_relations import sequence_relations
from sql.rewrite.session_functions import session_functions
from sql.rewrite.set_functions import set_functions
from sql.rewrite.subquery_filters import subquery_filters
from sql.rewrite.time_bucket import time_bucket
from sql.rewrite.timescale_tables import timescale_tables
from sql.rewrite.timestamp_literals import timestamp_literals
from sql.rewrite.user_functions import user_functions
from sql.rewrite.views import views


@dataclass
class RewriteContext:
    database: str
    user: str = ""
    settings: dict[str, str] = field(default_factory=dict)
    version: str = ""
    backend_pid: int = 0
    temp_schema: str = ""  # the session's pg_temp_N ("" until it has one: sql/temp_tables.py)
    describe: bool = False  # describing only: no side effects (set_config)
    # pg_cancel_backend / pg_terminate_backend: the token of the executing statement's SignalCall
    # (sql/activity.py; 0 when describing, or when run by a path that registered none)
    signal_call: int = 0
    signals: bool = False  # set by session_functions when the statement calls one of them
    set_setting: Callable[[str, str], Any] = lambda k, v: None
    view: Callable[[str, str], str | None] = lambda schema, name: None  # a view's stored query
    # a sequence's state (sql/sequences.py: "last", "called" ...); None: no sequence of that name
    sequence: Callable[[str, str], dict | None] = lambda schema, name: None
    # the rows of a TimescaleDB set-returning call in FROM (show_chunks ...); None: not one
    table_function: Callable[[exp.Anonymous], list[str] | None] = lambda call: None
    schemas: Callable[[], Collection[str]] = lambda: ()  # the names of the database's schemas
    enum_labels: Callable[[str], list[str] | None] = lambda name: None  # an enum type's (sql/enums.py)
    # user-defined SQL functions (sql/user_functions.py): whether the database has any, the overloads
    # of (schema, name), and the column names of a table their bodies read (None: not known)
    has_functions: Callable[[], bool] = lambda: False
    functions: Callable[[str, str], list] = lambda schema, name: []
    table_columns: Callable[[exp.Table], set[str] | None] = lambda table: None
    notes: list[str] = field(default_factory=list)  # what each rule did (EXPLAIN)
    # set by a rule that put this session's values (settings, user, sequences ...) into the tree:
    # such a rewrite is not reused for another execution
    session_dependent: bool = False


Rule = Callable[[exp.Expression, RewriteContext], exp.Expression]
# Order: qualified_calls first (no other rule looks through a schema in front of a call); output_names
# early (names from the SQL as written), user_functions right after it (a call's column keeps its
# name, and the body inlined goes through every later rule); gapfill before the rules that lower
# what it must recognise or emits (first/last inside locf, time_bucket calls it generates).
RULES: tuple[Rule, ...] = (
    qualified_calls,
    views,
    sequence_relations,
    timescale_tables,
    output_names,
    user_functions,
    cte_inline,
    subquery_filters,
    session_functions,
    timestamp_literals,
    gapfill,
    asof,
    rate,
    histogram,
    percentile,
    first_last,
    time_bucket,
    set_functions,
    pg_semantics,
    catalog_syntax,
    catalog_functions,
    enum_casts,
)


def rewrite(tree: exp.Expression, ctx: RewriteContext) -> exp.Expression:
    for rule in RULES:
        tree = rule(tree, ctx)
    return tree
