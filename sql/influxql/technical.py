"""InfluxDB 1.x's technical analysis functions over one series' points, as numba kernels.

Every kernel takes the series' values (float64, in query order, nulls already left out) and
answers a value and a validity per point; :func:`technical` then drops the first ``hold_period``
points (InfluxDB's default when the argument is absent or -1: :func:`default_hold`).

The rules, found by comparing with InfluxDB 1.6's answers (tests/influxql/corpus/05_transforms.iql):

- An exponential moving average of period ``p`` fed its ``k``-th value ``x`` moves
  ``e += a * (x - e)`` with ``a = 2 / (min(k, p) + 1)`` under the ``'exponential'`` warmup (the
  first value is taken as it is); under ``'simple'`` it is the running mean of its first ``p``
  values and ``a = 2 / (p + 1)`` after them. It is warm once fed ``p`` values.
- double/triple_exponential_moving_average are ``2*e1 - e2`` and ``3*e1 - 3*e2 + e3``, each ``e``
  the moving average of the one before; under ``'simple'`` a stage is fed only once the stage
  before it is warm, and a stage fed nothing yet stands for its input's value.
  triple_exponential_derivative is ``100 * (e3 - e3') / e3'`` (``e3'`` at the previous point); a
  division by zero gives no point.
- relative_strength_index, chande_momentum_oscillator (``'exponential'``/``'simple'``): moving
  averages ``U`` and ``D`` of the rises and falls between points, the first point rising (or
  falling) from 0, warming up as above over ``p + 1`` values and moving by ``1 / p`` after them; ``100 * U / (U + D)`` and ``100 * (U - D) / (U + D)``, null
  where ``U + D`` is 0. chande_momentum_oscillator's ``'none'``: ``100 * (x - x[-p]) / sum |x - x'|``
  over the last ``p`` changes (fewer at the start; 0 over no change).
- kaufmans_efficiency_ratio: ``|x - x[-p]| / sum |x - x'|`` over the last ``p`` changes, the series
  starting from a 0 before its first point (0 over no change). kaufmans_adaptive_moving_average:
  ``k = k' + s * (x - k')`` with ``s = (ER * (2/3 - 2/31) + 2/31)**2``, where ``k'`` is the previous
  point's value (that 0 first) up to point ``p``, and the previous ``k`` after it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TECHNICAL = {
    "exponential_moving_average",
    "double_exponential_moving_average",
    "triple_exponential_moving_average",
    "triple_exponential_derivative",
    "relative_strength_index",
    "chande_momentum_oscillator",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
}
WITH_WARMUP = TECHNICAL - {"kaufmans_efficiency_ratio", "kaufmans_adaptive_moving_average"}
# the smallest hold_period each accepts
MIN_HOLD = {"triple_exponential_derivative": 1}


def default_warmup(name: str) -> str:
    return "none" if name == "chande_momentum_oscillator" else "exponential"


def default_hold(name: str, period: int, warmup: str) -> int:
    """InfluxDB's hold_period when none is given (or -1)."""
    simple = warmup == "simple"
    if name == "exponential_moving_average":
        return period - 1
    if name == "double_exponential_moving_average":
        return 2 * (period - 1) if simple else period - 1
    if name == "triple_exponential_moving_average":
        return 3 * (period - 1) if simple else period - 1
    if name == "triple_exponential_derivative":
        return 3 * (period - 1) + 1 if simple else period
    if name == "chande_momentum_oscillator" and warmup == "none":
        return period - 1
    return period


@njit(cache=True, nogil=True)
def _ema_step(state: np.ndarray, i: int, x: float, warm: int, alpha: float, simple: bool) -> None:
    """Feed ``x`` to the moving average in ``state[i]`` (count) and ``state[i + 1]`` (value): warm
    after ``warm`` values, moving by ``alpha`` after them."""
    k = state[i] + 1.0
    state[i] = k
    if k <= warm:
        a = 1.0 / k if simple else 2.0 / (k + 1.0)
    else:
        a = alpha
    state[i + 1] += a * (x - state[i + 1])


@njit(cache=True, nogil=True)
def _ema_chain(x: np.ndarray, period: int, simple: bool, stages: int) -> np.ndarray:
    """The values of ``stages`` chained moving averages at every point: shape (stages, n)."""
    n = len(x)
    out = np.empty((stages, n))
    state = np.zeros(2 * stages)
    for t in range(n):
        v = x[t]
        feed = True
        for s in range(stages):
            if feed:
                _ema_step(state, 2 * s, v, period, 2.0 / (period + 1.0), simple)
            if state[2 * s] > 0:
                v = state[2 * s + 1]
            out[s, t] = v
            # under 'simple', the next stage waits for this one to be warm
            feed = feed and (not simple or state[2 * s] >= period)
    return out


@njit(cache=True, nogil=True)
def _rise_fall(x: np.ndarray, period: int, simple: bool, oscillator: bool) -> tuple[np.ndarray, np.ndarray]:
    n = len(x)
    out = np.zeros(n)
    valid = np.zeros(n, np.bool_)
    state = np.zeros(4)
    prev = 0.0
    for t in range(n):
        c = x[t] - prev
        prev = x[t]
        _ema_step(state, 0, c if c > 0 else 0.0, period + 1, 1.0 / period, simple)
        _ema_step(state, 2, -c if c < 0 else 0.0, period + 1, 1.0 / period, simple)
        u = state[1]
        d = state[3]
        if u + d != 0:
            out[t] = 100.0 * ((u - d) if oscillator else u) / (u + d)
            valid[t] = True
    return out, valid


@njit(cache=True, nogil=True)
def _efficiency(y: np.ndarray, period: int) -> np.ndarray:
    """|y[t] - y[t - p]| / sum |y[i] - y[i - 1]| for t >= 1 (fewer changes at the start), signed."""
    n = len(y)
    out = np.zeros(n)
    path = 0.0
    for t in range(1, n):
        path += abs(y[t] - y[t - 1])
        start = t - period
        if start > 0:
            path -= abs(y[start] - y[start - 1])
        else:
            start = 0
        if path != 0:
            out[t] = (y[t] - y[start]) / path
    return out


@njit(cache=True, nogil=True)
def _kama(x: np.ndarray, er: np.ndarray, period: int) -> np.ndarray:
    n = len(x)
    out = np.empty(n)
    fast = 2.0 / 3.0
    slow = 2.0 / 31.0
    prev_x = 0.0
    k = 0.0
    for t in range(n):
        sc = er[t] * (fast - slow) + slow
        sc = sc * sc
        base = prev_x if t <= period else k
        k = base + sc * (x[t] - base)
        out[t] = k
        prev_x = x[t]
    return out


def technical(name: str, x: np.ndarray, period: int, hold: int, warmup: str) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the points answered, their values) of ``name`` over ``x``."""
    n = len(x)
    simple = warmup == "simple"
    valid = np.ones(n, bool)
    if name in (
        "exponential_moving_average",
        "double_exponential_moving_average",
        "triple_exponential_moving_average",
    ):
        stages = {"exponential": 1, "double": 2, "triple": 3}[name.split("_", 1)[0]]
        e = _ema_chain(x, period, simple, stages)
        if stages == 1:
            out = e[0]
        elif stages == 2:
            out = 2.0 * e[0] - e[1]
        else:
            out = 3.0 * e[0] - 3.0 * e[1] + e[2]
    elif name == "triple_exponential_derivative":
        e3 = _ema_chain(x, period, simple, 3)[2]
        out = np.full(n, np.nan)
        with np.errstate(all="ignore"):
            out[1:] = 100.0 * (e3[1:] - e3[:-1]) / e3[:-1]
        valid = np.isfinite(out)
        valid[:hold] = False
        keep = np.flatnonzero(valid)
        return keep, out[keep]
    elif name in ("relative_strength_index", "chande_momentum_oscillator") and warmup != "none":
        out, valid = _rise_fall(x, period, simple, name == "chande_momentum_oscillator")
    elif name == "chande_momentum_oscillator":
        out = 100.0 * _efficiency(x, period)
    else:
        er = np.abs(_efficiency(np.concatenate(([0.0], x)), period)[1:])
        out = er if name == "kaufmans_efficiency_ratio" else _kama(x, er, period)
    keep = np.arange(min(hold, n), n)
    return keep, np.where(valid[keep], out[keep], np.nan)
