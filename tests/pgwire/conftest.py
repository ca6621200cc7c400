"""Fixtures: a real pgwire server (``pgwire.server.serve``) on 127.0.0.1, port 0, over the DuckDB
test session, running on its own event loop in a thread so synchronous clients can talk to it."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pytest

from pgwire import messages as m
from pgwire.auth import AuthConfig, PasswordStore
from pgwire.handlers import SessionFactory
from pgwire.server import PgServer, ServerOptions, serve
from tests.pgwire.duck_session import DuckSession, session_factory


@dataclass
class RunningServer:
    port: int
    loop: asyncio.AbstractEventLoop
    pg: PgServer
    thread: threading.Thread
    db: duckdb.DuckDBPyConnection
    sessions: list[DuckSession] = field(default_factory=list)

    def dsn(self, user: str = "u", dbname: str = "db", **extra: str) -> str:
        parts = [f"host=127.0.0.1 port={self.port} user={user} dbname={dbname}"]
        parts += [f"{k}={v}" for k, v in extra.items()]
        return " ".join(parts)

    def call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self.loop.is_running():
            self.call(self.pg.close(), timeout=15)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(15)


def start_server(
    options: ServerOptions | None = None,
    session_class: type[DuckSession] | None = None,
    factory: SessionFactory | None = None,
) -> RunningServer:
    """A server over DuckDB test sessions (of ``session_class``), or over what ``factory`` makes."""
    db = duckdb.connect(":memory:")
    base = session_factory(db) if factory is None else factory
    sessions: list[DuckSession] = []

    def make(database: str, user: str, opts: dict[str, str]) -> DuckSession:
        s = base(database, user, opts) if session_class is None else session_class(db, database, user, opts)
        sessions.append(s)  # type: ignore[arg-type]
        return s  # type: ignore[return-value]

    try:  # the server runs on uvloop in production: test on it where it is installed
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    started: list[PgServer] = []
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            started.append(await serve("127.0.0.1", 0, make, options))
            ready.set()

        loop.run_until_complete(boot())
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    thread = threading.Thread(target=run, name="pgwire-test-server", daemon=True)
    thread.start()
    assert ready.wait(15), "server did not start"
    pg = started[0]
    return RunningServer(pg.addresses[0][1], loop, pg, thread, db, sessions)


@pytest.fixture
def server() -> Iterator[RunningServer]:
    s = start_server()
    yield s
    s.stop()


@pytest.fixture
def make_server() -> Iterator[Callable[..., RunningServer]]:
    running: list[RunningServer] = []

    def make(method: str = "auto", users: dict[str, str] | None = None, **kw: Any) -> RunningServer:
        opts = ServerOptions(auth=AuthConfig(method, PasswordStore.from_mapping(users or {})), **kw)
        s = start_server(opts)
        running.append(s)
        return s

    yield make
    for s in running:
        s.stop()


class RawClient:
    """A byte-level client: send frontend messages, read backend messages."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, *msgs: m.Message) -> None:
        self.sock.sendall(b"".join(x.encode() for x in msgs))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read(self) -> m.Message | None:
        """The next backend message, or None when the server closed the connection."""
        if not self._fill(5):
            return None
        code = self.buf[:1]
        (length,) = struct.unpack("!i", self.buf[1:5])
        if not self._fill(1 + length):
            return None
        payload = self.buf[5 : 1 + length]
        self.buf = self.buf[1 + length :]
        return m.decode_backend(code, payload)

    def read_byte(self) -> bytes:
        self._fill(1)
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def until_ready(self) -> list[m.Message]:
        out = []
        while True:
            msg = self.read()
            if msg is None:
                return out
            out.append(msg)
            if isinstance(msg, m.ReadyForQuery):
                return out

    def startup(self, user: str = "u", database: str = "db", **params: str) -> list[m.Message]:
        self.send(m.StartupMessage({"user": user, "database": database, **params}))
        return self.until_ready()

    def closed(self) -> bool:
        """True when the server has closed the connection (reads EOF), draining what is left."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(server: RunningServer) -> Iterator[Callable[[], RawClient]]:
    clients: list[RawClient] = []

    def make() -> RawClient:
        c = RawClient(server.port)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
