"""PostgreSQL types as the SQL layer sees them: names, OIDs, storage field types, Arrow types.

One table (``TYPES``) drives every mapping: a declared column type to its storage FieldType and the
Arrow type it is presented as, and DuckDB result types to the OIDs announced to clients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from columnar.types import FieldType
from sql.arrays import list_type


@dataclass(frozen=True)
class PgType:
    name: str  # canonical pg_type.typname
    oid: int
    array_oid: int
    storage: FieldType | None  # None: stored as the table's time column or a tag only
    arrow: pa.DataType
    aliases: tuple[str, ...] = ()
    sql_name: str = ""  # format_type() output, e.g. "double precision"


_TS_US = pa.timestamp("us")
_TSTZ_US = pa.timestamp("us", tz="UTC")

TYPES: tuple[PgType, ...] = (
    PgType("bool", 16, 1000, FieldType.BOOLEAN, pa.bool_(), ("boolean",), "boolean"),
    PgType("bytea", 17, 1001, FieldType.STRING, pa.binary(), (), "bytea"),
    PgType("name", 19, 1003, FieldType.STRING, pa.string(), (), "name"),
    PgType("int8", 20, 1016, FieldType.INTEGER, pa.int64(), ("bigint", "bigserial", "serial8"), "bigint"),
    PgType(
        "int2", 21, 1005, FieldType.INTEGER, pa.int16(), ("smallint", "smallserial", "serial2"), "smallint"
    ),
    PgType(
        "int4", 23, 1007, FieldType.INTEGER, pa.int32(), ("integer", "int", "serial", "serial4"), "integer"
    ),
    PgType("text", 25, 1009, FieldType.STRING, pa.string(), (), "text"),
    PgType("oid", 26, 1028, FieldType.INTEGER, pa.int64(), (), "oid"),
    PgType("json", 114, 199, FieldType.STRING, pa.string(), (), "json"),
    PgType("float4", 700, 1021, FieldType.FLOAT, pa.float32(), ("real",), "real"),
    PgType(
        "float8",
        701,
        1022,
        FieldType.FLOAT,
        pa.float64(),
        ("double precision", "double", "float"),
        "double precision",
    ),
    PgType("bpchar", 1042, 1014, FieldType.STRING, pa.string(), ("char", "character"), "character"),
    PgType("varchar", 1043, 1015, FieldType.STRING, pa.string(), ("character varying",), "character varying"),
    PgType("date", 1082, 1182, FieldType.INTEGER, pa.date32(), (), "date"),
    PgType(
        "time",
        1083,
        1183,
        FieldType.INTEGER,
        pa.time64("us"),
        ("time without time zone",),
        "time without time zone",
    ),
    PgType(
        "timestamp",
        1114,
        1115,
        FieldType.INTEGER,
        _TS_US,
        ("timestamp without time zone",),
        "timestamp without time zone",
    ),
    PgType(
        "timestamptz",
        1184,
        1185,
        FieldType.INTEGER,
        _TSTZ_US,
        ("timestamp with time zone",),
        "timestamp with time zone",
    ),
    PgType("interval", 1186, 1187, FieldType.INTEGER, pa.month_day_nano_interval(), (), "interval"),
    PgType("numeric", 1700, 1231, FieldType.FLOAT, pa.float64(), ("decimal",), "numeric"),
    PgType("uuid", 2950, 2951, FieldType.STRING, pa.string(), (), "uuid"),
    PgType("jsonb", 3802, 3807, FieldType.STRING, pa.string(), (), "jsonb"),
)

USER_OIDS = 16384  # OIDs from here on are the database's own (tables' row types, enum types ...)

BY_NAME: dict[str, PgType] = {}
for _t in TYPES:
    BY_NAME[_t.name] = _t
    for _a in _t.aliases:
        BY_NAME[_a] = _t
BY_OID: dict[int, PgType] = {t.oid: t for t in TYPES}
TEXT = BY_NAME["text"]

_MODS = re.compile(r"\s*\(.*\)\s*$")


def lookup(type_sql: str) -> PgType:
    """The type of a declared column type (``varchar(20)``, ``timestamp(3) with time zone`` ...)."""
    s = type_sql.strip().lower().strip('"')
    s = re.sub(r"^pg_catalog\.", "", s)
    s = re.sub(r"\(\s*\d+(\s*,\s*\d+)?\s*\)", "", s)  # typmods anywhere: timestamp(3) with time zone
    s = " ".join(s.split())
    is_array = s.endswith("[]")
    s = s.removesuffix("[]").strip()
    t = BY_NAME.get(s) or BY_NAME.get(_MODS.sub("", s))
    if t is None:
        raise KeyError(type_sql)
    if is_array:  # (stored as text; read as a list where sql/arrays.py reads the element type)
        arrow = list_type(t.name) or pa.string()
        return PgType(t.name + "[]", t.array_oid, 0, FieldType.STRING, arrow, (), t.sql_name + "[]")
    return t


# DuckDB result types (str(duckdb type)) -> PostgreSQL type; the rest default to text.
_DUCK = {
    "BOOLEAN": "bool",
    "TINYINT": "int2",
    "SMALLINT": "int2",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "UTINYINT": "int2",
    "USMALLINT": "int4",
    "UINTEGER": "int8",
    "UBIGINT": "numeric",
    "HUGEINT": "numeric",
    "UHUGEINT": "numeric",
    "FLOAT": "float4",
    "DOUBLE": "float8",
    "VARCHAR": "text",
    "BLOB": "bytea",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "json",
}


def from_duckdb(type_str: str) -> PgType:
    s = type_str.upper()
    if s.endswith("[]"):  # (first: DECIMAL(2,1)[] is a numeric array)
        inner = from_duckdb(s[:-2])
        return PgType(inner.name + "[]", inner.array_oid, 0, None, pa.string(), (), inner.sql_name + "[]")
    if s.startswith("DECIMAL"):
        return BY_NAME["numeric"]
    return BY_NAME[_DUCK.get(s, "text")]


def from_arrow(dt: pa.DataType) -> PgType:
    """The PostgreSQL type a result column of this Arrow type is sent as."""
    if pa.types.is_dictionary(dt):
        return from_arrow(dt.value_type)
    if pa.types.is_boolean(dt):
        return BY_NAME["bool"]
    if pa.types.is_int8(dt) or pa.types.is_int16(dt) or pa.types.is_uint8(dt):
        return BY_NAME["int2"]
    if pa.types.is_int32(dt) or pa.types.is_uint16(dt):
        return BY_NAME["int4"]
    if pa.types.is_int64(dt) or pa.types.is_uint32(dt):
        return BY_NAME["int8"]
    if pa.types.is_uint64(dt) or pa.types.is_decimal(dt):
        return BY_NAME["numeric"]
    if pa.types.is_float32(dt) or pa.types.is_float16(dt):
        return BY_NAME["float4"]
    if pa.types.is_float64(dt):
        return BY_NAME["float8"]
    if pa.types.is_timestamp(dt):
        return BY_NAME["timestamptz" if dt.tz else "timestamp"]
    if pa.types.is_date(dt):
        return BY_NAME["date"]
    if pa.types.is_time(dt):
        return BY_NAME["time"]
    if pa.types.is_interval(dt) or pa.types.is_duration(dt):
        return BY_NAME["interval"]
    if pa.types.is_binary(dt) or pa.types.is_large_binary(dt) or pa.types.is_fixed_size_binary(dt):
        return BY_NAME["bytea"]
    if pa.types.is_list(dt) or pa.types.is_large_list(dt) or pa.types.is_fixed_size_list(dt):
        inner = from_arrow(dt.value_type)
        return PgType(inner.name + "[]", inner.array_oid, 0, None, dt, (), inner.sql_name + "[]")
    return TEXT


_INTEGER_TEXT = re.compile(r"\s*[-+]?\d+\s*")


def is_integer_text(text: str) -> bool:
    """Whether PostgreSQL's int2/int4/int8 input reads ``text``: digits with an optional sign and
    surrounding blanks (no point: '1.5' is 22P02 there, where DuckDB's cast rounds it)."""
    return _INTEGER_TEXT.fullmatch(text) is not None
