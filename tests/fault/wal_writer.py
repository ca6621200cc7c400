"""Append WAL records from several threads until killed; print one line per acknowledged record.

    python tests/fault/wal_writer.py DIR POLICY THREADS

Each line, written (and flushed to the OS) only after ``append`` returned: ``<seq> <sha256 of payload>``.
Payloads are random, 0 bytes to 200 KB, so a kill often lands in the middle of a record. Used by
tests/fault/test_wal_faults.py, which SIGKILLs this process and checks the WAL against the lines.
"""

from __future__ import annotations

import hashlib
import random
import sys
import threading

from columnar.wal import WAL

SIZES = (0, 1, 100, 1_000, 10_000, 60_000, 200_000)


def main() -> None:
    directory, policy, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    wal = WAL(directory, fsync=policy, interval_ms=2, segment_bytes=512 * 1024)
    out_lock = threading.Lock()

    def work(t: int) -> None:
        rng = random.Random(t)
        while True:
            payload = rng.randbytes(rng.choice(SIZES))
            seq = wal.append(payload)
            line = f"{seq} {hashlib.sha256(payload).hexdigest()}\n"
            with out_lock:
                sys.stdout.write(line)
                sys.stdout.flush()

    for t in range(threads):
        threading.Thread(target=work, args=(t,), daemon=True).start()
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
