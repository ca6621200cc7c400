"""Authentication exchanges: trust, cleartext password, md5, SCRAM-SHA-256 (RFC 5802 / RFC 7677).

An exchange is sans-I/O: ``start()`` returns the first backend message (None when there is nothing
to ask), ``step(data)`` takes the payload of the client's next 'p' message and returns the next
backend message, or None when the client is authenticated. A wrong password raises
:class:`pgwire.errors.InvalidPassword` (28P01, ``password authentication failed for user "x"``); an
unknown user fails the same way, after a full exchange, so a client cannot probe for user names.

Where passwords come from is separate: a :class:`PasswordStore` maps a user to a plain password, an
``md5<hex>`` hash (md5 only) or a SCRAM verifier ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``
(the form ``pg_authid.rolpassword`` uses). Only ``n,,`` (no channel binding) is accepted;
SCRAM-SHA-256-PLUS is not offered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pgwire.errors import InvalidAuthorization, ProtocolViolation, password_failed
from pgwire.messages import (
    AuthenticationCleartextPassword,
    AuthenticationMD5Password,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    Message,
    PasswordMessage,
    SASLInitialResponse,
)

METHODS = ("trust", "password", "md5", "scram-sha-256")
SCRAM_ITERATIONS = 4096
SCRAM_MECHANISM = "SCRAM-SHA-256"


@dataclass(frozen=True)
class ScramVerifier:
    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    @classmethod
    def from_password(
        cls, password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
    ) -> ScramVerifier:
        salt = salt if salt is not None else secrets.token_bytes(16)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        return cls(iterations, salt, hashlib.sha256(client_key).digest(), server_key)

    @classmethod
    def parse(cls, text: str) -> ScramVerifier:
        try:
            mech, rest = text.split("$", 1)
            head, keys = rest.split("$", 1)
            iterations, salt = head.split(":", 1)
            stored, server = keys.split(":", 1)
            if mech != SCRAM_MECHANISM:
                raise ValueError(mech)
            return cls(
                int(iterations), base64.b64decode(salt), base64.b64decode(stored), base64.b64decode(server)
            )
        except ValueError:
            raise ValueError("not a SCRAM-SHA-256 verifier") from None

    def __str__(self) -> str:
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return f"{SCRAM_MECHANISM}${self.iterations}:{b64(self.salt)}${b64(self.stored_key)}:{b64(self.server_key)}"


@dataclass
class PasswordStore:
    """user -> secret (plain password, ``md5...`` hash or SCRAM verifier)."""

    secrets: dict[str, str] = field(default_factory=dict)
    _verifiers: dict[str, ScramVerifier] = field(default_factory=dict, repr=False)
    # users the file does not name: their SCRAM verifier, looked up at each login (sql/roles.py's
    # LOGIN roles; a changed or dropped role takes effect at once)
    fallback: Callable[[str], str | None] | None = field(default=None, repr=False)
    # whether a user name is a role (None: any name is): trust lets in only those, as PostgreSQL does
    role_exists: Callable[[str], bool] | None = field(default=None, repr=False)

    def known(self, user: str) -> bool:
        return self.role_exists is None or user in self.secrets or self.role_exists(user)

    def _secret(self, user: str) -> str | None:
        s = self.secrets.get(user)
        if s is None and self.fallback is not None:
            s = self.fallback(user)
        return s

    @classmethod
    def from_mapping(cls, users: Mapping[str, str]) -> PasswordStore:
        return cls(dict(users))

    @classmethod
    def from_file(cls, path: str) -> PasswordStore:
        """Lines ``user:secret``; blank lines and lines starting with ``#`` are skipped."""
        users: dict[str, str] = {}
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                user, sep, secret = line.partition(":")
                if not sep or not user:
                    raise ValueError(f"{path}:{number}: expected user:password")
                users[user] = secret
        return cls(users)

    def plain(self, user: str) -> str | None:
        s = self._secret(user)
        if s is None or s.startswith(SCRAM_MECHANISM + "$") or _is_md5_hash(s):
            return None
        return s

    def md5_hash(self, user: str) -> str | None:
        """``md5`` + md5(password + user), as PostgreSQL stores it."""
        s = self._secret(user)
        if s is None or s.startswith(SCRAM_MECHANISM + "$"):
            return None
        if _is_md5_hash(s):
            return s
        return "md5" + hashlib.md5((s + user).encode("utf-8")).hexdigest()

    def scram(self, user: str) -> ScramVerifier | None:
        v = self._verifiers.get(user)
        if v is not None:
            return v
        s = self.secrets.get(user)
        if s is None and self.fallback is not None:
            s = self.fallback(user)
            return ScramVerifier.parse(s) if s is not None and s.startswith(SCRAM_MECHANISM + "$") else None
        if s is None or _is_md5_hash(s):
            return None
        v = ScramVerifier.parse(s) if s.startswith(SCRAM_MECHANISM + "$") else ScramVerifier.from_password(s)
        self._verifiers[user] = v
        return v


def _is_md5_hash(s: str) -> bool:
    return len(s) == 35 and s.startswith("md5") and all(c in "0123456789abcdef" for c in s[3:])


class Exchange:
    done: bool = False  # the client is authenticated

    def start(self) -> Message | None:
        return None

    def step(self, data: bytes) -> Message | None:
        raise ProtocolViolation("unexpected password message")


class Trust(Exchange):
    done = True


@dataclass
class Cleartext(Exchange):
    user: str
    store: PasswordStore

    def start(self) -> Message:
        return AuthenticationCleartextPassword()

    def step(self, data: bytes) -> Message | None:
        given = PasswordMessage.decode(data).password
        expected = self.store.plain(self.user)
        if expected is not None:
            ok = hmac.compare_digest(given.encode(), expected.encode())
        else:  # a stored hash or verifier: check the password against it
            verifier = self.store.scram(self.user)
            md5 = self.store.md5_hash(self.user)
            if verifier is not None:
                ok = hmac.compare_digest(
                    ScramVerifier.from_password(given, verifier.salt, verifier.iterations).stored_key,
                    verifier.stored_key,
                )
            elif md5 is not None:
                ok = hmac.compare_digest(md5, "md5" + hashlib.md5((given + self.user).encode()).hexdigest())
            else:
                ok = False
        if not ok:
            raise password_failed(self.user)
        self.done = True
        return None


@dataclass
class MD5(Exchange):
    user: str
    store: PasswordStore
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(4))

    def start(self) -> Message:
        return AuthenticationMD5Password(self.salt)

    def step(self, data: bytes) -> Message | None:
        given = PasswordMessage.decode(data).password
        stored = self.store.md5_hash(self.user)
        if stored is None:
            raise password_failed(self.user)
        expected = "md5" + hashlib.md5(stored[3:].encode() + self.salt).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise password_failed(self.user)
        self.done = True
        return None


def _attributes(message: str) -> dict[str, str]:
    out = {}
    for part in message.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ProtocolViolation("malformed SCRAM message")
        out[part[0]] = part[2:]
    return out


@dataclass
class Scram(Exchange):
    """Server side of SCRAM-SHA-256 without channel binding."""

    user: str
    store: PasswordStore
    _stage: int = 0
    _verifier: ScramVerifier | None = None
    _known: bool = True
    _client_first_bare: str = ""
    _server_first: str = ""
    _nonce: str = ""

    def start(self) -> Message:
        return AuthenticationSASL([SCRAM_MECHANISM])

    def step(self, data: bytes) -> Message | None:
        if self._stage == 0:
            return self._client_first(data)
        if self._stage == 1:
            return self._client_final(data)
        raise ProtocolViolation("unexpected SASL message")

    def _client_first(self, data: bytes) -> Message:
        msg = SASLInitialResponse.decode(data)
        if msg.mechanism != SCRAM_MECHANISM:
            raise InvalidAuthorization("client selected an invalid SASL authentication mechanism")
        if msg.data is None:
            raise ProtocolViolation("malformed SCRAM message: empty client-first-message")
        text = msg.data.decode("utf-8", "replace")
        gs2, _, rest = text.partition(",")
        authzid, _, bare = rest.partition(",")
        if gs2 == "p" or gs2.startswith("p="):
            raise ProtocolViolation("malformed SCRAM message: channel binding is not supported")
        if gs2 not in ("n", "y") or authzid:
            raise ProtocolViolation("malformed SCRAM message: unexpected GS2 header")
        attrs = _attributes(bare)
        if "r" not in attrs or "n" not in attrs:
            raise ProtocolViolation("malformed SCRAM message: missing nonce")
        self._client_first_bare = bare
        verifier = self.store.scram(self.user)
        if verifier is None:  # mock the exchange, then fail at the proof, like PostgreSQL
            self._known = False
            verifier = ScramVerifier.from_password(
                secrets.token_hex(16), hashlib.sha256(self.user.encode()).digest()[:16]
            )
        self._verifier = verifier
        self._nonce = attrs["r"] + base64.b64encode(secrets.token_bytes(18)).decode()
        salt = base64.b64encode(verifier.salt).decode()
        self._server_first = f"r={self._nonce},s={salt},i={verifier.iterations}"
        self._stage = 1
        return AuthenticationSASLContinue(self._server_first.encode())

    def _client_final(self, data: bytes) -> Message:
        text = data.decode("utf-8", "replace")
        without_proof, sep, proof_b64 = text.rpartition(",p=")
        if not sep:
            raise ProtocolViolation("malformed SCRAM message: missing proof")
        attrs = _attributes(without_proof)
        if attrs.get("c") not in ("biws", "eSws"):  # base64 of "n,," and "y,,"
            raise ProtocolViolation("malformed SCRAM message: unexpected channel-binding data")
        if attrs.get("r") != self._nonce:
            raise ProtocolViolation("malformed SCRAM message: nonce does not match")
        assert self._verifier is not None
        try:
            proof = base64.b64decode(proof_b64, validate=True)
        except ValueError:
            raise ProtocolViolation("malformed SCRAM message: invalid proof") from None
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode()
        signature = hmac.digest(self._verifier.stored_key, auth_message, "sha256")
        if len(proof) != len(signature):
            raise password_failed(self.user)
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not self._known or not hmac.compare_digest(
            hashlib.sha256(client_key).digest(), self._verifier.stored_key
        ):
            raise password_failed(self.user)
        server_signature = hmac.digest(self._verifier.server_key, auth_message, "sha256")
        self._stage = 2
        self.done = True
        return AuthenticationSASLFinal(b"v=" + base64.b64encode(server_signature))


@dataclass(frozen=True)
class AuthConfig:
    """``method``: one of :data:`METHODS`, or "auto": trust for loopback clients, SCRAM for others."""

    method: str = "auto"
    store: PasswordStore = field(default_factory=PasswordStore)

    def __post_init__(self) -> None:
        if self.method not in (*METHODS, "auto"):
            raise ValueError(f"unknown auth method {self.method!r}: one of auto, {', '.join(METHODS)}")

    def exchange(self, user: str, loopback: bool) -> Exchange:
        method = self.method
        if method == "auto":
            method = "trust" if loopback else "scram-sha-256"
        if method == "trust":
            if not self.store.known(user):
                raise InvalidAuthorization(f'role "{user}" does not exist')
            return Trust()
        if method == "password":
            return Cleartext(user, self.store)
        if method == "md5":
            return MD5(user, self.store)
        return Scram(user, self.store)
