"""sql/arrays.py: the array text a write stores reads back as the same array, for any elements (texts,
numbers, booleans, dates and timestamps); any text either reads or raises PostgreSQL's error (never
anything else)."""

from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sql import arrays
from sql import errors as E

_TEXTS = st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=8)
_ELEMENTS = {
    "text": st.one_of(st.none(), st.text(max_size=12)),
    "int4": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    "int8": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "float8": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    "bool": st.one_of(st.none(), st.booleans()),
    "date": st.one_of(st.none(), st.dates()),
    "timestamp": st.one_of(st.none(), st.datetimes()),
    "timestamptz": st.one_of(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


@pytest.mark.parametrize("element", sorted(_ELEMENTS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_stored_text_reads_back_as_the_array(element, data):
    rows = data.draw(st.lists(st.one_of(st.none(), st.lists(_ELEMENTS[element], max_size=6)), max_size=5))
    typ = pa.list_(arrays.ELEMENTS[element])
    stored = arrays.to_storage(pa.array(rows, typ), element, element + "[]")
    texts = pa.array([None if r is None else s for r, s in zip(rows, stored, strict=True)], pa.string())
    back = arrays.parse_column(texts, element).to_pylist()
    assert len(back) == len(rows)
    for got, want in zip(back, rows, strict=True):
        assert (got is None) == (want is None)
        if want is not None:
            assert len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want, strict=True)), (
                got,
                want,
            )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}",\\ aN\tUL1x', max_size=16))
def test_any_text_reads_or_raises_postgres_error(text):
    try:
        out = arrays.parse_column(pa.array([text]), "text").to_pylist()
    except (E.InvalidTextRepresentation, E.FeatureNotSupported):
        return
    assert isinstance(out[0], list)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{a,"b c",NULL,"NULL",""}', ["a", "b c", None, "NULL", ""]),
        (" { x , y z } ", ["x", "y z"]),
        (r'{"a\"b",c\,d}', ['a"b', "c,d"]),
        ("{}", []),
    ],
)
def test_postgres_array_texts(text, want):
    assert arrays.parse_text(text, "text") == want


@pytest.mark.parametrize("text", ["{a", "a}", "{a,,b}", "{a,}", '{"a"b}', "{a}x", "", '{"a}'])
def test_malformed_texts_are_22P02(text):
    with pytest.raises(E.InvalidTextRepresentation, match="malformed array literal"):
        arrays.parse_text(text, "text")


def test_nested_arrays_are_0A000():
    with pytest.raises(E.FeatureNotSupported, match="multidimensional"):
        arrays.parse_text("{{1,2},{3,4}}", "int4")
