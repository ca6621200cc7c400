"""InfluxDB line protocol → columnar write batches, one whole request body per call.

    >>> r = parse(b"cpu,host=a usage=0.5,count=3i 1700000000000000000\\n")
    >>> r.points, r.batches[0].table, r.batches[0].tag_sets
    (1, 'cpu', [(('host', 'a'),)])

``parse`` returns every good line as rows of one :class:`~columnar.batch.WriteBatch` per measurement
(rows in input order) and every bad line as a :class:`LineError` (a partial write, as InfluxDB does).

How it runs (no Python loop per line): a numba kernel (:mod:`compat.influx._lpkernel`) scans the body
once, validating the grammar and converting numbers and timestamps as it goes; series keys (the raw
``measurement,tags`` bytes) and field keys are grouped by their bytes in numba, so Python decodes,
unescapes and sorts each distinct series key once per body (and caches it across bodies); a second
kernel applies the per-body schema rules and scatters values into columns. Python loops run per
distinct series key, per field name, per measurement and per bad line.

The grammar, with the choices made where InfluxDB versions differ, is in docs/format/line-protocol.md.
In short:

* ``measurement[,tag=value...] field=value[,field=value...] [timestamp]``, one point per line; LF or
  CRLF ends a line; leading whitespace, blank lines and lines starting with ``#`` are skipped; spaces
  or tabs may trail.
* A backslash makes the next byte ordinary. Measurements and field keys unescape ``\\,`` ``\\=``
  ``\\ `` ``\\"`` ``\\\\``; tag keys and values ``\\,`` ``\\=`` ``\\ `` ``\\\\``; string values ``\\"``
  ``\\\\``. Any other backslash is kept as is. A quoted string may contain raw newlines.
* Floats ``1``, ``-1.5``, ``.5``, ``1.``, ``1e3``, ``1.5E-3`` (no ``+1``, NaN or inf); integers ``12i``;
  unsigned ``12u``; booleans ``t T true True TRUE f F false False FALSE``; strings ``"..."``.
* Duplicate field keys: the last wins (with different types the line fails, as in InfluxDB 1.x).
  Duplicate tag keys, a tag named ``time``, an empty tag value: the line fails. A field named ``time`` is dropped; a line with no other field fails.
* Within a body the first type a field takes in a measurement wins; lines giving it another type fail.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from columnar.batch import TagSet, WriteBatch
from columnar.rows import Column
from columnar.types import FieldType
from compat.influx import _lpkernel as k

__all__ = ["PRECISIONS", "LineError", "ParseResult", "parse"]

# precision name → nanoseconds per timestamp unit; 0 means "auto" (guessed per line, see _lpkernel.scan:
# |t| < 5e9 → seconds, < 5e12 → milliseconds, < 5e15 → microseconds, else nanoseconds)
PRECISIONS: dict[str, int] = {
    "ns": 1,
    "n": 1,
    "us": 1_000,
    "u": 1_000,
    "µ": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "auto": 0,
}

EXCERPT_CHARS = 100


@dataclass
class LineError:
    line: int  # 1-based line number in the body (where the point starts)
    message: str  # InfluxDB-like: "unable to parse '<line>': <reason>", or InfluxDB's partial-write reason
    excerpt: str  # the offending line, truncated to EXCERPT_CHARS characters


@dataclass
class ParseResult:
    batches: list[WriteBatch]  # one per measurement, in order of first appearance; rows in input order
    errors: list[LineError]  # every bad line, in input order
    points: int  # number of good lines (= total rows of the batches)


# syntax errors: "unable to parse '<line>': <reason>"; {token} is the offending value or timestamp
_REASONS: dict[int, str] = {
    k.E_MISSING_MEASUREMENT: "missing measurement",
    k.E_MISSING_FIELDS: "missing fields",
    k.E_MISSING_TAG_KEY: "missing tag key",
    k.E_MISSING_TAG_VALUE: "missing tag value",
    k.E_INVALID_TAG_FORMAT: "invalid tag format",
    k.E_MISSING_FIELD_KEY: "missing field key",
    k.E_MISSING_FIELD_VALUE: "missing field value",
    k.E_INVALID_FIELD_FORMAT: "invalid field format",
    k.E_UNBALANCED_QUOTES: "unbalanced quotes",
    k.E_INVALID_NUMBER: "invalid number {token}",
    k.E_INVALID_BOOLEAN: "invalid boolean {token}",
    k.E_INVALID_FIELD_VALUE: "invalid field value {token} (strings need double quotes)",
    k.E_INTEGER_RANGE: "unable to parse integer {token}: value out of range",
    k.E_UNSIGNED_RANGE: "unable to parse unsigned {token}: value out of range",
    k.E_NEGATIVE_UNSIGNED: "invalid number {token}: unsigned values cannot be negative",
    k.E_FLOAT_RANGE: "unable to parse float {token}: value out of range",
    k.E_BAD_TIMESTAMP: "bad timestamp {token}",
    k.E_TIMESTAMP_RANGE: "bad timestamp {token}: value out of range",
    k.E_TIME_OUTSIDE_RANGE: f"time outside range -{k.MAX_TIME_NS} - {k.MAX_TIME_NS}",
    k.E_TRAILING: "point is invalid: unexpected text after the timestamp",
    k.E_BACKSLASH_AT_END: "a name may not end with a backslash",
    k.E_KEY_TOO_LONG: f"max key length exceeded: {{key_bytes}} > {k.MAX_KEY_BYTES}",
    k.E_INVALID_UTF8: "invalid UTF-8",
    k.E_DUPLICATE_TAGS: "duplicate tags",
}
_TOKEN = re.compile(rb"[^ ,\t\r\n]*")


def parse(body: bytes, *, precision: str = "ns", now_ns: int | None = None) -> ParseResult:
    """Parse a line-protocol body. Unknown ``precision`` raises ValueError.

    Points without a timestamp get ``now_ns`` (default: ``time.time_ns()``, read once per call).
    """
    try:
        mult = PRECISIONS[precision]
    except (KeyError, TypeError):
        names = ", ".join(PRECISIONS)
        raise ValueError(f"invalid precision {precision!r}: use one of {names}") from None
    now = time.time_ns() if now_ns is None else int(now_ns)
    raw = body if isinstance(body, bytes) else bytes(body)
    if not raw:
        return ParseResult([], [], 0)
    return _Parse(raw, mult, now).run()


class _Parse:
    """One body's parse: the kernel outputs and the Python steps between them."""

    def __init__(self, raw: bytes, mult: int, now: int) -> None:
        self.raw = raw
        self.buf = np.frombuffer(raw, dtype=np.uint8)
        self.words = k.padded_words(raw)
        max_lines, max_tokens = k.capacity(self.buf)
        padded = self.words.view(np.uint8)
        nl, nt, lines, tokens, t_type, t_flag = k.scan(padded, len(raw), max_lines, max_tokens, mult, now)
        self.lines = lines[:, :nl]
        self.tokens = tokens[:, :nt]
        self.t_type = t_type[:nt]
        self.t_flag = t_flag[:nt]
        self.err = self.lines[k.LINE_ERR]  # updated in place as later steps reject lines
        self.errpos = self.lines[k.LINE_ERRPOS]
        self.detail: dict[int, str] = {}  # line index → message, for errors found after the scan

    def run(self) -> ParseResult:
        if not self.raw.isascii():
            self._check_utf8()
        self._slow_floats()
        line_table, line_series, table_names, tag_sets = self._series_keys()
        t_name, names = self._field_names()
        return self._assemble(line_table, line_series, table_names, tag_sets, t_name, names)

    # -- steps ------------------------------------------------------------------------------------------
    def _check_utf8(self) -> None:
        try:
            self.raw.decode()
            return
        except UnicodeDecodeError:
            pass
        ok = k.utf8_valid(self.buf, self.lines[k.LINE_START], self.lines[k.LINE_END])
        self.err[(self.err == k.E_OK) & ~ok] = k.E_INVALID_UTF8

    def _slow_floats(self) -> None:
        """Floats with more than 19 significant digits: Python's float() (correctly rounded)."""
        for j in np.flatnonzero(self.t_flag & k.F_SLOW_FLOAT).tolist():
            li = int(self.tokens[k.TOK_LINE, j])
            if self.err[li] != k.E_OK:
                continue
            start = int(self.tokens[k.TOK_VAL_START, j])
            value = float(self.raw[start : int(self.tokens[k.TOK_VAL_END, j])])
            if math.isinf(value):
                self.err[li] = k.E_FLOAT_RANGE
                self.errpos[li] = start
            else:
                self.tokens[k.TOK_BITS, j] = np.float64(value).view(np.int64)

    def _series_keys(self) -> tuple[np.ndarray, np.ndarray, list[str], list[list[TagSet]]]:
        """Decode each distinct series key once; map every good line to (table, tag set) ids."""
        n = self.lines.shape[1]
        line_table = np.full(n, -1, dtype=np.int32)
        line_series = np.full(n, -1, dtype=np.int32)
        good = np.flatnonzero(self.err == k.E_OK)
        starts = self.lines[k.LINE_START, good]
        ends = self.lines[k.LINE_KEY_END, good]
        ids, reps = k.group_spans(self.words, starts, ends)
        spans = list(zip(starts[reps].tolist(), ends[reps].tolist(), strict=True))
        generation = _CACHE_GENERATION[0]
        tables, tag_sets, found, bad = self._resolve(spans, by_content=False)
        if _CACHE_GENERATION[0] != generation:  # content ids were renumbered meanwhile: dedupe by value
            tables, tag_sets, found, bad = self._resolve(spans, by_content=True)
        if not reps.size:
            return line_table, line_series, [], []
        g_pairs = np.array(found, dtype=np.int32)
        if bad:
            g_err = np.zeros(len(reps), dtype=np.int64)
            g_err[list(bad)] = [code for code, _ in bad.values()]
            line_err = g_err[ids]
            for i in np.flatnonzero(line_err).tolist():
                li = int(good[i])
                code, name = bad[int(ids[i])]
                self.err[li] = code
                if code == k.E_TIME_TAG:
                    self.detail[li] = f'invalid tag key: input tag "time" on measurement "{name}" is invalid'
            keep = line_err == 0
            good, ids = good[keep], ids[keep]
        line_table[good] = g_pairs[ids, 0]
        line_series[good] = g_pairs[ids, 1]
        return line_table, line_series, list(tables), tag_sets

    def _resolve(self, spans: list[tuple[int, int]], by_content: bool) -> tuple:
        """Per distinct raw series key: (table, tag set index), or its error; builds the tag set lists.

        Tag sets are deduplicated through their content id (an int) unless ``by_content``.
        """
        raw = self.raw
        tables: dict[str, int] = {}
        tag_sets: list[list[TagSet]] = []
        local: dict[object, tuple[int, int]] = {}  # content id -> (table, tag set index) in this body
        found: list[tuple[int, int]] = []
        bad: dict[int, tuple[int, str]] = {}  # group -> (error code, measurement)
        for g, (s, e) in enumerate(spans):
            name, tags, code, cid = _series_key(raw[s:e])
            if code:
                bad[g] = (code, name)
                found.append((0, 0))
                continue
            key = (name, tags) if by_content else cid
            pair = local.get(key)
            if pair is None:
                t = tables.setdefault(name, len(tables))
                if t == len(tag_sets):
                    tag_sets.append([])
                pair = local[key] = (t, len(tag_sets[t]))
                tag_sets[t].append(tags)
            found.append(pair)
        return tables, tag_sets, found, bad

    def _field_names(self) -> tuple[np.ndarray, list[str]]:
        """Canonical field-name id per token (tokens of rejected lines get 0 and are never read)."""
        nt = self.tokens.shape[1]
        sel = self.err[self.tokens[k.TOK_LINE]] == k.E_OK
        every = bool(sel.all())
        kstart = self.tokens[k.TOK_KEY_START]
        kend = self.tokens[k.TOK_KEY_END]
        if not every:
            kstart, kend = kstart[sel], kend[sel]
        ids, reps = k.group_spans(self.words, kstart, kend)
        names: dict[str, int] = {}
        canon = np.empty(len(reps), dtype=np.int32)
        for g, r in enumerate(reps.tolist()):
            key = self.raw[int(kstart[r]) : int(kend[r])]
            canon[g] = names.setdefault(_unescape(key, _NAME_ESCAPE), len(names))
        if every:
            t_name = canon[ids]
        else:
            t_name = np.zeros(nt, dtype=np.int32)
            t_name[sel] = canon[ids]
        return t_name, list(names)

    def _assemble(
        self,
        line_table: np.ndarray,
        line_series: np.ndarray,
        table_names: list[str],
        tag_sets: list[list[TagSet]],
        t_name: np.ndarray,
        names: list[str],
    ) -> ParseResult:
        lines, tokens = self.lines, self.tokens
        (err2, err_tok, err_old, table_off, rows, col_table, col_name, col_type, col_off, values, valid,
         times, series) = k.assemble(
            self.err == k.E_OK,
            lines[k.LINE_TOK0],
            lines[k.LINE_NTOK],
            lines[k.LINE_TIME],
            line_table,
            line_series,
            t_name,
            self.t_type,
            tokens[k.TOK_BITS],
            np.array([name == "time" for name in names], dtype=np.bool_),
            len(table_names),
            max(1, len(names)),
        )  # fmt: skip
        for li in np.flatnonzero(err2).tolist():
            self.err[li] = err2[li]
            table = table_names[line_table[li]]
            if err2[li] == k.E_TIME_FIELD:
                self.detail[li] = (
                    f'invalid field name: input field "time" on measurement "{table}" is invalid'
                )
            else:
                j = int(err_tok[li])
                self.detail[li] = (
                    f'field type conflict: input field "{names[t_name[j]]}" on measurement "{table}" is type '
                    f"{FieldType(int(self.t_type[j])).influx_name}, already exists as type "
                    f"{FieldType(int(err_old[li])).influx_name}"
                )
        batches = []
        for t, table in enumerate(table_names):
            n = int(rows[t])
            if n == 0:
                continue
            lo = int(table_off[t])
            fields: dict[str, Column] = {}
            for c in np.flatnonzero(col_table == t).tolist():
                at = int(col_off[c])
                ftype = FieldType(int(col_type[c]))
                fields[names[col_name[c]]] = Column(
                    ftype, self._values(ftype, values[at : at + n], valid[at : at + n]), valid[at : at + n]
                )
            batch_series = series[lo : lo + n]
            sets = tag_sets[t]
            used = np.bincount(batch_series, minlength=len(sets)) > 0
            if not used.all():  # some tag sets only had rejected lines
                remap = np.cumsum(used, dtype=np.int32) - 1
                batch_series = remap[batch_series]
                sets = [s for s, u in zip(sets, used.tolist(), strict=True) if u]
            batches.append(WriteBatch(table, times[lo : lo + n], sets, batch_series, fields))
        return ParseResult(batches, self._errors(), int(rows.sum()))

    def _values(self, ftype: FieldType, bits: np.ndarray, valid: np.ndarray) -> np.ndarray:
        if ftype is FieldType.FLOAT:
            return bits.view(np.float64)
        if ftype is FieldType.INTEGER:
            return bits
        if ftype is FieldType.UNSIGNED:
            return bits.view(np.uint64)
        if ftype is FieldType.BOOLEAN:
            return bits != 0
        offsets, data = k.gather_strings(
            self.buf, self.tokens[k.TOK_VAL_START], self.tokens[k.TOK_VAL_END], self.t_flag, bits, valid
        )
        n = len(bits)
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
        return arr.to_numpy(zero_copy_only=False)

    def _errors(self) -> list[LineError]:
        out = []
        lines = self.lines
        for li in np.flatnonzero(self.err).tolist():
            start, end = int(lines[k.LINE_START, li]), int(lines[k.LINE_END, li])
            text = self.raw[start:end].decode("utf-8", "replace")
            excerpt = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."
            message = self.detail.get(li)
            if message is None:
                code = int(self.err[li])
                pos = int(self.errpos[li])
                match = _TOKEN.match(self.raw, pos, max(pos, end))
                token = match[0].decode("utf-8", "replace") if match else ""
                reason = _REASONS[code].format(token=token, key_bytes=int(lines[k.LINE_KEY_END, li]) - start)
                message = f"unable to parse '{excerpt}': {reason}"
            out.append(LineError(int(lines[k.LINE_NO, li]), message, excerpt))
        return out


# -- series keys and names --------------------------------------------------------------------------------
_SEGMENT = re.compile(rb"(?:\\.|[^,\\])+", re.S)  # runs between unescaped commas
_TAG = re.compile(rb"((?:\\.|[^=\\])+)=(.*)", re.S)  # key = value at the first unescaped '='
# InfluxDB 1.x unescapes `\"` too in measurements and field keys, not in tags; `\\` is ours (v2 docs, v3)
_NAME_ESCAPE = re.compile(rb'\\([ ,="\\])')  # measurement, field key
_TAG_ESCAPE = re.compile(rb"\\([ ,=\\])")  # tag key, tag value

_KEY_CACHE: dict[bytes, tuple[str, TagSet, int, int]] = {}
_KEY_CACHE_MAX = 1 << 14  # entries (~2 KB each for a 10-tag TSBS key); emptied when full
# Content ids: equal (measurement, tag set) pairs share one id, so a body dedupes tag sets by an int
# instead of hashing tuples of strings. Ids come from a counter and are never reused; when the tables
# are emptied during a body's parse (by it or another thread), equal tag sets may have got two ids, so
# that body dedupes again by value (see _Parse._series_keys).
_CONTENT_IDS: dict[tuple[str, TagSet], int] = {}
_NEXT_ID = itertools.count()
_CACHE_GENERATION = [0]  # bumped whenever the tables are emptied


def _unescape(raw: bytes, escape: re.Pattern[bytes]) -> str:
    if b"\\" in raw:
        raw = escape.sub(rb"\1", raw)
    return raw.decode()


def clear_key_cache() -> None:
    """Forget every decoded series key (benchmarks use it to measure bodies with unseen series)."""
    _CACHE_GENERATION[0] += 1
    _KEY_CACHE.clear()
    _CONTENT_IDS.clear()


def _series_key(raw: bytes) -> tuple[str, TagSet, int, int]:
    """(measurement, tags sorted by key, error code or 0, content id) of a scanned series key.

    Decoded keys are cached across bodies: a server sees the same series over and over.
    """
    hit = _KEY_CACHE.get(raw)
    if hit is None:
        name, tags, code = _decode_series_key(raw)
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            clear_key_cache()
        cid = _CONTENT_IDS.get((name, tags))
        if cid is None:
            cid = _CONTENT_IDS[name, tags] = next(_NEXT_ID)
        hit = _KEY_CACHE[raw] = (name, tags, code, cid)
    return hit


def _decode_series_key(raw: bytes) -> tuple[str, TagSet, int]:
    tags: list[tuple[str, str]]
    if b"\\" not in raw:
        # The common case. The scan checked the shape: the first ',' ends the measurement (which may
        # hold '='), and after it every ',' and '=' is a delimiter of non-empty keys and values.
        name, _, rest = raw.decode().partition(",")
        words = rest.replace("=", ",").split(",") if rest else []
        tags = sorted(zip(words[::2], words[1::2], strict=True))
    else:
        parts = _SEGMENT.findall(raw)
        name = _unescape(parts[0], _NAME_ESCAPE)
        tags = []
        for part in parts[1:]:
            m = _TAG.fullmatch(part)
            assert m is not None, "the scanner let a malformed tag through"
            tags.append((_unescape(m[1], _TAG_ESCAPE), _unescape(m[2], _TAG_ESCAPE)))
        tags.sort()
    keys = {key for key, _ in tags}
    if len(keys) != len(tags):
        return name, (), k.E_DUPLICATE_TAGS
    if "time" in keys:
        return name, (), k.E_TIME_TAG
    return name, tuple(tags), k.E_OK
