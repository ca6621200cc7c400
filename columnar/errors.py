"""Errors the storage engine raises. Protocol layers map them to SQLSTATEs and HTTP statuses."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error the storage engine raises on purpose."""


class DatabaseNotFound(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f'database not found: "{name}"')
        self.name = name


class DatabaseExists(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f'database already exists: "{name}"')
        self.name = name


class RetentionPolicyNotFound(StorageError):
    def __init__(self, database: str, name: str) -> None:
        super().__init__(f'retention policy not found: "{name}" (database "{database}")')
        self.database = database
        self.name = name


class TableNotFound(StorageError):
    def __init__(self, table: str) -> None:
        super().__init__(f'table not found: "{table}"')
        self.table = table


class FieldTypeConflict(StorageError):
    """A write gave a column a type other than the one it already has."""

    def __init__(self, table: str, column: str, existing: str, new: str) -> None:
        super().__init__(
            f'field type conflict: input field "{column}" on measurement "{table}" is type {new}, '
            f"already exists as type {existing}"
        )
        self.table = table
        self.column = column
        self.existing = existing
        self.new = new


class ColumnKindConflict(StorageError):
    """A name used as a tag in one write and as a field in another (or as 'time')."""

    def __init__(self, table: str, column: str, existing: str, new: str) -> None:
        super().__init__(
            f'column "{column}" on measurement "{table}" is a {existing}, cannot be written as a {new}'
        )
        self.table = table
        self.column = column


class SeriesLimitExceeded(StorageError):
    def __init__(self, database: str, limit: int, dropped: int) -> None:
        super().__init__(
            f'max-series-per-database limit exceeded: database "{database}" is limited to {limit} series; '
            f"{dropped} new series dropped"
        )
        self.database = database
        self.limit = limit
        self.dropped = dropped


class PointsBeyondRetention(StorageError):
    """Points older than the retention policy's duration were dropped (the rest were written)."""

    def __init__(self, dropped: int) -> None:
        super().__init__(f"partial write: points beyond retention policy dropped={dropped}")
        self.dropped = dropped


class ResultTooLarge(StorageError):
    """A scan that gathers its whole result (scan.filtered: rows; scan.aggregate_partials: partial
    aggregates) found more than its caller allows; the caller reads them another way (streamed)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} rows match")
        self.limit = limit


class CorruptData(StorageError):
    """A checksum did not match or a structure could not be decoded. Names the file and offset."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"corrupt data in {path}: {detail}")
        self.path = path
        self.detail = detail
