"""PostgreSQL's jsonb operators and functions for DuckDB: macros where DuckDB's JSON functions give
PostgreSQL's answer, Python functions over Arrow batches where they cannot.

sql/rewrite/pg_json.py turns the PostgreSQL calls and operators into these. jsonb values are
DuckDB JSON holding jsonb's text (sql/jsonb.py), which every function here returns as well.

Macros (vectorised by DuckDB): ``?``, ``?|``, ``?&`` (pg_jsonb_exists / _any / _all over the top-level
keys or strings), jsonb_object_keys, json(b)_array_length, with PostgreSQL's errors.

Python (one call per Arrow batch, a loop over its values): DuckDB has no function that can give these
answers. Its JSON functions write every number again as a double (2.50 -> 2.5, 0.0000001 -> 1e-7,
1e20 -> 100000000000000000000.0) where jsonb keeps numeric's text; they keep keys in insertion order
where jsonb orders them by length, then bytes, at every depth (a recursion no macro can do);
json_contains matches a value at any depth where ``@>`` matches level by level; json_set creates the
missing steps of a path and cannot append to an array; and json_each re-writes the values of a json
text that PostgreSQL hands back as they were written. sql/jsonb_ops.py holds those semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
from duckdb.func import ARROW

from sql import jsonb_ops as ops
from sql.functions.udf import strict_column
from sql.jsonb import dump, jsonb_text
from sql.jsonb import parse as _parse_text

# the same text (a constant operand, a repeated value) is read once: the functions of sql/jsonb_ops.py
# build new values and never change the ones they are given
parse = lru_cache(maxsize=64)(_parse_text)

MACROS: dict[str, str] = {
    # the top-level strings ``?`` looks among: an object's keys, an array's string elements, a string
    "pg_jsonb_strings": """
        (j) AS CASE json_type(j)
            WHEN 'OBJECT' THEN json_keys(j)
            WHEN 'ARRAY' THEN list_transform(
                list_filter(CAST(json_extract(j, '$[*]') AS JSON[]), lambda e: json_type(e) = 'VARCHAR'),
                lambda e: json_extract_string(e, '$'))
            WHEN 'VARCHAR' THEN [json_extract_string(j, '$')]
            ELSE CASE WHEN j IS NOT NULL THEN CAST([] AS VARCHAR[]) END
        END
    """,
    "pg_jsonb_exists": "(j, k) AS list_contains(pg_jsonb_strings(j), k)",
    "pg_jsonb_exists_any": """
        (j, ks) AS len(list_intersect(pg_jsonb_strings(j), list_filter(ks, lambda k: k IS NOT NULL))) > 0
    """,
    "pg_jsonb_exists_all": """
        (j, ks) AS len(list_filter(ks, lambda k: k IS NOT NULL AND NOT list_contains(pg_jsonb_strings(j), k))) = 0
    """,
    # (jsonb keys are stored in jsonb's order: json_keys gives them so)
    "pg_jsonb_object_keys": """
        (j) AS CASE json_type(j)
            WHEN 'OBJECT' THEN json_keys(j)
            WHEN 'ARRAY' THEN error('pgsql 22023: cannot call jsonb_object_keys on an array')
            ELSE CASE WHEN j IS NOT NULL THEN error('pgsql 22023: cannot call jsonb_object_keys on a scalar') END
        END
    """,
    "pg_json_array_length": """
        (j) AS CASE json_type(j)
            WHEN 'ARRAY' THEN CAST(json_array_length(j) AS INTEGER)
            WHEN 'OBJECT' THEN error('pgsql 22023: cannot get array length of a non-array')
            ELSE CASE WHEN j IS NOT NULL THEN error('pgsql 22023: cannot get array length of a scalar') END
        END
    """,
}


def _jsonb(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A value function over parsed jsonb: its first argument parsed, its result written as jsonb."""
    return lambda text, *rest: dump(fn(parse(text), *rest))


def _contains(a: str, b: str) -> bool:
    return ops.contains(parse(a), parse(b))


def _each(as_text: bool, name: str) -> Callable[[str], list[dict[str, str | None]]]:
    def each(text: str) -> list[dict[str, str | None]]:
        pairs = ops.pairs(parse(text), name)
        return [{"key": k, "value": ops.text_of(v) if as_text else dump(v)} for k, v in pairs]

    return each


def _json_each(as_text: bool, name: str) -> Callable[[str], list[dict[str, str | None]]]:
    def each(text: str) -> list[dict[str, str | None]]:
        items = ops.json_items(text, name, "object")
        return [{"key": k, "value": _json_text(v) if as_text else v} for k, v in items]

    return each


def _json_text(v: str) -> str | None:
    """A json value written as text: a string unquoted, null as NULL."""
    return ops.text_of(parse(v, "json")) if v[:1] == '"' or v == "null" else v


_TEXT = pa.string()
_TEXTS = pa.list_(pa.string())
_PAIRS = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
_PAIRS_SQL = "STRUCT(key VARCHAR, value VARCHAR)[]"

# name -> (function over one row's values, argument types, result type in SQL and in Arrow)
FUNCTIONS: dict[str, tuple[Callable[..., Any], list[str], str, pa.DataType]] = {
    # a text cast to jsonb: keys in jsonb's order at every depth, the last duplicate kept
    "pg_jsonb_in": (jsonb_text, ["VARCHAR"], "VARCHAR", _TEXT),
    "pg_jsonb_contains": (_contains, ["VARCHAR", "VARCHAR"], "BOOLEAN", pa.bool_()),
    "pg_jsonb_concat": (
        lambda a, b: dump(ops.concat(parse(a), parse(b))),
        ["VARCHAR", "VARCHAR"],
        "VARCHAR",
        _TEXT,
    ),
    "pg_jsonb_delete": (_jsonb(ops.delete_key), ["VARCHAR", "VARCHAR"], "VARCHAR", _TEXT),
    "pg_jsonb_delete_index": (_jsonb(ops.delete_index), ["VARCHAR", "BIGINT"], "VARCHAR", _TEXT),
    "pg_jsonb_delete_keys": (_jsonb(ops.delete_keys), ["VARCHAR", "VARCHAR[]"], "VARCHAR", _TEXT),
    "pg_jsonb_delete_path": (_jsonb(ops.delete_path), ["VARCHAR", "VARCHAR[]"], "VARCHAR", _TEXT),
    "pg_jsonb_set": (
        lambda t, path, new, create: dump(ops.set_path(parse(t), path, parse(new), create)),
        ["VARCHAR", "VARCHAR[]", "VARCHAR", "BOOLEAN"],
        "VARCHAR",
        _TEXT,
    ),
    "pg_jsonb_insert": (
        lambda t, path, new, after: dump(ops.insert_path(parse(t), path, parse(new), after)),
        ["VARCHAR", "VARCHAR[]", "VARCHAR", "BOOLEAN"],
        "VARCHAR",
        _TEXT,
    ),
    "pg_jsonb_strip_nulls": (_jsonb(ops.strip_nulls), ["VARCHAR"], "VARCHAR", _TEXT),
    "pg_jsonb_pretty": (lambda t: ops.pretty(parse(t)), ["VARCHAR"], "VARCHAR", _TEXT),
    "pg_jsonb_elements": (
        lambda t: [dump(v) for v in ops.elements(parse(t))],
        ["VARCHAR"],
        "VARCHAR[]",
        _TEXTS,
    ),
    "pg_jsonb_elements_text": (
        lambda t: [ops.text_of(v) for v in ops.elements(parse(t))],
        ["VARCHAR"],
        "VARCHAR[]",
        _TEXTS,
    ),
    "pg_jsonb_each": (_each(False, "jsonb_each"), ["VARCHAR"], _PAIRS_SQL, _PAIRS),
    "pg_jsonb_each_text": (_each(True, "jsonb_each_text"), ["VARCHAR"], _PAIRS_SQL, _PAIRS),
    "pg_json_elements": (
        lambda t: [v for _, v in ops.json_items(t, "json_array_elements", "array")],
        ["VARCHAR"],
        "VARCHAR[]",
        _TEXTS,
    ),
    "pg_json_elements_text": (
        lambda t: [_json_text(v) for _, v in ops.json_items(t, "json_array_elements_text", "array")],
        ["VARCHAR"],
        "VARCHAR[]",
        _TEXTS,
    ),
    "pg_json_each": (_json_each(False, "json_each"), ["VARCHAR"], _PAIRS_SQL, _PAIRS),
    "pg_json_each_text": (_json_each(True, "json_each_text"), ["VARCHAR"], _PAIRS_SQL, _PAIRS),
    "pg_json_object_keys": (
        lambda t: [k for k, _ in ops.json_items(t, "json_object_keys", "object")],
        ["VARCHAR"],
        "VARCHAR[]",
        _TEXTS,
    ),
}


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros and functions in the connection's database (every cursor sees them)."""
    for name, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE MACRO {name} {body.strip()}")
    for name, (fn, params, result_sql, result_arrow) in FUNCTIONS.items():
        con.create_function(
            name,
            strict_column(fn, len(params), result_arrow),
            [duckdb.sqltype(p) for p in params],
            duckdb.sqltype(result_sql),
            type=ARROW,
            side_effects=False,
        )
