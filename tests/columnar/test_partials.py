"""columnar.scan.Partials held as two blocks, and fixed_width_rows (Arrow arrays over rows of a block)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from columnar.scan import _ACC_NAMES, _KEY_NAMES, Partials, fixed_width, fixed_width_rows
from columnar.types import FieldType

TYPES = [FieldType.FLOAT, FieldType.INTEGER, FieldType.UNSIGNED]


def _filled(n: int, seed: int) -> Partials:
    rng = np.random.default_rng(seed)
    p = Partials.empty(["a", "b", "c"], TYPES, n)
    for k in _KEY_NAMES:
        getattr(p, k)[:] = rng.integers(-(2**40), 2**40, n)
    for k in _ACC_NAMES:
        a = getattr(p, k)
        a[:] = rng.integers(0, 2**40, a.shape).astype(a.dtype)
    return p


def _named(p: Partials) -> dict[str, np.ndarray]:
    return {k: np.array(getattr(p, k)) for k in (*_KEY_NAMES, *_ACC_NAMES)}


def test_named_arrays_are_views_of_the_blocks_with_their_dtypes():
    p = Partials.empty(["a", "b"], TYPES[:2], 4)
    assert p.keys.shape == (5, 4) and p.acc.shape == (13, 2, 4) and len(p) == 4
    assert (p.acc == 0).all()  # (empty pieces count nothing)
    want = {"count": np.int64, "sum_i": np.uint64, "sum_f": np.float64, "min": np.uint64, "mean": np.float64}
    for k, dt in want.items():
        assert getattr(p, k).dtype == dt and getattr(p, k).shape == (2, 4)
    p.count[1, 2] = 7
    p.sum_f[0, 3] = 1.5
    p.rows[:] = 3
    assert p.acc[0, 1, 2] == 7 and p.acc[2, 0, 3] == np.float64(1.5).view(np.uint64)
    assert (p.keys[4] == 3).all()


def test_take_concat_and_replaced_keep_every_named_array():
    p, q = _filled(6, 1), _filled(3, 2)
    idx = np.array([4, 0, 0, 5])
    got, full = _named(p.take(idx)), _named(p)
    for k in _KEY_NAMES:
        assert (got[k] == full[k][idx]).all(), k
    for k in _ACC_NAMES:
        assert (got[k].view(np.uint64) == full[k][:, idx].view(np.uint64)).all(), k
    assert len(p.take(slice(1, 3))) == 2

    both = Partials.concat([p, Partials.empty(p.columns, p.types), q], p.columns, p.types)
    got, a, b = _named(both), _named(p), _named(q)
    for k in _KEY_NAMES:
        assert (got[k] == np.concatenate([a[k], b[k]])).all(), k
    for k in _ACC_NAMES:
        assert (got[k].view(np.uint64) == np.concatenate([a[k], b[k]], axis=1).view(np.uint64)).all(), k
    assert Partials.concat([p], p.columns, p.types) is p
    assert len(Partials.concat([], p.columns, p.types)) == 0

    rows, count = np.arange(6), np.arange(18).reshape(3, 6)
    r = p.replaced(rows, count)
    assert (r.rows == rows).all() and (r.count == count).all()
    assert (r.sum_i == p.sum_i).all() and (r.series == p.series).all()
    assert not (p.rows == rows).all()  # (a copy: the pieces replaced from are unchanged)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(0, 70),
    st.sampled_from([(pa.int64(), np.int64), (pa.uint64(), np.uint64), (pa.float64(), np.float64)]),
    st.sampled_from(["all", "none", "some", "absent"]),
    st.data(),
)
def test_fixed_width_rows_equal_fixed_width_of_each_row(k, n, typ, validity, data):
    arrow_type, dt = typ
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(0, 2**62, (k, n)).astype(dt)
    if dt is np.float64:
        values[rng.random((k, n)) < 0.1] = np.nan
    valid = {
        "all": np.ones((k, n), bool),
        "none": np.zeros((k, n), bool),
        "some": rng.random((k, n)) < 0.7,
        "absent": None,
    }[validity]
    which = data.draw(st.lists(st.integers(0, k - 1), max_size=k, unique=True))
    got = fixed_width_rows(arrow_type, values, valid, which)
    assert len(got) == len(which)
    for arr, row in zip(got, which, strict=True):
        want = fixed_width(arrow_type, values[row], None if valid is None else valid[row])
        assert arr.type == arrow_type and len(arr) == n
        assert arr.null_count == want.null_count
        assert arr.equals(want) or (dt is np.float64 and _same_floats(arr, want))


def _same_floats(a: pa.Array, b: pa.Array) -> bool:
    """Equal, NaN equal to NaN (Arrow's equals says NaN != NaN)."""
    x, y = a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False)
    return bool(((x == y) | (np.isnan(x) & np.isnan(y))).all()) and a.is_null().equals(b.is_null())
