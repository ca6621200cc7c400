"""Type codecs: text and binary round trips for every registered type (arrays and NULLs too), the
vectorised column encoders against the one-value encoders, and PostgreSQL's exact text formats."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pgwire import messages as m
from pgwire.copy import wire_values
from pgwire.errors import InvalidBinaryRepresentation
from pgwire.types import REGISTRY, BatchRows, Context, decode_param, encode_column, encode_value, text_rows
from pgwire.types.numbers import format_float
from sql.errors import InvalidTextRepresentation

UTC = Context("UTC")

ts = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59))
SCALARS: dict[int, st.SearchStrategy[object]] = {
    16: st.booleans(),
    21: st.integers(-(2**15), 2**15 - 1),
    23: st.integers(-(2**31), 2**31 - 1),
    20: st.integers(-(2**63), 2**63 - 1),
    26: st.integers(0, 2**32 - 1),
    700: st.floats(width=32),
    701: st.floats(),
    1700: st.decimals(allow_nan=True, allow_infinity=True, places=None).filter(lambda d: not d.is_snan())
    | st.decimals(min_value=-(10**20), max_value=10**20, places=4),
    25: st.text(),
    1043: st.text(),
    19: st.text(max_size=20),
    1042: st.text(),
    18: st.text(max_size=1),
    114: st.just('{"a": [1, 2.5, null, "x"]}'),
    3802: st.just('{"b": true}'),
    17: st.binary(),
    1114: ts,
    1184: ts.map(lambda d: d.replace(tzinfo=dt.UTC)),
    1082: st.dates(),
    1083: st.times(),
    1186: st.builds(
        lambda mo, d, us: pa.MonthDayNano([mo, d, us * 1000]),
        st.integers(-(10**5), 10**5),
        st.integers(-(10**5), 10**5),
        st.integers(-(10**15), 10**15),
    ),
    2950: st.uuids(),
}
SCALAR_OIDS = sorted(SCALARS)
ARRAY_OIDS = sorted(REGISTRY[o].array_oid for o in SCALAR_OIDS)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return (a.is_nan() and b.is_nan()) or (a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, pa.MonthDayNano) and isinstance(b, pa.MonthDayNano):
        return tuple(a) == tuple(b)
    return a == b


def test_registry_covers_the_builtin_types_and_their_arrays() -> None:
    for oid in SCALAR_OIDS:
        t = REGISTRY[oid]
        assert t.array_oid in REGISTRY and REGISTRY[t.array_oid].element_oid == oid, t.name


@pytest.mark.parametrize("oid", SCALAR_OIDS, ids=lambda o: REGISTRY[o].name)
@pytest.mark.parametrize("fmt", [0, 1], ids=["text", "binary"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_value_round_trip(oid: int, fmt: int, data: st.DataObject) -> None:
    value = data.draw(SCALARS[oid])
    if oid == 18:
        assume(len(value.encode()) <= 1)  # type: ignore[attr-defined]
    wire = encode_value(value, oid, fmt, UTC)
    assert wire is not None
    back = decode_param(wire, oid, fmt, UTC)
    assert same(back, value), (value, wire, back)


@pytest.mark.parametrize("oid", SCALAR_OIDS, ids=lambda o: REGISTRY[o].name)
@pytest.mark.parametrize("fmt", [0, 1], ids=["text", "binary"])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_array_round_trip_with_nulls(oid: int, fmt: int, data: st.DataObject) -> None:
    element = SCALARS[oid] if oid != 18 else st.sampled_from(["a", "b", " ", "{"])
    shape = data.draw(st.sampled_from([(0,), (3,), (2, 2), (2, 1, 3)]))
    count = math.prod(shape)
    flat = data.draw(st.lists(st.none() | element, min_size=count, max_size=count))
    value: list[object] = flat
    for d in reversed(shape[1:]):
        value = [value[i : i + d] for i in range(0, len(value), d)]
    array_oid = REGISTRY[oid].array_oid
    wire = encode_value(value, array_oid, fmt, UTC)
    assert wire is not None
    back = decode_param(wire, array_oid, fmt, UTC)
    assert same(back, value), (value, wire, back)


def _column(arr: pa.Array, oid: int, fmt: int, ctx: Context = UTC) -> list[bytes | None]:
    return wire_values(encode_column(arr, oid, fmt, ctx)).to_pylist()


# one for every test: its plan follows each new schema, OIDs, formats and zone (a connection's keeps one)
ROWS = BatchRows()


def _batch_rows(arrays: list[pa.Array], oids: list[int], formats: list[int], ctx: Context) -> bytes:
    """What BatchRows writes for a record batch of ``arrays``."""
    batch = pa.record_batch(arrays, names=[f"c{i}" for i in range(len(arrays))])
    return bytes(ROWS.encode(batch, oids, formats, ctx))


def _text_rows(arr: pa.Array, oid: int, ctx: Context = UTC) -> list[bytes | None]:
    """The values of the DataRows text_rows writes for a one-column batch of ``arr`` (in text); BatchRows
    writes the same bytes."""
    data = bytes(text_rows([arr], [oid], [0], ctx, len(arr)))
    assert _batch_rows([arr], [oid], [0], ctx) == data
    out: list[bytes | None] = []
    while data:
        length = int.from_bytes(data[1:5], "big")
        row = m.DataRow.decode(data[5 : 1 + length])
        assert len(row.values) == 1
        out.append(row.values[0])
        data = data[1 + length :]
    return out


ARROW = {
    16: (pa.bool_(), SCALARS[16]),
    21: (pa.int16(), SCALARS[21]),
    23: (pa.int32(), SCALARS[23]),
    20: (pa.int64(), SCALARS[20]),
    700: (pa.float32(), SCALARS[700]),
    701: (pa.float64(), SCALARS[701]),
    1700: (pa.decimal128(20, 4), st.decimals(min_value=-(10**15), max_value=10**15, places=4)),
    25: (pa.string(), SCALARS[25]),
    17: (pa.binary(), SCALARS[17]),
    1114: (
        pa.timestamp("us"),
        st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2260, 1, 1)),
    ),
    1184: (
        pa.timestamp("us", tz="UTC"),
        st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2260, 1, 1)),
    ),
    1082: (pa.date32(), SCALARS[1082]),
    1083: (pa.time64("us"), SCALARS[1083]),
    1186: (pa.month_day_nano_interval(), SCALARS[1186]),
    2950: (pa.string(), st.uuids().map(str)),
    1007: (pa.list_(pa.int32()), st.lists(st.none() | SCALARS[23], max_size=4)),
    1009: (pa.list_(pa.string()), st.lists(st.none() | st.text(max_size=5), max_size=4)),
}


@pytest.mark.parametrize("oid", sorted(ARROW), ids=lambda o: REGISTRY[o].name)
@pytest.mark.parametrize("fmt", [0, 1], ids=["text", "binary"])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_vectorised_columns_match_value_encoders(oid: int, fmt: int, data: st.DataObject) -> None:
    typ, strategy = ARROW[oid]
    values = data.draw(st.lists(st.none() | strategy, max_size=12))
    arr = pa.array(values, typ)
    zones = ["UTC", "America/New_York", "Asia/Kolkata"] if oid in (1184, 1114) else ["UTC"]
    for zone in zones:
        ctx = Context(zone)
        got = _column(arr, oid, fmt, ctx)
        expected = [encode_value(v, oid, fmt, ctx) for v in arr.to_pylist()]
        assert got == expected, zone


# ---------------------------------------------------------------- whole batches: the bulk path against the per-value path

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
FLOAT8_EDGES = [
    math.nan,
    math.inf,
    -math.inf,
    -0.0,
    0.0,
    5e-324,
    -1.7976931348623157e308,
    1e15,
    999999999999999.9,
    1e-4,
    9.999999999999999e-05,
    0.1,
    1e16,
    123456789012345.67,
]
FLOAT4_EDGES = [math.nan, math.inf, -math.inf, -0.0, 1e-45, 3.4028234663852886e38, 1e6, 999999.94, 1e-4, 0.1]
# Years 1-9999 in every zone (Python's datetime holds no other). datetime.min and datetime.max stand for
# -infinity and infinity in Python values (encode_value), so the first and last day are left out (dates too).
WIDE_TIMES = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30, 23, 59, 59, 999999)
)
# (pg type, Arrow type, values): what the engine hands the encoder, edge values drawn often
BATCH_COLUMNS = {
    "timestamptz": (
        1184,
        pa.timestamp("us", tz="UTC"),
        st.sampled_from(
            [
                dt.datetime(1, 1, 2),
                dt.datetime(1899, 12, 31, 23, 59, 59, 999999),
                dt.datetime(2037, 12, 31, 23, 59, 59),
                dt.datetime(2038, 1, 19, 3, 14, 8),
                dt.datetime(2262, 4, 11),
                dt.datetime(9999, 12, 30, 23, 59, 59),
            ]
        )
        | WIDE_TIMES,
    ),
    "timestamp": (1114, pa.timestamp("us"), WIDE_TIMES),
    "timestamptz ns": (
        1184,
        pa.timestamp("ns", tz="UTC"),
        st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2262, 1, 1)).map(
            lambda d: d.replace(tzinfo=dt.UTC)
        ),
    ),
    "date": (1082, pa.date32(), st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30))),
    "float8": (701, pa.float64(), st.sampled_from(FLOAT8_EDGES) | st.floats()),
    "float4": (700, pa.float32(), st.sampled_from(FLOAT4_EDGES) | st.floats(width=32)),
    "int8": (
        20,
        pa.int64(),
        st.sampled_from([-(2**63), 2**63 - 1, 0, -1]) | st.integers(-(2**63), 2**63 - 1),
    ),
    "int4": (23, pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    "int2": (21, pa.int16(), st.integers(-(2**15), 2**15 - 1)),
    "numeric": (1700, pa.decimal128(18, 3), st.decimals(min_value=-(10**14), max_value=10**14, places=3)),
    "numeric wide": (
        1700,
        pa.decimal128(38, 2),
        st.decimals(min_value=-(10**30), max_value=10**30, places=2),
    ),
    "text": (25, pa.string(), st.text(max_size=8)),
    "text dictionary": (25, pa.dictionary(pa.int32(), pa.string()), st.text(max_size=8)),
    "varchar dictionary int8": (
        1043,
        pa.dictionary(pa.int8(), pa.large_string()),
        st.sampled_from(["", "a", "host_1", "ü" * 20]),
    ),
    "varchar large": (1043, pa.large_string(), st.text(max_size=8)),
    "bool": (16, pa.bool_(), st.booleans()),
}


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_bulk_batches_match_value_by_value(data: st.DataObject) -> None:
    """encode_column + encode_data_rows, and text_rows, give the same DataRow bytes as encode_value +
    DataRow, for batches of several types with NULLs, sliced (Arrow offsets), in text and binary and in
    several time zones."""
    names = data.draw(
        st.lists(st.sampled_from(sorted(BATCH_COLUMNS)), min_size=1, max_size=4), label="columns"
    )
    n = data.draw(st.integers(1, 40), label="rows")
    skip = data.draw(st.integers(0, 3), label="sliced off")
    arrays, oids, formats = [], [], []
    for name in names:
        oid, typ, values = BATCH_COLUMNS[name]
        drawn = data.draw(st.lists(st.none() | values, min_size=n + skip, max_size=n + skip), label=name)
        arrays.append(pa.array(drawn, typ).slice(skip))
        oids.append(oid)
        formats.append(data.draw(st.sampled_from([0, 1]), label="format"))
    ctx = Context(data.draw(st.sampled_from(ZONES), label="zone"))
    got = m.encode_data_rows(
        [encode_column(a, o, f, ctx) for a, o, f in zip(arrays, oids, formats, strict=True)], n
    )
    columns = [a.to_pylist() for a in arrays]
    expected = b"".join(
        m.DataRow(
            [encode_value(col[r], o, f, ctx) for col, o, f in zip(columns, oids, formats, strict=True)]
        ).encode()
        for r in range(n)
    )
    assert got == expected
    assert text_rows(arrays, oids, formats, ctx, n) == expected  # integers, float8, UTC times in the kernel
    assert _batch_rows(arrays, oids, formats, ctx) == expected


# what BatchRows plans for besides BATCH_COLUMNS: dictionaries of every index width with NULL indices (and
# one with a NULL value: not read by the kernel), int8 as int2, binary as text
ROW_COLUMNS = {
    **BATCH_COLUMNS,
    "dictionary int16": (1043, pa.dictionary(pa.int16(), pa.string()), st.sampled_from(["x", "host_12"])),
    "dictionary int64": (25, pa.dictionary(pa.int64(), pa.large_string()), st.text(max_size=20)),
    "dictionary null value": (25, "null value", st.sampled_from([0, 1, 2])),
    "int1": (21, pa.int8(), st.integers(-128, 127)),
    "binary text": (25, pa.binary(), st.text(max_size=20).map(str.encode)),
}


def _row_column(name: str, drawn: list[object]) -> pa.Array:
    oid, typ, _ = ROW_COLUMNS[name]
    if typ == "null value":
        return pa.DictionaryArray.from_arrays(pa.array(drawn, pa.int32()), pa.array(["a", None, "bc"]))
    return pa.array(drawn, typ)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_batch_rows_match_value_by_value(data: st.DataObject) -> None:
    """BatchRows (the batch as Arrow exports it, read by the kernel; or text_rows for what the kernel does
    not read) gives the DataRow bytes of encode_value + DataRow: batches of several columns, NULLs,
    sliced as arrays and as a batch, in text and binary and in several zones, one encoder for batches
    of changing schemas (its plan is redone), and twice the same batch (the plan is kept)."""
    names = data.draw(st.lists(st.sampled_from(sorted(ROW_COLUMNS)), min_size=1, max_size=5), label="cols")
    n = data.draw(st.integers(1, 30), label="rows")
    skip = data.draw(st.integers(0, 3), label="array offset")
    cut = data.draw(st.integers(0, 3), label="batch offset")
    arrays, oids, formats = [], [], []
    for name in names:
        oid, _, values = ROW_COLUMNS[name]
        drawn = data.draw(st.lists(st.none() | values, min_size=cut + n + skip, max_size=cut + n + skip))
        arrays.append(_row_column(name, drawn).slice(skip))
        oids.append(oid)
        formats.append(data.draw(st.sampled_from([0, 1]), label="format"))
    ctx = Context(data.draw(st.sampled_from(ZONES), label="zone"))
    batch = pa.record_batch(arrays, names=[f"c{i}" for i in range(len(arrays))]).slice(cut, n)
    columns = [a.to_pylist() for a in batch.columns]
    expected = b"".join(
        m.DataRow(
            [encode_value(col[r], o, f, ctx) for col, o, f in zip(columns, oids, formats, strict=True)]
        ).encode()
        for r in range(n)
    )
    assert bytes(ROWS.encode(batch, oids, formats, ctx)) == expected
    assert bytes(ROWS.encode(batch, oids, formats, ctx)) == expected


def test_batch_rows_reads_the_usual_columns_without_text_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """TSBS's result columns (a timestamptz, tags as strings or dictionaries, integers, floats, storage
    nanoseconds as timestamptz) are read from the exported batch: text_rows, which wraps every column as
    a Python array first, is not called; a column the kernel does not write (bool) goes to text_rows."""
    from pgwire.types import _rows

    calls = []
    real = _rows.text_rows

    def counting(*args: object) -> object:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_rows, "text_rows", counting)
    times = pa.array([0, 86_400_000_001, None], pa.timestamp("us", tz="UTC"))
    host = pa.DictionaryArray.from_arrays(pa.array([1, 0, None], pa.int32()), pa.array(["host_0", "host_1"]))
    arrays = [
        times,
        pa.array(["x", None, "yz"]),
        host,
        pa.array([1, None, 2**40]),
        pa.array([0.5, None, 1e300]),
    ]
    arrays.append(pa.array([1451606400_123456789, None, -1]))
    oids = [1184, 25, 1043, 20, 701, 1184]
    batch = pa.record_batch(arrays, names=list("abcdef"))
    rows = BatchRows()
    got = bytes(rows.encode(batch, oids, [0] * 6, UTC))
    assert got == bytes(real(batch.columns, oids, [0] * 6, UTC, 3)) and not calls
    assert b"2016-01-01 00:00:00.123456+00" in got and b"host_1" in got
    # the same OIDs over other Arrow types (large strings, int32): the kernel sees it, the plan is redone
    other = [arrays[0], arrays[1].cast(pa.large_string()), arrays[2], pa.array([1, None, 2], pa.int32())]
    other += arrays[4:]
    batch = pa.record_batch(other, names=list("abcdef"))
    assert bytes(rows.encode(batch, oids, [0] * 6, UTC)) == bytes(real(other, oids, [0] * 6, UTC, 3))
    assert not calls
    with_bool = pa.record_batch([*arrays, pa.array([True, None, False])], names=list("abcdefg"))
    assert bytes(rows.encode(with_bool, [*oids, 16], [0] * 7, UTC)) == bytes(
        real(with_bool.columns, [*oids, 16], [0] * 7, UTC, 3)
    )
    assert len(calls) == 1
    tagged = batch.schema.set(1, batch.schema.field(1).with_metadata({"k": "v"}))
    batch = pa.record_batch(other, schema=tagged)  # field metadata (an extension type has some)
    assert bytes(rows.encode(batch, oids, [0] * 6, UTC)) == bytes(real(other, oids, [0] * 6, UTC, 3))
    assert len(calls) == 2


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 1)),
    steps=st.lists(
        st.none()
        | st.sampled_from([0, 1, 10_000_000, 3_600_000_000, 86_399_999_999, 86_400_000_000])
        | st.integers(0, 3 * 86_400_000_000),
        max_size=60,
    ),
    oid=st.sampled_from([1184, 1114, 1082]),
    zone=st.sampled_from(ZONES),
)
def test_time_ordered_columns_match_value_by_value(
    start: dt.datetime, steps: list[int | None], oid: int, zone: str
) -> None:
    """Rows in time order, as scans return them: runs of the same day (the kernel copies the date it
    wrote last), day changes, midnight, NULLs between them; in text, against the one-value encoder."""
    at = start
    values: list[dt.datetime | None] = []
    for step in steps:
        if step is None:
            values.append(None)
            continue
        at = min(at + dt.timedelta(microseconds=step), dt.datetime(9999, 12, 30, 23, 59, 59))
        values.append(at)
    if oid == 1082:
        arr = pa.array([None if v is None else v.date() for v in values], pa.date32())
    else:
        tz = "UTC" if oid == 1184 else None
        arr = pa.array(values, pa.timestamp("us", tz=tz))
    ctx = Context(zone)
    expected = [encode_value(v, oid, 0, ctx) for v in arr.to_pylist()]
    assert _column(arr, oid, 0, ctx) == expected
    assert _text_rows(arr, oid, ctx) == expected


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.none() | st.sampled_from([0, 1, 9, 10, 99, 100, 999, 1000, 9999]) | st.integers(0, 9999),
        max_size=50,
    ),
    odd=st.sampled_from([None, 10_000, -1, 2**63 - 1, -(2**63)]),
    typ=st.sampled_from([pa.int16(), pa.int32(), pa.int64()]),
)
def test_small_integers_by_table_match_value_by_value(values: list[int | None], odd: int | None, typ) -> None:
    """Columns of integers all in [0, 10000) take the table path; one value outside sends the whole column
    the general way. Text, NULLs among them, against the one-value encoder."""
    if odd is not None:
        if pa.types.is_int16(typ):
            odd = max(-(2**15), min(odd, 2**15 - 1))
        elif pa.types.is_int32(typ):
            odd = max(-(2**31), min(odd, 2**31 - 1))
        values = values + [odd]
    arr = pa.array(values, typ)
    oid = {16: 21, 32: 23, 64: 20}[typ.bit_width]
    assert _column(arr, oid, 0) == [encode_value(v, oid, 0, UTC) for v in values]
    assert _text_rows(arr, oid) == [encode_value(v, oid, 0, UTC) for v in values]


@pytest.mark.parametrize("zone", ZONES)
def test_timestamptz_text_beyond_2037_and_before_1900_in_zones(zone: str) -> None:
    """Far instants in a zone with daylight saving: the kernel's values and the one-by-one ones agree."""
    ctx = Context(zone)
    days = [
        dt.datetime(y, mo, 15, h)
        for y in (2, 1883, 1899, 1970, 2037, 2038, 2100, 9999)
        for mo in (1, 7)
        for h in (0, 13)
    ]
    arr = pa.array(days + [None], pa.timestamp("us", tz="UTC"))
    expected = [encode_value(v, 1184, 0, ctx) for v in arr.to_pylist()]
    assert _column(arr, 1184, 0, ctx) == expected
    assert _text_rows(arr, 1184, ctx) == expected
    if zone == "America/New_York":
        assert expected[-2] == b"9999-07-15 09:00:00-04"  # daylight saving time from the zone's rule
        assert expected[4] == b"1883-01-14 19:03:58-04:56:02"  # local mean time before standard time


def test_storage_int64_nanoseconds_as_timestamps() -> None:
    """The storage engine's time column is int64 ns since 1970; sub-microsecond digits are cut toward zero."""
    arr = pa.array([1451606400_123456789, -1, -1500, None, 0])
    expected = [
        b"2016-01-01 00:00:00.123456+00",
        b"1970-01-01 00:00:00+00",
        b"1969-12-31 23:59:59.999999+00",
        None,
        b"1970-01-01 00:00:00+00",
    ]
    assert _column(arr, 1184, 0) == expected
    assert _text_rows(arr, 1184) == expected
    assert _column(arr, 1114, 1)[2] == (-946_684_800_000_000 - 1).to_bytes(8, "big", signed=True)
    assert _text_rows(pa.array([-1500, 1]), 1114) == [b"1969-12-31 23:59:59.999999", b"1970-01-01 00:00:00"]
    assert _text_rows(pa.array([-1500, 1], pa.timestamp("ns", tz="UTC")), 1184)[0] == expected[2]


def test_text_rows_dictionaries_it_does_not_read_are_decoded() -> None:
    """A dictionary with a NULL among its values, or with unsigned indices, is decoded by the encoder and
    framed as strings; the framing kernel reads the others' indices and values where they are."""
    values = pa.array(["a", None, "long value " * 10])
    cases = [
        pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 2, 0], pa.int16()), values),
        pa.DictionaryArray.from_arrays(pa.array([0, 2, None, 2, 0], pa.uint8()), values),
        pa.DictionaryArray.from_arrays(pa.array([0, 2, None, 2, 0], pa.int64()), values.fill_null("b")),
    ]
    for arr in cases:
        for sliced in (arr, arr.slice(1)):
            expected = [encode_value(v, 25, 0, UTC) for v in sliced.to_pylist()]
            assert _text_rows(sliced, 25) == expected
            assert _column(sliced, 25, 0) == expected


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_text_rows_infinite_timestamps(zone: str) -> None:
    """DuckDB's infinite timestamps (int64's extremes) are no values the kernel writes: text_rows sends
    such a batch through the column encoders, with the other columns as they are."""
    ctx = Context(zone)
    times = pa.array([2**63 - 1, 0, None, -(2**63) + 1], pa.timestamp("us", tz="UTC"))
    ints = pa.array([1, None, -20000, 2**40])
    got = text_rows([times, ints], [1184, 20], [0, 0], ctx, 4)
    wire = [encode_column(times, 1184, 0, ctx), encode_column(ints, 20, 0, ctx)]
    assert got == m.encode_data_rows(wire, 4)
    assert _batch_rows([times, ints], [1184, 20], [0, 0], ctx) == bytes(got)  # (BatchRows: the same way)
    assert b"\x00\x00\x00\x08infinity" in bytes(got) and b"-infinity" in bytes(got)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50))
def test_float8_text_kernel_over_bit_patterns(patterns: list[int]) -> None:
    """The Ryu kernel writes format_float's text (numpy's Dragon4 digits) for any double: subnormals, every
    exponent, NaN payloads, both signs."""
    import numpy as np

    arr = pa.array(np.array(patterns, np.uint64).view(np.float64))
    assert _column(arr, 701, 0) == [format_float(v).encode() for v in arr.to_pylist()]
    assert _text_rows(arr, 701) == [format_float(v).encode() for v in arr.to_pylist()]


@pytest.mark.parametrize("typ, oid", [(pa.float64(), 701), (pa.float32(), 700)])
def test_float_text_kernel_on_edges_with_nulls(typ: pa.DataType, oid: int) -> None:
    edges = FLOAT8_EDGES if oid == 701 else FLOAT4_EDGES
    values = [v for x in edges for v in (x, -x, None)]
    arr = pa.array(values, typ)
    assert _column(arr, oid, 0) == [encode_value(v, oid, 0, UTC) for v in arr.to_pylist()]


@settings(deadline=None)
@given(st.floats())
def test_float8_text_is_shortest_round_trip(x: float) -> None:
    text = format_float(x)
    assert same(float(text.replace("Infinity", "inf")), x)
    assert _column(pa.array([x]), 701, 0) == [text.encode()]


@settings(deadline=None)
@given(st.floats(width=32))
def test_float4_text_is_shortest_round_trip(x: float) -> None:
    import numpy as np

    text = format_float(x, float4=True)
    assert same(float(np.float32(text.replace("Infinity", "inf"))), x)
    assert _column(pa.array([x], pa.float32()), 700, 0) == [text.encode()]


@pytest.mark.parametrize(
    "oid, arrow_value, typ, expected",
    [
        (16, True, pa.bool_(), "t"),
        (16, False, pa.bool_(), "f"),
        (701, 0.1, pa.float64(), "0.1"),
        (701, 1e15, pa.float64(), "1e+15"),
        (701, 1e14, pa.float64(), "100000000000000"),
        (701, 123456789012345.67, pa.float64(), "123456789012345.67"),
        (701, 1e-5, pa.float64(), "1e-05"),
        (701, 0.0001, pa.float64(), "0.0001"),
        (701, 1.5e300, pa.float64(), "1.5e+300"),
        (701, float("inf"), pa.float64(), "Infinity"),
        (701, float("-inf"), pa.float64(), "-Infinity"),
        (701, float("nan"), pa.float64(), "NaN"),
        (701, -0.0, pa.float64(), "-0"),
        (701, 2.0, pa.float64(), "2"),
        (700, 1234567.0, pa.float32(), "1.234567e+06"),
        (700, 123456.0, pa.float32(), "123456"),
        (700, 0.1, pa.float32(), "0.1"),
        (20, -(2**63), pa.int64(), "-9223372036854775808"),
        (1700, Decimal("1.50"), pa.decimal128(5, 2), "1.50"),
        (1700, Decimal("-0.001"), pa.decimal128(5, 3), "-0.001"),
        (17, b"\x00\xffA", pa.binary(), "\\x00ff41"),
        (17, b"", pa.binary(), "\\x"),
        (1184, dt.datetime(2016, 1, 1), pa.timestamp("us", tz="UTC"), "2016-01-01 00:00:00+00"),
        (
            1184,
            dt.datetime(2016, 1, 1, 0, 0, 0, 120000),
            pa.timestamp("us", tz="UTC"),
            "2016-01-01 00:00:00.12+00",
        ),
        (1184, 1451606400123456789, pa.timestamp("ns", tz="UTC"), "2016-01-01 00:00:00.123456+00"),
        (1114, dt.datetime(1999, 12, 31, 23, 59, 59, 1), pa.timestamp("us"), "1999-12-31 23:59:59.000001"),
        (1082, dt.date(2024, 2, 29), pa.date32(), "2024-02-29"),
        (1083, dt.time(13, 5, 0, 500000), pa.time64("us"), "13:05:00.5"),
        (
            1186,
            pa.MonthDayNano([14, 3, 14706_500_000_000]),
            pa.month_day_nano_interval(),
            "1 year 2 mons 3 days 04:05:06.5",
        ),
        (1186, pa.MonthDayNano([0, -1, 7380_000_000_000]), pa.month_day_nano_interval(), "-1 days +02:03:00"),
        (1186, pa.MonthDayNano([0, 0, 0]), pa.month_day_nano_interval(), "00:00:00"),
        (1186, pa.MonthDayNano([1, 1, 0]), pa.month_day_nano_interval(), "1 mon 1 day"),
        (1186, pa.MonthDayNano([-12, 0, -1_000_000_000]), pa.month_day_nano_interval(), "-1 years -00:00:01"),
        (2950, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", pa.string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        (1007, [1, None, 3], pa.list_(pa.int32()), "{1,NULL,3}"),
        (1007, [], pa.list_(pa.int32()), "{}"),
        (
            1009,
            ["a b", "", "NULL", 'q"\\', "x,y", "{}"],
            pa.list_(pa.string()),
            '{"a b","","NULL","q\\"\\\\","x,y","{}"}',
        ),
        (1001, [b"\x01"], pa.list_(pa.binary()), '{"\\\\x01"}'),
        (1000, [True, False], pa.list_(pa.bool_()), "{t,f}"),
    ],
)
def test_exact_postgres_text(oid: int, arrow_value: object, typ: pa.DataType, expected: str) -> None:
    assert _column(pa.array([arrow_value], typ), oid, 0) == [expected.encode()]


def test_timestamptz_follows_the_session_time_zone() -> None:
    arr = pa.array([dt.datetime(2016, 1, 1), dt.datetime(2016, 7, 1, 12)], pa.timestamp("us", tz="UTC"))
    assert _column(arr, 1184, 0, Context("America/New_York")) == [
        b"2015-12-31 19:00:00-05",
        b"2016-07-01 08:00:00-04",
    ]
    assert _column(arr, 1184, 0, Context("Asia/Kolkata")) == [
        b"2016-01-01 05:30:00+05:30",
        b"2016-07-01 17:30:00+05:30",
    ]
    # the storage engine's int64 nanoseconds also encode as timestamptz
    assert _column(pa.array([1451606400_000000000]), 1184, 0) == [b"2016-01-01 00:00:00+00"]


def test_multidimensional_array_text_and_binary() -> None:
    arr = pa.array([[[1, 2], [3, None]]], pa.list_(pa.list_(pa.int64())))
    assert _column(arr, 1016, 0) == [b"{{1,2},{3,NULL}}"]
    binary = _column(arr, 1016, 1)[0]
    assert binary is not None and binary[:12] == b"\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x14"
    assert decode_param(binary, 1016, 1, UTC) == [[1, 2], [3, None]]


@pytest.mark.parametrize(
    "oid, text, expected",
    [
        (16, "yes", True),
        (16, "OFF", False),
        (1184, "2016-01-01 00:00:00+05:30", dt.datetime(2015, 12, 31, 18, 30, tzinfo=dt.UTC)),
        (1184, "2016-01-01T00:00:00Z", dt.datetime(2016, 1, 1, tzinfo=dt.UTC)),
        (1184, "2016-01-01 00:00:00-08", dt.datetime(2016, 1, 1, 8, tzinfo=dt.UTC)),
        (1114, "2016-01-01 12:00:00.5", dt.datetime(2016, 1, 1, 12, 0, 0, 500000)),
        (1114, "infinity", dt.datetime.max),
        (1082, "2016-01-01", dt.date(2016, 1, 1)),
        (17, "\\x414243", b"ABC"),
        (17, "a\\\\b\\001", b"a\\b\x01"),
        (1186, "1 day 02:00:00", pa.MonthDayNano([0, 1, 7200 * 10**9])),
        (1186, "P1Y2M3DT4H5M6S", pa.MonthDayNano([14, 3, (4 * 3600 + 5 * 60 + 6) * 10**9])),
        (1186, "@ 2 hours ago", pa.MonthDayNano([0, 0, -7200 * 10**9])),
        (1186, "-01:30:00", pa.MonthDayNano([0, 0, -5400 * 10**9])),
        (1700, "NaN", Decimal("NaN")),
        (701, "-Infinity", -math.inf),
        (1009, '[0:1]={a,"b c"}', ["a", "b c"]),
        (1007, "{ 1 , 2 }", [1, 2]),
        (2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    ],
)
def test_text_parameters(oid: int, text: str, expected: object) -> None:
    assert same(decode_param(text.encode(), oid, 0, UTC), expected)


def test_timestamptz_parameter_without_offset_is_in_the_session_zone() -> None:
    got = decode_param(b"2016-01-01 00:00:00", 1184, 0, Context("America/New_York"))
    assert got == dt.datetime(2016, 1, 1, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "oid, text",
    [
        (23, "abc"),
        (23, "99999999999"),
        (16, "maybe"),
        (1082, "2016-13-01"),
        (1007, "{1,2"),
        (1007, "{{1},{2,3}}"),
        (114, "{not json"),
        (2950, "nope"),
    ],
)
def test_bad_text_parameters_are_sql_errors(oid: int, text: str) -> None:
    from sql.errors import SqlError

    with pytest.raises(SqlError) as info:
        decode_param(text.encode(), oid, 0, UTC)
    assert info.value.sqlstate in ("22P02", "22003")


@pytest.mark.parametrize(
    "oid, data",
    [
        (23, b"\x00\x01"),
        (20, b"\x00" * 7),
        (1082, b""),
        (1700, b"\x00\x01\x00\x00\x00\x00\x00\x00"),
        (1007, b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x19"),
        (99999, b"\x01"),
    ],
)
def test_bad_binary_parameters_are_22P03(oid: int, data: bytes) -> None:
    with pytest.raises(InvalidBinaryRepresentation):
        decode_param(data, oid, 1, UTC)


def test_unknown_type_in_text_is_passed_as_text() -> None:
    assert decode_param(b"42", 0, 0, UTC) == "42"
    assert decode_param(b"42", 99999, 0, UTC) == "42"
    assert decode_param(None, 23, 1, UTC) is None
    with pytest.raises(InvalidTextRepresentation):
        decode_param(b"\xff", 25, 0, UTC)


def test_enum_types_are_registered_as_statements_name_them() -> None:
    """An enum's OID is the database's own: unknown (binary input refused) until a statement names it
    (sql.session.UserType); then its values are their labels in text and binary, and its array type
    is an array of it (the element OID in the binary header is the enum's)."""
    from pgwire.types import register_user_types, type_size
    from sql.session import UserType

    oid, array_oid = 1_900_000_000, 1_900_000_001
    with pytest.raises(InvalidBinaryRepresentation):
        decode_param(b"ok", oid, 1, UTC)
    try:
        register_user_types([UserType(oid, "mood", "e", array_oid)])
        assert type_size(oid) == 4  # typlen, as RowDescription reports it
        for fmt in (0, 1):
            assert decode_param(b"ok", oid, fmt, UTC) == "ok"
            assert encode_value("happy", oid, fmt, UTC) == b"happy"
        assert encode_value(["ok", None], array_oid, 0, UTC) == b"{ok,NULL}"
        binary = encode_value(["ok", None], array_oid, 1, UTC)
        assert binary is not None and binary[8:12] == oid.to_bytes(4, "big")
        assert decode_param(binary, array_oid, 1, UTC) == ["ok", None]
        col = encode_column(pa.array(["sad", None]).dictionary_encode(), oid, 1, UTC)
        assert col.var is not None and col.var.to_pylist() == ["sad", None]
    finally:
        REGISTRY.pop(oid, None)
        REGISTRY.pop(array_oid, None)
