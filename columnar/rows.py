"""Columnar rows of one table (series ids, times, typed field columns): the engine's in-memory shape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from columnar.types import FieldType


@dataclass
class Column:
    type: FieldType
    values: np.ndarray
    valid: np.ndarray | None = None  # None: every row has a value

    def __post_init__(self) -> None:
        if self.type is not FieldType.STRING and self.values.dtype != self.type.numpy_dtype:
            self.values = self.values.astype(self.type.numpy_dtype)
        if self.valid is not None and bool(self.valid.all()):
            self.valid = None

    def __len__(self) -> int:
        return len(self.values)

    def take(self, idx: np.ndarray) -> Column:
        return Column(self.type, self.values[idx], None if self.valid is None else self.valid[idx])

    def filter(self, mask: np.ndarray) -> Column:
        return self.take(mask)

    @property
    def nbytes(self) -> int:
        per = 48 if self.type is FieldType.STRING else self.values.itemsize
        return len(self.values) * per + (0 if self.valid is None else len(self.valid))


@dataclass
class Rows:
    """Columnar rows of one table: series ids, times and field columns of equal length."""

    series: np.ndarray  # int64
    time: np.ndarray  # int64 ns
    fields: dict[str, Column]

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def empty(cls, types: dict[str, FieldType] | None = None) -> Rows:
        cols = {n: Column(t, np.empty(0, dtype=t.numpy_dtype)) for n, t in (types or {}).items()}
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), cols)

    def take(self, idx: np.ndarray) -> Rows:
        return Rows(self.series[idx], self.time[idx], {n: c.take(idx) for n, c in self.fields.items()})

    def select_columns(self, names: list[str] | None) -> Rows:
        if names is None:
            return self
        return Rows(self.series, self.time, {n: self.fields[n] for n in names if n in self.fields})

    @property
    def nbytes(self) -> int:
        return self.series.nbytes + self.time.nbytes + sum(c.nbytes for c in self.fields.values())


def bitmap_ids(bitmap) -> np.ndarray:
    """A roaring bitmap of series ids as a sorted int64 array (without a Python list in between)."""
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32).astype(np.int64)


def concat(parts: list[Rows]) -> Rows:
    """Concatenate in order; a field missing from a part is absent (invalid) in that part's rows."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Rows.empty()
    if len(parts) == 1:
        return parts[0]
    types: dict[str, FieldType] = {}
    for p in parts:
        for n, c in p.fields.items():
            types.setdefault(n, c.type)
    series = np.concatenate([p.series for p in parts])
    time = np.concatenate([p.time for p in parts])
    fields: dict[str, Column] = {}
    for name, ftype in types.items():
        vals, valids, any_invalid = [], [], False
        for p in parts:
            col = p.fields.get(name)
            if col is None:
                vals.append(blank(ftype, len(p)))
                valids.append(np.zeros(len(p), dtype=bool))
                any_invalid = True
            else:
                vals.append(col.values)
                if col.valid is None:
                    valids.append(np.ones(len(p), dtype=bool))
                else:
                    valids.append(col.valid)
                    any_invalid = True
        fields[name] = Column(ftype, np.concatenate(vals), np.concatenate(valids) if any_invalid else None)
    return Rows(series, time, fields)


def blank(ftype: FieldType, n: int) -> np.ndarray:
    if ftype is FieldType.STRING:
        out = np.empty(n, dtype=object)
        out[:] = ""
        return out
    return np.zeros(n, dtype=ftype.numpy_dtype)
