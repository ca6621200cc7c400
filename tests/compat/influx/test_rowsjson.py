"""The joining kernel of columnar JSON rows (compat/influx/_rowsjson.py) against the same text
built in Python, over random slots: integers at int64's ends and nulls, texts of every length,
constant runs, series without rows, rows without slots."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from compat.influx._rowsjson import CONST, INT, TEXT, TIME, join_rows


def _expected(n: int, slots: list, lens: list[int]) -> list[str]:
    rows = []
    for i in range(n):
        cells = []
        for kind, payload in slots:
            if kind == CONST:
                cells.append(payload)
            elif kind == INT:
                values, valid = payload
                cells.append(str(int(values[i])) if valid[i] else "null")
            else:
                cells.append(payload[i].as_py())
        rows.append("[" + ",".join(cells) + "]")
    out, lo = [], 0
    for m in lens:
        out.append("[" + ",".join(rows[lo : lo + m]) + "]")
        lo += m
    return out


@pytest.mark.parametrize("seed", range(12))
def test_join_rows_is_the_python_join(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(1, 5))))
    lens = np.diff(np.concatenate([[0], cuts, [n]])).tolist()  # some series of no rows
    ends = np.array([-(2**63), 2**63 - 1, 0, -1, 9, 10, -10, 99, 10**18, -(10**17)], np.int64)
    slots: list = []
    for _ in range(int(rng.integers(0, 7))):
        kind = int(rng.integers(0, 3))
        if kind == CONST:
            slots.append((CONST, ["", '"é"', '"a","b",1'][int(rng.integers(0, 3))]))
        elif kind == INT:
            values = np.where(rng.random(n) < 0.5, rng.choice(ends, n), rng.integers(-(2**40), 2**40, n))
            slots.append((INT, (values.astype(np.int64), rng.random(n) > 0.2)))
        else:
            words = ["", "x", '"\u2028é"', "1.5", "abcdefghijklmnopqrstuvwxyz" * 3]
            arr = pa.array(["pad", *(words[int(k)] for k in rng.integers(0, len(words), n))])
            slots.append((TEXT, arr.slice(1)))  # (an offset into the buffers)
    assert join_rows(n, slots, lens) == _expected(n, slots, lens)


def test_time_slot_is_format_time() -> None:
    """TIME cells (whole seconds, UTC) are format_time's text: leap days, ends of months and years,
    before 1970, int64's first and last whole seconds."""
    from sql.influxql.values import format_time

    rng = np.random.default_rng(7)
    lo, hi = -(2**63) // 10**9 + 1, (2**63 - 1) // 10**9
    secs = [
        0, -1, 1, 86399, 86400, -86400, -86401, 951782400, 951868799, 4107542399, 1451606400,
        1709251199, 1709164800, -2208988800, lo, hi, *rng.integers(lo, hi, 200).tolist(),
    ]  # fmt: skip
    times = np.array(secs, np.int64) * 10**9
    got = join_rows(len(times), [(TIME, times)], [len(times)])[0]
    assert got == "[" + ",".join(f'["{format_time(int(t))}"]' for t in times.tolist()) + "]"
