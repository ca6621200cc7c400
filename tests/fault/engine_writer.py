"""Child process for the kill -9 test: writes batches in a loop and prints each acknowledged one."""

import sys

import numpy as np

from columnar.batch import WriteBatch
from columnar.engine import Engine
from columnar.options import EngineOptions


def main() -> None:
    data_dir, policy = sys.argv[1], sys.argv[2]
    engine = Engine.open(
        data_dir,
        EngineOptions(wal_fsync=policy, compaction_interval_s=0.05, cache_snapshot_bytes=200_000),
    )
    i = 0
    while True:
        n = 50
        b = WriteBatch.from_rows(
            "m",
            np.arange(i * n, (i + 1) * n, dtype=np.int64),
            [{"host": f"h{i % 3}"}] * n,
            {"v": np.full(n, float(i))},
        )
        engine.write("postgres", b).check()
        print(i, flush=True)  # acknowledged: the WAL policy was met
        i += 1


if __name__ == "__main__":
    main()
