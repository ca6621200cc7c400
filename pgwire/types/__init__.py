"""PostgreSQL types on the wire: one module per type family, one registry keyed by type OID.

Each family module defines :class:`PgType` entries and a ``register()`` that puts them into
:data:`REGISTRY`. A type knows four things: how to write a whole Arrow column as text and as binary
(vectorised where Arrow/numpy can do it; :class:`WireColumn` is the result), how to write one Python
value (used inside arrays and as the fallback), and how to read a parameter value in text and in binary.

Result values come from Arrow; parameter values go to the Session as plain Python values: bool, int,
float, Decimal, str, bytes, datetime/date/time, pyarrow.MonthDayNano (interval), uuid.UUID, lists.
"""

from __future__ import annotations

from pgwire.types import array, bytea, datetime, enum, interval, json, numbers, numeric, text, uuid
from pgwire.types import bool as bool_
from pgwire.types._base import (
    REGISTRY,
    UNKNOWN_OID,
    Context,
    PgType,
    decode_param,
    encode_column,
    encode_value,
    lookup,
    register,
    type_size,
)
from pgwire.types._rows import BatchRows, text_rows
from pgwire.types.enum import register_user_types

FAMILIES = (
    bool_,
    numbers,
    numeric,
    text,
    json,
    bytea,
    datetime,
    interval,
    uuid,
    enum,
    array,
)  # array last: it wraps the others

for _family in FAMILIES:
    _family.register()


def warm_up() -> None:
    """Compile (or load from numba's disk cache) the column encoders and the DataRow framing kernel
    with the types results pass, so the first query's rows do not wait for them."""
    import numpy as np
    import pyarrow as pa

    from pgwire.messages import encode_data_rows

    n = 64
    columns = [
        (pa.array(np.arange(n, dtype=np.int64) * 10**6, pa.timestamp("us", tz="UTC")), 1184),
        (pa.array(np.arange(n, dtype=np.int64)), 20),
        (pa.array(np.arange(n, dtype=np.int64) * 10**12), 20),
        (pa.array(np.linspace(-1.5, 1e6, n)), 701),
        (pa.array([f"host_{i}" if i % 5 else None for i in range(n)]), 25),
        (pa.array(np.arange(n) % 2 == 0), 16),
    ]
    ctx = Context()
    for fmt in (0, 1):
        wire = [encode_column(arr, oid, fmt, ctx) for arr, oid in columns]
        encode_data_rows(wire, n)
    text = columns[:-1]  # what BatchRows reads itself (booleans go to text_rows)
    batch = pa.record_batch([arr for arr, _ in text], names=[str(i) for i in range(len(text))])
    BatchRows().encode(batch, [oid for _, oid in text], [0] * len(text), ctx)


__all__ = [
    "REGISTRY",
    "BatchRows",
    "UNKNOWN_OID",
    "Context",
    "PgType",
    "decode_param",
    "encode_column",
    "encode_value",
    "lookup",
    "register_user_types",
    "register",
    "text_rows",
    "type_size",
    "warm_up",
]
