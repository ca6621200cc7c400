"""``tsgres serve`` as a user runs it: a real process, real sockets, real signals, the real engine."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tsgres.http import INFLUX_VERSION

EXIT_TIMEOUT_S = 10.0


def request(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as resp:
        return resp.status, dict(resp.headers), resp.read()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_answers_http_and_stops_cleanly_on_signal(tsgres_server: Callable[..., Any], sig: int) -> None:
    server = tsgres_server()
    assert "http" in server.listeners  # pgwire is tested end to end in tests/pgwire/test_tsgres_serve.py
    assert server.listeners["http"][0] == "127.0.0.1"

    status, headers, body = request(server.http_url("/ping"))
    assert status == 204 and body == b""
    assert headers["X-Influxdb-Version"] == INFLUX_VERSION
    assert headers["X-Influxdb-Build"] == "OSS"
    assert request(server.http_url("/ping"), method="HEAD")[0] == 204

    status, _, body = request(server.http_url("/ping?verbose=true"))
    assert status == 200 and json.loads(body) == {"version": INFLUX_VERSION}

    status, _, body = request(server.http_url("/health"))
    assert status == 200
    health = json.loads(body)
    assert (health["name"], health["status"], health["version"]) == ("tsgres", "pass", INFLUX_VERSION)

    assert server.data_dir.is_dir()

    started = time.monotonic()
    assert server.stop(sig, timeout=EXIT_TIMEOUT_S) == 0, server.stderr()
    assert time.monotonic() - started < EXIT_TIMEOUT_S
    log = server.stderr()
    assert "storage closed" in log
    assert "Traceback" not in log


def test_serve_takes_settings_from_environment_and_file(
    tsgres_server: Callable[..., Any], tmp_path: Path
) -> None:
    config = tmp_path / "tsgres.toml"
    config.write_text('log_level = "debug"\n[storage]\nwal_fsync = "always"\n')
    server = tsgres_server(env={"TSGRES_CONFIG": str(config), "TSGRES_HTTP_PORT": "1"})
    # The fixture's --http-port 0 beats TSGRES_HTTP_PORT=1; the file's log level reaches the log.
    assert server.http_port not in (0, 1)
    assert request(server.http_url("/ping"))[0] == 204
    assert server.stop() == 0
    log = server.stderr()
    assert " DEBUG " in log
    assert "wal_fsync='always'" in log  # the [storage] table reached the engine options


@pytest.mark.usefixtures("requires_engine")
def test_serve_exits_1_when_the_http_port_is_taken(tsgres_run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = tsgres_run("serve", "--data-dir", "data", "--http-port", str(port), "--pg-port", "0")
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert "storage closed" in result.stderr  # what was opened is closed again
    assert "listening" not in result.stdout
