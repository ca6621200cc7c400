"""Rewrite fixtures: ``tests/fixtures/rewrite/<rule>.sql`` read into :class:`Fixture` records.

A file is a sequence of blocks separated by blank lines. Comment lines (``-- ...``) before the SQL
hold the block's title and notes; the SQL runs to the first line ending in ``;``; after it come the
expectations, each introduced by a marker comment::

    -- title: locf carries the last value forward
    -- source: TimescaleDB docs, time_bucket_gapfill (locf example)
    SELECT time_bucket_gapfill(10, t, 0, 30) AS b, locf(min(v)) FROM m GROUP BY 1 ORDER BY 1;
    -- expect sql:
    -- WITH __gf_data AS MATERIALIZED (...) SELECT ...
    -- expect columns: b, locf
    -- expect rows:
    -- 0 | NULL
    -- 10 | 9
    -- expect error: 22023 could not infer start

``expect sql`` is what the file's rule alone (``sql.rewrite.<rule>.<rule>``) makes of the input,
compared after a DuckDB-dialect round trip through sqlglot (so line breaks do not matter).
``expect rows`` / ``columns`` / ``error`` run the input through a whole SqlSession; rows are written
as :func:`text` renders values (NULL, ``2022-01-01 00:00:00+00``, repr of floats, ``{1,2}`` arrays),
columns separated by `` | ``. A block whose title is ``setup`` holds statements run once, in order,
before the file's row fixtures (a fresh engine per file).
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rewrite"
MARKERS = ("expect sql:", "expect rows:", "expect columns:", "expect error:")


@dataclass
class Fixture:
    rule: str
    title: str
    sql: str
    line: int
    expect_sql: str | None = None
    expect_rows: list[str] | None = None
    expect_columns: list[str] | None = None
    expect_error: tuple[str, str] | None = None  # (SQLSTATE, message substring)
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.line}:{self.title}"


@dataclass
class FixtureFile:
    rule: str
    setup: list[str]
    fixtures: list[Fixture]


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if not current:
                start = i
            current.append(line.rstrip())
        elif current:
            out.append((start, current))
            current = []
    if current:
        out.append((start, current))
    return out


def _statements(lines: list[str]) -> list[str]:
    out, cur = [], []
    for line in lines:
        cur.append(line)
        if line.endswith(";"):
            out.append("\n".join(cur).rstrip(";").strip())
            cur = []
    if cur:
        out.append("\n".join(cur).strip())
    return out


def _expect(fx: Fixture, marker: str | None, body: list[str]) -> None:
    if marker == "expect sql:":
        fx.expect_sql = " ".join(body)
    elif marker == "expect rows:":
        fx.expect_rows = list(body)
    elif marker == "expect columns:":
        fx.expect_columns = [c.strip() for c in " ".join(body).split(",") if c.strip()]
    elif marker == "expect error:":
        code, _, msg = " ".join(body).strip().partition(" ")
        fx.expect_error = (code, msg.strip())


def load(rule: str) -> FixtureFile:
    path = FIXTURES / f"{rule}.sql"
    setup: list[str] = []
    fixtures: list[Fixture] = []
    for start, lines in _blocks(path.read_text()):
        comments = [ln[2:].strip() for ln in lines if ln.startswith("--")]
        title = next((c[len("title:") :].strip() for c in comments if c.startswith("title:")), "")
        code_start = next(i for i, ln in enumerate(lines + ["x"]) if not ln.startswith("--"))
        if title == "setup":
            setup.extend(_statements([ln for ln in lines[code_start:] if not ln.startswith("--")]))
            continue
        if code_start >= len(lines):
            continue  # a comment-only block: file notes
        sql_lines: list[str] = []
        i = code_start
        while i < len(lines):
            sql_lines.append(lines[i])
            i += 1
            if lines[i - 1].endswith(";"):
                break
        fx = Fixture(rule, title or f"line {start}", "\n".join(sql_lines).rstrip(";").strip(), start)
        fx.notes = [c for c in comments if not c.startswith("title:")]
        marker: str | None = None
        body: list[str] = []
        for ln in lines[i:]:
            text = ln[2:].strip() if ln.startswith("--") else ln.strip()
            found = next((m for m in MARKERS if text.startswith(m)), None)
            if found is not None:
                _expect(fx, marker, body)
                marker, body = found, []
                rest = text[len(found) :].strip()
                if rest:
                    body.append(rest)
            elif marker is not None:
                body.append(text)
        _expect(fx, marker, body)
        fixtures.append(fx)
    return FixtureFile(rule, setup, fixtures)


def normalise_sql(sql: str) -> str:
    """One spelling of a DuckDB statement: parsed and generated again by sqlglot."""
    return sqlglot.parse_one(sql, read="duckdb").sql("duckdb")


def text(v: object) -> str:
    """A result value as the fixtures write it (close to PostgreSQL's text output, UTC)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, dt.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            s += f".{v.microsecond:06d}".rstrip("0")
        if v.tzinfo is not None:
            off = v.utcoffset() or dt.timedelta(0)
            hours = int(off.total_seconds()) // 3600
            s += f"{hours:+03d}"
        return s
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, list | tuple):
        return "{" + ",".join(text(x) for x in v) + "}"
    return str(v)
