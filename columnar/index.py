"""The series index: series key <-> dense series id, and a roaring inverted index over tags.

One index per database. A series is a table (measurement) plus a tag set; its canonical key is the
line-protocol form ``table,k1=v1,k2=v2`` (tags sorted by key) as UTF-8 bytes. An empty value (``k=``)
is a value, kept apart from a missing tag as SQL keeps '' apart from NULL; line protocol cannot write
one, so InfluxDB's data never holds it.
Ids are dense integers from 1 (0 is reserved for "unknown") and are never reused, even after a drop.

In memory, per series: the key bytes (one ``dict`` key -> id, and a ``list`` id -> key sharing the same
bytes objects) and a 64-bit hash for the HyperLogLog estimate. Per table: a bitmap of its series, and
per tag key a bitmap of the series that have the key plus a postings dict value -> ids. A value held by
exactly one series maps to the bare ``int`` id (a singleton roaring bitmap costs ~200 bytes, which for
a unique tag such as ``hostname`` would triple the index); others map to a ``BitMap``. Tag sets are not
kept per series: :func:`parse_series_key` recovers them from the key when needed.

Predicates (:mod:`columnar.predicate`) are evaluated against one table's series set, with InfluxDB's
semantics: a series without tag ``k`` has ``k == ""`` (as has one whose value is ''); ``<>``, ``!~`` and ``NOT`` are complements within
the table; a regex runs once per distinct tag value, never per series.

On disk (one directory)::

    series.snap              snapshot: every live series and the inverted index, covering logs <= gen
    series-<gen:08d>.log     append-only log of changes after the snapshot (normally just one file)
    LOCK                     flock-ed while an index has the directory open (a second open fails)

Log file: 8-byte magic ``TSGSLOG1``, then records. All integers little-endian.

    ======  =====================================================================================
    bytes   record
    ======  =====================================================================================
    4       u32 body length n (type byte + payload)
    4       u32 CRC32C (Castagnoli) of the body
    1       type: 1 ADD, 2 DROP, 3 DROP_TABLE, 4 RENAME
    n-1     payload
    ======  =====================================================================================

    ADD         u64 first id | u32 count c | u32 offsets[c + 1] | key bytes (key i = bytes[off[i]:off[i+1]]);
                the keys get ids first .. first + c - 1. At most ~64 MiB of keys per record.
    DROP        u32 count c | u64 ids[c]
    DROP_TABLE  table name, UTF-8
    RENAME      u64 rename id | JSON ``{"table": t, "steps": [[old, new], ...], "to": t2}``, UTF-8
                (``to`` absent: the measurement keeps its name)

A RENAME renames, in place, tag keys of one table (ALTER TABLE ... RENAME COLUMN of a tag: each
step in turn) and then, with ``to``, the table (measurement) itself (ALTER TABLE ... RENAME TO):
each series keeps its id, its key is rewritten with the new tag key or measurement name, so chunk
files (which hold ids, never keys) need no change and line protocol, InfluxQL and SQL all see the
new name. It costs O(series of the table). The rename id is the catalog's (columnar.catalog,
``renames``): the index remembers the highest one applied (``renamed``, in the snapshot's meta
too), so that the engine's recovery applies a rename the catalog committed exactly once
(columnar/engine.py, ``Engine.rename_tag`` and ``Engine.rename_table``).

Replay stops at the first record that is cut short or fails its checksum: the file is truncated there
with a ``RuntimeWarning`` (a torn tail from a crash). A record that passes its checksum but contradicts
the state (an ADD whose first id is not the next id, a key already present) raises ``CorruptData``.

Snapshot file: ``TSGSNAP1`` | u32 meta length | meta JSON (version, database, next_id, log_gen, live,
renamed (absent = 0))
| 3 x (u64 length | Arrow IPC stream, zstd-compressed buffers) | u32 CRC32C of every byte after the
first magic up to here | ``TSGSEND1``. The three streams:

    series    id int64, key large_binary, hash uint64                 one row per live series, by id
    groups    table string, key string (null = the table's series set), count int64, bitmap large_binary
    postings  value large_string, single int64 (0 = see bitmap), bitmap large_binary (null = single)

``groups`` lists, per table, the table row and then one row per tag key whose ``count`` next rows of
``postings`` are that key's values; ``bitmap`` is the serialised roaring bitmap (portable format).
A snapshot whose magic, length or checksum is wrong raises ``CorruptData``; it is never half-used.

Writing a snapshot: fsync the active log (gen g), write ``series.snap.tmp`` recording ``log_gen = g``,
fsync, rename over ``series.snap``, fsync the directory, start log g + 1, delete log g. Opening loads
the snapshot, deletes logs it covers and replays the rest, so a crash at any step loses nothing synced.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import math
import os
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from types import TracebackType

import google_crc32c
import numpy as np
import pyarrow as pa
from pyroaring import BitMap

from columnar.batch import TagSet
from columnar.errors import CorruptData, SeriesLimitExceeded, StorageError
from columnar.fsio import fsync_dir
from columnar.predicate import AllSeries, And, Not, Or, TagEq, TagIn, TagNe, TagPredicate, TagRegex
from columnar.rows import bitmap_ids

__all__ = ["SeriesIndex", "parse_series_key", "series_key"]

# -- series keys -------------------------------------------------------------------------------------
# Line-protocol escaping, plus the backslash itself so that every key parses back unambiguously
# (InfluxDB leaves backslashes alone, which makes a value ending in "\" ambiguous).
_MEASUREMENT_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ "})
_TAG_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ ", "=": "\\="})


def series_key(table: str, tag_set: Iterable[tuple[str, str]]) -> bytes:
    """The canonical key ``table,k1=v1,...`` (tags sorted by key), as UTF-8.

    >>> series_key("cpu", (("region", "us west"), ("host", "a,b")))
    b'cpu,host=a\\\\,b,region=us\\\\ west'
    """
    return _canonical(table, tag_set)[0]


def _canonical(table: str, tag_set: Iterable[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    """The series key and the tags it holds (sorted)."""
    tags = sorted(tag_set)
    if "\\" in table or "," in table or " " in table:
        table = table.translate(_MEASUREMENT_ESCAPES)
    if not tags:
        return table.encode(), tags
    body = ",".join(map("=".join, tags))
    n = len(tags)
    # Fast path: no tag contains a special character.
    if body.count("=") != n or body.count(",") != n - 1 or "\\" in body or " " in body:
        body = ",".join(f"{k.translate(_TAG_ESCAPES)}={v.translate(_TAG_ESCAPES)}" for k, v in tags)
    return f"{table},{body}".encode(), tags


@functools.lru_cache(maxsize=1 << 15)
def parse_series_key(key: bytes) -> tuple[str, TagSet]:
    """Inverse of :func:`series_key`: ``(table, tag set sorted by key)``. Raises ValueError if malformed.
    Remembers the keys it parsed last (queries ask again for the same series' tags: ~1 us a key
    parsed, ~0.1 looked up; the result is immutable)."""
    s = key.decode()
    if "\\" in s:
        return _parse_escaped(s)
    table, sep, rest = s.partition(",")
    if not sep:
        return table, ()
    flat = rest.replace("=", ",").split(",")
    if len(flat) % 2:
        raise ValueError(f"malformed series key {key!r}")
    tags = tuple(zip(flat[0::2], flat[1::2], strict=True))
    # Each part must be exactly "k=v" (v may be empty): rebuilding the text proves it.
    if ",".join(map("=".join, tags)) != rest:
        raise ValueError(f"malformed series key {key!r}")
    return table, tags


def _parse_escaped(s: str) -> tuple[str, TagSet]:
    parts: list[list[str]] = []  # comma-separated parts, each split at unescaped "="
    pieces: list[str] = []
    buf: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            if i + 1 == n:
                raise ValueError(f"malformed series key {s!r}: trailing backslash")
            buf.append(s[i + 1])
            i += 2
            continue
        if c == ",":
            pieces.append("".join(buf))
            parts.append(pieces)
            buf, pieces = [], []
        elif c == "=" and parts:  # "=" is literal in the measurement name
            pieces.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    pieces.append("".join(buf))
    parts.append(pieces)
    tags = []
    for p in parts[1:]:
        if len(p) != 2:
            raise ValueError(f"malformed series key {s!r}")
        tags.append((p[0], p[1]))
    return parts[0][0], tuple(tags)


# -- HyperLogLog ---------------------------------------------------------------------------------------
_HLL_P = 14  # 16384 registers, standard error ~0.8%
_HLL_Q = 64 - _HLL_P


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _hash_keys(keys: Sequence[bytes]) -> np.ndarray:
    """A 64-bit hash per key: CRC32C and CRC32 (two polynomials, both C speed) side by side, made
    non-linear by splitmix64's finaliser. Deterministic across processes, so estimates are too."""
    n = len(keys)
    hi = np.fromiter(map(google_crc32c.value, keys), dtype=np.uint64, count=n)
    lo = np.fromiter(map(zlib.crc32, keys), dtype=np.uint64, count=n)
    return _mix64((hi << np.uint64(32)) | lo)


def _bit_length(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    n = np.zeros(x.shape, dtype=np.int64)
    for s in (32, 16, 8, 4, 2, 1):
        big = x >= np.uint64(1 << s)
        n += big * s
        x = np.where(big, x >> np.uint64(s), x)
    return n + (x > 0)


def _hll_registers(hashes: np.ndarray) -> np.ndarray:
    m = 1 << _HLL_P
    index = (hashes >> np.uint64(_HLL_Q)).astype(np.intp)
    rest = hashes & np.uint64((1 << _HLL_Q) - 1)
    rank = (_HLL_Q + 1 - _bit_length(rest)).astype(np.uint8)  # leading zeros in q bits, plus one
    registers = np.zeros(m, dtype=np.uint8)
    np.maximum.at(registers, index, rank)
    return registers


def _hll_estimate(hashes: np.ndarray) -> int:
    """HyperLogLog (p = 14) with Ertl's improved raw estimator (arXiv:1702.01284, algorithm 6), which
    needs no bias tables and has no bias to correct from 0 series upwards."""
    if hashes.size == 0:
        return 0
    m = 1 << _HLL_P
    counts = np.bincount(_hll_registers(hashes), minlength=_HLL_Q + 2).astype(np.float64)
    z = m * _hll_tau(1.0 - counts[_HLL_Q + 1] / m)
    for k in range(_HLL_Q, 0, -1):
        z = 0.5 * (z + counts[k])
    z += m * _hll_sigma(counts[0] / m)
    return int(round(m * m / (2.0 * math.log(2.0)) / z))


def _hll_sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if z == previous:
            return z


def _hll_tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == previous:
            return z / 3.0


# -- in-memory inverted index -------------------------------------------------------------------------
Postings = int | BitMap  # a bare int is a value held by exactly one series


class _TagKey:
    __slots__ = ("has", "values")

    def __init__(self, has: BitMap | None = None, values: dict[str, Postings] | None = None) -> None:
        self.has = has if has is not None else BitMap()  # series that have this key
        self.values: dict[str, Postings] = values if values is not None else {}


class _Table:
    __slots__ = ("all", "tags")

    def __init__(self) -> None:
        self.all = BitMap()
        self.tags: dict[str, _TagKey] = {}

    def add(self, ids: list[int], tag_sets: Sequence[Sequence[tuple[str, str]]]) -> None:
        self.all |= BitMap(ids)
        groups: dict[tuple[str, str], int | list[int]] = {}  # an int until a second series shares (k, v)
        get = groups.get
        for sid, ts in zip(ids, tag_sets, strict=True):
            for kv in ts:
                cur = get(kv)
                if cur is None:
                    groups[kv] = sid
                elif isinstance(cur, int):
                    groups[kv] = [cur, sid]
                else:
                    cur.append(sid)
        has: dict[str, list[int]] = {}
        tags = self.tags
        for (k, v), new in groups.items():
            tk = tags.get(k)
            if tk is None:
                tk = tags[k] = _TagKey()
            values = tk.values
            old = values.get(v)
            if isinstance(new, int):
                has.setdefault(k, []).append(new)
                if old is None:
                    values[v] = new
                    continue
                new = [new]
            else:
                has.setdefault(k, []).extend(new)
            if old is None:
                values[v] = BitMap(new)
            elif isinstance(old, int):
                bm = BitMap(new)
                bm.add(old)
                values[v] = bm
            else:
                old |= BitMap(new)
        for k, key_ids in has.items():
            tags[k].has |= BitMap(key_ids)

    def remove(self, sid: int, tag_set: TagSet) -> None:
        self.all.discard(sid)
        for k, v in tag_set:
            tk = self.tags[k]
            tk.has.discard(sid)
            cur = tk.values[v]
            if isinstance(cur, int):
                del tk.values[v]
            else:
                cur.discard(sid)
                if len(cur) <= 1:
                    if cur:
                        tk.values[v] = cur.min()
                    else:
                        del tk.values[v]
            if not tk.has:
                del self.tags[k]

    def missing(self, key: str) -> BitMap:
        """Series of this table without tag ``key`` (they compare as ``key = ''``)."""
        tk = self.tags.get(key)
        return self.all if tk is None else self.all - tk.has


def _key_renamed(old: str, new: str, table: str, tags: TagSet) -> bytes:
    """The key of series ``table`` + ``tags`` with tag key ``old`` renamed ``new``."""
    return series_key(table, [(new if k == old else k, v) for k, v in tags])


def _union(postings: Iterable[Postings]) -> BitMap:
    singles: list[int] = []
    maps: list[BitMap] = []
    for p in postings:
        if isinstance(p, int):
            singles.append(p)
        else:
            maps.append(p)
    out = BitMap(singles)
    if maps:
        out = BitMap.union(out, *maps)
    return out


def _evaluate(t: _Table, p: TagPredicate) -> BitMap:
    """Series of ``t`` matching ``p``. The result may be one of ``t``'s own bitmaps: do not mutate it."""
    if isinstance(p, TagEq):
        return _equal(t, p.key, p.value)
    if isinstance(p, TagNe):
        return t.all - _equal(t, p.key, p.value)
    if isinstance(p, TagIn):
        tk = t.tags.get(p.key)
        out = _union(tk.values[v] for v in p.values if v in tk.values) if tk else BitMap()
        return out | t.missing(p.key) if "" in p.values else out
    if isinstance(p, TagRegex):
        search = p.compiled.search
        tk = t.tags.get(p.key)
        out = _union(ids for v, ids in tk.values.items() if search(v)) if tk else BitMap()
        if search(""):
            out |= t.missing(p.key)
        return t.all - out if p.negate else out
    if isinstance(p, And):
        result: BitMap | None = None
        for part in p.parts:
            r = _evaluate(t, part)
            result = r if result is None else result & r
            if not result:
                break
        return t.all if result is None else result
    if isinstance(p, Or):
        parts = [_evaluate(t, part) for part in p.parts]
        return BitMap.union(*parts) if parts else BitMap()
    if isinstance(p, Not):
        return t.all - _evaluate(t, p.part)
    if isinstance(p, AllSeries):
        return t.all
    raise TypeError(f"not a tag predicate: {p!r}")


def _equal(t: _Table, key: str, value: str) -> BitMap:
    tk = t.tags.get(key)
    ids = tk.values.get(value) if tk is not None else None
    if value == "":  # a missing tag equals '' (and so does a value that is '')
        missing = t.missing(key)
        return missing if ids is None else missing | (BitMap([ids]) if isinstance(ids, int) else ids)
    if ids is None:
        return BitMap()
    return BitMap([ids]) if isinstance(ids, int) else ids


# -- files ----------------------------------------------------------------------------------------------
_LOG_MAGIC = b"TSGSLOG1"
_SNAP_MAGIC = b"TSGSNAP1"
_SNAP_END = b"TSGSEND1"
_SNAP_NAME = "series.snap"
_LOCK_NAME = "LOCK"
_SNAP_VERSION = 1
_SELECTED_MAX = 256  # select_ids answers kept (cleared when full: a handful are in use at a time)
_LOG_NAME = re.compile(r"series-(\d{8})\.log")
_ADD, _DROP, _DROP_TABLE, _RENAME = 1, 2, 3, 4
_RECORD_HEAD = struct.Struct("<II")
_RENAME_HEAD = struct.Struct("<BQ")
_ADD_HEAD = struct.Struct("<BQI")
_MAX_RECORD_KEY_BYTES = 64 << 20
_MAX_ID = (1 << 32) - 1  # roaring bitmaps hold uint32


def _present(keys: np.ndarray) -> np.ndarray:
    """Which slots of an object array of keys hold a key (elementwise, not ``is``)."""
    return keys != None  # noqa: E711


def _log_name(gen: int) -> str:
    return f"series-{gen:08d}.log"


def _frame(body: bytes) -> bytes:
    return _RECORD_HEAD.pack(len(body), google_crc32c.value(body)) + body


_SERIES_SCHEMA = pa.schema([("id", pa.int64()), ("key", pa.large_binary()), ("hash", pa.uint64())])
_GROUPS_SCHEMA = pa.schema(
    [("table", pa.string()), ("key", pa.string()), ("count", pa.int64()), ("bitmap", pa.large_binary())]
)
_POSTINGS_SCHEMA = pa.schema(
    [("value", pa.large_string()), ("single", pa.int64()), ("bitmap", pa.large_binary())]
)
_SNAP_CHUNK = 1 << 17  # rows per record batch: bounds the memory a snapshot needs beyond the index


def _ipc(schema: pa.Schema, batches: Iterable[list[object]]) -> bytes:
    """One Arrow IPC stream (zstd buffers) of the given column lists, a record batch each."""
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, schema, options=options) as writer:
        for columns in batches:
            writer.write_batch(pa.record_batch(columns, schema=schema))
    return sink.getvalue().to_pybytes()


class SeriesIndex:
    """Series keys <-> ids and the tag inverted index of one database, persisted in ``directory``.

    Thread-safe: every method takes one lock (key encoding in :meth:`resolve` happens outside it).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        database: str = "",
        series_limit: int = 1_000_000,
        snapshot_log_bytes: int = 64 << 20,
    ) -> None:
        """Open (or create) the index in ``directory``.

        ``series_limit`` caps the live series of the database. ``snapshot_log_bytes``: :meth:`sync`
        writes a snapshot once the log has grown past this size (:meth:`close` whenever it is non-empty).
        """
        self.directory = os.fspath(directory)
        self.database = database
        self.series_limit = series_limit
        self.snapshot_log_bytes = snapshot_log_bytes
        self._lock = threading.RLock()
        self._ids: dict[bytes, int] = {}
        # By id, None for 0 and dropped ids. An object ndarray and not a list: the garbage collector
        # does not traverse ndarrays, and visiting a million keys on every collection cost more than
        # creating the series.
        self._keys = np.full(1024, None, dtype=object)
        self._next_id = 1
        self._hashes = np.zeros(1024, dtype=np.uint64)  # by id
        self._tables: dict[str, _Table] = {}
        self._live = 0
        self._renamed = 0  # the highest rename id applied (rename)
        # select_ids' answers: {(table, predicate): ((next id, live series), ids)}
        self._selected: dict[tuple[str, TagPredicate | None], tuple[tuple[int, int], np.ndarray]] = {}
        self._fd = -1
        self._log_gen = 0
        self._log_size = 0
        self._log_records = 0
        self._dirty = False
        self._closed = False
        self._broken: str | None = None
        os.makedirs(self.directory, exist_ok=True)
        self._lock_fd = os.open(os.path.join(self.directory, _LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StorageError(f"series index {self.directory} is already open") from None
            self._open()
        except BaseException:
            os.close(self._lock_fd)  # also releases the lock
            raise

    # -- writes ---------------------------------------------------------------------------------------
    def resolve(self, table: str, tag_sets: Sequence[TagSet]) -> np.ndarray:
        """Ids (int64, same order) of the series ``table`` + each tag set, creating the missing ones.

        All or nothing: if creating the new series would take the database past ``series_limit``,
        raises :class:`SeriesLimitExceeded` (``dropped`` = the number of distinct new series) before
        creating any of them, and returns nothing for the known ones either; a caller that wants to
        keep the rows of existing series calls :meth:`lookup_many` (0 = unknown) next.
        New ids are written to the log before they are returned; :meth:`sync` makes them durable.
        """
        canon = [_canonical(table, ts) for ts in tag_sets]
        with self._lock:
            self._check_writable()
            get = self._ids.get
            ids = [get(key, 0) for key, _ in canon]
            if 0 in ids:
                self._create(table, canon, ids)
        return np.array(ids, dtype=np.int64)

    def drop_series(self, ids: Iterable[int]) -> None:
        """Remove series (DROP SERIES). Unknown or already dropped ids are ignored; ids are not reused."""
        with self._lock:
            self._check_writable()
            live = sorted({int(i) for i in ids if 0 < i < self._next_id and self._keys[i] is not None})
            if not live:
                return
            body = struct.pack("<BI", _DROP, len(live)) + np.array(live, dtype="<u8").tobytes()
            self._append(_frame(body))
            self._drop_ids(live)

    def drop_table(self, table: str) -> None:
        """Remove every series of ``table`` (DROP MEASUREMENT). A table without series is a no-op."""
        with self._lock:
            self._check_writable()
            if table not in self._tables:
                return
            self._append(_frame(bytes([_DROP_TABLE]) + table.encode()))
            self._drop_table(table)

    def rename(
        self, table: str, steps: Sequence[tuple[str, str]], rename_id: int, *, to: str | None = None
    ) -> None:
        """Rename tag keys of ``table``'s series (each step ``(old, new)`` in turn), then with ``to``
        the measurement itself, every series keeping its id. Durable on return (the log is fsynced).
        ``rename_id`` (> 0, increasing) names the rename: one at or below :attr:`renamed` was applied
        already and is a no-op.

        All or nothing: raises :class:`StorageError` before changing anything when
        :meth:`check_rename` does.
        """
        with self._lock:
            self._check_writable()
            if rename_id <= self._renamed:
                return
            steps = [(str(old), str(new)) for old, new in steps]
            self.check_rename(table, steps, to=to)
            rec: dict[str, object] = {"table": table, "steps": steps}
            if to is not None:
                rec["to"] = to
            payload = json.dumps(rec).encode()
            self._append(_frame(_RENAME_HEAD.pack(_RENAME, rename_id) + payload))
            self._rename(table, steps, rename_id, to)
            os.fsync(self._fd)
            self._dirty = False

    def check_rename(self, table: str, steps: Sequence[tuple[str, str]], *, to: str | None = None) -> None:
        """Raise :class:`StorageError` if :meth:`rename` would refuse: a step's new key is already a
        tag key of the table (a series would hold the key twice, or two series one key), or ``to``
        is empty, the table's own name or a measurement with series already (two series would have
        one key)."""
        with self._lock:
            try:
                self._check_rename(table, [(str(old), str(new)) for old, new in steps], to)
            except ValueError as exc:
                raise StorageError(str(exc)) from None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold off every other use of the index meanwhile (an engine commits a rename to its catalog
        between :meth:`check_rename` and :meth:`rename`: no series may be made in between)."""
        with self._lock:
            yield

    @property
    def renamed(self) -> int:
        """The id of the last :meth:`rename` applied (0: none)."""
        return self._renamed

    def sync(self) -> None:
        """Make every change so far durable (fsync). Writes a snapshot if the log is large."""
        with self._lock:
            self._check_writable()
            if self._dirty:
                os.fsync(self._fd)
                self._dirty = False
            if self._log_size > self.snapshot_log_bytes:
                self._write_snapshot()

    def snapshot(self) -> None:
        """Write a snapshot now and start a new, empty log."""
        with self._lock:
            self._check_writable()
            self._write_snapshot()

    def close(self) -> None:
        """Sync, snapshot if the log holds anything, and release the log file. Idempotent."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._broken is None:
                    if self._log_records:
                        self._write_snapshot()
                    elif self._dirty:
                        os.fsync(self._fd)
            finally:
                os.close(self._fd)
                os.close(self._lock_fd)
                self._closed = True

    def __enter__(self) -> SeriesIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- reads ----------------------------------------------------------------------------------------
    def lookup(self, table: str, tag_set: TagSet) -> int | None:
        """The id of an existing series, or None (never creates)."""
        key = series_key(table, tag_set)
        with self._lock:
            return self._ids.get(key)

    def lookup_many(self, table: str, tag_sets: Sequence[TagSet]) -> np.ndarray:
        """Ids (int64) of existing series, 0 where the series does not exist (never creates)."""
        keys = [series_key(table, ts) for ts in tag_sets]
        with self._lock:
            get = self._ids.get
            return np.array([get(k, 0) for k in keys], dtype=np.int64)

    def select(self, table: str, predicate: TagPredicate | None = None) -> BitMap:
        """Ids of the series of ``table`` matching ``predicate`` (None = all). A new bitmap, yours."""
        with self._lock:
            t = self._tables.get(table)
            if t is None:
                return BitMap()
            return _evaluate(t, predicate if predicate is not None else AllSeries()).copy()

    def select_ids(self, table: str, predicate: TagPredicate | None = None) -> np.ndarray:
        """:meth:`select` as a sorted int64 array, read-only. Dashboards and benchmarks repeat the
        same few predicates, so answers are kept until the series change: the stamp (next id, live
        series) changes with every change (a new series raises the first, a dropped one lowers the
        second), and never comes back to an earlier value; a rename clears them."""
        with self._lock:
            stamp = (self._next_id, self._live)
            try:
                hit = self._selected.get((table, predicate))
            except TypeError:  # (a predicate holding something unhashable: not kept)
                return bitmap_ids(self.select(table, predicate))
            if hit is not None and hit[0] == stamp:
                return hit[1]
            ids = bitmap_ids(self.select(table, predicate))
            ids.flags.writeable = False
            if len(self._selected) >= _SELECTED_MAX:
                self._selected.clear()
            self._selected[(table, predicate)] = (stamp, ids)
            return ids

    def series_tags(self, ids: Iterable[int]) -> list[tuple[str, TagSet]]:
        """``(table, tag set)`` per id. Raises KeyError for an id that is unknown or dropped."""
        with self._lock:
            keys, end = self._keys, self._next_id
            out = []
            for i in ids:
                key = keys[i] if 0 < i < end else None
                if key is None:
                    raise KeyError(f"unknown series id {i}")
                out.append(parse_series_key(key))
            return out

    def tables(self) -> list[str]:
        """Tables with at least one series, sorted."""
        with self._lock:
            return sorted(self._tables)

    def tag_keys(self, table: str) -> list[str]:
        """Tag keys that at least one series of ``table`` has, sorted."""
        with self._lock:
            t = self._tables.get(table)
            return sorted(t.tags) if t is not None else []

    def tag_values(self, table: str, key: str, predicate: TagPredicate | None = None) -> list[str]:
        """Distinct values of tag ``key`` (sorted, never "") among the series matching ``predicate``."""
        with self._lock:
            t = self._tables.get(table)
            tk = t.tags.get(key) if t is not None else None
            if t is None or tk is None:
                return []
            if predicate is None or isinstance(predicate, AllSeries):
                return sorted(tk.values)
            sel = _evaluate(t, predicate)
            return sorted(
                v for v, p in tk.values.items() if (p in sel if isinstance(p, int) else p.intersect(sel))
            )

    def tag_value_sample(self, table: str, key: str, n: int) -> list[str]:
        """Up to ``n`` distinct values of tag ``key``, in no set order: a sample for estimates, which
        need neither every value nor tag_values' sort of them."""
        with self._lock:
            t = self._tables.get(table)
            tk = t.tags.get(key) if t is not None else None
            return [] if tk is None else list(islice(tk.values, n))

    def series_count(self, table: str | None = None) -> int:
        """Exact number of live series, in the database or in one table."""
        with self._lock:
            if table is None:
                return self._live
            t = self._tables.get(table)
            return len(t.all) if t is not None else 0

    def estimate_series_cardinality(self, table: str | None = None) -> int:
        """HyperLogLog estimate (p = 14, ~0.8% standard error) of the live series count."""
        with self._lock:
            if table is None:
                tables = list(self._tables.values())
                live = BitMap.union(*(t.all for t in tables)) if tables else BitMap()
            else:
                t = self._tables.get(table)
                live = t.all if t is not None else BitMap()
            hashes = self._hashes[np.frombuffer(live.to_array(), dtype=np.uint32)]
        return _hll_estimate(hashes)

    # -- internals: state changes ----------------------------------------------------------------------
    def _check_writable(self) -> None:
        if self._closed:
            raise StorageError(f"series index {self.directory} is closed")
        if self._broken is not None:
            raise StorageError(f"series index {self.directory} is unusable: {self._broken}")

    def _create(self, table: str, canon: list[tuple[bytes, list[tuple[str, str]]]], ids: list[int]) -> None:
        new: dict[bytes, list[tuple[str, str]]] = {}  # new key -> its tags
        for (key, tags), sid in zip(canon, ids, strict=True):
            if sid == 0 and key not in new:
                new[key] = tags
        n = len(new)
        if self._live + n > self.series_limit:
            raise SeriesLimitExceeded(self.database, self.series_limit, n)
        first = self._next_id
        if first + n > _MAX_ID:
            raise StorageError(f"series index {self.directory}: series ids exhausted")
        new_keys = list(new)
        self._append(self._add_records(first, new_keys))
        new_ids = list(range(first, first + n))
        self._register(first, new_keys, new_ids)
        t = self._tables.get(table)
        if t is None:
            t = self._tables[table] = _Table()
        t.add(new_ids, list(new.values()))
        get = self._ids.__getitem__
        for i, sid in enumerate(ids):
            if sid == 0:
                ids[i] = get(canon[i][0])

    def _register(self, first: int, keys: list[bytes], new_ids: list[int]) -> None:
        end = first + len(keys)
        if end > len(self._keys):
            capacity = max(end, 2 * len(self._keys))
            grown_keys = np.full(capacity, None, dtype=object)
            grown_keys[: self._next_id] = self._keys[: self._next_id]
            grown_hashes = np.zeros(capacity, dtype=np.uint64)
            grown_hashes[: self._next_id] = self._hashes[: self._next_id]
            self._keys, self._hashes = grown_keys, grown_hashes
        self._hashes[first:end] = _hash_keys(keys)
        self._keys[first:end] = keys
        self._ids.update(zip(keys, new_ids, strict=True))
        self._next_id = end
        self._live += len(keys)

    def _drop_ids(self, ids: Iterable[int]) -> None:
        by_table: dict[str, list[tuple[int, TagSet]]] = {}
        for sid in ids:
            key = self._keys[sid] if 0 < sid < self._next_id else None
            if key is None:
                continue
            table, tags = parse_series_key(key)
            by_table.setdefault(table, []).append((sid, tags))
            del self._ids[key]
            self._keys[sid] = None
            self._live -= 1
        for table, items in by_table.items():
            t = self._tables[table]
            for sid, tags in items:
                t.remove(sid, tags)
            if not t.all:
                del self._tables[table]

    def _drop_table(self, table: str) -> None:
        t = self._tables.pop(table, None)
        if t is None:
            return
        for sid in t.all:
            key = self._keys[sid]
            assert key is not None
            del self._ids[key]
            self._keys[sid] = None
        self._live -= len(t.all)

    def _check_rename(self, table: str, steps: list[tuple[str, str]], to: str | None = None) -> None:
        keys = set(self._tables[table].tags) if table in self._tables else set()
        for old, new in steps:
            if old == new or not new:
                raise ValueError(f"cannot rename tag key {old!r} of {table!r} to {new!r}")
            if new in keys:
                raise ValueError(f'tag key "{new}" already exists in measurement "{table}"')
            if old in keys:
                keys.discard(old)
                keys.add(new)
        if to is not None:
            if not to or to == table:
                raise ValueError(f"cannot rename measurement {table!r} to {to!r}")
            if to in self._tables:
                raise ValueError(f'measurement "{to}" already has series')

    def _rename(
        self, table: str, steps: list[tuple[str, str]], rename_id: int, to: str | None = None
    ) -> None:
        """Apply a checked rename (:meth:`_check_rename`)."""
        t = self._tables.get(table)
        for old, new in steps if t is not None else ():
            assert t is not None
            tk = t.tags.pop(old, None)
            if tk is None:
                continue
            t.tags[new] = tk
            self._rekey(tk.has, functools.partial(_key_renamed, old, new))
        if to is not None and t is not None:
            del self._tables[table]
            self._tables[to] = t
            self._rekey(t.all, lambda _name, tags: series_key(to, tags))
        self._renamed = rename_id
        self._selected.clear()

    def _rekey(self, series: BitMap, key_of: Callable[[str, TagSet], bytes]) -> None:
        """Give each of ``series`` the key ``key_of(table, tags)`` (of its present key), keeping its id."""
        ids = bitmap_ids(series)
        keys = self._keys
        new_keys = []
        for sid in ids.tolist():
            key = keys[sid]
            new_keys.append(key_of(*parse_series_key(key)))
            del self._ids[key]
        self._ids.update(zip(new_keys, ids.tolist(), strict=True))
        column = np.empty(len(new_keys), dtype=object)
        column[:] = new_keys
        keys[ids] = column
        self._hashes[ids] = _hash_keys(new_keys)

    # -- internals: log -------------------------------------------------------------------------------
    @staticmethod
    def _add_records(first: int, keys: list[bytes]) -> bytes:
        n = len(keys)
        cum = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, keys), dtype=np.int64, count=n), out=cum[1:])
        records = []
        start = 0
        while start < n:
            end = int(np.searchsorted(cum, cum[start] + _MAX_RECORD_KEY_BYTES, side="right")) - 1
            end = min(max(end, start + 1), n)
            offsets = (cum[start : end + 1] - cum[start]).astype("<u4")
            head = _ADD_HEAD.pack(_ADD, first + start, end - start)
            records.append(_frame(b"".join([head, offsets.tobytes(), *keys[start:end]])))
            start = end
        return b"".join(records)

    def _append(self, data: bytes) -> None:
        size = self._log_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                self._broken = f"log write failed and could not be undone: {exc}"
            raise
        self._log_size += len(data)
        self._log_records += 1
        self._dirty = True

    def _open_log(self, gen: int, create: bool) -> None:
        path = os.path.join(self.directory, _log_name(gen))
        if create:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            try:
                os.write(fd, _LOG_MAGIC)
                os.fsync(fd)
            except BaseException:
                os.close(fd)
                raise
            fsync_dir(self.directory)
            self._log_records = 0
        else:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._fd = fd
        self._log_gen = gen
        self._log_size = os.fstat(fd).st_size
        self._dirty = False

    def _replay_log(self, path: str) -> int:
        """Apply the records of one log file; truncate a torn or corrupt tail. Returns records applied."""
        with open(path, "rb") as f:
            data = f.read()
        if data[:8] != _LOG_MAGIC:
            if len(data) < len(_LOG_MAGIC) and _LOG_MAGIC.startswith(data):
                warnings.warn(
                    f"series index log {path}: torn header, rewritten", RuntimeWarning, stacklevel=3
                )
                with open(path, "wb") as f:
                    f.write(_LOG_MAGIC)
                    os.fsync(f.fileno())
                return 0
            raise CorruptData(path, "not a series index log (bad magic)")
        pos, size, applied = len(_LOG_MAGIC), len(data), 0
        problem = ""
        while pos < size:
            if pos + _RECORD_HEAD.size > size:
                problem = "record header cut short"
                break
            length, crc = _RECORD_HEAD.unpack_from(data, pos)
            end = pos + _RECORD_HEAD.size + length
            if length == 0 or end > size:
                problem = "record cut short"
                break
            body = data[pos + _RECORD_HEAD.size : end]
            if google_crc32c.value(body) != crc:
                problem = "record checksum mismatch"
                break
            self._apply_record(body, path, pos)
            applied += 1
            pos = end
        if problem:
            warnings.warn(
                f"series index log {path}: {problem} at offset {pos}; "
                f"truncated {size - pos} bytes (a write torn by a crash)",
                RuntimeWarning,
                stacklevel=3,
            )
            with open(path, "r+b") as f:
                f.truncate(pos)
                os.fsync(f.fileno())
        return applied

    def _apply_record(self, body: bytes, path: str, pos: int) -> None:
        kind = body[0]
        try:
            if kind == _ADD:
                _, first, count = _ADD_HEAD.unpack_from(body, 0)
                offsets = np.frombuffer(body, dtype="<u4", count=count + 1, offset=_ADD_HEAD.size)
                blob_start = _ADD_HEAD.size + 4 * (count + 1)
                if offsets[0] != 0 or int(offsets[-1]) != len(body) - blob_start:
                    raise ValueError("key offsets do not match the record length")
                arr = pa.Array.from_buffers(
                    pa.binary(),
                    count,
                    [None, pa.py_buffer(offsets.view("<i4")), pa.py_buffer(body[blob_start:])],
                )
                keys = arr.to_pylist()
                if first != self._next_id:
                    raise ValueError(f"ADD of ids from {first}, expected {self._next_id}")
                if any(k in self._ids for k in keys) or len(set(keys)) != count:
                    raise ValueError("ADD of a key that already has an id")
                new_ids = list(range(first, first + count))
                by_table: dict[str, tuple[list[int], list[TagSet]]] = {}
                for sid, key in zip(new_ids, keys, strict=True):
                    table, tags = parse_series_key(key)
                    ids_tags = by_table.get(table)
                    if ids_tags is None:
                        ids_tags = by_table[table] = ([], [])
                    ids_tags[0].append(sid)
                    ids_tags[1].append(tags)
                self._register(first, keys, new_ids)
                for table, (tids, tsets) in by_table.items():
                    t = self._tables.get(table)
                    if t is None:
                        t = self._tables[table] = _Table()
                    t.add(tids, tsets)
            elif kind == _DROP:
                (count,) = struct.unpack_from("<I", body, 1)
                if len(body) != 5 + 8 * count:
                    raise ValueError("DROP length does not match its count")
                self._drop_ids(np.frombuffer(body, dtype="<u8", count=count, offset=5).tolist())
            elif kind == _DROP_TABLE:
                self._drop_table(body[1:].decode())
            elif kind == _RENAME:
                _, rename_id = _RENAME_HEAD.unpack_from(body, 0)
                rec = json.loads(body[_RENAME_HEAD.size :].decode())
                steps = [(str(old), str(new)) for old, new in rec["steps"]]
                to = rec.get("to")
                to = None if to is None else str(to)
                self._check_rename(rec["table"], steps, to)
                self._rename(rec["table"], steps, rename_id, to)
            else:
                raise ValueError(f"unknown record type {kind}")
        except (ValueError, KeyError, TypeError, struct.error, pa.ArrowException, UnicodeDecodeError) as exc:
            raise CorruptData(path, f"record at offset {pos}: {exc}") from exc

    # -- internals: open and snapshot -------------------------------------------------------------------
    def _open(self) -> None:
        snap = os.path.join(self.directory, _SNAP_NAME)
        if os.path.exists(snap + ".tmp"):
            os.remove(snap + ".tmp")
        covered = self._load_snapshot(snap) if os.path.exists(snap) else 0
        gens = sorted(
            int(m.group(1)) for name in os.listdir(self.directory) if (m := _LOG_NAME.fullmatch(name))
        )
        pending = []
        for gen in gens:
            if gen <= covered:
                os.remove(os.path.join(self.directory, _log_name(gen)))
            else:
                pending.append(gen)
        records = 0
        for gen in pending:
            records = self._replay_log(os.path.join(self.directory, _log_name(gen)))
        if pending:
            self._open_log(pending[-1], create=False)
            self._log_records = records
        else:
            self._open_log(covered + 1, create=True)

    def _write_snapshot(self) -> None:
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        path = os.path.join(self.directory, _SNAP_NAME)
        tmp = path + ".tmp"
        data = self._encode_snapshot()
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        fsync_dir(self.directory)
        old_fd, old_gen = self._fd, self._log_gen
        self._open_log(old_gen + 1, create=True)
        os.close(old_fd)
        os.remove(os.path.join(self.directory, _log_name(old_gen)))

    def _encode_snapshot(self) -> bytes:
        keys, hashes, next_id = self._keys, self._hashes, self._next_id

        def series() -> Iterator[list[object]]:
            for start in range(1, next_id, _SNAP_CHUNK):
                chunk = keys[start : min(start + _SNAP_CHUNK, next_id)]
                live = np.flatnonzero(_present(chunk))
                if len(live):
                    yield [live + start, chunk[live].tolist(), hashes[live + start]]

        g_table: list[str] = []
        g_key: list[str | None] = []
        g_count: list[int] = []
        g_bitmap: list[bytes] = []
        all_values: list[dict[str, Postings]] = []
        for name, t in self._tables.items():
            g_table.append(name)
            g_key.append(None)
            g_count.append(0)
            g_bitmap.append(t.all.serialize())
            for key, tk in t.tags.items():
                g_table.append(name)
                g_key.append(key)
                g_count.append(len(tk.values))
                g_bitmap.append(tk.has.serialize())
                all_values.append(tk.values)

        def postings() -> Iterator[list[object]]:
            for values in all_values:
                items = iter(values.items())
                while chunk := list(islice(items, _SNAP_CHUNK)):
                    yield [
                        [v for v, _ in chunk],
                        [p if isinstance(p, int) else 0 for _, p in chunk],
                        [None if isinstance(p, int) else p.serialize() for _, p in chunk],
                    ]

        meta = json.dumps(
            {
                "version": _SNAP_VERSION,
                "database": self.database,
                "next_id": next_id,
                "log_gen": self._log_gen,
                "live": self._live,
                "renamed": self._renamed,
            }
        ).encode()
        parts = [struct.pack("<I", len(meta)), meta]
        for blob in (
            _ipc(_SERIES_SCHEMA, series()),
            _ipc(_GROUPS_SCHEMA, [[g_table, g_key, g_count, g_bitmap]]),
            _ipc(_POSTINGS_SCHEMA, postings()),
        ):
            parts += [struct.pack("<Q", len(blob)), blob]
        body = b"".join(parts)
        del parts
        pa.default_memory_pool().release_unused()
        return b"".join([_SNAP_MAGIC, body, struct.pack("<I", google_crc32c.value(body)), _SNAP_END])

    def _load_snapshot(self, path: str) -> int:
        """Load ``series.snap``; returns the last log generation it covers."""
        with open(path, "rb") as f:
            data = f.read()
        tail = len(data) - 4 - len(_SNAP_END)
        if len(data) < len(_SNAP_MAGIC) + 4 + 4 + len(_SNAP_END) or data[:8] != _SNAP_MAGIC:
            raise CorruptData(path, "not a series index snapshot (bad magic or too short)")
        if data[-len(_SNAP_END) :] != _SNAP_END:
            raise CorruptData(path, "snapshot cut short (end marker missing)")
        if (
            google_crc32c.value(memoryview(data)[len(_SNAP_MAGIC) : tail].tobytes())
            != struct.unpack_from("<I", data, tail)[0]
        ):
            raise CorruptData(path, "snapshot checksum mismatch")
        try:
            return self._decode_snapshot(pa.py_buffer(data)[len(_SNAP_MAGIC) : tail])
        except (ValueError, KeyError, TypeError, IndexError, struct.error, pa.ArrowException) as exc:
            raise CorruptData(path, f"snapshot does not decode: {exc}") from exc
        finally:
            pa.default_memory_pool().release_unused()

    def _decode_snapshot(self, body: pa.Buffer) -> int:
        (meta_len,) = struct.unpack_from("<I", body, 0)
        pos = 4 + meta_len
        meta = json.loads(body[4:pos].to_pybytes())
        if meta.get("version") != _SNAP_VERSION:
            raise ValueError(f"unsupported snapshot version {meta.get('version')!r}")
        readers = []
        for schema in (_SERIES_SCHEMA, _GROUPS_SCHEMA, _POSTINGS_SCHEMA):
            (length,) = struct.unpack_from("<Q", body, pos)
            pos += 8
            if pos + length > body.size:
                raise ValueError("section runs past the end of the snapshot")
            reader = pa.ipc.open_stream(body[pos : pos + length])
            if not reader.schema.equals(schema):
                raise ValueError(f"unexpected section schema {reader.schema}")
            readers.append(reader)
            pos += length
        if pos != body.size:
            raise ValueError("trailing bytes after the last section")
        series, groups_reader, postings_reader = readers

        next_id = int(meta["next_id"])
        capacity = max(1024, next_id)
        key_list = np.full(capacity, None, dtype=object)
        ids_by_key: dict[bytes, int] = {}
        self._keys, self._ids, self._next_id = key_list, ids_by_key, next_id
        self._hashes = np.zeros(capacity, dtype=np.uint64)
        for batch in series:  # batch by batch: the decompressed keys are never all in memory at once
            ids = batch.column(0).to_numpy()
            if len(ids) and (ids.min() < 1 or ids.max() >= next_id):
                raise ValueError("series id out of range")
            keys = batch.column(1).to_pylist()
            key_list[ids] = keys
            ids_by_key.update(zip(keys, ids.tolist(), strict=True))
            self._hashes[ids] = batch.column(2).to_numpy()
        self._live = len(ids_by_key)
        if self._live != meta["live"] or np.count_nonzero(_present(key_list)) != self._live:
            raise ValueError("duplicate series keys or ids")

        groups = groups_reader.read_all()
        postings = postings_reader.read_all()
        values = postings.column("value").to_pylist()
        singles = postings.column("single").to_pylist()
        bitmap_col = postings.column("bitmap")
        multi = np.flatnonzero(bitmap_col.is_valid().to_numpy())
        multi_maps = bitmap_col.take(multi).to_pylist()
        row = 0
        tables: dict[str, _Table] = {}
        for name, key, count, bitmap in zip(
            groups.column("table").to_pylist(),
            groups.column("key").to_pylist(),
            groups.column("count").to_pylist(),
            groups.column("bitmap").to_pylist(),
            strict=True,
        ):
            t = tables.get(name)
            if t is None:
                t = tables[name] = _Table()
            if key is None:
                t.all = BitMap.deserialize(bitmap)
                continue
            end = row + count
            d: dict[str, Postings] = dict(zip(values[row:end], singles[row:end], strict=True))
            lo, hi = np.searchsorted(multi, [row, end])
            for j in range(int(lo), int(hi)):
                d[values[multi[j]]] = BitMap.deserialize(multi_maps[j])
            t.tags[key] = _TagKey(BitMap.deserialize(bitmap), d)
            row = end
        if row != len(values) or sum(len(t.all) for t in tables.values()) != self._live:
            raise ValueError("inverted index does not match the series")
        self._tables = tables
        self._renamed = int(meta.get("renamed", 0))
        return int(meta["log_gen"])
