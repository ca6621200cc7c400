"""Every frontend and backend message survives encode -> frame -> decode (hypothesis)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwire import messages as m
from pgwire.errors import ProtocolViolation

text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=40)
i32 = st.integers(-(2**31), 2**31 - 1)
u32 = st.integers(0, 2**32 - 1)
i16 = st.integers(-(2**15), 2**15 - 1)
u16count = st.integers(0, 6)
blob = st.binary(max_size=64)
value = st.none() | blob
fmt = st.sampled_from([0, 1])

FRONTEND = {
    m.Query: st.builds(m.Query, text),
    m.Parse: st.builds(m.Parse, text, text, st.lists(u32, max_size=8)),
    m.Bind: st.builds(
        m.Bind, text, text, st.lists(fmt, max_size=4), st.lists(value, max_size=6), st.lists(fmt, max_size=4)
    ),
    m.Describe: st.builds(m.Describe, st.sampled_from("SP"), text),
    m.Execute: st.builds(m.Execute, text, i32),
    m.Close: st.builds(m.Close, st.sampled_from("SP"), text),
    m.Flush: st.just(m.Flush()),
    m.Sync: st.just(m.Sync()),
    m.Terminate: st.just(m.Terminate()),
    m.CopyData: st.builds(m.CopyData, blob),
    m.CopyDone: st.just(m.CopyDone()),
    m.CopyFail: st.builds(m.CopyFail, text),
    m.FunctionCall: st.builds(
        m.FunctionCall, u32, st.lists(fmt, max_size=3), st.lists(value, max_size=3), fmt
    ),
    m.PasswordData: st.builds(m.PasswordData, blob),
}
PASSWORD_KIND = {
    m.PasswordMessage: st.builds(m.PasswordMessage, text),
    m.SASLInitialResponse: st.builds(m.SASLInitialResponse, text, value),
    m.SASLResponse: st.builds(m.SASLResponse, blob),
}
STARTUP = {
    m.StartupMessage: st.builds(m.StartupMessage, st.dictionaries(text.filter(bool), text, max_size=5)),
    m.SSLRequest: st.just(m.SSLRequest()),
    m.GSSENCRequest: st.just(m.GSSENCRequest()),
    m.CancelRequest: st.builds(m.CancelRequest, i32, i32),
}
fields = st.dictionaries(st.sampled_from("SVCMDHPqWstcdnFLR"), text, max_size=6)
BACKEND = {
    m.AuthenticationOk: st.just(m.AuthenticationOk()),
    m.AuthenticationCleartextPassword: st.just(m.AuthenticationCleartextPassword()),
    m.AuthenticationMD5Password: st.builds(m.AuthenticationMD5Password, st.binary(min_size=4, max_size=4)),
    m.AuthenticationSASL: st.builds(m.AuthenticationSASL, st.lists(text.filter(bool), max_size=3)),
    m.AuthenticationSASLContinue: st.builds(m.AuthenticationSASLContinue, blob),
    m.AuthenticationSASLFinal: st.builds(m.AuthenticationSASLFinal, blob),
    m.ParameterStatus: st.builds(m.ParameterStatus, text, text),
    m.BackendKeyData: st.builds(m.BackendKeyData, i32, i32),
    m.ReadyForQuery: st.builds(m.ReadyForQuery, st.sampled_from("ITE")),
    m.RowDescription: st.builds(
        m.RowDescription,
        st.lists(st.builds(m.FieldDescription, text, u32, i16, u32, i16, i32, fmt), max_size=5),
    ),
    m.DataRow: st.builds(m.DataRow, st.lists(value, max_size=8)),
    m.CommandComplete: st.builds(m.CommandComplete, text),
    m.EmptyQueryResponse: st.just(m.EmptyQueryResponse()),
    m.ErrorResponse: st.builds(m.ErrorResponse, fields),
    m.NoticeResponse: st.builds(m.NoticeResponse, fields),
    m.ParseComplete: st.just(m.ParseComplete()),
    m.BindComplete: st.just(m.BindComplete()),
    m.CloseComplete: st.just(m.CloseComplete()),
    m.NoData: st.just(m.NoData()),
    m.PortalSuspended: st.just(m.PortalSuspended()),
    m.ParameterDescription: st.builds(m.ParameterDescription, st.lists(u32, max_size=8)),
    m.CopyInResponse: st.builds(m.CopyInResponse, fmt, st.lists(fmt, max_size=5)),
    m.CopyOutResponse: st.builds(m.CopyOutResponse, fmt, st.lists(fmt, max_size=5)),
    m.CopyData: st.builds(m.CopyData, blob),
    m.CopyDone: st.just(m.CopyDone()),
    m.NotificationResponse: st.builds(m.NotificationResponse, i32, text, text),
    m.NegotiateProtocolVersion: st.builds(m.NegotiateProtocolVersion, i32, st.lists(text, max_size=3)),
}


def test_every_message_class_has_a_strategy() -> None:
    covered = set(FRONTEND) | set(PASSWORD_KIND) | set(STARTUP) | set(BACKEND)
    declared = {
        c for c in vars(m).values() if isinstance(c, type) and issubclass(c, m.Message) and c is not m.Message
    }
    assert declared <= covered, declared - covered


def _typed(msg: m.Message) -> tuple[bytes, bytes]:
    raw = msg.encode()
    [(code, payload)] = m.split_messages(raw)
    assert code == msg.type_code
    return code, payload


@pytest.mark.parametrize("cls", list(FRONTEND), ids=lambda c: c.__name__)
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_frontend_round_trip(cls: type[m.Message], data: st.DataObject) -> None:
    msg = data.draw(FRONTEND[cls])
    code, payload = _typed(msg)
    assert m.FRONTEND[code].decode(payload) == msg


@pytest.mark.parametrize("cls", list(PASSWORD_KIND), ids=lambda c: c.__name__)
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_password_kinds_round_trip(cls: type[m.Message], data: st.DataObject) -> None:
    msg = data.draw(PASSWORD_KIND[cls])
    code, payload = _typed(msg)
    assert code == b"p"
    assert cls.decode(payload) == msg


@pytest.mark.parametrize("cls", list(STARTUP), ids=lambda c: c.__name__)
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_startup_round_trip(cls: type[m.Message], data: st.DataObject) -> None:
    msg = data.draw(STARTUP[cls])
    raw = msg.encode()
    assert int.from_bytes(raw[:4], "big") == len(raw)
    assert m.decode_startup(raw[4:]) == msg


@pytest.mark.parametrize("cls", list(BACKEND), ids=lambda c: c.__name__)
@settings(deadline=None, max_examples=40)
@given(data=st.data())
def test_backend_round_trip(cls: type[m.Message], data: st.DataObject) -> None:
    msg = data.draw(BACKEND[cls])
    code, payload = _typed(msg)
    assert m.decode_backend(code, payload) == msg


def test_known_bytes() -> None:
    assert m.Query("select 1").encode() == b"Q\x00\x00\x00\x0dselect 1\x00"
    assert m.ReadyForQuery("I").encode() == b"Z\x00\x00\x00\x05I"
    assert m.SSLRequest().encode() == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
    assert m.AuthenticationOk().encode() == b"R\x00\x00\x00\x08\x00\x00\x00\x00"
    assert m.DataRow([b"1", None]).encode() == b"D\x00\x00\x00\x0f\x00\x02\x00\x00\x00\x011\xff\xff\xff\xff"


@pytest.mark.parametrize(
    "cls, payload",
    [
        (m.Query, b"no terminator"),
        (m.Parse, b"s\x00select\x00\x00\x02\x00\x00\x00\x17"),  # 2 oids announced, 1 given
        (m.Bind, b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x09ab"),  # value longer than the message
        (m.Execute, b"\x00\x00\x00"),
        (m.Describe, b"X\x00"),
        (m.Sync, b"junk"),
    ],
)
def test_malformed_payloads_are_protocol_violations(cls: type[m.Message], payload: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        cls.decode(payload)


piece = st.sampled_from(
    [b"\0", b"\0\0", b"\0\0\0\0\0\0", b"\0\0\0\0\0\x01\0\x01", b"S", b"P", b"s1", b"\xff", b"\x01"]
)
payloads = st.lists(piece | st.binary(max_size=6), max_size=8).map(b"".join)


@pytest.mark.parametrize(
    "cls", [m.Query, m.Bind, m.Describe, m.Execute, m.Close, m.Sync], ids=lambda c: c.__name__
)
@settings(deadline=None, max_examples=300)
@given(payload=payloads)
def test_any_payload_decodes_to_what_encodes_it_or_is_a_protocol_violation(
    cls: type[m.Message], payload: bytes
) -> None:
    """The decoders' shortcuts for well-formed common messages never accept anything else."""
    try:
        msg = cls.decode(payload)
    except ProtocolViolation:
        return
    assert msg.payload() == payload


def test_bad_startup_codes() -> None:
    with pytest.raises(ProtocolViolation):
        m.decode_startup(b"\x00\x02\x00\x00user\x00u\x00\x00")  # protocol 2.0
    with pytest.raises(ProtocolViolation):
        m.decode_startup(b"\x00")


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(
                st.just("i4"), st.lists(st.none() | st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=1)
            ),
            st.tuples(st.just("s"), st.lists(st.none() | st.text(max_size=10), min_size=1, max_size=1)),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 20),
)
def test_bulk_data_rows_match_one_by_one(kinds: list[tuple[str, list[object]]], n: int) -> None:
    rng = np.random.default_rng(n)
    columns, expected_cols = [], []
    for kind, _ in kinds:
        nulls = rng.random(n) < 0.3
        if kind == "i4":
            vals = rng.integers(-1000, 1000, n).astype(np.int32)
            columns.append(m.WireColumn(fixed=vals.astype(">i4").view(np.uint8).reshape(n, 4), nulls=nulls))
            expected_cols.append(
                [None if nulls[i] else int(vals[i]).to_bytes(4, "big", signed=True) for i in range(n)]
            )
        else:
            strs = [None if nulls[i] else "x" * int(rng.integers(0, 5)) for i in range(n)]
            columns.append(m.WireColumn(var=pa.array(strs, pa.string())))
            expected_cols.append([None if s is None else s.encode() for s in strs])
    got = m.encode_data_rows(columns, n)
    expected = b"".join(m.DataRow([col[i] for col in expected_cols]).encode() for i in range(n))
    assert got == expected
