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
        # NULL order: not set here. sqlglot writes an explicit NULLS FIRST/LAST wherever PostgreSQL's
        # order (NULLs sort as the largest value) differs from DuckDB's default (NULLS LAST), and
        # leaves it out where they agree; with DuckDB's default changed, `DESC NULLS LAST` would be
        # written as a bare DESC and sort NULLs first.
    ):
        con.execute(stmt)
    functions.install_all(con)  # macros every cursor of this database sees (sql/functions)
    return con


_PATTERNS: list[tuple[type[E.SqlError], re.Pattern[str], str]] = [
    # raised by our own macros (sql/functions): error('pgsql <SQLSTATE>: <message>')
    (E.SqlError, re.compile(r"pgsql ([0-9A-Z]{5}): ([^\n]*)"), "{0}:{1}"),
    (E.DivisionByZero, re.compile(r"Division by zero"), "division by zero"),
    (  # ('2024-02-30'::date, a month 13: PostgreSQL's 22008, not a syntax error)
        E.DatetimeFieldOverflow,
        re.compile(r'(?:date|timestamp) field value out of range: ("[^"\n]*")'),
        "date/time field value out of range: {0}",
    ),
    (
        E.NumericValueOutOfRange,
        re.compile(r"value is out of range for the destination type (\w+)"),
        "value out of range for type {0}",
    ),
    (  # (a numeric, sum(bigint) among them, cast to an integer or a narrower numeric)
        E.NumericValueOutOfRange,
        re.compile(r"Failed to cast decimal value \S+ to type (\w+)"),
        "value out of range for type {0}",
    ),
    (
        E.GroupingError,
        re.compile(r'column "([^"]+)" must appear in the GROUP BY clause'),
        'column "{0}" must appear in the GROUP BY clause or be used in an aggregate function',
    ),
    (
        E.GroupingError,
        re.compile(r"WHERE clause cannot contain aggregates"),
        "aggregate functions are not allowed in WHERE",
    ),
    (
        E.GroupingError,
        re.compile(r"aggregate function calls cannot be nested"),
        "aggregate function calls cannot be nested",
    ),
    (
        E.WindowingError,
        re.compile(r"WHERE clause cannot contain window functions"),
        "window functions are not allowed in WHERE",
    ),
    (
        E.AmbiguousColumn,
        re.compile(r'Ambiguous reference to column name "([^"]+)"'),
        'column reference "{0}" is ambiguous',
    ),
    (
        E.UndefinedFunction,
        re.compile(r"Cannot compare values of type (\S+(?: WITH TIME ZONE)?) and(?: type)? (\S+)"),
        "operator does not exist: {0} = {1}",
    ),
    (
        E.SyntaxError_,
        re.compile(r"Set operations can only apply to expressions with the same number of result columns"),
        "each UNION query must have the same number of columns",
    ),
    (
        E.SyntaxError_,
        re.compile(r"Subquery returns \d+ columns - expected 1"),
        "subquery must return only one column",
    ),
    (
        E.CardinalityViolation,
        re.compile(r"More than one row returned by a subquery used as an expression"),
        "more than one row returned by a subquery used as an expression",
    ),
    (
        E.InvalidColumnReference,
        re.compile(r"ORDER term out of range"),
        "ORDER BY position is not in select list",
    ),
    (
        E.UndefinedTable,
        re.compile(r'Referenced table "([^"]+)" not found'),
        'missing FROM-clause entry for table "{0}"',
    ),
    (
        E.InvalidRowCountInLimitClause,
        re.compile(r"LIMIT/OFFSET cannot be negative"),
        "LIMIT must not be negative",
    ),
    (E.InvalidParameterValue, re.compile(r"Unknown TimeZone '([^']*)'"), 'time zone "{0}" not recognized'),
    (
        E.InvalidParameterValue,
        re.compile(r'(?:extract|date_trunc) specifier "([^"]*)" not recognized'),
        'unit "{0}" not recognized',
    ),
    (
        E.InvalidDatetimeFormat,
        re.compile(r"invalid (?:timestamp|date|time) field format: \"([^\"]*)\""),
        'invalid input syntax for type timestamp: "{0}"',
    ),
    (
        E.InvalidDatetimeFormat,
        re.compile(r"Could not convert string '([^']*)' to INTERVAL"),
        'invalid input syntax for type interval: "{0}"',
    ),
    (
        E.InvalidRegularExpression,
        re.compile(
            r"^(?:Invalid Input Error: )?(missing \)|missing \]|unexpected \)|invalid escape sequence|"
            r"invalid character class|bad repetition operator|invalid repetition size|"
            r"invalid named capture group|trailing \\|missing argument to repetition operator)"
        ),
        "invalid regular expression: {0}",
    ),
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
            if cls is E.SqlError:  # a macro's error('pgsql <SQLSTATE>: ...')
                err = E.by_sqlstate(m[1])(m[2])
                err.sqlstate = m[1]  # (a code without a class of its own: P0001, 2F005, a RAISE's ERRCODE)
                return err
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
