"""columnar.scan.aggregate_partials over chunk files: row groups the fused kernel cannot decode go
the ordinary way (which reports damage), whichever other groups the kernel takes."""

from __future__ import annotations

import numpy as np
import pytest

from columnar.batch import WriteBatch
from columnar.errors import CorruptData
from columnar.scan import ScanRequest, aggregate_partials
from columnar.types import NS_PER_SECOND

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
