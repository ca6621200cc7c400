"""bench/http1.py's client against a real HTTP server (the standard library's, on a loopback port):
every framing a server may choose gives the body it sent, and one connection carries the requests
while the server keeps it open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.http1 import HTTPError, KeepAliveHTTP

BODY = b'{"results":[{"statement_id":0}]}' * 50


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[tuple] = set()  # the client's (host, port) of each connection served

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        # (the address, not id() of the socket: a closed socket's id can be the next one's)
        type(self).connections.add(tuple(self.client_address))
        path = self.path
        if path == "/length":
            self._head(200, {"Content-Length": str(len(BODY))})
            self.wfile.write(BODY)
        elif path == "/chunked":  # uneven chunks, an extension, a trailer
            self._head(200, {"Transfer-Encoding": "chunked"})
            for piece in (BODY[:7], BODY[7:1000], BODY[1000:]):
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif path == "/close":  # no length: the body ends with the connection
            self._head(200, {"Connection": "close"})
            self.wfile.write(BODY)
            self.close_connection = True
        elif path == "/empty":
            self._head(204, {})
        elif path == "/error":
            body = b'{"error":"bad"}'
            self._head(400, {"Content-Length": str(len(body))})
            self.wfile.write(body)
        elif path == "/idle-close":  # answers, then closes the idle connection
            self._head(200, {"Content-Length": str(len(BODY))})
            self.wfile.write(BODY)
            self.close_connection = True
        elif path == "/garbage":
            self.wfile.write(b"SPDY/9 nonsense\r\n\r\n")
            self.close_connection = True

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    _Handler.connections = set()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield "127.0.0.1", srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("path", ["/length", "/chunked", "/close"])
def test_every_framing_gives_the_body(server: tuple[str, int], path: str) -> None:
    c = KeepAliveHTTP(*server, timeout=10)
    try:
        for _ in range(3):  # (after /close the next request opens a new connection)
            assert c.send(c.request(path)) == (200, BODY)
    finally:
        c.close()


def test_one_connection_carries_the_requests(server: tuple[str, int]) -> None:
    c = KeepAliveHTTP(*server, timeout=10)
    try:
        for path in ["/length", "/chunked", "/empty", "/error", "/length"]:
            status, body = c.send(c.request(path))
            assert status == {"/empty": 204, "/error": 400}.get(path, 200)
            assert body == {"/empty": b"", "/error": b'{"error":"bad"}'}.get(path, BODY)
        assert len(_Handler.connections) == 1
    finally:
        c.close()


def test_a_connection_the_server_closed_is_opened_again(server: tuple[str, int]) -> None:
    c = KeepAliveHTTP(*server, timeout=10)
    try:
        assert c.send(c.request("/idle-close")) == (200, BODY)
        assert c.send(c.request("/length")) == (200, BODY)
        assert len(_Handler.connections) == 2
    finally:
        c.close()


def test_an_answer_that_is_not_http_is_an_error(server: tuple[str, int]) -> None:
    c = KeepAliveHTTP(*server, timeout=10)
    try:
        with pytest.raises(HTTPError, match="status line"):
            c.send(c.request("/garbage"))
    finally:
        c.close()
