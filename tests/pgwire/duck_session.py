"""Test scaffolding: a small but real :class:`sql.session.Session` backed by an in-memory DuckDB.

It exists so the protocol layer can be tested with real clients before sql/engine.py lands. It is not
the SQL engine and is not shipped: statements go to DuckDB nearly as written ($n parameters are
DuckDB's too), DuckDB types are mapped to PostgreSQL OIDs, and the few PostgreSQL-only commands that
clients send on their own (SET/SHOW/RESET, BEGIN/COMMIT/ROLLBACK, asyncpg's pool reset, COPY with
STDIN/STDOUT) are handled here. Parameter types the client leaves unknown are inferred only from an
explicit ``$n::type`` cast or an ``INSERT INTO t (...) VALUES ($n ...)`` target column; else text.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from pgwire.types import REGISTRY as PG_TYPES
from pgwire.types import Context, decode_param
from sql import errors
from sql.session import ColumnDesc, CopyRequest, Result, Statement

NAMES_TO_OID = {
    "BOOLEAN": 16,
    "BOOL": 16,
    "TINYINT": 21,
    "SMALLINT": 21,
    "INT2": 21,
    "UTINYINT": 21,
    "INTEGER": 23,
    "INT": 23,
    "INT4": 23,
    "USMALLINT": 23,
    "BIGINT": 20,
    "INT8": 20,
    "UINTEGER": 20,
    "UBIGINT": 1700,
    "HUGEINT": 1700,
    "UHUGEINT": 1700,
    "FLOAT": 700,
    "REAL": 700,
    "FLOAT4": 700,
    "DOUBLE": 701,
    "FLOAT8": 701,
    "DOUBLE PRECISION": 701,
    "DECIMAL": 1700,
    "NUMERIC": 1700,
    "VARCHAR": 25,
    "TEXT": 25,
    "STRING": 25,
    "BLOB": 17,
    "BYTEA": 17,
    "DATE": 1082,
    "TIME": 1083,
    "TIMESTAMP": 1114,
    "TIMESTAMP_NS": 1114,
    "TIMESTAMP_MS": 1114,
    "TIMESTAMP_S": 1114,
    "TIMESTAMP WITH TIME ZONE": 1184,
    "TIMESTAMPTZ": 1184,
    "INTERVAL": 1186,
    "UUID": 2950,
    "JSON": 114,
    "JSONB": 3802,
    "OID": 26,
    "NAME": 19,
    "BPCHAR": 1042,
    "CHAR": 1042,
    "CHARACTER VARYING": 1043,
}
OID_TO_DUCK = {
    16: "BOOLEAN",
    21: "SMALLINT",
    23: "INTEGER",
    20: "BIGINT",
    700: "FLOAT",
    701: "DOUBLE",
    1700: "DECIMAL(38,10)",
    25: "VARCHAR",
    1043: "VARCHAR",
    19: "VARCHAR",
    1042: "VARCHAR",
    17: "BLOB",
    1082: "DATE",
    1083: "TIME",
    1114: "TIMESTAMP",
    1184: "TIMESTAMPTZ",
    1186: "INTERVAL",
    2950: "UUID",
    114: "JSON",
    3802: "JSON",
    26: "BIGINT",
    705: "VARCHAR",
    0: "VARCHAR",
}
ARRAY_OF = {t.element_oid: t.oid for t in PG_TYPES.values() if t.element_oid}
ELEMENT_OF = {v: k for k, v in ARRAY_OF.items()}

PARAMETERS = {
    "application_name": "",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "default_transaction_read_only": "off",
    "in_hot_standby": "off",
    "integer_datetimes": "on",
    "IntervalStyle": "postgres",
    "is_superuser": "on",
    "server_encoding": "UTF8",
    "server_version": "15.6",
    "session_authorization": "",
    "standard_conforming_strings": "on",
    "TimeZone": "UTC",
}
ROWS_PER_BATCH = 65536


def duck_type_oid(name: str) -> int:
    name = name.upper().strip()
    depth = 0
    while name.endswith("[]"):
        name, depth = name[:-2], depth + 1
    base = NAMES_TO_OID.get(name.split("(")[0].strip(), 25)
    return ARRAY_OF.get(base, 25) if depth else base


def split_sql(sql: str) -> list[str]:
    """Statements of a script: split at ';' outside quotes, comments and dollar quotes."""
    out, start, i, n = [], 0, 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = sql.find(c, i + 1)
            while j != -1 and j + 1 < n and sql[j + 1] == c:
                j = sql.find(c, j + 2)
            i = n if j == -1 else j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j == -1 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j == -1 else j + 2
        elif c == "$" and (m := re.match(r"\$[A-Za-z_]*\$", sql[i:])):
            j = sql.find(m.group(0), i + len(m.group(0)))
            i = n if j == -1 else j + len(m.group(0))
        elif c == ";":
            out.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    out.append(sql[start:])
    return [s.strip() for s in out if _strip_comments(s).strip()]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.S)


def _command(sql: str) -> str:
    words = _strip_comments(sql).split()
    return words[0].upper() if words else ""


_PARAM = re.compile(r"\$(\d+)(?:\s*::\s*([A-Za-z_][A-Za-z0-9_ ]*?(?:\[\])*)(?=[\s,)]|$))?")
_COPY = re.compile(
    r"^COPY\s+(?P<target>\(.*\)|[\w.\"]+)\s*(?P<cols>\([^)]*\))?\s+(?P<dir>FROM\s+STDIN|TO\s+STDOUT)\s*(?:WITH\s*)?(?P<opts>\(.*\))?\s*;?$",
    re.I | re.S,
)


class DuckSession:
    def __init__(
        self, db: duckdb.DuckDBPyConnection, database: str, user: str, options: dict[str, str]
    ) -> None:
        if database == "nonexistent":
            raise errors.InvalidCatalogName(f'database "{database}" does not exist')
        self.con = db.cursor()
        self.con.execute("SET TimeZone = 'UTC'")
        self.parameters = dict(PARAMETERS)
        self.parameters["session_authorization"] = user
        for k, v in options.items():
            key = next((p for p in self.parameters if p.lower() == k.lower()), k)
            self.parameters[key] = v
        self.transaction_status = "I"
        self.database = database
        self._reader: Any = None
        self._lock = threading.Lock()
        self.closed = False

    # ---------------------------------------------------------------- Session

    def split(self, sql: str) -> list[str]:
        return split_sql(sql)

    def prepare(self, sql: str, param_oids: list[int]) -> Statement:
        try:
            return self._prepare(sql, param_oids)
        except errors.SqlError:
            if self.transaction_status == "T":
                self.transaction_status = "E"
            raise

    def _prepare(self, sql: str, param_oids: list[int]) -> Statement:
        cmd = _command(sql)
        if self.transaction_status == "E" and cmd not in ("ROLLBACK", "ABORT", "COMMIT", "END"):
            raise errors.InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        count = max((int(m.group(1)) for m in _PARAM.finditer(sql)), default=0)
        oids = list(param_oids) + [0] * (count - len(param_oids))
        for m in _PARAM.finditer(sql):
            i = int(m.group(1)) - 1
            if oids[i] == 0 and m.group(2):
                oids[i] = duck_type_oid(m.group(2))
        if cmd == "INSERT" and 0 in oids:
            self._infer_insert(sql, oids)
        oids = [o or 25 for o in oids]
        columns: list[ColumnDesc] | None = None
        if cmd == "SELECT" and "pg_advisory_unlock_all" in sql:
            columns = [ColumnDesc("pg_advisory_unlock_all", 2278)]
        elif cmd in ("SELECT", "WITH", "VALUES", "TABLE", "FROM"):
            columns = self._describe(sql, oids)
        elif cmd == "SHOW":
            name = sql.split(None, 1)[1].strip().rstrip(";").strip('"') if len(sql.split()) > 1 else ""
            columns = [ColumnDesc(name, 25)]
        elif cmd == "COPY" or cmd == "EXPLAIN":
            columns = None
        return Statement(sql, oids, columns, cmd)

    def execute(self, statement: Statement, params: list[object | None]) -> Result:
        sql, cmd = statement.sql, statement.command
        self._close_reader()
        if self.transaction_status == "E" and cmd not in ("ROLLBACK", "ABORT", "COMMIT", "END"):
            raise errors.InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        try:
            return self._execute(sql, cmd, statement, [_to_duck(p) for p in params])
        except duckdb.Error as e:
            if self.transaction_status == "T":
                self.transaction_status = "E"
            raise _translate(e) from None
        except errors.SqlError:
            if self.transaction_status == "T":
                self.transaction_status = "E"
            raise

    def copy_in(self, request: CopyRequest, data: Iterator[bytes]) -> str:
        raw = b"".join(data)
        rows = parse_copy(raw, request)
        table = request.options["__table__"]
        names = [c.name for c in request.columns]
        if rows:
            arrays = [pa.array([_to_duck(r[i]) for r in rows]) for i in range(len(names))]
            batch = pa.table(arrays, names=names)  # noqa: F841 (read by DuckDB by name)
            cols = ", ".join(f'"{n}"' for n in names)
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM batch")
        return f"COPY {len(rows)}"

    def cancel(self) -> None:
        self.con.interrupt()

    def close(self) -> None:
        self.closed = True
        self._close_reader()
        self.con.close()

    # ---------------------------------------------------------------- details

    def _close_reader(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:
                pass
            self._reader = None

    def _infer_insert(self, sql: str, oids: list[int]) -> None:
        m = re.match(r"\s*INSERT\s+INTO\s+([\w.\"]+)\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)", sql, re.I | re.S)
        if not m:
            return
        try:
            types = dict(
                self.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {m.group(1)})").fetchall()
            )
        except duckdb.Error:
            return
        cols = [c.strip().strip('"') for c in m.group(2).split(",")]
        values = [v.strip() for v in m.group(3).split(",")]
        for col, value in zip(cols, values, strict=False):
            p = re.fullmatch(r"\$(\d+)", value)
            if p and col in types and oids[int(p.group(1)) - 1] == 0:
                oids[int(p.group(1)) - 1] = duck_type_oid(types[col])

    def _describe(self, sql: str, oids: list[int]) -> list[ColumnDesc]:
        def null_of(m: re.Match[str]) -> str:
            oid = oids[int(m.group(1)) - 1]
            return f"CAST(NULL AS {_duck_name(oid)})"

        probe = _PARAM.sub(null_of, sql.rstrip().rstrip(";"))
        try:
            rows = self.con.execute(f"DESCRIBE {probe}").fetchall()
        except duckdb.Error as e:
            raise _translate(e) from None
        return [ColumnDesc(name, duck_type_oid(typ)) for name, typ, *_ in rows]

    def _execute(self, sql: str, cmd: str, statement: Statement, params: list[Any]) -> Result:
        if cmd in ("BEGIN", "START"):
            if self.transaction_status == "I":
                self.con.begin()
                self.transaction_status = "T"
            return Result(None, tag="BEGIN")
        if cmd in ("COMMIT", "END", "ROLLBACK", "ABORT"):
            failed = self.transaction_status == "E"
            if self.transaction_status != "I":
                self.con.rollback() if failed or cmd in ("ROLLBACK", "ABORT") else self.con.commit()
            self.transaction_status = "I"
            return Result(None, tag="ROLLBACK" if failed or cmd in ("ROLLBACK", "ABORT") else "COMMIT")
        if cmd == "SET":
            m = re.match(
                r"\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(\w+)\s*(?:=|TO)\s*(.+?)\s*;?\s*$", sql, re.I | re.S
            )
            if not m:
                if re.match(r"\s*SET\s+TIME\s+ZONE\s+", sql, re.I):
                    m = re.match(r"\s*SET\s+TIME\s+ZONE\s+()(.+?)\s*;?\s*$", sql, re.I)
                    name, value = "TimeZone", m.group(2) if m else "UTC"
                else:
                    raise errors.SyntaxError_(f"syntax error in {sql!r}")
            else:
                name, value = m.group(1), m.group(2)
            value = value.strip().strip("'")
            key = next((p for p in self.parameters if p.lower() == name.lower()), name)
            self.parameters[key] = value
            return Result(None, tag="SET", changed_parameters={key: value} if key in PARAMETERS else {})
        if cmd == "SHOW":
            name = sql.split(None, 1)[1].strip().rstrip(";").strip('"')
            key = next((p for p in self.parameters if p.lower() == name.lower()), None)
            if key is None:
                raise errors.UndefinedObject(f'unrecognized configuration parameter "{name}"')
            cols = [ColumnDesc(name, 25)]
            return Result(
                cols, iter([pa.record_batch([pa.array([self.parameters[key]])], names=[name])]), tag="SHOW"
            )
        if cmd in ("RESET", "DISCARD", "UNLISTEN", "LISTEN", "CLOSE", "DEALLOCATE"):
            return Result(
                None,
                tag=f"{cmd} ALL"
                if cmd in ("DISCARD", "CLOSE", "DEALLOCATE") and "ALL" in sql.upper()
                else cmd,
            )
        if cmd == "SELECT" and "pg_advisory_unlock_all" in sql:
            cols = [ColumnDesc("pg_advisory_unlock_all", 2278)]
            return Result(
                cols,
                iter([pa.record_batch([pa.array([""])], names=["pg_advisory_unlock_all"])]),
                tag="SELECT 1",
            )
        if cmd == "COPY":
            return self._copy(sql)
        if statement.columns is not None:
            rel = self.con.sql(sql, params=params or None)
            if rel is None:
                return Result(statement.columns, tag="SELECT 0")
            reader = rel.to_arrow_reader(ROWS_PER_BATCH)
            self._reader = reader
            result = Result(statement.columns)
            result.batches = self._batches(reader, result)
            return result
        rel = self.con.sql(sql, params=params or None)
        count = 0
        if rel is not None and rel.columns == ["Count"]:
            counted = rel.fetchall()
            count = int(counted[0][0]) if counted else 0
        words = _strip_comments(sql).split()
        if cmd == "INSERT":
            tag = f"INSERT 0 {count}"
        elif cmd in ("UPDATE", "DELETE"):
            tag = f"{cmd} {count}"
        elif cmd in ("CREATE", "DROP", "ALTER") and len(words) > 1:
            second = words[1].upper()
            if second in ("OR", "TEMP", "TEMPORARY", "UNIQUE"):
                second = words[3].upper() if second == "OR" and len(words) > 3 else words[2].upper()
            tag = f"{cmd} {second}"
        else:
            tag = cmd
        return Result(None, tag=tag)

    def _batches(self, reader: Any, result: Result) -> Iterator[pa.RecordBatch]:
        rows = 0
        try:
            for batch in reader:
                rows += batch.num_rows
                yield batch
        except duckdb.Error as e:
            if self.transaction_status == "T":
                self.transaction_status = "E"
            raise _translate(e) from None
        except OSError as e:  # DuckDB's Arrow reader reports an interrupt as an Arrow I/O error
            if "INTERRUPT" not in str(e):
                raise
            if self.transaction_status == "T":
                self.transaction_status = "E"
            raise errors.QueryCanceled("canceling statement due to user request") from None
        finally:
            if self._reader is reader:
                self._reader = None
        result.tag = f"SELECT {rows}"

    def _copy(self, sql: str) -> Result:
        m = _COPY.match(sql.strip())
        if not m:
            raise errors.FeatureNotSupported("only COPY ... FROM STDIN and COPY ... TO STDOUT are supported")
        options = _copy_options(m.group("opts") or "")
        fmt = options.pop("format", "text").lower()
        target = m.group("target")
        if m.group("dir").upper().startswith("FROM"):
            rows = self.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {target})").fetchall()
            if m.group("cols"):
                wanted = [c.strip().strip('"') for c in m.group("cols")[1:-1].split(",")]
                types = dict(rows)
                rows = [(c, types[c]) for c in wanted]
            cols = [ColumnDesc(name, duck_type_oid(t)) for name, t in rows]
            options["__table__"] = target
            return Result(None, copy=CopyRequest("in", fmt, cols, options))
        query = (
            target[1:-1]
            if target.startswith("(")
            else f"SELECT {m.group('cols')[1:-1] if m.group('cols') else '*'} FROM {target}"
        )
        cols = self._describe(query, [])
        reader = self.con.sql(query).to_arrow_reader(ROWS_PER_BATCH)
        self._reader = reader
        result = Result(None, copy=CopyRequest("out", fmt, cols, options))
        result.batches = self._batches(reader, Result(None))
        return result


def _copy_options(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    body = text.strip()[1:-1] if text.strip().startswith("(") else text
    for part in re.findall(r"(\w+)(?:\s+('(?:[^']|'')*'|\w+))?", body):
        key, value = part[0].lower(), part[1]
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        out[key] = value or "true"
    return out


def _duck_name(oid: int) -> str:
    if oid in ELEMENT_OF:
        return OID_TO_DUCK.get(ELEMENT_OF[oid], "VARCHAR") + "[]"
    return OID_TO_DUCK.get(oid, "VARCHAR")


def _to_duck(v: object) -> object:
    if isinstance(v, pa.MonthDayNano):
        import datetime as dt

        return dt.timedelta(days=v.days + 30 * v.months, microseconds=v.nanoseconds // 1000)
    if isinstance(v, list):
        return [_to_duck(x) for x in v]
    if isinstance(v, Decimal) and not v.is_finite():
        return float(v)
    return v


def _translate(e: duckdb.Error) -> errors.SqlError:
    text = str(e)
    if isinstance(e, duckdb.InterruptException):
        return errors.QueryCanceled("canceling statement due to user request")
    if isinstance(e, duckdb.CatalogException):
        return errors.UndefinedTable(text)
    if isinstance(e, duckdb.ParserException):
        return errors.SyntaxError_(text)
    if isinstance(e, duckdb.BinderException):
        return errors.UndefinedColumn(text) if "not found" in text.lower() else errors.DatatypeMismatch(text)
    if isinstance(e, duckdb.ConversionException | duckdb.InvalidInputException):
        return errors.InvalidTextRepresentation(text)
    if isinstance(e, duckdb.ConstraintException):
        return (
            errors.UniqueViolation(text)
            if "unique" in text.lower() or "primary" in text.lower()
            else errors.NotNullViolation(text)
        )
    if isinstance(e, duckdb.OutOfRangeException):
        return errors.NumericValueOutOfRange(text)
    return errors.InternalError(text)


# ---------------------------------------------------------------- COPY FROM STDIN parsing (test side)

_TEXT_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def parse_copy(raw: bytes, request: CopyRequest) -> list[list[object]]:
    ctx = Context()
    oids = [c.type_oid for c in request.columns]
    fmt = request.format.lower()
    if fmt == "binary":
        return _parse_binary(raw, oids, ctx)
    text = raw.decode("utf-8")
    opts = {k.lower(): v for k, v in request.options.items()}
    if fmt == "csv":
        delim = opts.get("delimiter", ",")
        null = opts.get("null", "")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar=opts.get("quote", '"'))
        lines = list(reader)
        if opts.get("header", "false").lower() in ("true", "on", "1"):
            lines = lines[1:]
        rows = []
        for fields in lines:
            rows.append(
                [
                    None if (f == null) else decode_param(f.encode(), o, 0, ctx)
                    for f, o in zip(fields, oids, strict=True)
                ]
            )
        return rows
    delim = opts.get("delimiter", "\t")
    null = opts.get("null", "\\N")
    rows = []
    for line in text.split("\n"):
        if line == "" or line == "\\.":
            continue
        fields = line.split(delim)
        row = []
        for f, o in zip(fields, oids, strict=True):
            if f == null:
                row.append(None)
                continue
            value = re.sub(r"\\(.)", lambda m: _TEXT_ESCAPES.get(m.group(1), m.group(1)), f)
            row.append(decode_param(value.encode(), o, 0, ctx))
        rows.append(row)
    return rows


def _parse_binary(raw: bytes, oids: list[int], ctx: Context) -> list[list[object]]:
    sig = b"PGCOPY\n\xff\r\n\x00"
    if not raw.startswith(sig):
        raise errors.InvalidTextRepresentation("COPY file signature not recognized")
    pos = len(sig) + 4
    (ext,) = struct.unpack_from("!i", raw, pos)
    pos += 4 + ext
    rows = []
    while True:
        (n,) = struct.unpack_from("!h", raw, pos)
        pos += 2
        if n == -1:
            return rows
        row = []
        for i in range(n):
            (length,) = struct.unpack_from("!i", raw, pos)
            pos += 4
            if length == -1:
                row.append(None)
                continue
            row.append(decode_param(raw[pos : pos + length], oids[i], 1, ctx))
            pos += length
        rows.append(row)


def session_factory(db: duckdb.DuckDBPyConnection | None = None) -> Any:
    """A pgwire session factory over one shared in-memory DuckDB database."""
    shared = db if db is not None else duckdb.connect(":memory:")

    def factory(database: str, user: str, options: dict[str, str]) -> DuckSession:
        return DuckSession(shared, database, user, options)

    return factory
