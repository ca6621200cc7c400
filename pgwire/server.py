"""The asyncio transport for pgwire: accept, read, feed the state machine, write. Nothing else.

Each connection is an :class:`asyncio.Protocol` plus one task. Bytes from the socket go into an inbox;
the task hands them to the :class:`pgwire.protocol.Connection` and runs the
:class:`pgwire.handlers.Handler` in the thread pool (the engine blocks; the loop must not), one step
at a time, writing what each step produced and waiting for the socket to drain before the next, so a
slow reader holds only its own query and no pool thread. Reading pauses while a connection has more
than :data:`INBOX_HIGH` bytes unprocessed.

When the session can tell which statements are immediate (``Session.immediate``: a cached constant
plan, SET, BEGIN, a cached native plan whose recent runs were cheap ...), a step starts on the loop
itself: the handler answers protocol-only messages and immediate statements there and yields
``OFFLOAD`` before anything else (or when the session's ``try_execute`` gives a statement up), which
the task then continues in the pool. A SELECT 1 or a small dashboard query so costs no hand-off to a
thread and back.

A request the handler may replay (``Handler.replayable``: constant queries and protocol bookkeeping
only, e.g. psycopg's Bind/Describe/Execute/Sync of a prepared ``SELECT 1``) that arrived as one chunk
is remembered with its reply; when exactly those bytes arrive again while the connection is idle and
``Handler.reply`` still vouches for them, ``data_received`` writes the reply at once: no task wake,
no parsing, no handler. Bytes that arrive for an idle connection of such a session (nothing buffered,
not paused for writing) start their step right in ``data_received``, without waking the task (~10-15 us
of a round trip on the 2-core machine); if the step yields (OFFLOAD, output to drain) or needs the
task (TLS, cancel, close), the task is woken to finish it.

After each answer written on the loop, ``ServerOptions.answered`` (when set) is called: the server
uses it to keep the loop polling, not sleeping, for a short while (tsgres/busypoll.py).

TLS: an SSLRequest is answered 'S' and the connection upgraded in place when a certificate is
configured, else 'N'; GSSENCRequest is always 'N'. A CancelRequest on a new connection cancels the
running statement of the backend with that process id if the secret key matches. Closing the server
sends every client FATAL 57P01 (terminating connection due to administrator command).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import os
import secrets
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pgwire import messages as m
from pgwire.auth import AuthConfig
from pgwire.errors import AdminShutdown, ProtocolViolation, error_fields
from pgwire.handlers import OFFLOAD, REPLY_MAX_BYTES, Handler, SessionFactory
from pgwire.protocol import MAX_MESSAGE_BYTES, Connection, State

log = logging.getLogger("pgwire.server")

INBOX_HIGH = 1 << 20  # pause reading above this many unprocessed bytes
# a statement of a connection that is gone is cancelled again this often while it still runs: a cancel
# that reaches the session before its engine has begun the statement is lost
CANCEL_AGAIN_S = 0.05
EOF_GRACE_S = 1.0  # how long a statement may run on for a client that closed its sending side
_PID_START = os.getpid() % 10_000 * 100 + 1  # distinct across restarts, positive, small


@dataclass
class ServerOptions:
    auth: AuthConfig = field(default_factory=AuthConfig)
    ssl_context: ssl.SSLContext | None = None  # None: answer SSLRequest with 'N'
    max_message_bytes: int = MAX_MESSAGE_BYTES
    executor: Executor | None = None  # None: a pool of the server's own
    direct_writes: bool = True  # a pool thread sends a step's output itself when the socket is idle
    # called on the loop after each answer it writes (tsgres.busypoll: keep the loop turning a while)
    answered: Callable[[], None] | None = None


_T = TypeVar("_T")


def tls_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


Chunks = list[bytes | memoryview]  # a step's output as queued (Connection.take_output), written with writev
_IOV_CHUNKS = 64  # more chunks than this are joined before a direct writev (the system caps iovecs at 1024)


def _step(gen: Iterator[object], conn: Connection) -> tuple[Chunks, bool, bool]:
    """Run the handler to its next yield: (output, finished, offload: continue in the pool)."""
    offload = finished = False
    try:
        offload = next(gen) is OFFLOAD
    except StopIteration:
        finished = True
    return conn.take_output(), finished, offload


def _rest(chunks: Chunks, n: int) -> Chunks:
    """What is left of ``chunks`` once their first ``n`` bytes are written."""
    for i, chunk in enumerate(chunks):
        size = len(chunk)
        if n < size:
            return [memoryview(chunk)[n:], *chunks[i + 1 :]]
        n -= size
    return []


def _settle(fut: asyncio.Future[Any], result: object, exc: BaseException | None) -> None:
    if not fut.done():
        if exc is None:
            fut.set_result(result)
        else:
            fut.set_exception(exc)


class _PgConnection(asyncio.Protocol):
    def __init__(self, server: PgServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.inbox: list[bytes] = []
        self.inbox_bytes = 0
        self.wake = asyncio.Event()
        self.lost = False
        self.eof = False
        self.reading_paused = False
        self.can_write = asyncio.Event()
        self.can_write.set()
        self.conn = Connection(max_message_bytes=server.options.max_message_bytes)
        self.pid = next(server._pids)
        self.key = secrets.randbits(31)
        self.handler: Handler | None = None
        self.task: asyncio.Task[None] | None = None
        self.busy = False
        self.idle = False  # the task waits for bytes with nothing unprocessed: a reply may be replayed
        # a step data_received began and the task is to finish: (generator or None when it ended,
        # whether it yielded OFFLOAD, the request, what it wrote, its pool part when that began)
        self.started: (
            tuple[Iterator[object] | None, bool, bytes, Chunks, asyncio.Future[Any] | None] | None
        ) = None
        self.replayed = 0  # answers replayed by data_received
        self.steps_in_data_received = 0  # steps data_received started (and ran to the end or handed on)
        # direct writes (see _pool_step): the socket's descriptor, dup'ed for each pool step that may
        # send its output itself, and the lock that orders those sends with the loop's writes
        self.wlock = threading.Lock()
        self.fd = -1  # the step's own descriptor of the socket (-1: none, write through the loop)
        self.raw_fd = -1  # the transport's descriptor, for plain TCP / Unix sockets
        self.direct_writes = 0  # outputs a pool thread sent itself

    # ------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport subclass
        peer = transport.get_extra_info("peername")
        loopback = True
        if isinstance(peer, tuple) and peer:
            try:
                loopback = ipaddress.ip_address(str(peer[0]).split("%")[0]).is_loopback
            except ValueError:
                loopback = False
        self.handler = Handler(
            self.conn,
            self.server.session_factory,
            self.server.options.auth,
            process_id=self.pid,
            secret_key=self.key,
            loopback=loopback,
            peer=peer,
            terminate=self._terminate,
        )
        if self.server.options.direct_writes and transport.get_extra_info("sslcontext") is None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.type == socket.SOCK_STREAM:
                self.raw_fd = sock.fileno()
        self.server._connections.add(self)
        self.task = self.loop.create_task(self._work())

    def data_received(self, data: bytes) -> None:
        handler = self.handler
        if self.idle and not self.inbox and handler is not None and self.can_write.is_set():
            reply = handler.reply(data) if len(data) <= REPLY_MAX_BYTES else None
            if reply is not None:
                self._write(reply)
                self.replayed += 1
                self._answered()
                return
            if not self.conn.buffered() and handler.session_is_immediate():
                self.idle = False  # until the task runs again (it may have to finish the step)
                try:
                    self._step_now(data)
                except Exception:
                    log.exception("pgwire connection %d failed", self.pid)
                    self.conn.close()
                    self.wake.set()
                self._answered()
                return
        self.inbox.append(data)
        self.inbox_bytes += len(data)
        if self.inbox_bytes > INBOX_HIGH and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self.wake.set()

    def eof_received(self) -> bool:
        """The client closed its sending side: answer what it sent, then close (a half-close is legal).

        A killed client's kernel closes the same way, so a statement still running
        :data:`EOF_GRACE_S` later is taken to be for nobody: the connection is dropped, which cancels
        it (connection_lost). One that ends before is answered (on a loaded machine a quick one may
        still be running when the EOF comes)."""
        self.eof = True
        self.wake.set()
        self.loop.call_later(EOF_GRACE_S, self._cancel_after_eof)
        return True

    def _cancel_after_eof(self) -> None:
        """:data:`EOF_GRACE_S` after the client's EOF: drop the connection if a statement still runs
        (connection_lost cancels it); one not begun yet (its step waits for the pool) is looked at
        again shortly, until the connection ends."""
        handler = self.handler
        if self.lost or handler is None or self.task is None or self.task.done():
            return
        if handler.running or handler.streaming:
            if self.transport is not None:
                self.transport.abort()
        else:
            self.loop.call_later(CANCEL_AGAIN_S, self._cancel_after_eof)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.raw_fd = -1
        self._no_direct_writes()
        self.can_write.set()
        self.wake.set()
        handler = self.handler
        if handler is not None and handler.running:
            self._cancel_while_running()

    def _cancel_while_running(self) -> None:
        """The client is gone: cancel the running statement, and again every :data:`CANCEL_AGAIN_S`
        until it stops. ``running`` is set before the engine begins (and the pool thread may wait for
        a core in between): a cancel that comes first finds nothing to interrupt (DuckDB's
        ``interrupt()``, the engine's cancel flag reset at its start) and the statement would run to
        its end for nobody."""
        handler = self.handler
        if handler is None or not (handler.running or handler.streaming):
            return
        if self.task is not None and self.task.done():
            return
        try:
            self.loop.run_in_executor(self.server.executor, handler.cancel)
        except RuntimeError:  # the server has shut its pool down: nothing more to do here
            return
        self.loop.call_later(CANCEL_AGAIN_S, self._cancel_while_running)

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    # ------------------------------------------------------------ the connection's task

    async def _work(self) -> None:
        try:
            await self._serve()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("pgwire connection %d failed", self.pid)
        finally:
            await self._finish()

    def _take_inbox(self) -> None:
        if self.inbox:
            for chunk in self.inbox:
                self.conn.receive_data(chunk)
            self.inbox.clear()
            self.inbox_bytes = 0
            if self.reading_paused and self.transport is not None and not self.lost:
                self.reading_paused = False
                self.transport.resume_reading()

    async def _serve(self) -> None:
        handler = self.handler
        assert handler is not None
        while not self.lost:
            if not self.wake.is_set():
                self.idle = True
                try:
                    await self.wake.wait()
                finally:
                    self.idle = False
            self.wake.clear()
            started, self.started = self.started, None
            if started is not None:  # data_received ran the first part of a step: finish it
                gen, offload, request, out, pending = started
                if gen is not None:
                    await self._drive(gen, not offload, request, list(out), resumed=True, pending=pending)
                if not await self._after_step():
                    break
            # one chunk, all of it new: if the step turns out replayable, remember its reply
            request = self.inbox[0] if len(self.inbox) == 1 and not self.conn.buffered() else None
            self._take_inbox()
            while self.conn.buffered() and not self.lost and self.conn.state is not State.CLOSED:
                await self._drive(handler.run(), handler.session_is_immediate(), request, [], resumed=False)
                request = None
                if not await self._after_step():
                    break
                before = self.conn.buffered()
                request = self.inbox[0] if len(self.inbox) == 1 and not before else None
                self._take_inbox()
                if self.conn.buffered() == before:
                    break  # only a partial message is waiting: wait for more bytes
            if self.conn.state is State.CLOSED or self.eof:
                break

    async def _drive(
        self,
        gen: Iterator[object],
        on_loop: bool,
        request: bytes | None,
        writes: Chunks,
        resumed: bool,
        pending: asyncio.Future[tuple[Chunks, bool, Chunks | None]] | None = None,
    ) -> None:
        """Run a step of the handler to its end, writing what it produces: on the loop while it stays
        there (``on_loop``), else in the pool; ``resumed``: ``gen`` has already yielded once;
        ``pending``: its pool part already began (data_received handed it on)."""
        handler = self.handler
        assert handler is not None
        self.busy = True
        finished = False
        keep = request is not None
        carry: Chunks = []  # output of the loop's part of a step that then offloads: sent with the pool's
        try:
            if resumed and on_loop and not self.lost:
                await self.can_write.wait()  # it yielded to have its output written first
            while not self.lost:
                offload = False
                if pending is not None:
                    future, pending = pending, None
                    out, finished, kept = await future
                elif on_loop:  # the handler yields OFFLOAD before anything that is not immediate
                    handler.on_loop = True
                    try:
                        out, finished, offload = _step(gen, self.conn)
                    finally:
                        handler.on_loop = False
                    on_loop = not offload
                    kept = out if keep and out else None
                    if offload:  # one write for the response: this goes out with what the pool makes
                        carry, out = out, []
                else:
                    future, carry = self._pool_step(gen, keep, carry), []
                    out, finished, kept = await future
                if kept:
                    writes.extend(kept)
                if out:
                    self._write_chunks(out)
                if finished or self.lost:
                    break
                if not offload:
                    await self.can_write.wait()
        finally:
            self.busy = False
            if carry:
                self._write_chunks(carry)
            if not finished:
                await self.loop.run_in_executor(self.server.executor, gen.close)
        if request is not None and finished and handler.replayable():
            handler.remember(request, b"".join(writes))
        if finished:
            self._answered()

    def _answered(self) -> None:
        answered = self.server.options.answered
        if answered is not None and not self.lost:
            answered()

    def _pool_step(
        self, gen: Iterator[object], keep: bool, carry: Chunks
    ) -> asyncio.Future[tuple[Chunks, bool, Chunks | None]]:
        """Continue the step in a pool thread (:meth:`_run_pool_step`); on the loop. When the socket
        may be written from there, the thread gets a descriptor of its own for it (a dup: the
        transport's may be closed and its number reused while the thread runs)."""
        if (
            self.raw_fd >= 0
            and not self.lost
            and self.transport is not None
            and not self.transport.is_closing()
        ):
            try:
                fd = os.dup(self.raw_fd)
            except OSError:
                fd = -1
            with self.wlock:
                self.fd = fd
        return self._submit(self._run_pool_step, gen, keep, carry)

    def _run_pool_step(
        self, gen: Iterator[object], keep: bool, carry: Chunks
    ) -> tuple[Chunks, bool, Chunks | None]:
        """In a pool thread: run the step to its next yield and send its output straight to the socket
        when nothing else waits to be written; while all of it goes out so, run on to the next yield.
        Returns (what the loop is to write, finished, everything the step produced when ``keep``)."""
        conn = self.conn
        kept: Chunks | None = [] if keep else None
        try:
            while True:
                out, finished, _ = _step(gen, conn)
                if kept is not None and out:
                    kept.extend(out)
                if carry:
                    out, carry = carry + out, []
                if out and self.fd >= 0:
                    out = self._send_direct(out)
                if out or finished or self.fd < 0:
                    return out, finished, kept
        finally:
            self._no_direct_writes()

    def _send_direct(self, data: Chunks) -> Chunks:
        """Write ``data`` to the socket from this (pool) thread when nothing is waiting in the
        transport's buffer, as far as the socket takes it without blocking (one writev); what is left,
        the loop writes (and waits for the socket to drain before the step goes on)."""
        if len(data) > _IOV_CHUNKS:
            data = [b"".join(data)]
        with self.wlock:
            fd = self.fd
            transport = self.transport
            if fd < 0 or self.lost or transport is None or transport.is_closing():
                return data
            if transport.get_write_buffer_size():
                return data  # the loop has bytes to send first: keep the order
            try:
                n = os.writev(fd, data)
            except (BlockingIOError, InterruptedError):
                return data
            except OSError:  # the peer is gone: the loop sees it too, and drops what is left
                return data
            self.direct_writes += 1  # (under the lock: whoever takes it after the client read sees it)
        return _rest(data, n)

    def _no_direct_writes(self) -> None:
        """End the current pool step's direct writes (its own descriptor closed); any thread."""
        with self.wlock:
            fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def _submit(self, fn: Callable[..., _T], *args: object) -> asyncio.Future[_T]:
        """``fn(*args)`` in the pool; its result comes back to the loop with one callback (cheaper
        than ``run_in_executor``, which chains a concurrent future to an asyncio one)."""
        loop = self.loop
        future: asyncio.Future[_T] = loop.create_future()

        def call() -> None:
            try:
                result: object = fn(*args)
                exc: BaseException | None = None
            except BaseException as e:
                result, exc = None, e
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, result, exc)

        self.server.executor.submit(call)
        return future

    async def _after_step(self) -> bool:
        """Act on what the step asked of the transport (TLS, a cancel); False when the connection is over."""
        handler = self.handler
        assert handler is not None
        if handler.ssl_requested:
            handler.ssl_requested = False
            await self._answer_ssl()
        if handler.cancel_request is not None:
            req = handler.cancel_request
            await self.server._cancel(req.process_id, req.secret_key)
        return self.conn.state is not State.CLOSED

    def _step_now(self, data: bytes) -> None:
        """An idle connection's new bytes: start the step on the loop here, in data_received (no task
        wake); when it ends here with nothing more to do, the task goes on waiting, else it continues.
        A step that offloads is handed to the pool from here (the task, woken, waits for it)."""
        handler = self.handler
        assert handler is not None
        self.steps_in_data_received += 1
        self.conn.receive_data(data)
        gen = handler.run()
        handler.on_loop = True
        try:
            out, finished, offload = _step(gen, self.conn)
        finally:
            handler.on_loop = False
        pending = None
        if not finished and offload:  # to the pool at once, this output going with its output
            pending = self._pool_step(gen, True, out)
        else:  # written here and only here: the task, woken to close the connection, writes nothing
            if out:
                self._write_chunks(out)
            if (
                finished
                and not handler.ssl_requested
                and handler.cancel_request is None
                and self.conn.state is not State.CLOSED
            ):
                if handler.replayable():
                    handler.remember(data, b"".join(out))
                self.idle = True  # the task still waits, with nothing to do
                return
        self.started = (None if finished else gen, offload, data, out, pending)
        self.wake.set()

    def _write(self, data: bytes) -> None:
        with self.wlock:
            if self.transport is not None and not self.lost and not self.transport.is_closing():
                self.transport.write(data)

    def _write_chunks(self, chunks: Chunks) -> None:
        """Write a step's output as it was queued (uvloop writes the chunks with one writev)."""
        with self.wlock:
            if self.transport is not None and not self.lost and not self.transport.is_closing():
                if len(chunks) == 1:
                    self.transport.write(chunks[0])
                else:
                    self.transport.writelines(chunks)

    async def _answer_ssl(self) -> None:
        sslctx = self.server.options.ssl_context
        assert self.transport is not None
        if sslctx is None:
            self._write(b"N")
            return
        if self.conn.buffered() or self.inbox:
            err = ProtocolViolation("received unencrypted data after SSL request")
            self._write(m.ErrorResponse(error_fields(err)).encode())
            self.conn.close()
            return
        self.raw_fd = -1  # from here on the TLS transport writes, and only it
        self._write(b"S")
        try:
            transport = await self.loop.start_tls(self.transport, self, sslctx, server_side=True)
        except (OSError, ssl.SSLError) as e:
            log.info("TLS handshake with connection %d failed: %s", self.pid, e)
            self.conn.close()
            return
        if transport is None:
            self.conn.close()
            return
        self.transport = transport  # type: ignore[assignment]

    async def _finish(self) -> None:
        self.server._connections.discard(self)
        self.raw_fd = -1
        self._no_direct_writes()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        if self.handler is not None:
            with contextlib.suppress(Exception):
                await self.loop.run_in_executor(self.server.executor, self.handler.close)

    def _terminate(self) -> None:
        """pg_terminate_backend, from any thread: shut this connection down on the loop."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the connection is gone
            self.loop.call_soon_threadsafe(self.shutdown)

    def shutdown(self) -> None:
        """Server shutdown, pg_terminate_backend: tell the client why, close, and then cancel what
        runs (first, its 57014 could reach the client before the FATAL, and the client would report
        that instead, as libpq keeps the last error)."""
        fatal = m.ErrorResponse(
            error_fields(AdminShutdown("terminating connection due to administrator command"))
        )
        with self.wlock:  # (so no direct write of a pool thread lands between the FATAL and the close)
            transport = self.transport
            if transport is not None and not self.lost and not transport.is_closing():
                transport.write(fatal.encode())
            if transport is not None:
                transport.close()
        self.conn.close()
        if self.handler is not None and self.handler.running:
            self.loop.run_in_executor(self.server.executor, self.handler.cancel)
        self.wake.set()


class PgServer:
    """A running pgwire listener: ``addresses`` it bound, ``close()`` to stop it."""

    def __init__(self, session_factory: SessionFactory, options: ServerOptions) -> None:
        self.session_factory = session_factory
        self.options = options
        self.addresses: list[tuple[str, int]] = []
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_PgConnection] = set()
        self._pids = itertools.count(_PID_START)
        self._own_executor: ThreadPoolExecutor | None = None
        if options.executor is None:
            self._own_executor = ThreadPoolExecutor(thread_name_prefix="pgwire")
        self.executor: Executor = options.executor or self._own_executor  # type: ignore[assignment]

    def connection_count(self) -> int:
        return len(self._connections)

    async def _cancel(self, pid: int, key: int) -> None:
        for c in list(self._connections):
            if c.pid == pid:
                if c.key == key and c.handler is not None:
                    await asyncio.get_running_loop().run_in_executor(self.executor, c.handler.cancel)
                else:
                    log.info("cancel request for backend %d with a wrong key ignored", pid)
                return

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for c in list(self._connections):
            c.shutdown()
        tasks = [c.task for c in list(self._connections) if c.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)
            self._server = None
        if self._own_executor is not None:
            self._own_executor.shutdown(wait=False)


async def serve(
    host: str, port: int, session_factory: SessionFactory, options: ServerOptions | None = None
) -> PgServer:
    """Start listening on ``host:port`` (0: any free port); the result's ``addresses`` say where."""
    pg = PgServer(session_factory, options or ServerOptions())
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _PgConnection(pg), host, port, reuse_address=True, backlog=1024)
    pg._server = server
    pg.addresses = [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in server.sockets]
    return pg


__all__ = ["PgServer", "ServerOptions", "serve", "tls_context"]
