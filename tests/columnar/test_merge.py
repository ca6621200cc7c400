"""Last-write-wins merge (columnar.merge) and the memtable built on it (columnar.cache)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from columnar.cache import TableCache
from columnar.merge import merge_rows, runs_disjoint
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


def _reference(rows: Rows, dedupe: bool) -> Rows:
    """merge_rows by its definition, row by row: a stable sort by (series, time), then per key and
    field the last present value."""
    order = sorted(range(len(rows)), key=lambda i: (int(rows.series[i]), int(rows.time[i])))
    if not dedupe:
        return rows.take(np.array(order, np.int64))
    keys_seen: dict[tuple[int, int], dict[str, object]] = {}
    for i in order:
        got = keys_seen.setdefault((int(rows.series[i]), int(rows.time[i])), {})
        for name, col in rows.fields.items():
            if col.valid is None or col.valid[i]:
                got[name] = col.values[i]
    ks = list(keys_seen)
    fields = {}
    for name, col in rows.fields.items():
        present = np.array([name in keys_seen[k] for k in ks], bool)
        values = np.array([keys_seen[k].get(name, 0) for k in ks], col.values.dtype)
        fields[name] = Column(col.type, values, present)
    return Rows(np.array([k[0] for k in ks], np.int64), np.array([k[1] for k in ks], np.int64), fields)


@settings(max_examples=300, deadline=None)
@given(st.lists(keys, min_size=1, max_size=20), st.booleans(), st.integers(0, 2**16))
def test_runs_in_order_merge_as_the_definition_says(parts, dedupe, seed):
    """Rows that are several runs in (series, time) order (a scan's parts: row groups of files, a
    memtable's rows; up to FEW_RUNS of them are merged pairwise, more are sorted) come out as a
    stable sort and last-write-wins say."""
    runs = [merge_rows(_rows(k, seed + i), dedupe=True) for i, k in enumerate(parts)]
    rows = concat(runs)
    _same(merge_rows(rows, dedupe=dedupe), _reference(rows, dedupe))


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


small = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), min_size=1, max_size=4)
big = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), min_size=40, max_size=80)


@settings(max_examples=150, deadline=None)
@given(
    big,
    st.lists(small, min_size=1, max_size=8),
    st.lists(st.integers(0, 4), min_size=1, max_size=5, unique=True),
    st.integers(0, 30),
    st.integers(0, 30),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_memtable_runs_answer_as_one_merge(first, later, series, t0, t1, dedupe, seed):
    """A large write, then small ones with reads between them (the memtable holds a base and a delta
    run): each read of some series and a time range (also with a row filter), their extents, their newest rows and every
    series' extent equal what one merge of all writes gives."""
    tmin, tmax = min(t0, t1), max(t0, t1)
    want_series = np.array(sorted(series), np.int64)
    cache = TableCache(dedupe=dedupe)
    parts = [_rows(first, seed)]
    cache.append(parts[0])
    for k, b in enumerate(later):
        cache.runs()  # a read between writes: what came since goes into the delta
        parts.append(_rows(b, seed + k + 1))
        cache.append(parts[-1])
        whole = merge_rows(concat(parts), dedupe=dedupe)
        hit = np.isin(whole.series, want_series) & (whole.time >= tmin) & (whole.time <= tmax)
        want = whole.take(np.flatnonzero(hit))
        _same(cache.read(want_series, tmin, tmax, None), want)
        # a row filter on one column (a value at or over the median; rows without one fail): only
        # the merged rows that pass, whether the runs are filtered apart or merged first
        keep = _at_least(float(np.median(whole.fields["f"].values)))
        _same(cache.read(want_series, tmin, tmax, ["i"], (["f"], keep)),
              want.select_columns(["i"]).take(np.flatnonzero(keep(want))))  # fmt: skip
        _same(
            cache.read(None, tmin, tmax, ["i"]),
            whole.select_columns(["i"]).take(np.flatnonzero((whole.time >= tmin) & (whole.time <= tmax))),
        )
        s, lo, hi = cache.ranges(want_series, tmin, tmax)
        present = np.unique(want.series)
        assert s.tolist() == present.tolist()
        assert lo.tolist() == [int(want.time[want.series == x].min()) for x in present]
        assert hi.tolist() == [int(want.time[want.series == x].max()) for x in present]
        s, lo, hi = cache.series_ranges()
        assert s.tolist() == np.unique(whole.series).tolist()
        assert lo.tolist() == [int(whole.time[whole.series == x].min()) for x in s]
        assert hi.tolist() == [int(whole.time[whole.series == x].max()) for x in s]
        if dedupe:
            last = cache.last_rows(want_series, tmin, tmax, None)
            ends = np.flatnonzero(np.append(want.series[1:] != want.series[:-1], True)) if len(want) else []
            _same(last, want.take(np.asarray(ends, np.int64)))
    assert len(cache.runs()) <= 2
    _same(cache.merged(), merge_rows(concat(parts), dedupe=dedupe))


def _at_least(cut: float):
    def keep(rows: Rows) -> np.ndarray:
        f = rows.fields["f"]
        return (f.values >= cut) & (True if f.valid is None else f.valid)

    return keep


def test_a_small_write_after_a_large_one_stays_in_the_delta():
    """The point of the runs: a read after a small write does not rebuild the large base."""
    cache = TableCache()
    cache.append(_rows([(s, t) for s in range(5) for t in range(100)], 1))
    (base,) = cache.runs()
    cache.append(_rows([(2, 1000)], 2))
    runs = cache.runs()
    assert len(runs) == 2 and runs[0] is base and len(runs[1]) == 1
    cache.append(_rows([(s, 2000 + t) for s in range(5) for t in range(20)], 3))  # > 1/8 of the base
    (merged,) = cache.runs()
    assert len(merged) == 601


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(keys, min_size=1, max_size=4), st.booleans())
def test_runs_disjoint_is_sorted_unique_parts_without_a_shared_key(key_lists, sort_them):
    """True exactly when every part is strictly increasing by (series, time) and no (series, time)
    is in two parts (sorted parts are drawn often: unsorted ones always answer False)."""
    parts = [sorted(set(k)) if sort_them else k for k in key_lists]
    rows = [_rows(k, i) for i, k in enumerate(parts)]
    each_sorted = all(k == sorted(set(k)) for k in parts)
    seen: set = set()
    shared = False
    for k in parts:
        shared |= bool(seen & set(k))
        seen |= set(k)
    assert runs_disjoint(rows) == (each_sorted and not shared)
