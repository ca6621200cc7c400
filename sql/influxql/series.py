"""One series of a statement's answer, as InfluxDB returns it: name, tags, columns and rows.

A SELECT's series keep their rows as columns (``times`` in nanoseconds and one typed
:class:`~sql.influxql.functions.Col` per further column), so that large answers are encoded without
a Python object per value (compat/influx/query.py formats whole columns). ``values`` gives the rows
as lists, built on first use, for the paths that want rows (meta queries, INTO, subqueries, CSV).

The series split from one result share a :class:`Block` (its columns) and each holds a range of its
rows: ``cols`` are sliced from the block on first use, and the encoder formats the block's rows of
all of them at once (lastpoint's 100 series x 20 columns are not 2,000 slices).

    >>> s = Series("cpu", {"host": "a"}, ["time", "v"], times=np.array([0, 10]),
    ...            cols=[Col(np.array([1.5, 0.0]), np.array([True, False]), "float")])
    >>> s.values
    [[0, 1.5], [10, None]]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from sql.influxql.functions import Col


class Block:
    """Times and columns whose row ranges are the rows of several series."""

    __slots__ = ("cols", "times")

    def __init__(self, times: np.ndarray, cols: list[Col]) -> None:
        self.times = times
        self.cols = cols


class Series:
    def __init__(
        self,
        name: str,
        tags: dict[str, str] | None,
        columns: list[str],
        values: list[list[Any]] | None = None,
        partial: bool = False,
        time_index: int | None = 0,
        implicit_tags: frozenset[str] = frozenset(),
        tz: dt.tzinfo | None = None,
        *,
        times: np.ndarray | None = None,
        cols: list[Col] | None = None,
        block: tuple[Block, int] | None = None,
    ) -> None:
        """``block``: (block, first row): ``cols`` are the block's rows from there, as many as
        ``times`` has (instead of ``cols``)."""
        self.name = name
        self.tags = tags
        self.columns = columns
        self.partial = partial
        self.time_index = time_index  # the column holding times (ns) that the encoder formats
        self.implicit_tags = implicit_tags  # tags a subquery's raw rows keep without GROUP BY
        self.tz = tz  # tz() of the query: times are shown in that zone
        self._rows = values
        # columnar form: times (int64 ns, column 0) and the other columns; None once rows are set
        self.times = times if values is None else None
        self._cols = cols if values is None else None
        self.block = block if values is None and times is not None and cols is None else None
        if values is None and (times is None or (cols is None and block is None)):
            self._rows = []

    @property
    def cols(self) -> list[Col] | None:
        if self._cols is None and self.block is not None and self.times is not None:
            block, lo = self.block
            part = slice(lo, lo + len(self.times))
            self._cols = [c.take(part) for c in block.cols]
        return self._cols

    @cols.setter
    def cols(self, cols: list[Col] | None) -> None:
        self._cols = cols
        self.block = None

    @property
    def columnar(self) -> bool:
        return self.times is not None and (self._cols is not None or self.block is not None)

    @property
    def values(self) -> list[list[Any]]:
        if self._rows is None:
            assert self.times is not None and self.cols is not None
            lists = [c.tolist() for c in self.cols]
            self._rows = [list(r) for r in zip(self.times.tolist(), *lists, strict=True)]
        return self._rows

    @values.setter
    def values(self, rows: list[list[Any]]) -> None:
        self._rows = rows
        self.times = self.cols = None

    def __len__(self) -> int:
        if self._rows is None and self.times is not None:
            return len(self.times)
        return len(self.values)

    def slice(self, start: int, stop: int) -> Series:
        """Rows ``start:stop`` as a series of their own (a chunk of a chunked answer)."""
        if self.columnar:
            assert self.times is not None and self.cols is not None
            return self._like(None, self.times[start:stop], [c.take(slice(start, stop)) for c in self.cols])
        return self._like(self.values[start:stop], None, None)

    def _like(self, rows: list[list[Any]] | None, times: np.ndarray | None, cols: list[Col] | None) -> Series:
        return Series(
            self.name,
            self.tags,
            self.columns,
            rows,
            self.partial,
            self.time_index,
            self.implicit_tags,
            self.tz,
            times=times,
            cols=cols,
        )

    def __repr__(self) -> str:
        return f"Series({self.name!r}, {self.tags!r}, {self.columns!r}, {len(self)} rows)"
