"""Child process for the kill -9 test of tag renames: writes batches in a loop, renaming the tag every
few batches (later batches write under its new name), and prints each acknowledged write and rename."""

import sys

import numpy as np

from columnar.batch import WriteBatch
from columnar.engine import Engine
from columnar.options import EngineOptions


def main() -> None:
    data_dir, policy = sys.argv[1], sys.argv[2]
    engine = Engine.open(
        data_dir,
        EngineOptions(wal_fsync=policy, compaction_interval_s=0.05, cache_snapshot_bytes=100_000),
    )
    i, key = 0, 0
    while True:
        if i % 7 == 6:
            engine.rename_tag("postgres", "m", f"k{key}", f"k{key + 1}")
            key += 1
            print(f"R {key}", flush=True)
        n = 50
        b = WriteBatch.from_rows(
            "m",
            np.arange(i * n, (i + 1) * n, dtype=np.int64),
            [{f"k{key}": f"h{i % 3}"}] * n,
            {"v": np.full(n, float(i))},
        )
        engine.write("postgres", b).check()
        print(f"W {i}", flush=True)  # acknowledged: the WAL policy was met
        i += 1


if __name__ == "__main__":
    main()
