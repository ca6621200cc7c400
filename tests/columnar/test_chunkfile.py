"""Chunk files: round trip against the input rows, block statistics, checksum detection."""

from __future__ import annotations

import numpy as np
import pytest

from columnar.chunkfile import BLOCK_ROWS, FLAG_STATS, ChunkFile, from_bits, write_chunk_file
from columnar.errors import CorruptData
from columnar.rows import Column, Rows
from columnar.types import FieldType


def sample_rows(rng: np.random.Generator, nseries: int = 5, per: int = 2500) -> Rows:
    series = np.repeat(np.arange(1, nseries + 1, dtype=np.int64), per)
    time = np.tile(np.arange(per, dtype=np.int64) * 10_000_000_000, nseries) + 1_451_606_400_000_000_000
    n = len(series)
    sparse = rng.random(n) < 0.7
    words = np.empty(n, dtype=object)
    words[:] = [f"w{x}" for x in rng.integers(0, 30, n)]
    return Rows(
        series,
        time,
        {
            "f": Column(FieldType.FLOAT, np.round(rng.normal(20, 5, n), 2)),
            "i": Column(FieldType.INTEGER, rng.integers(-(2**40), 2**40, n)),
            "u": Column(FieldType.UNSIGNED, rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)),
            "b": Column(FieldType.BOOLEAN, rng.random(n) < 0.3),
            "s": Column(FieldType.STRING, words, sparse),
            "nan": Column(FieldType.FLOAT, np.where(rng.random(n) < 0.01, np.nan, 1.5)),
        },
    )


def assert_rows_equal(a: Rows, b: Rows) -> None:
    assert np.array_equal(a.series, b.series) and np.array_equal(a.time, b.time)
    assert set(a.fields) == set(b.fields)
    for name, ca in a.fields.items():
        cb = b.fields[name]
        va = np.ones(len(a), bool) if ca.valid is None else ca.valid
        vb = np.ones(len(b), bool) if cb.valid is None else cb.valid
        assert np.array_equal(va, vb), name
        if ca.type is FieldType.FLOAT:
            assert np.array_equal(ca.values[va].view(np.int64), cb.values[vb].view(np.int64)), name
        else:
            assert list(ca.values[va]) == list(cb.values[vb]), name


def test_round_trip_and_group_layout(tmp_path):
    rows = sample_rows(np.random.default_rng(1))
    wf = write_chunk_file(tmp_path / "a.tsc", "t", rows)
    assert wf.rows == len(rows) and wf.min_time == rows.time.min() and wf.max_time == rows.time.max()
    with ChunkFile(wf.path) as cf:
        assert cf.table == "t" and cf.rows == len(rows)
        assert (cf.groups["nrows"] <= BLOCK_ROWS).all()
        assert len(cf.groups) == 5 * 3  # 2500 rows per series -> 1024 + 1024 + 452
        assert_rows_equal(cf.read_all(), rows)
        part = cf.read_groups(cf.select_groups(np.array([2, 4]), rows.time[3000], rows.time[3100]), ["f"])
        assert set(np.unique(part.series)) == {2, 4} and list(part.fields) == ["f"]


def test_block_statistics_match_values(tmp_path):
    rows = sample_rows(np.random.default_rng(2))
    with ChunkFile(write_chunk_file(tmp_path / "a.tsc", "t", rows).path) as cf:
        names = {i: n for n, i in cf.column_index.items()}
        for b in cf.blocks[cf.blocks["column"] > 0]:
            g = cf.groups[b["group"]]
            sel = (rows.series == g["series"]) & (rows.time >= g["tmin"]) & (rows.time <= g["tmax"])
            col = rows.fields[names[int(b["column"])]]
            if col.valid is not None:
                sel &= col.valid
            vals, times = col.values[sel], rows.time[sel]
            assert b["count"] == len(vals) and b["first_time"] == times[0] and b["last_time"] == times[-1]
            if col.type is FieldType.STRING:
                continue
            if col.type is FieldType.FLOAT and np.isnan(vals).any():
                assert not b["flags"] & FLAG_STATS
                continue
            assert b["flags"] & FLAG_STATS
            assert from_bits(b["min"], col.type) == vals.min() and from_bits(b["max"], col.type) == vals.max()
            assert from_bits(b["first"], col.type) == vals[0] and from_bits(b["last"], col.type) == vals[-1]
            if col.type is FieldType.FLOAT:
                assert b["sum_f"] == pytest.approx(vals.sum())
            elif col.type is FieldType.INTEGER:
                assert b["sum_i"] == vals.sum()


@pytest.mark.parametrize("where", ["block", "footer", "trailer", "magic"])
def test_corruption_is_detected_by_checksum(tmp_path, where):
    rows = sample_rows(np.random.default_rng(3), nseries=2, per=1500)
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    data = bytearray(path.read_bytes())
    with ChunkFile(path) as cf:
        block_off = int(cf.blocks["offset"][3]) + 5
        footer_off = len(data) - 24 - 10
    pos = {"block": block_off, "footer": footer_off, "trailer": len(data) - 10, "magic": 2}[where]
    data[pos] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptData) as exc:
        with ChunkFile(path) as cf:
            cf.read_all()
    assert str(path) in str(exc.value)


def test_truncated_file_is_reported(tmp_path):
    rows = sample_rows(np.random.default_rng(4), nseries=1, per=100)
    path = write_chunk_file(tmp_path / "a.tsc", "t", rows).path
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(CorruptData):
            ChunkFile(path)


def test_empty_rows_are_refused(tmp_path):
    with pytest.raises(ValueError):
        write_chunk_file(tmp_path / "a.tsc", "t", Rows.empty())


def test_select_groups_by_binary_search_matches_a_scan_of_every_group(tmp_path):
    """Few series are found by binary search over the (series-ordered) groups: the same groups as
    testing every group, for present, absent and repeated-range series and any time range."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    rng = np.random.default_rng(7)
    nseries, per = 60, 2100  # three groups per series
    series = np.repeat(np.arange(1, 2 * nseries, 2, dtype=np.int64), per)  # odd ids only
    time = np.tile(np.arange(per, dtype=np.int64) * 1000, nseries)
    rows = Rows(series, time, {"f": Column(FieldType.FLOAT, rng.random(len(series)))})
    wf = write_chunk_file(tmp_path / "a.tsc", "t", rows)
    with ChunkFile(wf.path) as cf:
        g = cf.groups

        @settings(max_examples=200, deadline=None)
        @given(
            st.sets(st.integers(0, 2 * nseries + 2), max_size=6),
            st.integers(-10, per * 1000 + 10),
            st.integers(0, per * 1000),
        )
        def check(wanted, tmin, width):
            ids = np.array(sorted(wanted), dtype=np.int64)
            tmax = tmin + width
            expect = np.flatnonzero((g["tmax"] >= tmin) & (g["tmin"] <= tmax) & np.isin(g["series"], ids))
            assert cf.select_groups(ids, tmin, tmax).tolist() == expect.tolist()

        check()
