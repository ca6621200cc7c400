"""InfluxDB 1.x's users and privileges, kept in the storage catalog.

A user has a name, a password stored only as a salted scrypt hash, an admin flag, and a privilege per
database (READ, WRITE, ALL or NO PRIVILEGES, InfluxDB's bits 1, 2, 3 and 0). The whole set is one
JSON document under the catalog's meta key :data:`KEY` (as retention/jobs.py keeps its jobs), so it
survives restarts; users are kept in the order they were created, which is the order SHOW USERS
lists them in, as InfluxDB does.

Checking a password costs an scrypt (~10-50 ms): :meth:`UserStore.authenticate` remembers the
credentials it verified, keyed by a keyed digest of name and password (not the password itself) and
valid only while the user's stored hash is the one it checked against, so a changed password or a
dropped user is not let in by the cache. One store per storage engine (:func:`users_of`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

KEY = "influx_users"

NO_PRIVILEGES, READ, WRITE, ALL = 0, 1, 2, 3
PRIVILEGE_NAMES = {NO_PRIVILEGES: "NO PRIVILEGES", READ: "READ", WRITE: "WRITE", ALL: "ALL PRIVILEGES"}

# scrypt's cost: 16 MiB of memory and ~20-50 ms a check (OWASP's minimum is N=2**17 with r=8, p=1
# for interactive logins; verified credentials are cached, so only a first request pays it)
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_MAX_CACHED = 4096


class UserError(Exception):
    """An InfluxQL error text ("user not found", ...)."""


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=64 << 20, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 << 20,
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


@dataclass
class User:
    name: str
    hash: str
    admin: bool = False
    privileges: dict[str, int] = field(default_factory=dict)  # database -> bits, in grant order

    def privilege(self, database: str) -> int:
        return self.privileges.get(database, NO_PRIVILEGES)

    def may(self, privilege: int, database: str) -> bool:
        return self.admin or self.privilege(database) & privilege == privilege


class UserStore:
    """The users of one storage engine (its catalog's meta key), with a cache of verified logins.

    Changes are made under a lock and replace the dicts they change rather than change them, so
    requests reading them in other threads (SHOW USERS, a login) never see one mid-change."""

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        raw = catalog.get_meta(KEY)
        if raw:
            for u in json.loads(raw)["users"]:
                self._users[u["name"]] = User(u["name"], u["hash"], u["admin"], dict(u["privileges"]))
        self._admin_exists = any(u.admin for u in self._users.values())
        self._verified: dict[bytes, str] = {}  # digest of (name, password) -> the hash it matched
        self._cache_key = os.urandom(32)

    # -- reading ------------------------------------------------------------------------------------------
    def users(self) -> list[User]:
        return list(self._users.values())

    def get(self, name: str) -> User | None:
        return self._users.get(name)

    def user(self, name: str) -> User:
        u = self._users.get(name)
        if u is None:
            raise UserError("user not found")
        return u

    def admin_exists(self) -> bool:
        return self._admin_exists

    def _key(self, name: str, password: str) -> bytes:
        return hmac.digest(self._cache_key, name.encode() + b"\0" + password.encode(), "sha256")

    def cached(self, name: str, password: str) -> User | None:
        """The user, if these credentials were verified against the user's current password; None
        when :meth:`authenticate` must tell (a microsecond or two, not an scrypt)."""
        u = self._users.get(name)
        if u is None or self._verified.get(self._key(name, password)) != u.hash:
            return None
        return u

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, if ``password`` is theirs; None otherwise."""
        u = self._users.get(name)
        if u is None:
            return None
        key = self._key(name, password)
        if self._verified.get(key) == u.hash:
            return u
        if not check_password(password, u.hash):
            return None
        with self._lock:
            if len(self._verified) >= _MAX_CACHED:
                self._verified.clear()
            self._verified[key] = u.hash
        return u

    # -- changing -----------------------------------------------------------------------------------------
    def _save(self) -> None:
        doc = {
            "users": [
                {"name": u.name, "hash": u.hash, "admin": u.admin, "privileges": u.privileges}
                for u in self._users.values()
            ]
        }
        self.catalog.set_meta(KEY, json.dumps(doc))
        self._admin_exists = any(u.admin for u in self._users.values())

    def create(self, name: str, password: str, admin: bool) -> None:
        """InfluxDB's CREATE USER: the same user again (same password and admin flag) is no error."""
        if not name:
            raise UserError("username required")
        with self._lock:
            u = self._users.get(name)
            if u is not None:
                if u.admin != admin or not check_password(password, u.hash):
                    raise UserError("user already exists")
                return
            self._users = {**self._users, name: User(name, hash_password(password), admin)}
            self._save()

    def drop(self, name: str) -> None:
        with self._lock:
            if name not in self._users:
                raise UserError("user not found")
            self._users = {k: u for k, u in self._users.items() if k != name}
            self._save()

    def set_password(self, name: str, password: str) -> None:
        with self._lock:
            self.user(name).hash = hash_password(password)
            self._save()

    def set_admin(self, name: str, admin: bool) -> None:
        with self._lock:
            self.user(name).admin = admin
            self._save()

    def set_privilege(self, name: str, database: str, privilege: int, database_exists: bool) -> None:
        """The user's privilege on ``database`` becomes ``privilege`` (InfluxDB checks the user
        first, then the database)."""
        with self._lock:
            u = self.user(name)
            if not database_exists:
                raise UserError(f"database not found: {database}")
            u.privileges = {**u.privileges, database: privilege}
            self._save()

    def database_dropped(self, database: str) -> None:
        """A dropped database's privileges go with it, as in InfluxDB."""
        with self._lock:
            changed = False
            for u in self._users.values():
                if database in u.privileges:
                    u.privileges = {k: p for k, p in u.privileges.items() if k != database}
                    changed = True
            if changed:
                self._save()


_BY_ENGINE: weakref.WeakKeyDictionary[Any, UserStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def users_of(engine: Any) -> UserStore:
    """The user store of a storage engine, loaded from its catalog on first use."""
    with _stores_lock:
        try:
            store = _BY_ENGINE.get(engine)
            if store is None:
                store = _BY_ENGINE[engine] = UserStore(engine.catalog)
        except TypeError:  # a stand-in that cannot be weakly referenced: a store of its own
            store = UserStore(engine.catalog)
        return store
