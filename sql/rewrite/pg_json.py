"""json and jsonb as PostgreSQL 15 writes them, decided from the argument types (called by pg_types).

DuckDB's JSON is compact (``{"a":1}``) and writes timestamps and floats its own way. PostgreSQL's text
depends on the function and the type:

- values inside JSON: timestamptz ``"2016-01-01T00:00:00+00:00"`` (ISO 8601, the session zone),
  timestamp ``"2016-01-01T00:00:00"``, float ``54`` / ``1e+20`` / ``"NaN"``
- json: to_json / row_to_json compact; json_agg elements apart by ``, `` (rows and arrays by ``, `` and a
  newline and a space); json_build_object ``{"a" : 1, "b" : 2}``; a cast of text keeps the text
- jsonb: ``{"a": 1, "b": [1, 2]}`` (a space after ``:`` and ``,``), keys by length then bytes, a
  duplicate key keeps its last value. Keys are sorted here where the query names them (literal
  text, jsonb_build_object's constant keys, a row's columns; the spacing is then pg_jsonb_text's),
  and by pg_jsonb_in where they arrive at run time (a text or json value cast, jsonb_object_agg,
  jsonb_build_object with a key from a column)
- the jsonb operators (@>, <@, ?, ?|, ?&, -, #-, ||), jsonb_set / jsonb_insert / jsonb_strip_nulls
  / jsonb_pretty and the JSON sets (json(b)_array_elements[_text], json(b)_each[_text],
  json(b)_object_keys) become calls of sql/functions/jsonb.py; a set in FROM becomes a subquery
  over the list of its rows (:func:`set_source`)

Every result is cast to JSON or JSONB in the tree (both DuckDB's JSON), so the type inference and the
announced OID (114 / 3802) follow, and a JSON value inside another is embedded, not quoted.

    SELECT jsonb_build_object('bb', x, 'a', ts), json_agg(ts) FROM t    -- ts timestamptz
    -> SELECT CAST(pg_jsonb_text(json_object(CAST('a' AS TEXT), pg_json_tstz(ts),
                                             CAST('bb' AS TEXT), x)) AS JSON),
              CAST(pg_json_agg(list(pg_json_tstz(ts))) AS JSON) FROM t

    SELECT j @> '{"a":1}', jsonb_set(j, '{a,0}', '2') FROM t    -- j jsonb
    -> SELECT pg_jsonb_contains(j, CAST('{"a": 1}' AS JSON)),
              CAST(pg_jsonb_set(j, CAST(['a', '0'] AS TEXT[]), CAST('2' AS JSON), TRUE) AS JSON) FROM t
"""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp

from sql import errors as E
from sql.jsonb import jsonb_text, key_order

_DTYPE = exp.DataType.Type
DONE = "pg_json_done"  # meta on the casts this module made: not lowered again


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _typed(e: exp.Expression, kind: str) -> exp.Cast:
    cast = exp.Cast(this=e, to=exp.DataType.build("JSONB" if kind == "jsonb" else "JSON"))
    cast.meta[DONE] = True
    return cast


def _is_text_literal(e: exp.Expression) -> bool:
    return isinstance(e, exp.Literal) and e.is_string


def _close_deferred(node: exp.Expression, key: str, close: Any) -> exp.Expression | None:
    """An aggregate under FILTER or OVER left its wrapper to that clause (meta ``key`` on it):
    ``close(clause, value)`` wraps the clause, or, for a FILTER inside an OVER, the meta moves up
    so the wrapper goes around both. None when ``node`` is no such clause."""
    if not isinstance(node, exp.Filter | exp.Window) or not node.this.meta.get(key):
        return None
    value = node.this.meta.pop(key)
    if isinstance(node, exp.Filter) and isinstance(node.parent, exp.Window) and node.arg_key == "this":
        node.meta[key] = value
        return node
    return close(node, value)


# -- untyped: json_agg / jsonb_agg (pg_semantics, before binding) ----------------------------------------
def lower_agg(node: exp.Expression) -> exp.Expression | None:
    """json_agg / jsonb_agg(x [ORDER BY ...]) -> pg_json_agg / pg_jsonb_agg(list(x [ORDER BY ...])):
    DuckDB has neither (sqlglot writes JSON_ARRAYAGG). NULL inputs stay in the array and no rows give
    NULL, as in PostgreSQL. Under FILTER or OVER the wrapper goes around that clause (its node comes
    next). pg_types finishes the call once it knows x's type (:func:`fix`)."""
    closed = _close_deferred(node, "pg_json_agg", lambda clause, which: _fn(which, clause))
    if closed is not None:
        return closed
    if isinstance(node, exp.JSONArrayAgg):
        which = "pg_json_agg"
        arg = node.this
        order = node.args.get("order")
        if order is not None:
            arg = exp.Order(this=arg, expressions=order.expressions)
    elif isinstance(node, exp.Anonymous) and node.name.lower() in ("json_agg", "jsonb_agg"):
        if len(node.expressions) != 1:
            return None  # (PostgreSQL's own error: no such function)
        which = "pg_" + node.name.lower()
        arg = node.expressions[0]
    else:
        return None
    agg = _fn("list", arg)
    if isinstance(node.parent, exp.Filter | exp.Window) and node.arg_key == "this":
        agg.meta["pg_json_agg"] = which
        return agg
    return _fn(which, agg)


# -- typed: the calls, once pg_types knows the argument types -------------------------------------------
def _whole_row(types: Any, e: exp.Expression) -> list[tuple[str, str | None]] | None:
    """The (column, type) list of a whole-row reference (``t`` in row_to_json(t)), else None."""
    if not isinstance(e, exp.Column) or e.table or isinstance(e.this, exp.Star):
        return None
    select = e.find_ancestor(exp.Select)
    while select is not None:
        scope = types.scope(select)
        if any(e.name in cols for _, cols in scope):
            return None
        for alias, cols in scope:
            if alias == e.name:
                return list(cols.items())
        select = select.find_ancestor(exp.Select)
    return None


def value(types: Any, e: exp.Expression, jsonb: bool) -> exp.Expression:
    """``e`` made ready for DuckDB's to_json / json_object to write as PostgreSQL would. A row (a
    whole-row reference, ROW(...)) becomes its JSON text, written here field by field: DuckDB's
    to_json of a struct would write its JSON fields (floats made ready, json columns) again."""
    if _is_row(e):  # ROW(1, 'a'): fields f1, f2 ...
        fields = [(f"f{i}", value(types, x, jsonb)) for i, x in enumerate(e.expressions, 1)]
        return _object_text(fields, jsonb)
    row = _whole_row(types, e)
    if row is not None:
        if jsonb:
            row = sorted(row, key=lambda c: key_order(c[0]))
        fields = [
            (name, value_of(exp.column(name, table=e.name, quoted=True), kind, jsonb)) for name, kind in row
        ]
        return _object_text(fields, jsonb)
    return value_of(e, types.type(e), jsonb)


def _object_text(fields: list[tuple[str, exp.Expression]], jsonb: bool) -> exp.Expression:
    """``{"name":value,...}`` (row_to_json's compact form; jsonb's spacing comes after)."""
    parts: list[exp.Expression] = []
    for name, v in fields:
        key = ("," if parts else "") + json.dumps(name, ensure_ascii=False) + ":"
        parts += [
            exp.Literal.string(key),
            _fn("coalesce", _fn("pg_json_element", v), exp.Literal.string("null")),
        ]
    return _typed(_concat(exp.Literal.string("{"), *parts, exp.Literal.string("}")), "json")


def text_of(types: Any, e: exp.Expression, jsonb: bool) -> exp.Expression:
    """The JSON text of ``e`` inside json_build_object / json_build_array: a json value as it is
    written (PostgreSQL embeds it; DuckDB's to_json would write it again), anything else to_json's,
    and null for NULL."""
    if not jsonb and types.type(e) == "json":
        text: exp.Expression = exp.cast(e, "VARCHAR")
    else:
        text = _fn("pg_json_element", value(types, e, jsonb))
    return _fn("coalesce", text, exp.Literal.string("null"))


def value_of(e: exp.Expression, kind: str | None, jsonb: bool) -> exp.Expression:
    if kind in ("json", "jsonb"):  # (a json or jsonb column is text to DuckDB: not to be quoted)
        return e if isinstance(e, exp.Cast) and e.meta.get(DONE) else _typed(e, kind)
    if kind == "timestamptz":
        return _fn("pg_json_tstz", e)
    if kind == "timestamp":
        return _fn("pg_json_ts", e)
    if kind in ("float4", "float8"):
        return _fn("pg_json_float", e)
    if kind in ("float4[]", "float8[]"):
        return _fn("pg_json_floats", e)
    if kind in ("timestamptz[]", "timestamp[]"):
        x = exp.to_identifier("__e")
        inner = value_of(exp.column("__e"), kind[:-2], jsonb)
        return _fn("list_transform", e, exp.Lambda(this=inner, expressions=[x]))
    return e


def _is_json(v: exp.Expression) -> bool:
    """Whether a made-ready value is JSON text already (a row, a float, a json value)."""
    if isinstance(v, exp.Cast) and v.meta.get(DONE):
        return True
    return isinstance(v, exp.Anonymous) and v.name in ("pg_json_float", "pg_json_floats")


def _is_row(e: exp.Expression) -> bool:
    return isinstance(e, exp.Anonymous) and e.name.lower() == "row"


def _is_structured(types: Any, e: exp.Expression) -> bool:
    if _is_row(e):
        return True
    kind = types.type(e)
    return _whole_row(types, e) is not None or (kind is not None and kind.endswith("[]"))


def _agg_argument(call: exp.Expression) -> exp.Expression | None:
    """The node holding the aggregated value inside pg_json_agg(...): through FILTER / OVER to the
    list(...) call, then into its ORDER BY and DISTINCT; the value is its first expression / this."""
    inner = call.expressions[0] if call.expressions else None
    while isinstance(inner, exp.Window | exp.Filter):
        inner = inner.this
    if not isinstance(inner, exp.Anonymous) or inner.name.lower() != "list" or not inner.expressions:
        return None
    holder: exp.Expression = inner
    while True:
        arg = _held(holder)
        if not isinstance(arg, exp.Order | exp.Distinct) or _held(arg) is None:
            return holder
        holder = arg


def _held(holder: exp.Expression) -> exp.Expression | None:
    if isinstance(holder, exp.Order):
        return holder.this
    return holder.expressions[0] if holder.expressions else None


def _hold(holder: exp.Expression, value: exp.Expression) -> None:
    if isinstance(holder, exp.Order):
        holder.set("this", value)
    else:
        holder.set("expressions", [value, *holder.expressions[1:]])


def _build_object(types: Any, args: list[exp.Expression], jsonb: bool) -> exp.Expression:
    if len(args) % 2:
        raise E.InvalidParameterValue("argument list must have even number of elements")
    pairs = list(zip(args[::2], args[1::2], strict=True))
    if jsonb:
        known = all(isinstance(k, exp.Literal) and k.is_string for k, _ in pairs)
        if known:
            last = {k.this: (k, v) for k, v in pairs}  # a duplicate key keeps its last value
            pairs = [last[k] for k in sorted(last, key=key_order)]
        flat = [x for k, v in pairs for x in (exp.cast(k, "VARCHAR"), value(types, v, True))]
        # keys known only at run time: pg_jsonb_in orders them and keeps the last duplicate
        return _typed(_fn("pg_jsonb_text" if known else "pg_jsonb_in", _fn("json_object", *flat)), "jsonb")
    if not pairs:
        return _typed(exp.Literal.string("{}"), "json")
    parts: list[exp.Expression] = []
    for k, v in pairs:
        if parts:
            parts.append(exp.Literal.string(", "))
        key = _fn("to_json", exp.cast(k, "VARCHAR"))
        parts += [key, exp.Literal.string(" : "), text_of(types, v, False)]
    return _typed(_concat(exp.Literal.string("{"), *parts, exp.Literal.string("}")), "json")


def _concat(*parts: exp.Expression) -> exp.Expression:
    """``a || b || ...`` (NULL when any is)."""
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


def _object_agg(types: Any, node: exp.Expression) -> exp.Expression:
    """json_object_agg(k, v) as PostgreSQL writes it, ``{ "k" : v, ... }`` (string_agg of the pairs, an
    aggregate DuckDB lets FILTER and OVER wrap); jsonb_object_agg spaced as jsonb, its keys in the
    order the rows come (sorting them is left to do). Under FILTER or OVER the braces go around
    that clause: :func:`_object_agg_close`."""
    jsonb = isinstance(node, exp.JSONBObjectAgg)
    if isinstance(node, exp.JSONObjectAgg):
        if len(node.expressions) != 2:
            return _typed(node, "json")
        k, v = node.expressions
    else:
        k, v = node.this, node.expression
    key = _fn("to_json", exp.cast(k, "VARCHAR"))
    pair = _concat(key, exp.Literal.string(":" if jsonb else " : "), text_of(types, v, jsonb))
    agg = _fn("string_agg", pair, exp.Literal.string("," if jsonb else ", "))
    if isinstance(node.parent, exp.Filter | exp.Window) and node.arg_key == "this":
        agg.meta["pg_object_agg"] = "jsonb" if jsonb else "json"
        return agg
    return _object_agg_close(agg, "jsonb" if jsonb else "json")


def _object_agg_close(agg: exp.Expression, kind: str) -> exp.Expression:
    if kind == "jsonb":  # (the keys come with the rows: pg_jsonb_in orders them and keeps the last)
        return _typed(
            _fn("pg_jsonb_in", _concat(exp.Literal.string("{"), agg, exp.Literal.string("}"))), kind
        )
    return _typed(_concat(exp.Literal.string("{ "), agg, exp.Literal.string(" }")), kind)


def _pointer(path: exp.Expression) -> exp.Expression | None:
    """A constant text[] path ``'{a,0}'`` as the JSON pointer ``/a/0`` (a key or an array index)."""
    if not (isinstance(path, exp.Literal) and path.is_string):
        return None
    text = path.this.strip()
    if not (text.startswith("{") and text.endswith("}")) or '"' in text:
        return None
    items = [p.strip() for p in text[1:-1].split(",")] if text[1:-1].strip() else []
    return _pointer_of(items)


def _pointer_of(items: list[str]) -> exp.Expression:
    return exp.Literal.string("".join("/" + p.replace("~", "~0").replace("/", "~1") for p in items))


def _path(types: Any, source: exp.Expression, pointer: exp.Expression, as_text: bool) -> exp.Expression:
    """#> / #>> (and json_extract_path[_text]): the value at ``pointer``, as json / jsonb or as text."""
    got = _fn("json_extract", source, pointer)
    if as_text:
        text = _fn("json_extract_string", source.copy(), pointer.copy())
        return _fn("pg_jsonb_scalar_text", got, text) if types.type(source) == "jsonb" else text
    return _jsonb_or_json(types, source, got)


def fix(types: Any, node: exp.Expression) -> exp.Expression | None:
    """The PostgreSQL form of a JSON call or cast, or None when ``node`` is not one."""
    if isinstance(node, exp.Cast) and not node.meta.get(DONE) and node.to.this == _DTYPE.JSONB:
        inner = node.this
        if _is_text_literal(inner):
            return _typed(exp.Literal.string(jsonb_text(inner.this)), "jsonb")
        if types.type(inner) == "jsonb":
            return node
        return _typed(_fn("pg_jsonb_in", inner), "jsonb")  # (keys known only at run time)
    if isinstance(node, exp.JSONBExtract | exp.JSONBExtractScalar):  # #> / #>>
        pointer = _pointer(node.expression)
        if pointer is None:
            return None
        return _path(types, node.this, pointer, isinstance(node, exp.JSONBExtractScalar))
    if isinstance(node, exp.JSONExtract) and not node.meta.get(DONE):  # ->
        node.meta[DONE] = True
        return _jsonb_or_json(types, node.this, node)
    if isinstance(node, exp.JSONExtractScalar) and not node.meta.get(DONE):  # ->>
        node.meta[DONE] = True
        if types.type(node.this) != "jsonb":
            return node
        got = exp.JSONExtract(this=node.this.copy(), expression=node.expression.copy())
        return _fn("pg_jsonb_scalar_text", got, node)
    if isinstance(node, exp.JSONObjectAgg | exp.JSONBObjectAgg):
        return _object_agg(types, node)
    closed = _close_deferred(node, "pg_object_agg", _object_agg_close)
    if closed is not None:
        return closed
    operator = _jsonb_operator(types, node)
    if operator is not None:
        return operator
    if isinstance(node, exp.Table | exp.Lateral) and isinstance(node.this, exp.Anonymous):
        return set_source(types, node)
    if not isinstance(node, exp.Anonymous) or isinstance(node.parent, exp.Table | exp.Lateral):
        return None
    name = node.name.lower()
    args = list(node.expressions)
    if name in ("to_json", "row_to_json") and args and not node.meta.get(DONE):
        if types.type(args[0]) == "json":  # PostgreSQL hands a json value over as it is written
            return _typed(args[0], "json")
        v = value(types, args[0], False)
        if _is_json(v):
            return _typed(v, "json")  # (JSON already: to_json would write its numbers again)
        call = _fn("to_json", v)
        call.meta[DONE] = True
        return _typed(call, "json")
    if name == "to_jsonb" and len(args) == 1:
        a = args[0]
        if isinstance(a, exp.Cast) and types.type(a) in ("json", "jsonb") and _is_text_literal(a.this):
            return _typed(exp.Literal.string(jsonb_text(a.this.this)), "jsonb")
        if types.type(a) == "jsonb":
            return a
        if types.type(a) == "json":
            return _typed(_fn("pg_jsonb_in", a), "jsonb")
        return _typed(_fn("pg_jsonb_text", _fn("to_json", value(types, args[0], True))), "jsonb")
    if name in ("pg_json_agg", "pg_jsonb_agg") and len(args) == 1:
        holder = _agg_argument(node)
        arg = _held(holder) if holder is not None else None
        if holder is not None and arg is not None:
            jsonb = name == "pg_jsonb_agg"
            structured = _is_structured(types, arg)
            listed = args[0]
            if _whole_row(types, arg) is not None or _is_row(arg):
                _hold(holder, value(types, arg, jsonb))  # (a row's fields, by name, in the aggregate)
            else:  # a value: made ready in the list, after DISTINCT and ORDER BY saw it as it is
                ready = value_of(exp.column("__v"), types.type(arg), jsonb)
                if not isinstance(ready, exp.Column):
                    lam = exp.Lambda(this=ready, expressions=[exp.to_identifier("__v")])
                    listed = _fn("list_transform", listed, lam)
            if jsonb:
                return _typed(_fn("pg_jsonb_text", _fn("to_json", listed)), "jsonb")
            return _typed(_fn("pg_json_agg_rows" if structured else "pg_json_agg", listed), "json")
        return _typed(node, "jsonb" if name == "pg_jsonb_agg" else "json")
    if name in ("json_build_object", "jsonb_build_object"):
        return _build_object(types, args, name == "jsonb_build_object")
    if name in ("json_build_array", "jsonb_build_array"):
        jsonb = name == "jsonb_build_array"
        items = [text_of(types, a, jsonb) for a in args]
        body = _fn("concat_ws", exp.Literal.string(", "), *items) if items else exp.Literal.string("")
        text = _concat(exp.Literal.string("["), body, exp.Literal.string("]"))
        return _typed(_fn("pg_jsonb_text", text) if jsonb else text, "jsonb" if jsonb else "json")
    if name in _EXTRACT_PATH and len(args) >= 2 and all(_is_text_literal(a) for a in args[1:]):
        jsonb = name.startswith("jsonb")
        source = args[0]
        if _is_text_literal(source):
            cast = _typed_input(source, jsonb)
            source = fix(types, cast) or cast
        return _path(types, source, _pointer_of([a.this for a in args[1:]]), name.endswith("_text"))
    if name in ("json_typeof", "jsonb_typeof") and len(args) == 1:
        return _fn("pg_json_typeof", args[0])
    if name == "pg_typeof" and len(args) == 1 and types.type(args[0]) in ("json", "jsonb"):
        return exp.Literal.string(types.type(args[0]))  # (DuckDB's typeof says JSON for both)
    return _jsonb_call(types, name, args)


_EXTRACT_PATH = (
    "json_extract_path",
    "json_extract_path_text",
    "jsonb_extract_path",
    "jsonb_extract_path_text",
)


def _typed_input(literal: exp.Expression, jsonb: bool) -> exp.Expression:
    """An untyped literal given where json / jsonb is expected: its cast (jsonb's folded by fix)."""
    return exp.Cast(this=literal, to=exp.DataType.build("JSONB" if jsonb else "JSON"))


def _jsonb_or_json(types: Any, source: exp.Expression, got: exp.Expression) -> exp.Expression:
    if types.type(source) == "jsonb":
        return _typed(_fn("pg_jsonb_text", got), "jsonb")
    return _typed(got, "json")


# -- jsonb operators and functions (sql/functions/jsonb.py) ---------------------------------------------
def _jsonb_arg(types: Any, e: exp.Expression) -> exp.Expression:
    """An operand where jsonb is expected: an untyped literal read as jsonb here (22P02 when it is
    not JSON, as PostgreSQL answers), a json value made jsonb."""
    if _is_text_literal(e):
        return _typed(exp.Literal.string(jsonb_text(e.this)), "jsonb")
    if types.type(e) == "json":
        return _typed(_fn("pg_jsonb_in", e), "jsonb")
    return e


def _is_jsonb(types: Any, e: exp.Expression) -> bool:
    return types.type(e) == "jsonb"


def _jsonb_or_literal(types: Any, e: exp.Expression) -> bool:
    return _is_jsonb(types, e) or _is_text_literal(e)


def text_array(e: exp.Expression) -> exp.Expression:
    """A text[] operand as DuckDB's VARCHAR[]: a literal ``'{a,"b c",NULL}'`` spelled as a list
    (DuckDB does not read PostgreSQL's array text)."""
    if not _is_text_literal(e):
        return exp.cast(e, "VARCHAR[]")
    items = array_items(e.this)
    array = exp.Array(expressions=[exp.Null() if i is None else exp.Literal.string(i) for i in items])
    return exp.cast(array, "VARCHAR[]")


def array_items(text: str) -> list[str | None]:
    """The elements of a one-dimensional array's text (quotes, backslashes, NULL)."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise E.InvalidTextRepresentation(f'malformed array literal: "{text}"')
    items: list[str | None] = []
    i, inner = 0, body[1:-1]
    while i < len(inner):
        while i < len(inner) and inner[i].isspace():
            i += 1
        if i >= len(inner):
            break
        if inner[i] == '"':
            out, i = [], i + 1
            while i < len(inner) and inner[i] != '"':
                if inner[i] == "\\":
                    i += 1
                out.append(inner[i : i + 1])
                i += 1
            items.append("".join(out))
            i += 1
        else:
            start = i
            while i < len(inner) and inner[i] != ",":
                i += 1
            word = inner[start:i].strip()
            items.append(None if word.upper() == "NULL" else word.replace("\\", ""))
        while i < len(inner) and inner[i].isspace():
            i += 1
        if i < len(inner) and inner[i] != ",":
            raise E.InvalidTextRepresentation(f'malformed array literal: "{text}"')
        i += 1
    return items


_JSONB_ONLY: dict[type[exp.Expression], str] = {  # operators json has not
    exp.JSONBContainsTopKey: "?",
    exp.JSONBContainsAnyTopKeys: "?|",
    exp.JSONBContainsAllTopKeys: "?&",
    exp.JSONBDeleteAtPath: "#-",
}


def _jsonb_operator(types: Any, node: exp.Expression) -> exp.Expression | None:
    """@>, <@, ?, ?|, ?&, -, #- and || on jsonb (None when ``node`` is none of them)."""
    if isinstance(node, tuple(_JSONB_ONLY)) and types.type(node.this) == "json":
        raise E.UndefinedFunction(f"operator does not exist: json {_JSONB_ONLY[type(node)]} unknown")
    if isinstance(node, exp.ArrayContainsAll | exp.ArrayContainedBy):
        a, b = node.this, node.expression
        if not (_is_jsonb(types, a) or _is_jsonb(types, b)):
            if "json" in (types.type(a), types.type(b)):  # (json has no containment)
                op = "@>" if isinstance(node, exp.ArrayContainsAll) else "<@"
                raise E.UndefinedFunction(f"operator does not exist: json {op} json")
            return None  # (an array's @>)
        if isinstance(node, exp.ArrayContainedBy):
            a, b = b, a
        return _fn("pg_jsonb_contains", _jsonb_arg(types, a), _jsonb_arg(types, b))
    if isinstance(node, exp.JSONBContainsTopKey):
        return _fn("pg_jsonb_exists", _jsonb_arg(types, node.this), exp.cast(node.expression, "VARCHAR"))
    if isinstance(node, exp.JSONBContainsAnyTopKeys | exp.JSONBContainsAllTopKeys):
        which = (
            "pg_jsonb_exists_any" if isinstance(node, exp.JSONBContainsAnyTopKeys) else "pg_jsonb_exists_all"
        )
        return _fn(which, _jsonb_arg(types, node.this), text_array(node.expression))
    if isinstance(node, exp.JSONBDeleteAtPath):
        call = _fn("pg_jsonb_delete_path", _jsonb_arg(types, node.this), text_array(node.expression))
        return _typed(call, "jsonb")
    if isinstance(node, exp.Sub) and _is_jsonb(types, node.this):
        right = node.expression
        kind = types.type(right)
        if kind in ("int2", "int4", "int8"):
            call = _fn("pg_jsonb_delete_index", node.this, exp.cast(right, "BIGINT"))
        elif isinstance(right, exp.Array) or (kind or "").endswith("[]"):
            call = _fn("pg_jsonb_delete_keys", node.this, text_array(right))
        else:
            call = _fn("pg_jsonb_delete", node.this, exp.cast(right, "VARCHAR"))
        return _typed(call, "jsonb")
    if isinstance(node, exp.DPipe) and types.type(node.this) == types.type(node.expression) == "json":
        raise E.UndefinedFunction("operator does not exist: json || json")
    if isinstance(node, exp.DPipe) and (
        (_is_jsonb(types, node.this) and _jsonb_or_literal(types, node.expression))
        or (_is_jsonb(types, node.expression) and _is_text_literal(node.this))
    ):
        call = _fn("pg_jsonb_concat", _jsonb_arg(types, node.this), _jsonb_arg(types, node.expression))
        return _typed(call, "jsonb")
    return None


_PATH_FUNCTIONS = {"jsonb_set": ("pg_jsonb_set", True), "jsonb_insert": ("pg_jsonb_insert", False)}
_VALUE_FUNCTIONS = {
    "jsonb_strip_nulls": ("pg_jsonb_strip_nulls", "jsonb"),
    "jsonb_pretty": ("pg_jsonb_pretty", "text"),
}
# set-returning: name -> (the function giving the list, the element's type)
_SETS = {
    "jsonb_array_elements": ("pg_jsonb_elements", "jsonb"),
    "jsonb_array_elements_text": ("pg_jsonb_elements_text", "text"),
    "json_array_elements": ("pg_json_elements", "json"),
    "json_array_elements_text": ("pg_json_elements_text", "text"),
    "jsonb_object_keys": ("pg_jsonb_object_keys", "text"),
    "json_object_keys": ("pg_json_object_keys", "text"),
}
# set-returning (key, value) pairs: name -> (the function giving the list, the value's type)
_PAIR_SETS = {
    "jsonb_each": ("pg_jsonb_each", "jsonb"),
    "jsonb_each_text": ("pg_jsonb_each_text", "text"),
    "json_each": ("pg_json_each", "json"),
    "json_each_text": ("pg_json_each_text", "text"),
}


def _element(e: exp.Expression, kind: str) -> exp.Expression:
    return _typed(e, kind) if kind in ("json", "jsonb") else exp.cast(e, "TEXT")


def _set_source(types: Any, name: str, arg: exp.Expression) -> exp.Expression:
    """The argument of a set-returning call: jsonb made so, json as written."""
    if name.startswith("jsonb"):
        return _jsonb_arg(types, arg)
    return arg


def _jsonb_call(types: Any, name: str, args: list[exp.Expression]) -> exp.Expression | None:
    if name in _PATH_FUNCTIONS and len(args) in (3, 4):
        which, default = _PATH_FUNCTIONS[name]
        flag = exp.cast(args[3], "BOOLEAN") if len(args) == 4 else exp.Boolean(this=default)
        target, new = _jsonb_arg(types, args[0]), _jsonb_arg(types, args[2])
        return _typed(_fn(which, target, text_array(args[1]), new, flag), "jsonb")
    if name in _VALUE_FUNCTIONS and len(args) == 1:
        which, kind = _VALUE_FUNCTIONS[name]
        return _element(_fn(which, _jsonb_arg(types, args[0])), kind)
    if name in _SETS and len(args) == 1:  # in a select list: one row per element (FROM: set_source)
        which, kind = _SETS[name]
        return _element(_fn("unnest", _fn(which, _set_source(types, name, args[0]))), kind)
    if name in ("json_array_length", "jsonb_array_length") and len(args) == 1:
        source = _set_source(types, name, args[0])
        return _fn("pg_json_array_length", source)
    return None


def _set_call(source: exp.Expression) -> str | None:
    """The JSON set-returning function ``FROM f(x)`` or ``LATERAL f(x)`` calls, else None."""
    call = source.this if isinstance(source, exp.Table | exp.Lateral) else None
    if not isinstance(call, exp.Anonymous) or len(call.expressions) != 1:
        return None
    name = call.name.lower()
    return name if name in _SETS or name in _PAIR_SETS else None


def set_columns(source: exp.Expression) -> list[tuple[str, str]] | None:
    """The (name, type) columns of ``FROM jsonb_each(j) [WITH ORDINALITY] [AS e(k, v)]`` (a
    Table or a Lateral), None for any other source."""
    name = _set_call(source)
    if name is None:
        return None
    if name in _PAIR_SETS:
        columns = [("key", "text"), ("value", _PAIR_SETS[name][1])]
    else:
        columns = [(name if name.endswith("object_keys") else "value", _SETS[name][1])]
    if source.args.get("ordinality"):
        columns.append(("ordinality", "int8"))
    alias = source.args.get("alias")
    names = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) and alias.columns else []
    if not names and isinstance(alias, exp.TableAlias) and alias.this and name.endswith("object_keys"):
        names = [alias.this.name]  # (a function's one unnamed column takes the table's alias)
    return [
        (n, kind) for n, (_, kind) in zip(names + [n for n, _ in columns[len(names) :]], columns, strict=True)
    ]


def set_source(types: Any, source: exp.Expression) -> exp.Expression | None:
    """``FROM jsonb_each(j) [WITH ORDINALITY] [AS e(k, v)]`` (or LATERAL) as a subquery DuckDB runs,
    laterally where ``j`` is a column of a table before it: one row per element or pair.

        FROM t, jsonb_each(t.j) AS e
        -> FROM t, (SELECT CAST(struct_extract(UNNEST(__l), 'key') AS TEXT) AS "key",
                           CAST(struct_extract(UNNEST(__l), 'value') AS JSON) AS "value"
                    FROM (SELECT pg_jsonb_each(t.j) AS __l) AS __set) AS e
    """
    name = _set_call(source)
    columns = set_columns(source)
    if name is None or columns is None:
        return None
    listed = exp.column("__l")
    if name in _PAIR_SETS:
        which, kind = _PAIR_SETS[name]
        parts = [
            exp.cast(_fn("struct_extract", _fn("unnest", listed), exp.Literal.string("key")), "TEXT"),
            _element(_fn("struct_extract", _fn("unnest", listed.copy()), exp.Literal.string("value")), kind),
        ]
    else:
        which, kind = _SETS[name]
        parts = [_element(_fn("unnest", listed), kind)]
    if source.args.get("ordinality"):
        count = exp.Add(this=_fn("len", listed.copy()), expression=exp.Literal.number(1))
        parts.append(exp.cast(_fn("unnest", _fn("range", exp.Literal.number(1), count)), "BIGINT"))
    call = source.this
    inner = exp.select(exp.alias_(_fn(which, _set_source(types, name, call.expressions[0])), "__l"))
    outputs = [exp.alias_(part, n, quoted=True) for part, (n, _) in zip(parts, columns, strict=True)]
    select = exp.select(*outputs).from_(inner.subquery("__set"))
    alias = source.args.get("alias")
    table_name = alias.this.name if isinstance(alias, exp.TableAlias) and alias.this else name
    if len(columns) == 1:
        _scalar_references(types, source, table_name, columns[0][0])
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table_name)))


def _scalar_references(types: Any, source: exp.Expression, table: str, column: str) -> None:
    """``x`` in ``SELECT x FROM jsonb_array_elements_text(j) x`` is the value (a function of one
    column gives it, not a row, in PostgreSQL): the references become ``x.value``, still named x."""
    select = source.find_ancestor(exp.Select)
    if select is None or any(table in cols for name, cols in types.scope(select) if name != table):
        return
    for col in list(select.find_all(exp.Column)):
        if col.table or col.name != table or col.find_ancestor(exp.Select) is not select:
            continue
        ref = exp.column(column, table=table, quoted=True)
        if col.parent is select and col.arg_key == "expressions":
            col.replace(exp.alias_(ref, table, quoted=True))
        else:
            col.replace(ref)


def param_type(p: exp.Expression) -> str | None:
    """The type PostgreSQL infers for a ``$n`` given to a jsonb operator or function (jsonb, text[]
    or text), None where this module does not know it."""
    parent = p.parent
    if isinstance(parent, exp.JSONBContainsAnyTopKeys | exp.JSONBContainsAllTopKeys | exp.JSONBDeleteAtPath):
        return "text[]" if p.arg_key == "expression" else "jsonb"
    if isinstance(parent, exp.JSONBContainsTopKey):
        return "text" if p.arg_key == "expression" else "jsonb"
    if isinstance(parent, exp.ArrayContainsAll | exp.ArrayContainedBy):
        other = parent.expression if p.arg_key == "this" else parent.this
        jsonb = isinstance(other, exp.Cast) and other.to.this == _DTYPE.JSONB
        return "jsonb" if jsonb else None
    if (
        isinstance(parent, exp.Anonymous)
        and parent.name.lower() in _PATH_FUNCTIONS
        and p.arg_key == "expressions"
    ):
        return {0: "jsonb", 1: "text[]", 2: "jsonb", 3: "bool"}.get(p.index or 0)
    return None
