"""Batched block decoding (columnar.blockdecode) gives exactly what the block-by-block path gives."""

from __future__ import annotations

import struct

import google_crc32c
import numpy as np
import pytest

from columnar import blockdecode as bd
from columnar import encodings
from columnar.chunkfile import ChunkFile, write_chunk_file
from columnar.encodings._core import uvarint
from columnar.encodings._select import CODECS, STAGE_ID
from columnar.errors import CorruptData
from columnar.rows import Column, Rows
from columnar.scan import _combine, _partials_from_rows
from columnar.types import FieldType
from tests.columnar.encodings.blocks import BOUNDARY
from tests.columnar.test_chunkfile import assert_rows_equal, sample_rows

TAG = {"time": bd.TAG_INT64, "int": bd.TAG_INT64, "uint": bd.TAG_UINT64, "float": bd.TAG_FLOAT64}


def test_crc32c_matches_google_crc32c():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, 5000, dtype=np.uint8)
    for a, e in [(0, 5000), (0, 0), (3, 4), (7, 100), (1, 4999), (17, 17 + 8 * 31 + 5)]:
        assert int(bd.crc32c(data, a, e)) == google_crc32c.value(data[a:e].tobytes())


def _decode_one(payload: bytes, count: int, tag: int) -> tuple[int, np.ndarray]:
    buf = np.frombuffer(payload + struct.pack("<I", google_crc32c.value(payload)), np.uint8)
    out = np.zeros(count, np.uint64)
    valid = np.zeros(count, np.uint8)
    status = np.zeros(1, np.int8)
    one = np.ones(1, np.int64)
    bd.decode_column(
        buf, np.zeros(1, np.int64), one * len(payload), one * count, one * count, np.zeros(1, bool),
        tag, np.zeros(1, np.int64), out, valid, status, True,
    )  # fmt: skip
    return int(status[0]), out


@pytest.mark.parametrize("kind", ["time", "int", "uint", "float"])
def test_every_codec_decodes_as_the_codec_module_does(kind):
    tried = set()
    for name, values in BOUNDARY[kind].items():
        for cid, m in CODECS.items():
            if kind not in m.KINDS or cid == STAGE_ID:
                continue
            body = m.encode(np.ascontiguousarray(values))
            if body is None:
                continue
            payload = bytes((cid,)) + uvarint(len(values)) + body
            want = encodings.decode(payload)
            status, got = _decode_one(payload, len(values), TAG[kind])
            assert status == bd.OK, (name, m.NAME)
            assert got.view(want.dtype).tobytes() == want.tobytes(), (name, m.NAME)
            tried.add(m.NAME)
        # whatever encode() picks (the zstd stage included) decodes, or is left to the caller
        payload = encodings.encode(values, kind)
        status, got = _decode_one(payload, len(values), TAG[kind])
        if status == bd.OK:
            assert got.tobytes() == encodings.decode(payload).tobytes(), name
        else:
            assert status == bd.FALLBACK and payload[0] == STAGE_ID, name
    assert {"raw", "rle"} <= tried


def test_damaged_payloads_are_reported_not_decoded():
    values = np.arange(1000, dtype=np.int64) * 7
    payload = bytearray(encodings.encode(values, "int"))
    assert _decode_one(bytes(payload), 1000, bd.TAG_INT64)[0] == bd.OK
    assert _decode_one(bytes(payload), 999, bd.TAG_INT64)[0] == bd.CORRUPT  # count mismatch
    assert _decode_one(bytes(payload), 1000, bd.TAG_FLOAT64)[0] == bd.FALLBACK  # other dtype
    rng = np.random.default_rng(3)
    for _ in range(200):  # any damage: decoded right, or refused; never a crash
        bad = bytearray(payload)
        bad[int(rng.integers(0, len(bad)))] ^= 1 << int(rng.integers(0, 8))
        cut = bytes(bad[: int(rng.integers(2, len(bad) + 1))])
        status, _ = _decode_one(cut, 1000, bd.TAG_INT64)
        assert status in (bd.OK, bd.CORRUPT, bd.FALLBACK)


def _old_read(cf: ChunkFile, gidx: np.ndarray, columns: list[str] | None) -> Rows:
    """The block-by-block reader alone."""
    wanted = [n for n, _ in cf.columns] if columns is None else [c for c in columns if c in cf.column_index]
    types = dict(cf.columns)
    nrows = cf.groups["nrows"][gidx].astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(nrows)))
    time = np.empty(int(nrows.sum()), np.int64)
    outs = {}
    for n in wanted:
        vals = np.empty(len(time), types[n].numpy_dtype)
        vals[:] = "" if types[n] is FieldType.STRING else 0
        outs[n] = (vals, np.zeros(len(time), bool))
    cf._read_blocks(gidx, offsets, time, outs, with_time=True)
    series = np.repeat(cf.groups["series"][gidx], nrows)
    return Rows(series, time, {n: Column(types[n], v, m) for n, (v, m) in outs.items()})


def test_read_groups_equals_block_by_block(tmp_path):
    rows = sample_rows(np.random.default_rng(5), nseries=4, per=3000)
    # sparse numeric columns too (validity bitmaps), and uint extremes
    n = len(rows)
    rng = np.random.default_rng(6)
    rows.fields["fs"] = Column(FieldType.FLOAT, rng.normal(0, 1, n), rng.random(n) < 0.6)
    rows.fields["is"] = Column(FieldType.INTEGER, rng.integers(-5, 5, n), rng.random(n) < 0.05)
    rows.fields["us"] = Column(FieldType.UNSIGNED, rng.integers(0, 2**64 - 1, n, dtype=np.uint64), None)
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    with ChunkFile(path) as cf:
        assert_rows_equal(cf.read_all(), rows)
        for cols in (None, ["f", "fs"], ["is", "b", "missing"], ["us", "nan", "s"]):
            for g in (np.arange(len(cf.groups)), np.array([0, 2, 5, 11]), np.array([7])):
                assert_rows_equal(cf.read_groups(g, cols), _old_read(cf, g, cols))


def test_spans_of_groups_in_any_order_hold_the_same_blocks(tmp_path):
    """Groups asked in file order take the one-kernel path (blocks already in offset order), in
    another order the sorting path: each (group, column) finds the same payload bytes either way."""
    rows = sample_rows(np.random.default_rng(8), nseries=5, per=2500)
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    with ChunkFile(path) as cf:
        g = np.arange(len(cf.groups))
        for picked in (g, g[::-1], np.array([3, 0, 7, 2]), np.array([5])):
            for cols in (["f"], ["i", "f", "missing"]):
                want = cf.spans(np.sort(picked), cols)
                got = cf.spans(picked, cols)
                assert want is not None and got is not None
                where = {int(p): i for i, p in enumerate(np.sort(picked))}
                for i, grp in enumerate(picked.tolist()):
                    w = where[grp]
                    assert got.rows[i] == want.rows[w]
                    for j in range(len(cols) + 1):
                        assert got.block[i, j] == want.block[w, j]
                        if got.block[i, j] < 0:
                            continue
                        n = int(got.length[i, j]) + 4  # the payload and its CRC
                        a, b = int(got.at[i, j]), int(want.at[w, j])
                        assert bytes(got.buf[a : a + n]) == bytes(want.buf[b : b + n])


def test_spans_of_columns_in_any_order_hold_the_same_blocks(tmp_path):
    """A query names its columns in any order: each group's blocks are sorted by offset in the
    layout kernel, so groups in file order still take the one-kernel path (no sort in Python), and
    each (group, column) finds the same payload bytes as with the columns in file order."""
    from columnar.chunkfile import MAGIC, SPAN_GAP, _span_plan

    rows = sample_rows(np.random.default_rng(9), nseries=4, per=2600)
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    with ChunkFile(path) as cf:
        in_file = sorted(["f", "i", "u", "nan"], key=cf.column_index.__getitem__)
        g = np.arange(len(cf.groups))
        for cols in (in_file[::-1], [in_file[2], "missing", in_file[0], in_file[3]], in_file):
            plan = _span_plan(
                g, cf._column_ids(cols), cf._grid, *cf._lay[:7], cf._limit, len(MAGIC), SPAN_GAP
            )
            assert plan[0] and plan[1]  # (ok, ordered)
            for picked in (g, g[::-1], np.array([3, 0, 2])):
                got = cf.spans(picked, cols)
                want = cf.spans(picked, in_file)
                for j, c in enumerate(cols, start=1):
                    for i in range(len(picked)):
                        if c == "missing":
                            assert got.block[i, j] < 0
                            continue
                        w = in_file.index(c) + 1
                        assert got.block[i, j] == want.block[i, w]
                        n = int(got.length[i, j]) + 4
                        a, b = int(got.at[i, j]), int(want.at[i, w])
                        assert bytes(got.buf[a : a + n]) == bytes(want.buf[b : b + n])


def test_a_damaged_block_raises_corrupt_data_from_both_paths(tmp_path):
    rows = sample_rows(np.random.default_rng(7), nseries=2, per=1500)
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    data = bytearray(path.read_bytes())
    with ChunkFile(path) as cf:
        at = {int(cf.blocks["column"][i]): int(cf.blocks["offset"][i]) for i in range(len(cf.blocks))}
        col_i = cf.column_index["i"]
    data[at[col_i] + 3] ^= 0x10
    path.write_bytes(bytes(data))
    with ChunkFile(path) as cf:
        with pytest.raises(CorruptData) as exc:
            cf.read_groups(np.arange(len(cf.groups)), ["i"])
        assert str(path) in str(exc.value)
        cf.read_groups(np.arange(len(cf.groups)), ["f"])  # other columns still read


@pytest.mark.parametrize("every", [None, 60 * 10**9, 3600 * 10**9, 7 * 10**9])
def test_fused_aggregate_equals_partials_of_decoded_rows(tmp_path, every):
    rng = np.random.default_rng(8)
    rows = sample_rows(rng, nseries=3, per=2600)
    n = len(rows)
    vals = rng.normal(0, 1, n)
    vals[rng.random(n) < 0.02] = np.nan
    rows.fields["fs"] = Column(FieldType.FLOAT, vals, rng.random(n) < 0.7)
    rows.fields["is"] = Column(FieldType.INTEGER, rng.integers(-(2**62), 2**62, n), rng.random(n) < 0.5)
    # few distinct values: min and max are held by many rows (the first one's time counts)
    rows.fields["it"] = Column(FieldType.INTEGER, rng.integers(0, 3, n), rng.random(n) < 0.8)
    rows.fields["ut"] = Column(FieldType.UNSIGNED, rng.integers(0, 3, n).astype(np.uint64), None)
    rows.fields["ft"] = Column(FieldType.FLOAT, rng.integers(0, 3, n).astype(np.float64), None)
    del rows.fields["s"], rows.fields["b"]
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    cols = ["f", "i", "u", "nan", "fs", "is", "it", "ut", "ft"]
    types = {c: rows.fields[c].type for c in cols}
    tags = np.array(
        [{FieldType.INTEGER: 0, FieldType.UNSIGNED: 1, FieldType.FLOAT: 2}[types[c]] for c in cols]
    )
    with ChunkFile(path) as cf:
        for tmin, tmax in [
            (int(rows.time.min()), int(rows.time.max())),
            (int(rows.time[700]) + 1, int(rows.time[1900]) - 1),
            (int(rows.time[5]), int(rows.time[5])),
            (0, 1),
        ]:
            g = cf.select_groups(None, tmin, tmax)
            decoded = cf.read_groups(g, cols)
            keep = (decoded.time >= tmin) & (decoded.time <= tmax)
            decoded = decoded.take(np.flatnonzero(keep))
            sp = cf.spans(g, cols)
            cap = int(sp.rows.sum()) if len(g) else 0
            out = _fused(sp, cf.groups["series"][g], tags, tmin, tmax, every, cap)
            for i, c in enumerate(cols):
                want = _combine([_partials_from_rows(decoded, c, types[c], every, 0)], types[c])
                got = _combine([out[i]] if out[i] is not None else [], types[c])
                for k in want:
                    w, h = want[k], got[k]
                    assert len(w) == len(h), (c, k)
                    if w.dtype.kind == "f":
                        if k == "sum":
                            np.testing.assert_allclose(h, w, rtol=1e-12, atol=1e-9)
                        else:
                            assert np.array_equal(w, h, equal_nan=True), (c, k)
                    else:
                        assert np.array_equal(w, h.astype(w.dtype)), (c, k)
                if out[i] is not None:
                    _check_selector_times(decoded, c, out[i])


def _check_selector_times(decoded, column, piece) -> None:
    """Each fused piece's min and max are at min_time and max_time, the first of their rows (float:
    NaN above every number, as the kernel orders them), its rows are those of its time span, and its
    mean and squared distances are its values'."""
    col = decoded.fields[column]
    valid = np.ones(len(decoded), bool) if col.valid is None else col.valid.astype(bool)
    for j in range(len(piece["series_id"])):
        rows = (
            (decoded.series == piece["series_id"][j])
            & (decoded.time >= piece["row_tmin"][j])
            & (decoded.time <= piece["row_tmax"][j])
        )
        assert piece["rows"][j] == np.count_nonzero(rows)  # (count(*): with the column or not)
        at = rows & valid
        t, v = decoded.time[at], col.values[at]
        assert len(v) == piece["count"][j]
        if v.dtype.kind == "f":
            order_min = np.where(np.isnan(v), np.inf, v)  # (an all-NaN piece: its first NaN)
            want_min = np.argmin(order_min) if not np.isnan(v).all() else 0
            nan = np.flatnonzero(np.isnan(v))
            want_max = nan[0] if len(nan) else np.argmax(v)
        else:
            want_min, want_max = np.argmin(v), np.argmax(v)
        assert piece["min_time"][j] == t[want_min], (column, j)
        assert piece["max_time"][j] == t[want_max], (column, j)
        x = v.astype(np.float64)  # the mean and squared distances from it (variances)
        np.testing.assert_allclose(piece["mean"][j], x.mean(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(piece["m2"][j], ((x - x.mean()) ** 2).sum(), rtol=1e-9, atol=1e-9)


def _fused(sp, series, tags, tmin, tmax, every, cap):
    ncol = len(tags)
    ng = len(series)
    if ng == 0:
        return [None] * ncol
    keys = np.empty((5, cap), np.int64)  # (columnar.scan.Partials' blocks)
    acc = np.empty((13, ncol, cap), np.uint64)
    o_series, o_bucket, o_rtmin, o_rtmax, o_rows = keys
    o = {k: acc[i] for i, k in ((1, "sum"), (3, "min"), (4, "max"), (5, "first"), (7, "last"))}
    o_count, o_sumf, o_ft = acc[0].view(np.int64), acc[2].view(np.float64), acc[6].view(np.int64)
    o_lt, o_mint, o_maxt = acc[8].view(np.int64), acc[9].view(np.int64), acc[10].view(np.int64)
    o_mean, o_m2 = acc[11].view(np.float64), acc[12].view(np.float64)
    status = np.zeros(ng, np.int8)
    n = bd.aggregate_groups(
        sp.buf, sp.at, sp.length, sp.count, sp.validity, sp.rows, series.astype(np.int64),
        tags.astype(np.int64), tmin, tmax, int(every or 0), 0, True, True,
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
        np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.float64), keys, acc, status,
    )  # fmt: skip
    assert (status == bd.OK).all()
    res = []
    for i, tag in enumerate(tags):
        dt = [np.int64, np.uint64, np.float64][tag]
        sel = np.flatnonzero(o_count[i, :n] > 0)
        res.append(
            {
                "series_id": o_series[sel],
                "bucket": o_bucket[sel],
                "count": o_count[i, sel],
                "sum": o_sumf[i, sel] if tag == 2 else o["sum"][i, sel].view(dt),
                "min": o["min"][i, sel].view(dt),
                "max": o["max"][i, sel].view(dt),
                "first": o["first"][i, sel].view(dt),
                "first_time": o_ft[i, sel],
                "last": o["last"][i, sel].view(dt),
                "last_time": o_lt[i, sel],
                "row_tmin": o_rtmin[sel],
                "row_tmax": o_rtmax[sel],
                "rows": o_rows[sel],
                "min_time": o_mint[i, sel],
                "max_time": o_maxt[i, sel],
                "mean": o_mean[i, sel],
                "m2": o_m2[i, sel],
            }
        )
    return res
