"""The server's live SQL sessions, for pg_stat_activity, pg_cancel_backend and pg_terminate_backend.

One :class:`Activity` per :class:`~sql.engine.SqlEngine`: a dict backend pid -> session. A protocol
attaches a session when its client is connected (pgwire: after start-up, with the pid the client got in
BackendKeyData) and the session leaves at close. Reading and writing the dict needs no lock (single
dict operations are atomic); the statement a session runs is two attribute sets on the session itself
(``query``, ``query_start``), so the hot path pays nothing more. Whether a session is running something
now is asked of the protocol (``busy``), which knows when its rows are still being sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sql.engine import SqlSession


@dataclass
class Connection:
    """What the protocol tells about a session's client and how to reach it."""

    client_addr: str | None = None
    client_port: int | None = None
    busy: Callable[[], bool] = lambda: False  # a statement runs or its rows are being sent
    cancel: Callable[[], None] | None = None  # cancel the running statement (any thread)
    terminate: Callable[[], None] | None = None  # close the connection, FATAL 57P01 (any thread)
    backend_start: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class Activity:
    def __init__(self) -> None:
        self._sessions: dict[int, SqlSession] = {}

    def attach(self, session: SqlSession) -> None:
        self._sessions[session.backend_pid] = session

    def detach(self, session: SqlSession) -> None:
        if self._sessions.get(session.backend_pid) is session:
            self._sessions.pop(session.backend_pid, None)

    def sessions(self) -> list[SqlSession]:
        return sorted(list(self._sessions.values()), key=lambda s: s.backend_pid)

    def signal(self, what: str, pid: int) -> bool:
        """Cancel (``"cancel"``) the statement backend ``pid`` runs, or close its connection
        (``"terminate"``); False when no session has that pid."""
        session = self._sessions.get(pid)
        if session is None:
            return False
        conn = session.connection
        if what == "terminate":
            if conn is not None and conn.terminate is not None:
                conn.terminate()
                return True
            return False
        if conn is not None and conn.cancel is not None:
            conn.cancel()
        else:
            session.cancel()
        return True
