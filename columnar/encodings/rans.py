"""rans: integers as an entropy-coded stream (order-0 rANS with a per-block frequency table).

Meant for noisy gauges, where whole-bit widths waste most: a random walk with N(0, 1) steps needs 3
bits a delta in simple8b but carries about 2.1 bits of information. The block becomes an unsigned
stream through the integer front end (``_ints.py``: order 0 values - min, order 1 divided deltas
around their median, order 2 delta-of-deltas; the order with the smallest estimated size wins).

Each stream value u becomes a *symbol* and, when large, raw *extra bits*; every octave above 16 is
split in 8 symbols, so the coded part follows the distribution's shape and only the low bits go raw:

| u                   | symbol                                    | extra bits                   |
|---------------------|-------------------------------------------|------------------------------|
| 0 .. 15             | u                                         | none                         |
| >= 16, with n bits  | 16 + 8 (n - 5) + the 3 bits after the top | the n - 4 bits below, raw    |
|                     | bit (so 16 .. 495)                        |                              |

Symbols are coded with rANS: a 32-bit state in [2**16, 2**32), 16-bit renormalisation, frequencies
summing to 2**P (P = 10). The table sends each symbol's frequency as a 4-bit code: 0 = absent, else
d + 1 where the weight is 2**(12 - d/2), d = round(2 log2(max count / count)) capped at 14. The
decoder rebuilds the frequencies from the codes with integer arithmetic only (``_freqs``), so encoder
and decoder agree on every platform. Coarse weights cost under 0.01 bit a value; the table stays a
few bytes.

| bytes      | field                                                                      |
|------------|----------------------------------------------------------------------------|
| ...        | the integer front-end header (head byte, first value, divisor, base)       |
| (the rest only when the stream is not empty)                                            |
| varint     | S - 1: symbols 0 .. S-1 have codes                                         |
| 1          | P                                                                          |
| ceil(S/2)  | the S 4-bit codes, two a byte, low nibble first                            |
| varint R   | length of the rANS section                                                 |
| R          | final states 0 and 1 (4 bytes LE each), then 16-bit LE words in reading   |
|            | order; even values use state 0, odd values state 1                         |
| ...        | extra bits, LSB-first, in value order, to the end of the body              |

An empty block is the head byte alone.
"""

from __future__ import annotations

import numpy as np

from columnar.encodings import _ints
from columnar.encodings._core import (
    E_INVALID,
    E_TRAILING,
    E_TRUNCATED,
    TAG_DTYPES,
    U0,
    U1,
    CorruptPayload,
    as_u64,
    bitlen,
    check,
    get_varint,
    kernel,
    ld32,
    ld64,
    low_mask,
    put_varint,
    st64,
    tag_of,
    varint_len,
)

ID = 4
NAME = "rans"
KINDS = ("time", "int", "uint")

P = 10  # 2**10 slots: as small as 2**12 on 1,024-value blocks (measured), and a quarter of the table to build
PMIN = 4
NSYM = 496
_L = np.uint64(1 << 16)
_WEIGHTS = np.array([round(2 ** (12 - d / 2)) for d in range(15)], np.int64)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    nextra = np.zeros(NSYM, np.int64)
    base = np.arange(NSYM, dtype=np.uint64)
    for s in range(16, NSYM):
        nb = (s - 16) // 8 + 5
        nextra[s] = nb - 4
        base[s] = (8 | ((s - 16) & 7)) << (nb - 4)
    return nextra, base


_NEXTRA, _BASE = _tables()


@kernel
def _sym(u):
    if u < np.uint64(16):
        return np.int64(u)
    nb = bitlen(u)
    return 16 + 8 * (nb - 5) + np.int64((u >> np.uint64(nb - 4)) & np.uint64(7))


@kernel
def _codes(counts, nsym, codes):
    cmax = 0
    for s in range(nsym):
        cmax = max(cmax, counts[s])
    for s in range(nsym):
        if counts[s] == 0:
            codes[s] = 0
        else:
            d = np.int64(np.rint(2.0 * np.log2(cmax / counts[s])))
            codes[s] = min(d, 14) + 1


@kernel
def _freqs(codes, nsym, p, freq):
    """Frequencies summing to 2**p from the 4-bit codes; False when they cannot be made."""
    total_slots = 1 << p
    sumw = 0
    present = 0
    big = -1
    for s in range(nsym):
        freq[s] = 0
        if codes[s]:
            w = _WEIGHTS[codes[s] - 1]
            sumw += w
            present += 1
            if big < 0 or codes[s] < codes[big]:
                big = s
    if present == 0 or present > total_slots // 2:
        return False
    total = 0
    for s in range(nsym):
        if codes[s]:
            f = (_WEIGHTS[codes[s] - 1] * total_slots) // sumw
            if f < 1:
                f = 1
            freq[s] = f
            total += f
    if total <= total_slots:
        freq[big] += total_slots - total
        return True
    excess = total - total_slots  # rare symbols raised to 1: take it back from the largest
    while excess > 0:
        top = -1
        top_f = 1
        for s in range(nsym):
            if freq[s] > top_f:
                top_f = freq[s]
                top = s
        if top < 0:
            return False
        take = min(excess, top_f - 1, max(1, top_f // 8))
        freq[top] -= take
        excess -= take
    return True


@kernel
def _estimate(u, counts, codes, freq):
    """Estimated coded bits of a stream (counts/codes/freq are filled as scratch); -1 if unusable."""
    counts[:] = 0
    extra = 0
    for i in range(u.size):
        s = _sym(u[i])
        counts[s] += 1
        extra += _NEXTRA[s]
    nsym = 0
    for s in range(NSYM - 1, -1, -1):
        if counts[s]:
            nsym = s + 1
            break
    if nsym == 0:
        return 0.0, 0
    _codes(counts, nsym, codes)
    if not _freqs(codes, nsym, P, freq):
        return -1.0, nsym
    bits = float(extra + 4 * nsym + 8 * (varint_len(np.uint64(nsym - 1)) + 1) + 64 + 16)
    for s in range(nsym):
        if counts[s]:
            bits += counts[s] * (P - np.log2(freq[s]))
    return bits, nsym


@kernel
def _encode(x, tag):
    n = x.size
    if n == 0:
        out = np.empty(1, np.uint8)
        out[0] = tag
        return out
    u0, lo, u1, c, u2, q1, g = _ints.candidates(x)
    counts = np.zeros(NSYM, np.int64)
    codes = np.zeros(NSYM, np.int64)
    freq = np.zeros(NSYM, np.int64)
    head = np.empty(_ints.HEADER_MAX, np.uint8)
    best_order = -1
    best_bits = 0.0
    for order in range(3):
        if order > n - 1:
            break
        base = lo if order == 0 else (c if order == 1 else q1)
        hbits = 8 * _ints.put_header(head, tag, order, g, x[0], base)
        bits, _ = _estimate(u0 if order == 0 else (u1 if order == 1 else u2), counts, codes, freq)
        if bits >= 0 and (best_order < 0 or bits + hbits < best_bits):
            best_order = order
            best_bits = bits + hbits
    if best_order < 0:
        return np.empty(0, np.uint8)
    order = best_order
    u = u0 if order == 0 else (u1 if order == 1 else u2)
    m = u.size
    out = np.empty(_ints.HEADER_MAX + 64 + NSYM + 10 * m, np.uint8)
    pos = _ints.put_header(out, tag, order, g, x[0], lo if order == 0 else (c if order == 1 else q1))
    if m == 0:
        return out[:pos]
    _, nsym = _estimate(u, counts, codes, freq)
    cum = np.zeros(NSYM + 1, np.int64)
    for s in range(nsym):
        cum[s + 1] = cum[s] + freq[s]

    pos = put_varint(out, pos, np.uint64(nsym - 1))
    out[pos] = P
    pos += 1
    for k in range((nsym + 1) // 2):
        lo_code = codes[2 * k]
        hi_code = codes[2 * k + 1] if 2 * k + 1 < nsym else 0
        out[pos + k] = lo_code | (hi_code << 4)
    pos += (nsym + 1) // 2

    # rANS with two interleaved states (even values on state 0, odd on state 1), last value first;
    # the words come out in reverse reading order
    syms = np.empty(m, np.int64)
    for i in range(m):
        syms[i] = _sym(u[i])
    words = np.empty(m + 2, np.uint16)
    nw = 0
    st0 = _L
    st1 = _L
    shift = np.uint64(32 - P)
    for i in range(m - 1, -1, -1):
        s = syms[i]
        f = np.uint64(freq[s])
        st = st1 if i & 1 else st0
        if st >= (f << shift):
            words[nw] = np.uint16(st & np.uint64(0xFFFF))
            nw += 1
            st >>= np.uint64(16)
        qt = np.uint64(np.uint32(st) // np.uint32(f))  # 32-bit division: st < 2**32
        st = (qt << np.uint64(P)) + (st - qt * f) + np.uint64(cum[s])
        if i & 1:
            st1 = st
        else:
            st0 = st
    pos = put_varint(out, pos, np.uint64(8 + 2 * nw))
    st64(out, pos, st0 | (st1 << np.uint64(32)))
    pos += 8
    for k in range(nw):
        wv = words[nw - 1 - k]
        out[pos] = np.uint8(wv & 0xFF)
        out[pos + 1] = np.uint8(wv >> 8)
        pos += 2

    # extra bits
    acc = U0
    nacc = 0
    for i in range(m):
        ne = _NEXTRA[syms[i]]
        if ne == 0:
            continue
        v = u[i] & low_mask(ne)
        acc |= v << np.uint64(nacc)
        if nacc + ne >= 64:
            st64(out, pos, acc)
            pos += 8
            used = 64 - nacc
            acc = (v >> np.uint64(used)) if used < 64 else U0
            nacc = nacc + ne - 64
        else:
            nacc += ne
    for k in range((nacc + 7) // 8):
        out[pos + k] = np.uint8((acc >> np.uint64(8 * k)) & np.uint64(0xFF))
    pos += (nacc + 7) // 8
    return out[:pos]


@kernel
def _decode_stream(buf, pos, end, out, start, partial=False):
    """Decode the coded stream at buf[pos:end] into out[start:]; return end or a negative status.
    ``partial``: out ends before the stream does (a prefix of the block's values): the checks that
    need the whole stream (final states, the extra bits' length) are skipped."""
    m = out.size - start
    nsym_m1, pos = get_varint(buf, pos, end)
    if pos < 0:
        return pos
    if nsym_m1 >= np.uint64(NSYM):
        return E_INVALID
    nsym = np.int64(nsym_m1) + 1
    if pos + 1 + (nsym + 1) // 2 > end:
        return E_TRUNCATED
    p = np.int64(buf[pos])
    if p < PMIN or p > P:
        return E_INVALID
    pos += 1
    codes = np.empty(nsym, np.int64)
    for s in range(nsym):
        codes[s] = (buf[pos + (s >> 1)] >> (4 * (s & 1))) & 15
    if codes[nsym - 1] == 0 or (nsym & 1 and buf[pos + (nsym >> 1)] >> 4):
        return E_INVALID
    pos += (nsym + 1) // 2
    freq = np.empty(nsym, np.int64)
    if not _freqs(codes, nsym, p, freq):
        return E_INVALID
    # one uint32 per slot: symbol (bits 22-30), frequency - 1 (bits 11-21), slot - cumulative (0-10)
    total_slots = 1 << p
    table = np.empty(total_slots, np.uint32)
    c = 0
    for s in range(nsym):
        f = freq[s]
        hi = (s << 22) | ((f - 1) << 11)
        for k in range(f):
            table[c + k] = hi | k
        c += f
    rlen, pos = get_varint(buf, pos, end)
    if pos < 0:
        return pos
    if rlen < np.uint64(8) or rlen > np.uint64(end - pos) or (rlen & np.uint64(1)):
        return E_INVALID
    rend = pos + np.int64(rlen)
    ep = rend  # extra bits start here
    both = ld64(buf, pos)
    st0 = both & np.uint64(0xFFFFFFFF)
    st1 = both >> np.uint64(32)
    if st0 < _L or st1 < _L:
        return E_INVALID
    rp = pos + 8
    mask = np.uint64(total_slots - 1)
    up = np.uint64(p)
    m11 = np.uint64(2047)
    # pass 1: symbols only (the extra-bit reads, even untaken, would halve this loop's speed)
    i = 0
    while i < m:
        e = np.uint64(table[np.int64(st0 & mask)])
        st0 = (((e >> np.uint64(11)) & m11) + np.uint64(1)) * (st0 >> up) + (e & m11)
        if st0 < _L:
            if rp + 2 > rend:
                return E_TRUNCATED
            st0 = (st0 << np.uint64(16)) | np.uint64(buf[rp]) | (np.uint64(buf[rp + 1]) << np.uint64(8))
            rp += 2
        out[start + i] = e >> np.uint64(22)
        if i + 1 == m:
            break
        e = np.uint64(table[np.int64(st1 & mask)])
        st1 = (((e >> np.uint64(11)) & m11) + np.uint64(1)) * (st1 >> up) + (e & m11)
        if st1 < _L:
            if rp + 2 > rend:
                return E_TRUNCATED
            st1 = (st1 << np.uint64(16)) | np.uint64(buf[rp]) | (np.uint64(buf[rp + 1]) << np.uint64(8))
            rp += 2
        out[start + i + 1] = e >> np.uint64(22)
        i += 2
    # pass 2: symbols >= 16 take their extra bits, through a 64-bit bit buffer (branch-free for the
    # usual <= 32 extra bits: symbols < 16 take 0 bits)
    ebit = 0
    if nsym > 16:
        acc = U0
        nacc = 0
        bp = ep
        for i in range(start, start + m):
            s = np.int64(out[i])
            ne = max((s >> 3) - 1, 0)
            if ne > 32:
                if nacc < 32:  # the low 32 bits first
                    while nacc <= 56 and bp < end:
                        acc |= np.uint64(buf[bp]) << np.uint64(nacc)
                        bp += 1
                        nacc += 8
                    if nacc < 32:
                        return E_TRUNCATED
                v = acc & np.uint64(0xFFFFFFFF)
                acc >>= np.uint64(32)
                nacc -= 32
                hi_n = ne - 32
                if nacc < hi_n:
                    while nacc <= 56 and bp < end:
                        acc |= np.uint64(buf[bp]) << np.uint64(nacc)
                        bp += 1
                        nacc += 8
                    if nacc < hi_n:
                        return E_TRUNCATED
                v |= (acc & low_mask(hi_n)) << np.uint64(32)
                acc >>= np.uint64(hi_n)
                nacc -= hi_n
            else:
                if nacc < ne:
                    if bp + 4 <= end:
                        acc |= ld32(buf, bp) << np.uint64(nacc)
                        bp += 4
                        nacc += 32
                    else:
                        while nacc <= 56 and bp < end:
                            acc |= np.uint64(buf[bp]) << np.uint64(nacc)
                            bp += 1
                            nacc += 8
                        if nacc < ne:
                            return E_TRUNCATED
                v = acc & ((U1 << np.uint64(ne)) - U1)
                acc >>= np.uint64(ne)
                nacc -= ne
            out[i] = _BASE[s] | v
            ebit += ne
    if partial:
        return end
    if st0 != _L or st1 != _L or rp != rend:
        return E_INVALID
    if (ebit + 7) >> 3 != end - ep:
        return E_TRAILING
    return end


@kernel
def _decode(buf, end, out):
    n = out.size
    if n == 0:
        if buf[0] > 1:
            return E_INVALID
        return 1 if end == 1 else E_TRAILING
    pos, order, g, x0, base = _ints.get_header(buf, end, n)
    if pos < 0:
        return pos
    start = min(order, n)
    if start < n:
        pos = _decode_stream(buf, pos, end, out, start)
        if pos < 0:
            return pos
    elif pos != end:
        return E_TRAILING
    _ints.undo(out, order, g, x0, base)
    return end


@kernel
def _decode_prefix(buf, end, out, need):
    """The first ``need`` of a block's out.size values into out[:need] (what a scan of a time range
    that ends inside the block reads): the coded stream is decoded that far and no further; the
    rest of out is left as it was. Corruption past the prefix is not seen (the block's checksum is
    what guards the bytes). Returns end or a negative status."""
    n = out.size
    if need >= n or need <= 2:
        return _decode(buf, end, out)
    pos, order, g, x0, base = _ints.get_header(buf, end, n)
    if pos < 0:
        return pos
    head = out[:need]
    if order < need:
        pos = _decode_stream(buf, pos, end, head, order, True)
        if pos < 0:
            return pos
    _ints.undo(head, order, g, x0, base)
    return end


def encode(values: np.ndarray) -> bytes | None:
    out = _encode(as_u64(values), tag_of(values))
    return out.tobytes() if out.size else None


def decode(body: memoryview, count: int) -> np.ndarray:
    # kept lean: this runs once per block of every scan
    end = len(body)
    if end < 1:
        raise CorruptPayload("rans: empty body")
    out = np.empty(count, np.uint64)
    status = _decode(np.frombuffer(body, np.uint8), end, out)
    if status < 0:
        check(status, NAME)
    return out.view(TAG_DTYPES[body[0] & 1])  # the kernel rejected other tags
