"""Pieces every codec shares: the corruption error, varints, zigzag, byte views, dtype tags, zstd.

Conventions the codecs follow (drawn once here, relied on everywhere):

* Multi-byte integers are little-endian. Varints are LEB128 (7 bits a byte, low group first, high bit
  set on every byte but the last, at most 10 bytes).
* ``zigzag(v) = (v << 1) ^ (v >> 63)`` maps small signed values to small unsigned ones.
* A codec that serves several numeric kinds opens its body with a *head* byte whose low two bits are a
  dtype tag (``0`` int64, ``1`` uint64, ``2`` float64); the upper six bits belong to the codec.
* Decoders read the body in place (a zero-copy uint8 view); every read is checked against its
  length, and wide loads near the end fall back to byte loads (:func:`ld64_tail`).
* numba kernels report corruption by returning a negative status (see :data:`STATUS`), never by reading
  out of bounds; :func:`check` turns a status into :class:`CorruptPayload`.
"""

from __future__ import annotations

import threading

import numpy as np
import zstandard
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

from columnar.errors import CorruptData

# Every kernel: compiled once and cached on disk, releasing the GIL so scans can run in threads.
kernel = njit(cache=True, nogil=True)

# Largest value count one payload may claim. Guards decoders against a corrupt count asking for an
# absurd allocation; blocks are orders of magnitude smaller.
MAX_COUNT = 1 << 27

TAG_INT64 = 0
TAG_UINT64 = 1
TAG_FLOAT64 = 2
TAG_DTYPES = (np.dtype(np.int64), np.dtype(np.uint64), np.dtype(np.float64))
_TAG_OF = {np.dtype(np.int64): TAG_INT64, np.dtype(np.uint64): TAG_UINT64, np.dtype(np.float64): TAG_FLOAT64}

E_TRUNCATED = -1
E_INVALID = -2
E_COUNT = -3
E_TRAILING = -4
STATUS = {
    E_TRUNCATED: "truncated body",
    E_INVALID: "invalid field value",
    E_COUNT: "value count does not match the body",
    E_TRAILING: "trailing bytes after the body",
}

U0 = np.uint64(0)
U1 = np.uint64(1)
U7 = np.uint64(7)
U8 = np.uint64(8)
U63 = np.uint64(63)
U64 = np.uint64(64)
U127 = np.uint64(127)
U128 = np.uint64(128)
UMAX = np.uint64(0xFFFFFFFFFFFFFFFF)


class CorruptPayload(CorruptData, ValueError):
    """An encoded block could not be decoded: truncated, inconsistent or of an unknown codec.

    A :class:`ValueError` for callers that validate input, and a :class:`columnar.errors.CorruptData`
    for the storage engine, which adds the file and offset when it re-raises.
    """

    def __init__(self, detail: str) -> None:
        CorruptData.__init__(self, "encoded block", detail)


def check(status: int, codec: str) -> int:
    """Raise :class:`CorruptPayload` for a negative kernel status; return the status otherwise."""
    if status < 0:
        raise CorruptPayload(f"{codec}: {STATUS.get(status, 'corrupt body')}")
    return status


def byte_array(body: bytes | bytearray | memoryview) -> np.ndarray:
    """The body as a read-only uint8 array, without copying."""
    return np.frombuffer(body, dtype=np.uint8)


def tag_of(values: np.ndarray) -> int:
    return _TAG_OF[values.dtype]


def as_u64(values: np.ndarray) -> np.ndarray:
    """The 64-bit values as their uint64 bit pattern (a view, no copy for contiguous input)."""
    return np.ascontiguousarray(values).view(np.uint64)


def from_u64(bits: np.ndarray, tag: int) -> np.ndarray:
    if tag > TAG_FLOAT64:
        raise CorruptPayload(f"unknown dtype tag {tag}")
    return bits.view(TAG_DTYPES[tag])


# --- varints in Python (headers only; never per value) --------------------------------------------


def uvarint(v: int) -> bytes:
    if v < 0x80:
        return bytes((v,))
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def read_uvarint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode a varint at pos; return (value, position after it). Raises CorruptPayload."""
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise CorruptPayload("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            if result >> 64:
                raise CorruptPayload("varint overflows 64 bits")
            return result, pos
        shift += 7
        if shift >= 70:
            raise CorruptPayload("varint longer than 10 bytes")


# --- numba kernels' building blocks -----------------------------------------------------------------


@kernel
def bitlen(v):
    """Number of significant bits of v (0 for 0)."""
    return 64 - np.int64(leading_zeros(np.uint64(v)))


@kernel
def clz(v):
    return np.int64(leading_zeros(np.uint64(v)))


@kernel
def ctz(v):
    return np.int64(trailing_zeros(np.uint64(v)))


@kernel
def zigzag(v):
    """zigzag of the int64 whose bit pattern is v."""
    sign = UMAX if v >> U63 else U0
    return (v << U1) ^ sign


@kernel
def unzigzag(u):
    """Inverse of zigzag, returning the bit pattern of the int64."""
    return (u >> U1) ^ (U0 - (u & U1))


@kernel
def varint_len(v):
    n = bitlen(v)
    return 1 if n == 0 else (n + 6) // 7


@kernel
def put_varint(out, pos, v):
    v = np.uint64(v)
    while v >= U128:
        out[pos] = np.uint8((v & U127) | U128)
        v >>= U7
        pos += 1
    out[pos] = np.uint8(v)
    return pos + 1


@kernel
def get_varint(buf, pos, end):
    """Read a varint at pos (not past end). Returns (value, new pos); new pos is negative on error."""
    result = U0
    shift = np.uint64(0)
    for _ in range(10):
        if pos >= end:
            return U0, E_TRUNCATED
        b = np.uint64(buf[pos])
        pos += 1
        if shift == U63 and b > U1:
            return U0, E_INVALID
        result |= (b & U127) << shift
        if b < U128:
            return result, pos
        shift += U7
    return U0, E_INVALID


@kernel
def ld64(buf, i):
    """Little-endian uint64 at byte i (the caller guarantees i+8 <= len(buf))."""
    return (
        np.uint64(buf[i])
        | (np.uint64(buf[i + 1]) << np.uint64(8))
        | (np.uint64(buf[i + 2]) << np.uint64(16))
        | (np.uint64(buf[i + 3]) << np.uint64(24))
        | (np.uint64(buf[i + 4]) << np.uint64(32))
        | (np.uint64(buf[i + 5]) << np.uint64(40))
        | (np.uint64(buf[i + 6]) << np.uint64(48))
        | (np.uint64(buf[i + 7]) << np.uint64(56))
    )


@kernel
def ld64_tail(buf, i, end):
    """Little-endian uint64 at byte i from the bytes before end (missing high bytes read as 0)."""
    v = U0
    for k in range(min(8, end - i)):
        v |= np.uint64(buf[i + k]) << np.uint64(8 * k)
    return v


@kernel
def ld32(buf, i):
    """Little-endian uint32 at byte i, as uint64 (the caller guarantees i+4 <= len(buf))."""
    return (
        np.uint64(buf[i])
        | (np.uint64(buf[i + 1]) << np.uint64(8))
        | (np.uint64(buf[i + 2]) << np.uint64(16))
        | (np.uint64(buf[i + 3]) << np.uint64(24))
    )


@kernel
def st64(out, i, v):
    v = np.uint64(v)
    for k in range(8):
        out[i + k] = np.uint8((v >> np.uint64(8 * k)) & np.uint64(0xFF))


@kernel
def low_mask(w):
    """The w lowest bits set (w in 0..64)."""
    if w >= 64:
        return UMAX
    return (U1 << np.uint64(w)) - U1


# --- zstd, one context per thread (contexts are not thread-safe) ------------------------------------

# Level 1: on blocks of a few KB it compresses as well as levels 3-12 (measured on host names, URLs and
# small-integer bytes) at a fraction of the time; 19 gains ~10% at 100x the time.
ZSTD_LEVEL = 1
_local = threading.local()


def _contexts() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        params = zstandard.ZstdCompressionParameters.from_level(
            ZSTD_LEVEL,
            format=zstandard.FORMAT_ZSTD1_MAGICLESS,
            write_content_size=False,
            write_checksum=False,
            write_dict_id=False,
        )
        ctx = (
            zstandard.ZstdCompressor(compression_params=params),
            zstandard.ZstdDecompressor(format=zstandard.FORMAT_ZSTD1_MAGICLESS),
        )
        _local.ctx = ctx
    return ctx


def zstd_pack(data: bytes) -> bytes:
    """``varint(len(data))`` then a magic-less zstd frame without checksum or content size (no frame
    at all for empty data)."""
    if not data:
        return b"\x00"
    return uvarint(len(data)) + _contexts()[0].compress(data)


def zstd_unpack(body: bytes | memoryview, pos: int = 0, limit: int = 1 << 31) -> bytes:
    """Inverse of zstd_pack for the frame at body[pos:], which must run to the end of body."""
    size, pos = read_uvarint(body, pos)
    if size > limit:
        raise CorruptPayload(f"zstd section claims {size} bytes")
    if size == 0:
        if pos != len(body):
            raise CorruptPayload("zstd section: bytes after an empty section")
        return b""
    # decompressobj grows its output as the frame produces it, so a corrupt size field cannot make
    # it allocate more than the frame really holds
    dobj = _contexts()[1].decompressobj()
    try:
        data = dobj.decompress(bytes(body[pos:]))
    except zstandard.ZstdError as exc:
        raise CorruptPayload(f"zstd section: {exc}") from None
    if not dobj.eof or dobj.unused_data:
        raise CorruptPayload("zstd section: incomplete frame or bytes after it")
    if len(data) != size:
        raise CorruptPayload(f"zstd section holds {len(data)} bytes, header says {size}")
    return data
