"""Pushdown: the time range and tag predicate of a table's scan, taken from the WHERE clause.

The rule reads the conjuncts of the WHERE of the SELECT that scans the table and keeps those it can
express to the storage engine: comparisons and BETWEEN on the time column against expressions
without columns (``now() - interval '1 hour'``, parameters), and =, <>, IN, NOT IN, LIKE and
AND/OR/NOT combinations of them on tag columns. The WHERE itself stays in the query: pushdown only
narrows what is read, so a superset is always correct, and the query engine applies the filter.

    SELECT avg(v) FROM cpu WHERE host IN ('a', 'b') AND time > now() - interval '1 hour'
    -> scan(cpu, tmin=<now - 1h>, predicate=TagIn(host, {a, b}))
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from columnar.predicate import And, Not, Or, TagEq, TagIn, TagNe, TagPredicate, TagRegex
from sql.tables import TIME_NS, instant_ns

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@dataclass
class Pushdown:
    tmin: int = INT64_MIN
    tmax: int = INT64_MAX
    predicate: TagPredicate | None = None
    pushed: list[exp.Expression] | None = None  # the conjuncts used (EXPLAIN prints them)
    exact: bool = True  # every conjunct was pushed and selects exactly the SQL rows (DELETE needs this)


def table_pushdown(
    where: exp.Expression | None,
    alias: str,
    time_column: str,
    tags: set[str],
    evaluate_ns: Callable[[exp.Expression], int | None],
    params: list | None = None,
    memo: dict | None = None,
    *,
    naive: bool = False,
) -> Pushdown:
    """Pushdown for the one table of a statement, known as ``alias`` (columns unqualified or so).
    ``memo`` (a cached plan's) keeps the analysed WHERE for the next execution; ``naive``: the time
    column is a timestamp without time zone (see Analysed)."""
    analysed = memo.get("pushdown") if memo is not None else None
    if analysed is None or analysed.where is not where:
        analysed = Analysed(
            where,
            lambda c: c.name in (time_column, TIME_NS) and c.table in ("", alias),
            lambda c: c.name in tags and c.table in ("", alias),
            naive=naive,
        )
        if memo is not None:
            memo["pushdown"] = analysed
    return analysed.run(evaluate_ns, params)


# ``params`` when only the shape of the pushdown matters (planning, values not known yet): a text
# parameter stands for some non-empty text, an integer one for some integer
STRUCTURE: list = []
_SOME_TEXT = "\x00?"


def _param(e: exp.Expression | None, params: list | None, placeholder: object) -> object:
    """The value bound to ``$n`` (``placeholder`` under STRUCTURE); None for anything else."""
    if params is None or not (isinstance(e, exp.Parameter) and e.this.name.isdigit()):
        return None
    if params is STRUCTURE:
        return placeholder
    i = int(e.this.name) - 1
    return params[i] if 0 <= i < len(params) else None


def conjuncts(where: exp.Expression | None) -> list[exp.Expression]:
    if where is None:
        return []
    node = where.this if isinstance(where, exp.Where) else where
    out: list[exp.Expression] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, exp.Paren):
            stack.append(n.this)
        elif isinstance(n, exp.And):
            stack.extend([n.right, n.left])
        else:
            out.append(n)
    return out


def pushdown(
    where: exp.Expression | None,
    is_time: Callable[[exp.Column], bool],
    is_tag: Callable[[exp.Column], bool],
    evaluate_ns: Callable[[exp.Expression], int | None],
    params: list | None = None,
) -> Pushdown:
    """``evaluate_ns`` turns a column-free expression into epoch nanoseconds (None: cannot);
    ``params`` are the bound values of $n (tag predicates on text parameters), None: not pushed."""
    return Analysed(where, is_time, is_tag).run(evaluate_ns, params)


# ``tag IN (SELECT ...)``: the subquery's values, when the caller can compute them alone (None: not
# pushed); see Analysed.run
SubqueryValues = Callable[[exp.Expression], "list[str] | None"]


class Analysed:
    """A WHERE read once for pushdown: per conjunct, whether it can bound the time column and how
    (the comparison, the side the column is on, whether the value is free of columns), and its tag
    predicate where no parameter is in it. :meth:`run` then evaluates only what depends on the
    execution: parameter values and time expressions (``now()`` moves).

    ``naive``: the time column is a timestamp without time zone, stored as its wall-clock time read
    as UTC; a bound is then that of the value as a timestamp (``CAST(v AS TIMESTAMP) AT TIME ZONE
    'UTC'``): a text's zone is not the session's, and a timestamptz's wall clock is the session's."""

    def __init__(
        self,
        where: exp.Expression | None,
        is_time: Callable[[exp.Column], bool],
        is_tag: Callable[[exp.Column], bool],
        *,
        naive: bool = False,
    ) -> None:
        self.where = where
        self.is_tag = is_tag
        self.steps: list[tuple] = []
        for c in conjuncts(where):
            kind = _time_kind(c, is_time)
            if kind is not None:
                self.steps.append((c, _wall_clock(kind) if naive else kind))
                continue
            sub = _tag_in_query(c, is_tag)
            if sub is not None:
                self.steps.append(
                    (c, ("tag_in", c.this.name, sub.copy()))
                )  # (as it is now: binding renames tables)
                continue
            if c.find(exp.Parameter) is None:
                self.steps.append((c, ("tag", _tag_predicate(c, is_tag, None))))
            else:
                self.steps.append((c, _tag_parameter(c, is_tag) or ("tag?",)))

    def run(
        self,
        evaluate_ns: Callable[[exp.Expression], int | None],
        params: list | None,
        subquery_values: SubqueryValues | None = None,
    ) -> Pushdown:
        """The pushdown of one execution; ``subquery_values`` computes the values of an uncorrelated
        ``tag IN (SELECT ...)`` (None, or its None: that conjunct is not pushed, and not exact)."""
        pushed: list[exp.Expression] = []
        res = Pushdown(pushed=pushed)
        preds: list[TagPredicate] = []
        for c, kind in self.steps:
            tag = kind[0] in ("tag", "tag?", "tag$", "tag_in")
            if not tag and _apply_time(kind, evaluate_ns, res, params):
                pushed.append(c)
                continue
            # a tag test, or a time comparison whose value has no time this execution
            if kind[0] == "tag_in":
                values = subquery_values(kind[2]) if subquery_values is not None else None
                if values is not None:
                    preds.append(TagIn(kind[1], frozenset(values)))
                    pushed.append(c)
                res.exact = False  # (the subquery's NULLs and types are the query's to apply)
                continue
            if kind[0] == "tag":
                p = kind[1]
            elif kind[0] == "tag$":
                p = _bind_tag_parameter(kind, params)
            else:
                p = _tag_predicate(c, self.is_tag, params)
            if p is not None:
                preds.append(p)
                pushed.append(c)
                res.exact &= _exact(p)
            else:
                res.exact = False
        if preds:
            res.predicate = preds[0] if len(preds) == 1 else And(tuple(preds))
        return res


def _tag_in_query(c: exp.Expression, is_tag) -> exp.Select | None:
    """The SELECT of a ``tag IN (SELECT one column ...)`` conjunct."""
    if not (isinstance(c, exp.In) and isinstance(c.this, exp.Column) and is_tag(c.this)):
        return None
    q = c.args.get("query")
    q = q.this if isinstance(q, exp.Subquery) else q
    if not isinstance(q, exp.Select) or len(q.expressions) != 1:
        return None
    return q


def _constant(e: exp.Expression) -> bool:
    return not any(isinstance(n, exp.Column | exp.Subquery | exp.Select | exp.Star) for n in e.walk())


_OPS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "="}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}


def _ns_value(e: exp.Expression | None, params: list | None) -> int | None:
    """An integer literal or integer parameter: a bound on TIME_NS, in nanoseconds as it is."""
    neg = isinstance(e, exp.Neg)
    if neg:
        e = e.this
    if isinstance(e, exp.Literal) and not e.is_string and e.this.isdigit():
        v: object = int(e.this)
    else:
        v = _param(e, params, 0)
    if not isinstance(v, int) or isinstance(v, bool):
        return None
    return -v if neg else v


def _time_kind(c: exp.Expression, is_time) -> tuple | None:
    """How conjunct ``c`` bounds the time column, or None when it cannot:
    ("ns", low, high, op) on tsgres_time_ns (a BETWEEN, or op with the value in ``high``);
    ("between", low, high) and ("cmp", op, value) on the time column, values free of columns."""
    cols = [x for x in (c.this, c.args.get("expression")) if isinstance(x, exp.Column)]
    if any(x.name == TIME_NS and is_time(x) for x in cols) and (
        isinstance(c, exp.Between) or type(c) in _OPS
    ):
        if isinstance(c, exp.Between):
            return ("ns", c.args.get("low"), c.args.get("high"), None)
        op = _OPS[type(c)]
        left, right = c.left, c.right
        if isinstance(right, exp.Column) and right.name == TIME_NS and is_time(right):
            left, right, op = right, left, _FLIP[op]
        return ("ns", None, right, op)
    if isinstance(c, exp.Between) and isinstance(c.this, exp.Column) and is_time(c.this):
        lo, hi = c.args.get("low"), c.args.get("high")
        if lo is None or hi is None or not _constant(lo) or not _constant(hi):
            return None
        return ("between", lo, hi)
    op = _OPS.get(type(c))
    if op is None:
        return None
    left, right = c.left, c.right
    if (
        isinstance(right, exp.Column)
        and is_time(right)
        and not (isinstance(left, exp.Column) and is_time(left))
    ):
        left, right, op = right, left, _FLIP[op]
    if not (isinstance(left, exp.Column) and is_time(left)) or not _constant(right):
        return None
    if (
        isinstance(right, exp.Parameter)
        and isinstance(right.this, exp.Expression)
        and right.this.name.isdigit()
    ):
        # (a shared plan's lifted time literal: its value is read off the parameters, see _apply_time)
        return ("cmp", op, right, int(right.this.name) - 1)
    return ("cmp", op, right)


def _wall_clock(kind: tuple) -> tuple:
    """The values of a time bound (:func:`_time_kind`) on a timestamp without time zone, as instants
    whose UTC time is the timestamp's wall-clock time (see Analysed)."""
    if kind[0] == "ns":
        return kind
    if kind[0] == "cmp":
        kind = kind[:3]  # (the value is no longer the bare parameter: it is evaluated, never read off)

    def wall(v: exp.Expression) -> exp.Expression:
        cast = exp.Cast(this=v.copy(), to=exp.DataType.build("TIMESTAMP"))
        return exp.AtTimeZone(this=cast, zone=exp.Literal.string("UTC"))

    return (kind[0], *(wall(v) if isinstance(v, exp.Expression) else v for v in kind[1:]))


def _apply_time(kind: tuple, evaluate_ns, res: Pushdown, params: list | None) -> bool:
    """Narrow ``res`` by a conjunct analysed by :func:`_time_kind`; False when its value has no
    time in this execution (nothing pushed)."""
    if kind[0] == "ns":
        _, low, high, op = kind
        if op is None:  # tsgres_time_ns BETWEEN low AND high: an exact nanosecond range
            lo, hi = _ns_value(low, params), _ns_value(high, params)
            if lo is None or hi is None:
                return False
            res.tmin, res.tmax = max(res.tmin, lo), min(res.tmax, hi)
            return True
        v = _ns_value(high, params)
        if v is None:
            return False
        if op in (">", ">=", "="):
            res.tmin = max(res.tmin, v + (op == ">"))
        if op in ("<", "<=", "="):
            res.tmax = min(res.tmax, v - (op == "<"))
        return True
    if kind[0] == "between":
        lo, hi = evaluate_ns(kind[1]), evaluate_ns(kind[2])
        if lo is None or hi is None:
            return False
        res.tmin = max(res.tmin, lo)
        res.tmax = min(res.tmax, hi + 999)
        return True
    op, value = kind[1], kind[2]
    v = None
    if len(kind) > 3 and params and params is not STRUCTURE and kind[3] < len(params):
        # ``time op $n`` bound to a datetime with a zone: its instant needs no evaluation
        bound = params[kind[3]]
        if isinstance(bound, _dt.datetime) and bound.tzinfo is not None:
            v = instant_ns(bound)
    if v is None:
        v = evaluate_ns(value)
    if v is None:
        return False
    # SQL sees microseconds: a stored nanosecond time t compares as floor(t / 1000) µs against the
    # microsecond value v, so each bound below selects exactly the rows the comparison keeps
    if op == ">":
        res.tmin = max(res.tmin, v + 1000)
    elif op in (">=", "="):
        res.tmin = max(res.tmin, v)
    if op == "<":
        res.tmax = min(res.tmax, v - 1)
    elif op in ("<=", "="):
        res.tmax = min(res.tmax, v + 999)
    return True


def _exact(p: TagPredicate) -> bool:
    """Whether the index selects exactly the rows SQL does (missing tags are NULL to SQL, '' to the index)."""
    if isinstance(p, TagEq):
        return p.value != ""
    if isinstance(p, TagIn):
        return "" not in p.values
    if isinstance(p, TagRegex):
        return not p.negate and p.compiled.search("") is None
    if isinstance(p, And | Or):
        return all(_exact(x) for x in p.parts)
    return False


def _string(e: exp.Expression, params: list | None) -> str | None:
    if isinstance(e, exp.Literal) and e.is_string:
        return e.this
    if isinstance(e, exp.Literal) and e.this.isdigit() and str(int(e.this)) == e.this:
        return e.this  # an integer key column's tag holds the integer's text (sql/tables.to_write_batch)
    v = _param(e, params, _SOME_TEXT)
    return v if isinstance(v, str) else None


def _tag_parameter(c: exp.Expression, is_tag) -> tuple | None:
    """("tag$", tag, parameter indices (n - 1 of each $n), equal) when ``c`` is ``tag = $n`` or ``tag
    <> $n`` (either side, one parameter) or an OR of ``tag = $n`` on one tag (dashboards' and TSBS's
    host lists): a step that :func:`_bind_tag_parameter` turns into what _tag_predicate would give,
    or the same set of series (TagIn for the OR of TagEq), without walking ``c`` (or reading the
    parameters' numbers again: sqlglot properties, ~0.3 us each)."""
    while isinstance(c, exp.Paren):
        c = c.this
    if isinstance(c, exp.Or):
        left, right = _tag_parameter(c.left, is_tag), _tag_parameter(c.right, is_tag)
        if left is None or right is None or not (left[3] and right[3]) or left[1] != right[1]:
            return None  # (a part that is not tag = $n, or two tags)
        return ("tag$", left[1], left[2] + right[2], True)
    if not isinstance(c, exp.EQ | exp.NEQ):
        return None
    col, val = c.left, c.right
    if isinstance(val, exp.Column):
        col, val = val, col
    if not (isinstance(col, exp.Column) and is_tag(col) and isinstance(val, exp.Parameter)):
        return None
    if not (isinstance(val.this, exp.Expression) and val.this.name.isdigit()):
        return None
    return ("tag$", col.name, [int(val.this.name) - 1], isinstance(c, exp.EQ))


def _bind_tag_parameter(kind: tuple, params: list | None) -> TagPredicate | None:
    _, name, indices, equal = kind
    if params is None:
        return None
    if params is STRUCTURE:
        values = [_SOME_TEXT] * len(indices)
    else:  # (as _param binds them)
        values = [params[i] if 0 <= i < len(params) else None for i in indices]
    if not all(isinstance(v, str) for v in values):
        return None
    if len(values) > 1:
        return TagIn(name, frozenset(values))  # type: ignore[arg-type]
    return TagEq(name, values[0]) if equal else TagNe(name, values[0])  # type: ignore[arg-type]


def _tag_predicate(c: exp.Expression, is_tag, params: list | None = None) -> TagPredicate | None:
    """An exact or superset tag predicate for ``c``, or None when ``c`` is not purely about tags."""
    if isinstance(c, exp.Paren):
        return _tag_predicate(c.this, is_tag, params)
    if isinstance(c, exp.And | exp.Or):
        a, b = _tag_predicate(c.left, is_tag, params), _tag_predicate(c.right, is_tag, params)
        if a is None or b is None:
            return None
        return And((a, b)) if isinstance(c, exp.And) else Or((a, b))
    if isinstance(c, exp.Not):
        inner = _tag_predicate(c.this, is_tag, params)
        # the complement of an exact predicate is a superset of the SQL result (NULL tags)
        if isinstance(inner, TagEq | TagIn):
            return Not(inner)
        return None
    if isinstance(c, exp.EQ | exp.NEQ):
        col, val = c.left, c.right
        if isinstance(val, exp.Column):
            col, val = val, col
        if isinstance(col, exp.Column) and is_tag(col):
            s = _string(val, params)
            if s is not None:
                return TagEq(col.name, s) if isinstance(c, exp.EQ) else TagNe(col.name, s)
        return None
    if (
        isinstance(c, exp.In)
        and isinstance(c.this, exp.Column)
        and is_tag(c.this)
        and not c.args.get("query")
    ):
        values = [_string(v, params) for v in c.expressions]
        if values and all(v is not None for v in values):
            return TagIn(c.this.name, frozenset(values))  # type: ignore[arg-type]
        return None
    if isinstance(c, exp.RegexpLike | exp.RegexpILike) and isinstance(c.this, exp.Column) and is_tag(c.this):
        pat = _string(c.expression, params)
        if pat is not None and _PORTABLE_REGEX.fullmatch(pat):
            return TagRegex(c.this.name, ("(?i)" if isinstance(c, exp.RegexpILike) else "") + pat)
        return None
    # sqlglot reads NOT LIKE as Like(negate=True): that is not a positive match to push down
    if (
        isinstance(c, exp.Like)
        and not c.args.get("negate")
        and isinstance(c.this, exp.Column)
        and is_tag(c.this)
    ):
        pat = _string(c.expression, params)
        if pat is not None:
            return TagRegex(c.this.name, _like_to_regex(pat))
    return None


# POSIX regular expressions (PostgreSQL's ~) that Python's re reads the same way: literals, ., anchors,
# alternation, groups, quantifiers, bracket lists without POSIX classes, and \d \w \s and escaped
# punctuation. Anything else (backreferences, \m, [[:alpha:]], {n,m} bounds ...) is not pushed down.
_PORTABLE_REGEX = re.compile(
    r"(?:[A-Za-z0-9 _\-.*+?^$|(),:/=@#%&!~<>'\"]|\\[dDwWsS.\\()\[\]{}*+?^$|/\-]|\[\^?\]?[^\[\]\\]*\])*"
)


def _like_to_regex(pattern: str) -> str:
    """SQL LIKE (with backslash escapes) as an anchored Python regex that matches the whole value."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "(?s)^" + "".join(out) + r"\Z"
