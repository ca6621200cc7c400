"""Child process for the kill -9 tests of renames: writes batches in a loop, renaming every few
batches (later batches write under the new name), and prints each acknowledged write and rename.

``rename_writer.py DIR POLICY [tag|table]``: ``tag`` renames the tag of measurement ``m`` (k0, k1,
...); ``table`` renames the measurement (m0, m1, ...) while a second thread writes to measurement
``other`` meanwhile (its acknowledged writes printed as ``O i``)."""

import sys
import threading

import numpy as np

from columnar.batch import WriteBatch
from columnar.engine import Engine
from columnar.options import EngineOptions

_out = threading.Lock()


def _say(line: str) -> None:
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _other(engine: Engine) -> None:
    i = 0
    while True:
        n = 20
        b = WriteBatch.from_rows(
            "other",
            np.arange(i * n, (i + 1) * n, dtype=np.int64),
            [{"h": f"o{i % 2}"}] * n,
            {"w": np.full(n, i)},
        )
        engine.write("postgres", b).check()
        _say(f"O {i}")
        i += 1


def main() -> None:
    data_dir, policy = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "tag"
    engine = Engine.open(
        data_dir,
        EngineOptions(wal_fsync=policy, compaction_interval_s=0.05, cache_snapshot_bytes=100_000),
    )
    if mode == "table":
        threading.Thread(target=_other, args=(engine,), daemon=True).start()
    i, key = 0, 0
    while True:
        if i % 7 == 6:
            if mode == "table":
                engine.rename_table("postgres", f"m{key}", f"m{key + 1}")
            else:
                engine.rename_tag("postgres", "m", f"k{key}", f"k{key + 1}")
            key += 1
            _say(f"R {key}")
        n = 50
        b = WriteBatch.from_rows(
            f"m{key}" if mode == "table" else "m",
            np.arange(i * n, (i + 1) * n, dtype=np.int64),
            [{"k0" if mode == "table" else f"k{key}": f"h{i % 3}"}] * n,
            {"v": np.full(n, float(i))},
        )
        engine.write("postgres", b).check()
        _say(f"W {i}")  # acknowledged: the WAL policy was met
        i += 1


if __name__ == "__main__":
    main()
