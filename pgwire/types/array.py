"""Arrays of every registered type (``_int4`` 1007, ``_text`` 1009 ...), 1-D and N-D, with NULLs.

Python side: nested lists (rectangular). Text: ``{1,2,NULL}``, ``{{1,2},{3,4}}``; an element is quoted
when it is empty, is ``NULL`` in any case, or contains ``{}",\\`` or white space, with ``"`` and ``\\``
escaped by a backslash. Input may start with explicit bounds ``[0:1]={...}`` (the bounds are dropped).
Binary layout::

    int32 ndim | int32 has_nulls | uint32 element oid | (int32 length, int32 lower bound)*ndim |
    (int32 byte length or -1, bytes)* in row-major order
"""

from __future__ import annotations

import struct

from pgwire.types._base import REGISTRY, Context, PgType
from pgwire.types._base import register as _register

_HEAD = struct.Struct("!iiI")
_DIM = struct.Struct("!ii")
_LEN = struct.Struct("!i")


def _dims(value: list[object]) -> list[int]:
    dims = [len(value)]
    v: object = value
    while isinstance(v, list) and v and isinstance(v[0], list):
        v = v[0]
        dims.append(len(v))  # type: ignore[arg-type]
    return dims


def _check_shape(value: object, dims: list[int], depth: int = 0) -> None:
    if depth < len(dims):
        if not isinstance(value, list) or len(value) != dims[depth]:
            raise ValueError("multidimensional arrays must have sub-arrays with matching dimensions")
        for v in value:
            _check_shape(v, dims, depth + 1)
    elif isinstance(value, list):
        raise ValueError("multidimensional arrays must have sub-arrays with matching dimensions")


def _flatten(value: list[object], ndim: int) -> list[object]:
    out = value
    for _ in range(ndim - 1):
        out = [x for sub in out for x in sub]  # type: ignore[attr-defined]
    return out


def _quote(text: str) -> str:
    if (
        text == ""
        or text.upper() == "NULL"
        or any(c in text for c in '{}",\\')
        or any(c.isspace() for c in text)
    ):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def array_of(element: PgType) -> PgType:
    """The array type of ``element`` (its ``array_oid``), coded element by element."""
    return _array_type(element)


def _array_type(element: PgType) -> PgType:
    def text_value(v: object, ctx: Context) -> bytes:
        def render(x: object) -> str:
            if isinstance(x, list):
                return "{" + ",".join(render(y) for y in x) + "}"
            if x is None:
                return "NULL"
            return _quote(element.text_value(x, ctx).decode("utf-8"))

        assert isinstance(v, list)
        if v:
            _check_shape(v, _dims(v))
        return render(v).encode("utf-8")

    def binary_value(v: object, ctx: Context) -> bytes:
        assert isinstance(v, list)
        if not v:
            return _HEAD.pack(0, 0, element.oid)
        dims = _dims(v)
        _check_shape(v, dims)
        flat = _flatten(v, len(dims))
        has_null = any(x is None for x in flat)
        parts = [_HEAD.pack(len(dims), int(has_null), element.oid)]
        parts += [_DIM.pack(d, 1) for d in dims]
        for x in flat:
            if x is None:
                parts.append(b"\xff\xff\xff\xff")
            else:
                raw = element.binary_value(x, ctx)
                parts.append(_LEN.pack(len(raw)) + raw)
        return b"".join(parts)

    def parse_text(data: bytes, ctx: Context) -> list[object]:
        return parse_array_text(data.decode("utf-8"), lambda s: element.parse_text(s.encode("utf-8"), ctx))

    def parse_binary(data: bytes, ctx: Context) -> list[object]:
        ndim, _flags, oid = _HEAD.unpack_from(data)
        if ndim < 0 or ndim > 6:
            raise ValueError("invalid number of dimensions")
        if oid != element.oid:
            raise ValueError(f"wrong element type {oid}")
        pos = _HEAD.size
        dims = []
        for _ in range(ndim):
            size, _lb = _DIM.unpack_from(data, pos)
            if size < 0:
                raise ValueError("invalid array dimension")
            dims.append(size)
            pos += _DIM.size
        count = 1
        for d in dims:
            count *= d
        if ndim == 0:
            count = 0
        flat: list[object] = []
        for _ in range(count):
            (n,) = _LEN.unpack_from(data, pos)
            pos += 4
            if n == -1:
                flat.append(None)
                continue
            if n < 0 or pos + n > len(data):
                raise ValueError("array element length is past the end of the data")
            flat.append(element.parse_binary(data[pos : pos + n], ctx))
            pos += n
        if pos != len(data):
            raise ValueError("trailing bytes after the last array element")
        for d in reversed(dims[1:]):
            flat = [flat[i : i + d] for i in range(0, len(flat), d)]
        return flat

    return PgType(
        element.array_oid,
        "_" + element.name,
        -1,
        0,
        text_value,
        binary_value,
        parse_text,
        parse_binary,
        element_oid=element.oid,
    )


def parse_array_text(text: str, parse_element: object) -> list[object]:
    """Parse ``{...}`` text into nested lists; ``parse_element(str)`` reads one non-NULL element."""
    s = text.strip()
    if s.startswith("["):
        eq = s.find("=")
        if eq < 0:
            raise ValueError("missing '=' after array dimensions")
        s = s[eq + 1 :].strip()
    if not s.startswith("{"):
        raise ValueError('array value must start with "{" or dimension information')
    pos = 0

    def parse_level() -> list[object]:
        nonlocal pos
        assert s[pos] == "{"
        pos += 1
        items: list[object] = []
        expect_item = True
        while True:
            while pos < len(s) and s[pos].isspace():
                pos += 1
            if pos >= len(s):
                raise ValueError("unexpected end of array input")
            c = s[pos]
            if c == "}":
                if items and expect_item:
                    raise ValueError("unexpected '}' in array")
                pos += 1
                return items
            if c == ",":
                if expect_item:
                    raise ValueError("unexpected ',' in array")
                expect_item = True
                pos += 1
                continue
            if not expect_item:
                raise ValueError("missing ',' between array elements")
            if c == "{":
                items.append(parse_level())
            elif c == '"':
                pos += 1
                buf = []
                while True:
                    if pos >= len(s):
                        raise ValueError("unterminated quoted array element")
                    ch = s[pos]
                    if ch == "\\":
                        pos += 1
                        if pos >= len(s):
                            raise ValueError("unterminated quoted array element")
                        buf.append(s[pos])
                    elif ch == '"':
                        pos += 1
                        break
                    else:
                        buf.append(ch)
                    pos += 1
                items.append(parse_element("".join(buf)))  # type: ignore[operator]
            else:
                start = pos
                buf = []
                while pos < len(s) and s[pos] not in ",}":
                    if s[pos] == "\\" and pos + 1 < len(s):
                        pos += 1
                    elif s[pos] in '{"':
                        raise ValueError("unexpected character in unquoted array element")
                    buf.append(s[pos])
                    pos += 1
                raw = "".join(buf).strip()
                if s[start:pos].strip().upper() == "NULL":
                    items.append(None)
                else:
                    items.append(parse_element(raw))  # type: ignore[operator]
            expect_item = False

    out = parse_level()
    if s[pos:].strip():
        raise ValueError("junk after closing right brace")
    if out:
        _check_shape(out, _dims(out))
    return out


def _vector_type(oid: int, name: str, element: PgType) -> PgType:
    """int2vector / oidvector (pg_index.indkey, pg_proc.proargtypes): a 1-D array that PostgreSQL
    prints as its elements separated by spaces (``1186 1184``), and sends as the array it is."""
    array = _array_type(element)

    def text_value(v: object, ctx: Context) -> bytes:
        assert isinstance(v, list)
        return b" ".join(element.text_value(x, ctx) for x in v)

    def parse_text(data: bytes, ctx: Context) -> list[object]:
        return [element.parse_text(x, ctx) for x in data.split()]

    return PgType(oid, name, -1, 0, text_value, array.binary_value, parse_text, array.parse_binary)


INT2VECTOR_OID, OIDVECTOR_OID = 22, 30


def register() -> None:
    for element in list(REGISTRY.values()):
        if element.array_oid and element.element_oid == 0:
            _register(_array_type(element))
    _register(_vector_type(INT2VECTOR_OID, "int2vector", REGISTRY[21]))
    _register(_vector_type(OIDVECTOR_OID, "oidvector", REGISTRY[26]))
