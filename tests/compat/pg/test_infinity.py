"""±infinity timestamps and dates over the wire, as PostgreSQL sends them: 'infinity' / '-infinity' in
text; int64's (timestamp, timestamptz) and int32's (date) extremes in binary (DT_NOEND / DT_NOBEGIN)."""

from __future__ import annotations

import struct

from tests.compat.pg.conftest import PgServer

QUERY = (
    b"SELECT 'infinity'::timestamp, '-infinity'::timestamp, 'infinity'::timestamptz, "
    b"'-infinity'::timestamptz, 'infinity'::date, '-infinity'::date, "
    b"'2024-01-02 03:04:05'::timestamp, '2024-01-02'::date, NULL::timestamptz"
)


def _row(pgconn: object, query: bytes, fmt: int, n: int) -> list[bytes | None]:
    """The first row's ``n`` values of ``query`` in format ``fmt`` (0 text, 1 binary), as sent."""
    res = pgconn.exec_params(query, [], result_format=fmt)  # type: ignore[attr-defined]
    return [res.get_value(0, i) for i in range(n)]


def _int(value: bytes | None, fmt: str = "!q") -> int:
    assert value is not None
    return int(struct.unpack(fmt, value)[0])


def test_infinities_in_text_and_binary(pg_server: PgServer) -> None:
    with pg_server.connect() as conn:
        conn.execute("SET TimeZone = 'America/New_York'")  # (a zone whose rules Arrow applies)
        assert _row(conn.pgconn, QUERY, 0, 9) == [
            b"infinity",
            b"-infinity",
            b"infinity",
            b"-infinity",
            b"infinity",
            b"-infinity",
            b"2024-01-02 03:04:05",
            b"2024-01-02",
            None,
        ]
        binary = _row(conn.pgconn, QUERY, 1, 9)
        assert [_int(v) for v in binary[:4]] == [2**63 - 1, -(2**63), 2**63 - 1, -(2**63)]
        assert [_int(v, "!i") for v in binary[4:6]] == [2**31 - 1, -(2**31)]
        # 2024-01-02 03:04:05 in microseconds since 2000-01-01; 2024-01-02 in days since then
        assert _int(binary[6]) == 757_479_845_000_000
        assert _int(binary[7], "!i") == 8767
        assert binary[8] is None


EDGES = (
    b"SELECT '9999-12-31 23:59:59.999999'::timestamp, '0001-01-01 00:00:00'::timestamp, "
    b"'9999-12-31 23:59:59.999999+00'::timestamptz, '0001-01-01 00:00:00+00'::timestamptz, "
    b"'9999-12-31'::date, '0001-01-01'::date"
)


def test_the_last_and_first_finite_values_are_not_infinities(pg_server: PgServer) -> None:
    """Python's datetime.max / date.max stand for 'infinity' among parameters; a result's value of
    9999-12-31 23:59:59.999999 or 0001-01-01 is finite, whichever encoder writes a small result."""
    with pg_server.connect() as conn:
        assert _row(conn.pgconn, EDGES, 0, 6) == [
            b"9999-12-31 23:59:59.999999",
            b"0001-01-01 00:00:00",
            b"9999-12-31 23:59:59.999999+00",
            b"0001-01-01 00:00:00+00",
            b"9999-12-31",
            b"0001-01-01",
        ]
        binary = _row(conn.pgconn, EDGES, 1, 6)
        assert [_int(v) for v in binary[:4]] == [252_455_615_999_999_999, -63_082_281_600_000_000] * 2
        assert [_int(v, "!i") for v in binary[4:]] == [2_921_939, -730_119]
