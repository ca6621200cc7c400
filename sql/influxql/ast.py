"""The InfluxQL syntax tree: expressions, sources and statements, with InfluxDB's text forms.

``str(node)`` prints a node as InfluxDB does (error messages quote expressions that way), and
:func:`field_name` gives a SELECT column's default name (``mean``, ``usage_idle`` for
``usage + idle``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sql.influxql.lexer import T, format_duration, is_ident_char, is_ident_first_char, lookup


# -- expressions ------------------------------------------------------------------------------------------
class Expr:
    pass


class Literal(Expr):
    pass


def quote_ident(*segments: str) -> str:
    out = []
    for i, s in enumerate(segments):
        need = (
            _needs_quotes(s)
            or (i < len(segments) - 1 and s != "")
            or ((i == 0 or i == len(segments) - 1) and s == "")
        )
        esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'"{esc}"' if need else esc)
    return ".".join(out)


def _needs_quotes(ident: str) -> bool:
    if lookup(ident) is not T.IDENT:
        return True
    for i, ch in enumerate(ident):
        if i == 0 and not is_ident_first_char(ch):
            return True
        if i > 0 and not is_ident_char(ch):
            return True
    return False


def quote_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


@dataclass
class VarRef(Expr):
    name: str
    type: str | None = None  # float | integer | unsigned | string | boolean | field | tag | None

    def __str__(self) -> str:
        text = quote_ident(self.name)
        return f"{text}::{self.type}" if self.type else text


@dataclass
class Call(Expr):
    name: str
    args: list[Expr] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


@dataclass
class BinaryExpr(Expr):
    op: T
    lhs: Expr
    rhs: Expr

    def __str__(self) -> str:
        return f"{self.lhs} {self.op.value} {self.rhs}"


@dataclass
class ParenExpr(Expr):
    expr: Expr

    def __str__(self) -> str:
        return f"({self.expr})"


@dataclass
class Wildcard(Expr):
    type: str | None = None  # field | tag

    def __str__(self) -> str:
        return f"*::{self.type}" if self.type else "*"


@dataclass
class RegexLiteral(Literal):
    pattern: str
    compiled: Any = None

    def __str__(self) -> str:
        return "/" + self.pattern.replace("/", "\\/") + "/"


@dataclass
class StringLiteral(Literal):
    value: str

    def __str__(self) -> str:
        return quote_string(self.value)


@dataclass
class NumberLiteral(Literal):
    value: float

    def __str__(self) -> str:
        from sql.influxql.values import format_float

        return format_float(self.value)


@dataclass
class IntegerLiteral(Literal):
    value: int

    def __str__(self) -> str:
        return str(self.value)


@dataclass
class UnsignedLiteral(Literal):
    value: int

    def __str__(self) -> str:
        return str(self.value)


@dataclass
class BooleanLiteral(Literal):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass
class DurationLiteral(Literal):
    value: int  # ns

    def __str__(self) -> str:
        return format_duration(self.value)


@dataclass
class TimeLiteral(Literal):
    value: int  # ns since the epoch

    def __str__(self) -> str:
        from sql.influxql.values import format_time

        return "'" + format_time(self.value) + "'"


@dataclass
class NilLiteral(Literal):
    def __str__(self) -> str:
        return "<nil>"


@dataclass
class ListLiteral(Literal):
    values: list[str]

    def __str__(self) -> str:
        return "(" + ", ".join(quote_ident(v) for v in self.values) + ")"


@dataclass
class Distinct(Expr):
    name: str

    def __str__(self) -> str:
        return f"DISTINCT {self.name}"

    def as_call(self) -> Call:
        return Call("distinct", [VarRef(self.name)])


def walk(node: Any):
    """Every expression node under ``node`` (pre-order)."""
    if node is None:
        return
    yield node
    if isinstance(node, Call):
        for a in node.args:
            yield from walk(a)
    elif isinstance(node, BinaryExpr):
        yield from walk(node.lhs)
        yield from walk(node.rhs)
    elif isinstance(node, ParenExpr):
        yield from walk(node.expr)


def binary_expr_name(e: BinaryExpr) -> str:
    names: list[str] = []

    def visit(n: Expr) -> None:
        if isinstance(n, VarRef):
            names.append(n.name)
        elif isinstance(n, Call):
            names.append(n.name)
        elif isinstance(n, BinaryExpr):
            visit(n.lhs)
            visit(n.rhs)
        elif isinstance(n, ParenExpr):
            visit(n.expr)

    visit(e)
    return "_".join(names)


# -- statements ----------------------------------------------------------------------------------------------
@dataclass
class Field:
    expr: Expr
    alias: str = ""

    def name(self) -> str:
        if self.alias:
            return self.alias
        e = self.expr
        while isinstance(e, ParenExpr):
            e = e.expr
        if isinstance(e, Call):
            return e.name
        if isinstance(e, BinaryExpr):
            return binary_expr_name(e)
        if isinstance(e, VarRef):
            return e.name
        if isinstance(e, Distinct):
            return "distinct"
        return ""

    def __str__(self) -> str:
        return f"{self.expr} AS {quote_ident(self.alias)}" if self.alias else str(self.expr)


@dataclass
class Measurement:
    database: str = ""
    rp: str = ""
    name: str = ""
    regex: RegexLiteral | None = None
    is_target: bool = False

    def __str__(self) -> str:
        parts = []
        if self.database:
            parts.append(quote_ident(self.database))
        if self.rp or self.database:
            parts.append(quote_ident(self.rp) if self.rp else "")
        if self.regex is not None:
            parts.append(str(self.regex))
        else:
            parts.append(quote_ident(self.name))
        return ".".join(parts)


@dataclass
class SubQuery:
    statement: SelectStatement

    def __str__(self) -> str:
        return f"({self.statement})"


Source = Measurement | SubQuery


@dataclass
class Dimension:
    expr: Expr


@dataclass
class Statement:
    def requires_write(self) -> bool:
        return False


@dataclass
class SelectStatement(Statement):
    fields: list[Field] = field(default_factory=list)
    target: Measurement | None = None
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    dimensions: list[Dimension] = field(default_factory=list)
    fill: str = "null"  # null | none | previous | linear | number
    fill_value: Any = None
    sort_desc: bool = False
    sort_given: bool = False
    sort_named: bool = False  # ORDER BY time [ASC|DESC], not ORDER BY ASC|DESC (InfluxDB's text of it)
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0
    location: str | None = None  # tz('...')
    is_raw: bool = True

    def requires_write(self) -> bool:
        return self.target is not None

    def __str__(self) -> str:
        out = "SELECT " + ", ".join(str(f) for f in self.fields)
        if self.target is not None:
            out += f" INTO {self.target}"
        out += " FROM " + ", ".join(str(s) for s in self.sources)
        if self.condition is not None:
            out += f" WHERE {self.condition}"
        return out


def group_by_interval(stmt: SelectStatement) -> tuple[int, str | None]:
    """The GROUP BY time() interval in ns (0: none) and, when the time() call is malformed, why."""
    for d in stmt.dimensions:
        e = d.expr
        if isinstance(e, Call) and e.name == "time":
            if not 1 <= len(e.args) <= 2:
                return 0, "time dimension expected 1 or 2 arguments"
            if not isinstance(e.args[0], DurationLiteral):
                return 0, "time dimension must have duration argument"
            return e.args[0].value, None
    return 0, None


def group_by_offset(stmt: SelectStatement) -> int:
    """The GROUP BY time(interval, offset) offset in ns: its remainder by the interval, with the
    offset's sign (Go's %, as InfluxDB takes it)."""
    interval, _ = group_by_interval(stmt)
    for d in stmt.dimensions:
        e = d.expr
        if isinstance(e, Call) and e.name == "time" and len(e.args) == 2 and interval:
            off = e.args[1]
            if isinstance(off, DurationLiteral):
                rem = abs(off.value) % interval
                return -rem if off.value < 0 else rem
    return 0


@dataclass
class ShowDatabases(Statement):
    pass


@dataclass
class ShowMeasurements(Statement):
    database: str = ""
    source: Measurement | None = None
    op: T | None = None
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass
class ShowTagKeys(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0


@dataclass
class ShowTagValues(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    op: T = T.EQ
    key_expr: Any = None  # str (=, !=), list[str] (IN) or RegexLiteral (=~, !~)
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass
class ShowFieldKeys(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    limit: int = 0
    offset: int = 0


@dataclass
class ShowSeries(Statement):
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass
class ShowCardinality(Statement):
    """SHOW {SERIES | MEASUREMENT | TAG KEY | TAG VALUES | FIELD KEY} [EXACT] CARDINALITY."""

    what: str = "series"  # series | measurement | tag_key | tag_values | field_key
    exact: bool = False
    database: str = ""
    sources: list[Source] = field(default_factory=list)
    op: T | None = None
    key_expr: Any = None
    condition: Expr | None = None
    dimensions: list[Dimension] = field(default_factory=list)
    limit: int = 0
    offset: int = 0


@dataclass
class ShowRetentionPolicies(Statement):
    database: str = ""


@dataclass
class ShowShards(Statement):
    pass


@dataclass
class ShowShardGroups(Statement):
    pass


@dataclass
class ShowSimple(Statement):
    """SHOW USERS / CONTINUOUS QUERIES / QUERIES / SUBSCRIPTIONS / STATS / DIAGNOSTICS / GRANTS."""

    what: str = ""
    arg: str = ""


_PRIVILEGE_TEXT = {0: "NO PRIVILEGES", 1: "READ", 2: "WRITE", 3: "ALL PRIVILEGES"}


@dataclass
class UserStatement(Statement):
    """Users and privileges (sql/influxql/users.py); str() is InfluxDB's text, passwords redacted."""

    user: str = ""

    def requires_write(self) -> bool:
        return True


@dataclass
class CreateUser(UserStatement):
    password: str = field(default="", repr=False)
    admin: bool = False

    def __str__(self) -> str:
        admin = " WITH ALL PRIVILEGES" if self.admin else ""
        return f"CREATE USER {quote_ident(self.user)} WITH PASSWORD [REDACTED]{admin}"


@dataclass
class DropUser(UserStatement):
    def __str__(self) -> str:
        return f"DROP USER {quote_ident(self.user)}"


@dataclass
class SetPassword(UserStatement):
    password: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"SET PASSWORD FOR {quote_ident(self.user)} = [REDACTED]"


@dataclass
class GrantAdmin(UserStatement):
    def __str__(self) -> str:
        return f"GRANT ALL PRIVILEGES TO {quote_ident(self.user)}"


@dataclass
class RevokeAdmin(UserStatement):
    def __str__(self) -> str:
        return f"REVOKE ALL PRIVILEGES FROM {quote_ident(self.user)}"


@dataclass
class Grant(UserStatement):
    privilege: int = 0  # sql/influxql/users.py's READ, WRITE, ALL
    database: str = ""

    def __str__(self) -> str:
        priv = _PRIVILEGE_TEXT[self.privilege]
        return f"GRANT {priv} ON {quote_ident(self.database)} TO {quote_ident(self.user)}"


@dataclass
class Revoke(UserStatement):
    privilege: int = 0
    database: str = ""

    def __str__(self) -> str:
        priv = _PRIVILEGE_TEXT[self.privilege]
        return f"REVOKE {priv} ON {quote_ident(self.database)} FROM {quote_ident(self.user)}"


@dataclass
class CreateDatabase(Statement):
    name: str = ""
    rp_create: bool = False
    rp_duration: int | None = None
    rp_replication: int | None = None
    rp_shard_duration: int = 0
    rp_name: str = ""

    def requires_write(self) -> bool:
        return True


@dataclass
class DropDatabase(Statement):
    name: str = ""

    def requires_write(self) -> bool:
        return True


@dataclass
class CreateRetentionPolicy(Statement):
    name: str = ""
    database: str = ""
    duration: int = 0
    replication: int = 1
    shard_duration: int = 0
    default: bool = False

    def requires_write(self) -> bool:
        return True


@dataclass
class AlterRetentionPolicy(Statement):
    name: str = ""
    database: str = ""
    duration: int | None = None
    replication: int | None = None
    shard_duration: int | None = None
    default: bool = False

    def requires_write(self) -> bool:
        return True


@dataclass
class DropRetentionPolicy(Statement):
    name: str = ""
    database: str = ""

    def requires_write(self) -> bool:
        return True


@dataclass
class DropMeasurement(Statement):
    name: str = ""

    def requires_write(self) -> bool:
        return True


@dataclass
class DropSeries(Statement):
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None

    def requires_write(self) -> bool:
        return True


@dataclass
class DeleteSeries(Statement):
    sources: list[Source] = field(default_factory=list)
    condition: Expr | None = None

    def requires_write(self) -> bool:
        return True


@dataclass
class DropShard(Statement):
    id: int = 0

    def requires_write(self) -> bool:
        return True


@dataclass
class CreateContinuousQuery(Statement):
    """CREATE CONTINUOUS QUERY name ON database [RESAMPLE [EVERY d] [FOR d]] BEGIN <select> END."""

    name: str = ""
    database: str = ""
    resample_every: int = 0  # ns; 0: not given
    resample_for: int = 0  # ns; 0: not given
    source: SelectStatement = field(default_factory=lambda: SelectStatement())

    def requires_write(self) -> bool:
        return True


@dataclass
class DropContinuousQuery(Statement):
    name: str = ""
    database: str = ""

    def requires_write(self) -> bool:
        return True


@dataclass
class KillQuery(Statement):
    qid: int = 0

    def requires_write(self) -> bool:
        return True


@dataclass
class Unsupported(Statement):
    """A statement InfluxDB has and tsgres parses but does not run (users, CQs, subscriptions...)."""

    text: str = ""
    write: bool = True

    def requires_write(self) -> bool:
        return self.write


@dataclass
class Explain(Statement):
    statement: SelectStatement | None = None
    analyze: bool = False


REGEX_CACHE: dict[str, re.Pattern[str]] = {}
