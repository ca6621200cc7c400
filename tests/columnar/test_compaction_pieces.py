"""Compaction a range of series at a time (columnar.compaction._merged_pieces) and the chunk writer
that takes rows piece by piece (columnar.chunkfile.ChunkWriter)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from columnar import compaction
from columnar.chunkfile import ChunkFile, ChunkWriter, write_chunk_file
from columnar.predicate import TagEq
from columnar.rows import Column, Rows
from columnar.types import NS_PER_SECOND, FieldType
from tests.columnar.conftest import Reference, engine_rows
from tests.columnar.test_engine import T0, cpu_batch


def _rows(keys: list[tuple[int, int]], seed: int) -> Rows:
    keys = sorted(set(keys))
    rng = np.random.default_rng(seed)
    n = len(keys)
    return Rows(
        np.array([k[0] for k in keys], np.int64),
        np.array([k[1] for k in keys], np.int64),
        {
            "f": Column(FieldType.FLOAT, rng.random(n), rng.random(n) < 0.7),
            "i": Column(FieldType.INTEGER, rng.integers(-5, 5, n)),
        },
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 6), st.integers(0, 3000)), min_size=1, max_size=400),
    st.lists(st.integers(1, 6), max_size=4),
    st.integers(0, 2**16),
)
def test_pieces_at_series_boundaries_write_the_same_file(tmp_path_factory, keys, cut_at, seed):
    """A file written in pieces (cut between series) reads back as, and has the same row groups and
    blocks as, the file written from all the rows at once."""
    d = tmp_path_factory.mktemp("w")
    rows = _rows(keys, seed)
    whole = write_chunk_file(d / "a.tsc", "t", rows)
    cuts = sorted({int(np.searchsorted(rows.series, s)) for s in cut_at} - {0, len(rows)})
    bounds = [0, *cuts, len(rows)]
    with ChunkWriter(d / "b.tsc", "t", [("f", FieldType.FLOAT), ("i", FieldType.INTEGER)]) as w:
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            w.add(rows.take(np.arange(a, b)))
        pieces = w.finish()
    assert (pieces.rows, pieces.min_time, pieces.max_time) == (whole.rows, whole.min_time, whole.max_time)
    with ChunkFile(whole.path) as one, ChunkFile(pieces.path) as many:
        assert one.groups.tolist() == many.groups.tolist()
        assert one.blocks.tolist() == many.blocks.tolist()
        got, want = many.read_all(), one.read_all()
        assert got.series.tolist() == want.series.tolist() and got.time.tolist() == want.time.tolist()
        for name in ("f", "i"):
            gv, wv = got.fields[name], want.fields[name]
            assert np.array_equal(gv.values, wv.values) and np.array_equal(gv.valid, wv.valid)
    assert not list(d.glob("*.tmp"))


def test_writer_refuses_disorder_and_leaves_no_partial_file(tmp_path):
    rows = _rows([(2, 10), (2, 20), (3, 5)], 1)
    with pytest.raises(ValueError, match="out of order"):
        with ChunkWriter(tmp_path / "x.tsc", "t", [("f", FieldType.FLOAT), ("i", FieldType.INTEGER)]) as w:
            w.add(rows)
            w.add(rows.take(np.array([0])))  # (2, 10) after (3, 5)
    with pytest.raises(ValueError, match="not declared"):
        with ChunkWriter(tmp_path / "y.tsc", "t", [("f", FieldType.FLOAT)]) as w:
            w.add(rows)
    with pytest.raises(ValueError, match="empty"):
        with ChunkWriter(tmp_path / "z.tsc", "t", [("f", FieldType.FLOAT)]) as w:
            w.finish()
    assert list(tmp_path.iterdir()) == []


def test_compaction_in_small_pieces_keeps_every_row(make_engine, monkeypatch):
    """Several overlapping files, rewritten rows and a tombstone, compacted a few hundred rows at a
    time: the table reads as before, and the merge really went in pieces."""
    monkeypatch.setattr(compaction, "MERGE_ROWS", 300)
    pieces = []
    real = compaction._merged_pieces

    def counted(*args):
        for p in real(*args):
            pieces.append(len(p))
            yield p

    monkeypatch.setattr(compaction, "_merged_pieces", counted)
    rng = np.random.default_rng(7)
    ref, e = Reference(), make_engine()
    lo, hi = T0 + 100 * 10 * NS_PER_SECOND, T0 + 900 * 10 * NS_PER_SECOND
    for k, batch in enumerate(cpu_batch(rng, 9, 2500) for _ in range(4)):  # a file each
        ref.write(batch)
        e.write("postgres", batch).check()
        e.flush()
        if k == 1:  # a tombstone over the first two files
            e.delete("postgres", "cpu", tmin=lo, tmax=hi, predicate=TagEq("region", "r1"))
            ref.delete(lo, hi, lambda t: t["region"] == "r1")
    assert engine_rows(e, "cpu") == ref.expected()
    e.compact(full=True)
    assert engine_rows(e, "cpu") == ref.expected()
    table = e.table(1, "autogen", "cpu")
    assert all(len(s.table_files(table.id)) == 1 for s in e.shards())
    assert len(pieces) > 3 and max(pieces) < 1000  # in pieces of whole series near MERGE_ROWS rows
    assert sum(pieces) == sum(f.meta.rows for s in e.shards() for f in s.table_files(table.id))
