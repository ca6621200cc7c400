from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from columnar.options import EngineOptions
from tsgres.config import KEYS, Config, ConfigError, env_name, load_config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tsgres.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file_and_no_environment() -> None:
    config = load_config(env={})
    assert config == Config()
    assert config.data_dir == Path("data")
    assert (config.host, config.pg_port, config.http_port) == ("127.0.0.1", 5432, 8086)
    assert config.log_level == "info"
    assert config.auto_create_databases is True
    assert config.max_body_bytes == 25_000_000
    assert config.udp_bind is None
    assert config.engine_options() == EngineOptions()


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    path = write(tmp_path, 'pg_port = 1111\nhttp_port = 2222\nhost = "file-host"\n')
    env = {"TSGRES_PG_PORT": "3333", "TSGRES_HTTP_PORT": "4444"}
    config = load_config(config_file=path, env=env, flags={"pg_port": "5555"})
    assert config.pg_port == 5555  # flag beats env and file
    assert config.http_port == 4444  # env beats file
    assert config.host == "file-host"  # file beats default
    assert config.log_level == "info"  # default


def test_storage_precedence_and_engine_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [storage]
        wal_fsync = "always"
        wal_fsync_interval_ms = 2
        wal_segment_bytes = 1048576
        cache_snapshot_bytes = 4096
        cache_snapshot_age_s = 1.5
        series_limit = 0
        compaction_interval_s = 0
        compaction_min_files = 8
        """,
    )
    env = {"TSGRES_STORAGE_SERIES_LIMIT": "123"}
    options = load_config(config_file=path, env=env).engine_options()
    assert options == EngineOptions(
        wal_fsync="always",
        wal_fsync_interval_ms=2.0,
        wal_segment_bytes=1048576,
        cache_snapshot_bytes=4096,
        cache_snapshot_age_s=1.5,
        series_limit=123,
        compaction_interval_s=0.0,
        compaction_min_files=8,
    )
    assert isinstance(options.wal_fsync_interval_ms, float)  # TOML integer widened to the field's type


def test_every_engine_option_is_a_storage_key() -> None:
    for f in dataclasses.fields(EngineOptions):
        assert f"storage.{f.name}" in KEYS
        assert env_name(f"storage.{f.name}") == f"TSGRES_STORAGE_{f.name.upper()}"


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "http_port = 9999\n")
    assert load_config(env={"TSGRES_CONFIG": str(path)}).http_port == 9999


def test_flag_config_file_beats_environment_config_file(tmp_path: Path) -> None:
    flag_file = write(tmp_path, "http_port = 1\n")
    env_file = tmp_path / "other.toml"
    env_file.write_text("http_port = 2\n")
    assert load_config(config_file=flag_file, env={"TSGRES_CONFIG": str(env_file)}).http_port == 1


def test_env_values_converted_to_field_types() -> None:
    env = {
        "TSGRES_DATA_DIR": "/srv/tsgres",
        "TSGRES_AUTO_CREATE_DATABASES": "off",
        "TSGRES_MAX_BODY_BYTES": "1_000",
        "TSGRES_LOG_LEVEL": "DEBUG",
        "TSGRES_UDP_BIND": "127.0.0.1:8089",
        "TSGRES_STORAGE_CACHE_SNAPSHOT_AGE_S": "2.5",
    }
    config = load_config(env=env)
    assert config.data_dir == Path("/srv/tsgres")
    assert config.auto_create_databases is False
    assert config.max_body_bytes == 1000
    assert config.log_level == "debug"
    assert config.udp_bind == "127.0.0.1:8089"
    assert config.storage.cache_snapshot_age_s == 2.5


def test_empty_env_value_unsets_an_optional_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'udp_bind = "127.0.0.1:8089"\n')
    assert load_config(config_file=path, env={"TSGRES_UDP_BIND": ""}).udp_bind is None


@pytest.mark.parametrize(
    "text, named",
    [
        ("pg_prot = 1\n", "'pg_prot'"),
        ("[storage]\nwal_fsnyc = 'off'\n", "'storage.wal_fsnyc'"),
        ("[pgwire]\nport = 1\n", "'pgwire'"),
    ],
)
def test_unknown_key_in_file_is_an_error(tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="unknown key") as e:
        load_config(config_file=path, env={})
    assert named in str(e.value)
    assert str(path) in str(e.value)


def test_unknown_key_suggests_the_known_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'pg_port'\?"):
        load_config(config_file=write(tmp_path, "pg_prot = 1\n"), env={})


def test_storage_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="storage must be a table"):
        load_config(config_file=write(tmp_path, "storage = 1\n"), env={})


@pytest.mark.parametrize(
    "name", ["TSGRES_PGPORT", "TSGRES_STORAGE_WAL_FSNYC", "TSGRES_STORAGE", "TSGRES_pg_port"]
)
def test_unknown_tsgres_env_var_is_an_error(name: str) -> None:
    with pytest.raises(ConfigError, match=f"unknown environment variable {name}"):
        load_config(env={name: "1"})


def test_other_env_vars_are_not_ours() -> None:
    assert load_config(env={"PGPORT": "1", "TSGRESX": "2", "HOME": "/"}) == Config()


@pytest.mark.parametrize(
    "env, named",
    [
        ({"TSGRES_PG_PORT": "abc"}, "TSGRES_PG_PORT: pg_port = 'abc': expected an integer"),
        ({"TSGRES_HTTP_PORT": "70000"}, "http_port = '70000': must be between 0 and 65535"),
        ({"TSGRES_AUTO_CREATE_DATABASES": "maybe"}, "auto_create_databases = 'maybe': expected a boolean"),
        ({"TSGRES_LOG_LEVEL": "loud"}, "log_level = 'loud': must be one of"),
        ({"TSGRES_MAX_BODY_BYTES": "-1"}, "max_body_bytes = '-1': must be >= 0"),
        ({"TSGRES_UDP_BIND": "8089"}, "udp_bind = '8089': must be HOST:PORT"),
        ({"TSGRES_HOST": ""}, "host = '': must not be empty"),
        ({"TSGRES_STORAGE_WAL_FSYNC": "sometimes"}, "storage.wal_fsync = 'sometimes': wal_fsync must be"),
        ({"TSGRES_STORAGE_WAL_FSYNC_INTERVAL_MS": "0"}, "storage.wal_fsync_interval_ms = '0': "),
        ({"TSGRES_STORAGE_SERIES_LIMIT": "-5"}, "storage.series_limit = '-5': must be >= 0"),
        (
            {"TSGRES_STORAGE_WAL_SEGMENT_BYTES": "1.5"},
            "storage.wal_segment_bytes = '1.5': expected an integer",
        ),
        ({"TSGRES_STORAGE_CACHE_SNAPSHOT_AGE_S": "nan"}, "cache_snapshot_age_s = 'nan': must be a finite"),
    ],
)
def test_bad_env_value_names_key_and_value(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(env=env)
    assert named in str(e.value)


@pytest.mark.parametrize(
    "text, named",
    [
        ('pg_port = "5432"\n', "pg_port = '5432': expected an integer"),
        ("pg_port = 54.32\n", "pg_port = 54.32: expected an integer"),
        ("auto_create_databases = 1\n", "auto_create_databases = 1: expected a boolean"),
        ("max_body_bytes = true\n", "max_body_bytes = True: expected an integer"),
        ("data_dir = 7\n", "data_dir = 7: expected a path"),
        ("[storage]\ncache_snapshot_bytes = 0\n", "storage.cache_snapshot_bytes = 0: cache_snapshot_bytes"),
        (
            "[storage]\nwal_fsync_interval_ms = 'fast'\n",
            "storage.wal_fsync_interval_ms = 'fast': expected a number",
        ),
    ],
)
def test_bad_file_value_names_key_and_value(tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(config_file=path, env={})
    assert named in str(e.value)
    assert str(path) in str(e.value)


def test_bad_flag_value_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"--http-port: http_port = 'x': expected an integer"):
        load_config(env={}, flags={"http_port": "x"})


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(config_file=tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(config_file=write(tmp_path, "pg_port = \n"), env={})


def test_config_constructed_directly_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="pg_port = -1"):
        Config(pg_port=-1)


def test_operations_doc_lists_every_key_and_variable() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    for key in KEYS:
        assert f"`{key.rpartition('.')[2]}`" in doc, key
        assert env_name(key) in doc, env_name(key)


def test_http_auth_enabled_is_off_by_default_as_in_influxdb(tmp_path: Path) -> None:
    assert load_config(env={}).http_auth_enabled is False
    assert load_config(env={"TSGRES_HTTP_AUTH_ENABLED": "true"}).http_auth_enabled is True
    assert load_config(config_file=write(tmp_path, "http_auth_enabled = true\n"), env={}).http_auth_enabled
