"""Last-write-wins merge (columnar.merge) and the memtable built on it (columnar.cache)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from columnar.cache import TableCache
from columnar.merge import merge_rows
from columnar.rows import Column, Rows, concat
from columnar.types import FieldType


def _rows(draw_keys: list[tuple[int, int]], seed: int) -> Rows:
    rng = np.random.default_rng(seed)
    n = len(draw_keys)
    series = np.array([k[0] for k in draw_keys], np.int64)
    time = np.array([k[1] for k in draw_keys], np.int64)
    return Rows(
        series,
        time,
        {
            "f": Column(FieldType.FLOAT, rng.random(n), rng.random(n) < 0.7),
            "i": Column(FieldType.INTEGER, rng.integers(0, 100, n)),
        },
    )


def _same(a: Rows, b: Rows) -> None:
    assert a.series.tolist() == b.series.tolist() and a.time.tolist() == b.time.tolist()
    for name, ca in a.fields.items():
        cb = b.fields[name]
        va = np.ones(len(a), bool) if ca.valid is None else ca.valid
        vb = np.ones(len(b), bool) if cb.valid is None else cb.valid
        assert va.tolist() == vb.tolist(), name
        assert ca.values[va].tolist() == cb.values[vb].tolist(), name


keys = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(keys, keys, st.booleans(), st.integers(0, 2**16))
def test_a_sorted_prefix_merges_as_a_full_sort(first, later, dedupe, seed):
    """Rows whose first part is already sorted and unique (a memtable's merged part) come out as
    they do from sorting everything: same order, same last-write-wins values."""
    base = merge_rows(_rows(first, seed), dedupe=True)
    rows = concat([base, _rows(later, seed + 1)])
    _same(merge_rows(rows, dedupe=dedupe, sorted_prefix=len(base)), merge_rows(rows, dedupe=dedupe))


@settings(max_examples=100, deadline=None)
@given(st.lists(keys, min_size=1, max_size=6), st.integers(0, 2**16))
def test_memtable_reads_between_writes_equal_one_merge(batches, seed):
    """Reading a memtable after each write (each read merges only what came since) gives what one
    merge of every write in order gives."""
    cache = TableCache()
    parts = []
    for k, b in enumerate(batches):
        part = _rows(b, seed + k)
        parts.append(part)
        cache.append(part)
        _same(cache.merged(), merge_rows(concat(parts), dedupe=True))
