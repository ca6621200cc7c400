"""The columnar write batch: the one shape every write path (line protocol, INSERT, COPY) produces.

A batch holds rows of one table. Tag sets are deduplicated: ``tag_sets`` lists each distinct tag set
once and ``series`` maps every row to its tag set, so the engine resolves a series key once per batch
and not once per row. Field columns carry a validity mask where some rows lack the field.

A batch serialises to Arrow IPC bytes for the WAL (:meth:`to_bytes` / :meth:`from_bytes`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from columnar.rows import Column
from columnar.types import FieldType

FieldColumn = Column  # a write batch's field column is the engine's column type

TagSet = tuple[tuple[str, str], ...]


@dataclass
class WriteBatch:
    table: str
    time: np.ndarray  # int64 ns since the epoch, one per row
    tag_sets: list[TagSet]  # distinct tag sets, each sorted by key ('' is a value; a missing tag is absent)
    series: np.ndarray  # int32 index into tag_sets, one per row
    fields: dict[str, Column] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.time = np.ascontiguousarray(self.time, dtype=np.int64)
        self.series = np.ascontiguousarray(self.series, dtype=np.int32)
        n = len(self.time)
        if len(self.series) != n:
            raise ValueError("series index and time differ in length")
        for name, col in self.fields.items():
            if len(col.values) != n or (col.valid is not None and len(col.valid) != n):
                raise ValueError(f"field {name!r} differs in length from time")

    def __len__(self) -> int:
        return len(self.time)

    @property
    def value_count(self) -> int:
        """Number of field values (not rows) in the batch."""
        return sum(len(c.values) if c.valid is None else int(c.valid.sum()) for c in self.fields.values())

    @classmethod
    def from_rows(
        cls,
        table: str,
        time: Sequence[int] | np.ndarray,
        tags: Sequence[Mapping[str, str]] | None = None,
        fields: Mapping[str, Sequence[object] | np.ndarray] | None = None,
        types: Mapping[str, FieldType] | None = None,
    ) -> WriteBatch:
        """Build a batch from per-row tag dicts and per-column field lists (``None`` = missing).

        A convenience for SQL INSERT, tests and tools; the line-protocol parser builds batches
        directly from its vectorised output.
        """
        time_arr = np.asarray(time, dtype=np.int64)
        n = len(time_arr)
        tags = tags if tags is not None else [{}] * n
        index: dict[TagSet, int] = {}
        series = np.empty(n, dtype=np.int32)
        for i, t in enumerate(tags):
            key = tuple(sorted((k, v) for k, v in t.items() if v is not None))
            series[i] = index.setdefault(key, len(index))
        cols: dict[str, Column] = {}
        for name, vals in (fields or {}).items():
            if isinstance(vals, np.ndarray) and vals.dtype != object:
                ftype = (types or {}).get(name) or FieldType.of_numpy(vals.dtype)
                cols[name] = Column(ftype, vals)
                continue
            seq = list(vals)
            valid = np.array([v is not None for v in seq], dtype=bool)
            ftype = (types or {}).get(name) or _infer_type([v for v in seq if v is not None])
            fill = "" if ftype is FieldType.STRING else 0
            filled = [fill if v is None else v for v in seq]
            if ftype is FieldType.STRING:
                arr = _objarr(filled)
            else:
                arr = np.array(filled, dtype=ftype.numpy_dtype)
            cols[name] = Column(ftype, arr, valid)
        return cls(table, time_arr, list(index), series, cols)

    # -- WAL serialisation -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        arrays = [pa.array(self.time, pa.int64()), pa.array(self.series, pa.int32())]
        names = ["\x00time", "\x00series"]
        types: dict[str, int] = {}
        for name, col in self.fields.items():
            mask = None if col.valid is None else ~col.valid
            arrays.append(pa.array(col.values, type=col.type.arrow_type, mask=mask))
            names.append(name)
            types[name] = int(col.type)
        meta = {
            b"table": self.table.encode(),
            b"tag_sets": json.dumps(self.tag_sets).encode(),
            b"types": json.dumps(types).encode(),
        }
        rb = pa.RecordBatch.from_arrays(arrays, names=names)
        rb = rb.replace_schema_metadata(meta)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rb.schema) as writer:
            writer.write_batch(rb)
        return sink.getvalue().to_pybytes()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> WriteBatch:
        reader = pa.ipc.open_stream(pa.py_buffer(data))
        rb = reader.read_next_batch()
        meta = rb.schema.metadata
        types = {k: FieldType(v) for k, v in json.loads(meta[b"types"]).items()}
        tag_sets = [tuple((k, v) for k, v in ts) for ts in json.loads(meta[b"tag_sets"])]
        cols: dict[str, Column] = {}
        for name, ftype in types.items():
            arr = rb.column(name)
            valid = None
            if arr.null_count:
                valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
                fill = {FieldType.STRING: "", FieldType.BOOLEAN: False}.get(ftype, 0)
                arr = arr.fill_null(pa.scalar(fill, arr.type))
            if ftype is FieldType.STRING:
                values = _objarr(arr.to_pylist())
            else:
                values = arr.to_numpy(zero_copy_only=False).copy()
            cols[name] = Column(ftype, values, valid)
        return cls(
            meta[b"table"].decode(),
            rb.column("\x00time").to_numpy().copy(),
            tag_sets,
            rb.column("\x00series").to_numpy().copy(),
            cols,
        )


def _objarr(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _infer_type(values: Sequence[object]) -> FieldType:
    if not values:
        return FieldType.FLOAT
    v = values[0]
    if isinstance(v, bool | np.bool_):
        return FieldType.BOOLEAN
    if isinstance(v, int | np.integer):
        return FieldType.INTEGER
    if isinstance(v, float | np.floating):
        return FieldType.FLOAT
    if isinstance(v, str):
        return FieldType.STRING
    raise TypeError(f"cannot store {type(v).__name__} values")
