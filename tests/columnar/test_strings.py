"""columnar.strings.take_strings: the same columns as Arrow's take, on both of its paths."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from columnar import strings
from columnar.strings import take_strings

values = st.one_of(st.none(), st.text(max_size=12))


@st.composite
def tables(draw, max_rows=60):
    width = draw(st.integers(1, 6))
    ncols = draw(st.integers(1, 4))
    columns = [draw(st.lists(values, min_size=width, max_size=width)) for _ in range(ncols)]
    idx = draw(st.lists(st.integers(0, width - 1), max_size=max_rows))
    return columns, np.array(idx, dtype=np.int64)


def expected(columns, idx):
    return [pa.array(c, type=pa.string()).take(pa.array(idx, type=pa.int64())) for c in columns]


@settings(max_examples=300, deadline=None)
@given(tables())
def test_kernel_path_equals_arrow_take(case):
    columns, idx = case
    got = take_strings(columns, idx)
    assert len(got) == len(columns)
    for g, e in zip(got, expected(columns, idx), strict=True):
        g.validate(full=True)
        assert g.type == pa.string()
        assert g.to_pylist() == e.to_pylist()
        assert g.null_count == e.null_count


@pytest.mark.parametrize("rows", [strings.KERNEL_STRINGS // 2, strings.KERNEL_STRINGS // 2 + 1])
def test_both_sides_of_the_kernel_limit(rows):
    columns = [["a", None, "ünï", ""], ["x", "yy", "zzz", None]]  # two columns: rows x 2 strings
    idx = np.arange(rows, dtype=np.int64) % 4
    for g, e in zip(take_strings(columns, idx), expected(columns, idx), strict=True):
        g.validate(full=True)
        assert g.type == pa.string()
        assert g.to_pylist() == e.to_pylist()


def test_no_columns_and_no_rows():
    assert take_strings([], np.zeros(0, np.int64)) == []
    (col,) = take_strings([["a", None]], np.zeros(0, np.int64))
    assert col.type == pa.string() and len(col) == 0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(64, 600)), min_size=1, max_size=30),
    st.data(),
)
def test_long_runs_equal_arrow_take(width, runs, data):
    """Rows in long runs of one value (a scan's rows grouped by series), above the kernel's size:
    built run by run, the same columns as Arrow's take."""
    columns = [data.draw(st.lists(values, min_size=width, max_size=width)) for _ in range(3)]
    idx = np.concatenate([np.full(n, v % width, np.int64) for v, n in runs])
    if len(idx) * len(columns) <= strings.KERNEL_STRINGS:
        idx = np.concatenate([idx] * (strings.KERNEL_STRINGS // (len(idx) * len(columns)) + 1))
    for g, e in zip(take_strings(columns, idx), expected(columns, idx), strict=True):
        g.validate(full=True)
        assert g.type == pa.string()
        assert g.to_pylist() == e.to_pylist()
        assert g.null_count == e.null_count
