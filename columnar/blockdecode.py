"""Batched block decoding: every block of one column of many row groups in one numba call.

A scan used to decode one block (<= 1,024 values) per codec call; the Python around each call
(payload copy, checksum, header, dispatch, the numpy assignments) cost more than the decoding itself.
:func:`decode_column` takes the blocks of one column as arrays (offsets, lengths, counts, where each
group's rows start) over one byte buffer and, in one GIL-free kernel, checks each block's CRC32C,
reads its header, dispatches to the codec's own numba kernel (the same kernels
``columnar.encodings`` calls) and writes the values, with a validity bitmap where the block has one,
into the column's output.

What the kernel does not handle it leaves to the caller, per block, through a status:

* ``OK``: decoded;
* ``FALLBACK``: a codec without a kernel here (the zstd stage, strings), a validity bitmap that is not
  the ``bits`` codec, or a dtype tag other than the column's: the caller decodes that block the
  ordinary way (``encodings.decode``), so results are identical;
* ``CORRUPT``: checksum, header or codec failure: the caller decodes it the ordinary way, which raises
  the precise error with file and offset.

Codec kernels reached from here: raw, rle, simple8b, dod, rans, gorilla, alp (with its nested integer
payload), bits (validity).
"""

from __future__ import annotations

import numpy as np

from columnar.encodings import alp as _alp
from columnar.encodings import bits, dod, gorilla, rans, rle, simple8b
from columnar.encodings._core import get_varint, kernel, ld32

OK = 0
FALLBACK = 1
CORRUPT = 2

TAG_INT64 = 0
TAG_UINT64 = 1
TAG_FLOAT64 = 2

_I64_MAX = np.int64(2**63 - 1)

_RAW, _RLE, _SIMPLE8B, _DOD, _RANS, _GORILLA, _ALP, _BITS = 0, 1, 2, 3, 4, 5, 6, 7


def _crc_tables() -> np.ndarray:
    """Slice-by-8 tables of CRC32C (Castagnoli, reflected polynomial 0x82F63B78)."""
    poly = 0x82F63B78
    t = np.zeros((8, 256), np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t[0, i] = c
    for k in range(1, 8):
        for i in range(256):
            c = int(t[k - 1, i])
            t[k, i] = (c >> 8) ^ int(t[0, c & 0xFF])
    return t


_CRC = _crc_tables()


@kernel
def crc32c(buf, a, end):
    """CRC32C of buf[a:end] (the value google_crc32c.value gives)."""
    c = np.uint32(0xFFFFFFFF)
    i = a
    while i + 8 <= end:
        lo = c ^ (
            np.uint32(buf[i])
            | (np.uint32(buf[i + 1]) << np.uint32(8))
            | (np.uint32(buf[i + 2]) << np.uint32(16))
            | (np.uint32(buf[i + 3]) << np.uint32(24))
        )
        c = (
            _CRC[7, lo & np.uint32(0xFF)]
            ^ _CRC[6, (lo >> np.uint32(8)) & np.uint32(0xFF)]
            ^ _CRC[5, (lo >> np.uint32(16)) & np.uint32(0xFF)]
            ^ _CRC[4, lo >> np.uint32(24)]
            ^ _CRC[3, buf[i + 4]]
            ^ _CRC[2, buf[i + 5]]
            ^ _CRC[1, buf[i + 6]]
            ^ _CRC[0, buf[i + 7]]
        )
        i += 8
    while i < end:
        c = _CRC[0, (c ^ np.uint32(buf[i])) & np.uint32(0xFF)] ^ (c >> np.uint32(8))
        i += 1
    return c ^ np.uint32(0xFFFFFFFF)


@kernel
def _ints_nested(body, blen, out):
    """A nested ``[codec id][body]`` integer payload (alp's scaled integers) into out (int64 bits).
    Returns (status, tag)."""
    if blen < 2:
        return CORRUPT, 0
    cid = body[0]
    inner = body[1:blen]
    ilen = blen - 1
    n = out.size
    if cid == _RANS:
        st = rans._decode(inner, ilen, out)
        tag = inner[0] & 1
    elif cid == _DOD:
        st = dod._decode(inner, ilen, out)
        tag = inner[0] & 1
    elif cid == _SIMPLE8B:
        if inner[0] > 1:
            return CORRUPT, 0
        st = simple8b._decode(inner, ilen, out)
        tag = inner[0]
    elif cid == _RLE:
        if inner[0] > 2:
            return CORRUPT, 0
        st = rle._decode(inner, ilen, out)
        tag = inner[0]
    elif cid == _RAW:
        if ilen != 1 + 8 * n:
            return CORRUPT, 0
        tag = inner[0]
        for i in range(n):
            p = 1 + 8 * i
            out[i] = ld32(inner, p) | (ld32(inner, p + 4) << np.uint64(32))
        st = ilen
    else:
        return FALLBACK, 0
    if st < 0:
        return CORRUPT, 0
    return OK, tag


@kernel
def _payload(buf, a, end, count, out, need=-1):
    """Decode the payload buf[a:end] (codec id, varint count, body) of ``count`` values into out
    (uint64 bit patterns). Returns (status, dtype tag). ``need`` (0 < need < count): only out[:need]
    is asked for, which a codec that can stop early (rans) decodes alone."""
    if end - a < 2:
        return CORRUPT, 0
    cid = buf[a]
    cnt, p = get_varint(buf, a + 1, end)
    if p < 0 or cnt != np.uint64(count):
        return CORRUPT, 0
    blen = end - p
    if blen < 1 and cid != _GORILLA:  # every other body opens with a head byte
        return CORRUPT, 0
    body = buf[p:end]
    o = out[:count]
    if cid == _RANS:
        st = rans._decode_prefix(body, blen, o, need) if 0 < need < count else rans._decode(body, blen, o)
        tag = body[0] & 1
    elif cid == _DOD:
        st = dod._decode(body, blen, o)
        tag = body[0] & 1
    elif cid == _GORILLA:
        st = gorilla._decode(body, blen, o)
        tag = TAG_FLOAT64
    elif cid == _ALP:
        pos, e, positions, values = _alp._parse(body, blen, count)
        if pos < 0:
            return CORRUPT, 0
        ints = np.empty(count, np.uint64)
        s, itag = _ints_nested(body[pos:blen], blen - pos, ints)
        if s != OK:
            return s, 0
        if itag != TAG_INT64:
            return CORRUPT, 0
        _alp._finish(ints.view(np.int64), e, positions, values, o.view(np.float64))
        st = blen
        tag = TAG_FLOAT64
    elif cid == _SIMPLE8B:
        if body[0] > 1:
            return CORRUPT, 0
        st = simple8b._decode(body, blen, o)
        tag = body[0]
    elif cid == _RLE:
        if body[0] > 2:
            return CORRUPT, 0
        st = rle._decode(body, blen, o)
        tag = body[0]
    elif cid == _RAW:
        if blen != 1 + 8 * count:
            return CORRUPT, 0
        tag = body[0]
        if tag > 2:
            return CORRUPT, 0
        for i in range(count):
            q = 1 + 8 * i
            o[i] = ld32(body, q) | (ld32(body, q + 4) << np.uint64(32))
        st = blen
    else:
        return FALLBACK, 0
    if st < 0:
        return CORRUPT, 0
    return OK, tag


@kernel
def _block_values(buf, at, ln, count, rows, has_validity, want_tag, verify, vals, mask, scratch, need=-1):
    """One block of a row group of ``rows`` rows into vals[:rows] (bit patterns) and mask[:rows]
    (presence). Returns OK, FALLBACK or CORRUPT. ``need`` (0 < need < rows): only the first ``need``
    rows are read (the rest of vals is left as it was; mask says present for every row) where the
    block has no validity and its codec can stop early."""
    a = at
    end = a + ln
    if verify and np.uint64(crc32c(buf, a, end)) != ld32(buf, end):
        return CORRUPT
    if not has_validity:
        if count != rows:
            return CORRUPT
        s, tag = _payload(buf, a, end, rows, vals, need)
        if s == OK and tag != want_tag:
            s = FALLBACK
        if s == OK:
            mask[:rows] = 1
        return s
    if end - a < 4:
        return CORRUPT
    vlen = np.int64(ld32(buf, a))
    va = a + 4
    ve = va + vlen
    if ve > end or ve - va < 2:
        return CORRUPT
    if buf[va] != _BITS:
        return FALLBACK
    vcnt, vp = get_varint(buf, va + 1, ve)
    if vp < 0 or vcnt != np.uint64(rows):
        return CORRUPT
    m = mask[:rows]
    if bits._decode(buf[vp:ve], ve - vp, m) < 0:
        return CORRUPT
    present = 0
    for j in range(rows):
        present += m[j]
    if present != count:
        return CORRUPT
    s, tag = _payload(buf, ve, end, count, scratch)
    if s == OK and tag != want_tag:
        s = FALLBACK
    if s != OK:
        return s
    k = 0
    for j in range(rows):
        if m[j]:
            vals[j] = scratch[k]
            k += 1
    return OK


@kernel
def decode_column(buf, offs, lens, counts, rows, validity, want_tag, out_pos, out, valid, status, verify):
    """Decode blocks i = 0.. of one column: payload buf[offs[i]:offs[i]+lens[i]] followed by its
    CRC32C (checked when ``verify``), ``counts[i]`` values for a row group of ``rows[i]`` rows starting
    at out_pos[i]. Values go to out (uint64 bit patterns; rows without a value are left as they are),
    presence to valid (uint8). Per block status: OK, FALLBACK or CORRUPT (the block's rows are then
    left to the caller). Returns the number of blocks not OK."""
    nb = offs.size
    maxrows = 0
    for i in range(nb):
        maxrows = max(maxrows, rows[i])
    scratch = np.empty(maxrows, np.uint64)
    bad = 0
    for i in range(nb):
        at = out_pos[i]
        r = rows[i]
        s = _block_values(
            buf, offs[i], lens[i], counts[i], r, validity[i], want_tag, verify,
            out[at : at + r], valid[at : at + r], scratch,
        )  # fmt: skip
        status[i] = s
        if s != OK:
            bad += 1
    return bad


@kernel
def _acc_integer(
    vals, mask, tt, run_s, nr, c, p, o_count, o_sum, o_min, o_max, o_first, o_ftime, o_last, o_ltime,
    o_mintime, o_maxtime, signed,
):  # fmt: skip
    """Per run of int64 (``signed``) or uint64 values (as uint64 bits): count, sum (wrapping, the same
    bits either way), min and max (the first row holding each, and its time), first and last."""
    iv = vals.view(np.int64)
    flip = np.int64(0) if signed else np.int64(-(2**63))  # (x ^ the sign bit orders uint64 as int64)
    for k in range(nr):
        n = 0
        mn = np.int64(0)
        mx = np.int64(0)
        imin = -1
        imax = -1
        ifirst = -1
        ilast = -1
        su = np.uint64(0)
        for j in range(run_s[k], run_s[k + 1]):
            if mask[j]:
                v = iv[j] ^ flip
                if ifirst < 0:
                    ifirst = j
                    mn = v
                    mx = v
                    imin = j
                    imax = j
                elif v < mn:
                    mn = v
                    imin = j
                elif v > mx:
                    mx = v
                    imax = j
                su += vals[j]
                ilast = j
                n += 1
        q = p + k
        o_count[c, q] = n
        if n:
            o_sum[c, q] = su
            o_min[c, q] = vals[imin]
            o_max[c, q] = vals[imax]
            o_mintime[c, q] = tt[imin]
            o_maxtime[c, q] = tt[imax]
            o_first[c, q] = vals[ifirst]
            o_ftime[c, q] = tt[ifirst]
            o_last[c, q] = vals[ilast]
            o_ltime[c, q] = tt[ilast]


@kernel
def _acc_float(
    vals, mask, tt, run_s, nr, c, p, o_count, o_sumf, o_min, o_max, o_first, o_ftime, o_last, o_ltime,
    o_mintime, o_maxtime,
):  # fmt: skip
    """NaN sorts above every number: min skips it (unless every value is NaN), max is NaN when any
    value is (numpy's fmin / maximum)."""
    fv = vals.view(np.float64)
    for k in range(nr):
        n = 0
        imin = -1
        imax = -1
        ifirst = -1
        ilast = -1
        sf = 0.0
        for j in range(run_s[k], run_s[k + 1]):
            if mask[j]:
                v = fv[j]
                if ifirst < 0:
                    ifirst = j
                    imin = j
                    imax = j
                else:
                    if np.isnan(fv[imin]) or v < fv[imin]:
                        imin = j
                    if not np.isnan(fv[imax]) and (np.isnan(v) or v > fv[imax]):
                        imax = j
                sf += v
                ilast = j
                n += 1
        q = p + k
        o_count[c, q] = n
        if n:
            o_sumf[c, q] = sf
            o_min[c, q] = vals[imin]
            o_max[c, q] = vals[imax]
            o_mintime[c, q] = tt[imin]
            o_maxtime[c, q] = tt[imax]
            o_first[c, q] = vals[ifirst]
            o_ftime[c, q] = tt[ifirst]
            o_last[c, q] = vals[ilast]
            o_ltime[c, q] = tt[ilast]


@kernel
def _acc_spread(vals, mask, kind, run_s, nr, c, p, o_mean, o_m2):
    """Per run k (slot p + k) of column c: the mean of its values and the sum of their squared
    distances from it (two passes: exact enough for a variance of values far from 0), as float64 bits;
    kind: the values' TAG_* (integers as float64)."""
    iv = vals.view(np.int64)
    fv = vals.view(np.float64)
    for k in range(nr):
        n = 0
        total = 0.0
        for j in range(run_s[k], run_s[k + 1]):
            if mask[j]:
                x = fv[j] if kind == TAG_FLOAT64 else (float(iv[j]) if kind == TAG_INT64 else float(vals[j]))
                total += x
                n += 1
        if n == 0:
            continue
        mean = total / n
        m2 = 0.0
        for j in range(run_s[k], run_s[k + 1]):
            if mask[j]:
                x = fv[j] if kind == TAG_FLOAT64 else (float(iv[j]) if kind == TAG_INT64 else float(vals[j]))
                m2 += (x - mean) * (x - mean)
        o_mean[c, p + k] = mean
        o_m2[c, p + k] = m2


@kernel
def aggregate_groups(
    buf, at, ln, cnt, validity, rows, series, tags, tmin, tmax, every, offset, verify, spread,
    t_col, t_tag, t_kind, t_op, t_i, t_u, t_f,
    o_keys, o_acc, status,
):  # fmt: skip
    """Partial aggregates per (series, time bucket) of row groups, decoding each block into a small
    scratch buffer (nothing the size of the scan is materialised).

    Group g: time block and the blocks of columns 1.. at at[g, c] (-1: absent) in buf, ``rows[g]``
    rows of series ``series[g]``; column c has dtype tag tags[c - 1] (0 int64, 1 uint64, 2 float64).
    Rows outside [tmin, tmax] are skipped; bucket = (t - offset) // every * every + offset (every 0:
    one bucket, 0). Per (series, bucket) run of a group one output slot p (with the times of its first
    and last row, o_rtmin / o_rtmax, and its rows, o_rows), per column c - 1:
    count, sum (o_sum: uint64 bits for integers, which wrap like int64; o_sumf: floats), the bit patterns
    of min, max, first (+ its time), last (+ its time), and the times of the first rows holding the
    min and the max (o_mintime, o_maxtime: InfluxQL's selectors return the selected point's time);
    with ``spread`` also each run's mean and the sum of squared distances from it (o_mean, o_m2:
    float64s, for variances and standard deviations). NaN sorts above every number: min skips it,
    max is NaN when any value is. Only rows satisfying the terms (as in filter_groups; none: every
    row) count, and runs start at such rows. A group whose blocks the kernel cannot decode writes
    nothing and gets status != OK (the caller reads it the ordinary way). Returns the slots used.

    The outputs are two blocks (columnar.scan.Partials): o_keys (int64: series, bucket, rtmin, rtmax,
    rows x slot) and o_acc (uint64 bits: count, sum, sumf, min, max, first, ftime, last, ltime,
    mintime, maxtime, mean, m2 x column x slot): two arguments, not eighteen, to pass.
    """
    o_series, o_bucket, o_rtmin, o_rtmax, o_rows = o_keys[0], o_keys[1], o_keys[2], o_keys[3], o_keys[4]
    o_count, o_sum, o_sumf = o_acc[0].view(np.int64), o_acc[1], o_acc[2].view(np.float64)
    o_min, o_max, o_first, o_ftime = o_acc[3], o_acc[4], o_acc[5], o_acc[6].view(np.int64)
    o_last, o_ltime = o_acc[7], o_acc[8].view(np.int64)
    o_mintime, o_maxtime = o_acc[9].view(np.int64), o_acc[10].view(np.int64)
    o_mean, o_m2 = o_acc[11].view(np.float64), o_acc[12].view(np.float64)
    ng = rows.size
    ncol = tags.size
    maxrows = 0
    for g in range(ng):
        maxrows = max(maxrows, rows[g])
    tvals = np.empty(maxrows, np.uint64)
    tmask = np.empty(maxrows, np.uint8)
    vals = np.empty(maxrows, np.uint64)
    mask = np.empty(maxrows, np.uint8)
    scratch = np.empty(maxrows, np.uint64)
    run_s = np.empty(maxrows + 1, np.int64)
    run_b = np.empty(maxrows + 1, np.int64)
    run_t = np.empty(maxrows + 1, np.int64)  # time of the run's last counted row
    run_n = np.empty(maxrows + 1, np.int64)  # the run's counted rows
    keep = np.empty(maxrows, np.uint8)
    p = 0
    for g in range(ng):
        r = rows[g]
        status[g] = _block_values(
            buf, at[g, 0], ln[g, 0], r, r, False, TAG_INT64, verify, tvals, tmask, scratch
        )
        if status[g] != OK:
            continue
        tt = tvals[:r].view(np.int64)
        lo = 0
        while lo < r and tt[lo] < tmin:
            lo += 1
        hi = r
        while hi > lo and tt[hi - 1] > tmax:
            hi -= 1
        if lo >= hi:
            continue
        keep[:r] = 0
        keep[lo:hi] = 1
        status[g] = _apply_terms(
            buf, at, ln, cnt, validity, g, r, t_col, t_tag, t_kind, t_op, t_i, t_u, t_f, verify,
            vals, mask, scratch, keep,
        )  # fmt: skip
        if status[g] != OK:
            continue
        # runs of equal bucket among the counted rows of lo..hi-1 (times are sorted within a group);
        # a run starts at a counted row and runs to the next run's start
        nr = 0
        j = lo
        while j < hi:
            if not keep[j]:
                j += 1
                continue
            if every > 0:
                b = ((tt[j] - offset) // every) * every + offset
                last_t = b + (every - 1) if b <= _I64_MAX - (every - 1) else _I64_MAX
            else:
                b = np.int64(0)
                last_t = _I64_MAX
            run_s[nr] = j
            run_b[nr] = b
            run_t[nr] = tt[j]
            run_n[nr] = 1
            j += 1
            while j < hi and tt[j] <= last_t:
                if keep[j]:
                    run_t[nr] = tt[j]
                    run_n[nr] += 1
                j += 1
            nr += 1
        if nr == 0:
            continue
        run_s[nr] = hi
        for k in range(nr):
            o_series[p + k] = series[g]
            o_bucket[p + k] = run_b[k]
            o_rtmin[p + k] = tt[run_s[k]]
            o_rtmax[p + k] = run_t[k]
            o_rows[p + k] = run_n[k]
        failed = False
        for c in range(ncol):
            a = at[g, c + 1]
            if a < 0:
                for k in range(nr):
                    o_count[c, p + k] = 0
                continue
            s = _block_values(
                buf,
                a,
                ln[g, c + 1],
                cnt[g, c + 1],
                r,
                validity[g, c + 1],
                tags[c],
                verify,
                vals,
                mask,
                scratch,
                hi,  # (the rows after the window's last are never read)
            )
            if s != OK:
                status[g] = s
                failed = True
                break
            for jj in range(r):
                mask[jj] &= keep[jj]
            kind = tags[c]
            if kind == TAG_FLOAT64:
                _acc_float(
                    vals,
                    mask,
                    tt,
                    run_s,
                    nr,
                    c,
                    p,
                    o_count,
                    o_sumf,
                    o_min,
                    o_max,
                    o_first,
                    o_ftime,
                    o_last,
                    o_ltime,
                    o_mintime,
                    o_maxtime,
                )
            else:
                _acc_integer(
                    vals, mask, tt, run_s, nr, c, p, o_count, o_sum, o_min, o_max, o_first, o_ftime,
                    o_last, o_ltime, o_mintime, o_maxtime, kind == TAG_INT64,
                )  # fmt: skip
            if spread:
                _acc_spread(vals, mask, kind, run_s, nr, c, p, o_mean, o_m2)
        if failed:
            continue
        p += nr
    return p


@kernel
def runs(series, time, every, offset, run_s, run_b):
    """Runs of equal (series, time bucket) in rows sorted by (series, time): run k is rows
    run_s[k] .. run_s[k + 1] - 1 of bucket run_b[k] (every 0: one bucket, 0). Returns the count."""
    n = series.size
    nr = 0
    j = 0
    while j < n:
        s = series[j]
        if every > 0:
            b = ((time[j] - offset) // every) * every + offset
            last_t = b + (every - 1) if b <= _I64_MAX - (every - 1) else _I64_MAX
        else:
            b = np.int64(0)
            last_t = _I64_MAX
        run_s[nr] = j
        run_b[nr] = b
        nr += 1
        j += 1
        while j < n and series[j] == s and time[j] <= last_t:
            j += 1
    run_s[nr] = n
    return nr


@kernel
def run_keys(series, time, run_s, run_b, nr, o_keys):
    """The piece keys of the runs :func:`runs` found: o_keys rows (series, bucket, first time, last
    time, rows) x run, as columnar.scan.Partials keeps them."""
    for k in range(nr):
        a = run_s[k]
        b = run_s[k + 1]
        o_keys[0, k] = series[a]
        o_keys[1, k] = run_b[k]
        o_keys[2, k] = time[a]
        o_keys[3, k] = time[b - 1]
        o_keys[4, k] = b - a


@kernel
def rows_accumulate(vals, mask, tt, run_s, nr, c, kind, spread, o_acc):
    """Per run k of rows sorted by (series, time) (run_s as :func:`runs` makes them): column c's
    partial aggregates into o_acc (columnar.scan.Partials' block) as aggregate_groups writes them.
    ``vals``: the values as uint64 bits of ``kind`` (TAG_*); ``mask``: which rows hold a value (empty:
    every row)."""
    if mask.size == 0:
        mask = np.ones(vals.size, np.uint8)
    o_count, o_sum, o_sumf = o_acc[0].view(np.int64), o_acc[1], o_acc[2].view(np.float64)
    o_min, o_max, o_first, o_ftime = o_acc[3], o_acc[4], o_acc[5], o_acc[6].view(np.int64)
    o_last, o_ltime = o_acc[7], o_acc[8].view(np.int64)
    o_mintime, o_maxtime = o_acc[9].view(np.int64), o_acc[10].view(np.int64)
    if kind == TAG_FLOAT64:
        _acc_float(
            vals, mask, tt, run_s, nr, c, 0, o_count, o_sumf, o_min, o_max, o_first, o_ftime, o_last,
            o_ltime, o_mintime, o_maxtime,
        )  # fmt: skip
    else:
        _acc_integer(
            vals, mask, tt, run_s, nr, c, 0, o_count, o_sum, o_min, o_max, o_first, o_ftime, o_last,
            o_ltime, o_mintime, o_maxtime, kind == TAG_INT64,
        )  # fmt: skip
    if spread:
        _acc_spread(vals, mask, kind, run_s, nr, c, 0, o_acc[11].view(np.float64), o_acc[12].view(np.float64))


# -- filtered scans ------------------------------------------------------------------------------------
# A predicate is a conjunction of terms ``value <op> constant`` on columns 1.. of the spans; each term
# compares as int64, uint64 or float64 (NaN above every number and equal to NaN, as PostgreSQL).
# A row whose value is missing (NULL) fails every term.
OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE = 0, 1, 2, 3, 4, 5
CMP_INT, CMP_UINT, CMP_FLOAT, CMP_FALSE, CMP_TRUE = 0, 1, 2, 3, 4


@kernel
def _cmp(c, op):
    """c: -1, 0, 1 (value below, equal to, above the constant) -> the term's truth."""
    if op == OP_LT:
        return c < 0
    if op == OP_LE:
        return c <= 0
    if op == OP_GT:
        return c > 0
    if op == OP_GE:
        return c >= 0
    if op == OP_EQ:
        return c == 0
    return c != 0


@kernel
def _apply_terms(
    buf, at, ln, cnt, validity, g, r, t_col, t_tag, t_kind, t_op, t_i, t_u, t_f, verify, vals, mask, scratch,
    keep,
):  # fmt: skip
    """Clear keep[j] for the rows of group g that fail a term (all of them when a term's column has
    no block in the group); the status of decoding the terms' blocks."""
    for k in range(t_col.size):
        c = t_col[k]
        a = at[g, c]
        if a < 0:
            keep[:r] = 0
            return OK
        s = _block_values(
            buf, a, ln[g, c], cnt[g, c], r, validity[g, c], t_tag[k], verify, vals, mask, scratch
        )
        if s != OK:
            return s
        _term(vals, mask, r, t_kind[k], t_op[k], t_i[k], t_u[k], t_f[k], keep)
    return OK


@kernel
def _term(vals, mask, r, kind, op, ci, cu, cf, keep):
    """keep[j] &= (row j's value satisfies the term), for rows 0..r-1."""
    if kind == CMP_FALSE:
        keep[:r] = 0
        return
    if kind == CMP_TRUE:
        for j in range(r):
            keep[j] &= mask[j]
        return
    iv = vals.view(np.int64)
    fv = vals.view(np.float64)
    for j in range(r):
        if not keep[j]:
            continue
        if not mask[j]:
            keep[j] = 0
            continue
        if kind == CMP_INT:
            v = iv[j]
            c = -1 if v < ci else (1 if v > ci else 0)
        elif kind == CMP_UINT:
            u = vals[j]
            c = -1 if u < cu else (1 if u > cu else 0)
        else:
            f = fv[j]
            if np.isnan(f):
                c = 0 if np.isnan(cf) else 1
            elif np.isnan(cf):
                c = -1
            else:
                c = -1 if f < cf else (1 if f > cf else 0)
        if not _cmp(c, op):
            keep[j] = 0


@kernel
def filter_groups(
    buf, at, ln, cnt, validity, rows, tmin, tmax, t_col, t_tag, t_kind, t_op, t_i, t_u, t_f, verify,
    sel, matches, status,
):  # fmt: skip
    """Rows of each group within [tmin, tmax] that satisfy every term (term k on spans column
    t_col[k], decoded with dtype tag t_tag[k]). Matching rows' positions within their group go to
    sel (group after group), their number per group to matches; status per group as elsewhere (a
    group not OK has no matches). Returns the total."""
    ng = rows.size
    maxrows = 0
    for g in range(ng):
        maxrows = max(maxrows, rows[g])
    tvals = np.empty(maxrows, np.uint64)
    tmask = np.empty(maxrows, np.uint8)
    vals = np.empty(maxrows, np.uint64)
    mask = np.empty(maxrows, np.uint8)
    scratch = np.empty(maxrows, np.uint64)
    keep = np.empty(maxrows, np.uint8)
    total = 0
    for g in range(ng):
        r = rows[g]
        matches[g] = 0
        s = _block_values(buf, at[g, 0], ln[g, 0], r, r, False, TAG_INT64, verify, tvals, tmask, scratch)
        status[g] = s
        if s != OK:
            continue
        tt = tvals.view(np.int64)
        for j in range(r):
            keep[j] = 1 if tmin <= tt[j] <= tmax else 0
        status[g] = _apply_terms(
            buf, at, ln, cnt, validity, g, r, t_col, t_tag, t_kind, t_op, t_i, t_u, t_f, verify,
            vals, mask, scratch, keep,
        )  # fmt: skip
        if status[g] != OK:
            continue
        n = 0
        for j in range(r):
            if keep[j]:
                sel[total + n] = j
                n += 1
        matches[g] = n
        total += n
    return total


@kernel
def gather_column(buf, at, ln, cnt, validity, rows, col, want_tag, verify, sel, matches, out, valid, status):
    """Column ``col`` of the spans at the selected rows (sel/matches from filter_groups), into
    out/valid (uint64 bits / presence) in that order; groups without matches are not decoded.
    status per group as elsewhere (a group not OK leaves its rows to the caller)."""
    ng = rows.size
    maxrows = 0
    for g in range(ng):
        maxrows = max(maxrows, rows[g])
    vals = np.empty(maxrows, np.uint64)
    mask = np.empty(maxrows, np.uint8)
    scratch = np.empty(maxrows, np.uint64)
    pos = 0
    for g in range(ng):
        m = matches[g]
        status[g] = OK
        if m == 0:
            continue
        a = at[g, col]
        if a < 0:
            for k in range(m):
                out[pos + k] = 0
                valid[pos + k] = 0
            pos += m
            continue
        r = rows[g]
        s = _block_values(
            buf, a, ln[g, col], cnt[g, col], r, validity[g, col], want_tag, verify, vals, mask, scratch
        )
        status[g] = s
        if s == OK:
            for k in range(m):
                j = sel[pos + k]
                out[pos + k] = vals[j]
                valid[pos + k] = mask[j]
        pos += m


@kernel
def gather_columns(buf, at, ln, cnt, validity, rows, cols, tags, verify, sel, matches, out, valid, failed):
    """:func:`gather_column` for each column ``cols[i]`` (type tag ``tags[i]``) into ``out[i]`` /
    ``valid[i]``, in one call; ``failed[g]`` is set where a column of group g is not OK."""
    st = np.zeros(rows.size, np.int8)
    for i in range(cols.size):
        gather_column(
            buf, at, ln, cnt, validity, rows, cols[i], tags[i], verify, sel, matches, out[i], valid[i], st
        )
        for g in range(rows.size):
            if st[g] != OK:
                failed[g] = True


@kernel
def last_in_range(time, lo, hi, tmin, tmax, out):
    """For segments [lo[k], hi[k]) of ascending times: the index of the last time within
    [tmin, tmax], or -1 (binary search per segment)."""
    for k in range(lo.size):
        a = lo[k]
        b = hi[k]
        while a < b:  # first index with time > tmax
            m = (a + b) >> 1
            if time[m] <= tmax:
                a = m + 1
            else:
                b = m
        j = a - 1
        out[k] = j if j >= lo[k] and time[j] >= tmin else -1


@kernel
def time_hits(time, lo, hi, tmin, tmax, out):
    """For segments [lo[k], hi[k]) of ascending times: ``out[k]`` set when one of them lies in
    [tmin[k], tmax[k]] (left as it is otherwise)."""
    for k in range(lo.size):
        a = lo[k]
        b = hi[k]
        while a < b:  # first index with time >= tmin[k]
            m = (a + b) >> 1
            if time[m] < tmin[k]:
                a = m + 1
            else:
                b = m
        if a < hi[k] and time[a] <= tmax[k]:
            out[k] = True


@kernel
def time_slices(time, lo, hi, tmin, tmax, a_out, b_out):
    """For segments [lo[k], hi[k]) of ascending times: the sub-range [a, b) of times in
    [tmin, tmax] (binary searches)."""
    for k in range(lo.size):
        a = lo[k]
        b = hi[k]
        while a < b:  # first index with time >= tmin
            m = (a + b) >> 1
            if time[m] < tmin:
                a = m + 1
            else:
                b = m
        a_out[k] = a
        b = hi[k]
        c = a
        while c < b:  # first index with time > tmax
            m = (c + b) >> 1
            if time[m] <= tmax:
                c = m + 1
            else:
                b = m
        b_out[k] = c
