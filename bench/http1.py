"""A small HTTP/1.1 client for timed GETs: one keep-alive connection, the request built before the
clock, the response read with nothing but its framing parsed.

Why not http.client: its per-request cost (email.parser for the headers, an HTTPResponse object,
chunked reading a line at a time in Python) is ~150-250 us of client CPU per small query here, the
same order as the query a benchmark times, and more for a chunked answer (InfluxDB's) than for one
with a Content-Length (tsgres's). TSBS's InfluxDB runner is Go's net/http client, which costs a
fraction of that; this one costs ~35-70 us (session 12's measurement, docs/benchmarks.md).

What it reads: the status line, the headers (only Content-Length, Transfer-Encoding and Connection
are looked at), then a body framed by Content-Length, by chunks (trailers skipped), or, without
either, by the server closing the connection. A connection the server closed while idle is opened
again once, before anything of the answer arrived.
"""

from __future__ import annotations

import socket


class HTTPError(OSError):
    """The server's answer is not HTTP/1.x as this client reads it, or the connection broke."""


class KeepAliveHTTP:
    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.buf = b""  # bytes received after the last answer

    def request(self, target: str) -> bytes:
        """The bytes of ``GET target`` (built outside the timed part)."""
        return f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode("latin-1")

    def send(self, request: bytes) -> tuple[int, bytes]:
        """Send ``request`` and read its whole answer: (status, body)."""
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            assert self.sock is not None
            try:
                try:
                    self.sock.sendall(request)
                except (BrokenPipeError, ConnectionResetError):
                    raise _ClosedIdle from None
                return self._answer()
            except _ClosedIdle:
                self.close()
                if fresh or attempt:
                    raise HTTPError("the server closed the connection without answering") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    # -- reading ----------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _recv(self) -> bytes:
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError:
            data = b""
        if not data:
            raise EOFError
        return data

    def _answer(self) -> tuple[int, bytes]:
        buf = self.buf
        try:
            while (end := buf.find(b"\r\n\r\n")) < 0:
                buf += self._recv()
        except EOFError:
            if not buf:
                raise _ClosedIdle from None
            raise HTTPError("the connection closed inside the response head") from None
        head = buf[:end].decode("latin-1").split("\r\n")
        rest = buf[end + 4 :]
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HTTPError(f"not an HTTP/1.x status line: {head[0][:80]!r}")
        status = int(parts[1])
        length: int | None = None
        chunked = False
        connection = ""
        for line in head[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = value.endswith("chunked")
            elif name == "connection":
                connection = value
        # (HTTP/1.0 keeps the connection only when told to)
        close = "close" in connection or (parts[0] == "HTTP/1.0" and "keep-alive" not in connection)
        try:
            if status in (204, 304) or 100 <= status < 200:
                body = b""
            elif chunked:
                body, rest = self._chunked(rest)
            elif length is not None:
                while len(rest) < length:
                    rest += self._recv()
                body, rest = rest[:length], rest[length:]
            else:  # framed by the end of the connection
                body, close = rest, True
                try:
                    while True:
                        body += self._recv()
                except EOFError:
                    rest = b""
        except EOFError:
            self.close()
            raise HTTPError("the connection closed inside the response body") from None
        if close:
            self.close()
        else:
            self.buf = rest
        return status, body

    def _chunked(self, rest: bytes) -> tuple[bytes, bytes]:
        out: list[bytes] = []
        while True:
            while (eol := rest.find(b"\r\n")) < 0:
                rest += self._recv()
            size_text = rest[:eol].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HTTPError(f"bad chunk size {size_text[:20]!r}") from None
            rest = rest[eol + 2 :]
            if size == 0:  # trailers, up to an empty line
                while True:
                    while (eol := rest.find(b"\r\n")) < 0:
                        rest += self._recv()
                    line, rest = rest[:eol], rest[eol + 2 :]
                    if not line:
                        return b"".join(out), rest
            while len(rest) < size + 2:
                rest += self._recv()
            out.append(rest[:size])
            rest = rest[size + 2 :]


class _ClosedIdle(Exception):
    """The connection was closed before any byte of the answer arrived."""
