"""What the protocol layers see of the SQL engine: a session that prepares and executes statements.

pgwire (and later HTTP /query for SQL) talks only to :class:`Session`. The SQL engine implements it
(sql/engine.py); pgwire knows nothing of storage. Rows travel as Arrow record batches whose column
types match the PostgreSQL type OIDs announced in :class:`ColumnDesc` (the pgwire type codecs map
Arrow values to PostgreSQL text/binary wire formats).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa


@dataclass(frozen=True)
class ColumnDesc:
    """One column of a result, as RowDescription announces it."""

    name: str
    type_oid: int  # a builtin PostgreSQL type OID (pg_type.oid): 16 bool, 20 int8, 701 float8, 25 text, 1184 timestamptz ...
    typmod: int = -1
    table_oid: int = 0
    column_number: int = 0


@dataclass
class Statement:
    """A parsed and described statement (the result of Parse, or of one simple-query statement)."""

    sql: str
    param_oids: list[int]  # inferred where the client left them 0 (unknown)
    columns: list[ColumnDesc] | None  # None: the statement returns no rows (INSERT, SET, BEGIN ...)
    command: str  # the command word of its CommandComplete tag: SELECT, INSERT, UPDATE, SET, BEGIN ...
    # the database's own types among param_oids and the columns' types, for pgwire to code them
    user_types: tuple[UserType, ...] = ()


@dataclass(frozen=True)
class UserType:
    """A type of the database's own (not built in), as pg_type describes it: an enum type (typtype
    ``e``), whose values are their labels in text and binary alike (enum_recv/enum_send), with the
    OID of its array type."""

    oid: int
    name: str
    typtype: str
    array_oid: int = 0


@dataclass
class Result:
    """The outcome of executing a statement.

    ``batches`` yields rows lazily (a huge result streams); after it is exhausted, ``tag`` is the
    CommandComplete tag (e.g. ``SELECT 5``, ``INSERT 0 3``, ``BEGIN``). ``copy`` is set for COPY:
    the protocol layer then runs the COPY sub-protocol with it. ``table``: the whole answer, when it
    was computed at once (the native executor's, a constant's), for a caller that wants one table
    (InfluxQL) instead of the batches, which hold the same rows.
    """

    columns: list[ColumnDesc] | None
    batches: Iterator[pa.RecordBatch] = field(default_factory=lambda: iter(()))
    tag: str = ""
    copy: CopyRequest | None = None
    changed_parameters: dict[str, str] = field(default_factory=dict)  # ParameterStatus to (re)send
    table: pa.Table | None = None


@dataclass
class CopyRequest:
    direction: str  # "in" (COPY ... FROM STDIN) or "out" (COPY ... TO STDOUT)
    format: str  # "text" | "csv" | "binary"
    columns: list[ColumnDesc]
    options: dict[str, str] = field(default_factory=dict)  # delimiter, null, header, quote, escape


class Session(Protocol):
    """What pgwire calls. Optional: ``immediate(sql_or_statement) -> bool``, True when preparing and
    running that SQL text (every statement of it), or running that prepared Statement, takes only
    microseconds and no I/O (a cached constant plan, SET, BEGIN ...): pgwire then answers it on its
    event loop instead of in a thread (sql/immediate.py has the SQL engine's answer). Optional too:
    ``constant(statement) -> bool``, True when that prepared Statement's result was fixed at prepare and
    running it reads and changes nothing of the session (SELECT 1): pgwire may then answer the same
    request bytes again with the bytes it answered before (pgwire/handlers.py, ``Handler.reply``)."""

    parameters: dict[str, str]  # session GUCs reported as ParameterStatus at start-up and on change
    transaction_status: str  # "I" idle, "T" in a transaction block, "E" in a failed transaction block

    def split(self, sql: str) -> list[str]:
        """The statements of a simple-query string, in order ([] when empty or only comments)."""

    def prepare(self, sql: str, param_oids: list[int]) -> Statement:
        """Parse and describe one statement; raises sql.errors.SqlError."""

    def execute(self, statement: Statement, params: list[object | None]) -> Result:
        """Run a prepared statement with bound parameter values (Python values, already decoded)."""

    def copy_in(self, request: CopyRequest, data: Iterator[bytes]) -> str:
        """Consume COPY FROM STDIN data chunks; returns the CommandComplete tag (``COPY n``)."""

    def cancel(self) -> None:
        """Cancel the running statement (from another thread); it raises QueryCanceled (57014)."""

    def close(self) -> None: ...
