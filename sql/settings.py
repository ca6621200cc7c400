"""Session settings (GUCs) with PostgreSQL 15's defaults, and which of them are reported to clients."""

from __future__ import annotations

import functools
import re

from sql import errors as E
from sql.pg_gucs import GUCS

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


# PostgreSQL's parameters by lower-case name: (its spelling, entry of sql/pg_gucs.py)
_KNOWN = {name.lower(): (name, entry) for name, entry in GUCS.items()}

_CONTEXT_REFUSED = {
    "internal": "cannot be changed",
    "postmaster": "cannot be changed without restarting the server",
    "sighup": "cannot be changed now",
    "backend": "cannot be set after connection start",
    "superuser-backend": "cannot be set after connection start",
}
_MEMORY = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
_TIME = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*")


def known(name: str) -> bool:
    """Whether ``name`` is a parameter SET may set: PostgreSQL's, tsgres's, or a custom ``a.b``."""
    name = name.lower()
    return name in DEFAULTS or name in _KNOWN or "." in name


def default_shown(name: str) -> str | None:
    """What SHOW gives for a parameter the session has not set: tsgres's default, else a fresh
    PostgreSQL 15's; None for a name neither knows."""
    name = name.lower()
    if name in DEFAULTS:
        return DEFAULTS[name]
    entry = _KNOWN.get(name)
    return None if entry is None else entry[1][1]


def every_default() -> dict[str, str]:
    """Every known parameter's default, by lower-case name (tsgres's where both have one)."""
    out = {name: entry[1] for name, (_, entry) in _KNOWN.items()}
    out.update(DEFAULTS)
    return out


def described(name: str) -> tuple[str, str | None, str, str, tuple[str, ...] | None, tuple | None] | None:
    """A PostgreSQL parameter's (vartype, setting in its unit when SHOW's differs, unit, context,
    enum values, (min, max)) for pg_settings; None for a name PostgreSQL does not have."""
    entry = _KNOWN.get(name.lower())
    if entry is None:
        return None
    vartype, _shown, setting, unit, context, enums, bounds = entry[1]
    return vartype, setting, unit, context, enums, bounds


def spelled(name: str) -> str:
    """A parameter's name as PostgreSQL spells it (TimeZone, DateStyle), for pg_settings."""
    name = name.lower()
    return REPORTED.get(name) or (_KNOWN[name][0] if name in _KNOWN else name)


def check(name: str, value: str) -> None:
    """Raise PostgreSQL's error for SET ``name`` TO ``value`` when it would refuse it: a name it does
    not know (42704), one a session cannot change (55P02), a value not of the parameter's type, not
    among its values or outside its range (22023)."""
    key = name.lower()
    if key in DEFAULTS and key not in _KNOWN:
        return  # (tsgres's own: tsgres.native_executor and the like)
    entry = _KNOWN.get(key)
    if entry is None:
        if "." in key:
            return  # a custom option (PostgreSQL keeps any a.b as a placeholder)
        raise E.UndefinedObject(f'unrecognized configuration parameter "{key}"')
    spelling, (vartype, _shown, _setting, unit, context, enums, bounds) = entry
    refused = _CONTEXT_REFUSED.get(context)
    if refused is not None:
        raise E.CantChangeRuntimeParam(f'parameter "{spelling}" {refused}')
    v = value.strip()
    if vartype == "bool":
        if not _boolean(v.lower()):
            raise E.InvalidParameterValue(f'parameter "{spelling}" requires a Boolean value')
    elif vartype == "enum" and enums is not None:
        if v.lower() not in {e.lower() for e in enums}:
            raise E.InvalidParameterValue(
                f'invalid value for parameter "{spelling}": "{value}"',
                hint="Available values: " + ", ".join(enums) + ".",
            )
    elif vartype in ("integer", "real"):
        _check_number(spelling, value, vartype, unit, bounds)


def _boolean(v: str) -> bool:
    """Whether PostgreSQL reads ``v`` as a boolean: a prefix of true, false, yes or no, on, off or
    of, 1 or 0."""
    return bool(v) and (
        any(w.startswith(v) for w in ("true", "false", "yes", "no")) or v in ("on", "off", "of", "1", "0")
    )


def _check_number(spelling: str, value: str, vartype: str, unit: str, bounds: tuple | None) -> None:
    number = _in_unit(spelling, value, vartype, unit)
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        lo, hi = (int(b) if vartype == "integer" else b for b in bounds)
        shown = f"{int(number) if vartype == 'integer' else number}{' ' + unit if unit else ''}"
        raise E.InvalidParameterValue(
            f'{shown} is outside the valid range for parameter "{spelling}" ({lo} .. {hi})'
        )


def _in_unit(spelling: str, value: str, vartype: str, unit: str) -> float:
    """A number parameter's ``value`` ('64MB', '5min', '100') in the parameter's own unit."""
    m = _NUMBER.fullmatch(value)
    bad = E.InvalidParameterValue(f'invalid value for parameter "{spelling}": "{value}"')
    if m is None:
        raise bad
    number, given = float(m[1]), m[2]
    base = unit.lstrip("0123456789").lower()
    scale = float(unit[: len(unit) - len(base)] or 1)
    if given:
        table = _MEMORY if base in _MEMORY else _TIME if base in _TIME else None
        if table is None or given.lower() not in table or (table is _TIME and given != given.lower()):
            if table is _MEMORY:
                bad.hint = 'Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".'
            elif table is _TIME:
                bad.hint = 'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".'
            raise bad
        number = number * table[given.lower()] / (table[base] * scale)
    if vartype == "integer":
        if not given and not number.is_integer():
            raise bad
        number = round(number)
    return number


def setting_in_unit(name: str, value: str) -> str:
    """pg_settings' setting of a value a session set: a number in the parameter's unit ('8MB' of
    work_mem is 8192), any other value as it is."""
    entry = _KNOWN.get(name.lower())
    if entry is None or entry[1][0] not in ("integer", "real") or not entry[1][3]:
        return value
    try:
        number = _in_unit(entry[0], value, entry[1][0], entry[1][3])
    except E.SqlError:
        return value
    return str(int(number)) if entry[1][0] == "integer" else repr(number)
