"""PostgreSQL built-ins that DuckDB lacks or answers differently, as DuckDB SQL macros (vectorised).

sql/rewrite/pg_semantics.py turns the PostgreSQL calls into these. Errors PostgreSQL raises are
raised with ``error('pgsql <SQLSTATE>: <message>')``; sql/duck.py's translate() gives the client
that SQLSTATE.

- ``pg_substr(s, start [, n])``: PostgreSQL counts the characters [start, start + n) that lie at
  position 1 or later (substr('abc', 0, 2) = 'a'); DuckDB reads a start <= 0 from the end.
  A negative length is an error (22011).
- ``pg_split_part(s, d, n)``: an empty delimiter leaves the string whole (field 1 or -1), field 0
  is an error (22023).
- ``pg_sqrt``, ``pg_ln``, ``pg_log10``: the domain errors (2201F, 2201E) where DuckDB returns
  NaN, -inf or NULL.
- ``pg_scale(x)``: digits after the decimal point of a numeric (DuckDB's decimal text keeps them).
- ``pg_interval_months/days/micros(i)``: an interval's fields, to sum them apart as PostgreSQL does.
- ``pg_justify_hours(i)``, ``pg_justify_days(i)``, ``pg_justify_interval(i)``: PostgreSQL's justify_*
  on the three fields.
- ``pg_interval_text(i)``: an interval as PostgreSQL prints it (IntervalStyle postgres).
- ``pg_float_text(x)``: float4/float8 as PostgreSQL prints them (54, not 54.0; NaN, Infinity).
- ``pg_array_text(x)``: a list as PostgreSQL's array text ``{1,2,NULL,"a b"}`` (DuckDB: ``[1, 2, NULL, a b]``).
- ``pg_json_tstz(x)``, ``pg_json_ts(x)``, ``pg_json_float(x)``, ``pg_json_floats(l)``: a value (a float
  array) as it appears inside PostgreSQL's JSON (``2016-01-01T00:00:00+00:00`` in the session zone; ``1e+20``; ``"NaN"``), for to_json to quote.
- ``pg_json_agg(l)``, ``pg_json_agg_rows(l)``: json_agg's text of a list, elements apart by ``, ``
  (rows and arrays also by a newline and a space, as PostgreSQL writes them); an element that is
  JSON already (json values, floats made ready) as it is written.
- ``pg_json_typeof(j)``: json_typeof's names (object, array, string, number, boolean, null).
- ``array_replace``, ``array_positions``, ``array_ndims``, ``regexp_substr(s, p)``:
  PostgreSQL's functions of those names, which DuckDB lacks.
- ``pg_encode_base64(b)``: encode(b, 'base64')'s text, in lines of 76 characters.
- ``pg_jsonb_text(j)``: jsonb's output text of a JSON value: a space after each ``:`` and ``,`` outside
  strings (key order is the value's own; sql/rewrite/pg_json.py sorts keys where it knows them).
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
    "pg_split_part": """
        (s, d, n) AS CASE
            WHEN n = 0 THEN error('pgsql 22023: field position must not be zero')
            WHEN d = '' THEN CASE WHEN n IN (1, -1) THEN s ELSE '' END
            ELSE split_part(s, d, n)
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
    "pg_interval": "(m, d, t) AS to_months(CAST(m AS INTEGER)) + to_days(CAST(d AS INTEGER)) + to_microseconds(t)",
    # justify_hours / justify_days (PostgreSQL's interval.c): carry whole days out of the time, whole
    # 30-day months out of the days, then make the two fields agree in sign
    "pg_justify_hours_parts": """
        (m, d, t) AS CASE
            WHEN d > 0 AND t < 0 THEN pg_interval(m, d - 1, t + 86400000000)
            WHEN d < 0 AND t > 0 THEN pg_interval(m, d + 1, t - 86400000000)
            ELSE pg_interval(m, d, t)
        END
    """,
    "pg_justify_hours": """
        (i) AS pg_justify_hours_parts(
            pg_interval_months(i),
            pg_interval_days(i) + CAST(trunc(pg_interval_micros(i) / 86400000000.0) AS BIGINT),
            pg_interval_micros(i) % 86400000000
        )
    """,
    "pg_justify_days_parts": """
        (m, d, t) AS CASE
            WHEN m > 0 AND d < 0 THEN pg_interval(m - 1, d + 30, t)
            WHEN m < 0 AND d > 0 THEN pg_interval(m + 1, d - 30, t)
            ELSE pg_interval(m, d, t)
        END
    """,
    "pg_justify_days": """
        (i) AS pg_justify_days_parts(
            pg_interval_months(i) + CAST(trunc(pg_interval_days(i) / 30.0) AS BIGINT),
            pg_interval_days(i) % 30,
            pg_interval_micros(i)
        )
    """,
    # justify_interval: whole days out of the time, whole months out of the days, then the signs
    # made to agree (months with days or time, days with time), as PostgreSQL's interval_justify_interval
    "pg_justify_interval_signs": """
        (m, d, t) AS CASE
            WHEN m > 0 AND (d < 0 OR (d = 0 AND t < 0)) THEN pg_justify_hours_parts(m - 1, d + 30, t)
            WHEN m < 0 AND (d > 0 OR (d = 0 AND t > 0)) THEN pg_justify_hours_parts(m + 1, d - 30, t)
            ELSE pg_justify_hours_parts(m, d, t)
        END
    """,
    "pg_justify_interval_months": """
        (m, d, t) AS pg_justify_interval_signs(m + CAST(trunc(d / 30.0) AS BIGINT), d % 30, t)
    """,
    "pg_justify_interval": """
        (i) AS pg_justify_interval_months(
            pg_interval_months(i),
            pg_interval_days(i) + CAST(trunc(pg_interval_micros(i) / 86400000000.0) AS BIGINT),
            pg_interval_micros(i) % 86400000000
        )
    """,
    # interval text in IntervalStyle postgres: '1 year 2 mons -3 days +04:05:06.5'
    "pg_interval_field": """
        (v, unit, before) AS CASE WHEN v = 0 THEN NULL
            ELSE (CASE WHEN before AND v > 0 THEN '+' ELSE '' END) || CAST(v AS VARCHAR) || ' ' || unit
                 || (CASE WHEN v = 1 THEN '' ELSE 's' END)
        END
    """,
    "pg_interval_clock": """
        (t, zero, before) AS CASE WHEN t = 0 AND NOT zero THEN NULL
            ELSE (CASE WHEN t < 0 THEN '-' WHEN before THEN '+' ELSE '' END)
                 || lpad(CAST(abs(t) // 3600000000 AS VARCHAR), 2, '0') || ':'
                 || lpad(CAST(abs(t) // 60000000 % 60 AS VARCHAR), 2, '0') || ':'
                 || lpad(CAST(abs(t) // 1000000 % 60 AS VARCHAR), 2, '0')
                 || (CASE WHEN abs(t) % 1000000 = 0 THEN ''
                     ELSE '.' || rtrim(lpad(CAST(abs(t) % 1000000 AS VARCHAR), 6, '0'), '0') END)
        END
    """,
    "pg_interval_text_parts": """
        (y, mo, d, t) AS concat_ws(' ',
            pg_interval_field(y, 'year', false),
            pg_interval_field(mo, 'mon', y < 0),
            pg_interval_field(d, 'day', CASE WHEN mo <> 0 THEN mo < 0 ELSE y < 0 END),
            pg_interval_clock(t, y = 0 AND mo = 0 AND d = 0,
                CASE WHEN d <> 0 THEN d < 0 WHEN mo <> 0 THEN mo < 0 ELSE y < 0 END))
    """,
    "pg_interval_text": """
        (i) AS CASE WHEN i IS NULL THEN NULL ELSE pg_interval_text_parts(
            CAST(trunc(pg_interval_months(i) / 12.0) AS BIGINT),
            pg_interval_months(i) % 12,
            pg_interval_days(i),
            pg_interval_micros(i)) END
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
    "pg_json_tstz": r"(x) AS regexp_replace(replace(CAST(x AS VARCHAR), ' ', 'T'), '([+-]\d\d)$', '\1:00')",
    "pg_json_ts": "(x) AS replace(CAST(x AS VARCHAR), ' ', 'T')",
    "pg_json_float": """
        (x) AS CASE WHEN isfinite(x) THEN CAST(pg_float_text(x) AS JSON) ELSE to_json(pg_float_text(x)) END
    """,
    "pg_json_floats": """
        (l) AS CAST('[' || array_to_string(
            list_transform(l, lambda e: coalesce(CAST(pg_json_float(e) AS VARCHAR), 'null')), ','
        ) || ']' AS JSON)
    """,
    # an element's JSON text: a JSON value as it is written (to_json would write it again, compacted,
    # its numbers in DuckDB's form), anything else as to_json writes it
    "pg_json_element": """
        (e) AS CASE WHEN typeof(e) = 'JSON' THEN CAST(e AS VARCHAR) ELSE CAST(to_json(e) AS VARCHAR) END
    """,
    "pg_json_agg": """
        (l) AS '[' || array_to_string(
            list_transform(l, lambda e: coalesce(pg_json_element(e), 'null')), ', '
        ) || ']'
    """,
    "pg_json_agg_rows": """
        (l) AS '[' || array_to_string(
            list_transform(l, lambda e, i: CASE
                WHEN e IS NULL THEN 'null'
                WHEN i = 1 THEN pg_json_element(e)
                ELSE chr(10) || ' ' || pg_json_element(e)
            END), ', '
        ) || ']'
    """,
    "pg_json_typeof": """
        (j) AS CASE json_type(j)
            WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string'
            WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null'
            ELSE CASE WHEN json_type(j) IS NOT NULL THEN 'number' END
        END
    """,
    # each match: a run of tokens (strings whole, escapes and all), then the separator that ends it
    # or the end of the text (so that no match starts inside a string); rtrim takes the space that
    # the end got back off
    "pg_jsonb_text": r"""
        (j) AS rtrim(regexp_replace(
            CAST(json(j) AS VARCHAR), '((?:"(?:[^"\\]|\\.)*"|[^",:])*)([,:]|$)', '\1\2 ', 'g'
        ))
    """,
    # ->> / #>> of jsonb: an object or array as jsonb's text, anything else as DuckDB gives it
    "pg_jsonb_scalar_text": """
        (j, s) AS CASE WHEN json_type(j) IN ('OBJECT', 'ARRAY') THEN pg_jsonb_text(j) ELSE s END
    """,
    # PostgreSQL's array functions DuckDB lacks: elements compared as IS NOT DISTINCT FROM (a NULL
    # finds NULLs), positions 1-based int4
    "array_replace": """
        (a, x, y) AS list_transform(a, lambda e: CASE WHEN e IS NOT DISTINCT FROM x THEN y ELSE e END)
    """,
    "array_positions": """
        (a, x) AS CASE WHEN a IS NOT NULL THEN
            CAST(list_filter(range(1, len(a) + 1), lambda i: a[i] IS NOT DISTINCT FROM x) AS INTEGER[])
        END
    """,
    # (the list type's depth: typeof(a) is its DuckDB type name, "INTEGER[][]" for two dimensions)
    "array_ndims": """
        (a) AS CASE WHEN len(a) > 0 THEN
            CAST((length(typeof(a)) - length(replace(typeof(a), '[]', ''))) // 2 AS INTEGER)
        END
    """,
    # the first match of a pattern (NULL: none), PostgreSQL 15's two-argument form
    "regexp_substr": "(s, p) AS CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, 0) END",
    # encode(bytea, 'base64'): PostgreSQL breaks the text into lines of 76 characters
    "pg_encode_base64": r"""
        (b) AS rtrim(regexp_replace(to_base64(b), '(.{76})', '\1' || chr(10), 'g'), chr(10))
    """,
}


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros in the connection's database (every cursor of it sees them)."""
    for name, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE MACRO {name} {body.strip()}")
