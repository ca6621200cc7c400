"""Column kinds and value types of the data model.

A table (measurement) has one ``time`` column (int64 nanoseconds since the Unix epoch, UTC), any
number of tag columns (strings that form the series key) and field columns of one of five types.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

import numpy as np
import pyarrow as pa

CodecKind = Literal["time", "float", "int", "uint", "bool", "str"]  # what columnar.encodings encodes


class FieldType(IntEnum):
    """Storage type of a field column. The integer is what the catalog and chunk files store."""

    FLOAT = 1
    INTEGER = 2
    UNSIGNED = 3
    BOOLEAN = 4
    STRING = 5

    @property
    def numpy_dtype(self) -> np.dtype:
        return _NUMPY[self]

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self]

    @property
    def codec_kind(self) -> CodecKind:
        """The value kind the codec registry encodes this type as (see columnar.encodings)."""
        return _KIND[self]

    @property
    def influx_name(self) -> str:
        """The name InfluxDB uses for this type in errors and SHOW FIELD KEYS."""
        return _INFLUX[self]

    @classmethod
    def of_numpy(cls, dtype: np.dtype) -> FieldType:
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            return cls.FLOAT
        if dtype.kind == "i":
            return cls.INTEGER
        if dtype.kind == "u":
            return cls.UNSIGNED
        if dtype.kind == "b":
            return cls.BOOLEAN
        if dtype.kind in "OUT":
            return cls.STRING
        raise TypeError(f"no field type for numpy dtype {dtype}")


_NUMPY = {
    FieldType.FLOAT: np.dtype(np.float64),
    FieldType.INTEGER: np.dtype(np.int64),
    FieldType.UNSIGNED: np.dtype(np.uint64),
    FieldType.BOOLEAN: np.dtype(np.bool_),
    FieldType.STRING: np.dtype(object),
}
_ARROW = {
    FieldType.FLOAT: pa.float64(),
    FieldType.INTEGER: pa.int64(),
    FieldType.UNSIGNED: pa.uint64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.STRING: pa.string(),
}
_KIND: dict[FieldType, CodecKind] = {
    FieldType.FLOAT: "float",
    FieldType.INTEGER: "int",
    FieldType.UNSIGNED: "uint",
    FieldType.BOOLEAN: "bool",
    FieldType.STRING: "str",
}
_INFLUX = {
    FieldType.FLOAT: "float",
    FieldType.INTEGER: "integer",
    FieldType.UNSIGNED: "unsigned",
    FieldType.BOOLEAN: "boolean",
    FieldType.STRING: "string",
}

TIME_COLUMN = "time"
NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_SECOND
NS_PER_DAY = 24 * NS_PER_HOUR
