"""End to end: ``tsgres serve`` binds the PostgreSQL port and real clients reach the real SQL engine."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import tsgres_env

LISTENING = re.compile(r"^tsgres: (\w+) listening on (\S+):(\d+)$")


def _serve(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], int]:
    argv = [
        sys.executable,
        "-m",
        "tsgres",
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--host",
        "127.0.0.1",
        "--http-port",
        "0",
        "--pg-port",
        "0",
        *args,
    ]
    proc = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=tsgres_env(**(env or {})),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = LISTENING.match(line.strip())
        if match and match[1] == "pgwire":
            return proc, int(match[3])
    proc.kill()
    proc.wait()
    pytest.fail("tsgres serve printed no pgwire listener")


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.mark.usefixtures("requires_engine")
def test_tsgres_serve_speaks_postgres(tmp_path: Path) -> None:
    pytest.importorskip("sql.engine")
    users = tmp_path / "users"
    users.write_text("alice:s3cret\n")
    proc, port = _serve(
        tmp_path, env={"TSGRES_PG_AUTH_METHOD": "scram-sha-256", "TSGRES_PG_PASSWORD_FILE": str(users)}
    )
    try:
        dsn = f"host=127.0.0.1 port={port} user=alice dbname=postgres password=s3cret"
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.info.parameter_status(
                "server_version",
            ).startswith("15")  # type: ignore[call-arg]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn.replace("s3cret", "wrong"))
    finally:
        assert _stop(proc) == 0
