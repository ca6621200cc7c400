"""Column helpers of the InfluxQL executor: SQL's times as nanoseconds, window filling."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sql.influxql.columns import time_ns
from sql.influxql.functions import Col, fill_at, fill_series


@pytest.mark.parametrize(
    "arr",
    [
        pa.chunked_array([pa.array([0, 60_000_000, -5], pa.timestamp("us", tz="UTC"))]),
        pa.chunked_array([pa.array([7, 8, 9, 10], pa.timestamp("us", tz="UTC"))[1:]]),  # a slice
        pa.chunked_array([pa.array([1, None, 3], pa.timestamp("us", tz="UTC"))]),  # a null: 0
        pa.chunked_array([pa.array([1], pa.timestamp("us")), pa.array([2], pa.timestamp("us"))]),
        pa.chunked_array([pa.array([1000, 2000], pa.timestamp("ns", tz="UTC"))]),
        pa.chunked_array([pa.array([5, 6], pa.int64())]),
        pa.chunked_array([], pa.timestamp("us", tz="UTC")),  # no chunks
        pa.array([3, 4], pa.timestamp("us", tz="UTC")),  # not chunked
    ],
)
def test_time_ns(arr: pa.ChunkedArray | pa.Array) -> None:
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_timestamp(a.type):
        per_unit = {"us": 1000, "ns": 1}[a.type.unit]
        want = [0 if v is None else v * per_unit for v in a.cast(pa.int64()).to_pylist()]
    else:
        want = a.to_pylist()
    got = time_ns(arr)
    assert got.dtype == np.int64 and got.tolist() == want


@pytest.mark.parametrize(
    "arr",
    [
        pa.chunked_array([pa.array([1.5, -2.0])]),
        pa.chunked_array([pa.array([1, 2]), pa.array([3])]),  # two chunks
        pa.chunked_array([], pa.int64()),  # none
        pa.chunked_array([pa.array([1, 2, 3, 4])[1:]]),  # a slice
        pa.chunked_array([pa.array([1.0, None])]),
        pa.array([7, 8], pa.int64()),
    ],
)
@pytest.mark.parametrize("kind", [None, "float", "integer", "unsigned"])
def test_arrow_col_plain_columns(arr: pa.ChunkedArray | pa.Array, kind: str | None) -> None:
    """int64 and float64 columns (SQL's usual results) as their values, validity and kind."""
    from sql.influxql.columns import arrow_col

    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    col = arrow_col(arr, kind)
    present = [v for v in a.to_pylist() if v is not None]
    if a.type == pa.int64():
        want_kind = "integer"
    elif kind == "unsigned":  # a float column read as unsigned: its values converted
        want_kind, present = "unsigned", np.array(present, np.float64).astype(np.uint64).tolist()
    else:
        want_kind = "float"
    assert col.kind == want_kind and len(col) == len(a)
    assert col.valid.tolist() == [v is not None for v in a.to_pylist()]
    assert col.values[col.valid].tolist() == present


@pytest.mark.parametrize("mode", ["null", "none", "number", "previous", "linear"])
@pytest.mark.parametrize("kind", ["float", "integer"])
@pytest.mark.parametrize("count_like", [False, True])
def test_fill_at_is_fill_series_at_known_positions(mode: str, kind: str, count_like: bool) -> None:
    grid = np.arange(10, dtype=np.int64) * 60
    at = np.array([1, 4, 5, 8])
    dtype = np.float64 if kind == "float" else np.int64
    col = Col(np.array([3, 1, 4, 1], dtype), np.array([True, False, True, True]), kind)
    a = fill_series(grid, grid[at], col, mode, 7, count_like)
    b = fill_at(len(grid), at, col, mode, 7, count_like)
    assert a.kind == b.kind and a.valid.tolist() == b.valid.tolist()
    assert a.values[a.valid].tolist() == b.values[b.valid].tolist()


def test_text_cols_are_arrow_cols() -> None:
    """Every text column of a table converted with one dictionary: what arrow_col gives each."""
    from sql.influxql.columns import arrow_col, text_cols

    table = pa.table(
        {
            "time": pa.array([1, 2, 3, 4], pa.int64()),
            "host": pa.chunked_array([pa.array(["a", "b"]), pa.array(["a", None])]),
            "region": pa.array(["x", "x", "b", "x"]),
            "status": pa.array([None, "ok", "é\u2028", 'q"']),
            "v": pa.array([1.0, 2.0, None, 4.0]),
        }
    )
    got = text_cols(table)
    assert sorted(got) == ["host", "region", "status"]
    for name, col in got.items():
        want = arrow_col(table.column(name), "string")
        assert col.kind == want.kind == "string"
        assert col.tolist() == want.tolist() and col.valid.tolist() == want.valid.tolist()
        assert col.words is not None and col.codes is not None
        assert [col.words[i] for i in col.codes.tolist()] == col.values.tolist()
    assert len({id(c.words) for c in got.values()}) == 1
    one = text_cols(table.select(["time", "host"]))
    assert one["host"].tolist() == ["a", "b", "a", None]


def test_text_cols_one_text_columns() -> None:
    """Columns of many rows holding one text get it from their buffers; columns that only look so
    (same length, or bytes that repeat with the first row's period) go through the dictionary."""
    from sql.influxql.columns import _ONE_TEXT_ROWS, arrow_col, text_cols

    n = _ONE_TEXT_ROWS + 3
    same = ["host_7"] * n
    cols = {
        "same": pa.array(same),
        "sliced": pa.array(["zz", *same])[1:],  # an offset into its buffers
        "chunks": pa.chunked_array([pa.array(same[:5]), pa.array(same[5:])]),
        "empty": pa.array([""] * n),
        "one_differs": pa.array([*same[:-1], "host_8"]),
        "same_period": pa.array(["ab", "a", "bab", *(["ab"] * (n - 3))]),  # ababab...: other rows
        "null": pa.array([*same[:-1], None]),
        "unicode": pa.array(["é\u2028"] * n),
        "empty_sliced": pa.array(["zz", *([""] * n)])[1:],  # no bytes, from an offset
        "empty_then_not": pa.array([*([""] * (n - 1)), "x"]),
    }
    table = pa.table({"time": pa.array(range(n), pa.int64()), **cols})
    got = text_cols(table)
    assert sorted(got) == sorted(cols)
    for name, col in got.items():
        want = arrow_col(table.column(name), "string")
        assert col.tolist() == want.tolist() and col.valid.tolist() == want.valid.tolist(), name
        assert col.words is not None and col.codes is not None
        assert [col.words[i] for i in col.codes.tolist()] == col.values.tolist()
    for name in ("same", "sliced", "chunks", "empty", "unicode", "empty_sliced"):  # a dictionary of their own
        assert got[name].words.tolist() == [got[name].values[0], None]  # type: ignore[union-attr]
    assert len({id(got[k].words) for k in ("one_differs", "same_period", "null", "empty_then_not")}) == 1


@pytest.mark.parametrize("n", [64, 65, 5000])
def test_one_text_offsets_kept_by_row_count(n: int) -> None:
    """The offsets of a column of one text, kept by (rows, width), tell only such columns apart."""
    from sql.influxql.columns import _one_text

    for _ in range(2):  # the second time from what the first kept
        assert _one_text(pa.array(["host_7"] * n)) == "host_7"
        assert _one_text(pa.array(["ab"] * (n - 2) + ["a", "bab"])) is None
        assert _one_text(pa.array(["host_7"] * (n - 1) + ["host_8"])) is None
        assert _one_text(pa.array(["x", *(["host_7"] * n)])[1:]) == "host_7"
        assert _one_text(pa.array(["host_7"] * n)[: n // 2]) == "host_7"


@pytest.mark.parametrize("mode", ["null", "none", "previous", "linear", "number"])
@pytest.mark.parametrize("kind", ["float", "integer", "string"])
@pytest.mark.parametrize("count_like", [False, True])
def test_fill_at_every_window_present(mode: str, kind: str, count_like: bool) -> None:
    """A row in every window (the column as it is) fills as the windows of a longer grid do."""

    n = 9
    valid = np.array([True, False, True, True, False, False, True, True, False])
    values = {
        "float": np.arange(n, dtype=np.float64) * 1.5,
        "integer": np.arange(n, dtype=np.int64) * 3,
        "string": np.array([f"w{i}" for i in range(n)], dtype=object),
    }[kind]
    col = Col(values, valid, kind)
    fast = fill_at(n, np.arange(n), col, mode, 7, count_like)
    slow = fill_at(n + 1, np.arange(n), col, mode, 7, count_like)  # one empty window after them
    assert fast.kind == slow.kind
    assert fast.valid.tolist() == slow.valid[:n].tolist()
    assert [v for v, ok in zip(fast.values.tolist(), fast.valid.tolist(), strict=True) if ok] == [
        v for v, ok in zip(slow.values[:n].tolist(), slow.valid[:n].tolist(), strict=True) if ok
    ]


@pytest.mark.parametrize("n", [0, 5, 1 << 16, (1 << 16) + 1])
def test_all_valid_is_shared_read_only(n: int) -> None:
    """Columns without nulls share one read-only validity (columns.all_valid): of their length,
    all valid, and a Col that wrote into it would raise rather than change its neighbours'."""
    from sql.influxql.columns import arrow_col

    a = arrow_col(pa.chunked_array([pa.array(np.arange(n, dtype=np.int64))]), "integer")
    b = arrow_col(pa.array(np.arange(n, dtype=np.float64)), "float")
    for c in (a, b):
        assert len(c.valid) == n and c.valid.dtype == bool and bool(c.valid.all())
    if n and n <= 1 << 16:
        with pytest.raises(ValueError):
            a.valid[0] = False
        assert bool(b.valid.all())


def test_every_valid_of_shared_and_other_validities() -> None:
    """every_valid answers views of all_valid's array without a pass, any other array by one."""
    from sql.influxql.columns import all_valid, every_valid

    shared = all_valid(100)
    assert every_valid(shared) and every_valid(shared[10:20]) and every_valid(shared[::7])
    assert every_valid(np.ones(5, bool)) and every_valid(np.zeros(0, bool))
    some = np.ones(5, bool)
    some[3] = False
    assert not every_valid(some) and not every_valid(some[2:])
    assert every_valid(some[:3])


def test_arrow_col_array_column_is_its_text() -> None:
    """An array column of a SQL table (sql/arrays.py) read by InfluxQL: a string field holding the
    array's text, as stored (SQL reads it as a list; Arrow casts no list to a string)."""
    from sql.influxql.columns import arrow_col

    col = arrow_col(pa.chunked_array([pa.array([["x", "y z"], None, []], pa.list_(pa.string()))]))
    assert col.kind == "string"
    assert col.valid.tolist() == [True, False, True]
    assert [col.values[0], col.values[2]] == ['{x,"y z"}', "{}"]
