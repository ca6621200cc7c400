"""The binary COPY decoder (sql/copy_binary.py) against values encoded by psycopg's own binary dumpers."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest
from psycopg import adapt, pq
from psycopg.types.json import Jsonb

from sql import copy_binary
from sql import errors as E
from sql.copy import read_chunks
from sql.errors import SqlError

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
UTC = dt.UTC

# (type name, OID, values, what they read as (None: the values themselves))
COLUMNS: list[tuple[str, int, list[object], list[object] | None]] = [
    ("bool", 16, [True, False, None], None),
    ("int2", 21, [-(2**15), 2**15 - 1, None], None),
    ("int4", 23, [-(2**31), 0, 2**31 - 1], None),
    ("int8", 20, [-(2**63), 2**63 - 1, None], None),
    ("oid", 26, [0, 2**32 - 1, None], None),
    ("float4", 700, [1.5, float("-inf"), None], None),
    ("float8", 701, [5e-324, -0.0, 1e308], None),
    ("numeric", 1700, [Decimal("-12345678901234.5678"), Decimal("0.001"), Decimal("NaN")], ["-12345678901234.5678", "0.001", "NaN"]),
    ("text", 25, ["", "ünï\tcode\n", None], None),
    ("varchar", 1043, ["a", None, "b" * 300], None),
    ("bytea", 17, [b"", b"\x00\xff", None], None),
    ("date", 1082, [dt.date(1, 1, 1), dt.date(2000, 1, 1), dt.date(9999, 12, 31)], None),
    ("time", 1083, [dt.time(0, 0), dt.time(23, 59, 59, 999999), None], None),
    ("timestamp", 1114, [dt.datetime(1999, 12, 31, 23, 59, 59, 1), dt.datetime(2262, 4, 11), None], None),
    (
        "timestamptz",
        1184,
        [dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), dt.datetime(1970, 1, 1, tzinfo=UTC), None],
        [dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(1970, 1, 1, tzinfo=UTC), None],
    ),
    ("interval", 1186, [dt.timedelta(days=-3, microseconds=7), dt.timedelta(0), None], [
        pa.MonthDayNano([0, -3, 7000]), pa.MonthDayNano([0, 0, 0]), None]),
    ("uuid", 2950, [uuid.UUID(int=1), uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), None], [
        "00000000-0000-0000-0000-000000000001", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", None]),
    ("jsonb", 3802, [Jsonb({"k": [1, None]}), None, Jsonb("s")], ['{"k": [1, null]}', None, '"s"']),
    ("int4[]", 1007, [[1, None, 3], [], None], None),
]  # fmt: skip


def _encode(rows: list[tuple[object, ...]], oids: list[int]) -> bytes:
    """PGCOPY bytes as psycopg's binary COPY writes them."""
    tx = adapt.Transformer()
    tx.set_dumper_types(oids, pq.Format.BINARY)
    out = bytearray(HEADER)
    for row in rows:
        out += struct.pack("!h", len(row))
        for v in tx.dump_sequence(row, [adapt.PyFormat.BINARY] * len(row)):
            out += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + bytes(v)
    return bytes(out + b"\xff\xff")


def _decode(data: bytes, names: list[str], oids: list[int], piece: int | None = None) -> pa.Table:
    chunks: Iterator[bytes] = (
        iter([data]) if piece is None else (data[i : i + piece] for i in range(0, len(data), piece))
    )
    tables = list(read_chunks(chunks, "binary", {}, names, oids))
    return pa.concat_tables(tables) if tables else pa.table({n: [] for n in names})


def test_every_type_reads_as_sent() -> None:
    names = [f"c{i}" for i in range(len(COLUMNS))]
    oids = [c[1] for c in COLUMNS]
    rows = list(zip(*(c[2] for c in COLUMNS), strict=True))
    table = _decode(_encode(rows, oids), names, oids)
    for name, (typ, _, values, expected) in zip(names, COLUMNS, strict=True):
        assert table[name].to_pylist() == (values if expected is None else expected), typ


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_stretches_and_message_boundaries_do_not_matter(monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    monkeypatch.setattr(copy_binary, "CHUNK_BYTES", 100)  # many stretches, tuples cut across them
    oids = [1184, 25, 701]
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        (base + dt.timedelta(seconds=i), None if i % 7 == 0 else f"h{i}" * (i % 5), i / 3) for i in range(500)
    ]
    table = _decode(_encode(rows, oids), ["t", "s", "v"], oids, piece)
    assert [tuple(r.values()) for r in table.to_pylist()] == rows


def test_binary_needs_the_column_types() -> None:
    data = _encode([(1, "x")], [20, 25])
    with pytest.raises(E.InternalError):
        list(read_chunks(iter([data]), "binary", {}, ["a", "b"]))


def test_empty_stream_with_trailer_and_without() -> None:
    assert _decode(HEADER + b"\xff\xff", ["a"], [20]).num_rows == 0
    assert (
        _decode(HEADER, ["a"], [20]).num_rows == 0
    )  # PostgreSQL accepts a missing trailer at a tuple boundary


def test_extension_area_and_low_flags_are_skipped() -> None:
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!iI", 0x0000FFFF, 3) + b"ext"
    data = header + struct.pack("!hiq", 1, 8, 42) + b"\xff\xff"
    assert _decode(data, ["a"], [20]).to_pylist() == [{"a": 42}]


def test_infinite_timestamps_and_dates_stay_infinite() -> None:
    data = HEADER + struct.pack("!hiqii", 2, 8, 2**63 - 1, 4, -(2**31)) + b"\xff\xff"
    table = _decode(data, ["t", "d"], [1184, 1082])
    assert table["t"].cast(pa.int64()).to_pylist() == [2**63 - 1]
    assert table["d"].cast(pa.int32()).to_pylist() == [-(2**31)]


@pytest.mark.parametrize(
    ("body", "oids", "sqlstate", "message"),
    [
        (struct.pack("!hi", 1, 3) + b"\x00\x01\x02", [23], "22P03", "incorrect binary data format"),
        (struct.pack("!hi", 1, 4) + b"\x00" * 4, [1083], "22P03", "incorrect binary data format"),
        (struct.pack("!hi", 1, 2) + b"\x02{", [3802], "22P03", "unsupported jsonb version number"),
        (struct.pack("!hi", 1, 3) + b"a\x00b", [25], "22021", "0x00"),
        (struct.pack("!hi", 1, 2) + b"\xc3\x28", [25], "22021", "invalid byte sequence"),
        (
            struct.pack("!hi", 1, 8) + struct.pack("!hhHh", 0, 0, 0x1234, 0),
            [1700],
            "22P03",
            "incorrect binary",
        ),
        (struct.pack("!hi", 1, 8) + struct.pack("!q", 2**63 - 2), [1184], "22008", "timestamp out of range"),
        (struct.pack("!hi", 1, 8) + struct.pack("!q", -1), [1083], "22008", "time out of range"),
    ],
)
def test_bad_values(body: bytes, oids: list[int], sqlstate: str, message: str) -> None:
    with pytest.raises(SqlError) as info:
        _decode(HEADER + body + b"\xff\xff", ["c"], oids)
    assert info.value.sqlstate == sqlstate
    assert message in info.value.message


def test_an_error_late_in_a_stretch_yields_nothing_of_it() -> None:
    good = struct.pack("!hiq", 1, 8, 1)
    chunks = iter([HEADER, good * 100, struct.pack("!hi", 1, 4) + b"\x00" * 4, b"\xff\xff"])
    out: list[pa.Table] = []
    with pytest.raises(SqlError) as info:
        out.extend(read_chunks(chunks, "binary", {}, ["a"], [20]))
    assert info.value.sqlstate == "22P03"
    assert out == []
