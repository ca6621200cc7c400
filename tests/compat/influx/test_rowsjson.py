"""The joining kernel of columnar JSON rows (compat/influx/_rowsjson.py) against the same text
built in Python, over random slots: integers at int64's ends and nulls, texts of every length,
constant runs, series without rows, rows without slots."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from compat.influx._rowsjson import CONST, INT, TEXT, join_rows


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
