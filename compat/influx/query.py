"""InfluxDB 1.x's ``/query`` endpoint: InfluxQL over HTTP, answered in InfluxDB's JSON or CSV.

    GET|POST /query?q=<statements>&db=&rp=&epoch=&chunked=&chunk_size=&pretty=&params=

- ``q`` may hold several statements separated by ``;`` (also in a POST form body). GET runs
  everything but, as InfluxDB 1.x, adds a deprecation message to statements that write.
- The answer is ``{"results":[{"statement_id":0,"series":[{"name","tags","columns","values"}]}]}``
  with Go's JSON conventions (keys left out when empty, floats in shortest form, ``<>&`` escaped);
  a statement's error goes inside its result with HTTP 200, and the statements after it are
  answered "not executed" (under the failed statement's id, as InfluxDB 1.6 does). A query that
  does not parse is HTTP 400 ``{"error":"error parsing query: ..."}``.
- ``epoch=ns|u|µ|ms|s|m|h`` gives times as integers in that unit (else RFC3339, in the query's
  tz()); ``pretty=true`` indents; ``chunked=true`` streams one JSON object per line, one series piece
  of at most ``chunk_size`` (default 10000) rows each, with ``partial`` set while more follows.
- ``Accept: application/csv`` (or text/csv) gives CSV: ``name,tags,<columns>`` headers, epoch
  nanosecond times, a blank line between statements; errors are left out, as InfluxDB does.
- ``params`` is a JSON object whose values replace ``$name`` bind parameters.

Execution runs in the thread pool, one statement at a time, so a chunked answer starts streaming
before the later statements have run.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
from aiohttp import web

from sql.influxql.execute import StatementResult, iter_results
from sql.influxql.parser import ParseError, parse_query
from sql.influxql.select import Series
from sql.influxql.values import epoch_value, format_float, format_time
from tsgres.config import Config
from tsgres.http import INFLUX_VERSION

log = logging.getLogger("tsgres.influx.query")

DEFAULT_CHUNK_SIZE = 10000
EPOCHS = ("n", "ns", "u", "ms", "s", "m", "h")  # InfluxDB 1.x; anything else gives nanoseconds


def _headers() -> dict[str, str]:
    return {"X-Influxdb-Version": INFLUX_VERSION, "X-Influxdb-Build": "OSS"}


# -- JSON as Go writes it ----------------------------------------------------------------------------------------
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


def _str(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return _HTML_RE.sub(lambda m: _HTML[m.group()], out) if _HTML_RE.search(out) else out


class UnsupportedValue(ValueError):
    """A value Go's JSON encoder refuses (an infinity): InfluxDB then answers with the error text."""

    def body(self) -> bytes:
        return (
            "json: error calling MarshalJSON for type httpd.Response: json: error calling MarshalJSON "
            f"for type *query.Result: json: unsupported value: {self}\n"
        ).encode()


def _value(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            raise UnsupportedValue("+Inf" if v > 0 else "-Inf")
        return format_float(v)  # NaN -> null
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, list):
        return "[" + ",".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{_str(k)}:{_value(x)}" for k, x in v.items()) + "}"
    return _str(str(v))


class Encoder:
    """Series and results as InfluxDB 1.x's JSON (times by ``epoch``)."""

    def __init__(self, epoch: str | None, pretty: bool) -> None:
        self.epoch = epoch
        self.pretty = pretty

    def rows(self, s: Series, rows: list[list[Any]]) -> list[list[Any]]:
        ti = s.time_index
        if ti is None:
            return rows
        out = []
        for r in rows:
            t = r[ti]
            r = list(r)
            if isinstance(t, int):
                r[ti] = epoch_value(t, self.epoch) if self.epoch else format_time(t, s.tz)
            out.append(r)
        return out

    def series_obj(self, s: Series, rows: list[list[Any]], partial: bool) -> dict[str, Any]:
        o: dict[str, Any] = {}
        if s.name:
            o["name"] = s.name
        if s.tags:
            o["tags"] = dict(sorted(s.tags.items()))
        if s.columns:
            o["columns"] = s.columns
        if rows:
            o["values"] = self.rows(s, rows)
        if partial:
            o["partial"] = True
        return o

    def result_obj(
        self, r: StatementResult, series: list[dict[str, Any]], partial: bool = False
    ) -> dict[str, Any]:
        o: dict[str, Any] = {"statement_id": r.statement_id}
        if series:
            o["series"] = series
        if r.messages:
            o["messages"] = r.messages
        if partial:
            o["partial"] = True
        if r.error:
            o["error"] = r.error
        return o

    def dumps(self, o: Any) -> bytes:
        if self.pretty:
            return _pretty(o, 0).encode()
        return _value(o).encode()


def _pretty(v: Any, level: int) -> str:
    """Go's json.MarshalIndent(v, "", "    ")."""
    pad, inner = "    " * level, "    " * (level + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{inner}{_str(k)}: {_pretty(x, level + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(inner + _pretty(x, level + 1) for x in v) + "\n" + pad + "]"
    return _value(v)


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "+Inf" if v > 0 else "-Inf"
        return np.format_float_positional(v, trim="-")
    return str(v)


_TAG_ESC = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\="})


class CsvWriter:
    """InfluxDB 1.x's CSV: a header per statement (and when the columns change), epoch times."""

    def __init__(self, epoch: str | None) -> None:
        self.epoch = epoch
        self.statement_id = -1
        self.started = False

    def write(self, r: StatementResult) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if not r.series:
            return b""
        if r.statement_id != self.statement_id:
            if self.started:
                buf.write("\n")
            self.started = True
            self.statement_id = r.statement_id
            w.writerow(["name", "tags", *r.series[0].columns])
        prev: list[str] | None = None
        for s in r.series:
            if prev is not None and prev != s.columns:
                buf.write("\n")
                w.writerow(["name", "tags", *s.columns])
            prev = s.columns
            tags = ",".join(
                f"{k.translate(_TAG_ESC)}={v.translate(_TAG_ESC)}"
                for k, v in sorted((s.tags or {}).items())
                if v
            )
            for row in s.values:
                out = []
                for i, v in enumerate(row):
                    if i == s.time_index and isinstance(v, int):
                        v = epoch_value(v, self.epoch) if self.epoch else v
                    out.append(_csv_value(v))
                w.writerow([s.name, tags, *out])
        return buf.getvalue().encode()


# -- the request ------------------------------------------------------------------------------------------------
class QueryService:
    def __init__(self, engine: Any, config: Config) -> None:
        from sql.engine import SqlEngine

        self.engine = engine
        self.config = config
        self.sql_engine = SqlEngine(engine)

    def close(self) -> None:
        self.sql_engine.close()


QUERY_SERVICE = web.AppKey("influx_query_service", QueryService)


def _flag(v: str) -> bool:
    return v.lower() == "true"


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, str):
                    params.setdefault(k, v)
        elif not ctype:
            body = await request.text()
            for k, v in parse_qsl(body, keep_blank_values=True):
                params.setdefault(k, v)
    return params


def _error(status: int, message: str, csv_out: bool, pretty: bool = False) -> web.Response:
    headers = _headers()
    headers["X-Influxdb-Error"] = message[:1024]
    if csv_out:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([["error"], [message]])
        data = buf.getvalue().encode()
        return web.Response(status=status, body=data, headers={**headers, "Content-Type": "text/csv"})
    body = (_pretty({"error": message}, 0) if pretty else '{"error":' + _str(message) + "}") + "\n"
    return web.Response(
        status=status, body=body.encode(), headers={**headers, "Content-Type": "application/json"}
    )


async def handle_query(request: web.Request) -> web.StreamResponse:
    service = request.app[QUERY_SERVICE]
    accept = request.headers.get("Accept", "")
    csv_out = "application/csv" in accept or "text/csv" in accept
    params = await _params(request)
    q = params.get("q", "")
    if not q.strip():
        return _error(400, 'missing required parameter "q"', csv_out)
    epoch = params.get("epoch") or None
    if epoch is not None and epoch not in EPOCHS:
        epoch = "ns"  # InfluxDB 1.x: any other value gives nanoseconds
    pretty = _flag(params.get("pretty", ""))
    chunked = _flag(params.get("chunked", ""))
    try:
        chunk_size = int(params.get("chunk_size") or 0) or DEFAULT_CHUNK_SIZE
    except ValueError:
        chunk_size = DEFAULT_CHUNK_SIZE
    bind: dict[str, Any] = {}
    if params.get("params"):
        try:
            bind = json.loads(params["params"])
        except ValueError as e:
            return _error(400, f"error parsing query parameters: {e}", csv_out)
        if not isinstance(bind, dict):
            return _error(400, "error parsing query parameters: not an object", csv_out)
    try:
        statements = parse_query(q, bind)
    except ParseError as e:
        return _error(400, f"error parsing query: {e}", csv_out, pretty)
    loop = asyncio.get_running_loop()
    results = iter_results(
        service.engine,
        service.sql_engine,
        statements,
        q,
        database=params.get("db", ""),
        rp=params.get("rp", ""),
        read_only=request.method == "GET",
    )

    def next_result() -> StatementResult | None:
        try:
            return next(results)
        except StopIteration:
            return None

    encoder = Encoder(epoch, pretty)
    headers = _headers()
    if csv_out:
        headers["Content-Type"] = "text/csv"
    else:
        headers["Content-Type"] = "application/json"
    if not chunked:
        collected: list[StatementResult] = []
        while True:
            r = await loop.run_in_executor(None, _safe_next, next_result)
            if r is None:
                break
            collected.append(r)
        if csv_out:
            cw = CsvWriter(epoch)
            body = await loop.run_in_executor(None, lambda: b"".join(cw.write(r) for r in collected))
            return web.Response(status=200, body=body, headers=headers)
        body = await loop.run_in_executor(None, _encode_all, encoder, _merge(collected))
        return web.Response(status=200, body=body, headers=headers)
    resp = web.StreamResponse(status=200, headers=headers)
    await resp.prepare(request)
    cw = CsvWriter(epoch)
    while True:
        r = await loop.run_in_executor(None, _safe_next, next_result)
        if r is None:
            break
        if csv_out:
            await resp.write(await loop.run_in_executor(None, cw.write, r))
            continue
        pieces = await loop.run_in_executor(None, _encode_chunks, encoder, r, chunk_size)
        for piece in pieces:
            await resp.write(piece)
    await resp.write_eof()
    return resp


def _encode_all(encoder: Encoder, results: list[StatementResult]) -> bytes:
    """The whole answer's JSON (in the thread pool: a large result must not stall the event loop)."""
    obj = {
        "results": [
            encoder.result_obj(r, [encoder.series_obj(s, s.values, s.partial) for s in r.series])
            for r in results
        ]
    }
    try:
        return encoder.dumps(obj) + b"\n"
    except UnsupportedValue as e:
        return e.body()


def _encode_chunks(encoder: Encoder, r: StatementResult, size: int) -> list[bytes]:
    out = []
    for p in _chunks(encoder, r, size):
        try:
            out.append(encoder.dumps(p) + b"\n")
        except UnsupportedValue as e:
            out.append(e.body())
    return out


def _safe_next(fn: Any) -> StatementResult | None:
    try:
        return fn()
    except Exception as e:  # a bug: report it in the statement's result rather than drop the connection
        log.exception("InfluxQL statement failed")
        return StatementResult(0, error=f"internal error: {type(e).__name__}: {e}")


def _merge(results: list[StatementResult]) -> list[StatementResult]:
    """InfluxDB 1.x merges results with the same statement id (a later one replaces the error)."""
    out: list[StatementResult] = []
    for r in results:
        if out and out[-1].statement_id == r.statement_id:
            prev = out[-1]
            prev.series.extend(r.series)
            prev.messages.extend(r.messages)
            prev.error = r.error or prev.error
            continue
        out.append(r)
    return out


def _chunks(encoder: Encoder, r: StatementResult, size: int) -> Iterator[dict[str, Any]]:
    pieces: list[tuple[Series, list[list[Any]], bool]] = []
    for s in r.series:
        rows = s.values
        if not rows:
            pieces.append((s, rows, False))
            continue
        for i in range(0, len(rows), size):
            pieces.append((s, rows[i : i + size], i + size < len(rows)))
    if not pieces:
        yield {"results": [encoder.result_obj(r, [])]}
        return
    for j, (s, rows, partial) in enumerate(pieces):
        last = j == len(pieces) - 1
        res = StatementResult(
            r.statement_id, messages=r.messages if j == 0 else [], error=r.error if last else None
        )
        yield {"results": [encoder.result_obj(res, [encoder.series_obj(s, rows, partial)], partial=not last)]}


def register(app: web.Application, engine: Any, config: Config) -> None:
    """The registrar for tsgres.http.REGISTRARS: GET and POST /query."""
    service = QueryService(engine, config)
    app[QUERY_SERVICE] = service

    async def close(_app: web.Application) -> None:
        service.close()

    app.on_cleanup.append(close)
    app.router.add_get("/query", handle_query)
    app.router.add_post("/query", handle_query)
