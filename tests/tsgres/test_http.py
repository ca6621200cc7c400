from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tsgres import __version__
from tsgres.config import Config
from tsgres.http import INFLUX_VERSION, REGISTRARS, make_app


def with_client(app: web.Application, check: Callable[[TestClient[Any, Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with TestClient(TestServer(app)) as client:
            await check(client)

    asyncio.run(main())


def test_influx_version_is_1x_and_names_tsgres() -> None:
    major, minor, *_ = INFLUX_VERSION.split(".")
    assert (major, minor) == ("1", "8")
    assert INFLUX_VERSION.endswith(f"-tsgres-{__version__}")


def test_ping_get_and_head() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        for method in ("GET", "HEAD"):
            resp = await client.request(method, "/ping")
            assert resp.status == 204
            assert resp.headers["X-Influxdb-Version"] == INFLUX_VERSION
            assert resp.headers["X-Influxdb-Build"] == "OSS"
            assert await resp.read() == b""

    with_client(make_app(None, Config()), check)


def test_ping_verbose() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        resp = await client.get("/ping", params={"verbose": "true"})
        assert resp.status == 200
        assert await resp.json() == {"version": INFLUX_VERSION}
        assert resp.headers["X-Influxdb-Version"] == INFLUX_VERSION
        for off in ("false", "0", ""):
            resp = await client.get("/ping", params={"verbose": off})
            assert resp.status == 204, off

    with_client(make_app(None, Config()), check)


def test_health() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        resp = await client.get("/health")
        assert resp.status == 200
        body = await resp.json()
        uptime = body.pop("uptime_seconds")
        assert isinstance(uptime, float) and uptime >= 0
        assert body == {
            "name": "tsgres",
            "message": "ready for queries and writes",
            "status": "pass",
            "checks": [],
            "version": INFLUX_VERSION,
        }

    with_client(make_app(None, Config()), check)


def test_registrars_add_routes_and_see_engine_and_config() -> None:
    seen: list[tuple[object, Config]] = []

    def register(app: web.Application, engine: object, config: Config) -> None:
        seen.append((engine, config))

        async def hello(request: web.Request) -> web.Response:
            return web.Response(text="hi")

        app.router.add_post("/hello", hello)

    engine, config = object(), Config(http_port=0)

    async def check(client: TestClient[Any, Any]) -> None:
        assert (await client.post("/hello")).status == 200
        assert (await client.get("/ping")).status == 204

    with_client(make_app(engine, config, (*REGISTRARS, register)), check)
    assert seen == [(engine, config)]


def test_body_limit_follows_max_body_bytes() -> None:
    def register(app: web.Application, engine: object, config: Config) -> None:
        async def echo(request: web.Request) -> web.Response:
            return web.Response(body=await request.read())

        app.router.add_post("/echo", echo)

    async def check(client: TestClient[Any, Any]) -> None:
        assert (await client.post("/echo", data=b"x" * 100)).status == 200
        assert (await client.post("/echo", data=b"x" * 101)).status == 413

    with_client(make_app(None, Config(max_body_bytes=100), (register,)), check)
