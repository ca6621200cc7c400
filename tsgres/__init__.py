"""tsgres application shell: command line, configuration, and the server that wires the parts."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tsgres")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"
