"""The server's lifecycle in-process, with a stand-in for the storage engine.

The real engine is exercised by test_serve.py through a subprocess; here the point is the order of
start-up and shutdown, and that a failed start still closes what it opened.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest

from tsgres.config import Config
from tsgres.server import Listener, Server, format_address, start_http

REPO = Path(__file__).resolve().parents[2]


class RecordingEngine:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.events.append("open")

    def close(self) -> None:
        self.events.append("close")


def make_server(tmp_path: Path, events: list[str], **overrides: object) -> Server:
    config = Config(data_dir=tmp_path / "data", http_port=0, pg_port=0)
    return Server(config, open_engine=lambda c: RecordingEngine(events), **overrides)  # type: ignore[arg-type]


def test_start_serves_http_and_stop_closes_engine_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[str] = []

    async def main() -> None:
        server = make_server(tmp_path, events)
        await server.start()
        try:
            [listener] = [x for x in server.listeners if x.name == "http"]  # pgwire may listen too
            host, port = listener.addresses[0]
            assert (host, listener.name) == ("127.0.0.1", "http")
            assert port != 0
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/ping") as resp:
                    assert resp.status == 204
        finally:
            await server.stop()
        assert server.listeners == [] and server.engine is None
        await server.stop()  # a second stop does nothing

    asyncio.run(main())
    assert events == ["open", "close"]
    out = capsys.readouterr().out
    assert out.startswith("tsgres: http listening on 127.0.0.1:")


def test_failed_listener_still_closes_engine(tmp_path: Path) -> None:
    events: list[str] = []

    async def broken(server: Server) -> Listener:
        raise OSError("address already in use")

    async def main() -> None:
        server = make_server(tmp_path, events, listener_starters=(start_http, broken))
        with pytest.raises(OSError):
            await server.start()
        assert len(server.listeners) == 1  # the http listener started before the broken one
        await server.stop()
        assert server.listeners == []

    asyncio.run(main())
    assert events == ["open", "close"]


def test_http_port_in_use(tmp_path: Path) -> None:
    events: list[str] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def main() -> None:
            server = make_server(tmp_path, events)
            server.config = Config(data_dir=tmp_path, http_port=port)
            with pytest.raises(OSError):
                await server.start()
            await server.stop()

        asyncio.run(main())
    assert events == ["open", "close"]


def test_engine_open_runs_off_the_loop(tmp_path: Path) -> None:
    threads: list[str] = []

    def open_engine(config: Config) -> RecordingEngine:
        threads.append(threading.current_thread().name)
        return RecordingEngine([])

    async def main() -> None:
        server = Server(Config(data_dir=tmp_path, http_port=0), open_engine=open_engine)
        await server.start()
        await server.stop()

    asyncio.run(main())
    assert threads and threads[0] != threading.main_thread().name


def test_jobs_run_until_stop_and_survive_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("boom")

    async def main() -> None:
        server = make_server(tmp_path, [], listener_starters=())
        await server.start()
        server.start_job("test-job", 0.01, work)
        for _ in range(500):
            if len(runs) >= 4:
                break
            await asyncio.sleep(0.01)
        await server.stop()
        count = len(runs)
        await asyncio.sleep(0.05)
        assert len(runs) == count  # stopped means stopped

    with caplog.at_level(logging.ERROR, logger="tsgres.server"):
        asyncio.run(main())
    assert len(runs) >= 4
    assert "background job test-job failed" in caplog.text


def test_format_address() -> None:
    assert format_address("127.0.0.1", 80) == "127.0.0.1:80"
    assert format_address("::1", 80) == "[::1]:80"


SLOW_CLOSE = """
import sys, time
import tsgres.server

class SlowToClose:
    def close(self):
        print("closing", flush=True)
        time.sleep(60)

tsgres.server._open_engine = lambda config: SlowToClose()
from tsgres.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_second_signal_during_shutdown_exits_at_once(tmp_path: Path, sig: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSGRES_")}
    env["PYTHONPATH"] = str(REPO)
    argv = [
        sys.executable,
        "-c",
        SLOW_CLOSE,
        "serve",
        "--data-dir",
        str(tmp_path),
        "--http-port",
        "0",
        "--pg-port",
        "0",
    ]
    proc = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, proc.kill)  # readline() below must not wait forever
    watchdog.start()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert "listening on" in proc.stdout.readline()
        proc.send_signal(sig)
        line = proc.stdout.readline()
        while "listening on" in line:  # the other listeners (pgwire) announce themselves too
            line = proc.stdout.readline()
        assert line == "closing\n"
        proc.send_signal(sig)
        started = time.monotonic()
        assert proc.wait(timeout=10) == 128 + sig
        assert time.monotonic() - started < 10
        assert "again, exiting without a clean shutdown" in proc.stderr.read()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
