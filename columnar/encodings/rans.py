"""rans: integers as entropy-coded deltas (an order-0 rANS coder with a per-block frequency table).

Meant for noisy gauges, where simple8b's whole-bit widths waste most: a random walk with N(0, 1) steps
needs 3 bits a delta in simple8b but carries about 2.1 bits of information.

The values become an unsigned stream, in one of two orders (the smaller wins):

* order 1: ``zigzag(x[i] - x[i-1])`` (wrapping) after the first value,
* order 0: ``x[i] - min(x)`` (for blocks whose values, not their changes, are concentrated).

Each stream value u becomes a *symbol* and, for large values, raw *extra bits*:

| u                 | symbol                              | extra bits                      |
|-------------------|-------------------------------------|---------------------------------|
| 0 .. 15           | u                                   | none                            |
| >= 16, n bits     | 16 + 4 (n - 5) + the two bits after | the n - 3 bits below those, raw |
|                   | the top bit (so 16 .. 255)          |                                 |

Symbols are coded with rANS: 32-bit state in [2**16, 2**32), 16-bit renormalisation, probabilities
quantised to a total of 2**P (P = 4..12, chosen per block for the smallest size including the table).

| bytes      | field                                                                      |
|------------|----------------------------------------------------------------------------|
| 1          | head: bits 0-1 dtype tag (0 int64, 1 uint64); bits 2-3 order               |
| varint     | order 1: zigzag(first value); order 0: zigzag(min)                         |
| (the rest only when the stream is not empty)                                            |
| 1          | S - 1, where symbols 0 .. S-1 may occur and S - 1 does                      |
| 1          | P << 4 | W                                                                  |
| ceil(b/8)  | for symbols 0 .. S-2, LSB-first: a presence bit, then freq - 1 in W bits if |
|            | present; the last symbol's frequency is 2**P minus the others'             |
| varint R   | length of the rANS section                                                 |
| R          | final encoder state (4 bytes LE), then 16-bit LE words in reading order    |
| ...        | extra bits, LSB-first, in value order, to the end of the body              |
"""

from __future__ import annotations

import numpy as np

from columnar.encodings._core import (
    E_INVALID,
    E_TRAILING,
    E_TRUNCATED,
    U0,
    CorruptPayload,
    as_u64,
    bitlen,
    check,
    from_u64,
    get_varint,
    inline_kernel,
    kernel,
    ld64,
    low_mask,
    padded,
    put_varint,
    st64,
    tag_of,
    unzigzag,
    varint_len,
    zigzag,
)

ID = 4
NAME = "rans"
KINDS = ("time", "int", "uint")

PMIN = 4
PMAX = 12
_L = np.uint64(1 << 16)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    nextra = np.zeros(256, np.int64)
    base = np.arange(256, dtype=np.uint64)
    for s in range(16, 256):
        nb = (s - 16) // 4 + 5
        nextra[s] = nb - 3
        base[s] = (4 | ((s - 16) & 3)) << (nb - 3)
    return nextra, base


_NEXTRA, _BASE = _tables()


@inline_kernel
def _sym(u):
    if u < np.uint64(16):
        return np.int64(u)
    nb = bitlen(u)
    return 16 + 4 * (nb - 5) + np.int64((u >> np.uint64(nb - 3)) & np.uint64(3))


@kernel
def _normalize(counts, nsym, m, p, freq):
    total_slots = 1 << p
    total = 0
    smax = 0
    for s in range(nsym):
        c = counts[s]
        if c == 0:
            freq[s] = 0
            continue
        f = (c * total_slots + m // 2) // m
        if f < 1:
            f = 1
        freq[s] = f
        total += f
        if c > counts[smax]:
            smax = s
    if total <= total_slots:
        freq[smax] += total_slots - total
        return True
    excess = total - total_slots  # rare symbols rounded up to 1: take it back from the largest ones
    while excess > 0:
        big = -1
        big_f = 1
        for s in range(nsym):
            if freq[s] > big_f:
                big_f = freq[s]
                big = s
        if big < 0:
            return False
        take = min(excess, big_f - 1, max(1, big_f // 8))
        freq[big] -= take
        excess -= take
    return True


@kernel
def _table_bits(freq, nsym):
    top = 0
    present = 0
    for s in range(nsym - 1):
        if freq[s]:
            present += 1
            if freq[s] - 1 > top:
                top = freq[s] - 1
    return 16 + nsym - 1 + present * bitlen(np.uint64(top))


@kernel
def _plan(counts, m, freq):
    """Best precision P for these symbol counts and the estimated coded size in bits."""
    nsym = 0
    present = 0
    for s in range(256):
        if counts[s]:
            nsym = s + 1
            present += 1
    best_p = -1
    best_bits = 1e300
    for p in range(PMIN, PMAX + 1):
        if (1 << p) < present:
            continue
        if not _normalize(counts, nsym, m, p, freq):
            continue
        bits = float(_table_bits(freq, nsym))
        for s in range(nsym):
            if counts[s]:
                bits += counts[s] * (p - np.log2(freq[s]))
        if bits < best_bits - 1e-9:
            best_bits = bits
            best_p = p
    return best_p, best_bits


@kernel
def _encode(x, tag):
    n = x.size
    if n == 0:
        out = np.empty(1, np.uint8)
        out[0] = tag | (1 << 2)
        return out
    # histograms of both orders; extra bits counted alongside
    c1 = np.zeros(256, np.int64)
    c0 = np.zeros(256, np.int64)
    e1 = 0
    e0 = 0
    xmin = np.int64(x[0])
    for i in range(n):
        if np.int64(x[i]) < xmin:
            xmin = np.int64(x[i])
    umin = np.uint64(xmin)
    for i in range(n):
        s = _sym(x[i] - umin)
        c0[s] += 1
        e0 += _NEXTRA[s]
        if i:
            s = _sym(zigzag(x[i] - x[i - 1]))
            c1[s] += 1
            e1 += _NEXTRA[s]
    freq = np.zeros(256, np.int64)
    m = n - 1
    p1 = -1
    bits1 = 0.0
    if m:
        p1, bits1 = _plan(c1, m, freq)
    bits1 += e1 + 8 * varint_len(zigzag(x[0]))
    p0, bits0 = _plan(c0, n, freq)
    bits0 += e0 + 8 * varint_len(zigzag(umin))
    if p0 < 0 and (m and p1 < 0):
        return np.empty(0, np.uint8)
    order = 1 if (m == 0 or p0 < 0 or (p1 >= 0 and bits1 <= bits0)) else 0
    if order == 1:
        counts, p, first = c1, p1, zigzag(x[0])
    else:
        counts, p, first, m = c0, p0, zigzag(umin), n
    out = np.empty(64 + 10 * m, np.uint8)
    out[0] = tag | (order << 2)
    pos = put_varint(out, 1, first)
    if m == 0:
        return out[:pos]
    u = np.empty(m, np.uint64)
    if order == 1:
        for i in range(m):
            u[i] = zigzag(x[i + 1] - x[i])
    else:
        for i in range(m):
            u[i] = x[i] - umin
    nsym = 0
    for s in range(256):
        if counts[s]:
            nsym = s + 1
    _normalize(counts, nsym, m, p, freq)
    cum = np.zeros(257, np.int64)
    for s in range(nsym):
        cum[s + 1] = cum[s] + freq[s]

    # table
    top = 0
    for s in range(nsym - 1):
        if freq[s] - 1 > top:
            top = freq[s] - 1
    w = bitlen(np.uint64(top))
    out[pos] = nsym - 1
    out[pos + 1] = (p << 4) | w
    pos += 2
    acc = U0
    nacc = 0
    for s in range(nsym - 1):
        if freq[s]:
            acc |= np.uint64(1) << np.uint64(nacc)
            nacc += 1
            acc |= np.uint64(freq[s] - 1) << np.uint64(nacc)
            nacc += w
        else:
            nacc += 1
        while nacc >= 8:
            out[pos] = np.uint8(acc & np.uint64(0xFF))
            pos += 1
            acc >>= np.uint64(8)
            nacc -= 8
    if nacc:
        out[pos] = np.uint8(acc)
        pos += 1

    # rANS, last symbol first; the words come out in reverse reading order
    words = np.empty(m + 2, np.uint16)
    nw = 0
    state = _L
    up = np.uint64(p)
    for i in range(m - 1, -1, -1):
        s = _sym(u[i])
        f = np.uint64(freq[s])
        if state >= (f << np.uint64(32 - p)):
            words[nw] = np.uint16(state & np.uint64(0xFFFF))
            nw += 1
            state >>= np.uint64(16)
        state = ((state // f) << up) + (state % f) + np.uint64(cum[s])
    pos = put_varint(out, pos, np.uint64(4 + 2 * nw))
    for k in range(4):
        out[pos + k] = np.uint8((state >> np.uint64(8 * k)) & np.uint64(0xFF))
    pos += 4
    for k in range(nw):
        wv = words[nw - 1 - k]
        out[pos] = np.uint8(wv & 0xFF)
        out[pos + 1] = np.uint8(wv >> 8)
        pos += 2

    # extra bits
    acc = U0
    nacc = 0
    for i in range(m):
        s = _sym(u[i])
        ne = _NEXTRA[s]
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
def _decode(buf, end, out):
    n = out.size
    head = np.int64(buf[0])
    order = head >> 2
    if (head & 3) > 1 or order > 1:
        return E_INVALID
    if n == 0:
        return 1 if end == 1 else E_TRAILING
    first, pos = get_varint(buf, 1, end)
    if pos < 0:
        return pos
    if order == 1:
        m = n - 1
        out[0] = unzigzag(first)
        start = 1
    else:
        m = n
        start = 0
    base = unzigzag(first)
    if m == 0:
        return pos if pos == end else E_TRAILING
    if pos + 2 > end:
        return E_TRUNCATED
    nsym = np.int64(buf[pos]) + 1
    p = np.int64(buf[pos + 1]) >> 4
    w = np.int64(buf[pos + 1]) & 15
    pos += 2
    if p < PMIN or p > PMAX or w > p:
        return E_INVALID
    total_slots = 1 << p
    freq = np.zeros(256, np.int64)
    cum = np.zeros(257, np.int64)
    tbits = 0
    tavail = 8 * (end - pos)
    for s in range(nsym - 1):
        if tbits + 1 > tavail:
            return E_TRUNCATED
        bit = (buf[pos + (tbits >> 3)] >> (tbits & 7)) & 1
        tbits += 1
        if bit:
            if tbits + w > tavail:
                return E_TRUNCATED
            v = (ld64(buf, pos + (tbits >> 3)) >> np.uint64(tbits & 7)) & low_mask(w)
            freq[s] = np.int64(v) + 1
            tbits += w
        cum[s + 1] = cum[s] + freq[s]
        if cum[s + 1] >= total_slots:
            return E_INVALID
    freq[nsym - 1] = total_slots - cum[nsym - 1]
    cum[nsym] = total_slots
    pos += (tbits + 7) >> 3
    slot_sym = np.empty(total_slots, np.uint8)
    for s in range(nsym):
        slot_sym[cum[s] : cum[s + 1]] = s
    rlen, pos = get_varint(buf, pos, end)
    if pos < 0:
        return pos
    if rlen < np.uint64(4) or rlen > np.uint64(end - pos) or (rlen & np.uint64(1)):
        return E_INVALID
    rp = pos
    rend = pos + np.int64(rlen)
    ep = rend  # extra bits start
    ebits = 8 * (end - ep)
    state = np.uint64(buf[rp]) | (np.uint64(buf[rp + 1]) << np.uint64(8))
    state |= (np.uint64(buf[rp + 2]) << np.uint64(16)) | (np.uint64(buf[rp + 3]) << np.uint64(24))
    rp += 4
    mask = np.uint64(total_slots - 1)
    up = np.uint64(p)
    ebit = 0
    prev = out[0]
    for i in range(m):
        slot = state & mask
        s = np.int64(slot_sym[np.int64(slot)])
        state = np.uint64(freq[s]) * (state >> up) + slot - np.uint64(cum[s])
        if state < _L:
            if rp + 2 > rend:
                return E_TRUNCATED
            state = (state << np.uint64(16)) | np.uint64(buf[rp]) | (np.uint64(buf[rp + 1]) << np.uint64(8))
            rp += 2
        ne = _NEXTRA[s]
        if ne == 0:
            u = np.uint64(s)
        else:
            if ebit + ne > ebits:
                return E_TRUNCATED
            byte = ep + (ebit >> 3)
            sh = ebit & 7
            v = ld64(buf, byte) >> np.uint64(sh)
            if sh + ne > 64:
                v |= np.uint64(buf[byte + 8]) << np.uint64(64 - sh)
            u = _BASE[s] | (v & low_mask(ne))
            ebit += ne
        if order == 1:
            prev = prev + unzigzag(u)
            out[start + i] = prev
        else:
            out[i] = u + base
    if state != _L or rp != rend:
        return E_INVALID
    if (ebit + 7) >> 3 != end - ep:
        return E_TRAILING
    return end


def encode(values: np.ndarray) -> bytes | None:
    out = _encode(as_u64(values), tag_of(values))
    return out.tobytes() if out.size else None


def decode(body: memoryview, count: int) -> np.ndarray:
    if len(body) < 1:
        raise CorruptPayload("rans: empty body")
    out = np.empty(count, np.uint64)
    check(_decode(padded(body), len(body), out), NAME)
    return from_u64(out, body[0] & 3)
