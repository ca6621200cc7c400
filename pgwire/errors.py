"""Protocol-level errors and the mapping of any SQL error to ErrorResponse fields.

The SQL layer raises :class:`sql.errors.SqlError` subclasses; pgwire adds the errors only the protocol
can detect (a malformed message, a failed login, a shutdown) as more subclasses, with their SQLSTATE on
the class. :func:`error_fields` turns any exception into the fields of an ErrorResponse, so a handler
never has to know which error it caught.
"""

from __future__ import annotations

from sql.errors import AdminShutdown as AdminShutdown  # (FATAL 57P01: the SQL layer raises it too)
from sql.errors import SqlError


class ProtocolViolation(SqlError, sqlstate="08P01"):
    """The client broke the protocol; the connection is closed after the ErrorResponse."""

    severity = "FATAL"


class BindMismatch(SqlError, sqlstate="08P01"):
    """A Bind that does not fit its statement (parameter or format counts). PostgreSQL reports it as
    an ERROR: the extended-protocol request is skipped to Sync and the connection stays."""


class InvalidFormatCode(SqlError, sqlstate="22023"):
    """A format code other than 0 (text) and 1 (binary): an ERROR, as in PostgreSQL."""


class InvalidAuthorization(SqlError, sqlstate="28000"):
    severity = "FATAL"


class InvalidPassword(SqlError, sqlstate="28P01"):
    severity = "FATAL"


class ConnectionFailure(SqlError, sqlstate="08006"):
    severity = "FATAL"


class FatalCatalogError(SqlError, sqlstate="3D000"):
    """An unknown database at start-up: FATAL there, where the SQL layer's 3D000 is a plain ERROR."""

    severity = "FATAL"


class InvalidBinaryRepresentation(SqlError, sqlstate="22P03"): ...


def password_failed(user: str) -> InvalidPassword:
    return InvalidPassword(f'password authentication failed for user "{user}"')


def error_fields(exc: BaseException, *, severity: str | None = None) -> dict[str, str]:
    """ErrorResponse fields (type code -> value) for ``exc``: S, V, C, M and D, H, P when present.

    Anything that is not a SqlError is an internal error (XX000) whose message is its text: the client
    learns something went wrong without a traceback.
    """
    if isinstance(exc, SqlError):
        sev = severity or exc.severity
        fields = {"S": sev, "V": sev, "C": exc.sqlstate, "M": exc.message}
        if exc.detail:
            fields["D"] = exc.detail
        if exc.hint:
            fields["H"] = exc.hint
        if exc.position is not None:
            fields["P"] = str(exc.position)
        return fields
    sev = severity or "ERROR"
    text = str(exc) or type(exc).__name__
    return {"S": sev, "V": sev, "C": "XX000", "M": f"internal error: {text}"}
