"""Run one query on PostgreSQL 15 and on tsgres and say how the answers differ.

An answer is either an error (its SQLSTATE) or a result: column names with PostgreSQL type OIDs, and
rows of decoded Python values. Values are compared after normalising each side's decoding:

- numbers: integers exactly; anything with a fraction to 1e-9 relative (1e-6 for real/float4 columns,
  and real[] elements, which PostgreSQL prints with float4 precision while Arrow hands back the widened
  float32)
- timestamptz: the same instant to the microsecond (PostgreSQL's come in the session zone, ours in UTC);
  timestamp, date, time: exactly
- interval: (months, days, microseconds), the three fields PostgreSQL keeps apart
- arrays element by element; text, bool, bytea exactly (bool is never equal to an integer)
- json and jsonb as their text, exactly: spacing, key order and how values are written are what
  clients show and what tools compare

Rows are compared as multisets unless the statement has an ORDER BY at top level; then the order of
the ORDER BY keys must match too (rows that tie on the keys may come in any order), or, when a key is
not an output column, the whole rows in order.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

FLOAT4_OID, FLOAT4_ARRAY_OID = 700, 1021
FLOAT8_OID = 701
REL_TOL = 1e-9
REL_TOL_FLOAT4 = 1e-6
MAX_SHOWN_ROWS = 8


# -- the corpus ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One query of the corpus, with the annotations written above it."""

    id: str
    sql: str
    file: str
    line: int
    xfail: str | None = None  # the reason: a named gap in tsgres, each one a TODO
    error: str | None = None  # the SQLSTATE PostgreSQL must raise (checks the corpus itself)
    params: tuple[str | None, ...] | None = None  # $1, $2 ... sent as untyped text (extended protocol)
    session: str | None = None  # a SET run on both before the query, RESET after it


_HEADER = re.compile(r"^--\s*(name|xfail|error|params|session)\s*:\s*(.*?)\s*$")


def load_corpus(directory: Path) -> list[Entry]:
    """Entries of every ``*.sql`` file: ``-- name: x`` (and ``-- xfail: why``, ``-- error: 22012``)
    lines, then the query, ending with a line that ends in ``;``."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.sql")):
        meta: dict[str, str] = {}
        body: list[str] = []
        start = 0
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = _HEADER.match(line)
            if m and not body:
                meta[m[1]] = m[2]
                continue
            if not body and (not line.strip() or line.lstrip().startswith("--")):
                continue
            if not body:
                start = n
            body.append(line)
            if line.rstrip().endswith(";"):
                if "name" not in meta:
                    raise ValueError(f"{path.name}:{start}: query without a '-- name:' line")
                entry_id = f"{path.stem}/{meta['name']}"
                if entry_id in seen:
                    raise ValueError(f"{path.name}:{start}: duplicate name {meta['name']!r}")
                seen.add(entry_id)
                sql = "\n".join(body).rstrip().rstrip(";").rstrip()
                params = tuple(json.loads(meta["params"])) if "params" in meta else None
                entries.append(
                    Entry(
                        entry_id,
                        sql,
                        path.name,
                        start,
                        meta.get("xfail"),
                        meta.get("error"),
                        params,
                        meta.get("session"),
                    )
                )
                meta, body = {}, []
        if body or meta:
            raise ValueError(f"{path.name}: unterminated entry at the end (missing ';')")
    return entries


# -- outcomes -----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    columns: list[tuple[str, int]] = field(default_factory=list)  # (name, type oid)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    sqlstate: str | None = None  # set when the statement raised
    message: str = ""
    described: list[tuple[str, int]] | None = None  # tsgres: what prepare() announced

    @property
    def failed(self) -> bool:
        return self.sqlstate is not None


def _parse_interval(text: str) -> tuple[str, int, int, int]:
    """PostgreSQL's output (IntervalStyle postgres) -> ("interval", months, days, microseconds)."""
    months = days = micros = 0
    units = {"year": 12, "years": 12, "mon": 1, "mons": 1}
    for num, unit in re.findall(r"([+-]?\d+) (years?|mons?|days?)", text):
        if unit.startswith("day"):
            days += int(num)
        else:
            months += int(num) * units[unit]
    m = re.search(r"([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d+))?", text)
    if m:
        sign = -1 if m[1] == "-" else 1
        frac = int((m[5] or "0").ljust(6, "0")[:6])
        micros = sign * (((int(m[2]) * 60 + int(m[3])) * 60 + int(m[4])) * 1_000_000 + frac)
    return ("interval", months, days, micros)


def pg_connection_setup(conn: Any) -> None:
    """Decode intervals to (months, days, µs) instead of psycopg's lossy timedelta, and json/jsonb
    to their text (psycopg would parse them, and the text is what must be the same)."""
    from psycopg.adapt import Loader

    class IntervalLoader(Loader):
        def load(self, data: Any) -> Any:
            return _parse_interval(bytes(data).decode())

    class JsonTextLoader(Loader):
        def load(self, data: Any) -> Any:
            return bytes(data).decode()

    conn.adapters.register_loader("interval", IntervalLoader)
    conn.adapters.register_loader("json", JsonTextLoader)
    conn.adapters.register_loader("jsonb", JsonTextLoader)
    conn.execute("SET IntervalStyle = 'postgres'")


def _pg_placeholders(sql: str, params: tuple[str | None, ...]) -> tuple[str, list[str | None]]:
    """$n placeholders as psycopg's %s, with the values in the order the placeholders appear."""
    order = [int(m) for m in re.findall(r"\$(\d+)", sql)]
    return re.sub(r"\$\d+", "%s", sql.replace("%", "%%")), [params[i - 1] for i in order]


def run_pg(conn: Any, sql: str, params: tuple[str | None, ...] | None = None) -> Outcome:
    import psycopg

    try:
        if params is None:
            cur = conn.execute(sql)
        else:  # psycopg sends str values untyped (OID 0), in text: the server infers the types
            text, values = _pg_placeholders(sql, params)
            cur = conn.execute(text, values)
    except psycopg.Error as exc:
        return Outcome(sqlstate=exc.sqlstate or "?????", message=str(exc).splitlines()[0])
    if cur.description is None:
        return Outcome()
    cols = [(d.name, d.type_code) for d in cur.description]
    return Outcome(cols, [tuple(r) for r in cur.fetchall()])


def run_tsgres(session: Any, sql: str, params: tuple[str | None, ...] | None = None) -> Outcome:
    from pgwire.types import Context, decode_param
    from sql.errors import SqlError

    try:
        n = len(params or ())
        stmt = session.prepare(sql, [0] * n)
        described = None if stmt.columns is None else [(c.name, c.type_oid) for c in stmt.columns]
        # as pgwire's Bind does: text values decoded by the parameter types prepare() inferred
        values = [
            decode_param(None if v is None else v.encode(), oid, 0, Context())
            for v, oid in zip(params or (), stmt.param_oids, strict=False)
        ]
        result = session.execute(stmt, values)
        batches = list(result.batches)
    except SqlError as exc:
        return Outcome(sqlstate=exc.sqlstate, message=str(exc).splitlines()[0] if str(exc) else "")
    if result.columns is None:
        return Outcome(described=described)
    cols = [(c.name, c.type_oid) for c in result.columns]
    rows: list[tuple[Any, ...]] = []
    for b in batches:
        t = pa.Table.from_batches([b])
        values = [t.column(i).to_pylist() for i in range(t.num_columns)]
        rows.extend(zip(*values, strict=True))
    return Outcome(cols, rows, described=described)


# -- values -------------------------------------------------------------------------------------------
def normalise(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, pa.MonthDayNano):
        return ("interval", v.months, v.days, v.nanoseconds // 1000)
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.astimezone(UTC)
    if isinstance(v, list | tuple) and not (v and v[0] == "interval"):
        return [normalise(x) for x in v]
    return v


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def values_equal(a: Any, b: Any, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if _is_number(a) and _is_number(b):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        if math.isinf(fa) or math.isinf(fb):
            return fa == fb
        return math.isclose(fa, fb, rel_tol=tol, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y, tol) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    return bool(a == b)


def _sort_key(v: Any) -> str:
    if v is None:
        return "0"
    if _is_number(v):
        # whole numbers exactly (epoch seconds of neighbouring buckets agree to 6 digits), others to 6
        # digits, so that values equal within the tolerance sort alike on both sides
        f = float(v)
        if math.isfinite(f) and f == int(f) and abs(f) < 2**53:
            return "1" + str(int(f))
        return "1" + ("nan" if math.isnan(f) else format(f, ".6g"))
    if isinstance(v, datetime | date | time):
        return "2" + v.isoformat()
    if isinstance(v, list):
        return "3" + "|".join(_sort_key(x) for x in v)
    return "4" + type(v).__name__ + repr(v)


def _row_key(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(_sort_key(v) for v in row)


def rows_equal(a: tuple[Any, ...], b: tuple[Any, ...], tols: list[float]) -> bool:
    return len(a) == len(b) and all(values_equal(x, y, t) for x, y, t in zip(a, b, tols, strict=True))


# -- ordering -----------------------------------------------------------------------------------------
def order_keys(sql: str, columns: list[tuple[str, int]]) -> list[int] | None:
    """[]: no top-level ORDER BY (compare as multisets). A list: the output columns the ORDER BY
    keys are. None: ordered by something that is not an output column (compare whole rows in order)."""
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except Exception:
        return []
    order = tree.args.get("order") if isinstance(tree, exp.Query) else None
    if order is None:
        return []
    names = [c[0] for c in columns]
    selects = tree.selects if isinstance(tree, exp.Select) else []
    out: list[int] = []
    for o in order.expressions:
        key = o.this
        if isinstance(key, exp.Literal) and key.is_int:
            out.append(int(key.this) - 1)
            continue
        idx = None
        if isinstance(key, exp.Column) and not key.table and names.count(key.name) == 1:
            idx = names.index(key.name)
        else:
            for i, s in enumerate(selects):
                inner = s.this if isinstance(s, exp.Alias) else s
                if inner == key or s == key:
                    idx = i
                    break
        if idx is None:
            return None
        out.append(idx)
    return out


# -- statements run on both servers -------------------------------------------------------------------
def run_on_both(pair: Any, statements: Sequence[str]) -> None:
    """Run each of ``statements`` on both servers, each to succeed (set-up and clean-up)."""
    for sql in statements:
        pair.pg.execute(sql)
        assert not run_tsgres(pair.ts, sql).failed, sql


def query_failures(pair: Any, queries: Sequence[str]) -> str:
    """Each of ``queries`` run on both servers: how the answers differ, one paragraph per query that
    differs ("" when none does)."""
    failures = []
    for sql in queries:
        diff = differences(sql, run_pg(pair.pg, sql), run_tsgres(pair.ts, sql))
        if diff:
            failures.append(sql + "\n  " + "\n  ".join(diff))
    return "\n".join(failures)


def step_failures(pg_conn: Any, session: Any, steps: Sequence[str]) -> str:
    """Each of ``steps`` run in order on a PostgreSQL connection and a tsgres session: how the
    outcomes differ, one paragraph per step ("" when none does). An error must have the same
    SQLSTATE and the same primary message."""
    failures = []
    for i, sql in enumerate(steps):
        a, b = run_pg(pg_conn, sql), run_tsgres(session, sql)
        diff = differences(sql, a, b)
        if not diff and a.failed and a.message.removeprefix("ERROR:  ") != b.message:
            diff = [f"message: PostgreSQL {a.message!r}, tsgres {b.message!r}"]
        if diff:
            failures.append(f"step {i}: {sql}\n  " + "\n  ".join(diff))
    return "\n".join(failures)


def same_outcomes(pair: Any, sql: str, step: int) -> tuple[Outcome, Outcome]:
    """Run ``sql`` on both servers; both must succeed or fail with the same SQLSTATE."""
    pg, ts = run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)
    assert pg.sqlstate == ts.sqlstate, (
        f"step {step}: {sql}\nPostgreSQL {pg.sqlstate} {pg.message}\ntsgres {ts.sqlstate} {ts.message}"
    )
    return pg, ts


# -- the comparison -----------------------------------------------------------------------------------
def _show_rows(rows: list[tuple[Any, ...]]) -> str:
    shown = "\n".join(f"    {r!r}" for r in rows[:MAX_SHOWN_ROWS])
    more = f"\n    ... {len(rows) - MAX_SHOWN_ROWS} more" if len(rows) > MAX_SHOWN_ROWS else ""
    return shown + more


def differences(sql: str, pg: Outcome, ts: Outcome) -> list[str]:
    """What tsgres answered differently from PostgreSQL (empty: the same)."""
    if pg.failed:
        if not ts.failed:
            return [f"PostgreSQL raised {pg.sqlstate} ({pg.message}); tsgres returned {len(ts.rows)} rows"]
        if ts.sqlstate != pg.sqlstate:
            return [
                f"PostgreSQL raised {pg.sqlstate} ({pg.message}); tsgres raised {ts.sqlstate} ({ts.message})"
            ]
        return []
    if ts.failed:
        return [f"tsgres raised {ts.sqlstate} ({ts.message}); PostgreSQL returned {len(pg.rows)} rows"]
    out: list[str] = []
    if ts.columns != pg.columns:
        out.append(f"columns: PostgreSQL {pg.columns}, tsgres {ts.columns}")
    if ts.described is not None and ts.described != ts.columns:
        out.append(f"prepare() described {ts.described} but execute() returned {ts.columns}")
    width = len(pg.columns)
    tols = [REL_TOL_FLOAT4 if c[1] in (FLOAT4_OID, FLOAT4_ARRAY_OID) else REL_TOL for c in pg.columns]
    if len(ts.columns) != width:
        return out
    pg_rows = [tuple(normalise(v) for v in r) for r in pg.rows]
    ts_rows = [tuple(normalise(v) for v in r) for r in ts.rows]
    if len(pg_rows) != len(ts_rows):
        out.append(
            f"row count: PostgreSQL {len(pg_rows)}, tsgres {len(ts_rows)}\n"
            f"  PostgreSQL:\n{_show_rows(pg_rows)}\n  tsgres:\n{_show_rows(ts_rows)}"
        )
        return out
    keys = order_keys(sql, pg.columns)
    if keys is None:
        for i, (a, b) in enumerate(zip(pg_rows, ts_rows, strict=True)):
            if not rows_equal(a, b, tols):
                out.append(f"row {i} (in ORDER BY order): PostgreSQL {a!r}, tsgres {b!r}")
                break
        return out
    if keys:
        for i, (a, b) in enumerate(zip(pg_rows, ts_rows, strict=True)):
            ka = tuple(a[k] for k in keys)
            kb = tuple(b[k] for k in keys)
            if not rows_equal(ka, kb, [tols[k] for k in keys]):
                out.append(f"ORDER BY keys of row {i}: PostgreSQL {ka!r}, tsgres {kb!r}")
                return out
    sa = sorted(pg_rows, key=_row_key)
    sb = sorted(ts_rows, key=_row_key)
    bad = [(a, b) for a, b in zip(sa, sb, strict=True) if not rows_equal(a, b, tols)]
    if bad:
        ca, cb = Counter(map(_row_key, sa)), Counter(map(_row_key, sb))
        only_pg = [r for r in sa if ca[_row_key(r)] > cb[_row_key(r)]]
        only_ts = [r for r in sb if cb[_row_key(r)] > ca[_row_key(r)]]
        if not only_pg and not only_ts:
            only_pg, only_ts = [bad[0][0]], [bad[0][1]]
        out.append(
            f"{len(bad)} of {len(sa)} rows differ\n  only in PostgreSQL:\n{_show_rows(only_pg)}"
            f"\n  only in tsgres:\n{_show_rows(only_ts)}"
        )
    return out
