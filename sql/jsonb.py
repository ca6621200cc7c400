"""jsonb's text, as PostgreSQL 15 writes a jsonb value: keys ordered by length then bytes, a duplicate
key keeping its last value, a space after each ``:`` and ``,``, numbers as numeric writes them.

Used where a whole document is at hand in Python: a constant in a query (sql/rewrite/pg_json.py) and
values written to a jsonb column (sql/tables.py), so that reading them back costs nothing.

    >>> jsonb_text('{"bb": 1,"a":[1.0e1, -0, "x"], "bb": 2}')
    '{"a": [10, 0, "x"], "bb": 2}'
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sql.errors import InvalidTextRepresentation


def key_order(key: str) -> tuple[int, bytes]:
    b = key.encode("utf-8")
    return (len(b), b)


def _object(items: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(items)  # (the last duplicate wins)
    return obj if len(obj) < 2 else dict(sorted(obj.items(), key=lambda kv: key_order(kv[0])))


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are numbers to Python's reader, not to JSON's


# one reader for every call (json.loads with options builds a new one each time)
_READER = json.JSONDecoder(
    object_pairs_hook=_object, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant
)
_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]  # (json.dumps's own, in C)


def parse(text: str, kind: str = "json") -> Any:
    """The document, objects as key-ordered dicts and numbers as Decimal; 22P02 when it is not JSON."""
    try:
        return _READER.decode(text)
    except ValueError:
        raise InvalidTextRepresentation(f"invalid input syntax for type {kind}") from None


def jsonb_text(text: str) -> str:
    return dump(parse(text, "json"))


def dump(v: Any) -> str:
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, Decimal):
        return format(v.copy_abs() if v.is_zero() else v, "f")  # (numeric has no -0)
    if isinstance(v, dict):
        return "{" + ", ".join(_quote(k) + ": " + dump(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join([dump(x) for x in v]) + "]"
    return json.dumps(v)  # true, false, null
