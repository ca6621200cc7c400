"""Server configuration.

Every setting has one key, and four places it can come from; a later place wins:

    default  <  TOML file (--config / TSGRES_CONFIG)  <  TSGRES_* environment  <  command-line flag

Top-level keys are server settings; the ``[storage]`` table maps one-to-one onto the fields of
:class:`columnar.options.EngineOptions`. In the environment a top-level key ``pg_port`` is
``TSGRES_PG_PORT`` and a storage key ``wal_fsync`` is ``TSGRES_STORAGE_WAL_FSYNC``.

Nothing is silently ignored: an unknown key in the file, an unknown ``TSGRES_*`` variable or a value of
the wrong type is a :class:`ConfigError` that names it and where it came from.

Example file::

    data_dir = "/var/lib/tsgres"
    http_port = 8086

    [storage]
    wal_fsync = "always"
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from columnar.options import EngineOptions

ENV_PREFIX = "TSGRES_"
STORAGE_ENV_PREFIX = "TSGRES_STORAGE_"
CONFIG_FILE_ENV = "TSGRES_CONFIG"  # the file's path; not a key inside the file
STORAGE = "storage"

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key, which value and where from."""


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be between 0 and 65535 (0 picks a free port)"


def _non_empty(value: object) -> str | None:
    return None if str(value) else "must not be empty"


def _log_level(value: str) -> str | None:
    return None if value in LOG_LEVELS else f"must be one of {', '.join(LOG_LEVELS)}"


PG_AUTH_METHODS = ("auto", "trust", "password", "md5", "scram-sha-256")


def _pg_auth_method(value: str) -> str | None:
    return None if value in PG_AUTH_METHODS else f"must be one of {', '.join(PG_AUTH_METHODS)}"


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be >= 0"


def _host_port(value: str | None) -> str | None:
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or _port(int(port)) is not None:
        return "must be HOST:PORT, e.g. 127.0.0.1:8089"
    return None


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    pg_port: int = 5432
    http_port: int = 8086
    log_level: str = "info"
    auto_create_databases: bool = True  # /write to an unknown database creates it
    max_body_bytes: int = 25_000_000  # largest accepted HTTP request body; 0 = no limit
    udp_bind: str | None = None  # HOST:PORT for line protocol over UDP; None = off
    pg_auth_method: str = (
        "auto"  # trust | password | md5 | scram-sha-256 | auto (trust on loopback, else SCRAM)
    )
    pg_password_file: Path | None = None  # lines user:password (or md5/SCRAM verifier); None = no users
    pg_tls_cert: Path | None = None  # PEM certificate: SSLRequest is accepted when set (with pg_tls_key)
    pg_tls_key: Path | None = None
    http_auth_enabled: bool = False  # InfluxDB's auth-enabled: /query and /write check users
    udp_database: str = "udp"  # the database UDP points are written to
    retention_check_interval_s: float = 1800.0  # how often expired shards are dropped; 0 = never
    # how often InfluxQL continuous queries are checked for a passed boundary (InfluxDB: 1 s); 0 = never run
    continuous_query_check_interval_s: float = 1.0
    jobs_check_interval_s: float = (
        5.0  # how often TimescaleDB jobs (policies, add_job's) are checked; 0 = never
    )
    busy_poll_us: int = 500  # after an answer the event loop polls this long before it sleeps; 0 = off
    storage: EngineOptions = field(default_factory=EngineOptions)

    def __post_init__(self) -> None:
        for key, check in _CHECKS.items():
            value = getattr(self, key)
            problem = check(value)
            if problem is not None:
                raise ConfigError(f"{key} = {_show(value)}: {problem}")
        if (self.pg_tls_cert is None) != (self.pg_tls_key is None):
            raise ConfigError("pg_tls_cert and pg_tls_key go together: set both or neither")

    def engine_options(self) -> EngineOptions:
        return self.storage


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "data_dir": _non_empty,
    "host": _non_empty,
    "pg_port": _port,
    "http_port": _port,
    "log_level": _log_level,
    "max_body_bytes": _non_negative,
    "udp_bind": _host_port,
    "udp_database": _non_empty,
    "retention_check_interval_s": _non_negative,
    "continuous_query_check_interval_s": _non_negative,
    "jobs_check_interval_s": _non_negative,
    "busy_poll_us": _non_negative,
}


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


# Flat key -> type: "pg_port" -> int, "storage.wal_fsync" -> str, ...
KEYS: dict[str, Any] = {k: t for k, t in _field_types(Config).items() if k != STORAGE}
KEYS.update({f"{STORAGE}.{k}": t for k, t in _field_types(EngineOptions).items()})


def env_name(key: str) -> str:
    """The environment variable for a flat key: storage.wal_fsync -> TSGRES_STORAGE_WAL_FSYNC."""
    return ENV_PREFIX + key.replace(".", "_").upper()


_ENV_KEYS = {env_name(key): key for key in KEYS}


def _show(value: object) -> str:
    return repr(str(value)) if isinstance(value, Path) else repr(value)


def _type_name(typ: Any) -> str:
    if _optional_of(typ) is not None:
        return f"{_type_name(_optional_of(typ))} or unset"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", Path: "a path"}[typ]


def _optional_of(typ: Any) -> Any:
    """T for ``T | None``, else None."""
    if isinstance(typ, types.UnionType) or typing.get_origin(typ) is typing.Union:
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return None


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _from_text(text: str, typ: Any) -> Any:
    """Convert an environment variable or flag value; raise ValueError if it doesn't fit."""
    inner = _optional_of(typ)
    if inner is not None:
        return None if text == "" else _from_text(text, inner)
    text = text.strip() if typ is not str else text
    if typ is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError
    if typ is int:
        return int(text, 10)
    if typ is float:
        return float(text)
    if typ is Path:
        return Path(text).expanduser()
    return text


def _from_toml(value: Any, typ: Any) -> Any:
    """Check a value TOML already typed; raise ValueError if it doesn't fit."""
    inner = _optional_of(typ)
    if inner is not None:
        return _from_toml(value, inner)
    if typ is bool:
        if isinstance(value, bool):
            return value
    elif typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif typ is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif typ is Path:
        if isinstance(value, str):
            return Path(value).expanduser()
    elif isinstance(value, str):
        return value
    raise ValueError


def _check_storage(key: str, value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        if value < 0:
            return "must be >= 0"
    try:
        EngineOptions(**{key: value})
    except ValueError as e:
        return str(e)
    return None


def _convert(key: str, raw: Any, source: str, *, text: bool) -> Any:
    typ = KEYS[key]
    try:
        value = _from_text(raw, typ) if text else _from_toml(raw, typ)
    except ValueError:
        raise ConfigError(f"{source}: {key} = {raw!r}: expected {_type_name(typ)}") from None
    if key == "log_level" and isinstance(value, str):
        value = value.lower()
    section, _, name = key.rpartition(".")
    problem = _check_storage(name, value) if section == STORAGE else _CHECKS.get(key, _none)(value)
    if problem is not None:
        raise ConfigError(f"{source}: {key} = {raw!r}: {problem}")
    return value


def _none(_value: Any) -> None:
    return None


def read_file(path: Path) -> dict[str, Any]:
    """Flat key -> value from a TOML file, converted and checked."""
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if key == STORAGE:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {STORAGE} must be a table ([{STORAGE}])")
            for sub, subvalue in value.items():
                flat[f"{STORAGE}.{sub}"] = subvalue
        else:
            flat[key] = value
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}{_suggest(key)}")
        out[key] = _convert(key, value, str(path), text=False)
    return out


def read_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Flat key -> value from TSGRES_* variables; any other TSGRES_* name is an error."""
    out: dict[str, Any] = {}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name == CONFIG_FILE_ENV:
            continue
        key = _ENV_KEYS.get(name)
        if key is None:
            guess = name[len(ENV_PREFIX) :].lower()
            if name.startswith(STORAGE_ENV_PREFIX):
                guess = f"{STORAGE}.{name[len(STORAGE_ENV_PREFIX) :].lower()}"
            raise ConfigError(f"unknown environment variable {name}{_suggest(guess, env=True)}")
        out[key] = _convert(key, env[name], f"environment variable {name}", text=True)
    return out


def _suggest(key: str, *, env: bool = False) -> str:
    match = difflib.get_close_matches(key, KEYS, n=1)
    if not match:
        return ""
    return f" (did you mean {env_name(match[0]) if env else repr(match[0])}?)"


def load_config(
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration from defaults, a TOML file, the environment and command-line flags.

    ``flags`` maps a flat key to the flag's text, e.g. ``{"pg_port": "0"}``. ``config_file`` is the
    --config flag; without it the file named by ``TSGRES_CONFIG`` is read, if that is set.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if config_file is None and env.get(CONFIG_FILE_ENV):
        config_file = Path(env[CONFIG_FILE_ENV]).expanduser()
    if config_file is not None:
        values.update(read_file(config_file))
    values.update(read_env(env))
    for key, text in (flags or {}).items():
        if key not in KEYS:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _convert(key, text, "--" + key.replace("_", "-"), text=True)

    storage = {k.partition(".")[2]: v for k, v in values.items() if k.startswith(STORAGE + ".")}
    top = {k: v for k, v in values.items() if "." not in k}
    try:
        options = EngineOptions(**storage)
    except ValueError as e:
        raise ConfigError(f"storage: {e}") from None
    return Config(**top, storage=options)
