"""Fixtures for the InfluxQL tests: a real InfluxDB 1.x and a real tsgres, with the same data.

``influxd`` runs Debian's InfluxDB 1.x (``influxd`` on PATH) on a temporary directory with loopback
ports picked free, monitoring/reporting off, and stops it by pid when the session ends.
``tsgres`` is ``python -m tsgres serve`` on ephemeral ports (tests/conftest.py), stopped by pid.
``peers`` writes tests/influxql/dataset.py's line protocol to both and hands out the two base URLs.

Without influxd the differential tests skip (under CI=true they fail: .ci/run installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, start_server
from tests.influxql.dataset import DATABASES, EXTRA_DATABASES, SETUP, line_protocol

START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(exe: str, package: str) -> str:
    path = shutil.which(exe)
    if path is None:
        message = f"{exe} is missing (apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def influxd_config(base: str, root: Path, http_port: int, rpc_port: int) -> str:
    """InfluxDB's default configuration, moved to ``root`` and loopback ports, without its extras."""
    swaps = {
        r'^bind-address = ".*"$': f'bind-address = "127.0.0.1:{rpc_port}"',
        r'^(\s*)dir = "[^"]*/meta"$': rf'\1dir = "{root}/meta"',
        r'^(\s*)dir = "[^"]*/data"$': rf'\1dir = "{root}/data"',
        r'^(\s*)wal-dir = ".*"$': rf'\1wal-dir = "{root}/wal"',
        r"^(\s*)store-enabled = true$": r"\1store-enabled = false",
        r"^reporting-enabled = true$": "reporting-enabled = false",
        r"^(\s*)query-log-enabled = true$": r"\1query-log-enabled = false",
        r"^(\s*)log-enabled = true$": r"\1log-enabled = false",
    }
    for pattern, repl in swaps.items():
        base = re.sub(pattern, repl, base, flags=re.M)
    head, _, tail = base.partition("[http]")
    tail = re.sub(r'bind-address = ".*"', f'bind-address = "127.0.0.1:{http_port}"', tail, count=1)
    return head + "[http]" + tail


@dataclass
class Influxd:
    proc: subprocess.Popen[bytes]
    url: str
    root: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_influxd(root: Path, *, auth: bool = False) -> Influxd:
    """InfluxDB 1.x on ``root``; ``auth``: with its HTTP ``auth-enabled = true``."""
    exe = _need("influxd", "influxdb")
    version = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=30).stdout
    if not version.startswith("InfluxDB v1."):
        pytest.skip(f"needs InfluxDB 1.x, found {version.strip()!r}")
    base = subprocess.run([exe, "config"], capture_output=True, text=True, timeout=30).stdout
    http_port = _free_port()
    config = influxd_config(base, root, http_port, _free_port())
    if auth:
        config = re.sub(r"^(\s*)auth-enabled = false$", r"\1auth-enabled = true", config, count=1, flags=re.M)
    (root / "influxdb.conf").write_text(config)
    with (root / "influxd.log").open("wb") as log:
        proc = subprocess.Popen(
            [exe, "run", "-config", str(root / "influxdb.conf")],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    server = Influxd(proc, f"http://127.0.0.1:{http_port}", root)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/ping", timeout=2) as r:
                if r.status == 204:
                    return server
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError((root / "influxd.log").read_text()[-2000:]) from None
            time.sleep(0.1)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> object:
        return json.loads(self.body)


def request(
    base: str,
    path: str,
    params: dict[str, str] | None = None,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    url = f"{base}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return Response(r.status, r.read(), dict(r.headers))
    except urllib.error.HTTPError as e:
        return Response(e.code, e.read(), dict(e.headers))


def write(base: str, db: str, body: str, precision: str = "ns", rp: str = "") -> None:
    params = {"db": db, "precision": precision}
    if rp:
        params["rp"] = rp
    r = request(base, "/write", params, method="POST", data=body.encode())
    assert r.status == 204, (base, r.status, r.body)


@dataclass
class Peers:
    influx: str
    tsgres: str


def _load(base: str) -> None:
    for stmt in SETUP:
        r = request(base, "/query", {"q": stmt}, method="POST")
        assert r.status == 200, (base, stmt, r.body)
    for db in DATABASES + EXTRA_DATABASES:
        for precision, rp, body in line_protocol(db):
            write(base, db, body, precision, rp)


@pytest.fixture(scope="session")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:
    influx = start_influxd(tmp_path_factory.mktemp("influxd"))
    server: ServerProcess | None = None
    try:
        workdir = tmp_path_factory.mktemp("tsgres")
        server = start_server(workdir)
        ts_url = f"http://127.0.0.1:{server.http_port}"
        _load(influx.url)
        _load(ts_url)
        yield Peers(influx.url, ts_url)
    finally:
        if server is not None:
            try:
                server.stop(signal.SIGTERM)
            finally:
                server.kill()
        influx.stop()


@pytest.fixture(scope="session")
def tsgres_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tsgres server with the dataset, for the client tests (no InfluxDB needed)."""
    workdir = tmp_path_factory.mktemp("tsgres-clients")
    server = start_server(workdir)
    try:
        url = f"http://127.0.0.1:{server.http_port}"
        _load(url)
        yield url
    finally:
        try:
            server.stop(signal.SIGTERM)
        finally:
            server.kill()
