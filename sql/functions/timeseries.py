"""Time-series functions as DuckDB SQL macros: vectorised by DuckDB itself, no Python per row.

The rewrite rules (sql/rewrite/histogram.py, rate.py, gapfill.py) turn the PostgreSQL / TimescaleDB
spelling into calls of these macros; the ``tsgres_`` prefix keeps them from shadowing DuckDB's own
functions (DuckDB has a one-argument ``histogram`` returning a MAP) or catching unrelated names.

    histogram(v, 0, 10, 5)  -> tsgres_histogram(v, 0, 10, 5)     -- INTEGER[7]
    delta(v, time)          -> tsgres_delta(v, time)             -- last - first
    rate(v, time)           -> tsgres_rate(v, time)              -- (last - first) / seconds
    interpolate(avg(v))     -> ... tsgres_interpolate(x, x0, y0, x1, y1) ...

Semantics (checked against TimescaleDB's C sources and PostgreSQL's width_bucket):

- ``tsgres_width_bucket(v, lo, hi, n)``: PostgreSQL 15's width_bucket(float8): 0 below ``lo``,
  ``n + 1`` at or above ``hi``, else ``1 + trunc(n * ((v - lo) / (hi - lo)))`` capped at ``n``.
- ``tsgres_histogram``: TimescaleDB's histogram(): ``n + 2`` int4 counts (underflow, n buckets,
  overflow); NULL when the group has no non-NULL value. DuckDB's ``histogram(x)`` aggregate keeps
  one counter per bucket (memory per group is O(n), not O(rows)); the final list fills absent
  buckets with 0. Errors: ``lo > hi`` ("lower bound cannot exceed upper bound", as TimescaleDB),
  ``lo = hi`` (PostgreSQL's width_bucket error).
- ``tsgres_interpolate``: TimescaleDB's linear interpolation ``(y0*(x1-x) + y1*(x-x0)) / (x1-x0)``
  with its short-cut ``y0 = y1 -> y0``; integer results round half away from zero (TimescaleDB
  computes integers in numeric), other types keep their type (``cast_to_type``).
"""

from __future__ import annotations

import duckdb

_INTEGER_TYPES = (
    "('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT')"
)

MACROS: dict[str, str] = {
    # PostgreSQL's width_bucket: the bounds either way round (hi < lo counts down from lo)
    "tsgres_width_bucket(v, lo, hi, n)": """
        CASE
            WHEN n <= 0 THEN error('pgsql 2201G: count must be greater than zero')
            WHEN lo = hi THEN error('pgsql 2201G: lower bound cannot equal upper bound')
            WHEN isnan(v) OR isnan(lo) OR isnan(hi)
                THEN error('pgsql 2201G: operand, lower bound, and upper bound cannot be NaN')
            WHEN v IS NULL THEN NULL
            WHEN lo < hi AND v < lo THEN 0
            WHEN lo < hi AND v >= hi THEN n + 1
            WHEN lo < hi THEN least(CAST(trunc(n * ((CAST(v AS DOUBLE) - lo) / (hi - lo))) AS INTEGER), n - 1) + 1
            WHEN v > lo THEN 0
            WHEN v <= hi THEN n + 1
            ELSE least(CAST(trunc(n * ((lo - CAST(v AS DOUBLE)) / (lo - hi))) AS INTEGER), n - 1) + 1
        END""",
    "tsgres_histogram(v, lo, hi, n)": """
        CASE WHEN count(v) = 0 THEN NULL
        WHEN max(lo) > max(hi) THEN error('lower bound cannot exceed upper bound') ELSE list_transform(
            range(0, CAST(max(n) AS BIGINT) + 2),
            lambda i: CAST(coalesce(histogram(tsgres_width_bucket(
                CAST(v AS DOUBLE), CAST(lo AS DOUBLE), CAST(hi AS DOUBLE), CAST(n AS INTEGER)))[i], 0)
                AS INTEGER)) END""",
    "tsgres_delta(v, t)": "arg_max(v, t) - arg_min(v, t)",
    "tsgres_rate(v, t)": """
        (arg_max(v, t) - arg_min(v, t))
        / nullif(epoch(max(CASE WHEN v IS NOT NULL THEN t END))
                 - epoch(min(CASE WHEN v IS NOT NULL THEN t END)), 0)""",
    "tsgres_interpolate(x, x0, y0, x1, y1)": f"""
        CASE
            WHEN x0 IS NULL OR y0 IS NULL OR x1 IS NULL OR y1 IS NULL THEN NULL
            WHEN y0 = y1 THEN y0
            ELSE cast_to_type(
                CASE WHEN typeof(y0) IN {_INTEGER_TYPES}
                    THEN round((CAST(y0 AS DOUBLE) * (x1 - x) + CAST(y1 AS DOUBLE) * (x - x0)) / (x1 - x0))
                    ELSE (CAST(y0 AS DOUBLE) * (x1 - x) + CAST(y1 AS DOUBLE) * (x - x0)) / (x1 - x0)
                END, y0)
        END""",
}


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros in the connection's database (every cursor of it sees them)."""
    for signature, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE MACRO {signature} AS {body.strip()}")
