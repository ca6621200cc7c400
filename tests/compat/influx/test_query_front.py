"""/query's lean HTTP front (compat/influx/front.py) against aiohttp's own handling of the same app.

One engine and one aiohttp app listen twice: through the front (as ``tsgres serve`` does) and through
a plain aiohttp site. The same raw requests, sent to both, must get the same status, body and
InfluxDB headers; the front must keep connections alive, answer pipelined requests in order, close
after HTTP/1.0 and ``Connection: close``, and hand every request it does not answer (other paths, a
chunked answer, a chunked request body) to aiohttp on the same connection.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web

from compat.influx import front as F
from compat.influx import query as Q
from tests.compat.conftest import WriteApp
from tsgres.http import make_app

BASE = 1451606400  # 2016-01-01T00:00:00Z
LINES = "\n".join(
    f"cpu,host=h{i % 3} v={i * 0.5},n={i}i {(BASE + i * 60) * 10**9}" for i in range(240)
).encode()
SELECT = (
    "SELECT max(v) FROM cpu WHERE host = 'h1' AND time >= '2016-01-01T00:00:00Z' "
    "AND time < '2016-01-01T01:00:00Z' GROUP BY time(10m)"
)


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def influx(self) -> tuple[int, dict[str, str], bytes]:
        """What must not depend on the front: status, InfluxDB's and the content headers, body."""
        keep = (
            "content-type",
            "content-length",
            "x-influxdb-version",
            "x-influxdb-build",
            "x-influxdb-error",
        )
        return self.status, {k: v for k, v in self.headers.items() if k in keep}, self.body


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    if status in (204, 304):
        body = b""
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readline()).strip(), 16)
            data = await reader.readexactly(size + 2)
            if not size:
                break
            parts.append(data[:-2])
        body = b"".join(parts)
    else:
        body = await reader.read()
    return Reply(status, headers, body)


def get(q: str, extra: str = "", version: str = "1.1", headers: str = "") -> bytes:
    return f"GET /query?db=db&q={quote(q)}{extra} HTTP/{version}\r\nHost: x\r\n{headers}\r\n".encode()


def post(body: str, ctype: str | None = "application/x-www-form-urlencoded", target: str = "/query") -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body.encode())}\r\n"
    if ctype is not None:
        head += f"Content-Type: {ctype}\r\n"
    return (head + "\r\n").encode() + body.encode()


Check = Callable[[int, int], Awaitable[None]]
HANDLED: list[Callable[[], int]] = []  # the running app's count of requests aiohttp handled


def aiohttp_handled() -> int:
    return HANDLED[-1]()


def serve_both(app: WriteApp, check: Check) -> None:
    """Run ``check(front_port, aiohttp_port)`` with the app listening through both, data written."""

    async def main() -> None:
        runner = web.AppRunner(make_app(app.engine, app.config))
        await runner.setup()
        front = F.FrontSite(runner, "127.0.0.1", 0, shutdown_timeout=5.0)
        plain = web.TCPSite(runner, "127.0.0.1", 0)
        await front.start()
        await plain.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", plain.port)
            writer.write(post(LINES.decode(), ctype=None, target="/write?db=db"))
            assert (await read_reply(reader)).status == 204
            writer.close()
            server = runner.server
            assert server is not None
            HANDLED.append(lambda: server.requests_count)
            await check(front.port, plain.port)
        finally:
            HANDLED.clear()
            await runner.cleanup()

    asyncio.run(main())


async def exchange(port: int, data: bytes, replies: int, *, piecewise: bool = False) -> list[Reply]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if piecewise:  # a byte at a time: the front must wait for whole requests
            for i in range(len(data)):
                writer.write(data[i : i + 1])
                await writer.drain()
        else:
            writer.write(data)
        return [await read_reply(reader) for _ in range(replies)]
    finally:
        writer.close()


REQUESTS = [
    get(SELECT),
    get(SELECT, "&epoch=s"),
    get(SELECT, "&pretty=true"),
    get(SELECT, headers="Accept: application/csv\r\n"),
    get("SELECT max(v) FROM cpu GROUP BY host; SHOW DATABASES"),
    get("SELECT nosuch FROM cpu; SHOW DATABASES"),
    get("SELEC"),
    get("SELEC", headers="Accept: text/csv\r\n"),
    get(""),
    get("SELECT n FROM cpu WHERE host = $h LIMIT 2", "&params=" + quote(json.dumps({"h": "h2"}))),
    get("SELECT n FROM cpu LIMIT 1", "&params=notjson"),
    get("CREATE DATABASE db"),  # (a write in a GET: answered with a warning)
    post("q=" + quote(SELECT) + "&db=db"),
    post("q=" + quote("SHOW MEASUREMENTS") + "&db=db", ctype=None),
    post("q=" + quote("SHOW MEASUREMENTS"), target="/query?db=db"),
    post("ignored", ctype="text/plain", target="/query?db=db&q=" + quote("SHOW DATABASES")),
]


def test_front_answers_as_aiohttp_does(write_app: Callable[..., WriteApp]) -> None:
    async def check(front: int, plain: int) -> None:
        for request in REQUESTS:
            handled = aiohttp_handled()
            ours = await exchange(front, request, 1)
            assert aiohttp_handled() == handled  # the front answered
            theirs = await exchange(plain, request, 1)
            assert ours[0].influx() == theirs[0].influx(), request
            assert "date" in ours[0].headers
        # statuses and errors are as InfluxDB's: a parse error is 400, a missing q too
        assert (await exchange(front, get("SELEC"), 1))[0].status == 400
        err = (await exchange(front, get(""), 1))[0]
        assert err.headers["x-influxdb-error"] == 'missing required parameter "q"'
        body = json.loads((await exchange(front, get(SELECT), 1))[0].body)
        assert len(body["results"][0]["series"][0]["values"]) == 6

    serve_both(write_app(), check)


def test_keep_alive_pipelining_and_split_requests(write_app: Callable[..., WriteApp]) -> None:
    async def check(front: int, plain: int) -> None:
        want = [(await exchange(plain, r, 1))[0].influx() for r in REQUESTS]
        # every request on one connection, sent at once: answered in order
        got = await exchange(front, b"".join(REQUESTS), len(REQUESTS))
        assert [r.influx() for r in got] == want
        # a byte at a time
        got = await exchange(front, REQUESTS[0] + REQUESTS[12], 2, piecewise=True)
        assert [r.influx() for r in got] == [want[0], want[12]]

    serve_both(write_app(), check)


def test_pooled_answers_hold_the_requests_behind_them(
    write_app: Callable[..., WriteApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query that runs in the thread pool (every one here: no shape is cheap) answers before the
    requests pipelined behind it."""
    app = write_app()
    shapes = [
        get(SELECT),
        get("SHOW DATABASES"),
        get(SELECT.replace("'h1'", "'h2'")),
        get("SELECT count(n) FROM cpu GROUP BY host"),
    ]

    async def check(front: int, plain: int) -> None:
        want = [(await exchange(plain, r, 1))[0].influx() for r in shapes]
        runs: list[bool] = []
        real = Q.QueryJob.run_pooled

        async def pooled(self: Q.QueryJob) -> Q.Answer:
            runs.append(True)
            await asyncio.sleep(0.05)  # later requests arrive meanwhile
            return await real(self)

        monkeypatch.setattr(Q.QueryJob, "run_pooled", pooled)
        monkeypatch.setattr(Q.QueryJob, "run_inline", lambda self: None)
        handled = aiohttp_handled()
        got = await exchange(front, b"".join(shapes), len(shapes))
        assert [r.influx() for r in got] == want
        assert aiohttp_handled() == handled
        assert len(runs) == len(shapes)

    serve_both(app, check)


def test_http10_and_connection_close_close_after_the_answer(write_app: Callable[..., WriteApp]) -> None:
    async def check(front: int, plain: int) -> None:
        for request, closes in (
            (get("SHOW DATABASES", version="1.0"), True),
            (get("SHOW DATABASES", version="1.0", headers="Connection: keep-alive\r\n"), False),
            (get("SHOW DATABASES", headers="Connection: close\r\n"), True),
            (get("SHOW DATABASES"), False),
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", front)
            writer.write(request)
            reply = await read_reply(reader)
            assert reply.status == 200
            if closes:
                assert reply.headers["connection"] == "close"
                assert await reader.read() == b""  # the server closed it
            else:
                writer.write(get("SHOW DATABASES"))  # the same connection answers again
                assert (await read_reply(reader)).status == 200
            writer.close()

    serve_both(write_app(), check)


def test_other_requests_go_to_aiohttp_on_the_same_connection(write_app: Callable[..., WriteApp]) -> None:
    """/ping, /write, a chunked /query answer, a chunked request body and an unknown path are
    aiohttp's; the requests after them on that connection too."""

    async def check(front: int, plain: int) -> None:
        chunked_body = b"POST /query?db=db HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        chunked_body += b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        form = ("q=" + quote("SHOW DATABASES")).encode()
        chunked_body += b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form)
        cases = [
            b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
            post("m v=1 1", ctype=None, target="/write?db=db"),
            get(SELECT, "&chunked=true&chunk_size=2"),
            post("q=" + quote(SELECT) + "&chunked=true&db=db"),
            chunked_body,
            b"GET /nosuch HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        for request in cases:
            theirs = await exchange(plain, request + get(SELECT), 2)
            handled = aiohttp_handled()
            ours = await exchange(front, request + get(SELECT), 2)
            assert aiohttp_handled() == handled + 2  # both handed to aiohttp
            assert [r.influx() for r in ours] == [r.influx() for r in theirs], request
            assert ours[1].status == 200
        got = await exchange(front, get(SELECT, "&chunked=true&chunk_size=2"), 1)
        pieces = [json.loads(x) for x in got[0].body.splitlines()]
        assert len(pieces) == 3 and pieces[0]["results"][0]["partial"] is True

    serve_both(write_app(), check)


def test_shutdown_waits_for_a_running_answer_and_closes_idle_connections(
    write_app: Callable[..., WriteApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = write_app()

    async def main() -> None:
        runner = web.AppRunner(make_app(app.engine, app.config))
        await runner.setup()
        site = F.FrontSite(runner, "127.0.0.1", 0, shutdown_timeout=5.0)
        await site.start()
        started = asyncio.Event()
        real = Q.QueryJob.run_pooled

        async def slow(self: Q.QueryJob) -> Q.Answer:
            started.set()
            await asyncio.sleep(0.2)
            return await real(self)

        idle_r, idle_w = await asyncio.open_connection("127.0.0.1", site.port)
        idle_w.write(get("SHOW USERS", headers="Connection: keep-alive\r\n"))
        assert (await read_reply(idle_r)).status == 200
        monkeypatch.setattr(Q.QueryJob, "run_pooled", slow)
        busy_r, busy_w = await asyncio.open_connection("127.0.0.1", site.port)
        busy_w.write(get("SHOW USERS"))  # (a meta query that always runs in the pool)
        await started.wait()
        await runner.cleanup()
        reply = await read_reply(busy_r)
        assert reply.status == 200 and reply.headers["connection"] == "close"
        assert await idle_r.read() == b""
        busy_w.close()
        idle_w.close()

    asyncio.run(main())


def test_parse_request_waits_for_whole_requests_and_refuses_what_it_does_not_answer() -> None:
    whole = post("q=x")
    for cut in range(len(whole)):
        assert F.parse_request(bytearray(whole[:cut])) is None
    req, size = F.parse_request(bytearray(whole + b"GET /"))  # type: ignore[misc]
    assert size == len(whole) and req.body == b"q=x" and req.keep_alive
    for refused in (
        b"PUT /query HTTP/1.1\r\n\r\n",
        b"GET /query/x HTTP/1.1\r\n\r\n",
        b"GET /query HTTP/2\r\n\r\n",
        b"GET /query HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        b"GET /query HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        b"GET /query HTTP/1.1\r\nbad line\r\n\r\n",
        b"GET /query HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"GET /query HTTP/1.1\r\nContent-Encoding: gzip\r\n\r\n",
        b"GET /query HTTP/1.1\r\nHost: " + b"x" * F.MAX_HEAD + b"\r\n\r\n",
        b"GET /query HTTP/1.1\r\nHost: " + b"x" * (F.MAX_HEAD + 1),
    ):
        with pytest.raises(F._Handoff):
            F.parse_request(bytearray(refused))


def _params(target: str, body: bytes = b"", ctype: str = "") -> dict[str, Any]:
    return F.request_params(F._Request("POST", target, False, True, "", ctype, body))


def test_request_params_first_value_wins_and_body_follows_the_query_string() -> None:
    assert _params("/query?q=a&q=b&db=x+y&e=") == {"q": "a", "db": "x y", "e": ""}
    form = "application/x-www-form-urlencoded; charset=utf-8"
    assert _params("/query?db=d", b"q=SELECT+1&db=other", form) == {"db": "d", "q": "SELECT 1"}
    assert _params("/query", b"q=%C3%A9", "") == {"q": "\u00e9"}
    assert _params("/query?q=x", b"q=y", "text/plain") == {"q": "x"}
    for handed in ("multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=latin-1"):
        with pytest.raises(F._Handoff):
            _params("/query", b"q=1", handed)


def test_query_string_decoded_as_aiohttp_decodes_it() -> None:
    """The front's query-string parameters are aiohttp's request.query (yarl's URL.query): escapes,
    '+', bad escapes, empty and valueless fields, ';', non-ASCII (first value of a name wins)."""
    from yarl import URL

    for qs in (
        "db=bench&q=SELECT+max%28usage_user%29+from+cpu+where+%28hostname+%3D+%27host_9%27%29",
        "a=1&&b=%zz&c=%E2%82%AC+x&d&=e&a=2",
        "q=a%3Bb;c=d&e=%2B+%25",
        "q=%C3%A9%20%ZZ%",
        "=&==&a==b",
    ):
        expected: dict[str, str] = {}
        for k, v in URL.build(path="/query", query_string=qs, encoded=True).query.items():
            expected.setdefault(k, v)
        assert F.request_params(F._Request("GET", f"/query?{qs}", False, True, "", "", b"")) == expected
        assert F._query_params(F._Request("GET", f"/query?{qs}", False, True, "", "", b"")) == expected


def test_answers_wait_for_a_client_that_does_not_read(write_app: Callable[..., WriteApp]) -> None:
    """Pipelined queries whose answers outgrow the socket's and the transport's buffers before the
    client reads any: the front stops answering until the transport drains (pause_writing), and
    each answer arrives whole and in order."""
    app = write_app()
    paused: list[bool] = []

    async def main() -> None:
        runner = web.AppRunner(make_app(app.engine, app.config))
        await runner.setup()
        site = F.FrontSite(runner, "127.0.0.1", 0, shutdown_timeout=5.0)
        await site.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
            writer.write(post(LINES.decode(), ctype=None, target="/write?db=db"))
            assert (await read_reply(reader)).status == 204
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            big = get("SELECT * FROM cpu")  # ~10 kB of JSON
            writer.write(big)
            want = (await read_reply(reader)).influx()
            [conn] = site.front.connections
            assert conn.transport is not None
            conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            real = conn.pause_writing

            def pause() -> None:
                paused.append(True)
                real()

            conn.pause_writing = pause  # type: ignore[method-assign]
            writer.write(big * 30 + get("SHOW DATABASES"))
            await writer.drain()
            for _ in range(200):  # the server fills the buffers and stops answering
                if paused:
                    break
                await asyncio.sleep(0.01)
            assert paused and conn.blocked
            got = [await read_reply(reader) for _ in range(31)]
            writer.close()
            assert all(r.influx() == want for r in got[:30])
            assert b"databases" in got[30].body
        finally:
            await runner.cleanup()

    asyncio.run(main())


def test_meta_reads_may_run_inline_and_other_meta_queries_may_not() -> None:
    """SHOW statements that only read the catalog and the series index get a span (their cost is
    their shape's): once cheap they run on the event loop, not through a hop to the pool and back
    (SHOW DATABASES took ~340 us over HTTP for ~6 us of work). Writes and other meta queries do not."""
    from sql.influxql.parse_cache import parse_cached_keyed

    now = 1_700_000_000 * 10**9
    for q in [
        "SHOW DATABASES",
        "SHOW MEASUREMENTS",
        "SHOW TAG VALUES WITH KEY = host",
        "SHOW FIELD KEYS",
        "SHOW SERIES",
        "SHOW RETENTION POLICIES ON d",
        "SHOW MEASUREMENTS; SELECT n FROM cpu",
    ]:
        statements, _key = parse_cached_keyed(q, {})
        assert Q.select_span(statements, now) is not None, q
    for q in [
        "SHOW USERS",
        "CREATE DATABASE x",
        "DROP SERIES FROM cpu",
        "SHOW DATABASES; CREATE DATABASE x",
        "SELECT n INTO other FROM cpu",
    ]:
        statements, _key = parse_cached_keyed(q, {})
        assert Q.select_span(statements, now) is None, q
