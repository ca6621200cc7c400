"""PostgreSQL arrays of table columns: their text form (``{a,"b c",NULL}``) read into Arrow lists, and
lists (or such texts) written as that text.

A column declared ``text[]``, ``int4[]``, ``float8[]``, ``bool[]``, ``date[]``, ``timestamptz[]`` (and the
other integer and float widths, ``varchar[]``, ``timestamp[]``) is stored as a string field holding the array's text, and read as an Arrow
list of its element type, so queries see an array (``tags[1]``, ``unnest(tags)``, ``'x' = ANY(tags)``)
and clients get the array type's OID. Reading parses a whole column in one numba kernel: braces,
commas, double-quoted elements with backslash escapes, unquoted ``NULL`` for a missing element, white
space around elements; a malformed text is 22P02 ("malformed array literal"), a nested one
(multi-dimensional arrays) 0A000. Writing takes a list (``ARRAY[...]``, an array expression, a
parameter) or a text in that form (a literal, COPY), checks each element against the element type
(22P02) and stores the canonical text (elements quoted only where PostgreSQL quotes them).
Arrays of other element types (numeric, uuid, jsonb ...) are declared and read as text, and writing
them is 0A000.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit
from sqlglot import exp

from sql import errors as E

# element type (PgType.name) -> its Arrow type in a list
ELEMENTS = {
    "text": pa.string(),
    "varchar": pa.string(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}
# elements whose input text PostgreSQL reads in many forms ('2024-01-01 00:00:00+00', 'Jan 1 2024'
# ...): literals and COPY give them to DuckDB's cast as text; the stored text (ISO 8601, written here)
# is read by Arrow
_TIMES = frozenset({"date", "timestamp", "timestamptz"})
_BOOL_TRUE = ["t", "true", "y", "yes", "on", "1"]
_BOOL_FALSE = ["f", "false", "n", "no", "off", "0"]
_MALFORMED, _NESTED = 1, 2


def list_type(element: str) -> pa.DataType | None:
    """The Arrow type of an array column of ``element`` (a PgType name); None when such arrays are
    kept as text."""
    e = ELEMENTS.get(element)
    return pa.list_(e) if e is not None else None


def element_of_arrow(t: pa.DataType) -> str | None:
    """The element type (a PgType name) whose lists have Arrow value type ``t`` (text for strings)."""
    for name, arrow in ELEMENTS.items():
        if arrow == t:
            return name
    return None


def element_of(type_name: str) -> str | None:
    """The element type of an array type's name (``int4[]`` -> ``int4``) when it is read as a list."""
    if not type_name.endswith("[]"):
        return None
    e = type_name[:-2]
    return e if e in ELEMENTS else None


# -- text -> list ---------------------------------------------------------------------------------------------
def parse_column(texts: pa.Array, element: str, typed: bool = True) -> pa.Array:
    """Arrays in PostgreSQL's text form (a string array; NULL stays NULL) as an Arrow list of
    ``element`` values (not ``typed``: of their texts)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not pa.types.is_large_string(texts.type):
        texts = texts.cast(pa.large_string())
    n = len(texts)
    offsets = np.frombuffer(texts.buffers()[1], np.int64, count=n + 1, offset=texts.offset * 8)
    data_buf = texts.buffers()[2]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    valid = (
        np.ones(n, np.uint8)
        if not texts.null_count
        else np.asarray(texts.is_valid().to_numpy(zero_copy_only=False), np.uint8)
    )
    cap = int(offsets[-1] - offsets[0]) + n + 1
    out = np.empty(max(int(offsets[-1] - offsets[0]), 1), np.uint8)
    out_off = np.zeros(cap + 1, np.int64)
    out_null = np.zeros(cap, np.uint8)
    list_off = np.zeros(n + 1, np.int32)
    status = np.zeros(2, np.int64)
    count = _parse(data, offsets, valid, out, out_off, out_null, list_off, status)
    if status[0]:
        bad = texts[int(status[1])].as_py()
        if status[0] == _NESTED:
            raise E.FeatureNotSupported(f'multidimensional arrays are not supported: "{bad}"')
        raise E.InvalidTextRepresentation(f'malformed array literal: "{bad}"')
    nulls = int(out_null[:count].sum())
    bitmap = pa.py_buffer(np.packbits(out_null[:count] == 0, bitorder="little")) if nulls else None
    used = int(out_off[count])
    strings = pa.Array.from_buffers(
        pa.large_string(),
        count,
        [bitmap, pa.py_buffer(out_off[: count + 1]), pa.py_buffer(out[:used])],
        nulls,
    )
    values = _typed(strings, element) if typed else strings.cast(pa.string())
    mask = None if not texts.null_count else pc.invert(texts.is_valid())
    return pa.ListArray.from_arrays(pa.array(list_off, pa.int32()), values, mask=mask)


def read_texts(table: pa.Table, types: dict[str, str]) -> pa.Table:
    """``table`` with each text column whose type (``types``: column -> PgType name) is an array
    read as lists (COPY's text and CSV give arrays as their text)."""
    for name, type_name in types.items():
        element = element_of(type_name)
        if element is None or name not in table.column_names:
            continue
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            i = table.column_names.index(name)  # (times: their texts, for the caller's DuckDB cast)
            table = table.set_column(i, name, parse_column(col, element, typed=element not in _TIMES))
    return table


def parse_text(text: str, element: str, typed: bool = True) -> list:
    """One array text's elements, as Python values of ``element`` (not ``typed``: their texts)."""
    return parse_column(pa.array([text], pa.string()), element, typed).to_pylist()[0]


def literal(text: str, element: str, to: exp.DataType) -> exp.Expression:
    """An array text literal as the ARRAY[...] of its elements, cast to ``to`` (22P02 / 0A000 as
    :func:`parse_column` says)."""
    items: list[exp.Expression] = []
    for v in parse_text(text, element, typed=element not in _TIMES):  # (times: DuckDB's cast reads them)
        if v is None:
            items.append(exp.null())
        elif isinstance(v, bool):
            items.append(exp.true() if v else exp.false())
        elif isinstance(v, str):
            items.append(exp.Literal.string(v))
        elif isinstance(v, float) and not math.isfinite(v):
            items.append(exp.Cast(this=exp.Literal.string(_float(v)), to=exp.DataType.build("double")))
        else:
            items.append(exp.Literal.number(repr(v) if isinstance(v, float) else v))
    return exp.Cast(this=exp.Array(expressions=items), to=to)


def _typed(strings: pa.Array, element: str) -> pa.Array:
    """Element texts as values of ``element`` (22P02 / 22003 naming the first that is not one)."""
    from sql.types import BY_NAME  # (sql.types reads list_type from here)

    want = ELEMENTS[element]
    type_sql = BY_NAME[element].sql_name
    if pa.types.is_string(want):
        return strings.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(strings)
    if element == "bool":
        low = pc.utf8_lower(trimmed)
        yes, no = pc.is_in(low, pa.array(_BOOL_TRUE)), pc.is_in(low, pa.array(_BOOL_FALSE))
        bad = pc.and_(pc.is_valid(low), pc.invert(pc.or_(yes, no)))
        if pc.any(bad).as_py():
            raise E.InvalidTextRepresentation(
                f'invalid input syntax for type boolean: "{strings.filter(bad)[0].as_py()}"'
            )
        return pc.if_else(pc.is_null(low), pa.scalar(None, pa.bool_()), yes)
    try:
        return pc.cast(trimmed, want)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for v in trimmed.to_pylist():  # (which one: the error names it, as PostgreSQL's does)
        if v is None:
            continue
        try:
            pc.cast(pa.array([v]), want)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if pa.types.is_integer(want) and v.lstrip("+-").isdigit():
                raise E.NumericValueOutOfRange(f'value "{v}" is out of range for type {type_sql}') from None
            raise E.InvalidTextRepresentation(f'invalid input syntax for type {type_sql}: "{v}"') from None
    raise E.InvalidTextRepresentation(f"invalid input syntax for type {type_sql}")


@njit(cache=True, nogil=True)
def _space(c):
    return c == 32 or (9 <= c <= 13)


@njit(cache=True, nogil=True)
def _parse(data, offsets, valid, out, out_off, out_null, list_off, status):
    """Each valid row's elements into ``out`` (their bytes, unquoted and unescaped), ``out_off`` (where
    each starts), ``out_null`` (an unquoted NULL), ``list_off`` (each row's first element); returns the
    elements. A malformed row stops it: status = (_MALFORMED or _NESTED, the row)."""
    k = 0
    o = 0
    out_off[0] = 0
    for i in range(valid.size):
        list_off[i] = k
        if not valid[i]:
            continue
        p = offsets[i]
        e = offsets[i + 1]
        while p < e and _space(data[p]):
            p += 1
        if p >= e or data[p] != 123:  # {
            status[0] = _MALFORMED
            status[1] = i
            return k
        p += 1
        while p < e and _space(data[p]):
            p += 1
        if p < e and data[p] == 125:  # } : empty
            p += 1
        else:
            closed = False
            while p < e:
                while p < e and _space(data[p]):
                    p += 1
                if p >= e:
                    break
                c = data[p]
                if c == 123:
                    status[0] = _NESTED
                    status[1] = i
                    return k
                start = o
                plain = True  # unquoted and unescaped: may be NULL
                if c == 34:  # "
                    plain = False
                    p += 1
                    done = False
                    while p < e:
                        c = data[p]
                        if c == 92:  # backslash
                            p += 1
                            if p >= e:
                                break
                            out[o] = data[p]
                            o += 1
                            p += 1
                        elif c == 34:
                            p += 1
                            done = True
                            break
                        else:
                            out[o] = c
                            o += 1
                            p += 1
                    if not done:
                        break
                    while p < e and _space(data[p]):
                        p += 1
                else:
                    last = o  # the end of the element without trailing white space
                    while p < e:
                        c = data[p]
                        if c == 44 or c == 125:  # , }
                            break
                        if c == 34 or c == 123:  # a quote or brace inside an unquoted element
                            status[0] = _MALFORMED
                            status[1] = i
                            return k
                        if c == 92:
                            plain = False
                            p += 1
                            if p >= e:
                                break
                            out[o] = data[p]
                            o += 1
                            p += 1
                            last = o
                            continue
                        out[o] = c
                        o += 1
                        p += 1
                        if not _space(c):
                            last = o
                    o = last
                    if o == start and plain:  # an empty unquoted element
                        status[0] = _MALFORMED
                        status[1] = i
                        return k
                is_null = 0
                if plain and o - start == 4:
                    u0, u1, u2, u3 = (
                        out[start] | 32,
                        out[start + 1] | 32,
                        out[start + 2] | 32,
                        out[start + 3] | 32,
                    )
                    if u0 == 110 and u1 == 117 and u2 == 108 and u3 == 108:  # null
                        is_null = 1
                        o = start
                out_null[k] = is_null
                k += 1
                out_off[k] = o
                if p >= e:
                    break
                if data[p] == 44:
                    p += 1
                    continue
                if data[p] == 125:
                    p += 1
                    closed = True
                    break
                break
            if not closed:
                status[0] = _MALFORMED
                status[1] = i
                return k
        while p < e and _space(data[p]):
            p += 1
        if p != e:
            status[0] = _MALFORMED
            status[1] = i
            return k
    list_off[valid.size] = k
    return k


# -- list -> text ---------------------------------------------------------------------------------------------
def to_storage(arr: pa.Array, element: str, type_sql: str) -> np.ndarray:
    """What a write stores for array values ``arr`` (a list array, or texts of arrays): each array's
    canonical text (object array; "" for NULL, whose validity the caller keeps)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        arr = pa.nulls(len(arr), pa.list_(ELEMENTS[element]))
    elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = parse_column(arr, element)
    elif (
        pa.types.is_list(arr.type)
        or pa.types.is_large_list(arr.type)
        or pa.types.is_fixed_size_list(arr.type)
    ):
        if pa.types.is_list(arr.type.value_type) or pa.types.is_large_list(arr.type.value_type):
            raise E.FeatureNotSupported("multidimensional arrays are not supported")
        want = pa.list_(ELEMENTS[element])
        if arr.type != want:
            try:
                arr = arr.cast(want)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise E.InvalidTextRepresentation(
                    f"invalid input syntax for type {type_sql}: {exc}"
                ) from None
    else:
        raise E.DatatypeMismatch(f"column of type {type_sql} cannot take a value of type {arr.type}")
    out = np.empty(len(arr), dtype=object)
    text = _TEXT[element]
    out[:] = [
        "" if v is None else "{" + ",".join("NULL" if x is None else text(x) for x in v) + "}"
        for v in arr.to_pylist()
    ]
    return out


def _quoted(s: str) -> str:
    """An element as array text: quoted where PostgreSQL's array_out quotes it."""
    if s == "" or s.upper() == "NULL" or any(c in s for c in '{}",\\') or any(c.isspace() for c in s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def _float(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)  # (the shortest text that reads back as x: only this module reads it)


_TEXT = {
    "text": _quoted,
    "varchar": _quoted,
    "int2": str,
    "int4": str,
    "int8": str,
    "float4": _float,
    "float8": _float,
    "bool": lambda b: "t" if b else "f",
    "date": lambda d: d.isoformat(),
    "timestamp": lambda t: '"' + t.isoformat(sep=" ") + '"',
    "timestamptz": lambda t: '"' + t.astimezone(datetime.UTC).isoformat(sep=" ") + '"',
}
