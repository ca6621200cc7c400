"""Query bookkeeping: start-up, simple and extended query, COPY; the engine only prepares and executes.

:class:`Handler` reads messages from a :class:`pgwire.protocol.Connection` and answers them through it.
Everything that is protocol and not SQL lives here: several statements per Query, empty queries,
named and unnamed statements and portals, row limits and PortalSuspended, discarding until Sync after
an error, format codes, ReadyForQuery with the session's transaction status, ParameterStatus,
ErrorResponse fields. The engine is reached only through :class:`sql.session.Session`
(split/prepare/execute/copy_in/cancel).

``Handler.run()`` is a generator: it processes every complete message buffered in the connection and
yields whenever enough output has piled up (or a Flush asks for it), so the transport can write it and
wait for the client to read before asking for more. It blocks on the engine, so the transport runs it
off the event loop.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from pgwire import messages as m
from pgwire.auth import AuthConfig, Exchange
from pgwire.copy import CopyOutWriter
from pgwire.errors import (
    BindMismatch,
    FatalCatalogError,
    InvalidAuthorization,
    InvalidFormatCode,
    ProtocolViolation,
    error_fields,
)
from pgwire.protocol import Connection, State
from pgwire.types import BatchRows, Context, decode_param, encode_value, register_user_types, type_size
from sql import activity
from sql.errors import (
    DuplicateCursor,
    DuplicatePreparedStatement,
    FeatureNotSupported,
    InvalidCatalogName,
    InvalidCursorName,
    InvalidParameterValue,
    InvalidSqlStatementName,
    QueryCanceled,
    SqlError,
)
from sql.session import ColumnDesc, CopyRequest, Result, Session, Statement

log = logging.getLogger("pgwire")

FLUSH_BYTES = 256 * 1024  # yield to the transport once this much output is waiting
INLINE_BUDGET_S = 0.0005  # on the event loop, offload before a new request once a step has run this long
INLINE_REQUEST_S = 0.002  # ... and within a request (up to its Sync) once it has run this long
OFFLOAD = object()  # yielded by Handler.run on the loop: continue me in the thread pool
BATCH_ROWS = 32 * 1024  # rows encoded at a time: bounds memory per encode step
FIRST_PIECE_ROWS = 1024  # a result's first rows encoded at once; each next piece twice as many, to BATCH_ROWS
SMALL_ROWS = 8  # up to this many rows a batch with binary columns is encoded value by value
COPY_QUEUE_CHUNKS = 64
ROW_DESCRIPTIONS_CACHED = 128  # encoded RowDescriptions kept per connection
REPLIES_KEPT = 16  # memoised replies per connection (see Handler.reply)
REPLY_MAX_BYTES = 16 * 1024  # longer requests or replies are not memoised
TEXT_OID = 25
# the value encoders' stand-ins for +/-infinity (pgwire/types/datetime.py), finite values in a result
_EDGES = frozenset({_dt.datetime.max, _dt.datetime.min, _dt.date.max, _dt.date.min})


def _edge(v: _dt.date) -> bool:
    """``v`` (a date or datetime) is one of the value encoders' stand-ins for an infinity."""
    return (v.replace(tzinfo=None) if isinstance(v, _dt.datetime) else v) in _EDGES


SessionFactory = Callable[[str, str, dict[str, str]], Session]

_UTF8_NAMES = {"utf8", "utf-8", "unicode"}
_TXN_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"}


@dataclass
class Portal:
    statement: Statement
    params: list[object | None]
    formats: list[int]  # one per result column
    result: Result | None = None
    batches: Iterator[pa.RecordBatch] | None = None
    pending: pa.RecordBatch | None = None
    rows: int = 0
    done: bool = False


@dataclass
class _CopyIn:
    request: CopyRequest
    chunks: queue.Queue[bytes | BaseException | None] = field(
        default_factory=lambda: queue.Queue(COPY_QUEUE_CHUNKS)
    )
    thread: threading.Thread | None = None
    tag: str = ""
    error: BaseException | None = None
    extended: bool = False
    ended: bool = False  # the consumer has seen the end of the data


class _CopyFailed(QueryCanceled):
    pass


def _format_codes(codes: list[int], n: int, what: str) -> list[int]:
    for c in codes:
        if c not in (0, 1):
            raise InvalidFormatCode(f"unsupported format code: {c}")
    if not codes:
        return [0] * n
    if len(codes) == 1:
        return codes * n
    if len(codes) != n:
        raise BindMismatch(f"bind message has {len(codes)} {what} formats but {n} {what}s")
    return codes


def parse_options(text: str) -> dict[str, str]:
    """The start-up ``options`` value: ``-c name=value`` and ``--name=value``, space separated."""
    out: dict[str, str] = {}
    words: list[str] = []
    word = ""
    escaped = False
    for ch in text:
        if escaped:
            word += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch.isspace():
            if word:
                words.append(word)
            word = ""
        else:
            word += ch
    if word:
        words.append(word)
    i = 0
    while i < len(words):
        w = words[i]
        if w == "-c" and i + 1 < len(words):
            w = "--" + words[i + 1]
            i += 1
        elif w.startswith("-c"):
            w = "--" + w[2:]
        if w.startswith("--") and "=" in w:
            name, _, value = w[2:].partition("=")
            out[name.replace("-", "_")] = value
        else:
            raise InvalidParameterValue(f"invalid command-line argument for server process: {w}")
        i += 1
    return out


class Handler:
    def __init__(
        self,
        conn: Connection,
        session_factory: SessionFactory,
        auth: AuthConfig,
        process_id: int = 0,
        secret_key: int = 0,
        loopback: bool = True,
        on_startup: Callable[[dict[str, str]], None] | None = None,
        peer: object = None,
        terminate: Callable[[], None] | None = None,
    ) -> None:
        self.conn = conn
        self.peer = peer  # the transport's peername (an (address, port, ...) tuple for TCP)
        self.terminate = terminate  # close this connection from any thread (pg_terminate_backend)
        self.session_factory = session_factory
        self.auth = auth
        self.process_id = process_id
        self.secret_key = secret_key
        self.loopback = loopback
        self.on_startup = on_startup
        self.session: Session | None = None
        self.user = ""
        self.database = ""
        self.startup_params: dict[str, str] = {}
        self.ssl_requested: bool = False  # set when an SSLRequest arrived: the transport answers it
        self.cancel_request: m.CancelRequest | None = None
        self._exchange: Exchange | None = None
        self._options: dict[str, str] = {}
        self.statements: dict[str, Statement] = {}
        self.portals: dict[str, Portal] = {}
        self._simple_rest: list[str] = []
        self._simple_wrap = False
        self._copy: _CopyIn | None = None
        self.ctx = Context()
        self.running = False  # a statement is executing: a cancel may reach it
        self.streaming = False  # its rows are being sent: a cancel reaches the engine's next batch
        self.on_loop = False  # set by the transport while a step runs on its event loop
        self._row_descriptions: dict[tuple[int, tuple[int, ...]], tuple[list[ColumnDesc], m.Message]] = {}
        self._rows = BatchRows()  # DataRows of result batches (keeps the last schema's column plan)
        self._oids: tuple[list[ColumnDesc], list[int]] | None = None  # the last result columns' type OIDs
        # replaying answers (see reply): bumped by everything that may change what a request is answered
        self.revision = 0
        self._pure = False  # the step so far ran constant queries and protocol bookkeeping only
        self._step_status = "I"
        self._replies: dict[bytes, tuple[int, str, bytes]] = {}
        self._replies_revision = 0

    # ------------------------------------------------------------ driving

    def run(self) -> Generator[object, None, None]:
        """Handle every complete buffered message; yield when output should be written first.

        While ``on_loop`` (the transport runs this step on its event loop), yield :data:`OFFLOAD`
        before a message that is not immediate, before a new request (a Query, or the first message
        after a Sync) once :data:`INLINE_BUDGET_S` has passed, and before any message once
        :data:`INLINE_REQUEST_S` has: a request begun on the loop ends there unless it takes long
        (handing its Execute or Sync over to the pool would cost it a thread hop for nothing). The
        first message is only asked whether it is immediate. The transport continues in the thread
        pool, where ``on_loop`` is False."""
        conn = self.conn
        started = 0.0  # when the first message was taken (0: not yet)
        begins = True  # the next message begins a request
        self._pure = conn.state is _READY_STATE and not self.portals and self._constant is not None
        if self.session is not None:
            self._step_status = self.session.transaction_status
        while conn.state is not _CLOSED:
            try:
                msg = conn.next_message()
            except ProtocolViolation as e:
                self._impure()
                self._fatal(e)
                return
            if msg is None:
                return
            kind = type(msg)
            if kind not in _MAYBE_PURE:
                self._impure()
            if self.on_loop:
                if not started:
                    started = time.perf_counter()
                    if not self._immediate(msg):
                        yield OFFLOAD
                elif not self._immediate(msg) or time.perf_counter() - started > (
                    INLINE_BUDGET_S if begins or kind is m.Query else INLINE_REQUEST_S
                ):
                    yield OFFLOAD
            begins = kind in _ENDS_REQUEST
            try:
                on = _ON.get(kind)
                if on is None:
                    on = _ON[kind] = getattr(Handler, "on_" + kind.__name__)
                step = on(self, msg)
                if step is not None:
                    yield from step
            except SqlError as e:
                self._impure()
                if e.severity == "FATAL":
                    self._fatal(e)
                    return
                self._error(e)
            except Exception as e:  # a bug in us or the engine: report it, keep the connection
                self._impure()
                log.exception("unexpected error while handling %s", type(msg).__name__)
                self._error(e)
            if kind in _TRANSPORT_ACTS:
                return  # the transport acts on these before anything else is read
            if conn.pending_output() >= FLUSH_BYTES:
                yield None

    # ------------------------------------------------------------ replaying answers

    @property
    def _constant(self) -> Callable[[Statement], bool] | None:
        return getattr(self.session, "constant", None)

    def _impure(self) -> None:
        """What this step does may change how a request is answered: no replay from before it."""
        self._pure = False
        self.revision += 1

    def replayable(self) -> bool:
        """Whether the step just run can be replayed: it ran only constant queries (the session's
        ``constant``) and protocol bookkeeping, without error, ended ready for a query with nothing
        left buffered, and left the connection as it found it (same transaction status, no portals,
        the same statements). The same request bytes then get the same answer while
        :attr:`revision` stays."""
        return (
            self._pure
            and self.conn.state is _READY_STATE
            and not self.portals
            and not self.conn.buffered()
            and self.session is not None
            and self.session.transaction_status == self._step_status
        )

    def remember(self, request: bytes, reply: bytes) -> None:
        """Keep ``reply`` as the answer to ``request``, the bytes of a step :meth:`replayable` says
        may be replayed (the transport calls this)."""
        if len(request) > REPLY_MAX_BYTES or len(reply) > REPLY_MAX_BYTES:
            return
        if self._replies_revision != self.revision or len(self._replies) >= REPLIES_KEPT:
            self._replies.clear()
            self._replies_revision = self.revision
        self._replies[request] = (self.revision, self._step_status, reply)

    def reply(self, request: bytes) -> bytes | None:
        """The remembered answer to ``request`` (the complete bytes the client sent, exactly as one
        step of before), if it may be sent without running anything: the connection is idle, ready
        for a query, with no portal, in the transaction status of then, and nothing that may change
        an answer (any step that was not replayable: SET, BEGIN, an error, Parse of a new statement,
        Close ...) has run since."""
        if not self._replies or self.conn.state is not _READY_STATE or self.portals or self.conn.buffered():
            return None  # (checked first: hashing the request is the dearest part)
        entry = self._replies.get(request)
        if (
            entry is None
            or entry[0] != self.revision
            or self.session is None
            or entry[1] != self.session.transaction_status
        ):
            return None
        return entry[2]

    def session_is_immediate(self) -> bool:
        """Whether steps may start on the event loop: the session says which statements are immediate."""
        return callable(getattr(self.session, "immediate", None))

    def _immediate(self, msg: m.Message) -> bool:
        """Whether handling ``msg`` takes only microseconds and no I/O (it may run on the event loop)."""
        kind = type(msg)
        if kind is m.Flush:
            return True
        portals = self.portals
        if portals and any(p.result is not None and not p.done for p in portals.values()):
            return False  # dropping a suspended portal may wait for the engine to stop its query
        if kind in _PROTOCOL_ONLY:
            return True
        immediate: Callable[[str | Statement], bool] | None = getattr(self.session, "immediate", None)
        if immediate is None:
            return False
        if kind is m.Query:
            return immediate(msg.sql)  # type: ignore[attr-defined]
        if kind is m.Parse:
            return not msg.param_oids and immediate(msg.sql)  # type: ignore[attr-defined]
        if kind is m.Describe:
            return msg.kind == "S" or msg.name in portals  # type: ignore[attr-defined]
        if kind is m.Execute:
            portal = portals.get(msg.portal)  # type: ignore[attr-defined]
            return portal is not None and portal.result is None and immediate(portal.statement)
        return False

    def _fatal(self, exc: BaseException) -> None:
        self.conn.send(m.ErrorResponse(error_fields(exc, severity="FATAL")))
        self.conn.close()

    def _error(self, exc: BaseException) -> None:
        """An ERROR: report it; in the extended protocol, skip to Sync; in a simple query, end it."""
        if self.conn.state in (State.STARTUP, State.AUTHENTICATING):
            self._fatal(exc)  # nothing to go back to before the session exists
            return
        self.conn.send(m.ErrorResponse(error_fields(exc)))
        if self.conn.state in (State.EXTENDED, State.FAILED) or (
            self.conn.state is State.COPY_IN and self._copy is not None and self._copy.extended
        ):
            self.conn.fail()
        elif self.conn.state in (State.READY, State.COPY_IN, State.COPY_OUT):
            self._end_simple_after_error()

    def _notice(self, notice: SqlError) -> None:
        """A WARNING or NOTICE of the statement running now (the session calls this from its thread)."""
        self.conn.send(m.NoticeResponse(error_fields(notice)))

    def _ready_for_query(self) -> None:
        status = self.session.transaction_status if self.session is not None else "I"
        ready = _READY.get(status)
        self.conn.send_bytes(ready if ready is not None else m.ReadyForQuery(status).encode())

    def close(self) -> None:
        """The connection is gone: stop a running COPY and release the session."""
        copy = self._copy
        if copy is not None and copy.thread is not None:
            self._abandon_copy(copy)
        if self.session is not None:
            session, self.session = self.session, None
            try:
                session.close()
            except Exception:
                log.exception("closing the session failed")

    def cancel(self) -> None:
        """Cancel the running statement, if any (called from another connection's thread)."""
        session = self.session
        if session is not None and (self.running or self.streaming):
            session.cancel()

    # ------------------------------------------------------------ start-up and authentication

    def on_SSLRequest(self, msg: m.SSLRequest) -> None:
        self.ssl_requested = True

    def on_GSSENCRequest(self, msg: m.GSSENCRequest) -> None:
        self.conn.send_bytes(b"N")

    def on_CancelRequest(self, msg: m.CancelRequest) -> None:
        self.cancel_request = msg
        self.conn.close()

    def on_StartupMessage(self, msg: m.StartupMessage) -> None:
        if msg.version >> 16 != 3:
            raise ProtocolViolation(
                f"unsupported frontend protocol {msg.version >> 16}.{msg.version & 0xFFFF}"
            )
        params = dict(msg.parameters)
        unknown = [k for k in params if k.startswith("_pq_.")]
        if msg.version & 0xFFFF or unknown:
            self.conn.send(m.NegotiateProtocolVersion(0, unknown))
        for k in unknown:
            del params[k]
        if params.get("replication", "false").lower() not in ("false", "0", "off", "no"):
            raise FeatureNotSupportedFatal("replication connections are not supported")
        user = params.get("user", "")
        if not user:
            raise InvalidAuthorization("no PostgreSQL user name specified in startup packet")
        self.user = user
        self.database = params.get("database") or user
        options = parse_options(params.pop("options", ""))
        for key, value in params.items():
            if key not in ("user", "database"):
                options[key] = value
        encoding = options.get("client_encoding")
        if encoding is not None:
            encoding = encoding.strip().strip("'\"").strip()  # asyncpg sends 'utf-8', quotes included
            if encoding.lower() in _UTF8_NAMES:
                options["client_encoding"] = "UTF8"
            elif encoding.upper() in ("SQL_ASCII", "AUTO"):
                options["client_encoding"] = "UTF8" if encoding.upper() == "AUTO" else "SQL_ASCII"
            else:
                raise InvalidParameterValueFatal(
                    f'invalid value for parameter "client_encoding": "{encoding}"',
                    hint="tsgres speaks only UTF8.",
                )
        self._options = options
        self.startup_params = params
        self.conn.start_authenticating()
        exchange = self.auth.exchange(user, self.loopback)
        first = exchange.start()
        self._exchange = exchange
        if first is not None:
            self.conn.send(first)
        if exchange.done:
            self._finish_startup()

    def on_PasswordData(self, msg: m.PasswordData) -> None:
        exchange = self._exchange
        if exchange is None or exchange.done:
            raise ProtocolViolation("unexpected password message")
        reply = exchange.step(msg.data)
        if reply is not None:
            self.conn.send(reply)
        if exchange.done:
            self._finish_startup()

    def _finish_startup(self) -> None:
        self.conn.send(m.AuthenticationOk())
        try:
            session = self.session_factory(self.database, self.user, dict(self._options))
        except InvalidCatalogName as e:
            raise FatalCatalogError(e.message, detail=e.detail, hint=e.hint) from None
        self.session = session
        attach = getattr(session, "attach", None)
        if attach is not None:  # pg_stat_activity lists it; pg_cancel/terminate_backend reach it
            peer = self.peer if isinstance(self.peer, tuple) and len(self.peer) >= 2 else (None, None)
            attach(
                self.process_id,
                activity.Connection(
                    client_addr=None if peer[0] is None else str(peer[0]),
                    client_port=None if peer[1] is None else int(peer[1]),
                    busy=lambda: self.running or self.streaming,
                    cancel=self.cancel,
                    terminate=self.terminate,
                    notice=self._notice,
                ),
            )
        for name, value in session.parameters.items():
            self.conn.send(m.ParameterStatus(name, value))
        self._update_context(session.parameters)
        self.conn.send(m.BackendKeyData(self.process_id, self.secret_key))
        self.conn.ready()
        self._ready_for_query()
        if self.on_startup is not None:
            self.on_startup(self._options)

    def _update_context(self, params: dict[str, str]) -> None:
        tz = params.get("TimeZone") or params.get("timezone")
        if tz and tz != self.ctx.timezone:
            try:
                _ = Context(tz).zone  # an unknown zone keeps the previous one
            except Exception:
                return
            self.ctx = Context(tz)

    # ------------------------------------------------------------ simple query

    def on_Query(self, msg: m.Query) -> Iterator[None] | None:
        self.conn.ready()  # a Query after Flush (no Sync) is simple protocol again
        session = self._session()
        if "" in self.statements or "" in self.portals:
            self._impure()
            self.statements.pop("", None)
            self.portals.pop("", None)
        statements = session.split(msg.sql)
        if not statements:
            self.conn.send_bytes(_EMPTY_QUERY)
            self._ready_for_query()
            return None
        self._simple_wrap = (
            len(statements) > 1
            and session.transaction_status == "I"
            and not any(_first_word(s) in _TXN_WORDS for s in statements)
        )
        if self._simple_wrap:
            self._internal("BEGIN")
        self._simple_rest = statements
        return self._continue_simple()

    def _continue_simple(self) -> Iterator[None]:
        session = self._session()
        while self._simple_rest:
            sql = self._simple_rest.pop(0)
            stmt = session.prepare(sql, [])
            register_user_types(stmt.user_types)
            formats = [0] * len(stmt.columns or [])
            if stmt.columns is not None:
                self.conn.send(self._row_description(stmt.columns, formats))
            result = yield from self._execute(stmt, [])
            if result.copy is not None:
                started = yield from self._start_copy(result, extended=False)
                if started:
                    return  # resumed by CopyDone / CopyFail
                continue
            if stmt.columns is None and result.columns is not None:
                self.conn.send(self._row_description(result.columns, formats))
            portal = Portal(stmt, [], [0] * len(result.columns or []), result, iter(result.batches))
            yield from self._send_rows(portal, 0)
        if self._simple_wrap:
            self._simple_wrap = False
            self._internal("COMMIT")
        self._ready_for_query()

    def _end_simple_after_error(self) -> None:
        self._simple_rest = []
        if self._simple_wrap:
            self._simple_wrap = False
            try:
                self._internal("ROLLBACK")
            except Exception:
                log.exception("rolling back the implicit transaction failed")
        if self.conn.state is not State.CLOSED:
            self.conn.ready()
            self._ready_for_query()

    def _internal(self, sql: str) -> None:
        self._impure()
        session = self._session()
        result = session.execute(session.prepare(sql, []), [])
        for _ in result.batches:
            pass

    # ------------------------------------------------------------ extended query

    def on_Parse(self, msg: m.Parse) -> None:
        self.conn.extended()
        session = self._session()
        if msg.name and msg.name in self.statements:
            raise DuplicatePreparedStatement(f'prepared statement "{msg.name}" already exists')
        declared = list(msg.param_oids)
        stmt = session.prepare(msg.sql, declared)
        register_user_types(stmt.user_types)  # (enums: their codecs, before Bind decodes parameters)
        if len(stmt.param_oids) < len(declared):
            # PostgreSQL counts every parameter type the client declared; a session that describes a
            # statement as taking fewer (DECLARE c CURSOR FOR ... $1, as a session command) gets the
            # rest as declared, unknown ones as text
            extra = [oid or TEXT_OID for oid in declared[len(stmt.param_oids) :]]
            stmt = dataclasses.replace(stmt, param_oids=[*stmt.param_oids, *extra])
        if self.statements.get(msg.name) is not stmt:
            self._impure()  # (Parse of the unnamed statement as it already is changes nothing)
        self.statements[msg.name] = stmt
        self.conn.send_bytes(_PARSE_COMPLETE)

    def on_Bind(self, msg: m.Bind) -> None:
        self.conn.extended()
        stmt = self.statements.get(msg.statement)
        if stmt is None:
            raise InvalidSqlStatementName(f'prepared statement "{msg.statement}" does not exist')
        if msg.portal and msg.portal in self.portals:
            raise DuplicateCursor(f'portal "{msg.portal}" already exists')
        n = len(stmt.param_oids)
        if len(msg.params) != n:
            raise BindMismatch(
                f'bind message supplies {len(msg.params)} parameters, but prepared statement "{msg.statement}" requires {n}'
            )
        pformats = _format_codes(msg.param_formats, n, "parameter")
        params = [
            decode_param(v, oid, f, self.ctx)
            for v, oid, f in zip(msg.params, stmt.param_oids, pformats, strict=True)
        ]
        ncols = len(stmt.columns or [])
        rformats = _format_codes(msg.result_formats, ncols, "result column")
        self.portals[msg.portal] = Portal(stmt, params, rformats)
        self.conn.send_bytes(_BIND_COMPLETE)

    def on_Describe(self, msg: m.Describe) -> None:
        self.conn.extended()
        if msg.kind == "S":
            stmt = self.statements.get(msg.name)
            if stmt is None:
                raise InvalidSqlStatementName(f'prepared statement "{msg.name}" does not exist')
            self.conn.send(m.ParameterDescription(list(stmt.param_oids)))
            columns = stmt.columns
            self.conn.send(
                self._row_description(columns, [0] * len(columns)) if columns is not None else m.NoData()
            )
        else:
            portal = self.portals.get(msg.name)
            if portal is None:
                self.conn.send(self._describe_sql_cursor(msg.name))
                return
            columns = portal.statement.columns
            self.conn.send(
                self._row_description(columns, portal.formats) if columns is not None else m.NoData()
            )

    def _describe_sql_cursor(self, name: str) -> m.Message:
        """Describe P of a cursor made by SQL DECLARE: in PostgreSQL cursors and portals are one namespace
        (psycopg describes its named cursors so). The session describes ``FETCH 0`` from it, in text."""
        self._impure()
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            columns = self._session().prepare(f"FETCH FORWARD 0 FROM {quoted}", []).columns
        except SqlError:
            columns = None
        if columns is None:  # a cursor always has rows to give; a session without cursors has none
            raise InvalidCursorName(f'portal "{name}" does not exist')
        return self._row_description(columns, [0] * len(columns))

    def on_Execute(self, msg: m.Execute) -> Iterator[None]:
        self.conn.extended()
        portal = self.portals.get(msg.portal)
        if portal is None:
            raise InvalidCursorName(f'portal "{msg.portal}" does not exist')
        if portal.done:
            self.conn.send(m.CommandComplete(_select_tag(portal.statement.command, 0)))
            return
        if portal.result is None:
            portal.result = yield from self._execute(portal.statement, portal.params)
            portal.batches = iter(portal.result.batches)
            if portal.result.copy is not None:
                portal.done = True
                yield from self._start_copy(portal.result, extended=True)
                return
        yield from self._send_rows(portal, msg.max_rows)

    def on_Close(self, msg: m.Close) -> None:
        self.conn.extended()
        if msg.kind == "S":
            self.statements.pop(msg.name, None)
        else:
            self.portals.pop(msg.name, None)
        self.conn.send_bytes(_CLOSE_COMPLETE)

    def on_Flush(self, msg: m.Flush) -> Iterator[None] | None:
        if self.conn.state is State.COPY_IN:
            return None
        self.conn.extended()
        return self._flush()

    def _flush(self) -> Iterator[None]:
        yield

    def on_Sync(self, msg: m.Sync) -> None:
        if self.conn.state is State.COPY_IN:
            return  # PostgreSQL ignores Sync during COPY IN
        self.conn.ready()
        session = self._session()
        if session.transaction_status == "I":
            # portals live until the end of their transaction; outside a block that is now
            self.portals.clear()
        self._ready_for_query()

    def on_Terminate(self, msg: m.Terminate) -> None:
        self.conn.close()

    def on_FunctionCall(self, msg: m.FunctionCall) -> None:
        self.conn.ready()
        self.conn.send(
            m.ErrorResponse(
                error_fields(FeatureNotSupported("the fast-path function call interface is not supported"))
            )
        )
        self._ready_for_query()

    # ------------------------------------------------------------ running statements and sending rows

    def _session(self) -> Session:
        if self.session is None:
            raise ProtocolViolation("no session: start-up is not finished")
        return self.session

    def _execute(self, stmt: Statement, params: list[object | None]) -> Generator[object, None, Result]:
        """Run ``stmt``. On the event loop through the session's ``try_execute`` when it has one: when
        that gives up (the statement ran past the session's limit for the loop), yield :data:`OFFLOAD`
        and execute it in the pool."""
        constant = self._constant
        if constant is None or not constant(stmt):
            self._impure()
        # SQL DEALLOCATE also removes protocol-level statements (one namespace, as in PostgreSQL):
        # psqlODBC closes its Parse'd `_PLAN0x...` statements with `DEALLOCATE "_PLAN0x..."`.
        word = _first_word(stmt.sql) if stmt.columns is None else ""  # a row-returning one is neither
        if word == "DEALLOCATE":
            name = _deallocated_name(stmt.sql)
            if name is not None and name in self.statements:
                del self.statements[name]
                return Result(None, tag="DEALLOCATE")
        session = self._session()
        result = None
        self.running = True
        try:
            if self.on_loop:
                try_execute: Callable[[Statement, list[object | None]], Result | None] | None
                try_execute = getattr(session, "try_execute", None)
                result = session.execute(stmt, params) if try_execute is None else try_execute(stmt, params)
        finally:
            self.running = False
        if result is None:
            if self.on_loop:
                yield OFFLOAD  # the transport continues this step in the pool (on_loop False there)
            self.running = True
            try:
                result = session.execute(stmt, params)
            finally:
                self.running = False
        if word in ("DEALLOCATE", "DISCARD") and result.tag in ("DEALLOCATE ALL", "DISCARD ALL"):
            self.statements.clear()
        self._parameter_changes(result)
        return result

    def _parameter_changes(self, result: Result) -> None:
        if result.changed_parameters:
            for name, value in result.changed_parameters.items():
                self.conn.send(m.ParameterStatus(name, value))
            self._update_context(result.changed_parameters)

    def _row_description(self, columns: list[ColumnDesc], formats: list[int]) -> m.Message:
        """RowDescription of ``columns``; encoded once per columns list (a cached plan's) and formats."""
        key = (id(columns), tuple(formats))
        cached = self._row_descriptions.get(key)
        if cached is not None and cached[0] is columns:
            return cached[1]
        msg = _Encoded(
            m.RowDescription(
                [
                    m.FieldDescription(
                        c.name, c.table_oid, c.column_number, c.type_oid, type_size(c.type_oid), c.typmod, f
                    )
                    for c, f in zip(columns, formats, strict=True)
                ]
            ).encode()
        )
        if len(self._row_descriptions) >= ROW_DESCRIPTIONS_CACHED:
            self._row_descriptions.clear()
        self._row_descriptions[key] = (columns, msg)  # holding columns keeps its id unique
        return msg

    def _next_batch(self, portal: Portal) -> pa.RecordBatch | None:
        if portal.pending is not None:
            batch, portal.pending = portal.pending, None
            return batch
        assert portal.batches is not None
        self.running = True
        try:
            while True:
                batch = next(portal.batches, None)
                if batch is None or batch.num_rows:
                    return batch
        finally:
            self.running = False

    def _send_rows(self, portal: Portal, max_rows: int) -> Iterator[None]:
        """Stream the portal's rows (all, or up to ``max_rows``), then CommandComplete or PortalSuspended."""
        result = portal.result
        assert result is not None
        columns = result.columns or portal.statement.columns
        self.streaming = True
        try:
            sent = yield from self._send_batches(portal, columns, max_rows)
        finally:
            self.streaming = False
        if sent < 0:
            return  # suspended
        portal.done = True
        portal.rows += sent
        resumed = portal.rows != sent
        tag = result.tag or _select_tag(portal.statement.command, portal.rows)
        if resumed and tag.startswith("SELECT "):
            tag = f"SELECT {sent}"
        self.conn.send(m.CommandComplete(tag))

    def _send_batches(
        self, portal: Portal, columns: list[ColumnDesc] | None, max_rows: int
    ) -> Generator[None, None, int]:
        """DataRows of the portal's batches: the rows sent, or -1 when suspended at ``max_rows``.

        A large result is encoded in pieces that grow from :data:`FIRST_PIECE_ROWS` to :data:`BATCH_ROWS`
        rows: its first bytes go out while later rows are encoded, and the client (libpq parses DataRows
        as they arrive) reads them meanwhile; pieces of a fixed small size would cost a step to the
        transport per few hundred KiB of a result of millions of rows."""
        sent = 0
        piece = FIRST_PIECE_ROWS
        while True:
            if max_rows and sent >= max_rows:
                if portal.pending is None:
                    portal.pending = self._next_batch(portal)
                if portal.pending is not None:
                    portal.rows += sent
                    self.conn.send(m.PortalSuspended())
                    return -1
                break
            batch = self._next_batch(portal)
            if batch is None:
                break
            take = batch.num_rows
            if max_rows:
                take = min(take, max_rows - sent)
            take = min(take, piece)
            piece = min(2 * piece, BATCH_ROWS)
            if take < batch.num_rows:
                portal.pending = batch.slice(take)
                batch = batch.slice(0, take)
            if columns is None:
                sent += batch.num_rows
                continue
            self.conn.send_bytes(self._data_rows(batch, columns, portal.formats))
            sent += batch.num_rows
            if self.conn.pending_output() >= FLUSH_BYTES:
                yield
        return sent

    def _data_rows(
        self, batch: pa.RecordBatch, columns: list[ColumnDesc], formats: list[int]
    ) -> bytes | memoryview:
        """DataRow messages for a batch: by :class:`pgwire.types.BatchRows` (one kernel call writes the
        rows, and the text of the usual result columns), or value by value for a handful of rows with
        binary columns: below :data:`SMALL_ROWS` rows the fixed cost of the binary column encoders' numpy
        calls is larger than encoding each value in Python (in text the kernel is cheaper from one row
        on). The two paths give the same bytes (tests/pgwire/test_types.py checks it).
        """
        n = batch.num_rows
        if n <= SMALL_ROWS and 1 in formats:
            try:
                values = [batch.column(i).to_pylist() for i in range(len(columns))]
                if any(isinstance(v, _dt.date) and _edge(v) for col in values for v in col):
                    raise ValueError("a finite extreme the value encoders take for an infinity")
                return b"".join(
                    m.DataRow(
                        [
                            encode_value(values[i][r], c.type_oid, formats[i], self.ctx)
                            for i, c in enumerate(columns)
                        ]
                    ).encode()
                    for r in range(n)
                )
            except (TypeError, ValueError, AttributeError, AssertionError, OverflowError):
                pass  # a value Python cannot hold as Arrow gives it (ns timestamps, ints as timestamptz ...)
        oids = self._oids
        if oids is None or oids[0] is not columns:
            oids = self._oids = (columns, [c.type_oid for c in columns])  # (holding columns keeps it)
        return self._rows.encode(batch, oids[1], formats, self.ctx)

    # ------------------------------------------------------------ COPY

    def _start_copy(self, result: Result, extended: bool) -> Generator[None, None, bool]:
        """Run COPY TO STDOUT to the end, or enter COPY_IN. Returns True when waiting for COPY data."""
        request = result.copy
        assert request is not None
        fmt = 1 if request.format.lower() == "binary" else 0
        ncols = len(request.columns)
        if request.direction == "out":
            self.conn.send(m.CopyOutResponse(fmt, [fmt] * ncols))
            before = self.conn.state
            self.conn.copy_out()
            writer = CopyOutWriter(request, self.ctx)
            self.conn.send_bytes(writer.start())
            try:
                self.running = True
                for batch in result.batches:
                    self.running = False
                    for start in range(0, batch.num_rows, BATCH_ROWS):
                        self.conn.send_bytes(writer.batch(batch.slice(start, BATCH_ROWS)))
                        if self.conn.pending_output() >= FLUSH_BYTES:
                            yield
                    self.running = True
            finally:
                self.running = False
                if self.conn.state is State.COPY_OUT:
                    self.conn.state = before
            self.conn.send_bytes(writer.finish())
            self.conn.send(m.CopyDone(), m.CommandComplete(result.tag or f"COPY {writer.rows}"))
            return False
        copy = _CopyIn(request, extended=extended)
        self._copy = copy
        session = self._session()

        def chunks() -> Iterator[bytes]:
            while True:
                item = copy.chunks.get()
                if item is None:
                    copy.ended = True
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item

        def consume() -> None:
            try:
                copy.tag = session.copy_in(request, chunks())
            except BaseException as e:  # reported to the client by the handler thread
                copy.error = e
                while not copy.ended and copy.chunks.get() is not None:  # let the producer finish
                    pass
                copy.ended = True

        copy.thread = threading.Thread(target=consume, name="pgwire-copy-in", daemon=True)
        copy.thread.start()
        self.conn.send(m.CopyInResponse(fmt, [fmt] * ncols))
        self.conn.copy_in()
        return True

    def on_CopyData(self, msg: m.CopyData) -> None:
        copy = self._copy
        if self.conn.state is not State.COPY_IN or copy is None:
            return  # outside COPY these are dropped, as PostgreSQL does
        if copy.error is not None:
            self._finish_copy_error(copy)
            return
        copy.chunks.put(msg.data)

    def on_CopyDone(self, msg: m.CopyDone) -> Iterator[None] | None:
        copy = self._copy
        if self.conn.state is not State.COPY_IN or copy is None:
            return None
        copy.chunks.put(None)
        assert copy.thread is not None
        copy.thread.join()
        if copy.error is not None:
            self._finish_copy_error(copy)
            return None
        self._copy = None
        self.conn.send(m.CommandComplete(copy.tag))
        return self._after_copy(copy)

    def on_CopyFail(self, msg: m.CopyFail) -> None:
        copy = self._copy
        if self.conn.state is not State.COPY_IN or copy is None:
            return
        if copy.error is None:
            copy.chunks.put(_CopyFailed(f"COPY from stdin failed: {msg.message}"))
        self._abandon_copy(copy)
        if copy.error is None or isinstance(copy.error, _CopyFailed):
            copy.error = _CopyFailed(f"COPY from stdin failed: {msg.message}")
        self._finish_copy_error(copy)

    def _abandon_copy(self, copy: _CopyIn) -> None:
        if copy.thread is not None and copy.thread.is_alive():
            if copy.error is None:
                try:
                    copy.chunks.put_nowait(_CopyFailed("COPY from stdin failed: connection closed"))
                except queue.Full:
                    pass
            copy.chunks.put(None)
            copy.thread.join()

    def _finish_copy_error(self, copy: _CopyIn) -> None:
        self._abandon_copy(copy)
        self._copy = None
        error = copy.error or QueryCanceled("COPY failed")
        if copy.extended:
            self.conn.state = State.EXTENDED
        else:
            self.conn.state = State.READY
        if isinstance(error, SqlError) and error.severity == "FATAL":
            self._fatal(error)
        else:
            self._error(error)

    def _after_copy(self, copy: _CopyIn) -> Iterator[None] | None:
        if copy.extended:
            self.conn.state = State.EXTENDED
            return None
        self.conn.state = State.READY
        return self._continue_simple()


class _Encoded(m.Message):
    """A backend message encoded once (RowDescription of a cached plan, ReadyForQuery)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self) -> bytes:
        return self.data


_READY = {status: m.ReadyForQuery(status).encode() for status in "ITE"}
_READY_STATE, _CLOSED = State.READY, State.CLOSED  # (a member off the Enum class costs ~0.1 us on 3.11)
_EMPTY_QUERY = m.EmptyQueryResponse().encode()
_PARSE_COMPLETE = m.ParseComplete().encode()
_BIND_COMPLETE = m.BindComplete().encode()
_CLOSE_COMPLETE = m.CloseComplete().encode()
_ON: dict[type, Callable[..., Iterator[None] | None]] = {}  # message type -> its Handler.on_... method

# messages a replayable step may hold (see Handler.replayable); each handler marks what it does
# that is not replayable
_MAYBE_PURE = frozenset({m.Query, m.Parse, m.Bind, m.Describe, m.Execute, m.Sync})

# messages the transport acts on (TLS, a cancel) before anything else is read
_TRANSPORT_ACTS = frozenset({m.SSLRequest, m.GSSENCRequest, m.CancelRequest})

# what a request ends with: the message after it begins the next (see Handler.run)
_ENDS_REQUEST = frozenset({m.Sync, m.Query})

# messages answered without the engine (Bind decodes parameters; Sync reads the transaction status)
_PROTOCOL_ONLY = frozenset({m.Bind, m.Sync, m.Flush, m.Close, m.Terminate, m.GSSENCRequest, m.SSLRequest})


class FeatureNotSupportedFatal(FeatureNotSupported):
    severity = "FATAL"


class InvalidParameterValueFatal(InvalidParameterValue):
    severity = "FATAL"


def _deallocated_name(sql: str) -> str | None:
    """The statement name of ``DEALLOCATE [PREPARE] name`` (a quoted name keeps its case), else None."""
    match = re.match(r'(?is)\s*DEALLOCATE\s+(?:PREPARE\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*;?\s*$', sql)
    if match is None or match[1].upper() == "ALL":
        return None
    name = match[1]
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def _first_word(sql: str) -> str:
    text = sql.lstrip()
    while text.startswith("--") or text.startswith("/*"):
        if text.startswith("--"):
            text = text.partition("\n")[2].lstrip()
        else:
            text = text.partition("*/")[2].lstrip()
    return text.split(None, 1)[0].upper().rstrip(";") if text.split() else ""


def _select_tag(command: str, rows: int) -> str:
    if command.upper() in ("SELECT", "FETCH", "MOVE", "COPY", "UPDATE", "DELETE", "MERGE"):
        return f"{command.upper()} {rows}"
    if command.upper() == "INSERT":
        return f"INSERT 0 {rows}"
    return command.upper()


__all__ = ["OFFLOAD", "Handler", "Portal", "SessionFactory", "parse_options"]
