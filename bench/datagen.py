"""Generate benchmark data: TSBS devops cpu-only and an IoT sensor fleet.

Every generator is seeded, deterministic and chunked: ``gen.batches(chunk_rows)`` yields
:class:`~columnar.batch.WriteBatch` objects of exactly ``chunk_rows`` rows (the last may be shorter), so
10M+ rows never sit in memory at once. The same rows come out whatever the chunk size: each random
quantity has its own numpy stream (``SeedSequence(seed, spawn_key=(stream,))``) drawn strictly in row
order, and the random walks run in exact fixed-point arithmetic (see :func:`clamped_walk`).

Rows are tick-major: at each tick every series (host, sensor) reports once, in series order, like TSBS.
The first tick is at ``start``; there are ``(end - start) // interval`` ticks (TSBS's epoch count).

**devops** (:class:`DevopsCpu`) follows TSBS ``cpu-only`` (``cmd/tsbs_generate_data/devops``):
measurement ``cpu``; tags ``hostname`` (host_0, host_1, ...), ``region`` and ``datacenter`` from TSBS's
nine AWS regions and their zones, ``rack`` 0-99, ``os``, ``arch``, ``team``, ``service`` 0-19,
``service_version`` 0-1, ``service_environment``; each drawn uniformly once per host. Ten fields
``usage_user`` ... ``usage_guest_nice``: each starts uniform in [0, 100) and then walks with N(0, 1) steps
clamped to [0, 100]; the first tick reports the starting value. Values are written truncated to int64, as
TSBS's ``ToPointAllInt64`` does. Default interval 10 s, default start 2016-01-01T00:00:00Z.
Not reproduced: TSBS's exact numbers (it uses Go's math/rand), ``--initial-scale`` host ramp-up, and
the other eight devops measurements.

**iot** (:class:`IotSensors`) is our own sensor fleet, not TSBS's truck ``iot`` use case: measurement
``sensors``; tags ``sensor_id`` (sensor_0, ...) and ``location`` (drawn from :data:`IOT_LOCATIONS`);
fields ``temperature`` (walk, 2 decimals, clamped to a sensor range of [-40, 85]), ``humidity`` (walk,
3 decimals, clamped to [0, 100]), ``pressure`` (hPa walk, 2 decimals, clamped to [870, 1085]),
``readings_total`` (int64 counter that grows by 1..``counter_step_max`` per tick) and ``door_open``
(bool that flips at each tick with probability ``door_flip_probability``, default 0.001: rarely, so
runs are long). Timestamps are ``start + i * interval`` plus a per-row jitter of 0..``jitter_ms``
whole milliseconds (jitter must stay below the interval, so each sensor's times strictly increase).
Walks, like devops, report the starting value at the first tick and keep full precision internally;
only the output is rounded.

Output forms: the batches themselves (engine fast path), :func:`format_line_protocol` (Influx line
protocol, tags in the generator's order as TSBS writes them, ``i`` suffix on integers, ns timestamps),
:func:`format_csv` (time as RFC 3339 or ns) and TSBS's TimescaleDB layout (:func:`write_timescale`).
Text is built with vectorised pyarrow string kernels over precomputed per-series prefixes, never a Python
loop per row.

TimescaleDB layout, as ``tsbs_load_timescaledb`` creates it with default flags (``pkg/targets/
timescaledb/creator.go``): ``tags(id SERIAL PRIMARY KEY, hostname TEXT, ... one TEXT column per tag)``
with a unique index on all tags and an index on the first; ``cpu(time timestamptz, tags_id integer,
usage_user DOUBLE PRECISION, ..., additional_tags JSONB DEFAULT NULL)`` with indexes ``(tags_id, time
DESC)`` and ``(time DESC)``, made a hypertable with 12 h chunks. ``--in-table-tag`` adds ``hostname
TEXT`` after ``tags_id`` as TSBS's ``--in-table-partition-tag`` does. The CSV leaves ``additional_tags``
out (always NULL); ``schema.sql`` shows the matching COPY column lists. For iot the same layout is used
with natural column types (DOUBLE PRECISION, BIGINT, BOOLEAN).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time as _time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from columnar.batch import FieldColumn, TagSet, WriteBatch
from columnar.types import NS_PER_DAY, NS_PER_HOUR, NS_PER_SECOND, FieldType

DEFAULT_START_NS = 1_451_606_400 * NS_PER_SECOND  # 2016-01-01T00:00:00Z, TSBS's default start
DEFAULT_CHUNK_ROWS = 100_000

# -- TSBS devops tag choices (cmd/tsbs_generate_data/devops/host.go) -------------------------------------
DEVOPS_REGIONS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"),
    "us-west-1": ("us-west-1a", "us-west-1b"),
    "us-west-2": ("us-west-2a", "us-west-2b", "us-west-2c"),
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b"),
    "ap-southeast-1": ("ap-southeast-1a", "ap-southeast-1b"),
    "ap-southeast-2": ("ap-southeast-2a", "ap-southeast-2b"),
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1c"),
    "sa-east-1": ("sa-east-1a", "sa-east-1b", "sa-east-1c"),
}
DEVOPS_OS = ("Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10")
DEVOPS_ARCH = ("x64", "x86")
DEVOPS_TEAMS = ("SF", "NYC", "LON", "CHI")
DEVOPS_SERVICE_ENVIRONMENTS = ("production", "staging", "test")
DEVOPS_RACKS, DEVOPS_SERVICES, DEVOPS_SERVICE_VERSIONS = 100, 20, 2
DEVOPS_TAG_KEYS = (
    "hostname", "region", "datacenter", "rack", "os", "arch",
    "team", "service", "service_version", "service_environment",
)  # fmt: skip
CPU_FIELDS = (
    "usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
    "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
)  # fmt: skip

IOT_LOCATIONS = (
    "warehouse-north", "warehouse-south", "cold-storage", "loading-dock", "office-1",
    "office-2", "server-room", "lab", "greenhouse", "basement", "roof", "garage",
)  # fmt: skip

# Random streams, one per quantity, so draws never interleave and chunking cannot change them.
_TAGS, _INIT, _STEPS, _JITTER, _COUNTER, _DOOR = range(6)

# -- clamped random walks ---------------------------------------------------------------------------------
FIXED_ONE = 1 << 32  # walks run in int64 fixed point: exact sums make the segmented walk chunking-proof
_FAR = 1 << 62  # "unbounded" start of a composed clamp; stays far from int64 overflow
_SEGMENT_WIDTH = 1 << 14  # the segmented walk kicks in when one tick row is narrower than this


def clamped_walk(state: np.ndarray, steps: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int) -> None:
    """Turn ``steps`` (T, W) int64 into a walk clamped to [lo, hi], in place, continuing from ``state``.

    ``x[t] = min(max(x[t-1] + steps[t], lo), hi)`` with ``x[-1] = state``; ``state`` (W,) becomes
    ``x[T-1]``. ``lo``/``hi`` are scalars or (W,) arrays.

    A loop over T numpy rows is slow when rows are narrow (one host, ten fields), so then the time axis
    is cut into K segments: pass 1 composes each segment's steps into one map ``x -> min(max(x + A, B),
    C)`` (clamp-after-shift maps are closed under composition), a K-step loop chains the segment
    starts, and pass 2 replays all segments side by side. Loop count drops from T to about 2 sqrt(T).
    Integer arithmetic makes both routes produce identical values.
    """
    n_ticks, width = steps.shape
    if n_ticks == 0:
        return
    k = min(math.isqrt(n_ticks), max(1, _SEGMENT_WIDTH // width))
    if k < 8:  # too few segments to repay the extra passes
        _walk_rows(steps, state, lo, hi)
        return
    seg_len = n_ticks // k
    seg = steps[: k * seg_len].reshape(k, seg_len, width)
    shift = np.zeros((k, width), np.int64)
    low = np.full((k, width), -_FAR, np.int64)
    high = np.full((k, width), _FAR, np.int64)
    for j in range(seg_len):
        s = seg[:, j]
        shift += s
        low += s
        np.clip(low, lo, hi, out=low)
        high += s
        np.clip(high, lo, hi, out=high)
    starts = np.empty((k, width), np.int64)
    x = state.copy()
    for i in range(k):
        starts[i] = x
        x = np.minimum(np.maximum(x + shift[i], low[i]), high[i])
    x = starts
    for j in range(seg_len):
        row = seg[:, j]
        row += x
        np.clip(row, lo, hi, out=row)
        x = row
    state[:] = seg[-1, -1]
    _walk_rows(steps[k * seg_len :], state, lo, hi)


def _walk_rows(steps: np.ndarray, state: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int) -> None:
    x = state
    for row in steps:
        row += x
        np.clip(row, lo, hi, out=row)
        x = row
    state[:] = x


def _fixed(values: np.ndarray) -> np.ndarray:
    return np.rint(values * FIXED_ONE).astype(np.int64)


# -- generators -------------------------------------------------------------------------------------------
Block = tuple[np.ndarray, dict[str, np.ndarray]]  # (time, field arrays) of some whole ticks


class DataGenerator:
    """Common shape of a generator: static per-series tags plus a stream of whole ticks.

    Subclasses set the class attributes and implement ``_make_tags`` (tag values per series from
    uniform draws) and ``_blocks`` (a fresh, stateful producer of consecutive tick blocks).
    """

    kind: str
    table: str
    tag_keys: tuple[str, ...]
    field_types: dict[str, FieldType]
    pg_types: dict[str, str]  # column types in the TimescaleDB layout
    _tag_draws: int  # uniforms drawn per series for its tags

    def __init__(
        self,
        scale: int,
        *,
        hours: float | None,
        end_ns: int | None,
        start_ns: int,
        interval_ns: int,
        seed: int,
    ) -> None:
        if scale < 1:
            raise ValueError("scale must be at least 1")
        if interval_ns <= 0:
            raise ValueError("interval must be positive")
        if (hours is None) == (end_ns is None):
            raise ValueError("give exactly one of hours and end_ns")
        if hours is not None:
            end_ns = start_ns + round(hours * NS_PER_HOUR)
        assert end_ns is not None
        if end_ns < start_ns:
            raise ValueError("end is before start")
        self.scale = scale
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.interval_ns = interval_ns
        self.seed = seed
        self.n_ticks = (end_ns - start_ns) // interval_ns
        draws = self._rng(_TAGS).random((scale, self._tag_draws))  # row i depends on i only
        self.series_tags: list[tuple[str, ...]] = self._make_tags(draws)
        self.tag_sets: list[TagSet] = [
            tuple(sorted(zip(self.tag_keys, v, strict=True))) for v in self.series_tags
        ]

    @property
    def n_rows(self) -> int:
        return self.n_ticks * self.scale

    @property
    def time_unit(self) -> str:
        """The coarsest of s/ms/us/ns that represents every generated timestamp exactly."""
        return _time_unit(self.start_ns, self.interval_ns)

    def _rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(stream,)))

    def _make_tags(self, u: np.ndarray) -> list[tuple[str, ...]]:
        raise NotImplementedError

    def _blocks(self) -> Callable[[int, int], Block]:
        raise NotImplementedError

    def _tick_times(self, t0: int, k: int) -> np.ndarray:
        return self.start_ns + np.arange(t0, t0 + k, dtype=np.int64) * self.interval_ns

    # -- the chunked stream ---------------------------------------------------------------------------
    def batches(self, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[WriteBatch]:
        """Yield the whole data set as batches of ``chunk_rows`` rows (the last may be shorter).

        Every batch shares one ``tag_sets`` list (all series, built once); ``series`` indexes it.
        """
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")
        scale = self.scale
        next_block = self._blocks()
        ticks_per_block = -(-chunk_rows // scale)
        pattern = np.tile(np.arange(scale, dtype=np.int32), ticks_per_block + 2)
        held: Block | None = None
        row = 0
        for t0 in range(0, self.n_ticks, ticks_per_block):
            k = min(ticks_per_block, self.n_ticks - t0)
            times, fields = next_block(t0, k)
            if held is not None:
                times = np.concatenate([held[0], times])
                fields = {name: np.concatenate([held[1][name], v]) for name, v in fields.items()}
                held = None
            last = t0 + k == self.n_ticks
            lo, n = 0, len(times)
            while n - lo >= chunk_rows or (last and lo < n):
                hi = min(lo + chunk_rows, n)
                off = row % scale
                cols = {name: FieldColumn(self.field_types[name], v[lo:hi]) for name, v in fields.items()}
                yield WriteBatch(self.table, times[lo:hi], self.tag_sets, pattern[off : off + hi - lo], cols)
                row += hi - lo
                lo = hi
            if lo < n:
                held = (times[lo:], {name: v[lo:] for name, v in fields.items()})

    # -- text forms -----------------------------------------------------------------------------------
    @cached_property
    def lp_prefixes(self) -> list[str]:
        """Per series: ``measurement,tag=value,...`` with tags in this generator's order (as TSBS)."""
        return [lp_series_key(self.table, zip(self.tag_keys, v, strict=True)) for v in self.series_tags]

    @cached_property
    def csv_tag_cells(self) -> list[str]:
        """Per series: its tag values as CSV cells joined by commas, in ``tag_keys`` order."""
        return [",".join(_csv_cell(x) for x in v) for v in self.series_tags]

    def csv_header(self) -> str:
        return ",".join(["time", *self.tag_keys, *self.field_types]) + "\n"

    def line_protocol(self, chunk_rows: int = DEFAULT_CHUNK_ROWS, *, copy: bool = True) -> Iterator[bytes]:
        """The data set as line-protocol text, one chunk of ``chunk_rows`` lines at a time.

        ``copy=False`` yields zero-copy ``pyarrow.Buffer`` objects (bytes-like, for writing to files).
        """
        for batch in self.batches(chunk_rows):
            yield format_line_protocol(batch, self.lp_prefixes, copy=copy)  # type: ignore[misc]

    def csv(
        self,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        *,
        time_format: str = "rfc3339",
        header: bool = True,
        copy: bool = True,
    ) -> Iterator[bytes]:
        """The data set as CSV (``time``, tag columns, field columns), header first unless ``header=False``."""
        if header:
            yield self.csv_header().encode()
        for batch in self.batches(chunk_rows):
            yield format_csv(  # type: ignore[misc]
                batch, self.csv_tag_cells, time_format=time_format, time_unit=self.time_unit, copy=copy
            )


class DevopsCpu(DataGenerator):
    """TSBS devops ``cpu-only``: ``hosts`` hosts reporting ten cpu usage fields every 10 s."""

    kind = "devops"
    table = "cpu"
    tag_keys = DEVOPS_TAG_KEYS
    field_types = {name: FieldType.INTEGER for name in CPU_FIELDS}
    pg_types = {name: "DOUBLE PRECISION" for name in CPU_FIELDS}  # TSBS stores every field as a double
    _tag_draws = 9

    def __init__(
        self,
        hosts: int,
        *,
        hours: float | None = None,
        end_ns: int | None = None,
        start_ns: int = DEFAULT_START_NS,
        interval_ns: int = 10 * NS_PER_SECOND,
        seed: int = 0,
    ) -> None:
        super().__init__(
            hosts, hours=hours, end_ns=end_ns, start_ns=start_ns, interval_ns=interval_ns, seed=seed
        )

    def _make_tags(self, u: np.ndarray) -> list[tuple[str, ...]]:
        regions = list(DEVOPS_REGIONS)

        def pick(col: int, n: int) -> list[int]:
            return (u[:, col] * n).astype(np.int64).tolist()

        region_idx = pick(0, len(regions))
        out: list[tuple[str, ...]] = []
        for i, (r, dc_u, rack, os_, arch, team, svc, ver, env) in enumerate(
            zip(
                region_idx,
                u[:, 1].tolist(),
                pick(2, DEVOPS_RACKS),
                pick(3, len(DEVOPS_OS)),
                pick(4, len(DEVOPS_ARCH)),
                pick(5, len(DEVOPS_TEAMS)),
                pick(6, DEVOPS_SERVICES),
                pick(7, DEVOPS_SERVICE_VERSIONS),
                pick(8, len(DEVOPS_SERVICE_ENVIRONMENTS)),
                strict=True,
            )
        ):
            datacenters = DEVOPS_REGIONS[regions[r]]
            out.append(
                (
                    f"host_{i}",
                    regions[r],
                    datacenters[int(dc_u * len(datacenters))],
                    str(rack),
                    DEVOPS_OS[os_],
                    DEVOPS_ARCH[arch],
                    DEVOPS_TEAMS[team],
                    str(svc),
                    str(ver),
                    DEVOPS_SERVICE_ENVIRONMENTS[env],
                )
            )
        return out

    def _blocks(self) -> Callable[[int, int], Block]:
        hosts, n_fields = self.scale, len(CPU_FIELDS)
        state = _fixed(self._rng(_INIT).random((hosts, n_fields)) * 100.0).reshape(-1)
        steps_rng = self._rng(_STEPS)
        top = 100 * FIXED_ONE

        def next_block(t0: int, k: int) -> Block:
            walk = _fixed(steps_rng.standard_normal((k, hosts * n_fields)))
            if t0 == 0:
                walk[0] = 0  # the first tick reports the starting value
            clamped_walk(state, walk, 0, top)
            walk >>= 32  # floor of a non-negative value = TSBS's int64() truncation
            by_field = np.ascontiguousarray(walk.reshape(k * hosts, n_fields).T)
            times = np.repeat(self._tick_times(t0, k), hosts)
            return times, {name: by_field[i] for i, name in enumerate(CPU_FIELDS)}

        return next_block


# (initial low, initial high, step sigma, clamp low, clamp high, decimals) of the iot walk fields
IOT_WALKS: dict[str, tuple[float, float, float, float, float, int]] = {
    "temperature": (15.0, 30.0, 0.05, -40.0, 85.0, 2),
    "humidity": (30.0, 70.0, 0.1, 0.0, 100.0, 3),
    "pressure": (990.0, 1030.0, 0.05, 870.0, 1085.0, 2),
}


class IotSensors(DataGenerator):
    """A fleet of ``sensors`` environment sensors reporting every ``interval`` with ms jitter."""

    kind = "iot"
    table = "sensors"
    tag_keys = ("sensor_id", "location")
    field_types = {
        **{name: FieldType.FLOAT for name in IOT_WALKS},
        "readings_total": FieldType.INTEGER,
        "door_open": FieldType.BOOLEAN,
    }
    pg_types = {
        **{name: "DOUBLE PRECISION" for name in IOT_WALKS},
        "readings_total": "BIGINT",
        "door_open": "BOOLEAN",
    }
    _tag_draws = 1

    def __init__(
        self,
        sensors: int,
        *,
        hours: float | None = None,
        end_ns: int | None = None,
        start_ns: int = DEFAULT_START_NS,
        interval_ns: int = NS_PER_SECOND,
        jitter_ms: int = 100,
        counter_step_max: int = 5,
        door_flip_probability: float = 0.001,
        seed: int = 0,
    ) -> None:
        if jitter_ms < 0 or jitter_ms * 1_000_000 >= interval_ns:
            raise ValueError("jitter_ms must be non-negative and below the interval")
        if counter_step_max < 1:
            raise ValueError("counter_step_max must be at least 1")
        if not 0.0 <= door_flip_probability <= 1.0:
            raise ValueError("door_flip_probability must be within [0, 1]")
        self.jitter_ms = jitter_ms
        self.counter_step_max = counter_step_max
        self.door_flip_probability = door_flip_probability
        super().__init__(
            sensors, hours=hours, end_ns=end_ns, start_ns=start_ns, interval_ns=interval_ns, seed=seed
        )

    @property
    def time_unit(self) -> str:
        return _time_unit(self.start_ns, self.interval_ns, 1_000_000 if self.jitter_ms else NS_PER_SECOND)

    def _make_tags(self, u: np.ndarray) -> list[tuple[str, ...]]:
        loc = (u[:, 0] * len(IOT_LOCATIONS)).astype(np.int64).tolist()
        return [(f"sensor_{i}", IOT_LOCATIONS[j]) for i, j in enumerate(loc)]

    def _blocks(self) -> Callable[[int, int], Block]:
        sensors = self.scale
        spec = np.array(list(IOT_WALKS.values()))  # (n_walks, 6)
        n_walks = len(spec)
        init = self._rng(_INIT).random((sensors, n_walks + 2))  # walks, counter start, door start
        walk_state = _fixed(spec[:, 0] + init[:, :n_walks] * (spec[:, 1] - spec[:, 0])).reshape(-1)
        counter = (init[:, n_walks] * 1000).astype(np.int64)
        door = init[:, n_walks + 1] < 0.1
        sigma = spec[:, 2]
        lo = np.tile(_fixed(spec[:, 3]), sensors)
        hi = np.tile(_fixed(spec[:, 4]), sensors)
        rngs = {s: self._rng(s) for s in (_STEPS, _JITTER, _COUNTER, _DOOR)}
        jitter_choices, step_choices = self.jitter_ms + 1, self.counter_step_max

        def next_block(t0: int, k: int) -> Block:
            nonlocal counter, door
            jitter = (rngs[_JITTER].random((k, sensors)) * jitter_choices).astype(np.int64) * 1_000_000
            times = (self._tick_times(t0, k)[:, None] + jitter).reshape(-1)

            walk = _fixed(rngs[_STEPS].standard_normal((k, sensors, n_walks)) * sigma).reshape(k, -1)
            inc = 1 + (rngs[_COUNTER].random((k, sensors)) * step_choices).astype(np.int64)
            flips = rngs[_DOOR].random((k, sensors)) < self.door_flip_probability
            if t0 == 0:  # the first tick reports the starting values
                walk[0], inc[0], flips[0] = 0, 0, False
            clamped_walk(walk_state, walk, lo, hi)
            values = walk.reshape(k * sensors, n_walks).T / FIXED_ONE
            fields = {name: np.round(values[i], int(spec[i, 5])) for i, name in enumerate(IOT_WALKS)}
            totals = np.cumsum(inc, axis=0) + counter
            doors = np.logical_xor.accumulate(flips, axis=0) ^ door
            counter, door = totals[-1].copy(), doors[-1].copy()
            fields["readings_total"] = totals.reshape(-1)
            fields["door_open"] = doors.reshape(-1)
            return times, fields

        return next_block


GENERATORS: dict[str, type[DataGenerator]] = {"devops": DevopsCpu, "iot": IotSensors}


def make_generator(kind: str, scale: int, **kwargs: object) -> DataGenerator:
    """``make_generator("devops", 100, hours=24, seed=1)``; keyword arguments go to the class."""
    try:
        cls = GENERATORS[kind]
    except KeyError:
        raise ValueError(f"unknown generator {kind!r}; choose from {', '.join(GENERATORS)}") from None
    return cls(scale, **kwargs)  # type: ignore[arg-type]


# -- text building blocks ---------------------------------------------------------------------------------
_STR = pa.large_string()  # 64-bit offsets: a chunk's text may pass 2 GiB


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, _STR)


def _per_row(per_series: Sequence[str], series: np.ndarray) -> pa.Array:
    return pa.array(per_series, _STR).take(pa.array(series))


def _text_buffer(arr: pa.Array, copy: bool = True) -> bytes | pa.Buffer:
    """The concatenation of every string of a non-null string array: a slice of its data buffer."""
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    buf = arr.buffers()[2][int(offsets[0]) : int(offsets[-1])]
    return buf.to_pybytes() if copy else buf


def _by_runs(values: np.ndarray, fmt: Callable[[np.ndarray], pa.Array]) -> pa.Array:
    """``fmt(values)``, formatting each run of equal neighbours once (tick-major rows repeat times)."""
    n = len(values)
    change = np.empty(n, dtype=bool)
    change[:1] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    heads = np.flatnonzero(change)
    if 2 * len(heads) > n:
        return fmt(values)
    return fmt(values[heads]).take(pa.array(np.cumsum(change) - 1))


def _prepend(text: pa.Array, literal: str) -> pa.Array:
    return pc.binary_replace_slice(text, start=0, stop=0, replacement=literal) if literal else text


def _append(text: pa.Array, literal: str) -> pa.Array:
    end = 1 << 62  # past any string's end
    return pc.binary_replace_slice(text, start=end, stop=end, replacement=literal) if literal else text


def _int_text(
    values: np.ndarray, lead: str = "", trail: str = "", mask: np.ndarray | None = None
) -> pa.Array:
    """``lead`` + decimal text + ``trail`` of ints; each value formatted once when they span a small range."""
    n = len(values)
    if n:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < min(n // 4, 1 << 20):
            table = _append(
                _prepend(pc.cast(pa.array(np.arange(lo, hi + 1, dtype=values.dtype)), _STR), lead), trail
            )
            return table.take(pa.array(values - values.dtype.type(lo), mask=mask))
    return _append(_prepend(pc.cast(pa.array(values, mask=mask), _STR), lead), trail)


def _time_unit(*ns_values: int) -> str:
    g = math.gcd(*ns_values)
    for unit, size in (("s", NS_PER_SECOND), ("ms", 1_000_000), ("us", 1_000)):
        if g % size == 0:
            return unit
    return "ns"


_FRACTION_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 ASCII digits of non-negative ints, zero padded."""
    out = np.empty((len(values), width), np.uint8)
    v = values.astype(np.int64)
    for i in range(width - 1, -1, -1):
        v, d = np.divmod(v, 10)
        out[:, i] = d + 48
    return out


@cache
def _clock_table() -> np.ndarray:
    """``HH:MM:SS`` for every second of a day, as (86400, 8) uint8."""
    sec = np.arange(86_400)
    table = np.full((86_400, 8), ord(":"), np.uint8)
    table[:, 0:2] = _digits(sec // 3600, 2)
    table[:, 3:5] = _digits(sec // 60 % 60, 2)
    table[:, 6:8] = _digits(sec % 60, 2)
    return table


def rfc3339_text(ns: np.ndarray, unit: str = "s") -> pa.Array:
    """RFC 3339 UTC text (``2016-01-01T00:00:00Z``, ``...00.123Z`` for ``ms``) of ns timestamps.

    Sub-``unit`` digits are truncated. Built as fixed-width bytes from a per-day and a per-second
    table, with no per-row Python or strftime.
    """
    n, frac = len(ns), _FRACTION_DIGITS[unit]
    if n == 0:
        return pa.array([], _STR)
    width = 20 + (frac + 1 if frac else 0)
    days, in_day = np.divmod(np.asarray(ns, dtype=np.int64), NS_PER_DAY)
    first = int(days.min())
    day_range = np.arange(first, int(days.max()) + 1)
    day_text = np.datetime_as_string(day_range.astype("datetime64[D]")).astype("S10")
    day_table = np.frombuffer(day_text.tobytes(), np.uint8).reshape(-1, 10)
    out = np.empty((n, width), np.uint8)
    out[:, 0:10] = day_table[days - first]
    out[:, 10] = ord("T")
    sec, sub = np.divmod(in_day, NS_PER_SECOND)
    out[:, 11:19] = _clock_table()[sec]
    if frac:
        out[:, 19] = ord(".")
        out[:, 20 : 20 + frac] = _digits(sub // 10 ** (9 - frac), frac)
    out[:, -1] = ord("Z")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))


# -- line protocol ----------------------------------------------------------------------------------------
_LP_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_LP_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})


def lp_series_key(measurement: str, tags: Iterable[tuple[str, str]]) -> str:
    """``measurement,k=v,...`` with line-protocol escaping, tags in the order given."""
    parts = [measurement.translate(_LP_MEASUREMENT)]
    parts += [f"{k.translate(_LP_KEY)}={v.translate(_LP_KEY)}" for k, v in tags]
    return ",".join(parts)


def _lp_text(col: FieldColumn, lead: str) -> tuple[pa.Array, str]:
    """(``lead`` + each value's line-protocol text, the suffix still owed); nulls where missing."""
    mask = None if col.valid is None else ~col.valid
    t = col.type
    if t is FieldType.FLOAT:
        finite = col.values if mask is None else col.values[col.valid]
        if not np.isfinite(finite).all():
            raise ValueError("line protocol cannot carry NaN or infinite floats")
        return _prepend(pc.cast(pa.array(col.values, mask=mask), _STR), lead), ""
    if t is FieldType.INTEGER or t is FieldType.UNSIGNED:
        return _int_text(col.values, lead, mask=mask), "i" if t is FieldType.INTEGER else "u"
    if t is FieldType.BOOLEAN:
        return pc.if_else(pa.array(col.values, mask=mask), _lit(lead + "true"), _lit(lead + "false")), ""
    text = pa.array(col.values, _STR, mask=mask)
    text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    return _prepend(text, lead + '"'), '"'


def format_line_protocol(
    batch: WriteBatch, prefixes: Sequence[str] | None = None, *, copy: bool = True
) -> bytes | pa.Buffer:
    """Line protocol for every row of ``batch``: one ``\\n``-terminated line each, ns timestamps.

    ``prefixes[i]`` is series i's escaped ``measurement,tags`` text (a generator's ``lp_prefixes``
    keeps TSBS's tag order); by default it is built from ``batch.tag_sets`` (tags sorted by key).
    Rows missing a field leave it out; a row with no field at all would be invalid and is not checked.
    ``copy=False`` returns the text as a zero-copy ``pyarrow.Buffer`` (bytes-like) instead of bytes.
    """
    if len(batch) == 0:
        return b""
    if prefixes is None:
        prefixes = [lp_series_key(batch.table, ts) for ts in batch.tag_sets]
    # Literal text rides on the arrays (prepended per column, or inside a formatted-once table)
    # because literal scalars make binary_join_element_wise several times slower.
    pieces = [_per_row(prefixes, batch.series)]
    if all(col.valid is None for col in batch.fields.values()):
        glue = " "  # text between two values: previous suffix, comma, key=
        for name, col in batch.fields.items():
            text, after = _lp_text(col, f"{glue}{name.translate(_LP_KEY)}=")
            pieces.append(text)
            glue = after + ","
        tail = glue[:-1] + " "
    else:  # some rows lack some fields: join ",k=v" pieces skipping nulls, then turn the first , into a space
        parts = []
        for name, col in batch.fields.items():
            text, after = _lp_text(col, f",{name.translate(_LP_KEY)}=")
            parts.append(_append(text, after))
        fields = pc.binary_join_element_wise(*parts, _lit(""), null_handling="skip")
        pieces.append(pc.binary_replace_slice(fields, start=0, stop=1, replacement=" "))
        tail = " "
    pieces.append(_by_runs(batch.time, lambda v: _int_text(v, tail, "\n")))
    return _text_buffer(pc.binary_join_element_wise(*pieces, _lit("")), copy)


# -- CSV --------------------------------------------------------------------------------------------------
def _csv_cell(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_value(col: FieldColumn, trail: str) -> pa.Array:
    """Each value as a CSV cell led by its comma and followed by ``trail``; missing values are empty cells."""
    mask = None if col.valid is None else ~col.valid
    if col.type is FieldType.BOOLEAN:
        text = pc.if_else(pa.array(col.values, mask=mask), _lit(f",true{trail}"), _lit(f",false{trail}"))
    elif col.type is FieldType.INTEGER or col.type is FieldType.UNSIGNED:
        text = _int_text(col.values, ",", trail, mask=mask)
    else:
        if col.type is FieldType.STRING:
            text = pa.array(col.values, _STR, mask=mask)
            quoted = _append(_prepend(pc.replace_substring(text, '"', '""'), '"'), '"')
            text = pc.if_else(pc.match_substring_regex(text, '[,"\r\n]'), quoted, text)
        else:
            text = pc.cast(pa.array(col.values, mask=mask), _STR)
        text = _append(_prepend(text, ","), trail)
    return text if mask is None else pc.fill_null(text, _lit("," + trail))


def format_csv(
    batch: WriteBatch,
    series_cells: Sequence[str] | None = None,
    *,
    time_format: str = "rfc3339",
    time_unit: str = "s",
    copy: bool = True,
) -> bytes | pa.Buffer:
    """CSV rows (no header): ``time[,series cells],field,...``; a missing field is an empty cell.

    ``series_cells[i]`` is series i's text between time and the fields (tag values, or a TimescaleDB
    ``tags_id``), already CSV-escaped; None leaves it out. ``time_format`` is ``rfc3339`` (digits down
    to ``time_unit``) or ``ns`` (integer nanoseconds). ``copy=False`` returns a zero-copy
    ``pyarrow.Buffer``.
    """
    if len(batch) == 0:
        return b""
    if time_format == "rfc3339":
        times = _by_runs(batch.time, lambda v: rfc3339_text(v, time_unit))
    elif time_format == "ns":
        times = _by_runs(batch.time, _int_text)
    else:
        raise ValueError(f"unknown time format {time_format!r}; use rfc3339 or ns")
    pieces = [times]
    if series_cells is not None:
        pieces.append(_per_row([f",{c}" for c in series_cells], batch.series))
    cols = list(batch.fields.values())
    pieces += [_csv_value(col, "\n" if i == len(cols) - 1 else "") for i, col in enumerate(cols)]
    if not cols:
        pieces[-1] = _append(pieces[-1], "\n")
    return _text_buffer(pc.binary_join_element_wise(*pieces, _lit("")), copy)


# -- TSBS TimescaleDB layout ------------------------------------------------------------------------------
def timescale_schema(
    gen: DataGenerator,
    *,
    in_table_tag: bool = False,
    hypertable: bool = True,
    chunk_time_ns: int = 12 * NS_PER_HOUR,
) -> str:
    """The DDL ``tsbs_load_timescaledb`` runs with default flags, plus COPY lines for our CSV files."""
    tags = list(gen.tag_keys)
    fields = [f"{name} {pg}" for name, pg in gen.pg_types.items()]
    if in_table_tag:
        fields.insert(0, f"{tags[0]} TEXT")
    part = tags[0] if in_table_tag else "tags_id"
    t = gen.table
    lines = [
        f"-- TSBS TimescaleDB layout for {gen.kind}: tags table + {t} hypertable (tsbs_load_timescaledb defaults)",
        "CREATE TABLE tags(id SERIAL PRIMARY KEY, " + ", ".join(f"{k} TEXT" for k in tags) + ");",
        f"CREATE UNIQUE INDEX uniq1 ON tags({','.join(tags)});",
        f"CREATE INDEX ON tags({tags[0]});",
        f"CREATE TABLE {t} (time timestamptz, tags_id integer, {', '.join(fields)}, "
        "additional_tags JSONB DEFAULT NULL);",
        f'CREATE INDEX ON {t}({part}, "time" DESC);',
        f'CREATE INDEX ON {t}("time" DESC);',
    ]
    if hypertable:
        lines += [
            "CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE;",
            f"SELECT create_hypertable('{t}'::regclass, 'time'::name, "
            f"chunk_time_interval => {chunk_time_ns // 1000}, create_default_indexes => FALSE);",
        ]
    cols = ",".join(timescale_columns(gen, in_table_tag=in_table_tag))
    lines += [
        "-- load (psql):",
        f"-- \\copy tags({','.join(['id', *tags])}) FROM 'tags.csv' CSV HEADER",
        f"-- SELECT setval('tags_id_seq', {gen.scale});",
        f"-- \\copy {t}({cols}) FROM '{t}.csv' CSV HEADER",
    ]
    return "\n".join(lines) + "\n"


def timescale_columns(gen: DataGenerator, *, in_table_tag: bool = False) -> list[str]:
    """Columns of the metrics CSV, in order."""
    return ["time", "tags_id", *gen.tag_keys[: 1 if in_table_tag else 0], *gen.field_types]


def timescale_tags_csv(gen: DataGenerator) -> bytes:
    """The ``tags`` table as CSV with header; ``id`` is the series index + 1 (SERIAL numbering)."""
    rows = [",".join(["id", *gen.tag_keys])]
    rows += [f"{i + 1},{cells}" for i, cells in enumerate(gen.csv_tag_cells)]
    return ("\n".join(rows) + "\n").encode()


def write_timescale(
    gen: DataGenerator,
    directory: str | Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    in_table_tag: bool = False,
) -> dict[str, Path]:
    """Write ``schema.sql``, ``tags.csv`` and ``<table>.csv`` into ``directory``; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"schema": out / "schema.sql", "tags": out / "tags.csv", "rows": out / f"{gen.table}.csv"}
    paths["schema"].write_text(timescale_schema(gen, in_table_tag=in_table_tag))
    paths["tags"].write_bytes(timescale_tags_csv(gen))
    cells = [
        f"{i + 1},{_csv_cell(v[0])}" if in_table_tag else str(i + 1) for i, v in enumerate(gen.series_tags)
    ]
    with paths["rows"].open("wb") as f:
        f.write((",".join(timescale_columns(gen, in_table_tag=in_table_tag)) + "\n").encode())
        for batch in gen.batches(chunk_rows):
            f.write(format_csv(batch, cells, time_format="rfc3339", time_unit=gen.time_unit, copy=False))
    return paths


# -- CLI: python -m bench gen -----------------------------------------------------------------------------
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": NS_PER_HOUR,
}


def parse_duration(text: str) -> int:
    """``10s``, ``500ms``, ``1.5h``, ``2`` (seconds) -> nanoseconds."""
    text = text.strip()
    for unit in sorted(_DURATION_UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return round(float(text[: -len(unit)]) * _DURATION_UNITS[unit])
    return round(float(text) * NS_PER_SECOND)


def parse_time(text: str) -> int:
    """RFC 3339 (``2016-01-01T00:00:00Z``; no zone means UTC) or integer ns -> ns since the epoch."""
    if text.lstrip("-").isdigit():
        return int(text)
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind", choices=sorted(GENERATORS), default="devops", help="data set (default devops)"
    )
    parser.add_argument(
        "--scale", "--hosts", "--sensors", dest="scale", type=int, default=100,
        help="number of hosts (devops) or sensors (iot); default 100",
    )  # fmt: skip
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--hours", type=float, help="duration in hours (default 24)")
    span.add_argument("--end", help="end time, exclusive (RFC 3339 or ns)")
    parser.add_argument("--start", default="2016-01-01T00:00:00Z", help="start time (default TSBS's)")
    parser.add_argument("--interval", help="tick interval, e.g. 10s, 500ms (default 10s devops, 1s iot)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("lp", "csv", "timescale"), default="lp")
    parser.add_argument(
        "--time-format", choices=("rfc3339", "ns"), default="rfc3339", help="CSV time column (csv format)"
    )
    parser.add_argument("--in-table-tag", action="store_true", help="timescale: hostname column in the table")
    parser.add_argument("--jitter-ms", type=int, default=100, help="iot: max timestamp jitter (ms)")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument("--out", default="-", help="output file, '-' for stdout; a directory for timescale")


def run(args: argparse.Namespace) -> int:
    kwargs: dict[str, object] = {"start_ns": parse_time(args.start), "seed": args.seed}
    if args.end is not None:
        kwargs["end_ns"] = parse_time(args.end)
    else:
        kwargs["hours"] = 24.0 if args.hours is None else args.hours
    if args.interval is not None:
        kwargs["interval_ns"] = parse_duration(args.interval)
    if args.kind == "iot":
        kwargs["jitter_ms"] = args.jitter_ms
    elif args.jitter_ms != 100:
        raise SystemExit("--jitter-ms applies to --kind iot only")
    if args.in_table_tag and args.format != "timescale":
        raise SystemExit("--in-table-tag applies to --format timescale only")
    gen = make_generator(args.kind, args.scale, **kwargs)
    began = _time.perf_counter()
    if args.format == "timescale":
        if args.out == "-":
            raise SystemExit("--format timescale writes several files: give --out DIRECTORY")
        paths = write_timescale(gen, args.out, chunk_rows=args.chunk_rows, in_table_tag=args.in_table_tag)
        where = ", ".join(str(p) for p in paths.values())
    else:
        if args.format == "lp":
            chunks = gen.line_protocol(args.chunk_rows, copy=False)
        else:
            chunks = gen.csv(args.chunk_rows, time_format=args.time_format, copy=False)
        if args.out == "-":
            try:
                _write_all(sys.stdout.buffer, chunks)
            except BrokenPipeError:  # e.g. piped into head: stop quietly, as Unix tools do
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 1
            where = "stdout"
        else:
            with open(args.out, "wb") as f:
                _write_all(f, chunks)
            where = args.out
    took = _time.perf_counter() - began
    rate = gen.n_rows / took if took > 0 else float("inf")
    print(f"{gen.kind}: {gen.n_rows} rows ({gen.scale} series x {gen.n_ticks} ticks) -> {where} "
          f"in {took:.2f} s ({rate:,.0f} rows/s)", file=sys.stderr)  # fmt: skip
    return 0


def _write_all(f: object, chunks: Iterator[bytes]) -> None:
    for chunk in chunks:
        f.write(chunk)  # type: ignore[attr-defined]
