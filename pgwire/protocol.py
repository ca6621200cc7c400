"""The connection state machine, sans I/O: bytes in, messages out; messages in, bytes out.

:class:`Connection` frames what the client sends, checks that each message is allowed in the current
:class:`State`, and buffers what the server sends. It never touches a socket (pgwire/server.py does)
and never decides what a statement means (pgwire/handlers.py does); handlers move it between states.

    STARTUP --StartupMessage--> AUTHENTICATING --ok--> READY <--Sync-- EXTENDED / FAILED
    READY --Parse/Bind/Describe/Execute/Close/Flush--> EXTENDED --error--> FAILED (drops all but Sync)
    READY/EXTENDED --COPY FROM STDIN--> COPY_IN --CopyDone/CopyFail--> back
    READY/EXTENDED --COPY TO STDOUT--> COPY_OUT --done--> back
    any --Terminate, fatal error, protocol violation--> CLOSED

Limits: a start-up packet is at most 10,000 bytes (as in PostgreSQL), any other message at most
``max_message_bytes`` (1 GiB by default); beyond that, as on any malformed frame, ``next_message``
raises :class:`ProtocolViolation` (08P01) and the connection is to be closed.
"""

from __future__ import annotations

import enum
import struct

from pgwire.errors import ProtocolViolation
from pgwire.messages import (
    FRONTEND,
    CopyData,
    CopyDone,
    CopyFail,
    Flush,
    Message,
    PasswordData,
    Sync,
    Terminate,
    decode_startup,
)

MAX_STARTUP_BYTES = 10_000
MAX_MESSAGE_BYTES = 1 << 30

_I32 = struct.Struct("!i")
_HDR = struct.Struct("!ci")
COMPACT_BYTES = 64 * 1024


class State(enum.Enum):
    STARTUP = "startup"
    AUTHENTICATING = "authenticating"
    READY = "ready"
    EXTENDED = "in extended query"
    COPY_IN = "copy-in"
    COPY_OUT = "copy-out"
    FAILED = "failed until sync"
    CLOSED = "closed"


# the states as module globals: reading a member off an Enum class costs ~0.1 us on Python 3.11
_STARTUP, _READY, _EXTENDED = State.STARTUP, State.READY, State.EXTENDED
_FAILED, _CLOSED = State.FAILED, State.CLOSED

_QUERY_TYPES = frozenset(FRONTEND) - {b"p"}
ALLOWED: dict[State, frozenset[bytes]] = {
    State.STARTUP: frozenset(),  # untyped start-up packets only
    State.AUTHENTICATING: frozenset({b"p", b"X"}),
    State.READY: _QUERY_TYPES,
    State.EXTENDED: _QUERY_TYPES,
    State.FAILED: _QUERY_TYPES,
    State.COPY_IN: frozenset({b"d", b"c", b"f", b"H", b"S", b"X"}),
    State.COPY_OUT: _QUERY_TYPES,
    State.CLOSED: frozenset(),
}


class Connection:
    def __init__(
        self, max_message_bytes: int = MAX_MESSAGE_BYTES, max_startup_bytes: int = MAX_STARTUP_BYTES
    ) -> None:
        self.state = State.STARTUP
        self.max_message_bytes = max_message_bytes
        self.max_startup_bytes = max_startup_bytes
        self._in = bytearray()
        self._pos = 0  # bytes of _in already parsed (dropped when all are, or when many have been)
        self._out: list[bytes | memoryview] = []  # output chunks (joined by data_to_send only)
        self._out_len = 0
        self.eof = False

    # ------------------------------------------------------------ input

    def receive_data(self, data: bytes) -> None:
        """Buffer bytes from the client; b"" means the client closed its side."""
        if not data:
            self.eof = True
        elif self.state is not State.CLOSED:
            self._in += data

    def buffered(self) -> int:
        return len(self._in) - self._pos

    def next_message(self) -> Message | None:
        """The next complete message the current state accepts, or None until more bytes arrive.

        In FAILED every message but Sync and Terminate is read and dropped here.
        """
        while True:
            msg = self._parse_one()
            if msg is None:
                return None
            if self.state is _FAILED and not isinstance(msg, Sync | Terminate):
                continue
            return msg

    def _parse_one(self) -> Message | None:
        state = self.state
        if state is _CLOSED:
            return None
        buf = self._in
        pos = self._pos
        if state is _STARTUP:
            if len(buf) - pos < 4:
                return None
            (length,) = _I32.unpack_from(buf, pos)
            if length < 8 or length > self.max_startup_bytes:
                raise ProtocolViolation("invalid length of startup packet")
            if len(buf) - pos < length:
                return None
            payload = bytes(buf[pos + 4 : pos + length])
            self._consumed(pos + length)
            return decode_startup(payload)
        if len(buf) - pos < 5:
            return None
        code, length = _HDR.unpack_from(buf, pos)
        if length < 4:
            raise ProtocolViolation(f"invalid message length {length}")
        if length - 4 > self.max_message_bytes:
            raise ProtocolViolation(
                f"invalid message length {length}: more than {self.max_message_bytes} bytes"
            )
        if code not in ALLOWED[state]:
            if code in FRONTEND or code == b"p":
                raise ProtocolViolation(f"unexpected message type {code!r} in state {state.value}")
            raise ProtocolViolation(f"invalid frontend message type {buf[pos]}")
        end = pos + 1 + length
        if len(buf) < end:
            return None
        payload = bytes(buf[pos + 5 : end])
        self._consumed(end)
        return FRONTEND[code].decode(payload)

    def _consumed(self, end: int) -> None:
        """The bytes of ``_in`` up to ``end`` are parsed: forget them (at once when nothing is left,
        else once they are many, so a burst of small messages does not shift the buffer each time)."""
        if end == len(self._in):
            self._in.clear()
            self._pos = 0
        elif end > COMPACT_BYTES:
            del self._in[:end]
            self._pos = 0
        else:
            self._pos = end

    # ------------------------------------------------------------ output

    def send(self, *messages: Message) -> None:
        for m in messages:
            data = m.encode()
            self._out.append(data)
            self._out_len += len(data)

    def send_bytes(self, data: bytes | memoryview) -> None:
        """Queue ``data`` (bytes, or a read-only view its producer no longer changes) as it is: the
        output is copied at most once, by data_to_send, and not at all by take_output (a result's
        DataRows are megabytes; each copy into fresh memory costs ~2 us a 4 KB page here)."""
        if len(data):
            self._out.append(data)
            self._out_len += len(data)

    def pending_output(self) -> int:
        return self._out_len

    def take_output(self) -> list[bytes | memoryview]:
        """The queued output as the chunks it was queued in, without joining them (the transport writes
        them with one writev: a result's DataRows are not copied once more); the queue is emptied."""
        out = self._out
        self._out = []
        self._out_len = 0
        return out

    def data_to_send(self) -> bytes:
        out = self._out
        if len(out) == 1 and isinstance(out[0], bytes):
            data = out[0]
        else:
            data = b"".join(out)
        self._out = []
        self._out_len = 0
        return data

    # ------------------------------------------------------------ transitions

    def start_authenticating(self) -> None:
        self._expect(State.STARTUP)
        self.state = State.AUTHENTICATING

    def ready(self) -> None:
        """Authentication done, a Sync, a simple query or a COPY ended: ready for the next query."""
        self.state = _READY

    def extended(self) -> None:
        if self.state is _READY:
            self.state = _EXTENDED

    def fail(self) -> None:
        """An error in the extended protocol: drop messages until Sync."""
        self.state = State.FAILED

    def copy_in(self) -> None:
        self.state = State.COPY_IN

    def copy_out(self) -> None:
        self.state = State.COPY_OUT

    def close(self) -> None:
        self.state = State.CLOSED
        self._in.clear()
        self._pos = 0

    def _expect(self, *states: State) -> None:
        if self.state not in states:
            raise ProtocolViolation(f"unexpected message in state {self.state.value}")


__all__ = ["ALLOWED", "Connection", "State", "CopyData", "CopyDone", "CopyFail", "Flush", "PasswordData"]
