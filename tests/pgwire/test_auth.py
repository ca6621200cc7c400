"""Authentication: SCRAM-SHA-256 against a client written here from RFC 5802/7677, md5, cleartext,
and real clients (psycopg, asyncpg) logging in with passwords over a real server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

import asyncpg
import psycopg
import pytest

from pgwire import messages as m
from pgwire.auth import MD5, AuthConfig, Cleartext, PasswordStore, Scram, ScramVerifier, Trust
from pgwire.errors import InvalidPassword, ProtocolViolation
from tests.pgwire.conftest import RawClient, RunningServer


class ScramClient:
    """The client side of SCRAM-SHA-256 with no channel binding, straight from RFC 5802 section 3."""

    def __init__(self, user: str, password: str) -> None:
        self.password = password
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.first_bare = f"n={user},r={self.nonce}"

    def first(self) -> bytes:
        return m.SASLInitialResponse("SCRAM-SHA-256", ("n,," + self.first_bare).encode()).payload()

    def final(self, server_first: bytes) -> bytes:
        attrs = dict(part.split("=", 1) for part in server_first.decode().split(","))
        assert attrs["r"].startswith(self.nonce)
        salted = hashlib.pbkdf2_hmac(
            "sha256", self.password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
        )
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={attrs['r']}"
        self.auth_message = f"{self.first_bare},{server_first.decode()},{without_proof}".encode()
        signature = hmac.digest(stored_key, self.auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self.server_key = hmac.digest(salted, b"Server Key", "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> None:
        expected = base64.b64encode(hmac.digest(self.server_key, self.auth_message, "sha256")).decode()
        assert server_final.decode() == f"v={expected}"


@pytest.mark.parametrize("stored", ["secret", "verifier"])
def test_scram_exchange_with_rfc_client(stored: str) -> None:
    secret = "secret" if stored == "secret" else str(ScramVerifier.from_password("secret"))
    exchange = Scram("alice", PasswordStore({"alice": secret}))
    start = exchange.start()
    assert isinstance(start, m.AuthenticationSASL) and start.mechanisms == ["SCRAM-SHA-256"]
    client = ScramClient("alice", "secret")
    cont = exchange.step(client.first())
    assert isinstance(cont, m.AuthenticationSASLContinue)
    assert ",i=4096" in cont.data.decode()
    final = exchange.step(client.final(cont.data))
    assert isinstance(final, m.AuthenticationSASLFinal) and exchange.done
    client.verify(final.data)


@pytest.mark.parametrize("user, password", [("alice", "wrong"), ("nobody", "secret")])
def test_scram_wrong_password_or_unknown_user(user: str, password: str) -> None:
    exchange = Scram(user, PasswordStore({"alice": "secret"}))
    exchange.start()
    client = ScramClient(user, password)
    cont = exchange.step(client.first())
    assert isinstance(cont, m.AuthenticationSASLContinue)  # an unknown user is not revealed early
    with pytest.raises(InvalidPassword) as info:
        exchange.step(client.final(cont.data))
    assert info.value.sqlstate == "28P01"
    assert info.value.message == f'password authentication failed for user "{user}"'
    assert not exchange.done


def test_scram_rejects_channel_binding_and_a_changed_nonce() -> None:
    exchange = Scram("alice", PasswordStore({"alice": "secret"}))
    exchange.start()
    with pytest.raises(ProtocolViolation):
        exchange.step(m.SASLInitialResponse("SCRAM-SHA-256", b"p=tls-server-end-point,,n=,r=abc").payload())
    exchange = Scram("alice", PasswordStore({"alice": "secret"}))
    client = ScramClient("alice", "secret")
    cont = exchange.step(client.first())
    assert isinstance(cont, m.AuthenticationSASLContinue)
    final = client.final(cont.data).replace(b"r=", b"r=x", 1)
    with pytest.raises(ProtocolViolation):
        exchange.step(final)


def test_md5_and_cleartext() -> None:
    store = PasswordStore({"bob": "pw", "carol": "md5" + hashlib.md5(b"pwcarol").hexdigest()})
    for user in ("bob", "carol"):
        ex = MD5(user, store)
        start = ex.start()
        assert isinstance(start, m.AuthenticationMD5Password)
        inner = hashlib.md5(b"pw" + user.encode()).hexdigest()
        answer = "md5" + hashlib.md5(inner.encode() + start.salt).hexdigest()
        assert ex.step(m.PasswordMessage(answer).payload()) is None and ex.done
        with pytest.raises(InvalidPassword):
            MD5(user, store).step(m.PasswordMessage("md5" + "0" * 32).payload())
    ex2 = Cleartext("bob", store)
    assert isinstance(ex2.start(), m.AuthenticationCleartextPassword)
    ex2.step(m.PasswordMessage("pw").payload())
    assert ex2.done
    with pytest.raises(InvalidPassword):
        Cleartext("bob", store).step(m.PasswordMessage("nope").payload())
    # cleartext also checks against a stored SCRAM verifier
    verifier_store = PasswordStore({"dave": str(ScramVerifier.from_password("pw"))})
    ex3 = Cleartext("dave", verifier_store)
    ex3.step(m.PasswordMessage("pw").payload())
    assert ex3.done


def test_auto_method_trusts_loopback_only() -> None:
    config = AuthConfig("auto", PasswordStore({"a": "b"}))
    assert isinstance(config.exchange("a", loopback=True), Trust)
    assert isinstance(config.exchange("a", loopback=False), Scram)
    with pytest.raises(ValueError):
        AuthConfig("kerberos")


def test_password_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "users"
    path.write_text("# users\nalice:s3cr:et\n\nbob:SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB\n")
    store = PasswordStore.from_file(str(path))
    assert store.plain("alice") == "s3cr:et"
    assert store.plain("bob") is None and store.scram("bob") is not None


@pytest.mark.parametrize("method", ["scram-sha-256", "md5", "password"])
def test_psycopg_logs_in_with_a_password(make_server: Callable[..., RunningServer], method: str) -> None:
    server = make_server(method, {"alice": "s3cret"})
    with psycopg.connect(server.dsn("alice", password="s3cret")) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(server.dsn("alice", password="wrong"))
    assert 'password authentication failed for user "alice"' in str(info.value)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.dsn("mallory", password="s3cret"))


@pytest.mark.parametrize("method", ["scram-sha-256", "md5"])
def test_asyncpg_logs_in_with_a_password(make_server: Callable[..., RunningServer], method: str) -> None:
    server = make_server(method, {"alice": "s3cret"})

    async def main() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="alice", password="s3cret", database="db"
        )
        assert await conn.fetchval("select 41::int4 + 1") == 42
        await conn.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(
                host="127.0.0.1", port=server.port, user="alice", password="bad", database="db"
            )

    asyncio.run(main())


def test_wrong_password_closes_only_that_connection(make_server: Callable[..., RunningServer]) -> None:
    server = make_server("scram-sha-256", {"alice": "s3cret"})
    good = psycopg.connect(server.dsn("alice", password="s3cret"))
    raw = RawClient(server.port)
    raw.send(m.StartupMessage({"user": "alice", "database": "db"}))
    sasl = raw.read()
    assert isinstance(sasl, m.AuthenticationSASL)
    client = ScramClient("alice", "bad")
    raw.send_raw(b"p" + len(client.first()).__add__(4).to_bytes(4, "big") + client.first())
    cont = raw.read()
    assert isinstance(cont, m.AuthenticationSASLContinue)
    final = client.final(cont.data)
    raw.send_raw(b"p" + (len(final) + 4).to_bytes(4, "big") + final)
    err = raw.read()
    assert isinstance(err, m.ErrorResponse) and err.fields["C"] == "28P01" and err.fields["S"] == "FATAL"
    assert raw.closed()
    raw.close()
    assert good.execute("select 2").fetchone() == (2,)
    good.close()
