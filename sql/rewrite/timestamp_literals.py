"""Timestamp literals as PostgreSQL reads them: a space between the time and a numeric UTC offset,
and the special inputs 'now', 'today', 'tomorrow' and 'yesterday' where they are cast to a time type
(in a comparison the rule cannot tell a time column from a text one).

PostgreSQL takes '2016-01-01 00:00:00 +0000' (TSBS writes its times so); DuckDB reads the part after
the space as a time zone name and fails. String literals shaped like a timestamp with a numeric
offset, where they meet a time value (comparison, BETWEEN, IN, cast to a timestamp type), lose that
space. Other string literals are left as written.

    SELECT * FROM cpu WHERE time >= '2016-01-01 00:00:00 +0000'
    -> SELECT * FROM cpu WHERE time >= '2016-01-01 00:00:00+0000'
"""

from __future__ import annotations

import re

from sqlglot import exp

_SPACED_OFFSET = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s+([+-]\d{2}(?::?\d{2})?)$"
)
_TIME_TYPES = (exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPLTZ)
_CONTEXTS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)


def _today(days: int = 0) -> exp.Expression:
    day = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string("day"), exp.CurrentTimestamp()])
    if not days:
        return day
    step = exp.Interval(this=exp.Literal.string(str(abs(days))), unit=exp.var("DAY"))
    return exp.Add(this=day, expression=step) if days > 0 else exp.Sub(this=day, expression=step)


# PostgreSQL's special timestamp inputs that DuckDB does not read ('epoch' and 'infinity' it does):
# the current time, and midnight of today, tomorrow, yesterday in the session's time zone
_SPECIAL = {
    "now": exp.CurrentTimestamp,
    "today": _today,
    "tomorrow": lambda: _today(1),
    "yesterday": lambda: _today(-1),
}


def normalise(text: str) -> str | None:
    m = _SPACED_OFFSET.match(text.strip())
    if m is None:
        return None
    offset = m.group(2)
    if len(offset) == 3:  # +00 -> +00:00 (DuckDB wants minutes with a bare hour offset too)
        offset += ":00"
    return m.group(1) + offset


def timestamp_literals(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Literal) and node.is_string):
            return node
        parent = node.parent
        special = _SPECIAL.get(node.this.strip().lower())
        if isinstance(parent, exp.Cast):
            if parent.to.this not in _TIME_TYPES and not (
                special and parent.to.this == exp.DataType.Type.DATE
            ):
                return node
        elif not isinstance(parent, _CONTEXTS):
            return node
        elif special is not None:
            return node  # compared with what? ('now' is also a word: pg_proc.proname IN ('now'))
        if special is not None:
            return special()
        new = normalise(node.this)
        return exp.Literal.string(new) if new is not None else node

    return tree.transform(fix, copy=False)
