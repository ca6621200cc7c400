"""``python -m bench COMMAND ...``: one entry point for every benchmark tool.

A subcommand is a module with ``add_arguments(parser)`` and ``run(args) -> int``; the docstring's first
line is its help. Plug one in by adding a line to :data:`SUBCOMMANDS`. Only the module of the chosen
subcommand is imported, so one tool's heavy or broken imports never slow or break another.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, str] = {
    "gen": "bench.datagen",
    "storage": "bench.storage",
    "codecs": "bench.codecs",
    "lp-parse": "bench.lp_parse",
    "ingest": "bench.ingest",
    "disk": "bench.disk",
    "queries": "bench.queries",
    "pgwire": "bench.roundtrip",
    "pgwire-layer": "bench.pgwire",
    "all": "bench.suite",
    "report": "bench.report",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = [argv[0]] if argv and argv[0] in SUBCOMMANDS else list(SUBCOMMANDS)
    for name in chosen:
        module = importlib.import_module(SUBCOMMANDS[name])
        summary = (module.__doc__ or name).strip().splitlines()[0]
        cmd = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
