"""The DuckDB side of the executor: connections set up with PostgreSQL semantics, error mapping.

DuckDB runs what our native operators do not (joins, subqueries, windows, expressions). Each
execution gets its own cursor (a connection to the shared in-memory database), so a suspended
portal never loses its result to the next statement.
"""

from __future__ import annotations

import re

import duckdb

from sql import errors as E
from sql import functions
from sql.types import PgType

# PostgreSQL type -> the DuckDB type that holds it
DUCK_TYPE = {
    "bool": "BOOLEAN",
    "bytea": "BLOB",
    "name": "VARCHAR",
    "int8": "BIGINT",
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "text": "VARCHAR",
    "oid": "BIGINT",
    "json": "VARCHAR",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "bpchar": "VARCHAR",
    "varchar": "VARCHAR",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "numeric": "DOUBLE",
    "uuid": "VARCHAR",
    "jsonb": "VARCHAR",
}


def duck_type(t: PgType) -> str:
    if t.name.endswith("[]"):
        return DUCK_TYPE.get(t.name[:-2], "VARCHAR") + "[]"
    return DUCK_TYPE.get(t.name, "VARCHAR")


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": 2})
    for stmt in (  # GLOBAL: every cursor (a connection of its own) inherits them
        "SET GLOBAL TimeZone = 'UTC'",
        "SET GLOBAL integer_division = true",  # int / int is integer division, as in PostgreSQL
        "SET GLOBAL default_null_order = 'nulls_last_on_asc_first_on_desc'",  # PostgreSQL's NULL order
    ):
        con.execute(stmt)
    functions.install_all(con)  # macros every cursor of this database sees (sql/functions)
    return con


_PATTERNS: list[tuple[type[E.SqlError], re.Pattern[str], str]] = [
    (E.UndefinedTable, re.compile(r"Table with name (\S+) does not exist"), 'relation "{0}" does not exist'),
    (E.UndefinedColumn, re.compile(r'Referenced column "([^"]+)" not found'), 'column "{0}" does not exist'),
    (
        E.UndefinedColumn,
        re.compile(r'Values list "[^"]*" does not have a column named "([^"]+)"'),
        'column "{0}" does not exist',
    ),
    (
        E.UndefinedFunction,
        re.compile(r"Function with name (\S+) does not exist"),
        "function {0} does not exist",
    ),
    (
        E.UndefinedFunction,
        re.compile(r"No function matches the given name and argument types '([^(]+)\("),
        "function {0} does not exist",
    ),
]


def translate(exc: Exception) -> E.SqlError:
    """A DuckDB exception as the SqlError (and SQLSTATE) PostgreSQL would raise."""
    msg = str(exc)
    first = msg.splitlines()[0] if msg else type(exc).__name__
    text = re.sub(r"^[A-Za-z ]+ Error: ", "", first).rstrip("!")
    for cls, pat, template in _PATTERNS:
        m = pat.search(msg)
        if m:
            return cls(template.format(*m.groups()))
    if isinstance(exc, duckdb.InterruptException):
        return E.QueryCanceled("canceling statement due to user request")
    if isinstance(exc, duckdb.ParserException):
        return E.SyntaxError_(text)
    if isinstance(exc, duckdb.ConversionException):
        return E.InvalidTextRepresentation(text)
    if isinstance(exc, duckdb.OutOfRangeException):
        return E.NumericValueOutOfRange(text)
    if isinstance(exc, duckdb.CatalogException):
        return E.UndefinedObject(text)
    if isinstance(exc, duckdb.BinderException):
        if "function" in text.lower():
            return E.UndefinedFunction(text)
        return E.DatatypeMismatch(text)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return E.OutOfMemory(text)
    if isinstance(exc, duckdb.InvalidInputException):
        return E.InvalidParameterValue(text)
    if isinstance(exc, duckdb.NotImplementedException):
        return E.FeatureNotSupported(text)
    return E.InternalError(text)
