"""Write batches survive the WAL's serialisation, every field type with and without missing values."""

from __future__ import annotations

import numpy as np

from columnar.batch import WriteBatch
from columnar.engine import Engine
from columnar.options import EngineOptions
from columnar.scan import ScanRequest, read_table
from columnar.types import FieldType


def test_round_trip_with_missing_values_of_every_type():
    b = WriteBatch.from_rows(
        "m",
        [1, 2, 3],
        [{"h": "a"}, {}, {"h": "b"}],
        {
            "f": [1.5, None, 2.5],
            "i": [None, 2, 3],
            "u": [1, None, 2],
            "b": [True, None, False],
            "s": ["x", None, "y"],
        },
        types={"u": FieldType.UNSIGNED},
    )
    c = WriteBatch.from_bytes(b.to_bytes())
    assert c.table == "m" and c.tag_sets == b.tag_sets and np.array_equal(c.series, b.series)
    for name, col in b.fields.items():
        got = c.fields[name]
        assert got.type is col.type, name
        assert np.array_equal(got.valid, col.valid), name
        assert list(got.values[col.valid]) == list(col.values[col.valid]), name


def test_engine_restarts_with_sparse_booleans_in_its_wal(tmp_path):
    """A sparse bool field in the WAL once made replay fail, so the server would not start."""
    opts = EngineOptions(compaction_interval_s=0, wal_fsync="off")
    with Engine.open(tmp_path / "d", opts) as e:
        e.write(
            "postgres", WriteBatch.from_rows("m", [1, 2], [{}, {}], {"ok": [True, None], "v": [1.0, 2.0]})
        ).check()
    with Engine.open(tmp_path / "d", opts) as e:
        t = read_table(e, ScanRequest("postgres", "m"))
        assert t["ok"].to_pylist() == [True, None] and t["v"].to_pylist() == [1.0, 2.0]
