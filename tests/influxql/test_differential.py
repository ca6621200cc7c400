"""InfluxQL differential tests: every corpus query against InfluxDB 1.x and tsgres, same answer.

The corpus (tests/influxql/corpus/*.iql) is plain text, one query per line::

    # a comment
    == group name                      names the following queries in test ids
    @db db1                            the db= parameter from here on (``@db -`` for none)
    SELECT mean(usage_user) FROM cpu   a query (may hold several statements)
    {opt; opt=value} SELECT ...        options for one query (below)
    >> [{opts}] sequence name          the following queries run in order as one test ...
    <<                                 ... up to here (management statements that change state)

Options: ``unordered_series`` / ``unordered_rows`` (InfluxDB does not define the order), ``epoch=ms``,
``pretty``, ``chunked``, ``chunk_size=N``, ``csv`` (Accept: application/csv), ``post``,
``params=<json>``, ``no_db`` and ``xfail=<reason>`` (a known, named gap: strict, so it must fail).

Both servers get the same data (tests/influxql/dataset.py). Responses must agree in status and body:
JSON compared structurally with floats equal to 1e-9 relative, CSV and chunked bodies line by line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.influxql.conftest import Peers, request

CORPUS = Path(__file__).parent / "corpus"
REL_TOL = 1e-9


@dataclass
class Case:
    id: str
    queries: list[str]
    db: str
    opts: dict[str, str] = field(default_factory=dict)


def _split_opts(line: str) -> tuple[dict[str, str], str]:
    if not line.startswith("{"):
        return {}, line
    depth = 0
    for i, ch in enumerate(line):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            body, rest = line[1:i], line[i + 1 :].strip()
            break
    else:
        raise ValueError(f"unclosed options: {line}")
    opts: dict[str, str] = {}
    for part in body.split(";"):
        part = part.strip()
        if not part:
            continue
        k, _, v = part.partition("=")
        opts[k.strip()] = v.strip()
    return opts, rest


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CORPUS.glob("*.iql")):
        group = path.stem
        db = "db1"
        seq: Case | None = None
        n = 0
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("== "):
                group = f"{path.stem}:{line[3:].strip()}"
                n = 0
                continue
            if line.startswith("@db "):
                db = line[4:].strip()
                db = "" if db == "-" else db
                continue
            if line.startswith(">> "):
                sopts, name = _split_opts(line[3:].strip())
                seq = Case(f"{path.stem}:{name}", [], db, sopts)
                continue
            if line == "<<":
                assert seq is not None
                cases.append(seq)
                seq = None
                continue
            opts, query = _split_opts(line)
            if seq is not None:
                seq.queries.append(line)
                continue
            n += 1
            cases.append(Case(f"{group}#{n}", [query], db, opts))
    return cases


CASES = load_cases()


def _ask(base: str, query: str, db: str, opts: dict[str, str]) -> tuple[int, Any]:
    params: dict[str, str] = {"q": query}
    db = opts.get("db", db)
    if db and "no_db" not in opts:
        params["db"] = db
    for k in ("epoch", "chunk_size", "params", "rp"):
        if k in opts:
            params[k] = opts[k]
    if "chunked" in opts:
        params["chunked"] = "true"
    if "pretty" in opts:
        params["pretty"] = "true"
    headers = {"Accept": "application/csv"} if "csv" in opts else {}
    method = "POST" if "post" in opts else "GET"
    r = request(base, "/query", params, method=method, headers=headers)
    text = r.body.decode()
    if "csv" in opts or "pretty" in opts:
        return r.status, text
    if "chunked" in opts:
        lines = []
        for x in text.splitlines():
            if x.strip():
                try:
                    lines.append(json.loads(x))
                except ValueError:
                    lines.append(x)  # InfluxDB's error text in place of a chunk
        return r.status, lines
    try:
        return r.status, json.loads(text)
    except ValueError:
        return r.status, text


def _sort_key(x: Any) -> str:
    return json.dumps(x, sort_keys=True, default=str)


def _sort_ties(rows: list[Any]) -> list[Any]:
    """Rows of one time in a stable order: InfluxDB merges series without defining which comes first."""
    out: list[Any] = []
    i = 0
    while i < len(rows):
        j = i + 1
        while j < len(rows) and isinstance(rows[j], list) and rows[j][:1] == rows[i][:1]:
            j += 1
        out.extend(sorted(rows[i:j], key=_sort_key) if j - i > 1 else rows[i:j])
        i = j
    return out


def _normalize(obj: Any, opts: dict[str, str]) -> Any:
    if isinstance(obj, dict):
        out = {k: _normalize(v, opts) for k, v in obj.items()}
        if "series" in out and "unordered_series" in opts:
            out["series"] = sorted(out["series"], key=lambda s: _sort_key([s.get("name"), s.get("tags")]))
        if "values" in out and "unordered_rows" in opts:
            out["values"] = sorted(out["values"], key=_sort_key)
        elif "values" in out and "columns" in out and out["columns"][:1] != ["key"]:
            out["values"] = _sort_ties(out["values"])
        return out
    if isinstance(obj, list):
        return [_normalize(v, opts) for v in obj]
    return obj


def diff(a: Any, b: Any, path: str = "$") -> list[str]:
    """Differences between InfluxDB's answer ``a`` and ours ``b``; floats equal to REL_TOL."""
    if isinstance(a, bool) or isinstance(b, bool):
        return [] if a is b or a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, int | float) and isinstance(b, int | float):
        if a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12):
            return []
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: missing in InfluxDB, ours {str(b[k])[:200]}")
            elif k not in b:
                out.append(f"{path}.{k}: missing in ours, InfluxDB {str(a[k])[:200]}")
            else:
                out.extend(diff(a[k], b[k], f"{path}.{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}: InfluxDB {str(a)[:300]} ours {str(b)[:300]}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out.extend(diff(x, y, f"{path}[{i}]"))
        return out
    return [] if a == b else [f"{path}: {str(a)[:300]!r} != {str(b)[:300]!r}"]


def _csv_cells(text: str) -> list[list[Any]]:
    def cell(x: str) -> Any:
        try:
            return float(x) if re.fullmatch(r"-?[0-9.]+(e[-+]?[0-9]+)?", x) else x
        except ValueError:
            return x

    return [[cell(x) for x in row] for row in csv.reader(io.StringIO(text))]


def compare(peers: Peers, query: str, db: str, opts: dict[str, str]) -> list[str]:
    sa, ba = _ask(peers.influx, query, db, opts)
    sb, bb = _ask(peers.tsgres, query, db, opts)
    problems = [] if sa == sb else [f"status {sa} != {sb}"]
    if isinstance(ba, str) and isinstance(bb, str):
        ba = re.sub(r"\r\n", "\n", ba)
        bb = re.sub(r"\r\n", "\n", bb)
        if "csv" in opts:  # cell by cell, numbers to the same tolerance as JSON
            ba, bb = _csv_cells(ba), _csv_cells(bb)
    problems += diff(_normalize(ba, opts), _normalize(bb, opts))
    return problems


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id, marks=pytest.mark.xfail(reason=c.opts["xfail"], strict=True))
        if "xfail" in c.opts
        else pytest.param(c, id=c.id)
        for c in CASES
    ],
)
def test_query(peers: Peers, case: Case) -> None:
    problems: list[str] = []
    for line in case.queries:
        opts, query = _split_opts(line) if len(case.queries) > 1 else (case.opts, line)
        for p in compare(peers, query, case.db, opts):
            problems.append(f"{query}\n    {p}")
    assert not problems, "\n".join(problems[:20])


def test_corpus_size() -> None:
    """The issue asks for at least 300 queries."""
    assert sum(len(c.queries) for c in CASES) >= 300
