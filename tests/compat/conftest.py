"""Fixtures for compatibility tests: tsgres with a real storage engine, in-process or as a subprocess.

* ``write_app``: the HTTP application (every registrar) over a real :class:`Engine` in a temporary
  directory, served by aiohttp's test server in this process. ``app.run(check)`` runs an async
  ``check(client)``; ``app.read(table)`` reads a table back through ``columnar.scan``.
* ``tsgres_proc``: ``python -m tsgres serve`` in a subprocess on ephemeral ports (see
  tests/conftest.py), stopped by pid with SIGTERM at the end; ``read_back(data_dir)`` opens a fresh
  engine on its data directory after it stopped.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from aiohttp.test_utils import TestClient, TestServer

from columnar.engine import Engine
from columnar.options import EngineOptions
from columnar.scan import ScanRequest, read_table
from tests.conftest import ServerProcess, start_server
from tsgres.config import Config
from tsgres.http import make_app

Client = TestClient[Any, Any]


def read_rows(engine: Engine, database: str, table: str, rp: str | None = None) -> pa.Table:
    """Every row of ``table`` sorted by time, then tags; ``time`` as int64 ns, tags as plain strings."""
    t = read_table(engine, ScanRequest(database, table, rp=rp))
    tags = [n for n in t.column_names if pa.types.is_dictionary(t.schema.field(n).type)]
    cols = {n: t[n].cast(pa.string()) if n in tags else t[n] for n in t.column_names}
    cols["time"] = t["time"].cast(pa.int64())
    return pa.table(cols).sort_by([("time", "ascending")] + [(n, "ascending") for n in tags])


@contextmanager
def engine_on(data_dir: Path, **options: Any) -> Iterator[Engine]:
    options.setdefault("compaction_interval_s", 0)
    engine = Engine.open(data_dir, EngineOptions(**options))
    try:
        yield engine
    finally:
        engine.close()


@dataclass
class WriteApp:
    engine: Engine
    config: Config

    def run(self, check: Callable[[Client], Awaitable[None]]) -> None:
        async def main() -> None:
            async with TestClient(TestServer(make_app(self.engine, self.config))) as client:
                await check(client)

        asyncio.run(main())

    def read(self, table: str, database: str = "db", rp: str | None = None) -> pa.Table:
        return read_rows(self.engine, database, table, rp)

    def rows(self, table: str, database: str = "db", rp: str | None = None) -> list[dict[str, Any]]:
        return self.read(table, database, rp).to_pylist()


@pytest.fixture
def write_app(tmp_path: Path) -> Iterator[Callable[..., WriteApp]]:
    """A factory: ``write_app(auto_create_databases=False, storage={"series_limit": 3})``."""
    engines: list[Engine] = []

    def make(storage: dict[str, Any] | None = None, **config: Any) -> WriteApp:
        options = {"compaction_interval_s": 0, **(storage or {})}
        engine = Engine.open(tmp_path / f"data{len(engines)}", EngineOptions(**options))
        engines.append(engine)
        return WriteApp(engine, Config(data_dir=tmp_path, **config))

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def tsgres_proc(requires_engine: None, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """A factory for tsgres server subprocesses; each is stopped by pid (SIGTERM, then kill) at the end."""
    started: list[ServerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> ServerProcess:
        workdir = tmp_path / f"server{len(started)}"
        workdir.mkdir()
        server = start_server(workdir, *args, env=env)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            try:
                server.stop(signal.SIGTERM)
            finally:
                server.kill()


def stop_cleanly(server: ServerProcess) -> None:
    """SIGTERM and require a clean exit, so the data directory can be opened by a fresh engine."""
    code = server.stop(signal.SIGTERM)
    assert code == 0, server.stderr()
