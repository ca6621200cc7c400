"""sql/jsonb_ops.py without a PostgreSQL to compare with: the cases whose answers are easy to get
wrong (tests/sql/differential/corpus/json.sql compares the same functions with PostgreSQL 15)."""

from __future__ import annotations

import pytest

from sql import errors as E
from sql import jsonb_ops as ops
from sql.jsonb import dump, parse


def j(text: str) -> object:
    return parse(text)


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ('{"a":{"b":1}}', '{"a":{}}', True),
        ('{"a":{"b":1}}', '{"b":1}', False),  # level by level, not anywhere
        ("[1,[2]]", "[2]", False),
        ("[1,[2]]", "[[2]]", True),
        ('["a"]', '"a"', True),  # a scalar in a top-level array
        ('"a"', '["a"]', False),
        ("[1.0]", "[1]", True),  # numbers by value
        ("[true]", "[1]", False),  # True == 1 in Python, not in jsonb
        ('[{"a":1},{"b":2}]', '[{"a":1,"b":2}]', False),
        ("{}", "[]", False),
    ],
)
def test_contains(left: str, right: str, expected: bool) -> None:
    assert ops.contains(j(left), j(right)) is expected


def test_concat_orders_keys_and_wraps_scalars() -> None:
    assert dump(ops.concat(j('{"bb":1}'), j('{"a":2,"bb":3}'))) == '{"a": 2, "bb": 3}'
    assert dump(ops.concat(j("[]"), j("{}"))) == "[{}]"
    assert dump(ops.concat(j("1"), j('"x"'))) == '[1, "x"]'


def test_paths() -> None:
    doc = j('{"a":[1,2]}')
    assert dump(ops.set_path(doc, ["a", "-1"], j("9"))) == '{"a": [1, 9]}'
    assert dump(ops.set_path(doc, ["a", "9"], j("9"))) == '{"a": [1, 2, 9]}'
    assert dump(ops.set_path(doc, ["a", "-9"], j("0"))) == '{"a": [0, 1, 2]}'
    assert dump(ops.set_path(doc, ["a", "9"], j("9"), create_missing=False)) == '{"a": [1, 2]}'
    assert dump(ops.set_path(doc, ["x", "y"], j("1"))) == '{"a": [1, 2]}'
    assert dump(ops.insert_path(doc, ["a", "0"], j("0"), after=True)) == '{"a": [1, 0, 2]}'
    assert dump(ops.delete_path(doc, ["a", "0"])) == '{"a": [2]}'
    assert dump(doc) == '{"a": [1, 2]}'  # (the value given is not changed)


@pytest.mark.parametrize(
    ("call", "sqlstate"),
    [
        (lambda: ops.set_path(j("1"), ["a"], j("1")), "22023"),
        (lambda: ops.set_path(j("[1]"), ["x"], j("1")), "22P02"),
        (lambda: ops.set_path(j("[1]"), [" 0 "], j("1")), "22P02"),  # (strtol: no trailing blanks)
        (lambda: ops.set_path(j('{"a":1}'), ["a", None], j("1")), "22004"),
        (lambda: ops.insert_path(j('{"a":1}'), ["a"], j("1")), "22023"),
        (lambda: ops.delete_index(j('{"a":1}'), 0), "22023"),
        (lambda: ops.json_items("[1]", "json_each", "object"), "22023"),
        (lambda: ops.json_items("[1,", "json_array_elements", "array"), "22P02"),
    ],
)
def test_errors(call, sqlstate: str) -> None:
    with pytest.raises(E.SqlError) as err:
        call()
    assert err.value.sqlstate == sqlstate


def test_json_items_keep_text() -> None:
    assert ops.json_items('{"b": [1,  2], "a" : "x", "b": null}', "json_each", "object") == [
        ("b", "[1,  2]"),
        ("a", '"x"'),
        ("b", "null"),
    ]


def test_pretty() -> None:
    assert ops.pretty(j('{"a":[],"b":[1]}')) == '{\n    "a": [\n    ],\n    "b": [\n        1\n    ]\n}'


def test_parse_refuses_what_json_has_not() -> None:
    for text in ("NaN", "[Infinity]", "01"):
        with pytest.raises(E.InvalidTextRepresentation):
            parse(text)
