"""Session settings (GUCs) with PostgreSQL 15's defaults, and which of them are reported to clients."""

from __future__ import annotations

import functools

SERVER_VERSION = "15.6"
SERVER_VERSION_NUM = "150006"

DEFAULTS: dict[str, str] = {
    "server_version": SERVER_VERSION,
    "server_version_num": SERVER_VERSION_NUM,
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "timezone": "UTC",
    "application_name": "",
    "is_superuser": "on",
    "session_authorization": "",
    "default_transaction_read_only": "off",
    "in_hot_standby": "off",
    "search_path": '"$user", public',
    "statement_timeout": "300s",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "extra_float_digits": "1",
    "max_identifier_length": "63",
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "transaction_read_only": "off",
    "bytea_output": "hex",
    "default_table_access_method": "heap",  # SQLAlchemy's table reflection asks for it
    "client_min_messages": "notice",
    "max_connections": "1000",
    "work_mem": "4MB",
    "synchronous_commit": "on",
    "lc_messages": "C",
    "lc_monetary": "C",
    "lc_numeric": "C",
    "lc_time": "C",
    "jit": "off",
    "row_security": "on",
    "escape_string_warning": "on",
    "backslash_quote": "safe_encoding",
    "timescaledb.telemetry_level": "off",
    "tsgres.native_executor": "on",  # off: DuckDB runs every query (tests compare the two)
    "tsgres.shared_plans": "on",  # off: no plan shared between texts differing in constants
}

# names as clients spell them in ParameterStatus
REPORTED: dict[str, str] = {
    "server_version": "server_version",
    "server_encoding": "server_encoding",
    "client_encoding": "client_encoding",
    "datestyle": "DateStyle",
    "intervalstyle": "IntervalStyle",
    "integer_datetimes": "integer_datetimes",
    "standard_conforming_strings": "standard_conforming_strings",
    "timezone": "TimeZone",
    "application_name": "application_name",
    "is_superuser": "is_superuser",
    "session_authorization": "session_authorization",
    "default_transaction_read_only": "default_transaction_read_only",
    "in_hot_standby": "in_hot_standby",
}


def normalise(name: str, value: str) -> str:
    name = name.lower()
    if name == "client_encoding":
        v = value.replace("-", "").replace("_", "").upper()
        return "UTF8" if v in ("UTF8", "UNICODE") else value.upper()
    if name == "timezone" and value.lower() in ("utc", "etc/utc", "z", "zulu", "gmt"):
        return "UTC"
    return value


@functools.lru_cache(maxsize=256)  # (every statement reads statement_timeout)
def parse_duration_ms(value: str) -> float:
    """statement_timeout style values: '300s', '5min', '1000' (ms), '0' = off."""
    v = value.strip().strip("'").lower()
    units = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
    for u in sorted(units, key=len, reverse=True):
        if v.endswith(u):
            return float(v[: -len(u)].strip()) * units[u]
    return float(v)
