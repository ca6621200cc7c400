"""A lean HTTP/1.1 front for ``/query``: the listener's protocol, handing other requests to aiohttp.

aiohttp's request machinery (its request and response objects, routing, a task per connection,
header multidicts) costs ~70 us of event-loop CPU per request on top of the socket calls, while a
small InfluxQL query costs a few hundred; dashboards and benchmarks send such queries back to back
over keep-alive connections. So the HTTP listener's protocol is :class:`QueryFront`: it answers
``GET /query`` and ``POST /query`` (a form or query-string body of known length) itself, with the
same code the aiohttp handler runs (compat/influx/query.py: begin_query, QueryJob), and on the first
request it does not answer (any other path or method, a chunked answer, a request body sent chunked
or compressed, ``Expect``, ``Upgrade``, anything it does not parse) it hands the connection to
aiohttp for good: aiohttp's protocol takes the transport and the bytes not yet answered. Requests
are answered in order; one that runs in the thread pool holds the ones behind it, and so does a full
write buffer (a client that sends queries without reading their answers).

After each answer it calls the ``answered`` hook it was given, if any: the server uses it to keep
the loop polling, not sleeping, for a short while (tsgres/busypoll.py).

What it writes: ``HTTP/1.1 <status>``, the answer's headers, ``Date``, ``Content-Length``; for an
HTTP/1.0 request without ``Connection: keep-alive`` or a request with ``Connection: close``, also
``Connection: close``, and the connection is closed once the answer is written (as aiohttp does).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from yarl import URL

from compat.influx.auth import UNVERIFIED, AuthError, authorization_header
from compat.influx.query import (
    QUERY_SERVICE,
    Answer,
    QueryService,
    _error,
    _flag,
    auth_error,
    begin_authorized,
    begin_query,
)

try:  # the parser of aiohttp's request.query (public in newer yarl), without a URL and a MultiDict (~2 us, not ~8)
    from yarl import query_to_pairs as _query_pairs
except ImportError:  # pragma: no cover (an older yarl: its URL's query, as aiohttp reads it)

    def _query_pairs(query: str) -> list[tuple[str, str]]:  # type: ignore[misc]
        return list(URL.build(path="/query", query_string=query, encoded=True).query.items())


log = logging.getLogger("tsgres.influx.front")

MAX_HEAD = 65536  # a longer request head goes to aiohttp (which refuses it)
MAX_BODY = 1 << 20  # form bodies up to this size are read here; larger ones go to aiohttp
PAUSE_AT = 4 << 20  # buffered bytes past which reading pauses (more than a whole request here)
_FORM = "application/x-www-form-urlencoded"
_REASONS = {s.value: s.phrase for s in HTTPStatus}


_NOBODY = object()  # (authentication off: no caller to authorize)


class _Handoff(Exception):
    """The request is aiohttp's to answer."""


class _Request:
    __slots__ = ("accept", "body", "ctype", "http10", "keep_alive", "method", "target")

    def __init__(
        self, method: str, target: str, http10: bool, keep_alive: bool, accept: str, ctype: str, body: bytes
    ) -> None:
        self.method = method
        self.target = target
        self.http10 = http10
        self.keep_alive = keep_alive
        self.accept = accept
        self.ctype = ctype
        self.body = body


def parse_request(buf: bytearray) -> tuple[_Request, int] | None:
    """The first request in ``buf`` and its length in bytes; None while it is incomplete. Raises
    _Handoff for a request this front does not answer."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            raise _Handoff
        return None
    if end > MAX_HEAD:
        raise _Handoff
    try:
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    except UnicodeDecodeError:  # (latin-1 decodes every byte; kept for clarity)
        raise _Handoff from None
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _Handoff
    method, target, version = parts
    if method not in ("GET", "POST") or version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _Handoff
    path, _, _query = target.partition("?")
    if path != "/query":
        raise _Handoff
    length = 0
    accept = ctype = connection = ""
    seen_length = False
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or name[0] in " \t":
            raise _Handoff  # obsolete line folding, a malformed line: aiohttp's parser decides
        name = name.lower()
        value = value.strip(" \t")
        if name == "content-length":
            if seen_length or not value.isdigit():
                raise _Handoff
            seen_length = True
            length = int(value)
        elif name == "accept":
            accept = value
        elif name == "content-type":
            ctype = value
        elif name == "connection":
            connection = value.lower()
        elif name in ("transfer-encoding", "content-encoding", "expect", "upgrade"):
            raise _Handoff
    if length > MAX_BODY:
        raise _Handoff
    total = end + 4 + length
    if len(buf) < total:
        return None
    tokens = {t.strip() for t in connection.split(",")}
    http10 = version == "HTTP/1.0"
    keep_alive = "keep-alive" in tokens if http10 else "close" not in tokens
    return _Request(method, target, http10, keep_alive, accept, ctype, bytes(buf[end + 4 : total])), total


def request_params(req: _Request) -> dict[str, str]:
    """The query string's parameters, then a POST body's (a form, or a query string without a content
    type, as aiohttp's handler reads them); the first of a repeated name counts."""
    params: dict[str, str] = {}
    _, _, query = req.target.partition("?")
    if query:  # decoded as aiohttp's request.query decodes it (yarl's C unquoter: ~1 us, not ~8)
        for k, v in _query_pairs(query):
            params.setdefault(k, v)
    if req.method == "POST" and req.body:
        ctype = req.ctype.lower()
        if ctype.startswith(_FORM) or not ctype:
            if ctype and "charset" in ctype and "utf-8" not in ctype:
                raise _Handoff  # another charset: aiohttp decodes it
            text = req.body.decode("utf-8", "replace")
            for k, v in parse_qsl(text.rstrip() if ctype else text, keep_blank_values=True):
                params.setdefault(k, v)
        elif ctype.startswith("multipart/"):
            raise _Handoff
    return params


def _query_params(req: _Request) -> dict[str, str]:
    """The query string's parameters only: where InfluxDB reads ``u`` and ``p`` from."""
    _, _, query = req.target.partition("?")
    if not query:
        return {}
    params: dict[str, str] = {}
    for k, v in _query_pairs(query):
        params.setdefault(k, v)
    return params


_date_text = ("", -1)


def _date() -> str:
    global _date_text
    now = int(time.time())
    if _date_text[1] != now:
        _date_text = (email.utils.formatdate(now, usegmt=True), now)
    return _date_text[0]


def response_bytes(answer: Answer, keep_alive: bool, http10: bool) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, '')}"]
    for k, v in answer.headers.items():
        lines.append(f"{k}: {v}")
    lines.append(f"Date: {_date()}")
    lines.append(f"Content-Length: {len(answer.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    elif http10:
        lines.append("Connection: keep-alive")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1") + answer.body


class QueryFront(asyncio.Protocol):
    """One connection of the HTTP listener (see the module's docstring)."""

    def __init__(self, front: Front) -> None:
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.busy: asyncio.Task[None] | None = None  # a request running in the thread pool
        self.closing = False
        self.paused = False  # reading paused: too many bytes wait behind a running request
        self.blocked = False  # the transport's write buffer is full: no answer until it drains

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.front.connections.add(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.front.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._process()

    def eof_received(self) -> bool | None:
        return None  # close the transport (a half-closed client gets no more answers)

    def pause_writing(self) -> None:
        self.blocked = True

    def resume_writing(self) -> None:
        self.blocked = False
        self._process()

    def close_when_idle(self) -> None:
        self.closing = True
        if self.busy is None and self.transport is not None:
            self.transport.close()

    def _process(self) -> None:
        """Answer the whole requests buffered, in order, while nothing holds them."""
        while self.transport is not None and not self.busy and not self.blocked and self.buf:
            try:
                parsed = parse_request(self.buf)
                if parsed is None:
                    break
                req, size = parsed
                params = request_params(req)
                if _flag(params.get("chunked", "")):
                    raise _Handoff  # a streamed answer: aiohttp's handler streams it
            except _Handoff:
                self._hand_off()
                return
            if self.front.auth is None:
                del self.buf[:size]
                self._answer(req, params)
            else:
                authorization = authorization_header(self.buf)
                del self.buf[:size]
                self._authenticate(req, params, authorization)
        t = self.transport
        if t is None:
            return
        if len(self.buf) > PAUSE_AT and not self.paused:
            self.paused = True
            t.pause_reading()
        elif self.paused and len(self.buf) <= PAUSE_AT:
            self.paused = False
            t.resume_reading()

    def _authenticate(self, req: _Request, params: dict[str, str], authorization: str) -> None:
        """Authentication on: the caller first (a password not checked before is checked in the
        thread pool, holding the requests behind it), then the answer for them."""
        auth = self.front.auth
        assert auth is not None
        csv_out = "application/csv" in req.accept or "text/csv" in req.accept
        try:
            user = auth.authenticate(_query_params(req), authorization)
        except AuthError as e:
            self._write(auth_error(e, csv_out), req)
            return
        except Exception as e:  # a bug: answer as _answer would
            log.exception("/query authentication failed")
            self._write(_error(500, f"internal error: {type(e).__name__}: {e}", False), req)
            return
        if user is UNVERIFIED:
            self.busy = asyncio.get_running_loop().create_task(
                self._verify(req, params, authorization, csv_out)
            )
            return
        self._answer(req, params, user)

    async def _verify(self, req: _Request, params: dict[str, str], authorization: str, csv_out: bool) -> None:
        auth = self.front.auth
        assert auth is not None
        loop = asyncio.get_running_loop()
        try:
            user = await loop.run_in_executor(None, auth.verify, _query_params(req), authorization)
        except Exception as e:
            self.busy = None
            if isinstance(e, AuthError):
                self._write(auth_error(e, csv_out), req)
            else:  # a bug: answer as _answer would
                log.exception("/query authentication failed")
                self._write(_error(500, f"internal error: {type(e).__name__}: {e}", False), req)
            self._process()
            return
        self.busy = None
        self._answer(req, params, user)
        self._process()

    def _answer(self, req: _Request, params: dict[str, str], user: Any = _NOBODY) -> None:
        """Answer one request (``user``: the authenticated caller when authentication is on, None
        while no admin user exists; left out when it is off)."""
        try:
            if user is _NOBODY:
                job = begin_query(self.front.service, req.method, params, req.accept)
            else:
                job = begin_authorized(self.front.service, req.method, params, req.accept, user)
            answer = job if isinstance(job, Answer) else job.run_inline()
        except Exception as e:  # a bug: answer as the aiohttp handler's caller would, keep the log
            log.exception("/query failed")
            answer = _error(500, f"internal error: {type(e).__name__}: {e}", False)
        if answer is not None:
            self._write(answer, req)
            return
        assert not isinstance(job, Answer)
        self.busy = asyncio.get_running_loop().create_task(self._pooled(job, req))

    async def _pooled(self, job: Any, req: _Request) -> None:
        try:
            answer = await job.run_pooled()
        except Exception as e:
            log.exception("/query failed")
            answer = _error(500, f"internal error: {type(e).__name__}: {e}", False)
        self.busy = None
        self._write(answer, req)
        self._process()

    def _write(self, answer: Answer, req: _Request) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        keep = req.keep_alive and not self.closing
        t.write(response_bytes(answer, keep, req.http10))
        if not keep:
            self.buf.clear()
            t.close()
        elif self.front.answered is not None:
            self.front.answered()

    def _hand_off(self) -> None:
        """aiohttp's protocol takes the transport and the unanswered bytes, for good."""
        t = self.transport
        if t is None:
            return
        self.front.connections.discard(self)
        self.transport = None
        handler = self.front.aiohttp_protocol()
        t.set_protocol(handler)
        handler.connection_made(t)
        data, self.buf = bytes(self.buf), bytearray()
        if self.paused:
            t.resume_reading()
        handler.data_received(data)


class Front:
    """The protocol factory of the HTTP listener: QueryFront connections over aiohttp's server."""

    def __init__(self, runner: web.AppRunner, answered: Callable[[], None] | None = None) -> None:
        server = runner.server
        assert server is not None
        self.aiohttp_protocol = server  # calling it makes aiohttp's protocol for one connection
        self.service: QueryService = runner.app[QUERY_SERVICE]
        self.auth = self.service.auth  # None: authentication off
        self.connections: set[QueryFront] = set()
        self.answered = answered  # called on the loop after each answer (keep-alive connections)

    def __call__(self) -> QueryFront:
        return QueryFront(self)

    async def shutdown(self, timeout: float) -> None:
        """Close idle connections; let running requests answer for up to ``timeout`` seconds."""
        busy = []
        for conn in list(self.connections):
            conn.close_when_idle()
            if conn.busy is not None:
                busy.append(conn.busy)
        if busy:
            await asyncio.wait(busy, timeout=timeout)


class FrontSite(web.TCPSite):
    """aiohttp's TCP site with :class:`Front` as the protocol of its connections."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        shutdown_timeout: float,
        answered: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(runner, host, port)
        self.front = Front(runner, answered)
        self.shutdown_timeout = shutdown_timeout

    async def start(self) -> None:
        await web.BaseSite.start(self)  # (registers the site with the runner)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self.front, self._host, self._port, backlog=self._backlog)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        await super().stop()  # no new connections
        await self.front.shutdown(self.shutdown_timeout)
