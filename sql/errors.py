"""SQL errors carrying their PostgreSQL SQLSTATE.

The SQLSTATE lives on the class (``class UndefinedTable(SqlError, sqlstate="42P01")``), so raising the
right error anywhere gives the client the right code. The SQL layer raises these; pgwire sends them
as ErrorResponse (and adds its own protocol-level errors in pgwire/errors.py).
"""

from __future__ import annotations


class SqlError(Exception):
    sqlstate = "XX000"
    severity = "ERROR"

    def __init_subclass__(cls, sqlstate: str | None = None, **kw: object) -> None:
        super().__init_subclass__(**kw)
        if sqlstate is not None:
            cls.sqlstate = sqlstate

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        position: int | None = None,  # 1-based character position in the statement
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position


class FeatureNotSupported(SqlError, sqlstate="0A000"): ...


class InvalidTransactionState(SqlError, sqlstate="25000"): ...


class ActiveSqlTransaction(SqlError, sqlstate="25001"): ...


class NoActiveSqlTransaction(SqlError, sqlstate="25P01"): ...


class InFailedTransaction(SqlError, sqlstate="25P02"): ...


class InvalidSavepointSpecification(SqlError, sqlstate="3B001"): ...


class InvalidCursorName(SqlError, sqlstate="34000"): ...


class InvalidSqlStatementName(SqlError, sqlstate="26000"): ...


class DuplicatePreparedStatement(SqlError, sqlstate="42P05"): ...


class DuplicateCursor(SqlError, sqlstate="42P03"): ...


class InvalidCatalogName(SqlError, sqlstate="3D000"): ...


class SyntaxError_(SqlError, sqlstate="42601"): ...


class UndefinedTable(SqlError, sqlstate="42P01"): ...


class UndefinedColumn(SqlError, sqlstate="42703"): ...


class UndefinedFunction(SqlError, sqlstate="42883"): ...


# PostgreSQL's hint of a call no function's argument types take (42883)
NO_FUNCTION_HINT = (
    "No function matches the given name and argument types. You might need to add explicit type casts."
)


class UndefinedObject(SqlError, sqlstate="42704"): ...


class InvalidSchemaName(SqlError, sqlstate="3F000"): ...


class DuplicateObject(SqlError, sqlstate="42710"): ...


class WrongObjectType(SqlError, sqlstate="42809"): ...


class AmbiguousFunction(SqlError, sqlstate="42725"): ...


class DuplicateFunction(SqlError, sqlstate="42723"): ...


class InvalidFunctionDefinition(SqlError, sqlstate="42P13"): ...


class NotAHypertable(SqlError, sqlstate="TS001"): ...  # TimescaleDB's hypertable_not_exist


class DuplicateTable(SqlError, sqlstate="42P07"): ...


class DuplicateColumn(SqlError, sqlstate="42701"): ...


class DuplicateDatabase(SqlError, sqlstate="42P04"): ...


class DatatypeMismatch(SqlError, sqlstate="42804"): ...


class InvalidTextRepresentation(SqlError, sqlstate="22P02"): ...


class NullValueNotAllowed(SqlError, sqlstate="22004"): ...


class InvalidDatetimeFormat(SqlError, sqlstate="22007"): ...


class DatetimeFieldOverflow(SqlError, sqlstate="22008"): ...


class InvalidRegularExpression(SqlError, sqlstate="2201B"): ...


class InvalidArgumentForLogarithm(SqlError, sqlstate="2201E"): ...


class InvalidArgumentForPowerFunction(SqlError, sqlstate="2201F"): ...


class InvalidRowCountInLimitClause(SqlError, sqlstate="2201W"): ...


class GroupingError(SqlError, sqlstate="42803"): ...


class AmbiguousColumn(SqlError, sqlstate="42702"): ...


class InvalidColumnReference(SqlError, sqlstate="42P10"): ...


class WindowingError(SqlError, sqlstate="42P20"): ...


class NumericValueOutOfRange(SqlError, sqlstate="22003"): ...


class StringDataRightTruncation(SqlError, sqlstate="22001"): ...


class InvalidTableDefinition(SqlError, sqlstate="42P16"): ...


class DivisionByZero(SqlError, sqlstate="22012"): ...


class InvalidParameterValue(SqlError, sqlstate="22023"): ...


class CantChangeRuntimeParam(SqlError, sqlstate="55P02"): ...


class InvalidArgumentForNtile(SqlError, sqlstate="22014"): ...


class InvalidEscapeSequence(SqlError, sqlstate="22025"): ...


class GeneratedAlways(SqlError, sqlstate="428C9"): ...


class InvalidObjectDefinition(SqlError, sqlstate="42P17"): ...


class DuplicateAlias(SqlError, sqlstate="42712"): ...


class DuplicateSchema(SqlError, sqlstate="42P06"): ...


class InvalidName(SqlError, sqlstate="42602"): ...


class SequenceGeneratorLimitExceeded(SqlError, sqlstate="2200H"): ...


class ObjectNotInPrerequisiteState(SqlError, sqlstate="55000"): ...


class UndefinedParameter(SqlError, sqlstate="42P02"): ...


class UniqueViolation(SqlError, sqlstate="23505"): ...


class CheckViolation(SqlError, sqlstate="23514"): ...


class CardinalityViolation(SqlError, sqlstate="21000"): ...


class NotNullViolation(SqlError, sqlstate="23502"): ...


class QueryCanceled(SqlError, sqlstate="57014"): ...


class AdminShutdown(SqlError, sqlstate="57P01"):
    """The session was terminated (pg_terminate_backend, server shutdown): FATAL, the connection ends."""

    severity = "FATAL"


class Warning_(SqlError, sqlstate="01000"):
    """Not an error: a WARNING the client is sent as a NoticeResponse (``SqlSession.notice``)."""

    severity = "WARNING"


class Notice_(SqlError, sqlstate="00000"):
    """Not an error: a NOTICE the client is sent as a NoticeResponse (``SqlSession.notice``)."""

    severity = "NOTICE"


class TransactionInProgress(Warning_, sqlstate="25001"): ...


class NoTransactionInProgress(Warning_, sqlstate="25P01"): ...


class ExistsSkipping(Notice_, sqlstate="42P07"): ...


class PrivilegeNotGranted(Warning_, sqlstate="01007"): ...


class PrivilegeNotRevoked(Warning_, sqlstate="01006"): ...


class ObjectExistsSkipping(Notice_, sqlstate="42710"): ...


class ProgramLimitExceeded(SqlError, sqlstate="54000"): ...


class OutOfMemory(SqlError, sqlstate="53200"): ...


class TooManyConnections(SqlError, sqlstate="53300"): ...


class ConfigurationLimitExceeded(SqlError, sqlstate="53400"): ...


class InternalError(SqlError, sqlstate="XX000"): ...


class DataCorrupted(SqlError, sqlstate="XX001"): ...


def by_sqlstate(code: str) -> type[SqlError]:
    """The class to raise an ERROR of a SQLSTATE with (SqlError itself when none is declared): one
    of this module's where it declares the code, never a class of another severity (a FATAL one
    ends the connection, a NOTICE or WARNING one is no error at all: pgwire's FATAL 22023 and this
    module's NOTICE 42P07 share their codes with plain errors)."""
    found: type[SqlError] = SqlError
    stack = list(SqlError.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.sqlstate != code or cls.severity != "ERROR" or cls.__init__ is not SqlError.__init__:
            continue
        if found is SqlError or (cls.__module__ == __name__ and found.__module__ != __name__):
            found = cls
    return found


class ForeignKeyViolation(SqlError, sqlstate="23503"): ...


class InvalidForeignKey(SqlError, sqlstate="42830"): ...


class DependentObjectsStillExist(SqlError, sqlstate="2BP01"): ...


class InsufficientPrivilege(SqlError, sqlstate="42501"): ...


class ReservedName(SqlError, sqlstate="42939"): ...


class ObjectInUse(SqlError, sqlstate="55006"): ...


class InvalidGrantOperation(SqlError, sqlstate="0LP01"): ...


class InvalidAuthorizationSpecification(SqlError, sqlstate="28000"):
    """At a session's start only (a NOLOGIN role): FATAL, as PostgreSQL's."""

    severity = "FATAL"
