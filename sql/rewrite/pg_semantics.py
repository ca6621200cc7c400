"""PostgreSQL's meaning for operators, literals and built-in functions that DuckDB reads otherwise.

Everything here is decided from the SQL alone (no column types; those fixes are in pg_types.py,
which runs after binding):

- integer literals in arithmetic are int4 (int8 / numeric when larger), as PostgreSQL types them;
  DuckDB would fit them to the other operand, so ``smallint_col * 1000`` overflowed a smallint
- LIKE / ILIKE escape with backslash by default (DuckDB has no default escape character)
- ``'on'::boolean`` and the other spellings PostgreSQL accepts; ``'{1,2}'::int[]`` array text
- DISTINCT ON must match the leading ORDER BY expressions (42P10)
- functions: substr/substring with a start before 1, to_hex in lower case, octet_length of text,
  every(), width_bucket(), regexp_match(), sqrt/ln/log raising PostgreSQL's errors, EXTRACT
  returning numeric with fractional seconds, date_part returning double precision,
  length/position/strpos/ascii/array_length/cardinality/ntile returning int4, to_timestamp(text, fmt)
  returning timestamptz, date_trunc(unit, ts, zone) on that zone's wall clock, to_char templates
  and format() specifiers (sql/rewrite/pg_format.py).

    SELECT substr(name, 0, 3), level * 1000, extract(second FROM time) FROM t WHERE name LIKE 'a\\_%'
    -> SELECT pg_substr(name, 0, 3), level * CAST(1000 AS INT),
              CAST(CAST(EXTRACT(MICROSECOND FROM time) AS DECIMAL(18, 0)) * 0.000001 AS DECIMAL(18, 6))
       FROM t WHERE name LIKE 'a\\_%' ESCAPE '\\'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from sql import arrays
from sql import errors as E
from sql import types as pgt
from sql.parse import sqlglot_function
from sql.rewrite.pg_format import (
    datetime_template,
    format_call,
    number_reading,
    numeric_template,
    strptime_format,
)
from sql.rewrite.pg_json import lower_agg
from sql.types import lookup

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1

_ARITH = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)


def bottom_up(tree: Any, fix: Callable[[Any], Any]) -> Any:
    """Apply ``fix`` to every node, children before parents, each seeing its already fixed children
    (sqlglot's transform does not descend into a node it has just replaced)."""
    nodes = list(tree.walk(bfs=False))
    root = tree
    for node in reversed(nodes):
        parent, key, index = node.parent, node.arg_key, node.index
        new = fix(node)  # may wrap node, which re-parents it: the old place was taken above
        if new is node:
            continue
        if node is root:
            root = new
        elif parent is not None and key is not None:
            parent.set(key, new, index)
    return root


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


_INTEGER_NAMES = {
    exp.DataType.Type.SMALLINT: "smallint",
    exp.DataType.Type.INT: "integer",
    exp.DataType.Type.BIGINT: "bigint",
}


def _cast(e: exp.Expression, to: str) -> exp.Cast:
    return exp.Cast(this=e, to=exp.DataType.build(to, dialect="duckdb"))


def _keep_name(old: exp.Expression, new: exp.Expression) -> exp.Expression:
    """Carry the spelled call name (output column naming) over to the replacement."""
    name = old.meta.get("pg_name")
    if name:
        new.meta["pg_name"] = name
    return new


# -- literals and operators ---------------------------------------------------------------------------
def _typed_integer(lit: exp.Literal) -> exp.Expression:
    v = int(lit.this)
    if INT4_MIN <= v <= INT4_MAX:
        return _cast(lit, "INTEGER")
    if INT8_MIN <= v <= INT8_MAX:
        return _cast(lit, "BIGINT")
    return _cast(lit, "DECIMAL(38, 0)")


def _is_int_literal(e: exp.Expression) -> bool:
    return isinstance(e, exp.Literal) and not e.is_string and re.fullmatch(r"\d+", e.this) is not None


_TRUE = ("t", "tr", "tru", "true", "y", "ye", "yes", "on", "1")
_FALSE = ("f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0")


def _bool_text(text: str) -> bool:
    """PostgreSQL's parse_bool: unique prefixes of true/false/yes/no, on/off, 1/0 ("o" is ambiguous)."""
    s = text.strip().lower()
    if s in _TRUE and s != "o":
        return True
    if s in _FALSE:
        return False
    raise E.InvalidTextRepresentation(f'invalid input syntax for type boolean: "{text}"')


def _array_element(to: exp.DataType) -> str | None:
    """The element type (a PgType name) of a cast to a one-dimensional array whose text
    sql/arrays.py reads; None for any other."""
    if to.this != exp.DataType.Type.ARRAY or len(to.expressions) != 1:
        return None
    inner = to.expressions[0]
    if not isinstance(inner, exp.DataType) or inner.this == exp.DataType.Type.ARRAY:
        return None
    try:
        name = lookup(inner.sql("postgres")).name
    except KeyError:
        return None
    return name if name in arrays.ELEMENTS else None


def _array_text(text: str) -> str | None:
    """PostgreSQL array text ``{1,2}`` as DuckDB's list text ``[1,2]`` (flat, unquoted elements only)."""
    s = text.strip()
    if not (s.startswith("{") and s.endswith("}")) or any(c in s[1:-1] for c in '{}"\\'):
        return None
    return "[" + s[1:-1] + "]"


def _literals(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Interval) and isinstance(node.args.get("unit"), exp.Var):
        unit = node.args["unit"].name.upper()
        value = node.this
        if unit not in _DUCK_UNITS and isinstance(value, exp.Literal) and value.is_string:
            # interval '1 min': sqlglot splits off the unit (INTERVAL '1' MIN), which DuckDB does not
            # read; PostgreSQL's abbreviations (min, hrs, secs, mons, yr ...) read as text are
            return exp.Interval(this=exp.Literal.string(f"{value.this} {unit.lower()}"))
        return node
    if isinstance(node, _ARITH):
        if isinstance(node, exp.Div):
            # DuckDB runs with integer_division: its `/` already truncates integers, so sqlglot's
            # CAST(TRUNC(a / b) AS BIGINT) for typed integer operands would only widen int4 to int8
            node.set("typed", None)
        for key in ("this", "expression"):
            operand = node.args.get(key)
            if operand is not None and _is_int_literal(operand):
                node.set(key, _typed_integer(operand))
            elif isinstance(operand, exp.Neg) and _is_int_literal(operand.this):
                operand.set("this", _typed_integer(operand.this))
        return node
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DECIMAL and not node.to.expressions:
        # numeric without a typmod keeps the value's digits in PostgreSQL; DuckDB's bare DECIMAL is
        # DECIMAL(18, 3). 12 places leave 26 integer digits, and products stay within 38.
        node.set("to", exp.DataType.build("DECIMAL(38, 12)", dialect="duckdb"))
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Paren | exp.ByteString):
        # ('{a,b}')::varchar[] and ( E'{"a \\"b\\""}')::text[]: psycopg's client-side binding of a list
        inner = node.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.ByteString) and node.to.this == exp.DataType.Type.ARRAY:
            inner = exp.Literal.string(inner.this)  # (E'...': its escapes read already)
        if isinstance(inner, exp.Literal) and inner.is_string:
            node.set("this", inner)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        to = node.to
        if to.this == exp.DataType.Type.BOOLEAN:
            return exp.Boolean(this=_bool_text(node.this.this))
        integer = _INTEGER_NAMES.get(to.this)
        if integer is not None and not pgt.is_integer_text(node.this.this):
            # ('1.5'::int: DuckDB rounds a decimal text, PostgreSQL reads integer digits only)
            raise E.InvalidTextRepresentation(f'invalid input syntax for type {integer}: "{node.this.this}"')
        if to.this == exp.DataType.Type.ARRAY or to.args.get("nested"):
            element = _array_element(to)
            if element is not None:  # PostgreSQL's array text read whole (sql/arrays.py)
                return arrays.literal(node.this.this, element, to)
            text = _array_text(node.this.this)
            if text is not None:
                node.set("this", exp.Literal.string(text))
        return node
    if isinstance(node, exp.Like | exp.ILike) and not isinstance(node.parent, exp.Escape):
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and "\\" not in pattern.this:
            return node  # nothing to escape: leave the plain LIKE that pushdown and the planner read
        return exp.Escape(this=node, expression=exp.Literal.string("\\"))
    return node


# -- DISTINCT ON ---------------------------------------------------------------------------------------
def _check_distinct_on(select: exp.Select) -> None:
    distinct = select.args.get("distinct")
    on = distinct.args.get("on") if distinct is not None else None
    order = select.args.get("order")
    if on is None or order is None:
        return
    keys = list(on.expressions) if isinstance(on, exp.Tuple) else [on]
    outputs = select.expressions

    def resolve(e: exp.Expression) -> exp.Expression:
        if isinstance(e, exp.Literal) and e.is_int and 1 <= int(e.this) <= len(outputs):
            out = outputs[int(e.this) - 1]
            return out.this if isinstance(out, exp.Alias) else out
        if isinstance(e, exp.Column) and not e.table:
            for out in outputs:
                if isinstance(out, exp.Alias) and out.alias == e.name:
                    return out.this
        return e

    def same(a: exp.Expression, b: exp.Expression) -> bool:
        a, b = resolve(a), resolve(b)
        if isinstance(a, exp.Column) and isinstance(b, exp.Column):
            return a.name == b.name and (not a.table or not b.table or a.table == b.table)
        return a == b

    leading = [o.this for o in order.expressions[: len(keys)]]
    for o in leading:
        if not any(same(o, k) for k in keys):
            raise E.InvalidColumnReference(
                "SELECT DISTINCT ON expressions must match initial ORDER BY expressions"
            )


# -- functions -------------------------------------------------------------------------------------------
_EXTRACT_SCALE = {"SECOND": ("0.000001", 6), "MILLISECOND": ("0.001", 3), "MILLISECONDS": ("0.001", 3)}
_EXTRACT_ALIASES = {
    "SECONDS": "SECOND",
    "MICROSECONDS": "MICROSECOND",
    "MILLISECONDS": "MILLISECOND",
    "MINUTES": "MINUTE",
    "HOURS": "HOUR",
    "DAYS": "DAY",
    "MONTHS": "MONTH",
    "YEARS": "YEAR",
}


def _numeric_extract(unit: str, source: exp.Expression) -> exp.Expression | None:
    """EXTRACT as PostgreSQL 14+ computes it: numeric, seconds with their fraction, epoch to the µs."""
    u = _EXTRACT_ALIASES.get(unit.upper(), unit.upper())
    micros = exp.Extract(this=exp.var("MICROSECOND"), expression=source)
    if u in ("SECOND", "MILLISECOND"):
        factor, scale = _EXTRACT_SCALE[u]
        value = exp.Mul(this=_cast(micros, "DECIMAL(18, 0)"), expression=exp.Literal.number(factor))
        return _cast(value, f"DECIMAL(18, {scale})")
    if u == "EPOCH":
        value = exp.Mul(
            this=_cast(_fn("EPOCH_US", source), "DECIMAL(24, 0)"), expression=exp.Literal.number("0.000001")
        )
        return _cast(value, "DECIMAL(24, 6)")
    if u in (
        "YEAR",
        "MONTH",
        "DAY",
        "HOUR",
        "MINUTE",
        "MICROSECOND",
        "DOW",
        "ISODOW",
        "DOY",
        "WEEK",
        "QUARTER",
        "DECADE",
        "CENTURY",
        "MILLENNIUM",
        "ISOYEAR",
    ):
        return _cast(exp.Extract(this=exp.var(u), expression=source), "DECIMAL(18, 0)")
    return None


def capture_groups(pattern: str) -> int:
    """How many capturing groups a regular expression has (``(`` outside a bracket expression and
    not ``(?``; escaped characters skipped)."""
    n, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and not pattern.startswith("(?", i):
            n += 1
        i += 1
    return n


def _encoding(name: str, value: exp.Expression, form: exp.Expression) -> exp.Expression:
    """encode(bytea, format) -> text and decode(text, format) -> bytea, formats hex and base64
    (DuckDB's encode/decode of one argument convert between text and its UTF-8 bytes)."""
    if not (isinstance(form, exp.Literal) and form.is_string):
        raise E.FeatureNotSupported(f"{name}() with a format other than a constant is not supported")
    kind = form.this.lower()
    if kind == "hex":
        return _fn("lower", _fn("hex", value)) if name == "encode" else _fn("unhex", value)
    if kind == "base64":
        if name == "encode":
            return _fn("pg_encode_base64", value)
        return _fn(
            "from_base64", _fn("replace", value, _fn("chr", exp.Literal.number(10)), exp.Literal.string(""))
        )
    if kind == "escape":
        raise E.FeatureNotSupported(f"{name}() with format escape is not supported")
    raise E.InvalidParameterValue(f'unrecognized encoding: "{form.this}"')


_INT4_RESULT = (exp.Length, exp.StrPosition, exp.BitLength, exp.ArraySize, exp.RegexpCount, exp.RegexpInstr)
_INT4_RESULT_NAMES = (
    "octet_length", "cardinality", "array_position", "strpos", "char_length", "generate_subscripts",
    "array_upper",
)  # fmt: skip


# (s1, e1) OVERLAPS (s2, e2) as PostgreSQL evaluates it (overlaps_timestamp): each period runs
# from its earlier end; a period with one NULL end is the instant at the other; then, by which start
# comes first, whether the later start falls before the other period's end (NULL where an end that
# decides it is NULL). DuckDB has no OVERLAPS.
_OVERLAPS = sqlglot.parse_one(
    """SELECT CASE
      WHEN :s1 IS NULL OR :s2 IS NULL THEN NULL
      WHEN :s1 > :s2 THEN CASE WHEN :e2 IS NULL THEN NULL WHEN :s1 < :e2 THEN TRUE
                               WHEN :e1 IS NULL THEN NULL ELSE FALSE END
      WHEN :s1 < :s2 THEN CASE WHEN :e1 IS NULL THEN NULL WHEN :s2 < :e1 THEN TRUE
                               WHEN :e2 IS NULL THEN NULL ELSE FALSE END
      ELSE CASE WHEN :e1 IS NULL OR :e2 IS NULL THEN NULL ELSE TRUE END END""",
    read="postgres",
).expressions[0]


def _period(pair: exp.Expression) -> tuple[exp.Expression, exp.Expression] | None:
    """(start, end) of one side of OVERLAPS: the earlier of the pair first; (start, interval) ends at
    start + interval; one NULL end: the other end twice, the end NULL."""
    if not isinstance(pair, exp.Tuple) or len(pair.expressions) != 2:
        return None
    a, b = pair.expressions
    if isinstance(b, exp.Interval) or (isinstance(b, exp.Cast) and b.to.this == exp.DataType.Type.INTERVAL):
        b = exp.Add(this=a.copy(), expression=b.copy())
    start = exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=a.copy(), expression=exp.Null()), true=b.copy()),
            exp.If(this=exp.Is(this=b.copy(), expression=exp.Null()), true=a.copy()),
        ],
        default=exp.Least(this=a.copy(), expressions=[b.copy()]),
    )
    end = exp.Case(
        ifs=[
            exp.If(
                this=exp.Or(
                    this=exp.Is(this=a.copy(), expression=exp.Null()),
                    expression=exp.Is(this=b.copy(), expression=exp.Null()),
                ),
                true=exp.Null(),
            )
        ],
        default=exp.Greatest(this=a.copy(), expressions=[b.copy()]),
    )
    return start, end


# the units DuckDB reads after INTERVAL 'n' (PostgreSQL's others go in the text)
_DUCK_UNITS = frozenset(
    u + p
    for u in ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND", "WEEK",
              "QUARTER", "DECADE")
    for p in ("", "S")
) | {"CENTURY", "CENTURIES", "MILLENNIUM", "MILLENNIA"}  # fmt: skip
_PLUS_FIELD = re.compile(r"(^|\s)\+(?=[\d.])")


_ISO_DURATION = re.compile(
    r"^\s*P(?:(?P<Y>-?[\d.]+)Y)?(?:(?P<M>-?[\d.]+)M)?(?:(?P<W>-?[\d.]+)W)?(?:(?P<D>-?[\d.]+)D)?"
    r"(?:T(?:(?P<h>-?[\d.]+)H)?(?:(?P<m>-?[\d.]+)M)?(?:(?P<s>-?[\d.]+)S)?)?\s*$",
    re.IGNORECASE,
)
_ISO_UNITS = {
    "Y": "years",
    "M": "months",
    "W": "weeks",
    "D": "days",
    "h": "hours",
    "m": "minutes",
    "s": "seconds",
}


def _iso_duration(text: str) -> str | None:
    """An ISO 8601 duration (``P1Y2M3DT4H5M6.5S``, ``PT90M``) as interval text DuckDB reads; None
    for any other text."""
    m = _ISO_DURATION.match(text)
    if m is None or not any(m.groupdict().values()) or text.strip().upper().endswith("T"):
        return None
    return " ".join(f"{v} {_ISO_UNITS[k]}" for k, v in m.groupdict().items() if v is not None)


def _interval_literal(node: exp.Expression) -> exp.Literal | None:
    """The text of ``interval '...'`` or ``'...'::interval``, else None."""
    if isinstance(node, exp.Interval) and node.args.get("unit") is None:
        text = node.this
    elif isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.INTERVAL:
        text = node.this
    else:
        return None
    return text if isinstance(text, exp.Literal) and text.is_string else None


def _similar_to(node: exp.SimilarTo, escape: exp.Expression) -> exp.Expression:
    """``s SIMILAR TO pattern [ESCAPE e]`` as a full match of the regular expression PostgreSQL
    makes of the pattern (similar_to_escape): ``%`` any text, ``_`` any character, ``.``, ``^``
    and ``$`` themselves, groups not capturing, ``| * + ? {}`` ``()`` ``[]`` as in a regular
    expression, the escape character's next character itself. DuckDB's SIMILAR TO reads the pattern
    as a regular expression (``%`` a percent sign), so its answers were wrong."""
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string) or not (
        isinstance(escape, exp.Literal) and escape.is_string
    ):
        raise E.FeatureNotSupported(
            "SIMILAR TO with a pattern or escape other than a constant is not supported"
        )
    if len(escape.this) > 1:
        raise E.InvalidEscapeSequence("invalid escape string")
    return _fn("regexp_full_match", node.this, exp.Literal.string(_similar_regex(pattern.this, escape.this)))


def _similar_regex(pattern: str, escape: str) -> str:
    out = ["(?s)(?:"]
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape and c == escape:  # (a trailing one stands for nothing, as in PostgreSQL)
            out.append(re.escape(pattern[i + 1]) if i + 1 < len(pattern) else "")
            i += 2
            continue
        if in_class:
            out.append("\\\\" if c == "\\" else c)
            in_class = c != "]"
        elif c == "[":
            out.append(c)
            in_class = True
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "(":
            out.append("(?:")
        elif c in ".^$\\":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    out.append(")")
    return "".join(out)


def _function(node: exp.Expression) -> exp.Expression:
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    as_json = lower_agg(node)
    if as_json is not None:
        return as_json
    text = _interval_literal(node)
    if text is not None and _PLUS_FIELD.search(text.this):
        # '-1 days +02:00:00' (PostgreSQL's own output): DuckDB takes no + before a field
        text.set("this", _PLUS_FIELD.sub(r"\1", text.this))
        return node
    if text is not None and (iso := _iso_duration(text.this)) is not None:
        text.set("this", iso)  # 'P1DT2H' (ISO 8601, which PostgreSQL reads): DuckDB does not
        return node
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.VARCHAR and node.to.expressions:
        # an explicit cast to varchar(n) cuts the text to n characters (DuckDB ignores the length;
        # a value written to a varchar(n) column is checked instead: sql/tables.py)
        n = node.to.expressions[0].this
        if isinstance(n, exp.Literal) and n.is_int:
            return _keep_name(
                node,
                exp.Cast(
                    this=_fn("left", exp.Cast(this=node.this, to=exp.DataType.build("VARCHAR")), n.copy()),
                    to=node.to,
                ),
            )
    if isinstance(node, exp.SimilarTo) and not isinstance(node.parent, exp.Escape):
        return _keep_name(node, _similar_to(node, exp.Literal.string("\\")))
    if isinstance(node, exp.Escape) and isinstance(node.this, exp.SimilarTo):
        return _keep_name(node, _similar_to(node.this, node.expression))
    if isinstance(node, exp.Overlaps):
        p1, p2 = _period(node.this), _period(node.expression)
        if p1 is not None and p2 is not None:
            (s1, e1), (s2, e2) = p1, p2
            ends = {"s1": s1, "e1": e1, "s2": s2, "e2": e2}
            case = _OVERLAPS.transform(
                lambda n: ends[n.this].copy() if isinstance(n, exp.Placeholder) else n, copy=True
            )
            return _keep_name(node, exp.Paren(this=case))
        return node
    if isinstance(node, exp.Substring):
        start = node.args.get("start")
        if isinstance(start, exp.Literal) and start.is_string and node.args.get("length") is None:
            # substring(s from 'regex'): the first parenthesized group's match, else the whole
            # match; NULL without a match (DuckDB's regexp_extract gives '')
            group = exp.Literal.number(1 if capture_groups(start.this) else 0)
            found = _fn("regexp_extract", node.this.copy(), start.copy(), group)
            matches = _fn("regexp_matches", node.this.copy(), start.copy())
            return _keep_name(node, exp.Case(ifs=[exp.If(this=matches, true=found)]))
        if start is None or (isinstance(start, exp.Literal) and start.is_string):
            return node
        args = [node.this, start]
        if node.args.get("length") is not None:
            args.append(node.args["length"])
        return _keep_name(node, _fn("pg_substr", *args))
    if isinstance(node, exp.SplitPart):
        args = [node.this, node.args.get("delimiter"), node.args.get("part_index")]
        if all(a is not None for a in args):
            return _keep_name(node, _fn("pg_split_part", *args))
        return node
    if isinstance(node, exp.Hex):
        return _keep_name(node, _fn("lower", _fn("to_hex", node.this)))
    if name == "octet_length" and len(node.expressions) == 1:
        return _keep_name(node, _cast(_fn("strlen", node.expressions[0]), "INTEGER"))
    if name == "scale" and len(node.expressions) == 1:
        return _keep_name(node, _cast(_fn("pg_scale", node.expressions[0]), "INTEGER"))
    if isinstance(node, exp.JustifyHours | exp.JustifyDays | exp.JustifyInterval):
        which = {exp.JustifyHours: "pg_justify_hours", exp.JustifyDays: "pg_justify_days"}.get(
            type(node), "pg_justify_interval"
        )
        return _keep_name(node, _fn(which, node.this))
    if name == "every" and len(node.expressions) == 1:
        return _keep_name(node, _fn("bool_and", node.expressions[0]))
    if isinstance(node, exp.WidthBucket):
        args = [
            node.this,
            node.args.get("min_value"),
            node.args.get("max_value"),
            node.args.get("num_buckets"),
        ]
        if all(a is not None for a in args):
            return _keep_name(node, _fn("tsgres_width_bucket", *args))
        return node
    if isinstance(node, exp.Format) or name == "format":
        args = list(node.expressions) if isinstance(node, exp.Anonymous) else [node.this, *node.expressions]
        new = format_call(args)
        if new is None:  # DuckDB's format() reads {} placeholders: it would answer something else
            raise E.FeatureNotSupported(
                "format() with a format string that is not a constant is not supported"
            )
        return _keep_name(node, new)
    if isinstance(node, exp.Encode | exp.Decode) and node.args.get("charset") is not None:
        return _keep_name(node, _encoding(node.key, node.this, node.args["charset"]))
    if name == "regexp_match" and len(node.expressions) == 2:
        s, p = node.expressions
        if isinstance(p, exp.Literal) and p.is_string:
            groups = capture_groups(p.this) or 0
            parts = [
                _fn("regexp_extract", s.copy(), p.copy(), exp.Literal.number(g)) for g in range(1, groups + 1)
            ]
            if not parts:
                parts = [_fn("regexp_extract", s.copy(), p.copy(), exp.Literal.number(0))]
            return _keep_name(
                node,
                exp.Case(
                    ifs=[
                        exp.If(
                            this=_fn("regexp_matches", s.copy(), p.copy()), true=exp.Array(expressions=parts)
                        )
                    ]
                ),
            )
        return node
    if isinstance(node, exp.Sqrt):
        return _keep_name(node, _fn("pg_sqrt", node.this))
    if isinstance(node, exp.Ln):
        return _keep_name(node, _fn("pg_ln", node.this))
    if isinstance(node, exp.Log) and node.args.get("expression") is None:
        return _keep_name(node, _fn("pg_log10", node.this))
    if isinstance(node, exp.Log) and node.meta.get("pg_name") == "log10":  # sqlglot reads log(10, x)
        return _keep_name(node, _fn("pg_log10", node.expression))
    if isinstance(node, exp.TimestampTrunc) and node.args.get("zone") is not None:
        # date_trunc(unit, ts, zone): truncated on that zone's wall clock (sqlglot's DuckDB SQL drops
        # the zone below a day, wrong where the zone's offset is no whole hour: Asia/Kolkata)
        zone = node.args["zone"]
        ts = exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMPTZ"))
        local = exp.TimestampTrunc(this=exp.AtTimeZone(this=ts, zone=zone.copy()), unit=node.args["unit"])
        return _keep_name(node, exp.AtTimeZone(this=local, zone=zone.copy()))
    if (
        isinstance(node, exp.TimestampTrunc)
        and node.args.get("zone") is None
        and node.args["unit"].name.upper() in ("CENTURY", "MILLENNIUM")
    ):
        # centuries and millennia start at years ..01 (2001, not DuckDB's 2000), as in PostgreSQL
        span = 100 if node.args["unit"].name.upper() == "CENTURY" else 1000
        year_start = exp.TimestampTrunc(this=node.this.copy(), unit=exp.Var(this="YEAR"))
        back = exp.Mod(
            this=exp.Paren(
                this=exp.Sub(this=_fn("year", node.this.copy()), expression=exp.Literal.number(1))
            ),
            expression=exp.Literal.number(span),
        )
        return _keep_name(node, exp.Sub(this=year_start, expression=_fn("to_years", _cast(back, "INTEGER"))))
    if name in ("num_nulls", "num_nonnulls") and node.expressions:
        # how many of the arguments are (not) NULL, as int4
        test = exp.Is if name == "num_nulls" else (lambda **kw: exp.Not(this=exp.Is(**kw)))
        terms = [
            exp.Case(
                ifs=[exp.If(this=test(this=a.copy(), expression=exp.Null()), true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            )
            for a in node.expressions
        ]
        total = terms[0]
        for term in terms[1:]:
            total = exp.Add(this=total, expression=term)
        return _keep_name(node, _cast(total, "INTEGER"))
    if isinstance(node, exp.IntDiv):  # div(a, b): the quotient truncated towards zero
        return _fn("TRUNC", exp.Div(this=node.this, expression=node.expression))
    if name == "log10" and len(node.expressions) == 1:
        return _keep_name(node, _fn("pg_log10", node.expressions[0]))
    if isinstance(node, exp.Extract) and isinstance(node.this, exp.Var | exp.Literal):
        new = _numeric_extract(node.this.name, node.expression)
        return _keep_name(node, new) if new is not None else node
    if name == "date_part" and len(node.expressions) == 2:
        unit, source = node.expressions
        if isinstance(unit, exp.Literal) and unit.is_string:
            new = _numeric_extract(unit.this, source)
            if new is not None:
                return _keep_name(node, _cast(new, "DOUBLE"))
        return node
    if isinstance(node, _INT4_RESULT) or name in _INT4_RESULT_NAMES:
        return _keep_name(node, _cast(node, "INTEGER"))
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Ntile):
        return _cast(node, "INTEGER")
    if isinstance(node, exp.StrToTime):
        return _keep_name(node, _cast(node, "TIMESTAMPTZ"))
    if name in ("to_date", "to_timestamp") and len(node.expressions) == 2:
        value, template = node.expressions
        fmt = (
            strptime_format(template.this)
            if isinstance(template, exp.Literal) and template.is_string
            else None
        )
        if fmt is None:  # a template we do not translate: sqlglot's strptime reading
            parsed = sqlglot_function(name.upper(), [value, template])
        else:
            parsed = _fn("strptime", value, exp.Literal.string(fmt))
        return _keep_name(node, _cast(parsed, "DATE" if name == "to_date" else "TIMESTAMPTZ"))
    if isinstance(node, exp.ToNumber) and node.args.get("format") is not None:
        return _keep_name(node, number_reading(node.this, node.args["format"]))
    if name == "to_char" and len(node.expressions) == 2:
        value, template = node.expressions
        new = None
        if isinstance(template, exp.Literal) and template.is_string:
            new = numeric_template(value, template.this) or datetime_template(value, template.this)
        if new is None:  # a template we do not translate: sqlglot's strftime reading
            new = sqlglot_function("TO_CHAR", [value, template])
        return _keep_name(node, new)
    return node


def _check_distinct_order(select: exp.Select) -> None:
    """SELECT DISTINCT ... ORDER BY x needs x in the select list (42P10); DuckDB sorts anyway."""
    distinct = select.args.get("distinct")
    order = select.args.get("order")
    if distinct is None or distinct.args.get("on") is not None or order is None:
        return
    outputs = select.expressions
    if any(
        isinstance(o, exp.Star) or (isinstance(o, exp.Column) and isinstance(o.this, exp.Star))
        for o in outputs
    ):
        return
    names = {o.alias_or_name for o in outputs}
    inner = [o.this if isinstance(o, exp.Alias) else o for o in outputs]
    for o in order.expressions:
        key = o.this
        if isinstance(key, exp.Literal) and key.is_int:
            continue
        if isinstance(key, exp.Column) and not key.table and key.name in names:
            continue
        if any(key == e for e in inner):
            continue
        raise E.InvalidColumnReference("for SELECT DISTINCT, ORDER BY expressions must appear in select list")


def _check_window_distinct(tree: exp.Expression) -> None:
    for window in tree.find_all(exp.Window):
        func = window.this.this if isinstance(window.this, exp.Filter) else window.this
        if isinstance(func, exp.AggFunc) and isinstance(func.this, exp.Distinct):
            raise E.FeatureNotSupported("DISTINCT is not implemented for window functions")


def pg_semantics(tree: exp.Expression, ctx: object) -> exp.Expression:
    _check_window_distinct(tree)
    for select in tree.find_all(exp.Select):
        _check_distinct_on(select)
        _check_distinct_order(select)
    tree = bottom_up(tree, _literals)
    return bottom_up(tree, _function)
