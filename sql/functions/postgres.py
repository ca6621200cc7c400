"""PostgreSQL built-ins that DuckDB lacks or answers differently, as DuckDB SQL macros (vectorised).

sql/rewrite/pg_semantics.py turns the PostgreSQL calls into these. Errors PostgreSQL raises are
raised with ``error('pgsql <SQLSTATE>: <message>')``; sql/duck.py's translate() gives the client
that SQLSTATE.

- ``pg_substr(s, start [, n])``: PostgreSQL counts the characters [start, start + n) that lie at
  position 1 or later (substr('abc', 0, 2) = 'a'); DuckDB reads a start <= 0 from the end.
  A negative length is an error (22011).
- ``pg_sqrt``, ``pg_ln``, ``pg_log10``: the domain errors (2201F, 2201E) where DuckDB returns
  NaN, -inf or NULL.
- ``pg_scale(x)``: digits after the decimal point of a numeric (DuckDB's decimal text keeps them).
- ``pg_interval_months/days/micros(i)``: an interval's fields, to sum them apart as PostgreSQL does.
- ``pg_float_text(x)``: float4/float8 as PostgreSQL prints them (54, not 54.0; NaN, Infinity).
- ``pg_array_text(x)``: a list as PostgreSQL's array text ``{1,2,NULL,"a b"}`` (DuckDB: ``[1, 2, NULL, a b]``).
"""

from __future__ import annotations

import duckdb

MACROS: dict[str, str] = {
    "pg_substr": """
        (s, start) AS substring(s, greatest(start, 1)),
        (s, start, n) AS CASE
            WHEN n < 0 THEN error('pgsql 22011: negative substring length not allowed')
            ELSE substring(s, greatest(start, 1), greatest(start + n - greatest(start, 1), 0))
        END
    """,
    "pg_sqrt": """
        (x) AS CASE
            WHEN x < 0 THEN error('pgsql 2201F: cannot take square root of a negative number')
            ELSE sqrt(x)
        END
    """,
    "pg_ln": """
        (x) AS CASE
            WHEN x = 0 THEN error('pgsql 2201E: cannot take logarithm of zero')
            WHEN x < 0 THEN error('pgsql 2201E: cannot take logarithm of a negative number')
            ELSE ln(x)
        END
    """,
    "pg_log10": """
        (x) AS CASE
            WHEN x = 0 THEN error('pgsql 2201E: cannot take logarithm of zero')
            WHEN x < 0 THEN error('pgsql 2201E: cannot take logarithm of a negative number')
            ELSE log10(x)
        END
    """,
    "pg_scale": """
        (x) AS CASE
            WHEN strpos(CAST(x AS VARCHAR), '.') = 0 THEN 0
            ELSE length(CAST(x AS VARCHAR)) - strpos(CAST(x AS VARCHAR), '.')
        END
    """,
    # an interval's three fields, as PostgreSQL keeps them (months, days, microseconds)
    "pg_interval_months": "(i) AS datepart('year', i) * 12 + datepart('month', i)",
    "pg_interval_days": "(i) AS datepart('day', i)",
    "pg_interval_micros": """
        (i) AS datepart('hour', i) * 3600000000 + datepart('minute', i) * 60000000
            + datepart('microseconds', i)
    """,
    "pg_float_text": r"""
        (x) AS CASE
            WHEN isnan(x) THEN 'NaN'
            WHEN isinf(x) THEN CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END
            ELSE regexp_replace(CAST(x AS VARCHAR), '\.0$', '')
        END
    """,
    "pg_array_element_text": r"""
        (s) AS CASE
            WHEN s IS NULL THEN 'NULL'
            WHEN s = '' OR lower(s) = 'null' OR regexp_matches(s, '[{},"\\\s]')
                THEN '"' || replace(replace(s, '\', '\\'), '"', '\"') || '"'
            ELSE s
        END
    """,
    "pg_array_text": """
        (x) AS '{' || array_to_string(
            list_transform(x, lambda e: pg_array_element_text(CAST(e AS VARCHAR))), ','
        ) || '}'
    """,
}


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros in the connection's database (every cursor of it sees them)."""
    for name, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE MACRO {name} {body.strip()}")
