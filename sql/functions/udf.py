"""Python functions over Arrow batches for DuckDB: what a family registers with ``create_function``
when SQL macros cannot say it (jsonb paths, numeric templates)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from sql.errors import SqlError


def pg_error(exc: SqlError) -> ValueError:
    """sql/duck.py reads the SQLSTATE back from the message, as from a macro's error()."""
    return ValueError(f"pgsql {exc.sqlstate}: {exc}")


def strict_column(fn: Callable[..., Any], arity: int, result: pa.DataType) -> Callable[..., pa.Array]:
    """``fn`` over the rows of Arrow arguments (NULL in, NULL out: the functions are strict)."""

    def run(*arrays: pa.Array) -> pa.Array:
        columns = [a.to_pylist() for a in arrays]
        out: list[Any] = []
        try:
            for row in zip(*columns, strict=True):
                out.append(None if any(x is None for x in row) else fn(*row))
        except SqlError as exc:
            raise pg_error(exc) from None
        return pa.array(out, type=result)

    # (DuckDB counts the parameters of the function it is given)
    by_arity: dict[int, Callable[..., pa.Array]] = {
        1: lambda a: run(a),
        2: lambda a, b: run(a, b),
        3: lambda a, b, c: run(a, b, c),
        4: lambda a, b, c, d: run(a, b, c, d),
    }
    return by_arity[arity]
