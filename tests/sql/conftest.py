"""Fixtures shared by the SQL tests: a real PostgreSQL 15 server and an in-process tsgres SQL engine.

``pg_server`` runs ``initdb`` and ``postgres`` from PostgreSQL 15's binaries on a temporary directory,
listening on 127.0.0.1 at an ephemeral port (and a Unix socket inside that directory only), and stops
the postmaster by its pid when the session ends. As root (CI), the cluster belongs to the ``postgres``
system user: PostgreSQL refuses to run as root. Without the binaries the tests that need them skip,
saying how to install them.

``tsgres_sql`` is a storage engine on a temporary data directory with one :class:`sql.engine.SqlEngine`
over it; ``tsgres_session`` opens a session on its ``postgres`` database, the way pgwire would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN_CANDIDATES = (
    os.environ.get("PG_BIN", ""),
    "/usr/lib/postgresql/15/bin",
)
PG_START_TIMEOUT_S = 60.0
PG_STOP_TIMEOUT_S = 30.0


def pg_bin_dir() -> Path | None:
    """The directory holding PostgreSQL 15's initdb and postgres, if installed."""
    for cand in PG_BIN_CANDIDATES:
        if cand and (Path(cand) / "initdb").is_file() and (Path(cand) / "postgres").is_file():
            return Path(cand)
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        cand = out.stdout.strip()
        version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
        if cand and version.stdout.split()[1:2] and version.stdout.split()[1].startswith("15"):
            if (Path(cand) / "initdb").is_file():
                return Path(cand)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running PostgreSQL server; ``connect()`` opens an autocommit psycopg connection."""

    host: str
    port: int
    user: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def connect(self, dbname: str = "postgres"):  # -> psycopg.Connection
        import psycopg

        return psycopg.connect(self.conninfo(dbname), autocommit=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT) of our postmaster by pid; SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=PG_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=PG_STOP_TIMEOUT_S)


def _demote(uid: int, gid: int) -> Callable[[], None]:
    def run() -> None:
        os.setgid(gid)
        os.setuid(uid)

    return run


def start_pg(workdir: Path) -> PgServer:
    """initdb + postgres on ``workdir``; returns once the server accepts connections."""
    bindir = pg_bin_dir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL 15 binaries not found")
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "pgdata"
    log_path = workdir / "postgres.log"
    preexec = None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    if os.geteuid() == 0:  # PostgreSQL will not run as root: hand the directory to its system user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = pwd.getpwnam("nobody")
        for p in (workdir,):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        preexec = _demote(pw.pw_uid, pw.pw_gid)
        env["HOME"] = str(workdir)
    initdb = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        cwd=workdir,
        env=env,
        preexec_fn=preexec,
        capture_output=True,
        text=True,
        check=False,
    )
    if initdb.returncode != 0:
        raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
    port = _free_port()
    with log_path.open("wb") as log:
        if preexec is not None:
            pw_uid, pw_gid = os.stat(data_dir).st_uid, os.stat(data_dir).st_gid
            os.chown(log_path, pw_uid, pw_gid)
        proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data_dir),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(workdir),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "timezone=UTC",
                "-c",
                "max_connections=20",
                "-c",
                "shared_buffers=32MB",
            ],
            cwd=workdir,
            env=env,
            preexec_fn=preexec,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PgServer("127.0.0.1", port, "postgres", data_dir, proc, log_path)
    deadline = time.monotonic() + PG_START_TIMEOUT_S
    import psycopg

    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode}:\n{server.log()}")
        try:
            server.connect().close()
            return server
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"postgres did not accept connections in {PG_START_TIMEOUT_S}s:\n{server.log()}"
                ) from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    yield from running_pg()


def running_pg() -> Iterator[PgServer]:
    """A PostgreSQL 15 for as long as the generator runs (a fixture's body); skips without one."""
    if pg_bin_dir() is None:
        pytest.skip(
            "PostgreSQL 15 is not installed (apt-get install -y --no-install-recommends postgresql-15)"
        )
    # not under pytest's temp root: that is private to the user running pytest, and as root the
    # server runs as the postgres user, who must reach its directory
    workdir = Path(tempfile.mkdtemp(prefix="tsgres-test-pg-"))
    try:
        server = start_pg(workdir)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def tsgres_sql(tmp_path_factory: pytest.TempPathFactory):  # -> Iterator[sql.engine.SqlEngine]
    from tests.sql.in_process import sql_engine

    with sql_engine(tmp_path_factory.mktemp("tsgres")) as (_storage, engine):
        yield engine


@pytest.fixture(scope="session")
def tsgres_session(tsgres_sql):  # -> sql.engine.SqlSession
    session = tsgres_sql.session("postgres")
    yield session
    session.close()
