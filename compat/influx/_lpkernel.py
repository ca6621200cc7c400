"""numba kernels of the line-protocol parser: one pass over the body, then grouping and column assembly.

:func:`scan` walks the request body once and writes, per point (line), its span, the end of its series
key (measurement and tags), its timestamp and its first field token, and per field token the key span,
value span, type and value bits (int64 bits of the int64 / uint64 / float64 / 0-1 boolean; strings are
materialised later from their span). A line that breaks the grammar gets an error code and position;
its tokens are dropped and scanning resumes where InfluxDB's own line splitter would (see
:func:`_line_end`). Everything here releases the GIL and is cached on disk.

:func:`group_spans` gives equal byte spans one id (open addressing over a byte hash, bytes compared on
every hash hit), so the Python side decodes each distinct series key and field key once per body.
:func:`assemble` applies per-body schema rules in input order (duplicate field keys: last wins; ``time``
fields dropped; first type of a field wins, conflicting lines rejected) and scatters the surviving values
into per-column storage.

Error codes are the ``E_*`` constants; :mod:`compat.influx.lineprotocol` turns them into messages.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from compat.influx._lpfloat import EXACT_POW10, POW5_HI, POW5_LO, decimal_to_bits

kernel = njit(cache=True, nogil=True)
inline_kernel = njit(cache=True, nogil=True, inline="always")

# -- codes shared with lineprotocol.py --------------------------------------------------------------------
T_FLOAT, T_INTEGER, T_UNSIGNED, T_BOOLEAN, T_STRING = 1, 2, 3, 4, 5  # = columnar.types.FieldType
F_SLOW_FLOAT = 1  # token flag: more than 19 significant digits, Python converts it
F_ESCAPED = 2  # token flag: a string value containing a backslash

E_OK = 0
E_MISSING_MEASUREMENT = 1
E_MISSING_FIELDS = 2
E_MISSING_TAG_KEY = 3
E_MISSING_TAG_VALUE = 4
E_INVALID_TAG_FORMAT = 5
E_MISSING_FIELD_KEY = 6
E_MISSING_FIELD_VALUE = 7
E_INVALID_FIELD_FORMAT = 8
E_UNBALANCED_QUOTES = 9
E_INVALID_NUMBER = 10
E_INVALID_BOOLEAN = 11
E_INVALID_FIELD_VALUE = 12
E_INTEGER_RANGE = 13
E_UNSIGNED_RANGE = 14
E_NEGATIVE_UNSIGNED = 15
E_FLOAT_RANGE = 16
E_BAD_TIMESTAMP = 17
E_TIMESTAMP_RANGE = 18
E_TIME_OUTSIDE_RANGE = 19
E_TRAILING = 20
E_BACKSLASH_AT_END = 21
E_KEY_TOO_LONG = 22
# assigned after the scan, by lineprotocol.py and assemble()
E_INVALID_UTF8 = 30
E_DUPLICATE_TAGS = 31
E_TIME_TAG = 32
E_TIME_FIELD = 33
E_TYPE_CONFLICT = 34

MAX_KEY_BYTES = 65535  # InfluxDB's limit on measurement + tags
MAX_TIME_NS = 9223372036854775806  # InfluxDB's time range is [-MAX_TIME_NS, MAX_TIME_NS]

SP, TAB, LF, CR = 32, 9, 10, 13
COMMA, EQ, BS, DQ, HASH = 44, 61, 92, 34, 35
MINUS, PLUS, DOT = 45, 43, 46

U0 = np.uint64(0)
U10 = np.uint64(10)
INT64_MAX_U = np.uint64(0x7FFFFFFFFFFFFFFF)
INT64_MIN_MAG = np.uint64(0x8000000000000000)
UINT64_MAX_DIV10 = np.uint64(1844674407370955161)  # floor((2^64 - 1) / 10); the last digit may be <= 5
SIGN_BIT = np.uint64(1 << 63)
INF_BITS = np.uint64(0x7FF << 52)
NS_PER_S = 1_000_000_000

HASH_SEED = np.uint64(0x9E3779B97F4A7C15)
HASH_MUL = np.uint64(0xFF51AFD7ED558CCD)
U8 = np.uint64(8)
U29 = np.uint64(29)
U64MAX = np.uint64(0xFFFFFFFFFFFFFFFF)
PAD_BYTES = 16  # group_spans reads whole 8-byte words and needs this much zero padding after the body


def _stops(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=np.uint8)
    table[list(chars)] = 1
    return table


# bytes that end a run of ordinary characters: in names (measurement, keys, tag values) and in strings
NAME_STOPS = _stops(b"\\=, \n\r")
STRING_STOPS = _stops(b'\\"\n')


@inline_kernel
def _eol(buf: np.ndarray, i: int, n: int) -> bool:
    """True at the end of a line: end of body, LF, or a CR right before LF / end of body."""
    if i >= n:
        return True
    c = buf[i]
    if c == LF:
        return True
    return c == CR and (i + 1 >= n or buf[i + 1] == LF)


@inline_kernel
def _is_digit(c: int) -> bool:
    return 48 <= c <= 57


@inline_kernel
def _skip(buf: np.ndarray, i: int, n: int, stops: np.ndarray) -> int:
    """The first position at or after ``i`` holding a byte of ``stops`` (or ``n``).

    ``buf[n]`` must be LF (a stop byte of every table): the padded body of :func:`padded_words`.
    """
    while stops[buf[i]] == 0:
        i += 1
    return i


@inline_kernel
def _token_end(buf: np.ndarray, i: int, n: int) -> int:
    """End of a field value or timestamp token: the next space, comma or line end."""
    while not _eol(buf, i, n) and buf[i] != SP and buf[i] != COMMA:
        i += 1
    return i


@inline_kernel
def _word(buf: np.ndarray, i: int, a: int, b: int, c: int, d: int, e: int) -> bool:
    """``buf[i:]`` starts with the 4 bytes a b c d, or 5 when ``e`` is nonzero."""
    same = buf[i] == a and buf[i + 1] == b and buf[i + 2] == c and buf[i + 3] == d
    return same and (e == 0 or buf[i + 4] == e)


@kernel
def _line_end(buf: np.ndarray, start: int, n: int) -> int:
    """Where InfluxDB's line splitter ends the line starting at ``start`` (the LF, or ``n``).

    Used only after an error, so a bad line swallows exactly what InfluxDB's would: a backslash skips
    the next byte (even a newline) and, once past the first space, a double quote that follows more
    ``=`` than ``,`` toggles a quoted region inside which newlines do not end the line.
    """
    quoted = False
    fields = False
    equals = 0
    commas = 0
    i = start
    while i < n:
        c = buf[i]
        if c == BS:
            i += 2
            continue
        if c == SP:
            fields = True
        if fields:
            if not quoted and c == EQ:
                equals += 1
                i += 1
                continue
            if not quoted and c == COMMA:
                commas += 1
                i += 1
                continue
            if c == DQ and equals > commas:
                quoted = not quoted
                i += 1
                continue
        if c == LF and not quoted:
            break
        i += 1
    return min(i, n)


@kernel
def _long_integer(buf: np.ndarray, start: int, end: int) -> tuple[np.uint64, bool]:
    """(value, True) of the decimal digits ``buf[start:end]`` if it fits a uint64, else (0, False)."""
    while start < end and buf[start] == 48:  # leading zeros
        start += 1
    if end - start > 20:
        return U0, False
    w = U0
    for p in range(start, min(end, start + 19)):
        w = w * U10 + np.uint64(buf[p] - 48)
    if end - start == 20:
        last = np.uint64(buf[end - 1] - 48)
        if w > UINT64_MAX_DIV10 or (w == UINT64_MAX_DIV10 and last > np.uint64(5)):
            return U0, False
        w = w * U10 + last
    return w, True


@kernel
def _long_significand(
    buf: np.ndarray, int_start: int, int_end: int, frac_start: int, frac_end: int
) -> tuple[np.uint64, int, bool]:
    """A decimal with more than 19 digits as (first 19 significant digits, power of ten, truncated).

    ``truncated`` is True when a nonzero digit was dropped: the value is then not ``w × 10^shift``.
    """
    w = U0
    kept = 0
    shift = 0
    truncated = False
    for p in range(int_start, int_end):
        d = np.uint64(buf[p] - 48)
        if kept < 19:
            if w != U0 or d != U0:
                w = w * U10 + d
                kept += 1
        else:
            shift += 1
            truncated = truncated or d != U0
    for p in range(frac_start, frac_end):
        d = np.uint64(buf[p] - 48)
        if kept < 19:
            if w != U0 or d != U0:
                w = w * U10 + d
                kept += 1
            shift -= 1
        else:
            truncated = truncated or d != U0
    return w, shift, truncated


@kernel
def scan(buf: np.ndarray, n: int, max_lines: int, max_tokens: int, mult: int, now: int) -> tuple:  # noqa: C901
    """Tokenise a whole body. ``mult`` is ns per timestamp unit, 0 for auto; ``now`` fills missing times.

    ``buf`` is the padded body (:func:`padded_words` viewed as bytes) and ``n`` the body's length.

    Returns ``(n_lines, n_tokens, lines, tokens, t_type, t_flag)``: ``lines`` is int64 (9, n) with
    rows LINE_* and ``tokens`` int64 (6, m) with rows TOK_*; only the first n / m columns are set.
    """
    lines = np.empty((9, max_lines), dtype=np.int64)
    tokens = np.empty((6, max_tokens), dtype=np.int64)
    t_type = np.empty(max_tokens, dtype=np.uint8)
    t_flag = np.empty(max_tokens, dtype=np.uint8)
    if mult > 0:
        fixed_limit = np.uint64(MAX_TIME_NS // mult)
    else:
        fixed_limit = U0
    nl = 0
    nt = 0
    line_no = 1
    i = 0
    while i < n:
        c = buf[i]
        if c == LF:
            line_no += 1
            i += 1
            continue
        if c == SP or c == TAB or c == CR:
            i += 1
            continue
        if c == HASH:  # a comment runs to the end of the physical line
            while i < n and buf[i] != LF:
                i += 1
            continue

        start = i
        first_line = line_no
        tok0 = nt
        err = E_OK
        epos = i
        j = i
        # -- measurement -------------------------------------------------------------------------------
        if c == COMMA:
            err = E_MISSING_MEASUREMENT
        else:
            while True:
                j = _skip(buf, j, n, NAME_STOPS)
                if _eol(buf, j, n):
                    err = E_MISSING_FIELDS
                    break
                c = buf[j]
                if c == BS:
                    if j + 1 >= n or buf[j + 1] == LF:
                        err = E_BACKSLASH_AT_END
                        epos = j
                        break
                    j += 2
                    continue
                if c == COMMA or c == SP:
                    break
                j += 1  # '=' or a lone CR: ordinary here
        # -- tags ----------------------------------------------------------------------------------------
        while err == E_OK and buf[j] == COMMA:
            j += 1
            epos = j
            if _eol(buf, j, n) or buf[j] == SP or buf[j] == COMMA or buf[j] == EQ:
                err = E_MISSING_TAG_KEY
                break
            while True:
                j = _skip(buf, j, n, NAME_STOPS)
                if _eol(buf, j, n):
                    err = E_MISSING_TAG_VALUE
                    break
                c = buf[j]
                if c == BS:
                    if j + 1 >= n or buf[j + 1] == LF:
                        err = E_BACKSLASH_AT_END
                        epos = j
                        break
                    j += 2
                    continue
                if c == EQ:
                    break
                if c == SP or c == COMMA:
                    err = E_MISSING_TAG_VALUE
                    break
                j += 1
            if err != E_OK:
                break
            j += 1
            epos = j
            if _eol(buf, j, n) or buf[j] == SP or buf[j] == COMMA:
                err = E_MISSING_TAG_VALUE
                break
            while True:
                j = _skip(buf, j, n, NAME_STOPS)
                if _eol(buf, j, n):
                    err = E_MISSING_FIELDS
                    break
                c = buf[j]
                if c == BS:
                    if j + 1 >= n or buf[j + 1] == LF:
                        err = E_BACKSLASH_AT_END
                        epos = j
                        break
                    j += 2
                    continue
                if c == COMMA or c == SP:
                    break
                if c == EQ:
                    err = E_INVALID_TAG_FORMAT
                    epos = j
                    break
                j += 1
        key_end = j
        if err == E_OK and key_end - start > MAX_KEY_BYTES:
            err = E_KEY_TOO_LONG
        # -- fields --------------------------------------------------------------------------------------
        if err == E_OK:
            while j < n and buf[j] == SP:
                j += 1
            if _eol(buf, j, n):
                err = E_MISSING_FIELDS
        while err == E_OK:
            ks = j
            epos = j
            c = buf[j]
            if c == EQ or c == COMMA:
                err = E_MISSING_FIELD_KEY
                break
            if c == SP:
                err = E_INVALID_FIELD_FORMAT
                break
            while True:
                j = _skip(buf, j, n, NAME_STOPS)
                if _eol(buf, j, n):
                    err = E_INVALID_FIELD_FORMAT
                    break
                c = buf[j]
                if c == BS:
                    if j + 1 >= n or buf[j + 1] == LF:
                        err = E_BACKSLASH_AT_END
                        epos = j
                        break
                    j += 2
                    continue
                if c == EQ:
                    break
                if c == SP or c == COMMA:
                    err = E_INVALID_FIELD_FORMAT
                    break
                j += 1
            if err != E_OK:
                break
            ke = j
            j += 1
            epos = j
            if _eol(buf, j, n) or buf[j] == SP or buf[j] == COMMA:
                err = E_MISSING_FIELD_VALUE
                break
            vs = j
            ve = j
            c = buf[j]
            typ = 0
            flag = 0
            bits = np.int64(0)
            if c == DQ:  # -- string: runs to the next unescaped quote, newlines included
                j += 1
                vs = j
                while True:
                    j = _skip(buf, j, n, STRING_STOPS)
                    if j >= n:
                        err = E_UNBALANCED_QUOTES
                        break
                    c = buf[j]
                    if c == BS:
                        flag = F_ESCAPED
                        if j + 1 >= n:  # never step over the sentinel
                            j = n
                            continue
                        if buf[j + 1] == LF:
                            line_no += 1
                        j += 2
                        continue
                    if c == DQ:
                        break
                    if c == LF:
                        line_no += 1
                    j += 1
                if err != E_OK:
                    break
                ve = j
                j += 1
                typ = T_STRING
                if not (_eol(buf, j, n) or buf[j] == SP or buf[j] == COMMA):
                    err = E_INVALID_FIELD_FORMAT
                    epos = j
                    break
            elif _is_digit(c) or c == MINUS or c == DOT:  # -- number
                negative = c == MINUS
                if negative:
                    j += 1
                # digits accumulate unchecked: up to 19 of them cannot overflow a uint64, and the LF
                # sentinel at buf[n] ends every run; longer numbers take the careful path below
                int_start = j
                w = U0
                while _is_digit(buf[j]):
                    w = w * U10 + np.uint64(buf[j] - 48)
                    j += 1
                int_end = j
                frac_start = j
                has_dot = buf[j] == DOT
                if has_dot:
                    j += 1
                    frac_start = j
                    while _is_digit(buf[j]):
                        w = w * U10 + np.uint64(buf[j] - 48)
                        j += 1
                frac_end = j
                digits = (int_end - int_start) + (frac_end - frac_start)
                explicit = 0
                has_exp = buf[j] == 101 or buf[j] == 69  # e E
                if has_exp:
                    j += 1
                    exp_negative = buf[j] == MINUS
                    if exp_negative or buf[j] == PLUS:
                        j += 1
                    exp_start = j
                    while _is_digit(buf[j]):
                        if explicit < 100_000:
                            explicit = explicit * 10 + (buf[j] - 48)
                        j += 1
                    if j == exp_start:
                        err = E_INVALID_NUMBER
                    if exp_negative:
                        explicit = -explicit
                if digits == 0:
                    err = E_INVALID_NUMBER
                suffix = buf[j]
                if err != E_OK:
                    pass
                elif suffix == 105 or suffix == 117:  # i u
                    j += 1
                    exact = True
                    if has_dot or has_exp:
                        err = E_INVALID_NUMBER
                    elif suffix == 117 and negative:
                        err = E_NEGATIVE_UNSIGNED
                    elif digits > 19:
                        w, exact = _long_integer(buf, int_start, int_end)
                    if err != E_OK:
                        pass
                    elif suffix == 105:
                        typ = T_INTEGER
                        if not exact or w > (INT64_MIN_MAG if negative else INT64_MAX_U):
                            err = E_INTEGER_RANGE
                        elif negative:
                            bits = np.int64(U0 - w)
                        else:
                            bits = np.int64(w)
                    else:
                        typ = T_UNSIGNED
                        if not exact:
                            err = E_UNSIGNED_RANGE
                        bits = np.int64(w)
                else:
                    typ = T_FLOAT
                    exp10 = explicit - (frac_end - frac_start)
                    many = False
                    if digits > 19:
                        w, shift, many = _long_significand(buf, int_start, int_end, frac_start, frac_end)
                        exp10 = explicit + shift
                    if many:
                        flag = F_SLOW_FLOAT
                    else:
                        fbits = decimal_to_bits(w, exp10, negative, POW5_HI, POW5_LO, EXACT_POW10)
                        if (fbits & ~SIGN_BIT) == INF_BITS:
                            err = E_FLOAT_RANGE
                        bits = np.int64(fbits)
                if err == E_OK and not (_eol(buf, j, n) or buf[j] == SP or buf[j] == COMMA):
                    err = E_INVALID_NUMBER
                ve = j
                if err != E_OK:
                    ve = _token_end(buf, j, n)
                    break
            elif c == 116 or c == 84 or c == 102 or c == 70:  # t T f F
                ve = _token_end(buf, j, n)
                size = ve - vs
                typ = T_BOOLEAN
                truth = c == 116 or c == 84
                ok = size == 1
                if size == 4 and truth:
                    ok = _word(buf, vs, 116, 114, 117, 101, 0)  # true
                    ok = ok or _word(buf, vs, 84, 114, 117, 101, 0)  # True
                    ok = ok or _word(buf, vs, 84, 82, 85, 69, 0)  # TRUE
                elif size == 5 and not truth:
                    ok = _word(buf, vs, 102, 97, 108, 115, 101)  # false
                    ok = ok or _word(buf, vs, 70, 97, 108, 115, 101)  # False
                    ok = ok or _word(buf, vs, 70, 65, 76, 83, 69)  # FALSE
                if not ok:
                    err = E_INVALID_BOOLEAN
                    break
                bits = np.int64(1) if truth else np.int64(0)
                j = ve
            else:
                ve = _token_end(buf, j, n)
                if c == PLUS or c == 78 or c == 110 or c == 73 or c == 105:  # + N n I i: NaN, inf, +1
                    err = E_INVALID_NUMBER
                else:
                    err = E_INVALID_FIELD_VALUE
                break
            tokens[0, nt] = ks
            tokens[1, nt] = ke
            tokens[2, nt] = vs
            tokens[3, nt] = ve
            tokens[4, nt] = bits
            tokens[5, nt] = nl
            t_type[nt] = typ
            t_flag[nt] = flag
            nt += 1
            if _eol(buf, j, n) or buf[j] == SP:
                break
            j += 1  # the comma
            if _eol(buf, j, n):
                err = E_INVALID_FIELD_FORMAT
                break
        # -- timestamp -----------------------------------------------------------------------------------
        ts = np.int64(now)
        if err == E_OK:
            while j < n and (buf[j] == SP or buf[j] == TAB):
                j += 1
            if not _eol(buf, j, n):
                epos = j
                negative = buf[j] == MINUS
                if negative:
                    j += 1
                digits_start = j
                mag = U0
                while _is_digit(buf[j]):
                    mag = mag * U10 + np.uint64(buf[j] - 48)
                    j += 1
                if not (_eol(buf, j, n) or buf[j] == SP or buf[j] == TAB) or j == digits_start:
                    err = E_BAD_TIMESTAMP
                else:
                    exact = True
                    if j - digits_start > 19:
                        mag, exact = _long_integer(buf, digits_start, j)
                    if not exact or mag > (INT64_MIN_MAG if negative else INT64_MAX_U):
                        err = E_TIMESTAMP_RANGE
                if err == E_OK:
                    unit = mult
                    limit = fixed_limit
                    if unit == 0:  # auto: InfluxDB 3's guess from the magnitude in seconds' digits
                        secs = mag // np.uint64(NS_PER_S)
                        if secs < np.uint64(5):
                            unit = NS_PER_S
                        elif secs < np.uint64(5_000):
                            unit = 1_000_000
                        elif secs < np.uint64(5_000_000):
                            unit = 1_000
                        else:
                            unit = 1
                        limit = np.uint64(MAX_TIME_NS // unit)
                    if mag > limit:
                        err = E_TIME_OUTSIDE_RANGE
                    else:
                        scaled = np.int64(mag) * unit
                        ts = -scaled if negative else scaled
                if err == E_OK:
                    while j < n and (buf[j] == SP or buf[j] == TAB):
                        j += 1
                    if not _eol(buf, j, n):
                        err = E_TRAILING
                        epos = j
        # -- record --------------------------------------------------------------------------------------
        if err == E_OK:
            end = j
            i = j + 1 if j < n and buf[j] == CR else j
        else:
            nt = tok0
            i = _line_end(buf, start, n)
            end = i - 1 if i > start and buf[i - 1] == CR else i
            line_no = first_line
            for k in range(start, i):
                if buf[k] == LF:
                    line_no += 1
        lines[0, nl] = first_line
        lines[1, nl] = start
        lines[2, nl] = end
        lines[3, nl] = key_end
        lines[4, nl] = tok0
        lines[5, nl] = nt - tok0
        lines[6, nl] = ts
        lines[7, nl] = err
        lines[8, nl] = epos
        nl += 1
    return nl, nt, lines, tokens, t_type, t_flag


# rows of scan()'s ``lines`` and ``tokens``
LINE_NO, LINE_START, LINE_END, LINE_KEY_END, LINE_TOK0, LINE_NTOK, LINE_TIME, LINE_ERR, LINE_ERRPOS = range(9)
TOK_KEY_START, TOK_KEY_END, TOK_VAL_START, TOK_VAL_END, TOK_BITS, TOK_LINE = range(6)


@inline_kernel
def _word_at(words: np.ndarray, p: int) -> np.uint64:
    """The 8 bytes at byte offset ``p`` as a little-endian uint64 (``words`` is the padded body)."""
    q = p >> 3
    shift = np.uint64(p & 7) * U8
    lo = words[q]
    if shift == U0:
        return lo
    return (lo >> shift) | (words[q + 1] << (np.uint64(64) - shift))


@inline_kernel
def _span_hash(words: np.ndarray, s: int, e: int) -> np.uint64:
    h = HASH_SEED ^ np.uint64(e - s)
    p = s
    while p < e:
        w = _word_at(words, p)
        if e - p < 8:
            w &= ~(U64MAX << (np.uint64(e - p) * U8))
        h = (h ^ w) * HASH_MUL
        h ^= h >> U29
        p += 8
    return h


@inline_kernel
def _span_equal(words: np.ndarray, a: int, b: int, size: int) -> bool:
    p = 0
    while p + 8 <= size:
        if _word_at(words, a + p) != _word_at(words, b + p):
            return False
        p += 8
    if p < size:
        mask = ~(U64MAX << (np.uint64(size - p) * U8))
        return (_word_at(words, a + p) & mask) == (_word_at(words, b + p) & mask)
    return True


@kernel
def group_spans(words: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give equal byte spans equal ids, numbered by first appearance.

    ``words`` is the body zero-padded by PAD_BYTES and viewed as uint64 (see :func:`padded_words`).
    Returns ``(ids, reps)``: ``ids[k]`` is span k's group, ``reps[g]`` the index of group g's first span.

    Bodies repeat themselves: field keys come in the same order line after line, and series often
    cycle in the same order tick after tick. So each span is first compared with the group that
    followed the previous span's group last time; only when that guess fails is it hashed and looked
    up (open addressing; bytes are compared on every hash match, so equal hashes never merge spans).
    """
    m = len(starts)
    size = 16
    while size < 2 * m:
        size *= 2
    mask = np.uint64(size - 1)
    table = np.full(size, -1, dtype=np.int64)
    hashes = np.empty(m, dtype=np.uint64)
    reps = np.empty(m, dtype=np.int64)
    after = np.full(m, -1, dtype=np.int64)  # per group: the group that followed it last time
    ids = np.empty(m, dtype=np.int32)
    groups = 0
    prev = -1
    for k in range(m):
        s = starts[k]
        e = ends[k]
        if prev >= 0:
            guess = after[prev]
            if guess >= 0:
                r = reps[guess]
                if ends[r] - starts[r] == e - s and _span_equal(words, starts[r], s, e - s):
                    ids[k] = guess
                    prev = guess
                    continue
        h = _span_hash(words, s, e)
        slot = h & mask
        while True:
            g = table[slot]
            if g < 0:
                g = groups
                table[slot] = g
                hashes[g] = h
                reps[g] = k
                groups += 1
                break
            if hashes[g] == h:
                r = reps[g]
                if ends[r] - starts[r] == e - s and _span_equal(words, starts[r], s, e - s):
                    break
            slot = (slot + np.uint64(1)) & mask
        ids[k] = g
        if prev >= 0:
            after[prev] = g
        prev = g
    return ids, reps[:groups]


def padded_words(raw: bytes) -> np.ndarray:
    """The body as uint64 words, padded so 8-byte reads at any offset inside it stay in bounds.

    The first padding byte is LF, a sentinel that ends every run :func:`_skip` scans; the rest are 0.
    """
    size = (len(raw) + PAD_BYTES + 7) // 8 * 8
    out = np.zeros(size, dtype=np.uint8)
    out[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    out[len(raw)] = LF
    return out.view(np.uint64)


@kernel
def capacity(buf: np.ndarray) -> tuple[int, int]:
    """Upper bounds on points (newlines + 1) and field tokens (``=`` signs + 1) in a body."""
    lf = 0
    eq = 0
    for c in buf:
        lf += c == LF
        eq += c == EQ
    return lf + 1, eq + 1


@kernel
def utf8_valid(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per span: is it well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF)?"""
    out = np.ones(len(starts), dtype=np.bool_)
    for k in range(len(starts)):
        i = starts[k]
        e = ends[k]
        while i < e:
            c = buf[i]
            if c < 0x80:
                i += 1
                continue
            if 0xC2 <= c <= 0xDF:
                need = 1
                lo, hi = 0x80, 0xBF
            elif 0xE0 <= c <= 0xEF:
                need = 2
                lo = 0xA0 if c == 0xE0 else 0x80
                hi = 0x9F if c == 0xED else 0xBF
            elif 0xF0 <= c <= 0xF4:
                need = 3
                lo = 0x90 if c == 0xF0 else 0x80
                hi = 0x8F if c == 0xF4 else 0xBF
            else:
                out[k] = False
                break
            if i + need >= e:
                out[k] = False
                break
            b = buf[i + 1]
            if b < lo or b > hi:
                out[k] = False
                break
            bad = False
            for t in range(2, need + 1):
                b = buf[i + t]
                if b < 0x80 or b > 0xBF:
                    bad = True
                    break
            if bad:
                out[k] = False
                break
            i += need + 1
    return out


@kernel
def assemble(
    line_ok: np.ndarray,
    tok0: np.ndarray,
    ntok: np.ndarray,
    line_time: np.ndarray,
    line_table: np.ndarray,
    line_series: np.ndarray,
    t_name: np.ndarray,
    t_type: np.ndarray,
    t_bits: np.ndarray,
    name_is_time: np.ndarray,
    n_tables: int,
    n_names: int,
) -> tuple:
    """Apply the per-body schema rules in input order and scatter values into columns.

    Per good line (``line_ok``): a field key repeated in the line keeps its last value (repeats with
    different types fail the line with E_TYPE_CONFLICT); ``time`` fields are dropped, and a line left without fields fails with E_TIME_FIELD; a field whose type differs from
    the type the field first had in this table in this body fails the line with E_TYPE_CONFLICT
    (``err_tok`` = the token, ``err_old`` = the existing type). Columns and their types are only created
    by lines that pass.

    Returns ``(err, err_tok, err_old, table_off, rows, col_table, col_name, col_type, col_off, values,
    valid, time, series)``. Rows of table t are ``time[table_off[t]: table_off[t] + rows[t]]`` in input
    order; column c holds ``values[col_off[c]: col_off[c] + rows[col_table[c]]]`` (int64 bits; for
    strings the token index) with ``valid`` alongside.
    """
    nl = len(line_ok)
    nt = len(t_name)
    err = np.zeros(nl, dtype=np.int32)
    err_tok = np.full(nl, -1, dtype=np.int64)
    err_old = np.zeros(nl, dtype=np.int32)
    skip = np.zeros(nt, dtype=np.bool_)
    col_of = np.full(n_tables * n_names, -1, dtype=np.int64)
    cap = max(1, min(n_tables * n_names, nt))
    col_table = np.empty(cap, dtype=np.int64)
    col_name = np.empty(cap, dtype=np.int64)
    col_type = np.empty(cap, dtype=np.uint8)
    ncol = 0
    rows = np.zeros(n_tables, dtype=np.int64)
    row = np.empty(nl, dtype=np.int64)
    seen_in = np.full(n_names, -1, dtype=np.int64)  # per name: the last line it was met in, and where
    seen_tok = np.zeros(n_names, dtype=np.int64)
    for li in range(nl):
        if not line_ok[li]:
            continue
        t = line_table[li]
        a = tok0[li]
        b = a + ntok[li]
        kept = 0
        for j in range(b - 1, a - 1, -1):  # backwards: the first occurrence met is the one that counts
            nm = t_name[j]
            if name_is_time[nm]:
                skip[j] = True
            elif seen_in[nm] == li:
                skip[j] = True
                last = seen_tok[nm]
                if t_type[last] != t_type[j] and err[li] == E_OK:  # InfluxDB 1.x: a type conflict
                    err[li] = E_TYPE_CONFLICT
                    err_tok[li] = last
                    err_old[li] = t_type[j]
            else:
                seen_in[nm] = li
                seen_tok[nm] = j
                kept += 1
        if err[li] != E_OK:
            continue
        if kept == 0:
            err[li] = E_TIME_FIELD
            continue
        base = t * n_names
        for j in range(a, b):
            if skip[j]:
                continue
            c = col_of[base + t_name[j]]
            if c >= 0 and col_type[c] != t_type[j]:
                err[li] = E_TYPE_CONFLICT
                err_tok[li] = j
                err_old[li] = col_type[c]
                break
        if err[li] != E_OK:
            continue
        for j in range(a, b):
            if skip[j]:
                continue
            key = base + t_name[j]
            if col_of[key] < 0:
                col_of[key] = ncol
                col_table[ncol] = t
                col_name[ncol] = t_name[j]
                col_type[ncol] = t_type[j]
                ncol += 1
        row[li] = rows[t]
        rows[t] += 1

    table_off = np.zeros(n_tables + 1, dtype=np.int64)
    for t in range(n_tables):
        table_off[t + 1] = table_off[t] + rows[t]
    col_off = np.zeros(ncol + 1, dtype=np.int64)
    for c in range(ncol):
        col_off[c + 1] = col_off[c] + rows[col_table[c]]
    values = np.zeros(col_off[ncol], dtype=np.int64)
    valid = np.zeros(col_off[ncol], dtype=np.bool_)
    time = np.empty(table_off[n_tables], dtype=np.int64)
    series = np.empty(table_off[n_tables], dtype=np.int32)
    for li in range(nl):
        if not line_ok[li] or err[li] != E_OK:
            continue
        t = line_table[li]
        r = row[li]
        pos = table_off[t] + r
        time[pos] = line_time[li]
        series[pos] = line_series[li]
        base = t * n_names
        for j in range(tok0[li], tok0[li] + ntok[li]):
            if skip[j]:
                continue
            c = col_of[base + t_name[j]]
            at = col_off[c] + r
            values[at] = j if t_type[j] == T_STRING else t_bits[j]
            valid[at] = True
    return (
        err,
        err_tok,
        err_old,
        table_off,
        rows,
        col_table[:ncol],
        col_name[:ncol],
        col_type[:ncol],
        col_off,
        values,
        valid,
        time,
        series,
    )


@kernel
def gather_strings(
    buf: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    flags: np.ndarray,
    tok: np.ndarray,
    valid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes and Arrow offsets of one string column: row r is token ``tok[r]`` if ``valid[r]``.

    Inside a string ``\\"`` stands for ``"`` and ``\\\\`` for ``\\``; any other backslash is kept.
    """
    n = len(tok)
    total = 0
    for r in range(n):
        if valid[r]:
            total += ends[tok[r]] - starts[tok[r]]
    data = np.empty(total, dtype=np.uint8)
    offsets = np.empty(n + 1, dtype=np.int64)
    p = 0
    for r in range(n):
        offsets[r] = p
        if not valid[r]:
            continue
        j = tok[r]
        s = starts[j]
        e = ends[j]
        if flags[j] & F_ESCAPED:
            k = s
            while k < e:
                c = buf[k]
                if c == BS and k + 1 < e and (buf[k + 1] == DQ or buf[k + 1] == BS):
                    data[p] = buf[k + 1]
                    k += 2
                else:
                    data[p] = c
                    k += 1
                p += 1
        else:
            data[p : p + e - s] = buf[s:e]
            p += e - s
    offsets[n] = p
    return offsets, data[:p]
