"""InfluxDB's HTTP write API: v1 ``/write``, v2 ``/api/v2/write``, v3 ``/api/v3/write_lp``; ``/metrics``.

A request goes: query string -> :class:`WriteParams` (one shape for the three APIs) -> body read on the
event loop with a size cap -> one blocking call in the thread pool (:meth:`WriteService.ingest`:
gunzip with a cap, parse, create the database, write every batch, wait for the WAL) -> an
:class:`Outcome` -> the response in the API's own error dialect. The event loop never parses or
touches storage.

Status codes and messages follow InfluxDB 1.8 for v1 and v2 (JSON ``{"error": "..."}`` plus the
``X-Influxdb-Error`` header, cut at 1024 characters as InfluxDB does), and InfluxDB 3 for v3::

    204  everything written (only once the WAL fsync policy is met; v3 no_sync=true: before fsync)
    400  database is required / invalid precision / invalid consistency level
    400  unable to parse 'm v=': missing field value (line 3)          (no line parsed: nothing written)
    400  partial write: <reasons, one per line> dropped=N              (the good lines are written)
    404  database not found: "x"                                      (auto_create_databases off)
    404  bucket name "" is missing a slash; ...                       (v2 bucket without a database)
    413  Request Entity Too Large                                     (body or gunzipped body too big)
    415  unsupported content encoding "br"                            (InfluxDB ignores the header)
    500  retention policy not found: x

Differences from InfluxDB 1.8, on purpose: each unparsable line's message names its line number;
``dropped=`` also counts unparsable lines (InfluxDB says ``dropped=0`` for them); parse and storage
reasons are reported together (InfluxDB reports only the storage one); an unknown Content-Encoding
is refused (InfluxDB parses the compressed bytes as text); the gunzipped size is capped too.
Authentication parameters (``u``/``p``, Basic and Token headers) are accepted and not checked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from columnar.batch import WriteBatch
from columnar.errors import (
    ColumnKindConflict,
    DatabaseNotFound,
    FieldTypeConflict,
    PointsBeyondRetention,
    RetentionPolicyNotFound,
    SeriesLimitExceeded,
    StorageError,
)
from compat.influx.auth import AuthError, HttpAuth
from compat.influx.lineprotocol import LineError, parse
from compat.influx.metrics import CONTENT_TYPE, WriteMetrics, metrics_for
from tsgres.config import Config
from tsgres.http import INFLUX_VERSION

log = logging.getLogger("tsgres.influx.write")

API_V1, API_V2, API_V3 = "v1", "v2", "v3"

# query value -> the parser's precision name
V1_PRECISIONS = {
    "": "ns",
    "n": "ns",
    "ns": "ns",
    "u": "us",
    "us": "us",
    "µ": "us",
    "ms": "ms",
    "s": "s",
    "m": "m",
    "h": "h",
}
V2_PRECISIONS = {"": "ns", "ns": "ns", "us": "us", "ms": "ms", "s": "s"}
V3_PRECISIONS = {
    "": "auto",
    "auto": "auto",
    "nanosecond": "ns",
    "microsecond": "us",
    "millisecond": "ms",
    "second": "s",
    "ns": "ns",
    "us": "us",
    "ms": "ms",
    "s": "s",
}
CONSISTENCY_LEVELS = ("any", "one", "quorum", "all")

MAX_LISTED_ERRORS = 100  # bad lines named in one response; the rest are counted
MAX_ERROR_HEADER = 1024  # InfluxDB cuts X-Influxdb-Error here
_GZIP_MAGIC = b"\x1f\x8b"


# -- request parameters ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WriteParams:
    api: str  # API_V1 | API_V2 | API_V3: decides the error dialect
    database: str
    rp: str | None = None
    precision: str = "ns"  # a name the parser accepts
    sync: bool = True  # wait for the WAL policy before answering
    accept_partial: bool = True  # v3 accept_partial=false: one bad line refuses the whole body


class WriteRequestError(Exception):
    """A request answered with an error status before or instead of writing."""

    def __init__(self, status: int, message: str, *, kind: str, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind  # for the write-errors metric
        self.data = data  # v3's structured line errors


def v1_params(query: Mapping[str, str]) -> WriteParams:
    """``/write?db=&rp=&precision=&consistency=&u=&p=``"""
    database = query.get("db", "")
    if not database:
        raise WriteRequestError(400, "database is required", kind="request")
    precision = query.get("precision", "")
    if precision not in V1_PRECISIONS:
        raise WriteRequestError(
            400, f"invalid precision {_quote(precision)} (use n, u, ms, s, m or h)", kind="request"
        )
    consistency = query.get("consistency", "")
    if consistency and consistency.lower() not in CONSISTENCY_LEVELS:
        raise WriteRequestError(400, "invalid consistency level", kind="request")
    return WriteParams(API_V1, database, query.get("rp") or None, V1_PRECISIONS[precision])


def v2_params(query: Mapping[str, str]) -> WriteParams:
    """``/api/v2/write?bucket=db[/rp]&org=&precision=`` (InfluxDB 1.8's mapping of bucket to db/rp)."""
    precision = query.get("precision", "")
    if precision not in V2_PRECISIONS:
        raise WriteRequestError(
            400, f"invalid precision {_quote(precision)} (use ns, us, ms or s)", kind="request"
        )
    bucket = query.get("bucket", "")
    database, slash, rp = bucket.partition("/")
    if not database:
        message = (
            f"bucket name {_quote(bucket)} is in db/rp form but has an empty database"
            if slash
            else f'bucket name {_quote(bucket)} is missing a slash; not in "database/retention-policy" format'
        )
        raise WriteRequestError(404, message, kind="request")
    return WriteParams(API_V2, database, rp or None, V2_PRECISIONS[precision])


def v3_params(query: Mapping[str, str]) -> WriteParams:
    """``/api/v3/write_lp?db=&precision=auto&accept_partial=true&no_sync=false``"""
    database = query.get("db", "")
    if not database:
        raise WriteRequestError(400, "database is required", kind="request")
    precision = query.get("precision", "")
    if precision not in V3_PRECISIONS:
        raise WriteRequestError(
            400,
            f"invalid precision {_quote(precision)} (use auto, nanosecond, microsecond, millisecond or second)",
            kind="request",
        )
    accept_partial = _flag(query, "accept_partial", True)
    no_sync = _flag(query, "no_sync", False)
    return WriteParams(API_V3, database, None, V3_PRECISIONS[precision], not no_sync, accept_partial)


def _flag(query: Mapping[str, str], name: str, default: bool) -> bool:
    value = query.get(name, "").lower()
    if value == "":
        return default
    if value in ("true", "false"):
        return value == "true"
    raise WriteRequestError(400, f"invalid {name} {_quote(query[name])} (use true or false)", kind="request")


def _quote(text: str) -> str:
    """Go's %q for the strings we quote: a JSON string is close enough."""
    return json.dumps(text, ensure_ascii=False)


# -- the body ------------------------------------------------------------------------------------------------
def too_large() -> WriteRequestError:
    return WriteRequestError(413, "Request Entity Too Large", kind="too_large")


def content_encoding(header: str) -> str:
    """``gzip`` or ``identity``; anything else is refused with 415."""
    value = header.strip().lower()
    if value in ("", "identity"):
        return "identity"
    if value in ("gzip", "x-gzip"):
        return "gzip"
    raise WriteRequestError(
        415, f"unsupported content encoding {_quote(header.strip())} (use gzip or identity)", kind="encoding"
    )


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress a gzip body (every member), refusing output beyond ``limit`` bytes (0 = no limit).

    Output is produced at most ``limit + 1`` bytes at a time, so a small body that inflates to
    gigabytes costs at most the limit in memory before it is refused.
    """
    if not data:
        raise WriteRequestError(400, "EOF", kind="encoding")
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        if rest[:2] != _GZIP_MAGIC:
            raise WriteRequestError(400, "gzip: invalid header", kind="encoding")
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while pending and not d.eof:
                room = limit + 1 - size if limit else 0
                chunk = d.decompress(pending, room)
                size += len(chunk)
                if limit and size > limit:
                    raise too_large()
                out.append(chunk)
                pending = d.unconsumed_tail
            if not d.eof:
                tail = d.flush()
                size += len(tail)
                if limit and size > limit:
                    raise too_large()
                out.append(tail)
        except zlib.error as e:
            raise WriteRequestError(400, f"gzip: {e}", kind="encoding") from None
        if not d.eof:
            raise WriteRequestError(400, "unexpected EOF", kind="encoding")
        rest = d.unused_data
    return b"".join(out)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw request body, refused with 413 as soon as it passes ``limit`` bytes (0 = no limit)."""
    if limit and request.content_length is not None and request.content_length > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if limit and size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


# -- writing ---------------------------------------------------------------------------------------------------
@dataclass
class Drop:
    """Rows storage refused, and why."""

    kind: str  # type_conflict, series_limit, retention, column_kind, other
    reason: str  # InfluxDB's wording, without "partial write: " and " dropped=N"
    rows: int


@dataclass
class Outcome:
    lines: int = 0
    body_bytes: int = 0
    points_parsed: int = 0
    points_written: int = 0
    parse_errors: list[LineError] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    rejected: bool = False  # v3 accept_partial=false refused the body; nothing was written

    @property
    def dropped(self) -> int:
        return len(self.parse_errors) + sum(d.rows for d in self.drops)


_DROPPED_SUFFIX = re.compile(r" dropped=\d+$")


def _drops_of(errors: list[StorageError], rows_dropped: int) -> list[Drop]:
    """Turn a WriteResult's errors into drops; rows are given to the reason that dropped them."""
    drops: list[Drop] = []
    for err in errors:
        if isinstance(err, FieldTypeConflict):
            drops.append(Drop("type_conflict", str(err), 0))
        elif isinstance(err, SeriesLimitExceeded):
            drops.append(Drop("series_limit", f"max-series-per-database limit exceeded: ({err.limit})", 0))
        elif isinstance(err, PointsBeyondRetention):
            drops.append(Drop("retention", "points beyond retention policy", err.dropped))
        else:
            drops.append(Drop("other", _DROPPED_SUFFIX.sub("", str(err)).removeprefix("partial write: "), 0))
    unassigned = rows_dropped - sum(d.rows for d in drops)
    for d in drops:
        if d.kind != "retention":
            d.rows = max(unassigned, 0)
            break
    return drops


def write_batches(
    engine: Any, database: str, rp: str | None, batches: list[WriteBatch], *, sync: bool
) -> tuple[int, list[Drop]]:
    """Write every batch, then wait once for the WAL to cover them all. Returns (rows written, drops).

    A batch storage refuses as a whole (a column used as tag and field, a concurrent type change)
    becomes a drop; errors of the engine itself (closed, WAL failure) propagate.
    """
    written = 0
    drops: list[Drop] = []
    last_seq = 0
    for batch in batches:
        rows = len(batch)
        try:
            result = engine.write(database, batch, rp=rp, sync=False)
        except FieldTypeConflict as e:
            drops.append(Drop("type_conflict", str(e), rows))
            continue
        except ColumnKindConflict as e:
            drops.append(Drop("column_kind", str(e), rows))
            continue
        written += result.rows_written
        last_seq = max(last_seq, result.wal_seq)
        drops.extend(_drops_of(result.errors, result.rows_dropped))
    if sync and last_seq:
        # One wait covers every record appended above: the WAL syncs in seq order.
        engine.sync(last_seq)
    return written, drops


def type_conflicts(engine: Any, database: str, rp: str | None, batches: list[WriteBatch]) -> list[str]:
    """Fields whose type differs from the stored one: what a write of ``batches`` would drop."""
    db = engine.database(database)
    rp_name = engine.retention_policy(database, rp).name
    problems: list[str] = []
    for batch in batches:
        meta = engine.table(db.id, rp_name, batch.table)
        if meta is None:
            continue
        for name, col in batch.fields.items():
            existing = meta.column(name)
            if existing is None:
                continue
            if existing.kind != "field":
                problems.append(str(ColumnKindConflict(batch.table, name, existing.kind, "field")))
            elif existing.type is not col.type:
                problems.append(
                    str(FieldTypeConflict(batch.table, name, existing.type.influx_name, col.type.influx_name))
                )
    return problems


class WriteService:
    """The blocking half of a write: everything after the body has been read. Runs in the thread pool."""

    def __init__(self, engine: Any, config: Config, metrics: WriteMetrics) -> None:
        self.engine = engine
        self.config = config
        self.metrics = metrics
        self.auth = HttpAuth(engine) if config.http_auth_enabled else None

    def ensure_database(self, name: str) -> None:
        try:
            self.engine.database(name)
        except DatabaseNotFound:
            if not self.config.auto_create_databases:
                raise WriteRequestError(404, f"database not found: {_quote(name)}", kind="database") from None
            self.engine.create_database(name)

    def check_retention_policy(self, database: str, rp: str | None) -> None:
        try:
            self.engine.retention_policy(database, rp)
        except RetentionPolicyNotFound as e:
            raise WriteRequestError(
                500, f"retention policy not found: {e.name}", kind="retention_policy"
            ) from None

    def ingest(self, params: WriteParams, raw: bytes, encoding: str, now_ns: int) -> Outcome:
        if not self.config.auto_create_databases:
            self.ensure_database(params.database)  # 404 before anything else, as InfluxDB does
        body = gunzip(raw, self.config.max_body_bytes) if encoding == "gzip" else raw
        parsed = parse(body, precision=params.precision, now_ns=now_ns)
        out = Outcome(
            lines=parsed.points + len(parsed.errors),
            body_bytes=len(body),
            points_parsed=parsed.points,
            parse_errors=parsed.errors,
        )
        if not params.accept_partial and parsed.errors:
            out.rejected = True
            return out
        if not parsed.batches:
            return out
        self.ensure_database(params.database)
        self.check_retention_policy(params.database, params.rp)
        if not params.accept_partial:
            conflicts = type_conflicts(self.engine, params.database, params.rp, parsed.batches)
            if conflicts:
                out.drops = [Drop("type_conflict", c, 0) for c in conflicts]
                out.rejected = True
                return out
        out.points_written, out.drops = write_batches(
            self.engine, params.database, params.rp, parsed.batches, sync=params.sync
        )
        return out

    def record(self, api: str, outcome: Outcome) -> None:
        m = self.metrics
        m.body_bytes.labels(api).inc(outcome.body_bytes)
        m.lines.labels(api).inc(outcome.lines)
        m.points.labels(api).inc(outcome.points_written)
        if outcome.rejected:
            m.dropped.labels(api, "rejected").inc(outcome.points_parsed + len(outcome.parse_errors))
            return
        if outcome.parse_errors:
            m.dropped.labels(api, "parse").inc(len(outcome.parse_errors))
        for d in outcome.drops:
            m.dropped.labels(api, d.kind).inc(d.rows)


# -- responses ---------------------------------------------------------------------------------------------------
def _headers() -> dict[str, str]:
    return {"X-Influxdb-Version": INFLUX_VERSION, "X-Influxdb-Build": "OSS"}


def error_response(status: int, message: str, data: Any = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if data is not None:
        body["data"] = data
    headers = _headers()
    headers["X-Influxdb-Error"] = re.sub(r"[\x00-\x1f\x7f]", " ", message)[:MAX_ERROR_HEADER]
    headers["Content-Type"] = "application/json"  # without "; charset=utf-8", as InfluxDB sends it
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(status=status, body=data, headers=headers)


def line_reason(err: LineError) -> str:
    """The parser's InfluxDB-worded message, with the line number added at the end."""
    return f"{err.message} (line {err.line})"


def _listed(reasons: list[str], total: int) -> list[str]:
    if total > len(reasons):
        reasons = [*reasons, f"... and {total - len(reasons)} more"]
    return reasons


def v1_response(out: Outcome) -> web.Response:
    errors = out.parse_errors
    parse_reasons = _listed([line_reason(e) for e in errors[:MAX_LISTED_ERRORS]], len(errors))
    if errors and not out.points_parsed:
        return error_response(400, "\n".join(parse_reasons))
    if not errors and not out.drops:
        return web.Response(status=204, headers=_headers())
    reasons = "\n".join(parse_reasons + [d.reason for d in out.drops])
    return error_response(400, f"partial write: {reasons} dropped={out.dropped}")


def _v3_line(err: LineError) -> dict[str, Any]:
    # v3 gives the line apart, so its message does not repeat it
    message = err.message.removeprefix(f"unable to parse '{err.excerpt}': ")
    return {"original_line": err.excerpt, "line_number": err.line, "error_message": message}


def _v3_drop(drop: Drop) -> dict[str, Any]:
    # Storage reports per field and table, not per line: no line to name.
    return {"original_line": None, "line_number": None, "error_message": drop.reason}


def v3_response(out: Outcome) -> web.Response:
    items = [_v3_line(e) for e in out.parse_errors] + [_v3_drop(d) for d in out.drops]
    if out.rejected:
        return error_response(400, "parsing failed for write_lp endpoint", items[0])
    if not items:
        return web.Response(status=204, headers=_headers())
    return error_response(400, "partial write of line protocol occurred", items[:MAX_LISTED_ERRORS])


# -- handlers ----------------------------------------------------------------------------------------------------
WRITE_SERVICE = web.AppKey("influx_write_service", WriteService)


async def _write(
    request: web.Request, api: str, make_params: Callable[[Mapping[str, str]], WriteParams]
) -> web.Response:
    service = request.app[WRITE_SERVICE]
    metrics = service.metrics
    now_ns = time.time_ns()
    started = time.perf_counter()
    try:
        auth = service.auth
        if auth is not None:  # (InfluxDB: credentials before anything else, the privilege after db=)
            user = await auth.caller(request.query, request.headers.get("Authorization", ""))
        params = make_params(request.query)
        if auth is not None:
            auth.authorize_write(user, params.database)
        encoding = content_encoding(request.headers.get("Content-Encoding", ""))
        raw = await read_body(request, service.config.max_body_bytes)
        metrics.bytes.labels(api).inc(len(raw))
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(None, service.ingest, params, raw, encoding, now_ns)
        service.record(api, outcome)
        response = v3_response(outcome) if api == API_V3 else v1_response(outcome)
        if response.status >= 400:
            kind = "rejected" if outcome.rejected else "partial"
            metrics.errors.labels(api, kind).inc()
    except WriteRequestError as e:
        metrics.errors.labels(api, e.kind).inc()
        response = error_response(e.status, e.message, e.data)
    except AuthError as e:
        metrics.errors.labels(api, "auth").inc()
        response = error_response(e.status, e.message)
        if e.status == 401:  # (as InfluxDB answers it: a challenge, no X-Influxdb-Error)
            response.headers["Www-Authenticate"] = 'Basic realm="InfluxDB"'
            del response.headers["X-Influxdb-Error"]
    except StorageError as e:
        log.error("write to %s failed: %s", request.query.get("db") or request.query.get("bucket"), e)
        metrics.errors.labels(api, "storage").inc()
        response = error_response(500, str(e))
    except Exception as e:  # a bug: answer in the API's format and keep the traceback in the log
        log.exception("write to %s failed", request.query.get("db") or request.query.get("bucket"))
        metrics.errors.labels(api, "internal").inc()
        response = error_response(500, f"internal error: {type(e).__name__}: {e}")
    metrics.requests.labels(api, str(response.status)).inc()
    metrics.duration.labels(api).observe(time.perf_counter() - started)
    return response


async def write_v1(request: web.Request) -> web.Response:
    return await _write(request, API_V1, v1_params)


async def write_v2(request: web.Request) -> web.Response:
    return await _write(request, API_V2, v2_params)


async def write_v3(request: web.Request) -> web.Response:
    return await _write(request, API_V3, v3_params)


async def write_options(request: web.Request) -> web.Response:
    """OPTIONS /write: the CORS pre-flight answer InfluxDB gives."""
    return web.Response(status=204, headers=_headers())


async def serve_metrics(request: web.Request) -> web.Response:
    body = request.app[WRITE_SERVICE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def register(app: web.Application, engine: Any, config: Config) -> None:
    """The registrar for tsgres.http.REGISTRARS: the write endpoints and /metrics."""
    app[WRITE_SERVICE] = WriteService(engine, config, metrics_for(engine))
    app.router.add_post("/write", write_v1)
    app.router.add_route("OPTIONS", "/write", write_options)
    app.router.add_post("/api/v2/write", write_v2)
    app.router.add_post("/api/v3/write_lp", write_v3)
    app.router.add_get("/metrics", serve_metrics)
