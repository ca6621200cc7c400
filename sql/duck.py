"""The DuckDB side of the executor: connections set up with PostgreSQL semantics, error mapping.

DuckDB runs what our native operators do not (joins, subqueries, windows, expressions). Each
execution gets its own cursor (a connection to the shared in-memory database), so a suspended
portal never loses its result to the next statement.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from sql import errors as E
from sql import functions
from sql import types as pgt
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


# DuckDB's type names (in its messages) as PostgreSQL names the types in its own
_PG_NAMES = {
    "INT8": "smallint",  # (DuckDB's physical names count bits: INT8 is its TINYINT)
    "TINYINT": "smallint",
    "INT16": "smallint",
    "SMALLINT": "smallint",
    "INT32": "integer",
    "INTEGER": "integer",
    "INTEGER_LITERAL": "integer",
    "INT64": "bigint",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "DECIMAL": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "BOOL": "boolean",
    "BOOLEAN": "boolean",
    "VARCHAR": "text",
    "STRING_LITERAL": "unknown",
    "NULL": "unknown",
    "DATE": "date",
    "TIME": "time without time zone",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
    "JSON": "json",
}
_DATETIME_NAMES = {
    "date",
    "time without time zone",
    "timestamp without time zone",
    "timestamp with time zone",
}
_NO_OPERATOR_HINT = (
    "No operator matches the given name and argument types. You might need to add explicit type casts."
)


def _pg_name(duck_type: str) -> str:
    t = duck_type.strip()
    if t.endswith("[]"):
        return _pg_name(t[:-2]) + "[]"
    if t.startswith("DECIMAL("):
        return "numeric"
    return _PG_NAMES.get(t, t.lower())


def _bad_text(m: re.Match[str]) -> E.SqlError:
    """A string a cast could not read: PostgreSQL's 22P02 (22007 for times) naming its type; an integer
    too large for its type is 22003."""
    value, pg = m[1], _pg_name(m[2])
    if pg in ("smallint", "integer", "bigint") and pgt.is_integer_text(value):
        return E.NumericValueOutOfRange(f'value "{value}" is out of range for type {pg}')
    cls = E.InvalidDatetimeFormat if pg in _DATETIME_NAMES else E.InvalidTextRepresentation
    return cls(f'invalid input syntax for type {pg}: "{value}"')


def _out_of_range(m: re.Match[str]) -> E.SqlError:
    """A value its type cannot hold (an overflowing sum, a cast to a narrower type)."""
    pg = _pg_name(m[1])
    return E.NumericValueOutOfRange("numeric field overflow" if pg == "numeric" else f"{pg} out of range")


def _split_types(text: str) -> list[str]:
    """'DECIMAL(18,3), VARCHAR' -> ['DECIMAL(18,3)', 'VARCHAR'] (commas inside parentheses kept)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def _no_function(m: re.Match[str]) -> E.SqlError:
    """No function or operator of these argument types: PostgreSQL's message names the types."""
    name, types = m[1], [_pg_name(t) for t in _split_types(m[2])]
    if not (name[:1].isalpha() or name[:1] == "_"):
        shown = f"{types[0]} {name} {types[1]}" if len(types) == 2 else f"{name} {' '.join(types)}"
        return E.UndefinedFunction(f"operator does not exist: {shown}", hint=_NO_OPERATOR_HINT)
    return E.UndefinedFunction(f"function {name}({', '.join(types)}) does not exist", hint=E.NO_FUNCTION_HINT)


def _unknown_function(m: re.Match[str]) -> E.SqlError:
    return E.UndefinedFunction(f"function {m[1]} does not exist", hint=E.NO_FUNCTION_HINT)


_PATTERNS: list[tuple[type[E.SqlError] | None, re.Pattern[str], Any]] = [
    # raised by our own macros (sql/functions): error('pgsql <SQLSTATE>: <message>')
    (E.SqlError, re.compile(r"pgsql ([0-9A-Z]{5}): ([^\n]*)"), "{0}:{1}"),
    (E.DivisionByZero, re.compile(r"Division by zero"), "division by zero"),
    (  # ('2024-02-30'::date, a month 13: PostgreSQL's 22008, not a syntax error)
        E.DatetimeFieldOverflow,
        re.compile(r'(?:date|timestamp) field value out of range: ("[^"\n]*")'),
        "date/time field value out of range: {0}",
    ),
    (None, re.compile(r"value is out of range for the destination type (\w+)"), _out_of_range),
    # (a numeric, sum(bigint) among them, cast to an integer or a narrower numeric)
    (None, re.compile(r"Failed to cast decimal value \S+ to type (\w+)"), _out_of_range),
    (
        None,
        re.compile(r"Overflow in (?:addition|subtraction|multiplication|negation) of (\w+)"),
        _out_of_range,
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
        E.InvalidColumnReference,
        re.compile(r"GROUP BY term out of range"),
        "GROUP BY position is not in select list",
    ),
    (
        E.UndefinedColumn,
        re.compile(r'Column "([^"]+)" does not exist on (left|right) side of join'),
        'column "{0}" specified in USING clause does not exist in {1} table',
    ),
    (
        E.DuplicateAlias,
        re.compile(r'Ambiguous reference to table "(?:[^".]*\.)*([^".]+)" \(duplicate alias'),
        'table name "{0}" specified more than once',
    ),
    (
        E.UndefinedColumn,
        re.compile(r'Table "([^"]+)" does not have a column named "([^"]+)"'),
        "column {0}.{1} does not exist",
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
        None,
        re.compile(
            r"Could not convert string '(.*)' to ([A-Z][A-Z0-9_ ]*[A-Z0-9])(?: when casting from source column \S+)?$",
            re.M,
        ),
        _bad_text,
    ),
    (None, re.compile(r'Could not convert string "(.*)" to (DECIMAL\(\d+,\d+\))'), _bad_text),
    (
        E.FeatureNotSupported,
        re.compile(r"automatically install the required extension '(\w+)"),
        "{0} is not supported",
    ),
    (
        E.UndefinedParameter,
        re.compile(r"Values were not provided for the following parameters: (\d+)"),
        "there is no parameter ${0}",
    ),
    (
        E.InvalidArgumentForNtile,
        re.compile(r"Argument for ntile must be greater than zero"),
        "argument of ntile must be greater than zero",
    ),
    (E.InvalidTextRepresentation, re.compile(r"Malformed JSON"), "invalid input syntax for type json"),
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
    (
        E.UndefinedColumn,
        re.compile(r'Referenced column "([^"]+)" (?:was )?not found'),
        'column "{0}" does not exist',
    ),
    (
        E.UndefinedColumn,
        re.compile(r'Values list "([^"]*)" does not have a column named "([^"]+)"'),
        "column {0}.{1} does not exist",
    ),
    (None, re.compile(r"Function with name (\S+) does not exist"), _unknown_function),
    (
        None,
        re.compile(r"No function matches the given name and argument types '([^(]+)\((.*)\)'"),
        _no_function,
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
            if cls is None:  # (a message its groups decide)
                return template(m)
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
