"""zstd: strings as their byte lengths (a nested integer payload) and their UTF-8 bytes under zstd.

For high-cardinality or long strings (log lines, ids), where a dictionary would repeat the data. The
dictionary codec also stores its distinct strings with this layout.

| bytes    | field                                                                       |
|----------|-----------------------------------------------------------------------------|
| 1        | flags: bit 0 = UTF-8 with lone surrogates passed through (rare; decoded in  |
|          | Python), else strict UTF-8 (encoded and decoded by Arrow)                   |
| varint L | byte length of the nested lengths payload                                   |
| L        | nested integer payload [codec id][body] of the count byte lengths            |
| varint   | total byte length of the strings                                            |
| ...      | a magic-less zstd frame (no checksum, no content size) of the concatenated  |
|          | strings, to the end of the body                                             |
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from columnar.encodings import _select
from columnar.encodings._core import CorruptPayload, read_uvarint, uvarint, zstd_pack, zstd_unpack

ID = 9
NAME = "zstd"
KINDS = ("str",)

FLAG_SURROGATES = 1


def utf8(values: np.ndarray) -> tuple[pa.LargeStringArray | None, np.ndarray, bytes, int]:
    """(arrow array or None, byte lengths, concatenated bytes, flags) of an object array of str."""
    try:
        arr = pa.array(values, type=pa.large_string())
    except UnicodeEncodeError:
        return None, *_utf8_python(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise TypeError(f"str blocks hold Python str values: {exc}") from None
    if arr.null_count:
        raise TypeError("str blocks cannot hold None")
    lengths, data = _buffers(arr)
    return arr, lengths, data, 0


def _buffers(arr: pa.LargeStringArray) -> tuple[np.ndarray, bytes]:
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + 1, offset=8 * arr.offset)
    data = arr.buffers()[2]
    raw = b"" if data is None else data.to_pybytes()[offsets[0] : offsets[-1]]
    return np.diff(offsets), raw


def _utf8_python(values: np.ndarray) -> tuple[np.ndarray, bytes, int]:
    # Only for strings that strict UTF-8 cannot carry (lone surrogates): rare, so a Python loop is fine.
    try:
        parts = [s.encode("utf-8", "surrogatepass") for s in values]
    except AttributeError:
        raise TypeError("str blocks hold Python str values") from None
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    return lengths, b"".join(parts), FLAG_SURROGATES


def pack(lengths: np.ndarray, data: bytes, flags: int) -> bytes:
    nested = _select.encode_nested(lengths.astype(np.int64, copy=False), "int")
    return bytes((flags,)) + uvarint(len(nested)) + nested + zstd_pack(data)


def unpack(body: memoryview, count: int) -> np.ndarray:
    """Decode a body of this layout into an object array of count str."""
    if len(body) < 1 or body[0] > FLAG_SURROGATES:
        raise CorruptPayload("zstd strings: missing or unknown flags")
    flags = body[0]
    nlen, pos = read_uvarint(body, 1)
    if pos + nlen > len(body):
        raise CorruptPayload("zstd strings: lengths section runs past the body")
    lengths = _select.decode_nested(body[pos : pos + nlen], count, np.dtype(np.int64))
    offsets = np.zeros(count + 1, np.int64)
    if count:
        if int(lengths.min()) < 0:
            raise CorruptPayload("zstd strings: negative string length")
        np.cumsum(lengths, out=offsets[1:])
    data = zstd_unpack(body, pos + nlen)
    if len(data) != int(offsets[-1]):
        raise CorruptPayload("zstd strings: lengths do not add up to the data")
    if flags & FLAG_SURROGATES:
        try:
            bounds = offsets.tolist()
            strs = [
                data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(bounds, bounds[1:], strict=False)
            ]
        except UnicodeDecodeError as exc:
            raise CorruptPayload(f"zstd strings: {exc}") from None
        out = np.empty(count, dtype=object)
        out[:] = strs
        return out
    arr = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise CorruptPayload(f"zstd strings: {exc}") from None
    out = arr.to_numpy(zero_copy_only=False)
    return out


def encode(values: np.ndarray) -> bytes | None:
    _, lengths, data, flags = utf8(values)
    return pack(lengths, data, flags)


def decode(body: memoryview, count: int) -> np.ndarray:
    return unpack(body, count)
