"""columnar.scan.aggregate_partials over chunk files: row groups the fused kernel cannot decode go
the ordinary way (which reports damage), whichever other groups the kernel takes."""

from __future__ import annotations

import numpy as np
import pytest

from columnar.batch import WriteBatch
from columnar.chunkfile import GROUP_FUSED
from columnar.errors import CorruptData
from columnar.scan import ScanRequest, _aggregate_fused_part, _pieces_cap, aggregate_partials
from columnar.types import NS_PER_SECOND, FieldType

T0 = 1_451_606_400 * NS_PER_SECOND  # 2016-01-01


def _loaded(make_engine, n: int = 3000):
    e = make_engine()
    time = T0 + np.arange(n, dtype=np.int64) * 10 * NS_PER_SECOND
    usage = np.arange(n, dtype=np.int64) % 97
    temp = np.arange(n, dtype=np.float64) / 4
    e.write(
        "postgres",
        WriteBatch.from_rows("cpu", time, [{"host": "a"}] * n, {"usage": usage, "temp": temp}),
    ).check()
    e.flush()
    return e, time, usage


def test_every_group_fused_gives_the_rows_answer(make_engine):
    e, time, usage = _loaded(make_engine)
    lf = e.shards()[0].table_files(e.table(1, "autogen", "cpu").id)[0]
    assert len(lf.chunk.groups) > 1  # (several row groups, each a piece per hour it holds)
    req = ScanRequest("postgres", "cpu", tmin=int(time[0]), tmax=int(time[-1]))
    p = aggregate_partials(e, req, ["usage"], every=3600 * NS_PER_SECOND)
    hours = (time - T0) // (3600 * NS_PER_SECOND)
    want = np.array([usage[hours == h].max() for h in np.unique(hours)])
    got = np.full(len(want), -1, np.int64)
    np.maximum.at(got, (p.bucket - T0) // (3600 * NS_PER_SECOND), p.max[0].view(np.int64))
    assert (got == want).all()
    assert p.count[0].sum() == len(time)


def test_a_group_the_kernel_refuses_is_read_the_ordinary_way(make_engine):
    """A damaged block of one row group: the kernel reports it, and the ordinary read of that group
    raises CorruptData (no piece of the other groups stands in for the answer)."""
    e, time, _ = _loaded(make_engine)
    lf = e.shards()[0].table_files(e.table(1, "autogen", "cpu").id)[0]
    chunk = lf.chunk
    col = chunk.column_index["usage"]
    blocks = chunk.blocks
    last_group = len(chunk.groups) - 1
    bi = int(np.flatnonzero((blocks["column"] == col) & (blocks["group"] == last_group))[0])
    path, at = chunk.path, int(blocks["offset"][bi]) + 3
    e.close()
    data = bytearray(path.read_bytes())
    data[at] ^= 0x10
    path.write_bytes(bytes(data))
    e2 = make_engine()
    req = ScanRequest("postgres", "cpu", tmin=int(time[0]), tmax=int(time[-1]))
    with pytest.raises(CorruptData) as exc:
        aggregate_partials(e2, req, ["usage"], every=3600 * NS_PER_SECOND)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("every", [0, 7 * NS_PER_SECOND, 3600 * NS_PER_SECOND, 86400 * NS_PER_SECOND])
def test_the_classifier_bounds_the_fused_pieces_as_pieces_cap_does(make_engine, every):
    """The fused kernel writes up to the bound without checking it: ChunkFile.classify_groups' count
    of the fused groups' pieces is _pieces_cap's, and the pieces made stay within it."""
    e, time, _ = _loaded(make_engine, 5000)
    chunk = e.shards()[0].table_files(e.table(1, "autogen", "cpu").id)[0].chunk
    rng = np.random.default_rng(3)
    for _ in range(40):
        lo, hi = np.sort(rng.integers(-100, len(time) + 100, 2))
        tmin = int(T0 + lo * 10 * NS_PER_SECOND + rng.integers(0, 10**10))
        tmax = int(T0 + hi * 10 * NS_PER_SECOND + rng.integers(0, 10**10))
        offset = int(rng.integers(0, every)) if every else 0
        g = chunk.select_groups(None, tmin, tmax)
        ones = np.ones(len(g), bool)
        cls, _, counts = chunk.classify_groups(
            g, ones, ones, ["usage"], tmin, tmax, every, offset, False, True
        )
        assert (cls == GROUP_FUSED).all()
        cap = _pieces_cap(chunk, g, chunk.groups["nrows"][g].astype(np.int64), tmin, tmax, every, offset)
        assert counts[3] == cap
        if len(g):
            p, failed = _aggregate_fused_part(
                g, chunk, [FieldType.INTEGER], ["usage"], tmin, tmax, every or None, offset
            )
            assert len(p) <= cap and not len(failed)
