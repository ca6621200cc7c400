"""InfluxDB 1.x's ``/query`` endpoint: InfluxQL over HTTP, answered in InfluxDB's JSON or CSV.

    GET|POST /query?q=<statements>&db=&rp=&epoch=&chunked=&chunk_size=&pretty=&params=

- ``q`` may hold several statements separated by ``;`` (also in a POST form body). GET runs
  everything but, as InfluxDB 1.x, adds a deprecation message to statements that write.
- The answer is ``{"results":[{"statement_id":0,"series":[{"name","tags","columns","values"}]}]}``
  with Go's JSON conventions (keys left out when empty, floats in shortest form, ``<>&`` escaped);
  a statement's error goes inside its result with HTTP 200, and the statements after it are
  answered "not executed" (under the failed statement's id, as InfluxDB 1.6 does). A query that
  does not parse is HTTP 400 ``{"error":"error parsing query: ..."}``.
- ``epoch=ns|u|µ|ms|s|m|h`` gives times as integers in that unit (else RFC3339, in the query's
  tz()); ``pretty=true`` indents; ``chunked=true`` streams one JSON object per line, one series piece
  of at most ``chunk_size`` (default 10000) rows each, with ``partial`` set while more follows.
- ``Accept: application/csv`` (or text/csv) gives CSV: ``name,tags,<columns>`` headers, epoch
  nanosecond times, a blank line between statements; errors are left out, as InfluxDB does.
- ``params`` is a JSON object whose values replace ``$name`` bind parameters.

Execution runs in the thread pool, one statement at a time, so a chunked answer starts streaming
before the later statements have run.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import functools
import io
import json
import logging
import math
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from aiohttp import web

from compat.influx._rowsjson import CONST, INT, TEXT, TIME, TIME_WIDTH, join_rows, seconds_text
from compat.influx.auth import AuthError, HttpAuth
from sql.immediate import Overrun
from sql.influxql import ast as A
from sql.influxql import stats
from sql.influxql.columns import every_valid
from sql.influxql.compile import condition_expr
from sql.influxql.execute import StatementResult, iter_results
from sql.influxql.functions import Col
from sql.influxql.parse_cache import condition_plan, parse_cached_keyed
from sql.influxql.parser import ParseError
from sql.influxql.series import Series
from sql.influxql.values import MIN_TIME, epoch_value, format_float, format_time
from tsgres.config import Config
from tsgres.http import INFLUX_VERSION

log = logging.getLogger("tsgres.influx.query")

DEFAULT_CHUNK_SIZE = 10000
EPOCHS = ("n", "ns", "u", "ms", "s", "m", "h")  # InfluxDB 1.x; anything else gives nanoseconds


def _headers() -> dict[str, str]:
    return {"X-Influxdb-Version": INFLUX_VERSION, "X-Influxdb-Build": "OSS"}


# -- JSON as Go writes it ----------------------------------------------------------------------------------------
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


@functools.lru_cache(maxsize=65536)  # names, tags and words recur in every answer
def _str(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return _HTML_RE.sub(lambda m: _HTML[m.group()], out) if _HTML_RE.search(out) else out


class UnsupportedValue(ValueError):
    """A value Go's JSON encoder refuses (an infinity): InfluxDB then answers with the error text."""

    def body(self) -> bytes:
        return (
            "json: error calling MarshalJSON for type httpd.Response: json: error calling MarshalJSON "
            f"for type *query.Result: json: unsupported value: {self}\n"
        ).encode()


def _value(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            raise UnsupportedValue("+Inf" if v > 0 else "-Inf")
        return format_float(v)  # NaN -> null
    if isinstance(v, str):
        return v if type(v) is RawJSON else _str(v)
    if isinstance(v, list):
        return "[" + ",".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{_str(k)}:{_value(x)}" for k, x in v.items()) + "}"
    return _str(str(v))


def _word_text(w: Any) -> str:
    """_value's text of a word of a dictionary of texts (a text, or None)."""
    if type(w) is str:
        return _str(w)
    return _value(w)


class RawJSON(str):
    """Text that is already JSON (a columnar series' values), written as it is."""


class Encoder:
    """Series and results as InfluxDB 1.x's JSON (times by ``epoch``)."""

    def __init__(self, epoch: str | None, pretty: bool) -> None:
        self.epoch = epoch
        self.pretty = pretty
        self._columns: dict[int, tuple[list[str], RawJSON]] = {}  # the series of a result share theirs

    def rows(self, s: Series, rows: list[list[Any]]) -> list[list[Any]]:
        ti = s.time_index
        if ti is None:
            return rows
        out = []
        for r in rows:
            t = r[ti]
            r = list(r)
            if isinstance(t, int):
                r[ti] = epoch_value(t, self.epoch) if self.epoch else format_time(t, s.tz)
            out.append(r)
        return out

    def series_obj(self, s: Series, partial: bool, values: RawJSON | None = None) -> dict[str, Any] | RawJSON:
        """The series' object: a dict to indent (pretty), else its JSON text."""
        if not self.pretty:
            return self._series_json(s, partial, values)
        o: dict[str, Any] = {}
        if s.name:
            o["name"] = s.name
        if s.tags:
            o["tags"] = dict(sorted(s.tags.items()))
        if s.columns:
            o["columns"] = s.columns
        if len(s):
            o["values"] = self.rows(s, s.values)
        if partial:
            o["partial"] = True
        return o

    def _series_json(self, s: Series, partial: bool, values: RawJSON | None) -> RawJSON:
        parts = []
        if s.name:
            parts.append('"name":' + _str(s.name))
        if s.tags:
            parts.append('"tags":{' + ",".join(map(_tag_text, sorted(s.tags.items()))) + "}")
        if s.columns:
            parts.append('"columns":' + self._columns_json(s.columns))
        if values is None and len(s):  # (series_objs gives the values of series with rows)
            values = self.values_json([s])[0] if s.columnar else RawJSON(_value(self.rows(s, s.values)))
        if values is not None:
            parts.append('"values":' + values)
        if partial:
            parts.append('"partial":true')
        return RawJSON("{" + ",".join(parts) + "}")

    def _columns_json(self, columns: list[str]) -> RawJSON:
        hit = self._columns.get(id(columns))
        if hit is not None and hit[0] is columns:
            return hit[1]
        text = _columns_text(tuple(columns))
        self._columns[id(columns)] = (columns, text)
        return text

    def series_objs(self, series: list[Series]) -> list[dict[str, Any] | RawJSON]:
        """The series of one result; columnar ones of the same column types formatted together."""
        values: dict[int, RawJSON] = {}
        if not self.pretty and len(series) == 1:  # (most answers: nothing to group)
            s = series[0]
            if s.columnar and len(s):
                values[0] = self.values_json(series)[0]
        elif not self.pretty:
            alike: dict[tuple, list[int]] = {}
            for i, s in enumerate(series):
                if s.columnar and len(s):
                    if s.block is not None:  # rows of one result: formatted from its columns
                        key: tuple = (id(s.tz), id(s.block[0]))
                    else:
                        assert s.cols is not None
                        key = (id(s.tz), tuple((c.values.dtype.str, id(c.words)) for c in s.cols))
                    alike.setdefault(key, []).append(i)
            for idxs in alike.values():
                for i, v in zip(idxs, self.values_json([series[i] for i in idxs]), strict=True):
                    values[i] = v
        if self.pretty:
            return [self.series_obj(s, s.partial, values.get(i)) for i, s in enumerate(series)]
        text = self._series_json
        return [text(s, s.partial, values.get(i)) for i, s in enumerate(series)]

    def values_json(self, series: list[Series]) -> list[RawJSON]:
        """The rows of columnar series (of one tz and the same column types) as JSON, formatted a
        column at a time over all of them."""
        first = series[0]
        if first.block is not None:  # every series' rows are a range of this block's
            times, cols = _block_rows(series)
        elif len(series) == 1:
            assert first.times is not None and first.cols is not None
            times, cols = first.times, first.cols
        else:
            assert first.cols is not None
            times = np.concatenate([s.times for s in series])  # type: ignore[misc]
            cols = [_concat([s.cols[j] for s in series]) for j in range(len(first.cols))]  # type: ignore[index]
        if len(times) * (len(cols) + 1) <= SMALL_CELLS:
            return _small_values_json(series, times, cols, self.epoch, first.tz)
        # integers written by the joining kernel; other cells formatted by Arrow's kernels a column
        # at a time; rows and series joined by the kernel (compat/influx/_rowsjson.py)
        slots = [_time_slot(times, self.epoch, first.tz), *_row_slots(cols)]
        return [RawJSON(text) for text in join_rows(len(times), slots, [len(s) for s in series])]

    def result_obj(
        self, r: StatementResult, series: list[dict[str, Any] | RawJSON], partial: bool = False
    ) -> dict[str, Any]:
        o: dict[str, Any] = {"statement_id": r.statement_id}
        if series:
            o["series"] = series
        if r.messages:
            o["messages"] = r.messages
        if partial:
            o["partial"] = True
        if r.error:
            o["error"] = r.error
        return o

    def dumps(self, o: Any) -> bytes:
        if self.pretty:
            return _pretty(o, 0).encode()
        parts: list[str] = []
        _emit(o, parts)
        return "".join(parts).encode()


@functools.lru_cache(maxsize=65536)  # a tag's key and value recur in every answer that groups by it
def _tag_text(item: tuple[str, Any]) -> str:
    """``"key":value`` of a series' tag."""
    return f"{_str(item[0])}:{_value(item[1])}"


@functools.lru_cache(maxsize=4096)  # a statement template's columns, in every answer to it
def _columns_text(columns: tuple[str, ...]) -> RawJSON:
    return RawJSON(_value(list(columns)))


def _emit(v: Any, out: list[str]) -> None:
    """_value's text as pieces: the answer's objects are joined once at the end, not at every level
    (a large series' values would be copied once per level)."""
    if isinstance(v, dict):
        out.append("{")
        for i, (k, x) in enumerate(v.items()):
            out.append(f",{_str(k)}:" if i else f"{_str(k)}:")
            _emit(x, out)
        out.append("}")
    elif isinstance(v, list) and v and isinstance(v[0], dict):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _emit(x, out)
        out.append("]")
    else:
        out.append(_value(v))


# -- small answers: a cell at a time ---------------------------------------------------------------------------
# Below this many cells the dozen Arrow and numpy calls of the column-wise path cost more than
# formatting each cell in Python (a TSBS single-groupby answer is 60 rows x 2 columns).
SMALL_CELLS = 1000
_TIME_TEXT: dict[int, str] = {}  # quoted RFC3339 of UTC times: windows recur in every answer
_MAX_TIME_TEXT = 65536


def _small_values_json(
    series: list[Series], times: np.ndarray, cols: list[Col], epoch: str | None, tz: Any
) -> list[RawJSON]:
    """values_json's text for few cells: each cell formatted as _value formats it, and each series'
    rows written by one ``%`` of its template (_rows_format) over its cells in row order (a Python
    step per series, not per row or cell)."""
    texts = _time_texts(times.tolist(), epoch, tz)
    width = len(cols) + 1
    cells = "%s"
    columns: list[list[Any]] = [texts]
    for c in cols:
        if c.values.dtype.kind in "iu":  # integers (TSBS's fields, counts): str(int)'s text by %d
            values = c.values.tolist()
            if every_valid(c.valid):
                cells += ",%d"
            else:  # (nulls written by %s)
                held = np.array(values, dtype=object)
                held[~c.valid] = "null"
                values = held.tolist()
                cells += ",%s"
            columns.append(values)
        else:
            cells += ",%s"
            columns.append(_cells(c))
    flat: list[Any]
    if width == 1:
        flat = texts
    else:
        flat = [None] * (len(texts) * width)
        for j, column in enumerate(columns):
            flat[j::width] = column
    if len(series) == 1:
        return [RawJSON(_rows_format(len(texts), cells) % tuple(flat))]
    out = []
    lo = 0
    for s in series:
        hi = lo + len(s) * width
        out.append(RawJSON(_rows_format(len(s), cells) % tuple(flat[lo:hi])))
        lo = hi
    return out


@functools.lru_cache(maxsize=1024)  # by row count: a template's answers have one or a few
def _rows_format(n: int, cells: str) -> str:
    """``[[<cells>],[<cells>],...]`` of ``n`` rows, a % format of their cells in row order."""
    return "[[" + "],[".join([cells] * n) + "]]"


def _time_texts(times: list[int], epoch: str | None, tz: Any) -> list[str]:
    if epoch:
        div = _EPOCH_DIV[epoch]
        return [str(t // div) if t >= 0 else str(-(-t // div)) for t in times]
    if tz is not None and tz is not dt.UTC:
        return [f'"{format_time(t, tz)}"' for t in times]
    cache = _TIME_TEXT
    out = list(map(cache.get, times))
    if None not in out:
        return out  # type: ignore[return-value]
    # times not formatted yet: all of them formatted again by the kernel (~0.1 us a time, less than
    # picking out the new ones), or else the new ones one by one (~2.5 us each)
    texts = _utc_texts(np.array(times, np.int64))
    if texts is None:
        texts = [o if o is not None else f'"{format_time(t)}"' for t, o in zip(times, out, strict=True)]
    if len(cache) + len(times) > _MAX_TIME_TEXT:
        cache.clear()
    cache.update(zip(times, texts, strict=True))
    return texts


def _utc_texts(t: np.ndarray) -> list[str] | None:
    """Quoted RFC3339 texts of UTC times (ns) of whole seconds in years 1000-9999, formatted at once
    by the kernel (compat/influx/_rowsjson.py); None when a time is outside that."""
    if not len(t):
        return []
    sec, frac = np.divmod(t, 10**9)
    if frac.any() or sec.min() < _YEAR_1000 or sec.max() >= _YEAR_10000:
        return None
    text = seconds_text(sec).tobytes().decode("ascii")
    return [text[i : i + TIME_WIDTH] for i in range(0, len(text), TIME_WIDTH)]


def _float_cell(x: float) -> str:
    """_value's text of a float: Python's repr has Go's shortest digits, positional between 1e-4
    and 1e16 (Go's is positional from 1e-6 to 1e21: the rest, NaN and infinities go to _value)."""
    if 1e-4 <= abs(x) < 1e16 or x == 0:
        r = repr(x)
        return r[:-2] if r.endswith(".0") else r
    return _value(x)


def _cells(c: Col) -> list[str]:
    """A column's cells as JSON texts (json_cells' texts, as a list)."""
    v = c.values
    kind = v.dtype.kind
    if kind == "f":
        f = v.astype(np.float64, copy=False)
        vals = f.tolist()
        out = [r[:-2] if r.endswith(".0") else r for r in map(repr, vals)]  # _float_cell's text
        a = np.abs(f)
        with np.errstate(invalid="ignore"):
            odd = ~(((a >= 1e-4) & (a < 1e16)) | (f == 0))
        if odd.any():  # exponents, NaN, infinities: as _float_cell gives them
            for i in np.flatnonzero(odd).tolist():
                out[i] = _float_cell(vals[i])
    elif kind in "iu":
        out = list(map(str, v.tolist()))
    elif kind == "b":
        out = ["true" if x else "false" for x in v.tolist()]
    elif c.codes is not None and c.words is not None and len(c.words) <= 2 * len(c.codes):
        texts = list(map(_word_text, c.words.tolist()))  # each word once
        out = list(map(texts.__getitem__, c.codes.tolist()))
    else:
        out = [_value(x) for x in v.tolist()]
    valid = c.valid
    if not every_valid(valid):
        out = [x if ok else "null" for x, ok in zip(out, valid.tolist(), strict=True)]
    return out


# -- a column of values as JSON text, vectorised (the same text _value gives each value) ---------------------
_EPOCH_DIV = {"n": 1, "ns": 1, "u": 1000, "µ": 1000, "us": 1000, "ms": 10**6, "s": 10**9}
_EPOCH_DIV |= {"m": 60 * 10**9, "h": 3600 * 10**9}
_YEAR_1000 = -30610224000  # 1000-01-01T00:00:00Z in seconds
_YEAR_10000 = 253402300800  # 10000-01-01T00:00:00Z


def time_cells(t: np.ndarray, epoch: str | None, tz: Any) -> pa.Array:
    """Times (ns) as epoch integers or quoted RFC3339 text (format_time's)."""
    t = np.asarray(t, np.int64)
    if epoch:
        div = _EPOCH_DIV[epoch]
        q = np.abs(t) // div  # truncated toward zero, as Go
        return pa.array(np.where(t >= 0, q, -q)).cast(pa.string())
    utc = tz is None or tz is dt.UTC
    if utc and 0 < len(t) <= _MAX_WHOLE_CELLS:
        sec, frac = np.divmod(t, 10**9)
        if not frac.any() and sec.min() >= _YEAR_1000 and sec.max() < _YEAR_10000:
            return _whole_seconds_cells(sec)  # windows' and most stored points' times
    uniq, inv = np.unique(t, return_inverse=True)
    sec, frac = np.divmod(uniq, 10**9)
    if utc and len(uniq) and sec[0] >= _YEAR_1000 and sec[-1] < _YEAR_10000:
        base = np.datetime_as_string(sec.astype("datetime64[s]"), unit="s")
        text = [
            f'"{b}Z"' if not f else f'"{b}.{f:09d}'.rstrip("0") + 'Z"'
            for b, f in zip(base.tolist(), frac.tolist(), strict=True)
        ]
    else:
        text = [f'"{format_time(x, tz)}"' for x in uniq.tolist()]
    return pa.array(text, pa.string()).take(pa.array(inv.reshape(-1)))


_MAX_WHOLE_CELLS = (2**31 - 1) // TIME_WIDTH  # int32 offsets


def _whole_seconds_cells(sec: np.ndarray) -> pa.Array:
    """Quoted RFC3339 texts of UTC times of whole seconds in years 1000-9999, as an Arrow string
    array over the kernel's bytes (compat/influx/_rowsjson.py)."""
    n = len(sec)
    offsets = np.arange(0, (n + 1) * TIME_WIDTH, TIME_WIDTH, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(seconds_text(sec)))


def _block_rows(series: list[Series]) -> tuple[np.ndarray, list[Col]]:
    """The rows of series of one block, in the series' order: a slice of the block when they follow
    each other there, else taken at once."""
    block = series[0].block[0]  # type: ignore[index]
    if len(series) == 1:
        lo = series[0].block[1]  # type: ignore[index]
        n = len(series[0])
        if lo == 0 and n == len(block.times):  # the whole block (one series' result)
            return block.times, block.cols
        part1 = slice(lo, lo + n)
        return block.times[part1], [c.take(part1) for c in block.cols]
    starts = np.array([s.block[1] for s in series], np.int64)  # type: ignore[index]
    lens = np.array([len(s) for s in series], np.int64)
    part: slice | np.ndarray
    if (starts[1:] == starts[:-1] + lens[:-1]).all():
        part = slice(int(starts[0]), int(starts[-1] + lens[-1]))
    else:
        ends = np.cumsum(lens)
        part = np.repeat(starts - (ends - lens), lens) + np.arange(int(ends[-1]))
    return block.times[part], [c.take(part) for c in block.cols]


def _concat(cols: list[Col]) -> Col:
    """Columns of the same dtype (and dictionary, if any) as one."""
    first = cols[0]
    values = np.concatenate([c.values for c in cols])
    valid = np.concatenate([c.valid for c in cols])
    if first.codes is not None and all(c.codes is not None for c in cols):
        codes = np.concatenate([c.codes for c in cols])  # type: ignore[misc]
        return Col(values, valid, first.kind, codes, first.words)
    return Col(values, valid, first.kind)


def _time_slot(times: np.ndarray, epoch: str | None, tz: Any) -> tuple[int, Any]:
    """The rows' time cells as a join_rows slot: epoch integers (time_cells' numbers) or texts."""
    if epoch:
        t = np.asarray(times, np.int64)
        q = np.abs(t) // _EPOCH_DIV[epoch]  # truncated toward zero, as Go
        return INT, (np.where(t >= 0, q, -q), np.ones(len(t), bool))
    if (tz is None or tz is dt.UTC) and len(times):
        t = np.asarray(times, np.int64)
        if not (t % 10**9).any():  # (int64 ns span the years 1677-2262: four digits, as TIME needs)
            return TIME, t  # windows' and most stored points' times: written by the kernel
    return TEXT, time_cells(times, epoch, tz)


def _row_slots(cols: list[Col]) -> list[tuple[int, Any]]:
    """join_rows slots of the columns: where a column has one text in every row (the tags of SELECT
    * over one series) that text, neighbouring ones joined; int64 columns as themselves (written by
    the kernel); the others' cells as columns_cells gives them."""
    const = [_constant_cell(c) for c in cols]
    ints = [k is None and c.values.dtype == np.int64 for c, k in zip(cols, const, strict=True)]
    others = [c for c, k, i in zip(cols, const, ints, strict=True) if k is None and not i]
    cells = iter(columns_cells(others) if others else [])
    out: list[tuple[int, Any]] = []
    run: list[str] = []
    for c, k, i in zip(cols, const, ints, strict=True):
        if k is not None:
            run.append(k)
            continue
        if run:
            out.append((CONST, ",".join(run)))
            run = []
        out.append((INT, (c.values, c.valid)) if i else (TEXT, next(cells)))
    if run:
        out.append((CONST, ",".join(run)))
    return out


def _constant_cell(c: Col) -> str | None:
    """json_cells' text of every cell of a column of one non-null text, integer or boolean in
    every row; None for any other column."""
    v = c.values
    if len(v) < 2 or v.dtype.kind == "f":
        return None
    if c.codes is not None and c.words is not None:
        codes = c.codes
        if codes[0] != codes[-1] or not every_valid(c.valid):  # (the ends differ: no test of every row)
            return None
        # (a dictionary of one word and null's, as text_cols gives a column of one text: no row to
        # compare, its rows being valid)
        if len(c.words) > 2 and (codes != codes[0]).any():
            return None
        return _value(c.words[codes[0]])
    if v.dtype.kind not in "iub" or v[0] != v[-1] or not every_valid(c.valid):
        return None
    if not (v != v[0]).any():
        return _value(v[0].item())
    return None


def columns_cells(cols: list[Col]) -> list[pa.Array]:
    """json_cells of each column; the float columns (of one series' length) formatted as one
    column, the integer ones, and the text ones of one dictionary."""
    out: list[pa.Array | None] = [None] * len(cols)
    groups: dict[Any, list[int]] = {}
    for j, c in enumerate(cols):
        if c.values.dtype in (np.float64, np.int64):
            groups.setdefault(c.values.dtype, []).append(j)
        elif c.codes is not None and c.words is not None:  # texts of one dictionary (raw.text_cols)
            groups.setdefault(id(c.words), []).append(j)
    for same in groups.values():
        if len(same) > 1:
            n = len(cols[same[0]])
            first = cols[same[0]]
            values = np.concatenate([cols[j].values for j in same])
            valid = np.concatenate([cols[j].valid for j in same])
            if first.codes is not None:
                codes = np.concatenate([cols[j].codes for j in same])  # type: ignore[misc]
                cells = json_cells(Col(values, valid, first.kind, codes, first.words))
            else:
                cells = json_cells(Col(values, valid, first.kind))
            for i, j in enumerate(same):
                out[j] = cells.slice(i * n, n)
    return [json_cells(c) if cells is None else cells for c, cells in zip(cols, out, strict=True)]


# Arrow's float-to-text is Go's (shortest digits, positional) for 1e-6 <= |x| < 1e10; exponents
# differ outside (Arrow writes 1e+10, Go 10000000000): those values are formatted by _value
_ARROW_FLOAT_MIN, _ARROW_FLOAT_MAX = 1e-6, 1e10


_SMALL_INT_MIN = -1024
_SMALL_INTS = pa.array([str(i) for i in range(_SMALL_INT_MIN, 4096)], pa.string())


def json_cells(c: Col) -> pa.Array:
    """A column's values as JSON text (what _value gives each value), as an Arrow string array."""
    v, valid = c.values, c.valid
    kind = v.dtype.kind
    if kind == "f":
        v = v.astype(np.float64, copy=False)
        out = pa.array(v).cast(pa.string())
        a = np.abs(v)
        with np.errstate(invalid="ignore"):
            odd = valid & ~((a == 0) | ((a >= _ARROW_FLOAT_MIN) & (a < _ARROW_FLOAT_MAX)))
        if odd.any():  # NaN -> null, an infinity raises UnsupportedValue, the rest as Go writes them
            fix = pa.array([_value(x) for x in v[odd].tolist()], pa.string())
            out = pc.replace_with_mask(out, pa.array(odd), fix)
    elif kind in "iu":
        if len(v) and _SMALL_INT_MIN <= v.min() and v.max() < _SMALL_INT_MIN + len(_SMALL_INTS):
            # (the texts of small integers taken from a table: a third of the cast's time)
            out = _SMALL_INTS.take(pa.array(v.astype(np.int64, copy=False) - _SMALL_INT_MIN))
        else:
            out = pa.array(v).cast(pa.string())
    elif kind == "b":
        out = pa.array(["false", "true"]).take(pa.array(v.astype(np.int8)))
    elif c.codes is not None and c.words is not None and len(c.words) <= 2 * len(c.codes):
        words = pa.array(list(map(_word_text, c.words.tolist())), pa.string())
        out = words.take(pa.array(c.codes))
    else:
        try:
            arr = pa.array(v, pa.string())
        except (pa.ArrowException, TypeError):  # not all text: value by value
            out = pa.array([_value(x) for x in v.tolist()], pa.string())
        else:  # each distinct text encoded once
            enc = arr.dictionary_encode()
            words = pa.array([_str(w) for w in enc.dictionary.to_pylist()] + ["null"], pa.string())
            out = words.take(enc.indices.fill_null(len(enc.dictionary)))
    if not every_valid(valid):
        out = pc.if_else(pa.array(valid), out, pa.scalar("null"))
    return out


def _pretty(v: Any, level: int) -> str:
    """Go's json.MarshalIndent(v, "", "    ")."""
    pad, inner = "    " * level, "    " * (level + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{inner}{_str(k)}: {_pretty(x, level + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(inner + _pretty(x, level + 1) for x in v) + "\n" + pad + "]"
    return _value(v)


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "+Inf" if v > 0 else "-Inf"
        return np.format_float_positional(v, trim="-")
    return str(v)


_TAG_ESC = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\="})


class CsvWriter:
    """InfluxDB 1.x's CSV: a header per statement (and when the columns change), epoch times."""

    def __init__(self, epoch: str | None) -> None:
        self.epoch = epoch
        self.statement_id = -1
        self.started = False

    def write(self, r: StatementResult) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if not r.series:
            return b""
        if r.statement_id != self.statement_id:
            if self.started:
                buf.write("\n")
            self.started = True
            self.statement_id = r.statement_id
            w.writerow(["name", "tags", *r.series[0].columns])
        prev: list[str] | None = None
        for s in r.series:
            if prev is not None and prev != s.columns:
                buf.write("\n")
                w.writerow(["name", "tags", *s.columns])
            prev = s.columns
            tags = ",".join(
                f"{k.translate(_TAG_ESC)}={v.translate(_TAG_ESC)}"
                for k, v in sorted((s.tags or {}).items())
                if v
            )
            for row in s.values:
                out = []
                for i, v in enumerate(row):
                    if i == s.time_index and isinstance(v, int):
                        v = epoch_value(v, self.epoch) if self.epoch else v
                    out.append(_csv_value(v))
                w.writerow([s.name, tags, *out])
        return buf.getvalue().encode()


# -- where a query runs -------------------------------------------------------------------------------------------
# A query expected to take at most this long (CPU) runs on the event loop. A run in the pool holds
# the loop off too while its Python holds the GIL (in slices of sys.getswitchinterval(), 5 ms), and
# costs the hop: high-cpu-1 (~2.5 ms) ran there at 2 ms, ~0.4 ms more CPU and wall time a query.
INLINE_BUDGET_S = 0.005
# ... and one still running after this (wall time) is abandoned at its next scan check and run again
# in the thread pool (SELECTs only run there: nothing was written); SQL for DuckDB never runs there
INLINE_LIMIT_S = 0.01
MAX_SHAPES = 4096


class QueryCosts:
    """What the last queries of each shape (its parse-cache template: the same statements with other
    time bounds and tag values) cost in CPU, and over what time span.

    A query costs roughly its fixed work plus a part that grows with the span it reads, so a shape's
    estimate for a new query is the median of its last three costs, each scaled up by how much longer
    the new span is (never down). CPU time, not wall time: a run in the thread pool waits for the
    GIL and for the thread to wake, and a fresh server's first runs are slow (cold code paths): with
    the last wall time alone a shape whose first runs went to the pool stayed there for a dozen
    queries, each paying the hop. A shape's first run (compiling its template, code paths run for
    the first time) is its estimate only until the second run replaces it.
    The handler runs a query (a SELECT, or a SHOW that only reads: select_span) on the event loop
    when that estimate is within INLINE_BUDGET_S (the hop to a worker thread and back costs ~0.1 ms,
    a tenth of a small query): a shape not seen yet, or one that took longer, goes to the thread
    pool, as everything else (writes, other meta queries, subqueries, chunked answers). Used from
    the event loop only."""

    def __init__(self, budget_s: float = INLINE_BUDGET_S, size: int = MAX_SHAPES) -> None:
        self.budget_s = budget_s
        self.size = size
        # key -> the last (cost s, span ns) runs, at most three
        self._last: OrderedDict[str, tuple[tuple[float, float], ...]] = OrderedDict()
        self._first: set[str] = set()  # keys whose one run is their first

    def estimate(self, key: str, span: float) -> float | None:
        runs = self._last.get(key)
        if runs is None:
            return None
        scaled = sorted(cost * max(1.0, (span + 1.0) / (seen + 1.0)) for cost, seen in runs)
        return scaled[len(scaled) // 2]

    def cheap(self, key: str, span: float) -> bool:
        estimate = self.estimate(key, span)
        return estimate is not None and estimate <= self.budget_s

    def record(self, key: str, span: float, cost_s: float) -> None:
        last = self._last.get(key)
        if last is None or key in self._first:
            # a shape's first run pays its one-time costs (compiling the template, code paths run for
            # the first time): it is the estimate only until the second run replaces it
            self._last[key] = ((cost_s, span),)
            if last is None:
                self._first.add(key)
            else:
                self._first.discard(key)
        else:
            self._last[key] = (*last[-2:], (cost_s, span))
        self._last.move_to_end(key)
        while len(self._last) > self.size:
            self._first.discard(self._last.popitem(last=False)[0])


# meta queries that only read (Grafana's variables, the influx CLI's first questions): like a SELECT,
# on the event loop once their shape is known to be cheap, instead of a hop to the thread pool and
# back (SHOW DATABASES: ~6 us of work, ~250 us of hop)
_META_READS = (
    A.ShowDatabases,
    A.ShowMeasurements,
    A.ShowTagKeys,
    A.ShowTagValues,
    A.ShowFieldKeys,
    A.ShowSeries,
    A.ShowCardinality,
    A.ShowRetentionPolicies,
)


def select_span(
    statements: list[A.Statement],
    now: int,
    conditions: dict[int, tuple[Any, Any]] | None = None,
    template: str | None = None,
) -> float | None:
    """The time span (ns) the statements read, when every one is a plain SELECT of stored
    measurements (no INTO, no subquery) or a SHOW of the catalog and the series index (no span: its
    cost is its shape's, as the last runs of the same statement measured it); None otherwise, or
    when a statement has an error to report. ``conditions`` gets each statement's condition_expr
    result, for the run to reuse. ``template``: the statements' template in the parse cache, whose
    ConditionPlans split their conditions."""
    span = 0.0
    for i, stmt in enumerate(statements):
        if isinstance(stmt, _META_READS):
            continue
        if not isinstance(stmt, A.SelectStatement) or stmt.target is not None:
            return None
        if not all(isinstance(src, A.Measurement) for src in stmt.sources):
            return None
        plan = None if template is None else condition_plan(template, i)
        try:
            if plan is None:
                found = condition_expr(stmt.condition, now, dt.UTC)
            else:
                found = plan.bind(stmt.condition, now, dt.UTC)
        except Exception:  # the statement's own error, reported by the thread pool's run
            return None
        tr = found[1]
        if conditions is not None:
            conditions[id(stmt)] = found
        lo = MIN_TIME if tr.min is None else tr.min
        hi = now if tr.max is None else tr.max  # points after now() are rare: a proxy, not a bound
        span += float(max(hi - lo, 0))
    return span


# -- the request ------------------------------------------------------------------------------------------------
class QueryService:
    def __init__(self, engine: Any, config: Config) -> None:
        from sql.engine import SqlEngine

        self.engine = engine
        self.config = config
        self.sql_engine = SqlEngine(engine)
        self.costs = QueryCosts()
        self.auth = HttpAuth(engine) if config.http_auth_enabled else None  # (None: nobody is checked)

    def close(self) -> None:
        self.sql_engine.close()


QUERY_SERVICE = web.AppKey("influx_query_service", QueryService)


def _flag(v: str) -> bool:
    return v.lower() == "true"


class Answer:
    """A whole (not streamed) /query response: what either HTTP front writes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def response(self) -> web.Response:
        return web.Response(status=self.status, body=self.body, headers=self.headers)


def _error(status: int, message: str, csv_out: bool, pretty: bool = False) -> Answer:
    headers = _headers()
    headers["X-Influxdb-Error"] = message[:1024].strip(" \t\r\n")  # (Go trims header values)
    if csv_out:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([["error"], [message]])
        headers["Content-Type"] = "text/csv"
        return Answer(status, headers, buf.getvalue().encode())
    body = (_pretty({"error": message}, 0) if pretty else '{"error":' + _str(message) + "}") + "\n"
    headers["Content-Type"] = "application/json"
    return Answer(status, headers, body.encode())


class QueryJob:
    """One /query request, its statements parsed: run by :meth:`run_inline` on the event loop when
    its shape is cheap (QueryCosts), else by :meth:`run_pooled` in the thread pool; a chunked answer
    is streamed by the aiohttp handler from :meth:`results`."""

    user: Any = None  # the sql.influxql.users.User asking, when authentication is on (begin_authorized)

    def __init__(
        self,
        service: QueryService,
        method: str,
        params: dict[str, str],
        statements: list[A.Statement],
        key: str,
        csv_out: bool,
        epoch: str | None,
        pretty: bool,
    ) -> None:
        self.service = service
        self.read_only = method == "GET"
        self.params = params
        self.q = params.get("q", "")
        self.statements = statements
        self.key = key
        self.csv_out = csv_out
        self.epoch = epoch
        self.encoder = Encoder(epoch, pretty)
        headers = _headers()
        headers["Content-Type"] = "text/csv" if csv_out else "application/json"
        self.headers = headers
        self.span: float | None = None  # what run_inline found (select_span)
        self.now = time.time_ns()  # now() of every statement
        self.conditions: dict[int, tuple[Any, Any]] = {}  # select_span's, for compile_select
        self.template: str | None = None  # key, when the statements were parsed without bound parameters

    def results(self, loop_deadline: float = 0.0) -> Iterator[StatementResult]:
        service = self.service
        return iter_results(
            service.engine,
            service.sql_engine,
            self.statements,
            self.q,
            database=self.params.get("db", ""),
            rp=self.params.get("rp", ""),
            read_only=self.read_only,
            now=self.now,
            loop_deadline=loop_deadline,
            conditions=self.conditions,
            template=self.template,
            user=self.user,
        )

    def _answer(self, results: Iterator[StatementResult]) -> bytes:
        """Every statement, then the encoding."""
        collected: list[StatementResult] = []
        while (r := _safe_next(results)) is not None:
            collected.append(r)
        if self.csv_out:
            cw = CsvWriter(self.epoch)
            return b"".join(cw.write(r) for r in collected)
        return _encode_all(self.encoder, _merge(collected))

    def _timed(self, loop_deadline: float = 0.0) -> tuple[bytes, float]:
        started = time.thread_time()  # (the CPU of whichever thread runs it: see QueryCosts)
        body = self._answer(self.results(loop_deadline))
        return body, time.thread_time() - started

    def run_inline(self) -> Answer | None:
        """The answer, computed here on the event loop when the shape is cheap; None when it belongs
        in the thread pool (a shape not seen yet or too costly, not a plain SELECT, or a run that
        overran INLINE_LIMIT_S or needed DuckDB: nothing of it was answered)."""
        self.span = span = select_span(self.statements, self.now, self.conditions, self.template)
        if span is None or not self.service.costs.cheap(self.key, span):
            return None
        try:
            body, cost = self._timed(time.perf_counter() + INLINE_LIMIT_S)  # no hop to a worker and back
        except Overrun:
            return None
        self.service.costs.record(self.key, span, cost)
        return Answer(200, self.headers, body)

    async def run_pooled(self) -> Answer:
        """The answer, computed in the thread pool (call :meth:`run_inline` first)."""
        body, cost = await asyncio.get_running_loop().run_in_executor(None, self._timed)
        if self.span is not None:
            self.service.costs.record(self.key, self.span, cost)
        return Answer(200, self.headers, body)


def begin_query(service: QueryService, method: str, params: dict[str, str], accept: str) -> QueryJob | Answer:
    """A /query request's job, or the error answer of a request that cannot run (no ``q``, bad
    ``params``, a query that does not parse). ``params``: the query string's and the form body's."""
    csv_out = "application/csv" in accept or "text/csv" in accept
    q = params.get("q", "")
    if not q.strip():
        return _error(400, 'missing required parameter "q"', csv_out)
    epoch = params.get("epoch") or None
    if epoch is not None and epoch not in EPOCHS:
        epoch = "ns"  # InfluxDB 1.x: any other value gives nanoseconds
    pretty = _flag(params.get("pretty", ""))
    bind: dict[str, Any] = {}
    if params.get("params"):
        try:
            bind = json.loads(params["params"])
        except ValueError as e:
            return _error(400, f"error parsing query parameters: {e}", csv_out)
        if not isinstance(bind, dict):
            return _error(400, "error parsing query parameters: not an object", csv_out)
    try:
        statements, key = parse_cached_keyed(q, bind)
    except ParseError as e:
        return _error(400, f"error parsing query: {e}", csv_out, pretty)
    job = QueryJob(service, method, params, statements, key, csv_out, epoch, pretty)
    if not bind:
        job.template = key
    return job


def begin_authorized(
    service: QueryService, method: str, params: dict[str, str], accept: str, user: Any
) -> QueryJob | Answer:
    """:func:`begin_query` for ``user`` (authentication on, compat/influx/auth.py): the 403 answer
    of a query it may not run, whole, before any of it runs."""
    job = begin_query(service, method, params, accept)
    if isinstance(job, Answer):
        return job
    assert service.auth is not None
    try:
        service.auth.authorize_query(user, job.statements, params.get("db", ""), job.q)
    except AuthError as e:
        return auth_error(e, job.csv_out)
    job.user = user
    return job


def auth_error(e: AuthError, csv_out: bool) -> Answer:
    answer = _error(e.status, e.message, csv_out)
    if e.status == 401:  # (as InfluxDB answers it: a challenge, no X-Influxdb-Error)
        answer.headers["Www-Authenticate"] = 'Basic realm="InfluxDB"'
        del answer.headers["X-Influxdb-Error"]
    return answer


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data"):
            form = await request.post()
            for k, v in form.items():
                if isinstance(v, str):
                    params.setdefault(k, v)
        elif not ctype:
            body = await request.text()
            for k, v in parse_qsl(body, keep_blank_values=True):
                params.setdefault(k, v)
    return params


async def handle_query(request: web.Request) -> web.StreamResponse:
    params = await _params(request)
    service = request.app[QUERY_SERVICE]
    accept = request.headers.get("Accept", "")
    if service.auth is None:
        job = begin_query(service, request.method, params, accept)
    else:
        try:  # (u and p from the query string only, as InfluxDB reads them)
            user = await service.auth.caller(request.query, request.headers.get("Authorization", ""))
        except AuthError as e:
            return auth_error(e, "application/csv" in accept or "text/csv" in accept).response()
        job = begin_authorized(service, request.method, params, accept, user)
    if isinstance(job, Answer):
        return job.response()
    if not _flag(params.get("chunked", "")):
        answer = job.run_inline()
        if answer is None:
            answer = await job.run_pooled()
        return answer.response()
    try:
        chunk_size = int(params.get("chunk_size") or 0) or DEFAULT_CHUNK_SIZE
    except ValueError:
        chunk_size = DEFAULT_CHUNK_SIZE
    loop = asyncio.get_running_loop()
    results = job.results()
    resp = web.StreamResponse(status=200, headers=job.headers)
    await resp.prepare(request)
    cw = CsvWriter(job.epoch)
    while True:
        r = await loop.run_in_executor(None, _safe_next, results)
        if r is None:
            break
        if job.csv_out:
            await resp.write(await loop.run_in_executor(None, cw.write, r))
            continue
        pieces = await loop.run_in_executor(None, _encode_chunks, job.encoder, r, chunk_size)
        for piece in pieces:
            await resp.write(piece)
    await resp.write_eof()
    return resp


def _encode_all(encoder: Encoder, results: list[StatementResult]) -> bytes:
    """The whole answer's JSON (in the thread pool: a large result must not stall the event loop)."""
    try:
        if not encoder.pretty:  # dumps' text of result_obj's objects, written at once
            texts = [_result_json(r, encoder.series_objs(r.series)) for r in results]  # type: ignore[arg-type]
            return ('{"results":[' + ",".join(texts) + "]}\n").encode()
        obj = {"results": [encoder.result_obj(r, encoder.series_objs(r.series)) for r in results]}
        return encoder.dumps(obj) + b"\n"
    except UnsupportedValue as e:
        return e.body()


def _result_json(r: StatementResult, series: list[RawJSON]) -> str:
    """dumps' text of ``result_obj(r, series)`` (series as their JSON texts)."""
    text = '{"statement_id":' + str(r.statement_id)
    if series:
        text += ',"series":[' + ",".join(series) + "]"
    if r.messages:
        text += ',"messages":' + _value(r.messages)
    if r.error:
        text += ',"error":' + _str(r.error)
    return text + "}"


def _encode_chunks(encoder: Encoder, r: StatementResult, size: int) -> list[bytes]:
    out = []
    for make in _chunks(encoder, r, size):
        try:
            out.append(encoder.dumps(make()) + b"\n")
        except UnsupportedValue as e:
            out.append(e.body())
    return out


def _safe_next(results: Iterator[StatementResult]) -> StatementResult | None:
    try:
        return next(results, None)
    except Overrun:
        raise  # (on the event loop past its limit: the caller runs the statements again)
    except Exception as e:  # a bug: report it in the statement's result rather than drop the connection
        log.exception("InfluxQL statement failed")
        return StatementResult(0, error=f"internal error: {type(e).__name__}: {e}")


def _merge(results: list[StatementResult]) -> list[StatementResult]:
    """InfluxDB 1.x merges results with the same statement id (a later one replaces the error)."""
    out: list[StatementResult] = []
    for r in results:
        if out and out[-1].statement_id == r.statement_id:
            prev = out[-1]
            prev.series.extend(r.series)
            prev.messages.extend(r.messages)
            prev.error = r.error or prev.error
            continue
        out.append(r)
    return out


def _chunks(encoder: Encoder, r: StatementResult, size: int) -> Iterator[Callable[[], dict[str, Any]]]:
    """Makers of the answer's pieces (a series of more than ``size`` rows is cut into several)."""
    pieces: list[tuple[Series, bool]] = []
    for s in r.series:
        n = len(s)
        if n <= size:
            pieces.append((s, False))
            continue
        for i in range(0, n, size):
            pieces.append((s.slice(i, i + size), i + size < n))
    if not pieces:
        yield lambda: {"results": [encoder.result_obj(r, [])]}
        return
    for j, (s, partial) in enumerate(pieces):
        last = j == len(pieces) - 1
        res = StatementResult(
            r.statement_id, messages=r.messages if j == 0 else [], error=r.error if last else None
        )
        yield functools.partial(_piece, encoder, res, s, partial, last)


def _piece(encoder: Encoder, res: StatementResult, s: Series, partial: bool, last: bool) -> dict[str, Any]:
    return {"results": [encoder.result_obj(res, [encoder.series_obj(s, partial)], partial=not last)]}


def register(app: web.Application, engine: Any, config: Config) -> None:
    """The registrar for tsgres.http.REGISTRARS: GET and POST /query."""
    service = QueryService(engine, config)
    app[QUERY_SERVICE] = service

    async def close(_app: web.Application) -> None:
        service.close()

    app.on_cleanup.append(close)
    app.router.add_get("/query", handle_query)
    app.router.add_post("/query", handle_query)
    app.router.add_get("/debug/vars", handle_debug_vars)


async def handle_debug_vars(request: web.Request) -> web.Response:
    """GET /debug/vars: the server's statistics as InfluxDB 1.x's expvar JSON (sql/influxql/stats.py),
    what Telegraf's influxdb input reads."""
    service: QueryService = request.app[QUERY_SERVICE]
    body = stats.debug_vars(service.engine, service.sql_engine, sys.argv)
    return web.json_response(body)
