"""avg of integers is numeric: the native executor converts its doubles as the DuckDB path does."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sql.executor import numeric_digits
from sql.rewrite.pg_types import NUMERIC_FROM_DOUBLE

_CON = duckdb.connect()


def _duckdb(values: list[float]) -> list:
    tbl = pa.table({"v": pa.array(values, pa.float64())})  # noqa: F841 - read by DuckDB by name
    sql = f"SELECT {NUMERIC_FROM_DOUBLE.format('v')} AS d FROM tbl"
    return [row[0] for row in _CON.cursor().sql(sql).fetchall()]


def _same_as_duckdb(values: list[float]) -> None:
    got = numeric_digits(pa.array(values, pa.float64())).to_pylist()
    assert got == _duckdb(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-1e21, max_value=1e21, allow_nan=False), min_size=1, max_size=20))
def test_doubles_get_duckdbs_digits(values):
    try:
        got = numeric_digits(pa.array(values, pa.float64())).to_pylist()
    except pa.ArrowInvalid:  # (tiny exponents: the executor asks DuckDB then)
        assert any(v != 0 and abs(v) < 1e-23 for v in values)
        return
    assert got == _duckdb(values)


def test_averages_and_ties_round_as_duckdb():
    # averages of integers (thirds, sevenths), values at 16 decimals and ties past them
    ints = np.arange(1, 400)
    _same_as_duckdb([float(x) for x in (ints / 3)] + [float(x) for x in (ints / 7)])
    _same_as_duckdb([5e-17, 1.5e-16, 2.5e-16, -2.5e-16, 2.5e-17, 0.1234567890123456789, -0.0, 1e20])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e23, 1e-300])
def test_what_arrow_cannot_take_raises(bad):
    with pytest.raises(pa.ArrowInvalid):
        numeric_digits(pa.array([1.5, bad], pa.float64()))
