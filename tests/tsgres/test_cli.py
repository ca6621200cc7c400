from __future__ import annotations

import pytest

from tsgres import __version__
from tsgres.cli import SERVE_FLAGS, build_parser, main
from tsgres.config import KEYS


def test_version_command(tsgres_run) -> None:
    result = tsgres_run("version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"tsgres {__version__}\n"


def test_version_is_a_version() -> None:
    assert __version__.count(".") >= 2
    assert all(part.isdigit() for part in __version__.split(".")[:3])


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"tsgres {__version__}\n"


def test_no_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().err


def test_every_serve_flag_is_a_config_key() -> None:
    assert set(SERVE_FLAGS.values()) <= set(KEYS)
    for flag, key in SERVE_FLAGS.items():
        assert flag == "--" + key.replace("_", "-")
    args = build_parser().parse_args(["serve", "--pg-port", "1", "--config", "x.toml"])
    assert args.pg_port == "1" and str(args.config) == "x.toml"


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--http-port", "nope"], {}, "--http-port: http_port = 'nope': expected an integer"),
        ([], {"TSGRES_HTTP_PROT": "1"}, "unknown environment variable TSGRES_HTTP_PROT"),
        (["--config", "missing.toml"], {}, "config file not found"),
    ],
)
def test_configuration_errors_exit_2_before_anything_starts(
    tsgres_run, args: list[str], env: dict[str, str], message: str
) -> None:
    result = tsgres_run("serve", *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
