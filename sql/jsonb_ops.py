"""PostgreSQL 15's jsonb operators and functions on parsed values (sql/jsonb.py's ``parse``: objects
as dicts in jsonb's key order, numbers as Decimal), and json's element functions on the text as
written. sql/functions/jsonb.py runs them over DuckDB columns; the errors carry PostgreSQL's SQLSTATE.

The semantics follow PostgreSQL's jsonb_util.c / jsonfuncs.c (read as documentation, not copied):

- containment (``@>``): an object contains an object whose every key is in it with a contained
  value; an array contains an array whose every element is contained in some element of it (order
  and duplicates do not matter); scalars are equal (numbers by value); a top-level array contains a
  scalar that is one of its elements, and nothing else crosses types.
- a path (``#-``, jsonb_set, jsonb_insert) walks object keys and array indexes (a text that must be
  an integer, negative from the end); a missing step leaves the value as it is.

    >>> dump(concat(parse('{"b": 1}'), parse('{"a": 2}')))
    '{"a": 2, "b": 1}'
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from sql.errors import InvalidParameterValue, InvalidTextRepresentation, NullValueNotAllowed
from sql.jsonb import dump, key_order

__all__ = ["dump"]


def _sorted(obj: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(obj.items(), key=lambda kv: key_order(kv[0])))


def _scalar(v: Any) -> bool:
    return not isinstance(v, dict | list)


def _same_scalar(a: Any, b: Any) -> bool:
    # (True == Decimal(1) in Python: the types must match first)
    return type(a) is type(b) and a == b


# -- containment -------------------------------------------------------------------------------------------
def contains(a: Any, b: Any) -> bool:
    """``a @> b``."""
    if _scalar(a) and _scalar(b):
        return _same_scalar(a, b)
    if isinstance(a, list) and _scalar(b):  # a top-level scalar is a one-element array
        return any(_scalar(x) and _same_scalar(x, b) for x in a)
    return _contains(a, b)


def _contains(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        for k, v in b.items():
            if k not in a:
                return False
            x = a[k]
            if _scalar(x) or _scalar(v):
                if not (_scalar(x) and _scalar(v) and _same_scalar(x, v)):
                    return False
            elif not _contains(x, v):
                return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        for v in b:
            if _scalar(v):
                if not any(_scalar(x) and _same_scalar(x, v) for x in a):
                    return False
            elif not any(not _scalar(x) and _contains(x, v) for x in a):
                return False
        return True
    return False


# -- concatenation and deletion ---------------------------------------------------------------------------
def concat(a: Any, b: Any) -> Any:
    """``a || b``: objects merge (the right's value wins), anything else joins as arrays (a scalar
    or an object as one element: ``[] || {}`` is ``[{}]``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return _sorted({**a, **b})
    left = a if isinstance(a, list) else [a]
    right = b if isinstance(b, list) else [b]
    return left + right


def delete_key(v: Any, key: str) -> Any:
    """``v - 'key'``: the key from an object, the matching strings from an array."""
    return delete_keys(v, [key])


def delete_keys(v: Any, keys: list[str | None]) -> Any:
    """``v - '{a,b}'::text[]`` (NULL elements ignored)."""
    if _scalar(v):
        raise InvalidParameterValue("cannot delete from scalar")
    drop = {k for k in keys if k is not None}
    if isinstance(v, dict):
        return {k: x for k, x in v.items() if k not in drop}
    return [x for x in v if not (isinstance(x, str) and x in drop)]


def delete_index(v: Any, index: int) -> Any:
    """``v - 1``: an array's element (negative from the end); out of range changes nothing."""
    if _scalar(v):
        raise InvalidParameterValue("cannot delete from scalar")
    if isinstance(v, dict):
        raise InvalidParameterValue("cannot delete from object using integer index")
    i = index + len(v) if index < 0 else index
    return v if not 0 <= i < len(v) else v[:i] + v[i + 1 :]


# -- paths ------------------------------------------------------------------------------------------------
_DELETE, _REPLACE, _CREATE, _BEFORE, _AFTER = "delete", "replace", "create", "before", "after"
_INT = re.compile(r"\s*[+-]?\d+")


def _index(step: str, level: int) -> int:
    """An array step as PostgreSQL reads it (strtol: leading blanks and a sign; nothing after)."""
    if not _INT.fullmatch(step) or not -(2**31) <= int(step) < 2**31:
        raise InvalidTextRepresentation(f'path element at position {level + 1} is not an integer: "{step}"')
    return int(step)


def _set_path(v: Any, path: list[str | None], level: int, new: Any, op: str) -> Any:
    step = path[level]
    if step is None:
        raise NullValueNotAllowed(f"path element at position {level + 1} is null")
    last = level == len(path) - 1
    if isinstance(v, dict):
        if step in v:
            if not last:
                return {**v, step: _set_path(v[step], path, level + 1, new, op)}
            if op in (_BEFORE, _AFTER):
                raise InvalidParameterValue("cannot replace existing key")
            if op == _DELETE:
                return {k: x for k, x in v.items() if k != step}
            return {**v, step: new}
        if last and op in (_CREATE, _BEFORE, _AFTER):
            return _sorted({**v, step: new})
        return v
    if isinstance(v, list):
        n = len(v)
        written = _index(step, level)
        idx: int | None = written + n if written < 0 else written
        if idx is not None and idx < 0:
            idx = None  # (before the first element)
        creates = op in (_CREATE, _BEFORE, _AFTER)
        if (idx is None or n == 0) and last and creates:
            return [new, *v]
        if idx is None or idx >= n:
            return [*v, new] if last and creates else v
        if not last:
            return [*v[:idx], _set_path(v[idx], path, level + 1, new, op), *v[idx + 1 :]]
        middle = {_DELETE: [], _REPLACE: [new], _CREATE: [new], _BEFORE: [new, v[idx]], _AFTER: [v[idx], new]}
        return [*v[:idx], *middle[op], *v[idx + 1 :]]
    return v  # a scalar on the way: nothing to walk into


def delete_path(v: Any, path: list[str | None]) -> Any:
    """``v #- '{a,0}'``."""
    if _scalar(v):
        raise InvalidParameterValue("cannot delete path in scalar")
    if not v or not path:
        return v
    return _set_path(v, path, 0, None, _DELETE)


def set_path(v: Any, path: list[str | None], new: Any, create_missing: bool = True) -> Any:
    """jsonb_set: the value at ``path`` replaced; a missing last key or index (past either end of
    an array) added when ``create_missing``."""
    if _scalar(v):
        raise InvalidParameterValue("cannot set path in scalar")
    if (not v and not create_missing) or not path:
        return v
    return _set_path(v, path, 0, new, _CREATE if create_missing else _REPLACE)


def insert_path(v: Any, path: list[str | None], new: Any, after: bool = False) -> Any:
    """jsonb_insert: ``new`` before (or after) the array element at ``path``, or under a new key."""
    if _scalar(v):
        raise InvalidParameterValue("cannot set path in scalar")
    if not path:
        return v
    return _set_path(v, path, 0, new, _AFTER if after else _BEFORE)


# -- the rest ---------------------------------------------------------------------------------------------
def strip_nulls(v: Any) -> Any:
    """jsonb_strip_nulls: object fields whose value is null, at every depth (array elements stay)."""
    if isinstance(v, dict):
        return {k: strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [strip_nulls(x) for x in v]
    return v


def pretty(v: Any, depth: int = 0) -> str:
    """jsonb_pretty: four spaces a level, every element and key on a line of its own."""
    pad = "    " * (depth + 1)
    if isinstance(v, dict):
        items = [f"{pad}{dump(k)}: {pretty(x, depth + 1)}" for k, x in v.items()]
    elif isinstance(v, list):
        items = [pad + pretty(x, depth + 1) for x in v]
    else:
        return dump(v)
    opening, closing = ("{", "}") if isinstance(v, dict) else ("[", "]")
    body = ",\n".join(items)
    return (
        f"{opening}\n{body}\n{'    ' * depth}{closing}" if items else f"{opening}\n{'    ' * depth}{closing}"
    )


def text_of(v: Any) -> str | None:
    """A value as ``->>`` and the _text functions give it: a string unquoted, null as NULL."""
    if v is None:
        return None
    return v if isinstance(v, str) else dump(v)


def _kind(v: Any) -> str:
    return "object" if isinstance(v, dict) else "array" if isinstance(v, list) else "scalar"


def elements(v: Any) -> list[Any]:
    """jsonb_array_elements[_text]'s values."""
    if not isinstance(v, list):
        raise InvalidParameterValue(
            f"cannot extract elements from {'an' if _kind(v) == 'object' else 'a'} {_kind(v)}"
        )
    return v


def pairs(v: Any, name: str) -> list[tuple[str, Any]]:
    """jsonb_each[_text]'s and jsonb_object_keys' (key, value) pairs."""
    if not isinstance(v, dict):
        raise InvalidParameterValue(
            f"cannot call {name} on {'an array' if isinstance(v, list) else 'a scalar'}"
        )
    return list(v.items())


# -- json: the text as written ----------------------------------------------------------------------------
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal)
_BLANK = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    m = _BLANK.match(text, i)
    return m.end() if m else i


def json_items(text: str, name: str, want: str) -> list[tuple[str | None, str]]:
    """The top-level (key, value text) of a json text, values as written (json keeps its text):
    json_array_elements (``want`` "array": keys None) and json_each / json_object_keys ("object":
    duplicate keys and their order kept)."""
    try:
        i = _skip(text, 0)
        opening = text[i : i + 1]
        kind = {"[": "array", "{": "object"}.get(opening, "scalar")
        if kind != want:
            _DECODER.decode(text)  # (text that is no JSON fails as such first)
            if want == "object":
                what = "an array" if kind == "array" else "a scalar"
            else:
                what = "a non-array" if kind == "object" else "a scalar"
            raise InvalidParameterValue(f"cannot call {name} on {what}")
        out: list[tuple[str | None, str]] = []
        i = _skip(text, i + 1)
        closing = "]" if kind == "array" else "}"
        if text[i : i + 1] == closing:
            return out
        while True:
            key = None
            if kind == "object":
                key, i = _DECODER.raw_decode(text, i)
                if not isinstance(key, str):
                    raise ValueError
                i = _skip(text, i)
                if text[i : i + 1] != ":":
                    raise ValueError
                i = _skip(text, i + 1)
            _, end = _DECODER.raw_decode(text, i)
            out.append((key, text[i:end]))
            i = _skip(text, end)
            if text[i : i + 1] == ",":
                i = _skip(text, i + 1)
                continue
            if text[i : i + 1] == closing and not text[_skip(text, i + 1) :]:
                return out
            raise ValueError
    except (ValueError, IndexError):
        raise InvalidTextRepresentation("invalid input syntax for type json") from None
