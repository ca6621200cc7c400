"""Every PostgreSQL protocol v3 message as a dataclass, with encode/decode over bytes only.

Framing (all integers big-endian)::

    regular message     type:1 byte | length:int32 (counts itself, not the type) | payload
    start-up packet     length:int32 (counts itself) | code:int32 | payload
                        code 196608 (3.0) StartupMessage, 80877103 SSLRequest,
                        80877104 GSSENCRequest, 80877102 CancelRequest

``encode()`` returns the whole framed message; ``decode(payload)`` takes the payload alone (what follows
the length), so the framing lives in one place (:mod:`pgwire.protocol`). Frontend and backend reuse
type bytes ('D' is Describe one way and DataRow the other), hence two tables, :data:`FRONTEND` and
:data:`BACKEND`. The 'p' frontend message means a password, a SASLInitialResponse or a SASLResponse
depending on the authentication exchange, so it decodes to :class:`PasswordData` and the exchange picks
the reading. Authentication messages share 'R' and differ by their first int32.

DataRow is also built in bulk, many rows per buffer, by :func:`encode_data_rows` from per-column
wire values (see :mod:`pgwire.types`); that is the hot path of every result.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.errors import ProtocolViolation

PROTOCOL_3_0 = 196608
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
CANCEL_REQUEST_CODE = 80877102

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")
_HDR = struct.Struct("!ci")


class Reader:
    """Reads a payload front to back; running past its end is a protocol violation."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ProtocolViolation("invalid message format: message is shorter than its fields")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def int8(self) -> int:
        return self._take(1)[0]

    def int16(self) -> int:
        return int(_I16.unpack(self._take(2))[0])

    def int32(self) -> int:
        return int(_I32.unpack(self._take(4))[0])

    def uint32(self) -> int:
        return int(_U32.unpack(self._take(4))[0])

    def take(self, n: int) -> bytes:
        return self._take(n)

    def cstring(self) -> str:
        end = self.buf.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolViolation("invalid message format: string is not terminated")
        raw = self.buf[self.pos : end]
        self.pos = end + 1
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolViolation('invalid byte sequence for encoding "UTF8"') from None

    def rest(self) -> bytes:
        out = bytes(self.buf[self.pos :])
        self.pos = len(self.buf)
        return out

    def value(self) -> bytes | None:
        """An int32 length (-1: NULL) followed by that many bytes."""
        n = self.int32()
        if n == -1:
            return None
        if n < -1:
            raise ProtocolViolation(f"invalid value length {n}")
        return self._take(n)

    def end(self) -> None:
        if self.pos != len(self.buf):
            raise ProtocolViolation("invalid message format: trailing bytes after the last field")


def _text(raw: bytes) -> str:
    """A protocol string's bytes (without its NUL) as text; what ``Reader.cstring`` raises if not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolViolation('invalid byte sequence for encoding "UTF8"') from None


# the bytes after a Bind's two names when it has no parameters: result formats none, one text, one binary
_PLAIN_BIND_TAILS = {
    b"\0\0\0\0\0\0": (),
    b"\0\0\0\0\0\x01\0\0": (0,),
    b"\0\0\0\0\0\x01\0\x01": (1,),
}


def cstr(text: str) -> bytes:
    raw = text.encode("utf-8")
    if b"\0" in raw:
        raise ValueError("a protocol string cannot contain a NUL byte")
    return raw + b"\0"


def i16(n: int) -> bytes:
    return _I16.pack(n)


def i32(n: int) -> bytes:
    return _I32.pack(n)


def u32(n: int) -> bytes:
    return _U32.pack(n)


def _value(v: bytes | None) -> bytes:
    return b"\xff\xff\xff\xff" if v is None else _I32.pack(len(v)) + v


def _int16_list(values: list[int]) -> bytes:
    return _I16.pack(len(values)) + b"".join(_I16.pack(v) for v in values)


def _read_int16_list(r: Reader) -> list[int]:
    n = r.int16()
    if n < 0:
        raise ProtocolViolation(f"invalid count {n}")
    return [r.int16() for _ in range(n)]


class Message:
    """Base of all messages: ``type_code`` b'' marks an untyped start-up packet."""

    type_code: ClassVar[bytes] = b""

    def payload(self) -> bytes:
        return b""

    def encode(self) -> bytes:
        body = self.payload()
        if self.type_code:
            return self.type_code + _I32.pack(len(body) + 4) + body
        return _I32.pack(len(body) + 4) + body

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        if payload:
            Reader(payload).end()
        return cls()


# ---------------------------------------------------------------- start-up packets (frontend)


@dataclass
class StartupMessage(Message):
    parameters: dict[str, str] = field(default_factory=dict)  # user, database, options, application_name ...
    version: int = PROTOCOL_3_0

    def payload(self) -> bytes:
        body = b"".join(cstr(k) + cstr(v) for k, v in self.parameters.items())
        return _I32.pack(self.version) + body + b"\0"

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        version = r.int32()
        params: dict[str, str] = {}
        while True:
            key = r.cstring()
            if not key:
                break
            params[key] = r.cstring()
        r.end()
        return cls(params, version)


@dataclass
class SSLRequest(Message):
    def payload(self) -> bytes:
        return _I32.pack(SSL_REQUEST_CODE)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        r.end()
        return cls()


@dataclass
class GSSENCRequest(Message):
    def payload(self) -> bytes:
        return _I32.pack(GSSENC_REQUEST_CODE)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        r.end()
        return cls()


@dataclass
class CancelRequest(Message):
    process_id: int
    secret_key: int

    def payload(self) -> bytes:
        return _I32.pack(CANCEL_REQUEST_CODE) + _I32.pack(self.process_id) + _I32.pack(self.secret_key)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        out = cls(r.int32(), r.int32())
        r.end()
        return out


def decode_startup(payload: bytes) -> Message:
    """The start-up packet ``payload`` (after its length) as the message its code names."""
    if len(payload) < 4:
        raise ProtocolViolation("invalid length of startup packet")
    code = _I32.unpack_from(payload)[0]
    if code == SSL_REQUEST_CODE:
        return SSLRequest.decode(payload)
    if code == GSSENC_REQUEST_CODE:
        return GSSENCRequest.decode(payload)
    if code == CANCEL_REQUEST_CODE:
        return CancelRequest.decode(payload)
    if code >> 16 == 3:
        return StartupMessage.decode(payload)
    raise ProtocolViolation(
        f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: server supports 3.0 to 3.0"
    )


# ---------------------------------------------------------------- frontend messages


@dataclass
class PasswordData(Message):
    """A 'p' message before we know which of the three it is."""

    type_code: ClassVar[bytes] = b"p"
    data: bytes = b""

    def payload(self) -> bytes:
        return self.data

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        return cls(bytes(payload))


@dataclass
class PasswordMessage(Message):
    type_code: ClassVar[bytes] = b"p"
    password: str = ""

    def payload(self) -> bytes:
        return cstr(self.password)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.cstring())
        r.end()
        return out


@dataclass
class SASLInitialResponse(Message):
    type_code: ClassVar[bytes] = b"p"
    mechanism: str = ""
    data: bytes | None = None

    def payload(self) -> bytes:
        return cstr(self.mechanism) + _value(self.data)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.cstring(), r.value())
        r.end()
        return out


@dataclass
class SASLResponse(Message):
    type_code: ClassVar[bytes] = b"p"
    data: bytes = b""

    def payload(self) -> bytes:
        return self.data

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        return cls(bytes(payload))


@dataclass
class Query(Message):
    type_code: ClassVar[bytes] = b"Q"
    sql: str = ""

    def payload(self) -> bytes:
        return cstr(self.sql)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        if payload and payload.find(b"\0") == len(payload) - 1:  # the one string, well formed
            return cls(_text(payload[:-1]))
        r = Reader(payload)
        out = cls(r.cstring())
        r.end()
        return out


@dataclass
class Parse(Message):
    type_code: ClassVar[bytes] = b"P"
    name: str = ""
    sql: str = ""
    param_oids: list[int] = field(default_factory=list)

    def payload(self) -> bytes:
        oids = b"".join(_U32.pack(o) for o in self.param_oids)
        return cstr(self.name) + cstr(self.sql) + _I16.pack(len(self.param_oids)) + oids

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        name, sql = r.cstring(), r.cstring()
        n = r.int16()
        if n < 0:
            raise ProtocolViolation(f"invalid parameter count {n}")
        out = cls(name, sql, [r.uint32() for _ in range(n)])
        r.end()
        return out


@dataclass
class Bind(Message):
    type_code: ClassVar[bytes] = b"B"
    portal: str = ""
    statement: str = ""
    param_formats: list[int] = field(default_factory=list)
    params: list[bytes | None] = field(default_factory=list)
    result_formats: list[int] = field(default_factory=list)

    def payload(self) -> bytes:
        return (
            cstr(self.portal)
            + cstr(self.statement)
            + _int16_list(self.param_formats)
            + _I16.pack(len(self.params))
            + b"".join(_value(p) for p in self.params)
            + _int16_list(self.result_formats)
        )

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        # what most Binds are: no parameters, no or one result format (libpq's PQexecPrepared without
        # parameters); anything else, or anything malformed, is read by the Reader below
        first = payload.find(b"\0")
        second = payload.find(b"\0", first + 1) if first >= 0 else -1
        if second >= 0:
            formats = _PLAIN_BIND_TAILS.get(payload[second + 1 :])
            if formats is not None:
                return cls(_text(payload[:first]), _text(payload[first + 1 : second]), [], [], list(formats))
        r = Reader(payload)
        portal, statement = r.cstring(), r.cstring()
        formats = _read_int16_list(r)
        n = r.int16()
        if n < 0:
            raise ProtocolViolation(f"invalid parameter count {n}")
        params = [r.value() for _ in range(n)]
        out = cls(portal, statement, formats, params, _read_int16_list(r))
        r.end()
        return out


@dataclass
class Describe(Message):
    type_code: ClassVar[bytes] = b"D"
    kind: str = "S"  # 'S' statement, 'P' portal
    name: str = ""

    def payload(self) -> bytes:
        return self.kind.encode("ascii") + cstr(self.name)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        if payload[:1] in (b"S", b"P") and payload.find(b"\0", 1) == len(payload) - 1:
            return cls(chr(payload[0]), _text(payload[1:-1]))
        r = Reader(payload)
        kind = chr(r.int8())
        out = cls(kind, r.cstring())
        r.end()
        if kind not in "SP":
            raise ProtocolViolation(f"invalid DESCRIBE message subtype {ord(kind)}")
        return out


@dataclass
class Execute(Message):
    type_code: ClassVar[bytes] = b"E"
    portal: str = ""
    max_rows: int = 0  # 0: all

    def payload(self) -> bytes:
        return cstr(self.portal) + _I32.pack(self.max_rows)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        end = len(payload) - 5
        if end >= 0 and payload.find(b"\0") == end:
            return cls(_text(payload[:end]), _I32.unpack_from(payload, end + 1)[0])
        r = Reader(payload)
        out = cls(r.cstring(), r.int32())
        r.end()
        return out


@dataclass
class Close(Message):
    type_code: ClassVar[bytes] = b"C"
    kind: str = "S"
    name: str = ""

    def payload(self) -> bytes:
        return self.kind.encode("ascii") + cstr(self.name)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        if payload[:1] in (b"S", b"P") and payload.find(b"\0", 1) == len(payload) - 1:
            return cls(chr(payload[0]), _text(payload[1:-1]))
        r = Reader(payload)
        kind = chr(r.int8())
        out = cls(kind, r.cstring())
        r.end()
        if kind not in "SP":
            raise ProtocolViolation(f"invalid CLOSE message subtype {ord(kind)}")
        return out


@dataclass
class Flush(Message):
    type_code: ClassVar[bytes] = b"H"


@dataclass
class Sync(Message):
    type_code: ClassVar[bytes] = b"S"


@dataclass
class Terminate(Message):
    type_code: ClassVar[bytes] = b"X"


@dataclass
class CopyData(Message):
    type_code: ClassVar[bytes] = b"d"
    data: bytes = b""

    def payload(self) -> bytes:
        return self.data

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        return cls(bytes(payload))


@dataclass
class CopyDone(Message):
    type_code: ClassVar[bytes] = b"c"


@dataclass
class CopyFail(Message):
    type_code: ClassVar[bytes] = b"f"
    message: str = ""

    def payload(self) -> bytes:
        return cstr(self.message)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.cstring())
        r.end()
        return out


@dataclass
class FunctionCall(Message):
    """The fast-path function call; decoded so it can be refused politely."""

    type_code: ClassVar[bytes] = b"F"
    function_oid: int = 0
    arg_formats: list[int] = field(default_factory=list)
    args: list[bytes | None] = field(default_factory=list)
    result_format: int = 0

    def payload(self) -> bytes:
        return (
            _U32.pack(self.function_oid)
            + _int16_list(self.arg_formats)
            + _I16.pack(len(self.args))
            + b"".join(_value(a) for a in self.args)
            + _I16.pack(self.result_format)
        )

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        oid = r.uint32()
        formats = _read_int16_list(r)
        n = r.int16()
        if n < 0:
            raise ProtocolViolation(f"invalid argument count {n}")
        args = [r.value() for _ in range(n)]
        out = cls(oid, formats, args, r.int16())
        r.end()
        return out


# ---------------------------------------------------------------- backend messages


@dataclass
class AuthenticationOk(Message):
    type_code: ClassVar[bytes] = b"R"
    code: ClassVar[int] = 0

    def payload(self) -> bytes:
        return _I32.pack(self.code)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        r.end()
        return cls()


@dataclass
class AuthenticationCleartextPassword(AuthenticationOk):
    code: ClassVar[int] = 3


@dataclass
class AuthenticationMD5Password(Message):
    type_code: ClassVar[bytes] = b"R"
    code: ClassVar[int] = 5
    salt: bytes = b"\0\0\0\0"

    def payload(self) -> bytes:
        assert len(self.salt) == 4
        return _I32.pack(self.code) + self.salt

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        out = cls(r.take(4))
        r.end()
        return out


@dataclass
class AuthenticationSASL(Message):
    type_code: ClassVar[bytes] = b"R"
    code: ClassVar[int] = 10
    mechanisms: list[str] = field(default_factory=list)

    def payload(self) -> bytes:
        return _I32.pack(self.code) + b"".join(cstr(m) for m in self.mechanisms) + b"\0"

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        mechs = []
        while True:
            m = r.cstring()
            if not m:
                break
            mechs.append(m)
        r.end()
        return cls(mechs)


@dataclass
class AuthenticationSASLContinue(Message):
    type_code: ClassVar[bytes] = b"R"
    code: ClassVar[int] = 11
    data: bytes = b""

    def payload(self) -> bytes:
        return _I32.pack(self.code) + self.data

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        r.int32()
        return cls(r.rest())


@dataclass
class AuthenticationSASLFinal(AuthenticationSASLContinue):
    code: ClassVar[int] = 12


_AUTH_BY_CODE: dict[int, type[Message]] = {
    c.code: c  # type: ignore[attr-defined]
    for c in (
        AuthenticationOk,
        AuthenticationCleartextPassword,
        AuthenticationMD5Password,
        AuthenticationSASL,
        AuthenticationSASLContinue,
        AuthenticationSASLFinal,
    )
}


def decode_authentication(payload: bytes) -> Message:
    code = Reader(payload).int32()
    cls = _AUTH_BY_CODE.get(code)
    if cls is None:
        raise ProtocolViolation(f"unsupported authentication request {code}")
    return cls.decode(payload)


@dataclass
class ParameterStatus(Message):
    type_code: ClassVar[bytes] = b"S"
    name: str = ""
    value: str = ""

    def payload(self) -> bytes:
        return cstr(self.name) + cstr(self.value)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.cstring(), r.cstring())
        r.end()
        return out


@dataclass
class BackendKeyData(Message):
    type_code: ClassVar[bytes] = b"K"
    process_id: int = 0
    secret_key: int = 0

    def payload(self) -> bytes:
        return _I32.pack(self.process_id) + _I32.pack(self.secret_key)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.int32(), r.int32())
        r.end()
        return out


@dataclass
class ReadyForQuery(Message):
    type_code: ClassVar[bytes] = b"Z"
    status: str = "I"

    def payload(self) -> bytes:
        return self.status.encode("ascii")

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(chr(r.int8()))
        r.end()
        return out


@dataclass
class FieldDescription:
    name: str
    table_oid: int = 0
    column_number: int = 0
    type_oid: int = 25
    type_size: int = -1
    typmod: int = -1
    format: int = 0


_FIELD = struct.Struct("!IhIhih")


@dataclass
class RowDescription(Message):
    type_code: ClassVar[bytes] = b"T"
    fields: list[FieldDescription] = field(default_factory=list)

    def payload(self) -> bytes:
        parts = [_I16.pack(len(self.fields))]
        for f in self.fields:
            parts.append(cstr(f.name))
            parts.append(
                _FIELD.pack(f.table_oid, f.column_number, f.type_oid, f.type_size, f.typmod, f.format)
            )
        return b"".join(parts)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        n = r.int16()
        fields = []
        for _ in range(n):
            name = r.cstring()
            fields.append(FieldDescription(name, *_FIELD.unpack(r.take(_FIELD.size))))
        r.end()
        return cls(fields)


@dataclass
class DataRow(Message):
    type_code: ClassVar[bytes] = b"D"
    values: list[bytes | None] = field(default_factory=list)

    def payload(self) -> bytes:
        return _I16.pack(len(self.values)) + b"".join(_value(v) for v in self.values)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        n = r.int16()
        out = cls([r.value() for _ in range(n)])
        r.end()
        return out


@dataclass
class CommandComplete(Message):
    type_code: ClassVar[bytes] = b"C"
    tag: str = ""

    def payload(self) -> bytes:
        return cstr(self.tag)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.cstring())
        r.end()
        return out


@dataclass
class EmptyQueryResponse(Message):
    type_code: ClassVar[bytes] = b"I"


@dataclass
class ErrorResponse(Message):
    type_code: ClassVar[bytes] = b"E"
    fields: dict[str, str] = field(default_factory=dict)  # field type code (S, V, C, M, D, H, P ...) -> value

    def payload(self) -> bytes:
        return b"".join(k.encode("ascii") + cstr(v) for k, v in self.fields.items()) + b"\0"

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        fields = {}
        while True:
            code = r.int8()
            if code == 0:
                break
            fields[chr(code)] = r.cstring()
        r.end()
        return cls(fields)


@dataclass
class NoticeResponse(ErrorResponse):
    type_code: ClassVar[bytes] = b"N"


@dataclass
class ParseComplete(Message):
    type_code: ClassVar[bytes] = b"1"


@dataclass
class BindComplete(Message):
    type_code: ClassVar[bytes] = b"2"


@dataclass
class CloseComplete(Message):
    type_code: ClassVar[bytes] = b"3"


@dataclass
class NoData(Message):
    type_code: ClassVar[bytes] = b"n"


@dataclass
class PortalSuspended(Message):
    type_code: ClassVar[bytes] = b"s"


@dataclass
class ParameterDescription(Message):
    type_code: ClassVar[bytes] = b"t"
    oids: list[int] = field(default_factory=list)

    def payload(self) -> bytes:
        return _I16.pack(len(self.oids)) + b"".join(_U32.pack(o) for o in self.oids)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        n = r.int16()
        out = cls([r.uint32() for _ in range(n)])
        r.end()
        return out


@dataclass
class CopyInResponse(Message):
    type_code: ClassVar[bytes] = b"G"
    format: int = 0  # 0 text (csv too), 1 binary
    column_formats: list[int] = field(default_factory=list)

    def payload(self) -> bytes:
        return bytes([self.format]) + _int16_list(self.column_formats)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.int8(), _read_int16_list(r))
        r.end()
        return out


@dataclass
class CopyOutResponse(CopyInResponse):
    type_code: ClassVar[bytes] = b"H"


@dataclass
class NotificationResponse(Message):
    type_code: ClassVar[bytes] = b"A"
    process_id: int = 0
    channel: str = ""
    payload_text: str = ""

    def payload(self) -> bytes:
        return _I32.pack(self.process_id) + cstr(self.channel) + cstr(self.payload_text)

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        out = cls(r.int32(), r.cstring(), r.cstring())
        r.end()
        return out


@dataclass
class NegotiateProtocolVersion(Message):
    type_code: ClassVar[bytes] = b"v"
    newest_minor: int = 0
    unrecognized: list[str] = field(default_factory=list)

    def payload(self) -> bytes:
        return (
            _I32.pack(self.newest_minor)
            + _I32.pack(len(self.unrecognized))
            + b"".join(cstr(o) for o in self.unrecognized)
        )

    @classmethod
    def decode(cls, payload: bytes) -> Self:
        r = Reader(payload)
        minor, n = r.int32(), r.int32()
        out = cls(minor, [r.cstring() for _ in range(n)])
        r.end()
        return out


FRONTEND: dict[bytes, type[Message]] = {
    c.type_code: c
    for c in (
        PasswordData,
        Query,
        Parse,
        Bind,
        Describe,
        Execute,
        Close,
        Flush,
        Sync,
        Terminate,
        CopyData,
        CopyDone,
        CopyFail,
        FunctionCall,
    )
}

BACKEND: dict[bytes, type[Message]] = {
    c.type_code: c
    for c in (
        ParameterStatus,
        BackendKeyData,
        ReadyForQuery,
        RowDescription,
        DataRow,
        CommandComplete,
        EmptyQueryResponse,
        ErrorResponse,
        NoticeResponse,
        ParseComplete,
        BindComplete,
        CloseComplete,
        NoData,
        PortalSuspended,
        ParameterDescription,
        CopyInResponse,
        CopyOutResponse,
        CopyData,
        CopyDone,
        NotificationResponse,
        NegotiateProtocolVersion,
    )
}


def decode_backend(type_code: bytes, payload: bytes) -> Message:
    """A backend message (used by tests and by anything that plays the client)."""
    if type_code == b"R":
        return decode_authentication(payload)
    cls = BACKEND.get(type_code)
    if cls is None:
        raise ProtocolViolation(f"unknown backend message type {type_code!r}")
    return cls.decode(payload)


def split_messages(buf: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every complete typed message in ``buf``; for tests and clients."""
    out = []
    pos = 0
    while pos + 5 <= len(buf):
        code, length = _HDR.unpack_from(buf, pos)
        if pos + 1 + length > len(buf):
            break
        out.append((code, bytes(buf[pos + 5 : pos + 1 + length])))
        pos += 1 + length
    if pos != len(buf):
        raise ValueError(f"{len(buf) - pos} bytes of an incomplete message at the end")
    return out


# ---------------------------------------------------------------- DataRow in bulk


class WireColumn:
    """One column of a batch in wire form: the bytes of every value, and which values are NULL.

    ``fixed``: an (n, width) uint8 matrix when every value has the same width (binary int8, float8,
    timestamp ...); else ``var``: a binary/string Arrow array of the values, or the same as numpy
    ``offsets`` (int64, n + 1) into ``data`` (uint8) as the type kernels write them (``var`` is then made
    from them on first use). ``nulls`` is a bool mask, or None when there is no NULL. Values at NULL
    positions are ignored.
    """

    __slots__ = ("fixed", "_var", "nulls", "offsets", "data")

    def __init__(
        self,
        fixed: np.ndarray | None = None,
        var: pa.Array | None = None,
        nulls: np.ndarray | None = None,
        offsets: np.ndarray | None = None,
        data: np.ndarray | None = None,
    ) -> None:
        self.fixed = fixed
        self._var = var
        self.nulls = nulls
        self.offsets = offsets
        self.data = data

    @property
    def var(self) -> pa.Array | None:
        if self._var is None and self.offsets is not None:
            assert self.data is not None
            buffers = [None, pa.py_buffer(self.offsets), pa.py_buffer(self.data)]
            self._var = pa.Array.from_buffers(pa.large_binary(), len(self.offsets) - 1, buffers)
        return self._var

    def __len__(self) -> int:
        if self.fixed is not None:
            return int(self.fixed.shape[0])
        if self.offsets is not None:
            return len(self.offsets) - 1
        assert self.var is not None
        return len(self.var)

    def __repr__(self) -> str:
        kind = "fixed" if self.fixed is not None else "var"
        return f"WireColumn({kind}, {len(self)} values, nulls={self.nulls is not None})"


def _binary_from_matrix(m: np.ndarray) -> pa.Array:
    n, w = m.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64) if w else np.zeros(n + 1, np.int64)
    data = np.ascontiguousarray(m).reshape(-1)
    return pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def encode_data_rows(columns: list[WireColumn], n: int, type_code: bytes = b"D") -> bytes | memoryview:
    """n DataRow messages in one buffer, written by a numba kernel without a Python loop over rows.

    Each row is 'D' | int32 length | int16 column count | (int32 value length | value bytes)*. The kernel
    (:func:`pgwire.types._rows.frame_rows`) writes the rows whole, front to back, reading every column's
    values in place, so a batch of a few rows costs a few microseconds per column and a large one about
    the time to write its bytes once. The result is a read-only memoryview of the kernel's buffer (no
    copy into a bytes object); bytes, bytearray and ``+`` take it as they take bytes.
    """
    if n == 0:
        return b""
    from pgwire.types._rows import frame_rows

    return frame_rows(columns, n, type_code[0])


def frame_each(type_code: bytes, values: pa.Array) -> bytes:
    """One message of ``type_code`` per element of the binary/string array ``values`` (no NULLs)."""
    n = len(values)
    if n == 0:
        return b""
    if not pa.types.is_large_binary(values.type):
        values = (
            values.cast(pa.large_binary())
            if not pa.types.is_large_string(values.type)
            else values.view(pa.large_binary())
        )
    lengths = pc.binary_length(values).to_numpy(zero_copy_only=False).astype(np.int64)
    head = np.empty((n, 5), np.uint8)
    head[:, 0] = type_code[0]
    head[:, 1:5] = (lengths + 4).astype(">i4").view(np.uint8).reshape(n, 4)
    joined = pc.binary_join_element_wise(_binary_from_matrix(head), values, pa.scalar(b"", pa.large_binary()))
    offsets = np.frombuffer(joined.buffers()[1], np.int64, count=n + 1, offset=joined.offset * 8)
    start, stop = int(offsets[0]), int(offsets[-1])
    return joined.buffers()[2].slice(start, stop - start).to_pybytes()
