"""The ``tsgres`` command: ``tsgres serve [flags]`` and ``tsgres version``.

Each serve flag is also a config key and a TSGRES_* variable (see tsgres/config.py); a flag wins over
both. Exit codes: 0 clean shutdown, 1 the server could not start or stop cleanly, 2 a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tsgres import __version__
from tsgres.config import CONFIG_FILE_ENV, LOG_LEVELS, Config, ConfigError, env_name, load_config

# flag -> config key; every one is also settable in the file and the environment
SERVE_FLAGS = {
    "--data-dir": "data_dir",
    "--host": "host",
    "--pg-port": "pg_port",
    "--http-port": "http_port",
    "--log-level": "log_level",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tsgres", description="A time-series database that speaks PostgreSQL and InfluxDB line protocol."
    )
    parser.add_argument("--version", action="version", version=f"tsgres {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server until SIGINT or SIGTERM")
    defaults = Config()
    for flag, key in SERVE_FLAGS.items():
        default = getattr(defaults, key)
        if key == "data_dir":
            default = f"./{default}, relative to the working directory"
        if key == "log_level":
            default = f"{default}; one of {', '.join(LOG_LEVELS)}"
        serve.add_argument(
            flag, dest=key, metavar=key.split("_")[-1].upper(), help=f"default {default}; env {env_name(key)}"
        )
    serve.add_argument("--config", type=Path, metavar="FILE", help=f"TOML config file; env {CONFIG_FILE_ENV}")
    serve.set_defaults(run=_serve)

    version = commands.add_parser("version", help="print the version and exit")
    version.set_defaults(run=_version)
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    if level != "debug":  # one line per request is for debugging, not for the default log
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _serve(args: argparse.Namespace) -> int:
    flags = {key: getattr(args, key) for key in SERVE_FLAGS.values() if getattr(args, key) is not None}
    try:
        config = load_config(config_file=args.config, flags=flags)
    except ConfigError as e:
        print(f"tsgres: configuration error: {e}", file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    log = logging.getLogger("tsgres")
    log.debug("configuration: %r", config)
    from tsgres.server import run  # the server pulls in aiohttp and storage; `version` needs neither

    return run(config)


def _version(args: argparse.Namespace) -> int:
    print(f"tsgres {__version__}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:  # Ctrl-C before the server installed its own handler
        return 130
