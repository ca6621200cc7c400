"""Render a results file of ``python -m bench all`` again, optionally into docs/benchmarks.md.

python -m bench report bench/out/2026-11-21T230000Z.json [--update-docs]
"""

from __future__ import annotations

from bench.suite import add_report_arguments as add_arguments
from bench.suite import run_report as run

__all__ = ["add_arguments", "run"]
