"""Shared data for the codec tests: boundary blocks per kind and a bitwise equality helper."""

from __future__ import annotations

import numpy as np

I64 = np.iinfo(np.int64)
U64 = np.iinfo(np.uint64)
T0 = 1_451_606_400 * 1_000_000_000  # 2016-01-01T00:00:00Z in ns


def _rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def _ints() -> dict[str, np.ndarray]:
    rng = _rng()
    walk = np.clip(np.cumsum(rng.normal(0, 1, 1024)) + 50, 0, 100).astype(np.int64)
    return {
        "empty": np.array([], np.int64),
        "one": np.array([42], np.int64),
        "one-min": np.array([I64.min], np.int64),
        "two": np.array([7, -7], np.int64),
        "extremes": np.array([I64.min, I64.max, 0, -1, 1, I64.max, I64.min, I64.min], np.int64),
        "alternating-extremes": np.tile(np.array([I64.min, I64.max], np.int64), 100),
        "random-64bit": rng.integers(I64.min, I64.max, 500, dtype=np.int64, endpoint=True),
        "constant-run": np.full(5000, -123456789, np.int64),
        "zeros": np.zeros(1000, np.int64),
        "regular-10s": T0 + np.arange(1024, dtype=np.int64) * 10_000_000_000,
        "jitter-ms": T0
        + np.arange(1024, dtype=np.int64) * 10_000_000_000
        + rng.integers(-25, 26, 1024) * 10**6,
        "regular-with-gap": np.delete(T0 + np.arange(1100, dtype=np.int64) * 10**9, np.s_[500:576]),
        "descending": T0 - np.arange(300, dtype=np.int64) * 1000,
        "walk": walk,
        "counter": np.cumsum(rng.poisson(1000, 1024)).astype(np.int64),
        "small-random": rng.integers(-3, 4, 777).astype(np.int64),
        "runs": np.repeat(rng.integers(-5, 5, 40), rng.integers(1, 300, 40)).astype(np.int64),
        "wide-deltas": np.cumsum(rng.integers(-(2**61), 2**61, 300, dtype=np.int64)),
        "one-outlier": np.where(np.arange(1000) == 500, I64.max, 5).astype(np.int64),
    }


def _uints() -> dict[str, np.ndarray]:
    rng = _rng()
    return {
        "empty": np.array([], np.uint64),
        "one-max": np.array([U64.max], np.uint64),
        "extremes": np.array([0, U64.max, 1, U64.max - 1, 2**63, 2**63 - 1], np.uint64),
        "random": rng.integers(0, U64.max, 300, dtype=np.uint64, endpoint=True),
        "constant-max": np.full(3000, U64.max, np.uint64),
        "counter": np.cumsum(rng.integers(0, 100, 1024)).astype(np.uint64),
        "small": rng.integers(0, 10, 500).astype(np.uint64),
    }


def _floats() -> dict[str, np.ndarray]:
    rng = _rng()
    nan_payload = np.array([0x7FF0000000000123, 0xFFF8000000000001], np.uint64).view(np.float64)
    temp = np.round(20 + np.cumsum(rng.normal(0, 0.05, 1024)), 2)
    temp_gaps = temp.copy()
    temp_gaps[[3, 100, 101, 900]] = [np.nan, np.inf, -0.0, 1e300]
    return {
        "empty": np.array([], np.float64),
        "one": np.array([3.25]),
        "one-nan": np.array([np.nan]),
        "specials": np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 5e-324, -5e-324, 1.7976931348623157e308]),
        "nan-payloads": np.concatenate([nan_payload, [np.nan, 1.0]]),
        "negative-zeros": np.full(500, -0.0),
        "constant-run": np.full(4000, 21.5),
        "nan-run": np.full(300, np.nan),
        "random": rng.random(700),
        "random-normal": rng.normal(0, 1e6, 300),
        "sensor-2dp": temp,
        "sensor-3dp": np.round(50 + np.cumsum(rng.normal(0, 0.05, 1024)), 3),
        "sensor-with-gaps": temp_gaps,
        "integers-as-floats": rng.integers(-1000, 1000, 600).astype(np.float64),
        "big-integers-as-floats": np.array([2.0**53, 2.0**53 + 2, -(2.0**60), 1e18]),
        "tiny": rng.random(200) * 1e-300,
    }


def _bools() -> dict[str, np.ndarray]:
    rng = _rng()
    return {
        "empty": np.array([], np.bool_),
        "one-true": np.array([True]),
        "one-false": np.array([False]),
        "random": rng.random(1024) < 0.5,
        "all-true": np.ones(5000, np.bool_),
        "all-false": np.zeros(3000, np.bool_),
        "long-runs": np.repeat(np.arange(30) % 2 == 0, rng.integers(1, 400, 30)),
        "sparse": rng.random(2000) < 0.01,
        "odd-length": rng.random(13) < 0.5,
    }


def _strs() -> dict[str, np.ndarray]:
    rng = _rng()
    hosts = np.array([f"host_{i}" for i in range(10)], dtype=object)

    def obj(items: list[str]) -> np.ndarray:
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out

    return {
        "empty": obj([]),
        "one": obj(["x"]),
        "one-empty-string": obj([""]),
        "empty-strings": obj([""] * 100),
        "hosts": hosts[rng.integers(0, 10, 1024)],
        "constant": obj(["us-west-2"] * 2000),
        "unique": obj([f"req-{i:08x}-{rng.integers(0, 2**32)}" for i in range(500)]),
        "unicode": obj(["héllo", "日本語", "emoji 😀", "\x00nul", "tab\tnew\nline", "😀" * 50] * 20),
        "surrogates": obj(["\ud800", "ok", "a\udfffb", "ok"] * 10),
        "long": obj(["x" * 100_000, "y", "x" * 100_000]),
    }


BOUNDARY: dict[str, dict[str, np.ndarray]] = {
    "time": _ints(),
    "int": _ints(),
    "uint": _uints(),
    "float": _floats(),
    "bool": _bools(),
    "str": _strs(),
}


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact equality: dtype, length and bits (NaN payloads and -0.0 included); str by value."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return all(type(x) is str for x in a) and a.tolist() == b.tolist()
    return a.tobytes() == b.tobytes()
