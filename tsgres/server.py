"""The server process: one asyncio loop that owns the storage engine, the listeners and background jobs.

Start-up order is storage first, then listeners, so a client that can connect can also write. Shutdown
runs the other way: stop accepting and close the listeners, stop the jobs, then ``engine.close()``
(flushes and closes the WAL). Blocking engine calls run in the loop's thread pool, never on the loop.

Listeners come from :data:`LISTENERS`: each starter opens its sockets and returns a :class:`Listener`.
The PostgreSQL wire protocol (:func:`start_pgwire`) is one of them whenever the SQL engine
(``sql.engine``) is in the build to answer its queries.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tsgres.busypoll import BusyPoll, CountingExecutor
from tsgres.config import Config
from tsgres.http import make_app

log = logging.getLogger("tsgres.server")

# How long in-flight HTTP requests get to finish once shutdown starts.
HTTP_SHUTDOWN_TIMEOUT_S = 5.0
# Threads that run pgwire sessions' protocol steps and queries (see start_pgwire).
PGWIRE_WORKERS = 64
# How long the process, once stopped, waits for the kernel warm-up to end: it stops between its steps
# and queries, so what it is still in after this is a numba compile, which cannot be stopped (seconds
# on a cold cache: the process then exits without it, see run()).
WARMUP_EXIT_WAIT_S = 2.0


@dataclass
class Listener:
    name: str  # "http", "pgwire", ...
    addresses: list[tuple[str, int]]  # every (host, port) actually bound
    close: Callable[[], Awaitable[None]]


# A starter returns None when its listener is not configured (UDP without udp_bind).
ListenerStarter = Callable[["Server"], Awaitable[Listener | None]]


async def start_http(server: Server) -> Listener:
    _watch_wal_fsync(server.engine)
    runner = web.AppRunner(make_app(server.engine, server.config), shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        site = _http_site(runner, server.config.host, server.config.http_port, server.answered())
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    addresses = [(str(a[0]), int(a[1])) for a in runner.addresses]
    return Listener("http", addresses, runner.cleanup)


def _http_site(
    runner: web.AppRunner, host: str, port: int, answered: Callable[[], None] | None
) -> web.TCPSite:
    """The listening site: /query's lean front (compat/influx/front.py) in front of aiohttp, which
    answers every other request."""
    from compat.influx.front import FrontSite  # imported here: compat imports tsgres.http
    from compat.influx.query import QUERY_SERVICE

    if QUERY_SERVICE not in runner.app:
        return web.TCPSite(runner, host, port)
    return FrontSite(runner, host, port, HTTP_SHUTDOWN_TIMEOUT_S, answered)


def _watch_wal_fsync(engine: Any) -> None:
    """Feed WAL fsync durations to the /metrics histogram."""
    wal = getattr(engine, "wal", None)
    if wal is None:
        return
    from compat.influx.metrics import metrics_for

    engine.watch_wal_fsync(metrics_for(engine).observe_wal_fsync)


async def start_udp(server: Server) -> Listener | None:
    """Line protocol over UDP when ``udp_bind`` is set."""
    config = server.config
    if config.udp_bind is None:
        return None
    from compat.influx.metrics import metrics_for
    from compat.influx.udp import start_udp_listener

    addresses, close = await start_udp_listener(
        server.engine, config.udp_bind, config.udp_database, metrics_for(server.engine)
    )
    return Listener("udp", addresses, close)


async def start_pgwire(server: Server) -> Listener:
    """The PostgreSQL listener; its sessions come from the SQL engine over the server's storage."""
    from pgwire.auth import AuthConfig, PasswordStore
    from pgwire.server import ServerOptions, serve, tls_context
    from sql import temp_tables
    from sql.engine import SqlEngine
    from sql.roles import login_secret, role

    config = server.config
    loop = asyncio.get_running_loop()
    store = (
        PasswordStore.from_file(str(config.pg_password_file)) if config.pg_password_file else PasswordStore()
    )
    tls = (
        tls_context(str(config.pg_tls_cert), str(config.pg_tls_key))
        if config.pg_tls_cert and config.pg_tls_key
        else None
    )
    # A pool of its own, one thread per active session we plan for: a fresh connection's start-up and
    # SELECT 1 then share the CPU with running queries instead of queueing behind all of them in the
    # default pool's few threads (tests/compat/pg/test_scale.py: 500 idle + 64 active sessions).
    executor = CountingExecutor(max_workers=PGWIRE_WORKERS, thread_name_prefix="tsgres-pgwire")
    server.pools.append(executor)
    options = ServerOptions(
        auth=AuthConfig(config.pg_auth_method, store),
        ssl_context=tls,
        executor=executor,
        answered=server.answered(),
    )
    sql_engine = await loop.run_in_executor(None, SqlEngine, server.engine)
    # (before any session: what sessions of an earlier run left; sql/temp_tables.py)
    await loop.run_in_executor(None, temp_tables.drop_leftovers, sql_engine)
    if store.fallback is None:  # roles made by CREATE ROLE ... LOGIN PASSWORD log in too (sql/roles.py)
        store.fallback = lambda user: login_secret(sql_engine.storage.catalog, user)
        store.role_exists = lambda user: (
            user == "postgres" or role(sql_engine.storage.catalog, user) is not None
        )
    try:
        pg = await serve(config.host, config.pg_port, sql_engine.session, options)
    except BaseException:
        sql_engine.close()
        executor.shutdown(wait=False)
        raise

    async def close() -> None:
        await pg.close()
        await loop.run_in_executor(None, sql_engine.close)
        executor.shutdown(wait=False, cancel_futures=True)

    return Listener("pgwire", pg.addresses, close)


def _pgwire_available() -> bool:
    """pgwire needs the SQL engine (sql/engine.py) to answer queries; without it no port is bound."""
    return importlib.util.find_spec("sql.engine") is not None


LISTENERS: tuple[ListenerStarter, ...] = (
    start_http,
    start_udp,
    *((start_pgwire,) if _pgwire_available() else ()),
)


def _open_engine(config: Config) -> Any:
    from columnar.engine import Engine  # imported late: `tsgres version` must not need storage

    data_dir = config.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return Engine.open(data_dir, config.engine_options())


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Server:
    """Owns what the process runs. ``start()`` then ``stop()``; ``stop()`` also undoes a partial start."""

    config: Config
    open_engine: Callable[[Config], Any] | None = None  # None: columnar.engine.Engine.open
    listener_starters: Sequence[ListenerStarter] = LISTENERS
    engine: Any = None
    listeners: list[Listener] = field(default_factory=list)
    _jobs: list[asyncio.Task[None]] = field(default_factory=list)
    _warmup: Any = None
    _continuous: Any = None  # retention.continuous.Scheduler, when continuous queries run
    _actions: Any = None  # retention.jobs.Actions, when jobs run
    # thread pools whose running tasks hold off the busy poller: the loop's default pool (serve()) and
    # pgwire's (start_pgwire)
    pools: list[CountingExecutor] = field(default_factory=list)
    busy_poll: BusyPoll | None = None
    _stop_warmup: threading.Event = field(default_factory=threading.Event)

    def answered(self) -> Callable[[], None] | None:
        """The hook the listeners call after each answer they write on the loop (busy polling)."""
        return self.busy_poll.answered if self.busy_poll is not None else None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        log.info("opening storage in %s", self.config.data_dir.resolve())
        self.engine = await loop.run_in_executor(None, self.open_engine or _open_engine, self.config)
        from tsgres.warmup import warm_up

        # compiles kernels while listeners start. Not a daemon: a thread still inside numba when the
        # interpreter finalizes aborts the process; run() waits for it, or exits without finalizing
        self._warmup = threading.Thread(target=warm_up, args=(self._stop_warmup,), name="tsgres-warmup")
        self._warmup.start()
        if self.config.busy_poll_us > 0:
            self.busy_poll = BusyPoll(self.config.busy_poll_us)
            self.busy_poll.pools = self.pools
        for start in self.listener_starters:
            listener = await start(self)
            if listener is None:
                continue
            self.listeners.append(listener)
            for host, port in listener.addresses:
                print(f"tsgres: {listener.name} listening on {format_address(host, port)}", flush=True)
        if self.config.retention_check_interval_s > 0:
            from retention.enforcer import enforce

            engine = self.engine
            self.start_job("retention", self.config.retention_check_interval_s, lambda: enforce(engine))
        if self.config.jobs_check_interval_s > 0:
            from retention import jobs

            engine = self.engine
            actions = self._actions = jobs.Actions(engine)  # (add_job's procedures)
            self.start_job(
                "jobs", self.config.jobs_check_interval_s, lambda: jobs.run_due(engine, None, actions)
            )
        if self.config.continuous_query_check_interval_s > 0:
            from retention.continuous import Scheduler

            self._continuous = Scheduler(self.engine)
            self.start_job(
                "continuous queries", self.config.continuous_query_check_interval_s, self._continuous.run_due
            )
        if not any(listener.name == "pgwire" for listener in self.listeners):
            log.warning("pgwire is not available in this build: pg_port %d is not bound", self.config.pg_port)

    def start_job(self, name: str, interval_s: float, work: Callable[[], object]) -> None:
        """Run the blocking ``work`` in the thread pool every ``interval_s`` seconds until stop()."""
        self._jobs.append(asyncio.create_task(self._run_job(name, interval_s, work), name=name))

    async def _run_job(self, name: str, interval_s: float, work: Callable[[], object]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval_s)
            try:
                await loop.run_in_executor(None, work)
            except Exception:
                log.exception("background job %s failed; it runs again in %.3gs", name, interval_s)

    def warm_up_ended(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the kernel warm-up thread; whether it has ended (after
        stop(), it ends at its next step or query, unless a compile holds it)."""
        if self._warmup is None:
            return True
        self._warmup.join(timeout)
        return not self._warmup.is_alive()

    async def stop(self) -> None:
        self._stop_warmup.set()  # (run() waits for the warm-up to notice)
        while self.listeners:
            listener = self.listeners.pop()
            try:
                await listener.close()
            except Exception:
                log.exception("closing the %s listener failed", listener.name)
        for job in self._jobs:
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        self._jobs.clear()
        if self._continuous is not None:
            scheduler, self._continuous = self._continuous, None
            await asyncio.get_running_loop().run_in_executor(None, scheduler.close)
        if self._actions is not None:  # (waits for an action in flight)
            actions, self._actions = self._actions, None
            await asyncio.get_running_loop().run_in_executor(None, actions.close)
        if self.busy_poll is not None:
            self.busy_poll.close()
            self.busy_poll = None
        if self.engine is not None:
            engine, self.engine = self.engine, None
            log.info("closing storage")
            await asyncio.get_running_loop().run_in_executor(None, engine.close)
            log.info("storage closed")


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def serve(server: Server) -> int:
    """Run ``server`` until SIGINT or SIGTERM, then shut it down. Returns the process exit code.

    A second signal while shutting down exits at once, without waiting for the engine to close.
    """
    loop = asyncio.get_running_loop()
    pool = CountingExecutor(thread_name_prefix="tsgres-worker")
    loop.set_default_executor(pool)
    server.pools.append(pool)
    log.debug("event loop: %s.%s", type(loop).__module__, type(loop).__qualname__)
    stopping = asyncio.Event()

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if stopping.is_set():
            print(f"tsgres: {name} again, exiting without a clean shutdown", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        log.info("%s received, shutting down", name)
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    code = 0
    try:
        await server.start()
        log.info("ready")
        await stopping.wait()
    except OSError as e:  # a port in use, a data directory we may not write, ...
        log.error("cannot start: %s", e)
        code = 1
    except Exception:
        log.exception("cannot start")
        code = 1
    finally:
        stopping.set()  # from here on a signal means "exit now"
        try:
            await server.stop()
        except Exception:
            log.exception("shutdown failed")
            code = 1
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    log.info("stopped")
    return code


def run(config: Config) -> int:
    """Serve with ``config`` on a fresh event loop (uvloop when installed); the process exit code.

    When the kernel warm-up is still compiling once the server has stopped (storage closed, logs
    written), the process exits here and now, without finalizing the interpreter (which would wait
    for the compile: up to ~20 s a step on a cold numba cache, past a supervisor's stop timeout, e.g.
    Docker's 10 s before SIGKILL; or abort inside numba, were the thread a daemon)."""
    server = Server(config)
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        code = runner.run(serve(server))
    if not server.warm_up_ended(WARMUP_EXIT_WAIT_S):
        log.info("exiting while the kernel warm-up still compiles")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
