"""Immutable chunk files: one table of one shard, rows ordered by (series id, time).

Layout (all integers little-endian; drawn in docs/format/chunkfile.md)::

    offset 0        magic  b"TSGCHNK1"                                      8 bytes
    8               block 0 payload | CRC32C(payload) u32
                    block 1 payload | CRC32C(payload) u32
                    ...
    footer_offset   zstd(footer)                                            footer_len bytes
    end - 24        footer_offset u64 | footer_len u64 | CRC32C(zstd footer) u32 | b"TSGF"

Rows of a series are cut into *row groups* of at most ``BLOCK_ROWS`` rows. A row group stores one
``time`` block and, for every field column with a value in it, one field block holding that column's
values for the group's rows. Timestamps are therefore stored once per row and shared by the columns.
A field block whose column is missing on some rows starts with ``u32 len | validity payload`` (the
bool codec) and then holds only the present values. Every payload is self-describing
(columnar.encodings: codec id, count, body).

The footer (zstd-compressed) is::

    u32 meta_len | meta JSON | groups (column-wise) | blocks (column-wise)

where ``groups`` and ``blocks`` are the numpy structured arrays GROUP_DTYPE and BLOCK_DTYPE, written one
field after another (column-wise, so zstd finds the runs). Each block carries count, first/last
time and value statistics (min, max, sum, first, last) so aggregates over whole blocks skip decoding.
Statistic values are stored as the 8-byte pattern of the column's type (float64 bits for floats).
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import google_crc32c
import numpy as np
import zstandard
from numba import njit

from columnar import encodings
from columnar.encodings import STAGE_ID as STAGE
from columnar.errors import CorruptData
from columnar.fsio import fsync_dir
from columnar.rows import Column, Rows
from columnar.types import FieldType

MAGIC = b"TSGCHNK1"
TRAILER = struct.Struct("<QQI4s")
TRAILER_MAGIC = b"TSGF"
BLOCK_ROWS = 1024
FORMAT_VERSION = 1

FLAG_VALIDITY = 1  # payload starts with a validity bitmap
FLAG_STATS = 2  # min/max/first/last are usable (numeric or bool column without NaN)
FLAG_SUM_EXACT = 4  # sum_i (integers) or sum_f (floats) is exact

GROUP_DTYPE = np.dtype(
    [("series", "<i8"), ("tmin", "<i8"), ("tmax", "<i8"), ("nrows", "<i4"), ("first_block", "<i4")]
)
BLOCK_DTYPE = np.dtype(
    [
        ("group", "<i4"),
        ("column", "<i2"),  # 0 = time, i = meta["columns"][i - 1]
        ("flags", "u1"),
        ("count", "<i4"),
        ("offset", "<i8"),
        ("length", "<i4"),
        ("first_time", "<i8"),
        ("last_time", "<i8"),
        ("min", "<i8"),
        ("max", "<i8"),
        ("first", "<i8"),
        ("last", "<i8"),
        ("sum_f", "<f8"),
        ("sum_i", "<i8"),
    ]
)


def _crc(data: bytes) -> int:
    return google_crc32c.value(data)


def _columnwise(arr: np.ndarray) -> bytes:
    return b"".join(np.ascontiguousarray(arr[name]).tobytes() for name in arr.dtype.names or ())


def _from_columnwise(buf: bytes, dtype: np.dtype, n: int, pos: int) -> tuple[np.ndarray, int]:
    out = np.empty(n, dtype=dtype)
    fields: Mapping[str, tuple] = dtype.fields or {}
    for name in dtype.names or ():
        sub = fields[name][0]
        size = sub.itemsize * n
        if pos + size > len(buf):
            raise ValueError("footer too short")
        out[name] = np.frombuffer(buf, dtype=sub, count=n, offset=pos)
        pos += size
    return out, pos


def _bits(values: np.ndarray) -> np.ndarray:
    """The 8-byte pattern of each value as int64 (floats by bits, bools as 0/1)."""
    if values.dtype == np.bool_:
        return values.astype(np.int64)
    return values.view(np.int64) if values.dtype.itemsize == 8 else values.astype(np.int64)


def from_bits(bits: np.ndarray, ftype: FieldType) -> np.ndarray:
    """Inverse of the statistic encoding for a column of type ``ftype``."""
    bits = np.asarray(bits, dtype=np.int64)
    if ftype is FieldType.FLOAT:
        return bits.view(np.float64)
    if ftype is FieldType.UNSIGNED:
        return bits.view(np.uint64)
    if ftype is FieldType.BOOLEAN:
        return bits.astype(bool)
    return bits


class BlockSpans(NamedTuple):
    """Blocks of some row groups in one byte buffer (:meth:`ChunkFile.spans`). Per (group, column)
    (column 0 = time, then the names asked for): block index (-1: no block), payload position in
    ``buf`` (its CRC32C follows), payload length, value count, validity flag. (A named tuple: a
    frozen dataclass of seven fields costs ~1.3 us to make, every aggregate scan of a file.)"""

    buf: np.ndarray
    block: np.ndarray
    at: np.ndarray
    length: np.ndarray
    count: np.ndarray
    validity: np.ndarray
    rows: np.ndarray  # per group


_TAG = {FieldType.INTEGER: 0, FieldType.UNSIGNED: 1, FieldType.FLOAT: 2}


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    rows: int
    bytes: int
    min_time: int
    max_time: int


def write_chunk_file(path: str | Path, table: str, rows: Rows, *, level: int = 0) -> WrittenFile:
    """Write rows (sorted by (series, time), no duplicates) to ``path`` atomically (tmp + rename)."""
    if len(rows) == 0:
        raise ValueError("refusing to write an empty chunk file")
    with ChunkWriter(path, table, [(n, rows.fields[n].type) for n in rows.fields], level=level) as w:
        w.add(rows)
        return w.finish()


class ChunkWriter:
    """A chunk file written piece by piece: each :meth:`add` encodes its rows' groups and blocks at
    once, so the rows of a file need not all be in memory together (compaction merges its inputs a
    range of series at a time). Pieces come in (series, time) order, each after the one before; a
    series should not be split between pieces (its groups would be cut there). :meth:`finish`
    writes the footer, syncs and renames the file into place; leaving the ``with`` block without it
    removes the partial file.

        with ChunkWriter(path, "cpu", [("usage", FieldType.FLOAT)], level=1) as w:
            for rows in pieces:
                w.add(rows)
            written = w.finish()
    """

    def __init__(
        self, path: str | Path, table: str, columns: list[tuple[str, FieldType]], *, level: int = 0
    ) -> None:
        self.path = Path(path)
        self.table = table
        self.level = level
        self.types = dict(columns)
        self.names = sorted(self.types)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self._f = open(self.tmp, "wb")  # noqa: SIM115 (closed by finish or __exit__)
        self._f.write(MAGIC)
        self.offset = len(MAGIC)
        self.rows = 0
        self.min_time = int(np.iinfo(np.int64).max)
        self.max_time = int(np.iinfo(np.int64).min)
        self._groups: list[np.ndarray] = []
        self._ngroups = 0
        self._blocks: list[tuple] = []
        self._last: tuple[int, int] | None = None  # (series, time) of the last row added

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._f.closed:  # not finished: drop the partial file
            self._f.close()
            self.tmp.unlink(missing_ok=True)

    def _put(self, payload: bytes) -> tuple[int, int]:
        self._f.write(payload)
        self._f.write(struct.pack("<I", _crc(payload)))
        at = self.offset
        self.offset += len(payload) + 4
        return at, len(payload)

    def add(self, rows: Rows) -> None:
        """Encode ``rows`` (sorted by (series, time), no duplicates, after every row added before)."""
        n = len(rows)
        if n == 0:
            return
        series, time = rows.series, rows.time
        first = (int(series[0]), int(time[0]))
        if self._last is not None and first <= self._last:
            raise ValueError(f"rows out of order: {first} after {self._last}")
        unknown = set(rows.fields) - set(self.types)
        if unknown:
            raise ValueError(f"columns not declared for this file: {sorted(unknown)}")
        # row groups: a new group at each series change and every BLOCK_ROWS rows within a series
        run_start = np.ones(n, dtype=bool)
        run_start[1:] = series[1:] != series[:-1]
        starts_idx = np.flatnonzero(run_start)
        run_len = np.diff(np.append(starts_idx, n))
        pos_in_run = np.arange(n, dtype=np.int64) - np.repeat(starts_idx, run_len)
        g_starts = np.flatnonzero(pos_in_run % BLOCK_ROWS == 0)
        g_ends = np.append(g_starts[1:], n)
        ngroups = len(g_starts)
        groups = np.zeros(ngroups, dtype=GROUP_DTYPE)
        groups["series"] = series[g_starts]
        groups["tmin"] = time[g_starts]
        groups["tmax"] = time[g_ends - 1]
        groups["nrows"] = g_ends - g_starts
        row_group = np.repeat(np.arange(ngroups), g_ends - g_starts)
        present = [name for name in self.names if name in rows.fields]
        stats = {name: _group_stats(rows.fields[name], time, row_group, ngroups) for name in present}
        col_index = {name: i for i, name in enumerate(self.names, start=1)}
        blocks = self._blocks
        base = self._ngroups
        for g in range(ngroups):
            a, b = int(g_starts[g]), int(g_ends[g])
            groups["first_block"][g] = len(blocks)
            at, ln = self._put(encodings.encode(time[a:b], "time"))
            t0, t1 = int(time[a]), int(time[b - 1])
            blocks.append((base + g, 0, 0, b - a, at, ln, t0, t1, 0, 0, 0, 0, 0.0, 0))
            for name in present:
                st = stats[name]
                if st["count"][g] == 0:
                    continue
                col = rows.fields[name]
                vals = col.values[a:b]
                flags = int(st["flags"][g])
                if col.valid is not None and not col.valid[a:b].all():
                    mask = col.valid[a:b]
                    vb = encodings.encode(mask, "bool")
                    payload = (
                        struct.pack("<I", len(vb)) + vb + encodings.encode(vals[mask], col.type.codec_kind)
                    )
                    flags |= FLAG_VALIDITY
                else:
                    payload = encodings.encode(vals, col.type.codec_kind)
                at, ln = self._put(payload)
                blocks.append(
                    (
                        base + g,
                        col_index[name],
                        flags,
                        int(st["count"][g]),
                        at,
                        ln,
                        int(st["first_time"][g]),
                        int(st["last_time"][g]),
                        int(st["min"][g]),
                        int(st["max"][g]),
                        int(st["first"][g]),
                        int(st["last"][g]),
                        float(st["sum_f"][g]),
                        int(st["sum_i"][g]),
                    )
                )
        self._groups.append(groups)
        self._ngroups += ngroups
        self.rows += n
        self.min_time = min(self.min_time, int(time.min()))
        self.max_time = max(self.max_time, int(time.max()))
        self._last = (int(series[-1]), int(time[-1]))

    def finish(self) -> WrittenFile:
        """Write the footer, sync, and move the file into place."""
        if self.rows == 0:
            raise ValueError("refusing to write an empty chunk file")
        f = self._f
        block_arr = np.array(self._blocks, dtype=BLOCK_DTYPE)
        groups = np.concatenate(self._groups)
        meta = {
            "version": FORMAT_VERSION,
            "table": self.table,
            "level": self.level,
            "columns": [[name, int(self.types[name])] for name in self.names],
            "rows": self.rows,
            "groups": len(groups),
            "blocks": len(block_arr),
            "min_time": self.min_time,
            "max_time": self.max_time,
        }
        mj = json.dumps(meta).encode()
        footer = zstandard.ZstdCompressor(level=9).compress(
            struct.pack("<I", len(mj)) + mj + _columnwise(groups) + _columnwise(block_arr)
        )
        f.write(footer)
        f.write(TRAILER.pack(self.offset, len(footer), _crc(footer), TRAILER_MAGIC))
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
        f.close()
        os.replace(self.tmp, self.path)
        fsync_dir(self.path.parent)
        return WrittenFile(self.path, self.rows, size, self.min_time, self.max_time)


def _group_stats(col: Column, time: np.ndarray, row_group: np.ndarray, ngroups: int) -> dict[str, np.ndarray]:
    """Per row group statistics of one column over its present values, vectorised with reduceat."""
    out = {
        k: np.zeros(ngroups, dtype=np.float64 if k == "sum_f" else np.int64)
        for k in (
            "count",
            "first_time",
            "last_time",
            "min",
            "max",
            "first",
            "last",
            "sum_f",
            "sum_i",
            "flags",
        )
    }
    if col.valid is None:
        vals, times, grp = col.values, time, row_group
    else:
        vals, times, grp = col.values[col.valid], time[col.valid], row_group[col.valid]
    if len(vals) == 0:
        return out
    counts = np.bincount(grp, minlength=ngroups)
    present = np.flatnonzero(counts)
    starts = np.concatenate(([0], np.cumsum(counts[present])[:-1]))
    ends = starts + counts[present] - 1
    out["count"][present] = counts[present]
    out["first_time"][present] = times[starts]
    out["last_time"][present] = times[ends]
    if col.type is FieldType.STRING:
        return out
    out["first"][present] = _bits(vals[starts])
    out["last"][present] = _bits(vals[ends])
    flags = np.full(len(present), FLAG_STATS, dtype=np.int64)
    if col.type is FieldType.FLOAT:
        mins = np.minimum.reduceat(vals, starts)
        maxs = np.maximum.reduceat(vals, starts)
        sums = np.add.reduceat(vals, starts)
        nan = np.isnan(sums)  # any NaN in the group (or inf - inf): statistics unusable
        flags = np.where(nan, 0, FLAG_STATS | FLAG_SUM_EXACT)
        out["min"][present] = _bits(mins)
        out["max"][present] = _bits(maxs)
        out["sum_f"][present] = sums
    else:
        as_int = vals.astype(np.int64) if col.type is FieldType.BOOLEAN else vals
        out["min"][present] = _bits(np.minimum.reduceat(as_int, starts))
        out["max"][present] = _bits(np.maximum.reduceat(as_int, starts))
        approx = np.add.reduceat(as_int.astype(np.float64), starts)
        out["sum_i"][present] = np.add.reduceat(as_int, starts).astype(np.int64)
        out["sum_f"][present] = approx
        exact = np.abs(approx) < 2.0**62
        flags = np.where(exact, FLAG_STATS | FLAG_SUM_EXACT, FLAG_STATS)
    out["flags"][present] = flags
    return out


class ChunkFile:
    """A read-only, memory-mapped chunk file. Footer and block checksums are verified on use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._closed = True  # until the file is mapped
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < len(MAGIC) + TRAILER.size:
                raise CorruptData(str(self.path), f"file of {size} bytes is too short")
            # the map keeps its own reference to the file: a replaced file can be unlinked while a
            # reader still holds this object, and the map goes away with the last reference
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self._closed = False
        try:
            self._load_footer(size)
        except BaseException:
            self.close()
            raise

    def _load_footer(self, size: int) -> None:
        if self._map[: len(MAGIC)] != MAGIC:
            raise CorruptData(str(self.path), "bad magic at offset 0")
        off, ln, crc, magic = TRAILER.unpack_from(self._map, size - TRAILER.size)
        if magic != TRAILER_MAGIC or off + ln != size - TRAILER.size or off < len(MAGIC):
            raise CorruptData(str(self.path), "bad trailer (truncated or overwritten file)")
        raw = self._map[off : off + ln]
        if _crc(raw) != crc:
            raise CorruptData(str(self.path), f"footer checksum mismatch at offset {off}")
        try:
            footer = zstandard.ZstdDecompressor().decompress(raw)
            (mlen,) = struct.unpack_from("<I", footer, 0)
            self.meta = json.loads(footer[4 : 4 + mlen])
            self.groups, pos = _from_columnwise(footer, GROUP_DTYPE, self.meta["groups"], 4 + mlen)
            self.blocks, pos = _from_columnwise(footer, BLOCK_DTYPE, self.meta["blocks"], pos)
        except (ValueError, KeyError, zstandard.ZstdError, struct.error) as exc:
            raise CorruptData(str(self.path), f"footer cannot be decoded: {exc}") from exc
        self.columns: list[tuple[str, FieldType]] = [(n, FieldType(t)) for n, t in self.meta["columns"]]
        self.column_index = {n: i for i, (n, _) in enumerate(self.columns, start=1)}
        self._col_ids: dict[tuple[str, ...], np.ndarray] = {}  # names -> column indices (_column_ids)
        self._block_end = np.append(self.groups["first_block"][1:], len(self.blocks)).astype(np.int64)
        # the per-block loop reads these as plain lists: numpy scalar access per block costs more
        # than decoding a small block
        b = self.blocks
        self._b_off = b["offset"].tolist()
        self._b_len = b["length"].tolist()
        self._b_col = b["column"].tolist()
        self._b_count = b["count"].tolist()
        self._b_validity = ((b["flags"] & FLAG_VALIDITY) != 0).tolist()
        self._g_first = self.groups["first_block"].tolist()
        self._g_end = self._block_end.tolist()
        self._limit = len(self._map) - TRAILER.size
        # block index of (row group, column) (-1: the group has no block of that column), for the
        # batched reader (columnar.blockdecode)
        grid = np.full((len(self.groups), len(self.columns) + 1), -1, dtype=np.int64)
        if len(b):
            ok = (
                (b["group"] >= 0)
                & (b["group"] < len(self.groups))
                & (b["column"] >= 0)
                & (b["column"] <= len(self.columns))
            )
            grid[b["group"][ok], b["column"][ok]] = np.flatnonzero(ok)
        self._grid = grid
        # the writer cuts groups from rows sorted by (series, time): a series' groups are one run,
        # found by binary search (a file not so ordered is searched group by group)
        gs = self._g_series = np.ascontiguousarray(self.groups["series"], dtype=np.int64)
        self._group_series = gs if bool((gs[1:] >= gs[:-1]).all()) else None
        # the block table as plain arrays for the span layout kernel
        self._lay = (
            np.ascontiguousarray(self.groups["first_block"], dtype=np.int64),
            np.ascontiguousarray(self.groups["nrows"], dtype=np.int64),
            np.ascontiguousarray(b["offset"], dtype=np.int64),
            np.ascontiguousarray(b["length"], dtype=np.int64),
            np.ascontiguousarray(b["count"], dtype=np.int64),
            np.ascontiguousarray(b["flags"], dtype=np.int64),
            np.ascontiguousarray(b["column"], dtype=np.int64),
            np.ascontiguousarray(self.groups["tmin"], dtype=np.int64),
            np.ascontiguousarray(self.groups["tmax"], dtype=np.int64),
        )

    # -- metadata ------------------------------------------------------------------------------------
    @property
    def table(self) -> str:
        return self.meta["table"]

    @property
    def level(self) -> int:
        return int(self.meta["level"])

    @property
    def rows(self) -> int:
        return int(self.meta["rows"])

    @property
    def min_time(self) -> int:
        return int(self.meta["min_time"])

    @property
    def max_time(self) -> int:
        return int(self.meta["max_time"])

    def select_groups(self, series: np.ndarray | None, tmin: int, tmax: int) -> np.ndarray:
        """Indices of row groups of the given series (sorted int64 ids; None = all) overlapping [tmin, tmax]."""
        g = self.groups
        gs = self._group_series
        if series is not None and gs is not None and len(series) * 16 < len(gs):
            # few series: the runs of their groups, by binary search
            return _select_runs(gs, self._lay[7], self._lay[8], np.asarray(series, np.int64), tmin, tmax)
        mask = (g["tmax"] >= tmin) & (g["tmin"] <= tmax)
        if series is not None:
            mask &= np.isin(g["series"], series, assume_unique=False)
        return np.flatnonzero(mask)

    # -- decoding ------------------------------------------------------------------------------------
    def _payload(self, bi: int) -> bytes:
        off = self._b_off[bi]
        end = off + self._b_len[bi]
        if off < len(MAGIC) or end + 4 > self._limit:
            raise CorruptData(str(self.path), f"block {bi} points outside the file")
        payload = self._map[off:end]  # a copy: no buffer of the map outlives a read
        (crc,) = struct.unpack_from("<I", self._map, end)
        if _crc(payload) != crc:
            raise CorruptData(str(self.path), f"block {bi} checksum mismatch at offset {off}")
        return payload

    def _decode(self, bi: int, rows: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Decode block ``bi`` of a row group of ``rows`` rows; counts are checked before decoding,
        so a payload can never make the reader allocate more than the footer promised."""
        payload = self._payload(bi)
        count = self._b_count[bi] if self._b_col[bi] else rows
        try:
            if self._b_validity[bi]:
                (vlen,) = struct.unpack_from("<I", payload, 0)
                vpay, values = payload[4 : 4 + vlen], payload[4 + vlen :]
                if encodings.decode_count(vpay) != rows or encodings.decode_count(values) != count:
                    raise CorruptData(str(self.path), f"block {bi} holds other counts than its row group")
                return encodings.decode(values), encodings.decode(vpay)
            if encodings.decode_count(payload) != rows:
                raise CorruptData(
                    str(self.path),
                    f"block {bi} holds {encodings.decode_count(payload)} values, expected {rows}",
                )
            return encodings.decode(payload), None
        except CorruptData:
            raise
        except Exception as exc:  # a codec refusing a payload that passed its checksum
            raise CorruptData(str(self.path), f"block {bi} cannot be decoded: {exc}") from exc

    def read_groups(self, gidx: np.ndarray, columns: list[str] | None = None) -> Rows:
        """Decode the given row groups (in order) into Rows; ``columns`` None = every column."""
        wanted = (
            [n for n, _ in self.columns]
            if columns is None
            else [c for c in columns if c in self.column_index]
        )
        types = dict(self.columns)
        if len(gidx) == 0:
            return Rows.empty({n: types[n] for n in wanted})
        gidx = np.asarray(gidx, dtype=np.int64)
        nrows = self.groups["nrows"][gidx].astype(np.int64)
        total = int(nrows.sum())
        offsets = np.concatenate(([0], np.cumsum(nrows)))
        series = np.repeat(self.groups["series"][gidx], nrows)
        time = np.empty(total, dtype=np.int64)
        outs = {}
        for name in wanted:
            ft = types[name]
            vals = np.empty(total, dtype=ft.numpy_dtype)
            if ft is FieldType.STRING:
                vals[:] = ""
            else:
                vals[:] = 0
            outs[name] = (vals, np.zeros(total, dtype=bool))
        slow = self._read_batched(gidx, offsets, time, outs, types)
        if slow:
            self._read_blocks(gidx, offsets, time, {n: outs[n] for n in slow}, with_time=slow is wanted)
        fields = {n: Column(types[n], v, m) for n, (v, m) in outs.items()}
        return Rows(series, time, fields)

    def classify_groups(
        self,
        gidx: np.ndarray,
        clean: np.ndarray,
        whole: np.ndarray,
        names: list[str],
        tmin: int,
        tmax: int,
        every: int,
        offset: int,
        use_stats: bool,
        fusable: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How an aggregate reads each given row group: (class per group, block index of each of
        ``names`` per group (-1: none; rows follow ``names``), [groups of class 0, of class 1, rows of
        class 1, at most how many pieces the fused kernel makes of class 1: per group one per bucket
        of [tmin, tmax] it covers, never more than its rows; one a group without buckets]). Classes: STATS (0) the groups' block statistics (``use_stats``, ``whole``, inside
        [tmin, tmax] and one bucket of ``every``, each block's statistics usable and its sum exact);
        FUSED (1) a decoding kernel (``fusable`` and ``whole``); ROWS (2) merged rows; SKIP (3) not
        at all (not ``whole`` but ``clean``, with no ``use_stats``: statistics exclude a match).
        ``clean``: no other source or tombstone touches the group; ``whole``: clean and worth reading."""
        gidx = np.ascontiguousarray(gidx, dtype=np.int64)
        cols = self._column_ids(names)
        cls = np.empty(len(gidx), np.int8)
        bis = np.empty((len(names), len(gidx)), np.int64)
        counts = np.zeros(4, np.int64)
        _classify_groups(
            gidx, clean, whole, self._lay[1], self._lay[7], self._lay[8], self._grid, cols, self._lay[5],
            FLAG_STATS | FLAG_SUM_EXACT, tmin, tmax, every, offset, use_stats, fusable, cls, bis, counts,
        )  # fmt: skip
        return cls, bis, counts

    def _column_ids(self, names: list[str]) -> np.ndarray:
        """The column index of each of ``names`` (-1: none here), for the kernels, which only read
        it; remembered per list of names (a query's columns are asked for again and again)."""
        key = tuple(names)
        got = self._col_ids.get(key)
        if got is None:
            if len(self._col_ids) > 256:
                self._col_ids.clear()
            got = self._col_ids[key] = np.array([self.column_index.get(n, -1) for n in names], np.int64)
        return got

    @property
    def group_series(self) -> np.ndarray:
        """Each row group's series, as a contiguous int64 array (for kernels)."""
        return self._g_series

    @property
    def group_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row group's first and last time, as contiguous int64 arrays (for kernels)."""
        return self._lay[7], self._lay[8]

    def column_blocks(self, gidx: np.ndarray, name: str) -> np.ndarray:
        """Block index of column ``name`` in each given row group (-1: none)."""
        ci = self.column_index.get(name)
        if ci is None:
            return np.full(len(gidx), -1, dtype=np.int64)
        return self._grid[np.asarray(gidx, dtype=np.int64), ci]

    def spans(self, gidx: np.ndarray, names: list[str]) -> BlockSpans | None:
        """Where the time block and the blocks of ``names`` of each given row group are, in one byte
        buffer copied from the file (ranges less than 4 KiB apart merged), for the batched kernels of
        columnar.blockdecode. None when the footer's block table is not what the writer makes (time
        block first, inside the file): callers then read block by block, which reports the damage."""
        gidx = np.ascontiguousarray(gidx, dtype=np.int64)
        cols = self._column_ids(names)
        ok, ordered, lay, validity, runs = _span_plan(
            gidx, cols, self._grid, *self._lay[:7], self._limit, len(MAGIC), SPAN_GAP
        )
        if not ok:
            return None
        if ordered:
            block, at, length, count = lay
            run_lo, run_hi = runs
        else:  # (the writer's files keep groups and their blocks in offset order)
            # (sorted here: np.argsort inside a cached numba kernel gave other orders once loaded
            # from numba's cache, numba 0.68)
            lay, validity = span_layout(len(gidx), len(cols) + 1)
            _, off, end, where = _span_blocks(
                gidx, cols, self._grid, *self._lay[:7], self._limit, len(MAGIC), lay, validity
            )
            block, at, length, count = lay
            order = np.argsort(off, kind="stable")
            run_lo, run_hi = _span_runs(off, end, where, order, at, SPAN_GAP)
        rows = self._lay[1][gidx]
        if len(run_lo) == 1:
            buf = self._map[int(run_lo[0]) : int(run_hi[0])]
        else:
            buf = b"".join(
                self._map[int(x) : int(y)] for x, y in zip(run_lo.tolist(), run_hi.tolist(), strict=True)
            )
        arr = np.frombuffer(buf, dtype=np.uint8)
        if _any_staged(arr, block, at, validity):
            arr = self._unwrap_stage(arr, block, at, length, validity)
        return BlockSpans(arr, block, at, length, count, validity, rows)

    def _unwrap_stage(self, arr, block, at, length, validity) -> np.ndarray:
        """Blocks whose values went through the zstd stage (no numba kernel can inflate them):
        checked against their CRC here, inflated, and appended to the buffer as the inner codec's
        payload (its own CRC after it); ``at``/``length`` are repointed there (in place)."""
        has = block >= 0
        a = at[has]
        val = validity[has]
        if not val.any() and not (arr[a] == encodings.STAGE_ID).any():
            return arr
        present = np.argwhere(has)
        vpos = a.copy()
        if val.any():
            va = a[val]
            vlen = (
                arr[va].astype(np.int64)
                | (arr[va + 1].astype(np.int64) << 8)
                | (arr[va + 2].astype(np.int64) << 16)
                | (arr[va + 3].astype(np.int64) << 24)
            )
            vpos[val] = np.minimum(va + 4 + vlen, len(arr) - 1)
        staged = np.flatnonzero(arr[vpos] == encodings.STAGE_ID)
        if not len(staged):
            return arr
        extra: list[bytes] = []
        pos = len(arr)
        for k in staged.tolist():
            i, j = present[k]
            start, n = int(at[i, j]), int(length[i, j])
            payload = arr[start : start + n].tobytes()
            (crc,) = struct.unpack_from("<I", arr[start + n : start + n + 4].tobytes())
            if _crc(payload) != crc:
                continue  # left as it is: the kernel reports it and the caller raises
            head = payload[: int(vpos[k]) - start]
            try:
                view, cnt, body_at = encodings._header(payload[len(head) :])
                inner = encodings.zstd_stage._inner(view[body_at:])
            except Exception:
                continue  # likewise
            if not inner:
                continue
            new = head + bytes((inner[0],)) + encodings.uvarint(cnt) + inner[1:]
            new += struct.pack("<I", _crc(new))
            at[i, j], length[i, j] = pos, len(new) - 4
            extra.append(new)
            pos += len(new)
        if not extra:
            return arr
        return np.frombuffer(arr.tobytes() + b"".join(extra), dtype=np.uint8)

    def _read_batched(self, gidx, offsets, time, outs, types) -> list[str] | None:
        """Decode time and the fixed-width columns of the groups with columnar.blockdecode, one kernel
        call per column; blocks it leaves (other codecs, damage) go through :meth:`_decode`. Returns the
        columns still to read block by block (None: none), or every wanted column (the same list) when
        the batched path does not apply at all."""
        from columnar import blockdecode as bd

        wanted = list(outs)
        fixed = [n for n in wanted if types[n] not in (FieldType.STRING, FieldType.BOOLEAN)]
        sp = self.spans(gidx, fixed)
        if sp is None:
            return wanted
        lo_all = offsets[:-1].astype(np.int64)
        slow_blocks: list[tuple[str | None, int, int, int]] = []  # (column, block, lo, hi)
        for j, name in enumerate([None, *fixed]):
            present = sp.block[:, j] >= 0
            if name is None:
                out, want_tag = time.view(np.uint64), bd.TAG_INT64
                valid = np.empty(len(time), np.uint8)
            else:
                vals, valid_b = outs[name]
                want_tag = _TAG.get(types[name], bd.TAG_INT64)
                out, valid = vals.view(np.uint64), valid_b.view(np.uint8)
            lo = lo_all[present]
            rows = sp.rows[present]
            status = np.zeros(len(lo), np.int8)
            nbad = bd.decode_column(
                sp.buf,
                sp.at[present, j],
                sp.length[present, j],
                sp.count[present, j],
                rows,
                sp.validity[present, j],
                want_tag,
                lo,
                out,
                valid,
                status,
                True,
            )
            if nbad:
                bis = sp.block[present, j]
                for k in np.flatnonzero(status != bd.OK).tolist():
                    slow_blocks.append((name, int(bis[k]), int(lo[k]), int(lo[k] + rows[k])))
        for name, bi, lo_, hi in slow_blocks:
            if name is None:
                t, _ = self._decode(bi, hi - lo_)
                if len(t) != hi - lo_:
                    g = int(self.blocks["group"][bi])
                    raise CorruptData(
                        str(self.path), f"row group {g} time block holds {len(t)} rows, expected {hi - lo_}"
                    )
                time[lo_:hi] = t
            else:
                self._place(bi, lo_, hi, *outs[name])
        return [n for n in wanted if n not in fixed]

    def _place(self, bi: int, lo: int, hi: int, vals: np.ndarray, valid: np.ndarray) -> None:
        v, m = self._decode(bi, hi - lo)
        if m is None:
            if len(v) != hi - lo:
                raise CorruptData(str(self.path), f"block {bi} holds {len(v)} values, expected {hi - lo}")
            vals[lo:hi] = v
            valid[lo:hi] = True
        else:
            if len(m) != hi - lo or int(m.sum()) != len(v):
                raise CorruptData(str(self.path), f"block {bi} validity does not match its values")
            seg = vals[lo:hi]
            seg[m] = v
            valid[lo:hi] = m

    def _read_blocks(self, gidx, offsets, time, outs, *, with_time: bool) -> None:
        """The block-by-block reader: time (when asked) and the given columns of the groups."""
        want_idx = {self.column_index[n]: n for n in outs}
        bounds = offsets.tolist()
        for k, g in enumerate(gidx.tolist()):
            lo, hi = bounds[k], bounds[k + 1]
            first, last = self._g_first[g], self._g_end[g]
            if with_time:
                t, _ = self._decode(first, hi - lo)
                if len(t) != hi - lo:
                    raise CorruptData(
                        str(self.path), f"row group {g} time block holds {len(t)} rows, expected {hi - lo}"
                    )
                time[lo:hi] = t
            for bi in range(first + 1, last):
                cname = want_idx.get(self._b_col[bi])
                if cname is None:
                    continue
                self._place(bi, lo, hi, *outs[cname])

    def read_all(self, columns: list[str] | None = None) -> Rows:
        return self.read_groups(np.arange(len(self.groups)), columns)

    def verify(self) -> list[str]:
        """Check every block checksum and decode every block; return the problems found."""
        problems = []
        for bi in range(len(self.blocks)):
            try:
                self._payload(bi)
            except CorruptData as exc:
                problems.append(str(exc))
        return problems

    def close(self) -> None:
        if not self._closed:
            self._map.close()
            self._closed = True

    def __enter__(self) -> ChunkFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


GROUP_STATS, GROUP_FUSED, GROUP_ROWS, GROUP_SKIP = 0, 1, 2, 3  # ChunkFile.classify_groups


@njit(cache=True, nogil=True)
def _classify_groups(
    gidx, clean, whole, g_rows, g_tmin, g_tmax, grid, cols, b_flags, need, tmin, tmax, every, offset,
    use_stats, fusable, cls, bis, counts,
):  # fmt: skip
    """ChunkFile.classify_groups, one pass over the groups (what took ~20 numpy steps per file)."""
    for i in range(len(gidx)):
        g = gidx[i]
        st = use_stats and whole[i] and g_tmin[g] >= tmin and g_tmax[g] <= tmax
        if st and every > 0:
            st = (g_tmin[g] - offset) // every == (g_tmax[g] - offset) // every
        for j in range(len(cols)):
            bi = grid[g, cols[j]] if cols[j] >= 0 else -1
            bis[j, i] = bi
            if st and bi >= 0 and (b_flags[bi] & need) != need:
                st = False
        if st:
            cls[i] = GROUP_STATS
            counts[0] += 1
        elif fusable and whole[i]:
            cls[i] = GROUP_FUSED
            counts[1] += 1
            counts[2] += g_rows[g]
            if every > 0:  # (as columnar.scan._pieces_cap counts them)
                hi = (min(g_tmax[g], tmax) - offset) // every
                lo = (max(g_tmin[g], tmin) - offset) // every
                counts[3] += min(max(hi - lo + 1, 1), g_rows[g])
            else:
                counts[3] += 1
        elif use_stats or whole[i] or not clean[i]:
            cls[i] = GROUP_ROWS
        else:
            cls[i] = GROUP_SKIP


SPAN_GAP = 4096  # blocks of other columns less than this far apart are copied along (one read)


@njit(cache=True, nogil=True)
def _span_blocks(
    gidx, cols, grid, g_first, g_rows, b_off, b_len, b_count, b_flags, b_col, limit, head, lay, validity
):  # fmt: skip
    """The time block (column 0) and the blocks of ``cols`` of each group, into ``lay`` (per group
    and column: block index, -1 none; its position, left as it is; length; count) and ``validity``
    (:func:`span_layout`'s blanks): (ok, and per block present its file offset, end (after its CRC)
    and i * k + j). Not ok when the block table is not what the writer makes (time block first and
    without validity, blocks inside the file)."""
    n, k = len(gidx), len(cols) + 1
    nb = len(b_off)
    block, length, count = lay[0], lay[2], lay[3]
    m = 0
    bad = False
    for i in range(n):
        g = gidx[i]
        tb = g_first[g]
        if tb < 0 or tb >= nb or b_col[tb] != 0 or (b_flags[tb] & FLAG_VALIDITY) != 0:
            bad = True
            break
        block[i, 0] = tb
        for j in range(1, k):
            ci = cols[j - 1]
            if ci >= 0:
                block[i, j] = grid[g, ci]
        for j in range(k):
            if block[i, j] >= 0:
                m += 1
    off = np.empty(0 if bad else m, np.int64)
    end = np.empty(len(off), np.int64)
    where = np.empty(len(off), np.int64)
    if bad or m == 0:
        return False, off, end, where
    m = 0
    for i in range(n):
        for j in range(k):
            bi = block[i, j]
            if bi < 0:
                continue
            o, ln = b_off[bi], b_len[bi]
            if o < head or ln < 0 or o + ln + 4 > limit:
                return False, off, end, where
            off[m] = o
            end[m] = o + ln + 4
            where[m] = i * k + j
            length[i, j] = ln
            count[i, j] = g_rows[gidx[i]] if j == 0 else b_count[bi]
            validity[i, j] = (b_flags[bi] & FLAG_VALIDITY) != 0
            m += 1
    return True, off, end, where


@njit(cache=True, nogil=True)
def span_layout(n, k):
    """Blank layouts of n groups of k blocks: (lay: block index and position -1, length and count 0,
    per group and column; validity: False)."""
    lay = np.zeros((4, n, k), np.int64)
    lay[0] = -1
    lay[1] = -1
    return lay, np.zeros((n, k), np.bool_)


@njit(cache=True, nogil=True)
def _span_plan(gidx, cols, grid, g_first, g_rows, b_off, b_len, b_count, b_flags, b_col, limit, head, gap):
    """:func:`_span_blocks`, and when the blocks' offsets, each group's sorted, come in ascending
    order (as the writer lays out groups and their columns) :func:`_span_runs` too, in one call: (ok,
    ordered, lay, validity, runs): ``lay`` per group and column its block index (-1: none), position
    in the copied runs, payload length and value count; ``runs`` the (from, to) file ranges to copy.
    Not ordered: the positions are all -1 and there are no runs, for the caller to sort and cut.
    (Three arrays, not ten: each array a kernel returns costs its caller ~0.4 us.)"""
    lay, validity = span_layout(len(gidx), len(cols) + 1)
    ok, off, end, where = _span_blocks(
        gidx, cols, grid, g_first, g_rows, b_off, b_len, b_count, b_flags, b_col, limit, head, lay, validity
    )
    at = lay[1]
    # each group's blocks by offset (a query names its columns in any order; the writer lays out a
    # group's blocks together): a stable insertion sort within each group's few blocks, then the
    # groups must follow one another
    k = at.shape[1]
    order = np.arange(len(off))
    lo = 0
    while lo < len(off):
        hi = lo + 1
        while hi < len(off) and where[hi] // k == where[lo] // k:
            hi += 1
        for q in range(lo + 1, hi):
            x = order[q]
            r = q
            while r > lo and off[order[r - 1]] > off[x]:
                order[r] = order[r - 1]
                r -= 1
            order[r] = x
        lo = hi
    ordered = True
    for q in range(1, len(off)):
        if off[order[q]] < off[order[q - 1]]:
            ordered = False
            break
    if ok and ordered:
        run_lo, run_hi = _span_runs(off, end, where, order, at, gap)
        runs = np.empty((2, len(run_lo)), np.int64)
        runs[0] = run_lo
        runs[1] = run_hi
    else:
        runs = np.empty((2, 0), np.int64)
    return ok, ordered, lay, validity, runs


@njit(cache=True, nogil=True)
def _span_runs(off, end, where, order, at, gap):
    """The runs of the file to copy (blocks in ``order`` of offset, ranges less than ``gap`` bytes
    apart merged): (run_lo, run_hi); ``at`` (groups x columns) gets each block's position in the
    copied runs."""
    m = len(off)
    k = at.shape[1]
    run_lo = np.empty(m, np.int64)
    run_hi = np.empty(m, np.int64)
    r = -1
    base = 0  # position in the copied buffer of the current run's start
    for q in range(m):
        x = order[q]
        if r < 0 or off[x] > run_hi[r] + gap:
            if r >= 0:
                base += run_hi[r] - run_lo[r]
            r += 1
            run_lo[r] = off[x]
            run_hi[r] = end[x]
        elif end[x] > run_hi[r]:
            run_hi[r] = end[x]
        w = where[x]
        at[w // k, w % k] = base + off[x] - run_lo[r]
    return run_lo[: r + 1], run_hi[: r + 1]


@njit(cache=True, nogil=True)
def _any_staged(arr, block, at, validity) -> bool:
    """Whether a block's values went through the zstd stage (or it has a validity bitmap, whose
    values start further on): :meth:`ChunkFile._unwrap_stage` then looks closer."""
    n, k = block.shape
    for i in range(n):
        for j in range(k):
            if block[i, j] < 0:
                continue
            if validity[i, j]:
                return True
            a = at[i, j]
            if 0 <= a < len(arr) and arr[a] == STAGE:
                return True
    return False


@njit(cache=True, nogil=True)
def _select_runs(gs, g_tmin, g_tmax, series, tmin, tmax):
    """Groups of ``series`` (groups ordered by series: each series' groups are one run) overlapping
    [tmin, tmax], in group order when ``series`` is sorted."""
    out = np.empty(0, np.int64)
    parts = []
    total = 0
    for s in series:
        lo = np.searchsorted(gs, s, "left")
        hi = np.searchsorted(gs, s, "right")
        keep = np.empty(hi - lo, np.int64)
        n = 0
        for i in range(lo, hi):
            if g_tmax[i] >= tmin and g_tmin[i] <= tmax:
                keep[n] = i
                n += 1
        if n:
            parts.append(keep[:n])
            total += n
    if total == 0:
        return out
    out = np.empty(total, np.int64)
    at = 0
    for p in parts:
        out[at : at + len(p)] = p
        at += len(p)
    return out
