"""Real PostgreSQL clients against a running ``python -m tsgres serve``.

* ``pg_server`` (session): one tsgres subprocess on a temporary data directory with ephemeral ports
  (parsed from the ``tsgres: pgwire listening on HOST:PORT`` line), trust authentication on loopback,
  stopped by pid (SIGTERM, then kill) when the session ends. Test modules share it, so each works in a
  database of its own: ``pg_server.database("jdbc")`` creates one and returns its name.
* ``require(ok, what)``: a missing client (Java, the ODBC driver, node ...) skips the test on a developer's
  machine and fails it in CI (``CI=true``), where .ci/run has installed everything.
* ``WireRecorder``: a TCP proxy between a client and tsgres that decodes what the client sends, so a test
  can check which protocol path a driver took (server-prepared statements, binary result formats).
"""

from __future__ import annotations

import importlib.util
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from pgwire import messages as m
from tests.conftest import ServerProcess, start_server

IN_CI = os.environ.get("CI", "").lower() == "true"
FD_LIMIT = 4096


def require(ok: object, what: str) -> None:
    """Skip when ``what`` is missing outside CI; fail in CI, where .ci/run installs it."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI: .ci/run should have installed it")
    pytest.skip(f"{what} is not installed (CI installs it: see .ci/run)")


def require_command(name: str) -> str:
    path = shutil.which(name)
    require(path, f"the `{name}` command")
    assert path is not None
    return path


@dataclass
class PgServer:
    process: ServerProcess
    host: str
    port: int
    _databases: set[str] = field(default_factory=set)

    def dsn(self, dbname: str = "postgres", user: str = "postgres", **extra: str) -> str:
        parts = [f"host={self.host} port={self.port} user={user} dbname={dbname}"]
        return " ".join(parts + [f"{k}={v}" for k, v in extra.items()])

    def url(self, dbname: str = "postgres", scheme: str = "postgresql") -> str:
        return f"{scheme}://postgres@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:  # type: ignore[type-arg]
        return psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=10)

    def database(self, name: str) -> str:
        """Create database ``name`` once per session; its name."""
        if name not in self._databases:
            with self.connect() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self._databases.add(name)
        return name

    def stderr(self) -> str:
        return self.process.stderr()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    server = start_pg_server(tmp_path_factory.mktemp("tsgres-pg"))
    try:
        yield server
    finally:
        stop_pg_server(server)


def raise_fd_limit(want: int = FD_LIMIT) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards ``want`` (servers started later inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_pg_server(workdir: Path, env: dict[str, str] | None = None) -> PgServer:
    """``python -m tsgres serve`` on ephemeral ports in ``workdir``; returns once pgwire is bound."""
    if importlib.util.find_spec("sql.engine") is None or importlib.util.find_spec("columnar.engine") is None:
        pytest.skip("the SQL engine or the storage engine is not in this checkout")
    raise_fd_limit()  # test_scale holds 600 connections: the server needs a socket each
    process = start_server(workdir, env=env, listening=("pgwire",))
    host, port = process.listeners["pgwire"]
    return PgServer(process, host, port)


def stop_pg_server(server: PgServer) -> None:
    """SIGTERM by pid, then kill if it has not exited within 30 s."""
    try:
        server.process.stop(signal.SIGTERM, timeout=30)
    finally:
        server.process.kill()


# ---------------------------------------------------------------- a recording proxy


@dataclass
class WireRecorder:
    """Listens on 127.0.0.1:``port``, forwards to tsgres and decodes the frontend messages it forwards."""

    target: tuple[str, int]
    port: int = 0
    parses: list[m.Parse] = field(default_factory=list)
    binds: list[m.Bind] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WireRecorder:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept)
        return self

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread
            except OSError:
                pass
            self._listener.close()
        for t in self._threads:
            t.join(5)

    def _spawn(self, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self._spawn(self._pump, server, client, False)
            self._spawn(self._pump, client, server, True)

    def _pump(self, src: socket.socket, dst: socket.socket, frontend: bool) -> None:
        buf = b""
        started = False  # frontend: start-up packets (no type byte) until the StartupMessage
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if not frontend:
                    continue
                buf += data
                while True:
                    if not started:
                        if len(buf) < 8:
                            break
                        (length, code) = struct.unpack("!ii", buf[:8])
                        if len(buf) < length:
                            break
                        buf = buf[length:]
                        started = code == m.PROTOCOL_3_0
                        continue
                    if len(buf) < 5:
                        break
                    (length,) = struct.unpack("!i", buf[1:5])
                    if len(buf) < 1 + length:
                        break
                    code, payload, buf = buf[:1], buf[5 : 1 + length], buf[1 + length :]
                    self._record(code, payload)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _record(self, code: bytes, payload: bytes) -> None:
        with self._lock:
            if code == b"P":
                self.parses.append(m.Parse.decode(payload))
            elif code == b"B":
                self.binds.append(m.Bind.decode(payload))
            elif code == b"Q":
                self.queries.append(m.Query.decode(payload).sql)


@pytest.fixture
def wire_recorder(pg_server: PgServer) -> Iterator[WireRecorder]:
    rec = WireRecorder((pg_server.host, pg_server.port)).start()
    yield rec
    rec.close()


JAVA_DIR = Path(__file__).parent / "java"
NODE_DIR = Path(__file__).parent / "node"


def psql_output(pg_server: PgServer, db: str, command: str, *more: str) -> str:
    """psql 15's unaligned output (fields joined by '|') of one command run against ``db`` (and of
    ``more`` commands after it, in the same session)."""
    psql = require_command("psql")
    env = {**os.environ, "PGOPTIONS": "", "PAGER": "", "PSQL_PAGER": "", "COLUMNS": "200"}
    commands = [arg for c in (command, *more) for arg in ("-c", c)]
    out = subprocess.run(
        [psql, "-X", "-h", pg_server.host, "-p", str(pg_server.port), "-U", "postgres", "-d", db,
         "-v", "ON_ERROR_STOP=1", "-P", "pager=off", "-A", "-F", "|", *commands],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def sqlalchemy_engine(pg_server: PgServer, name: str) -> Iterator[object]:
    """A SQLAlchemy 2 engine (psycopg 3) on a database of its own, disposed after (for a fixture)."""
    try:
        import sqlalchemy as sa
    except ImportError:  # CI installs it (.ci/run)
        pytest.skip("sqlalchemy is not installed")
    db = pg_server.database(name)
    eng = sa.create_engine(f"postgresql+psycopg://postgres@{pg_server.host}:{pg_server.port}/{db}")
    yield eng
    eng.dispose()
