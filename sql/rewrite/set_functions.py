"""PostgreSQL's set-returning built-ins where DuckDB lacks them or answers otherwise, as DuckDB lists
unnested; and text cut into arrays:

- ``string_to_array(s, delimiter [, null_string])``: '' gives an empty array (DuckDB: one ''), a
  NULL delimiter one element per character, an empty delimiter the whole string, and elements equal
  to ``null_string`` are NULL (DuckDB has no third argument).
- ``string_to_table(...)``: the same elements as rows (PostgreSQL 14; DuckDB has no such function).
- ``regexp_matches(s, pattern [, flags])``: a set of text[], each a match's captured groups (the
  whole match when the pattern has none): the first match only, or every match with flag ``g``
  (DuckDB's function of that name is a boolean test, so its answer was silently wrong).
- ``regexp_split_to_table(s, pattern [, flags])`` in FROM (DuckDB takes it in a select list only).
- ``unnest(a, b, ...)`` of several arrays in FROM: one column each, the shorter ones padded with
  NULLs (DuckDB's table function takes one).
- ``generate_series(...) WITH ORDINALITY`` (DuckDB's table function has no ordinality).

In a select list a set-returning call is UNNEST of the list of its rows; in FROM (or LATERAL) it is a
subquery that unnests the lists, its columns named as PostgreSQL names them (the function's name, or
for a function of one column the table alias when no column alias is given), WITH ORDINALITY adding
``ordinality``:

    SELECT m FROM t, regexp_matches(t.s, '(\\d+)-(\\d+)', 'g') AS m
    -> SELECT m FROM t, (SELECT CAST(UNNEST(__l0) AS TEXT[]) AS "m" FROM (SELECT LIST_TRANSFORM(LIST_ZIP(
           REGEXP_EXTRACT_ALL(t.s, '(\\d+)-(\\d+)', 1, ''), REGEXP_EXTRACT_ALL(t.s, '(\\d+)-(\\d+)', 2, '')),
           LAMBDA __m : [STRUCT_EXTRACT(__m, 1), STRUCT_EXTRACT(__m, 2)]) AS __l0) AS __set) AS m

A pattern or flags that are not constants are refused (0A000): the groups a pattern captures decide
the rows' shape. PostgreSQL's flags map to RE2's (DuckDB's) options: i, c, n (m), s, q (literal) and
t; x (expanded syntax), p and w (partial newline sensitivity), b and e (basic/extended syntax) are
refused; any other letter is PostgreSQL's 22023.
"""

from __future__ import annotations

from sqlglot import exp

from sql import errors as E
from sql.rewrite.pg_semantics import capture_groups

_SET_FUNCTIONS = ("string_to_table", "regexp_matches", "regexp_split_to_table")
_CALLS = (exp.Anonymous, exp.Unnest, exp.ExplodingGenerateSeries)
_ELEMENT_TYPE = {"string_to_table": "TEXT", "regexp_matches": "TEXT[]", "regexp_split_to_table": "TEXT"}
# PostgreSQL's regular expression flags -> RE2's option letters (DuckDB's); "" : nothing to pass
_FLAG_OPTIONS = {"i": "i", "c": "c", "n": "n", "m": "n", "s": "s", "q": "l", "t": ""}
_UNSUPPORTED_FLAGS = {
    "x": "expanded syntax",
    "p": "partial newline sensitivity",
    "w": "partial newline sensitivity",
}
_UNSUPPORTED_FLAGS |= {"b": "basic regular expressions", "e": "extended regular expressions"}


def set_functions(tree: exp.Expression, ctx: object) -> exp.Expression:
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Unnest) and isinstance(node.parent, exp.From | exp.Join):
            return _from(node, node)
        if isinstance(node, exp.Table | exp.Lateral) and isinstance(node.this, _CALLS):
            return _from(node, node.this)
        if isinstance(node, exp.StringToArray):
            return _string_to_array(node.this, node.expression, node.args.get("null"))
        if isinstance(node, exp.Anonymous) and not isinstance(node.parent, exp.Table | exp.Lateral):
            name = node.name.lower()
            if name in _SET_FUNCTIONS and name != "regexp_split_to_table":  # (DuckDB's own is right)
                return _fn("unnest", _rows(name, list(node.expressions)))
        return node

    return tree.transform(fix, copy=False)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _rows(name: str, args: list[exp.Expression]) -> exp.Expression:
    """The list of the rows a call of set-returning ``name`` gives (each takes 2 or 3 arguments)."""
    if len(args) not in (2, 3):
        raise E.UndefinedFunction(f"function {name} with {len(args)} arguments does not exist")
    if name == "string_to_table":
        return _string_to_array(*args)
    s, pattern = args[0], args[1]
    flags = args[2] if len(args) == 3 else exp.Literal.string("")
    for what, arg in (("a pattern", pattern), ("flags", flags)):
        if not (isinstance(arg, exp.Literal) and arg.is_string):
            raise E.FeatureNotSupported(f"{name}() with {what} other than a constant is not supported")
    every, options = _options(name, flags.this)
    if name == "regexp_split_to_table":
        return _fn("regexp_split_to_array", s, pattern, exp.Literal.string(options))
    return _matches(s, pattern.this, every, options)


def _options(name: str, flags: str) -> tuple[bool, str]:
    """(whether ``g`` was given, RE2's options) of PostgreSQL's flags."""
    every = False
    options = ""
    for f in flags:
        if f == "g":
            if name == "regexp_split_to_table":
                raise E.InvalidParameterValue(f'{name}() does not support the "global" option')
            every = True
        elif f in _FLAG_OPTIONS:
            options += _FLAG_OPTIONS[f]
        elif f in _UNSUPPORTED_FLAGS:
            raise E.FeatureNotSupported(
                f'regular expression option "{f}" ({_UNSUPPORTED_FLAGS[f]}) is not supported'
            )
        else:
            raise E.InvalidParameterValue(f'invalid regular expression option: "{f}"')
    return every, options


def _matches(s: exp.Expression, pattern: str, every: bool, options: str) -> exp.Expression:
    """regexp_matches' rows: per match the list of its groups (regexp_extract_all gives NULL for a
    group that took no part, as PostgreSQL), the first match only without ``g``."""
    groups = capture_groups(pattern)
    lists = [
        _fn("regexp_extract_all", s.copy(), exp.Literal.string(pattern), exp.Literal.number(g), exp.Literal.string(options))
        for g in (range(1, groups + 1) if groups else [0])
    ]  # fmt: skip
    var = exp.to_identifier("__m")
    if len(lists) == 1:
        row: exp.Expression = exp.Array(expressions=[exp.column("__m")])
        listed = lists[0]
    else:
        member = [
            _fn("struct_extract", exp.column("__m"), exp.Literal.number(g)) for g in range(1, groups + 1)
        ]
        row = exp.Array(expressions=member)
        listed = _fn("list_zip", *lists)
    rows = _fn("list_transform", listed, exp.Lambda(this=row, expressions=[var]))
    return rows if every else _fn("list_slice", rows, exp.Literal.number(1), exp.Literal.number(1))


def _string_to_array(
    s: exp.Expression, delimiter: exp.Expression, null: exp.Expression | None = None
) -> exp.Expression:
    """PostgreSQL's string_to_array as DuckDB's string_split (see the module's docstring)."""
    split = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=s.copy(), expression=exp.Literal.string("")),
                   true=exp.cast(exp.Array(expressions=[]), "TEXT[]")),
            exp.If(this=exp.Is(this=delimiter.copy(), expression=exp.Null()), true=_fn("string_split", s.copy(), exp.Literal.string(""))),
            exp.If(this=exp.EQ(this=delimiter.copy(), expression=exp.Literal.string("")), true=exp.Array(expressions=[s.copy()])),
        ],
        default=_fn("string_split", s.copy(), delimiter.copy()),
    )  # fmt: skip
    if null is None:
        return split
    var = exp.to_identifier("__e")
    kept = _fn("nullif", exp.column("__e"), null.copy())
    # (a NULL null_string marks nothing: nullif(x, NULL) is x)
    return _fn("list_transform", split, exp.Lambda(this=kept, expressions=[var]))


def _from(node: exp.Expression, call: exp.Expression) -> exp.Expression:
    """A FROM call (``node``: the Table or Lateral holding it, or an Unnest itself) as the subquery
    of :func:`_source`, or the node as it is (DuckDB's own)."""
    alias = node.args.get("alias") if node is not call else call.args.get("alias")
    ordinality = node.args.get("ordinality")
    if isinstance(call, exp.Unnest):
        # (sqlglot keeps WITH ORDINALITY as the Unnest's offset: True, or the alias's last column)
        offset = call.args.get("offset")
        ordinality = bool(offset)
        if isinstance(offset, exp.Identifier) and isinstance(alias, exp.TableAlias):
            alias = alias.copy()
            alias.append("columns", offset.copy())
        if len(call.expressions) < 2:
            return node
        return _source([(a, None, "unnest") for a in call.expressions], alias, ordinality)
    if isinstance(call, exp.ExplodingGenerateSeries):
        if not ordinality:
            return node
        bounds = [b for b in (call.args.get(k) for k in ("start", "end", "step")) if b is not None]
        # integer constants are int4's series in PostgreSQL (DuckDB's list is of BIGINTs)
        small = all(_int4_constant(b) for b in bounds)
        return _source(
            [(_fn("generate_series", *bounds), "INT" if small else None, "generate_series")],
            alias,
            ordinality,
        )
    name = call.name.lower()
    if name not in _SET_FUNCTIONS:
        return node
    return _source([(_rows(name, list(call.expressions)), _ELEMENT_TYPE[name], name)], alias, ordinality)


def _int4_constant(e: exp.Expression) -> bool:
    inner = e.this if isinstance(e, exp.Neg) else e
    return isinstance(inner, exp.Literal) and inner.is_int and -(2**31) <= int(inner.this) < 2**31


def _source(
    lists: list[tuple[exp.Expression, str | None, str]], alias: exp.Expression | None, ordinality: bool
) -> exp.Expression:
    """``FROM f(...) [WITH ORDINALITY] [AS t(c, ...)]`` as a subquery unnesting the lists of its
    columns' values ((list, element type to cast to or None, column name) each); DuckDB pads the
    shorter lists with NULLs, as PostgreSQL's unnest of several arrays."""
    default_table = lists[0][2]
    table = alias.this.name if isinstance(alias, exp.TableAlias) and alias.this else default_table
    names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) and alias.columns else []
    if not names and len(lists) == 1 and table != default_table:
        names = [table]  # (a function's one column takes the table's alias)
    columns = []
    for k, (_, kind, column) in enumerate(lists):
        value = _fn("unnest", exp.column(f"__l{k}"))
        value = exp.cast(value, kind) if kind else value
        columns.append(exp.alias_(value, names[k] if k < len(names) else column, quoted=True))
    if ordinality:
        lengths = [_fn("len", exp.column(f"__l{k}")) for k in range(len(lists))]
        longest = lengths[0] if len(lengths) == 1 else _fn("greatest", *lengths)
        count = exp.Add(this=longest, expression=exp.Literal.number(1))
        ordinal = exp.cast(_fn("unnest", _fn("range", exp.Literal.number(1), count)), "BIGINT")
        k = len(lists)
        columns.append(exp.alias_(ordinal, names[k] if k < len(names) else "ordinality", quoted=True))
    if len(names) > len(columns):
        raise E.InvalidColumnReference(
            f'table "{table}" has {len(columns)} columns available but {len(names)} columns specified'
        )
    inner = exp.select(*(exp.alias_(listed, f"__l{k}") for k, (listed, _, _) in enumerate(lists))).subquery(
        "__set"
    )
    select = exp.select(*columns).from_(inner)
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table)))
