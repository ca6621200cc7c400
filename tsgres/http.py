"""The HTTP listener's application: status routes here, other worlds' routes registered by their packages.

A registrar is a function ``register(app, engine, config)`` that adds routes to ``app``. The server
builds the app from :data:`REGISTRARS`, so a new surface (the Influx /write and /query routes in
compat/influx, later Prometheus remote write) is one line in that tuple.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from tsgres import __version__
from tsgres.config import Config

# What /ping and /health report as the InfluxDB version. Clients of InfluxDB 1.x read the major and
# minor version from the front of this string; the suffix says which server it really is.
INFLUX_COMPAT_VERSION = "1.8.10"
INFLUX_VERSION = f"{INFLUX_COMPAT_VERSION}-tsgres-{__version__}"

Registrar = Callable[[web.Application, Any, Config], None]

STARTED_AT = web.AppKey("started_at", float)


def _influx_headers() -> dict[str, str]:
    return {"X-Influxdb-Version": INFLUX_VERSION, "X-Influxdb-Build": "OSS"}


def _is_true(flag: str) -> bool:
    # InfluxDB 1.x treats any value other than empty, "0" and "false" as true.
    return flag not in ("", "0", "false")


async def ping(request: web.Request) -> web.Response:
    """GET/HEAD /ping: 204 with the version headers; ?verbose=true answers 200 with a JSON body."""
    if _is_true(request.query.get("verbose", "")):
        return web.json_response({"version": INFLUX_VERSION}, headers=_influx_headers())
    return web.Response(status=204, headers=_influx_headers())


async def health(request: web.Request) -> web.Response:
    """GET /health: the InfluxDB 1.8 health document, plus how long the server has been up."""
    body = {
        "name": "tsgres",
        "message": "ready for queries and writes",
        "status": "pass",
        "checks": [],
        "version": INFLUX_VERSION,
        "uptime_seconds": round(time.monotonic() - request.app[STARTED_AT], 3),
    }
    return web.json_response(body, headers=_influx_headers())


def register_status_routes(app: web.Application, engine: Any, config: Config) -> None:
    app.router.add_get("/ping", ping)  # add_get also answers HEAD
    app.router.add_get("/health", health)


def register_influx_write(app: web.Application, engine: Any, config: Config) -> None:
    from compat.influx.http import register  # imported here: compat imports this module

    register(app, engine, config)


def register_influx_query(app: web.Application, engine: Any, config: Config) -> None:
    from compat.influx.query import register  # imported here: compat imports this module

    register(app, engine, config)


REGISTRARS: tuple[Registrar, ...] = (register_status_routes, register_influx_write, register_influx_query)


def make_app(engine: Any, config: Config, registrars: Sequence[Registrar] = REGISTRARS) -> web.Application:
    """The aiohttp application for the HTTP listener, with every registrar's routes added."""
    # aiohttp's own body limit; 0 means none, which aiohttp spells as a very large number.
    max_size = config.max_body_bytes or 2**62
    # Bodies arrive as sent: the write endpoints gunzip themselves, with a cap on the inflated size
    # (aiohttp's own decompression has none, so a small gzip bomb could fill memory).
    app = web.Application(client_max_size=max_size, handler_args={"auto_decompress": False})
    app[STARTED_AT] = time.monotonic()
    for register in registrars:
        register(app, engine, config)
    return app
