"""InfluxDB 1.x's HTTP authentication and authorization (config ``http_auth_enabled``).

With authentication on, ``/query`` and the write endpoints check the caller as InfluxDB 1.x's
``auth-enabled = true`` does (its answers and texts; docs/influxql.md, "Users and privileges"):

1. Authentication: credentials from the ``u`` and ``p`` query-string parameters (both non-empty),
   else ``Authorization: Basic`` or ``Authorization: Token user:password`` (InfluxDB 1.8). None or
   unparsable: 401 "unable to parse authentication credentials"; wrong: 401 "authorization
   failed". While no admin user exists nobody is authenticated (the caller is None).
2. Authorization of a query, before any of it runs: an admin may do anything; the caller None only
   a query opening with CREATE USER ... WITH ALL PRIVILEGES; others need the privileges its
   statements require (:func:`required`), else 403 "error authorizing query: ...".
3. Authorization of a write: WRITE on its database.

A password check is an scrypt of tens of milliseconds; sql/influxql/users.py caches verified
credentials, and a check the cache cannot answer runs in the thread pool (:meth:`HttpAuth.verify`),
never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from sql.influxql import ast as A
from sql.influxql.users import PRIVILEGE_NAMES, READ, WRITE, User, users_of

UNPARSABLE = "unable to parse authentication credentials"
FAILED = "authorization failed"
NO_ADMIN = "create admin user first or disable authentication"
ADMIN = -1  # a requirement of admin privilege (required()'s privilege)
_AUTH_HEADER = re.compile(rb"\r\nauthorization:[ \t]*([^\r\n]*)", re.I)


class AuthError(Exception):
    """An HTTP error answer: its status and InfluxDB's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def authorization_header(head: bytes | bytearray) -> str:
    """The Authorization header of a raw request head (through its blank line), or ""."""
    end = head.find(b"\r\n\r\n")
    m = _AUTH_HEADER.search(head, 0, end + 2 if end >= 0 else len(head))
    return m.group(1).decode("latin-1").strip(" \t") if m else ""


def credentials(params: Mapping[str, str], authorization: str) -> tuple[str, str] | None:
    """(user, password) as InfluxDB 1.x reads them, or None when there are none it can parse."""
    u, p = params.get("u", ""), params.get("p", "")
    if u and p:
        return u, p
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            text = base64.b64decode(rest.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, colon, password = text.partition(":")
        return (user, password) if colon else None
    if scheme == "Token":
        user, colon, password = rest.partition(":")
        return (user, password) if colon else None
    return None


UNVERIFIED = object()  # HttpAuth.authenticate: the password must be checked (HttpAuth.verify)


class HttpAuth:
    """Authentication and authorization of one server's HTTP requests."""

    def __init__(self, engine: Any) -> None:
        self.store = users_of(engine)

    # -- who is asking ---------------------------------------------------------------------------------
    def authenticate(self, params: Mapping[str, str], authorization: str) -> Any:
        """The caller (a User, or None while no admin exists), or UNVERIFIED when only :meth:`verify`
        can tell (an uncached password). Raises AuthError (401)."""
        store = self.store
        if not store.admin_exists():
            return None
        creds = credentials(params, authorization)
        if creds is None:
            raise AuthError(401, UNPARSABLE)
        user = store.cached(*creds)
        if user is None:
            return UNVERIFIED
        return user

    def verify(self, params: Mapping[str, str], authorization: str) -> User | None:
        """:meth:`authenticate` with the password checked (in a worker thread: an scrypt)."""
        creds = credentials(params, authorization)
        if creds is None:  # (authenticate found some; an admin dropped meanwhile is no matter)
            raise AuthError(401, UNPARSABLE)
        user = self.store.authenticate(*creds)
        if user is None:
            raise AuthError(401, FAILED)
        return user

    async def caller(self, params: Mapping[str, str], authorization: str) -> User | None:
        """The caller of a request the aiohttp handlers answer (raises AuthError)."""
        user = self.authenticate(params, authorization)
        if user is UNVERIFIED:
            loop = asyncio.get_running_loop()
            user = await loop.run_in_executor(None, self.verify, params, authorization)
        return user

    # -- what it may do --------------------------------------------------------------------------------
    def authorize_query(
        self, user: User | None, statements: list[A.Statement], database: str, q: str
    ) -> None:
        """Raises AuthError (403) unless ``user`` may run all of ``statements``."""
        if user is None:
            if not self.store.users():
                if statements and isinstance(statements[0], A.CreateUser) and statements[0].admin:
                    return
                raise AuthError(403, f"error authorizing query: {NO_ADMIN}")
            raise AuthError(403, "error authorizing query: no user provided")
        if user.admin:
            return
        for i, stmt in enumerate(statements):
            for privilege, db in required(stmt):
                db = db or database
                if privilege == ADMIN:
                    need = "admin privilege"
                elif user.may(privilege, db):
                    continue
                else:
                    need = f"{PRIVILEGE_NAMES[privilege]} on {db}"
                text = statement_text(q, statements, i)
                raise AuthError(
                    403,
                    f"error authorizing query: {user.name} not authorized to execute statement '{text}', requires {need}",
                )

    def authorize_write(self, user: User | None, database: str) -> None:
        if user is None:
            raise AuthError(403, f'user is required to write to database "{database}"')
        if not user.may(WRITE, database):
            raise AuthError(403, f'"{user.name}" user is not authorized to write to database "{database}"')


def statement_text(q: str, statements: list[A.Statement], i: int) -> str:
    """Statement ``i`` of ``q`` as an error quotes it: InfluxDB's own text for user statements (the
    password redacted), else the text as sent (InfluxDB quotes its reformatted statement)."""
    stmt = statements[i]
    if isinstance(stmt, A.UserStatement):
        return str(stmt)
    parts = [p.strip() for p in q.split(";") if p.strip()]
    return parts[i] if len(parts) == len(statements) else q.strip().rstrip(";")


def required(stmt: A.Statement) -> Iterator[tuple[int, str]]:
    """The privileges a statement needs, as InfluxDB 1.x's RequiredPrivileges: (READ/WRITE, database
    or "" for the request's) or (ADMIN, "")."""
    if isinstance(stmt, A.Explain):
        if stmt.statement is not None:
            yield from required(stmt.statement)
        return
    if isinstance(stmt, A.SelectStatement):
        for source in stmt.sources:
            if isinstance(source, A.SubQuery):
                yield from required(source.statement)
            elif isinstance(source, A.Measurement):
                yield READ, source.database
        if stmt.target is not None:
            yield WRITE, stmt.target.database
        return
    if isinstance(
        stmt,
        A.ShowMeasurements
        | A.ShowTagKeys
        | A.ShowTagValues
        | A.ShowFieldKeys
        | A.ShowSeries
        | A.ShowCardinality
        | A.ShowRetentionPolicies,
    ):
        yield READ, stmt.database
        return
    if isinstance(stmt, A.ShowDatabases):
        return  # (it lists what the user may see)
    if isinstance(stmt, A.ShowSimple) and stmt.what in ("continuous queries", "queries"):
        yield READ, ""
        return
    if isinstance(stmt, A.DropSeries | A.DeleteSeries):
        yield WRITE, ""
        return
    if isinstance(stmt, A.CreateContinuousQuery):  # READ where it runs, WRITE into another database
        yield READ, stmt.database
        target = stmt.source.target
        if target is not None and target.database and target.database != stmt.database:
            yield WRITE, target.database
        return
    if isinstance(stmt, A.DropContinuousQuery):
        yield WRITE, stmt.database
        return
    yield ADMIN, ""
