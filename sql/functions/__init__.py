"""Function families installed into every DuckDB connection the SQL engine opens.

Each family is a module with ``install(con)``; ``sql.duck.connect()`` calls :func:`install_all` once
for the shared in-memory database, so every cursor sees the functions. Add a family by appending its
``install`` to ``INSTALLERS``.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from sql.functions import jsonb, numeric_format, postgres, timeseries

Installer = Callable[[duckdb.DuckDBPyConnection], None]
INSTALLERS: tuple[Installer, ...] = (
    timeseries.install,
    postgres.install,
    jsonb.install,
    numeric_format.install,
)


def install_all(con: duckdb.DuckDBPyConnection) -> None:
    for install in INSTALLERS:
        install(con)
