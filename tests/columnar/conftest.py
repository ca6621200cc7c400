"""Fixtures for storage tests: an engine on a temp dir and a pure-Python reference model."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pyarrow as pa
import pytest

from columnar.batch import WriteBatch
from columnar.engine import Engine
from columnar.options import EngineOptions
from columnar.scan import ScanRequest, read_table


@pytest.fixture
def make_engine(tmp_path) -> Iterator:
    engines: list[Engine] = []

    def make(**opts) -> Engine:
        opts.setdefault("compaction_interval_s", 0)  # tests drive flush/compaction themselves
        opts.setdefault("wal_fsync", "off")
        e = Engine.open(tmp_path / "data", EngineOptions(**opts))
        engines.append(e)
        return e

    yield make
    for e in engines:
        e.close()


class Reference:
    """What the engine must return: (series tags, time) -> {field: value}, last present value wins."""

    def __init__(self) -> None:
        self.rows: dict[tuple[tuple, int], dict[str, object]] = {}

    def write(self, batch: WriteBatch) -> None:
        for i in range(len(batch)):
            key = (batch.tag_sets[batch.series[i]], int(batch.time[i]))
            row = self.rows.setdefault(key, {})
            for name, col in batch.fields.items():
                if col.valid is None or col.valid[i]:
                    v = col.values[i]
                    row[name] = v.item() if hasattr(v, "item") else v

    def delete(self, tmin: int, tmax: int, match=lambda tags: True) -> None:
        for key in [k for k in self.rows if tmin <= k[1] <= tmax and match(dict(k[0]))]:
            del self.rows[key]

    def expected(self, tmin: int = -(2**63), tmax: int = 2**63 - 1, match=lambda tags: True) -> set:
        return {
            (tags, t, tuple(sorted((k, _norm(v)) for k, v in fields.items())))
            for (tags, t), fields in self.rows.items()
            if tmin <= t <= tmax and match(dict(tags)) and fields
        }


def _norm(v: object) -> object:
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return v


def engine_rows(engine: Engine, table: str, database: str = "postgres", **req) -> set:
    """Every row the engine returns for a scan, in the Reference's shape."""
    tbl = read_table(engine, ScanRequest(database, table, **req))
    tbl = tbl.set_column(0, "time", tbl["time"].cast(pa.int64()))
    meta = engine.table(engine.database(database).id, "autogen", table)
    tags = meta.tags if meta else []
    out = set()
    cols = tbl.to_pydict()
    for i in range(tbl.num_rows):
        ts = tuple(sorted((k, cols[k][i]) for k in tags if cols[k][i] is not None))
        tns = cols["time"][i]
        fields = tuple(
            sorted(
                (k, _norm(cols[k][i]))
                for k in cols
                if k not in tags and k != "time" and cols[k][i] is not None
            )
        )
        if fields:
            out.add((ts, tns, fields))
    return out
