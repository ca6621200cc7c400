"""COPY: parsing the statement and loading COPY FROM STDIN data (text, csv, binary) through the write path.

    COPY table [(col, ...)] FROM STDIN [[WITH] (FORMAT csv, HEADER, DELIMITER ',', NULL '')]
    COPY table [(col, ...)] TO STDOUT [...]      COPY (query) TO STDOUT [...]
The legacy option spelling (``WITH CSV HEADER``, ``DELIMITER AS ','``) is accepted too. Data is parsed
with Arrow's CSV reader in chunks of whole lines (binary: sql/copy_binary.py), cast to the declared
column types by the executor, and written as columnar batches.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sql import errors as E
from sql.copy_binary import read_binary

_COPY = re.compile(
    r"(?is)^\s*COPY\s+(?:\((?P<query>.*)\)|(?P<table>(?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))?)\s*(?:\((?P<cols>[^)]*)\))?)"
    r"\s+(?P<dir>FROM|TO)\s+(?P<target>STDIN|STDOUT|'[^']*')\s*(?P<opts>.*?)\s*;?\s*$"
)


@dataclass
class CopyCommand:
    direction: str  # "in" | "out"
    table: str | None
    schema: str | None
    columns: list[str] | None
    query: str | None
    format: str = "text"
    options: dict[str, str] = field(default_factory=dict)


def _ident(s: str) -> str:
    s = s.strip()
    return s[1:-1].replace('""', '"') if s.startswith('"') else s.lower()


def parse_copy(sql: str) -> CopyCommand:
    m = _COPY.match(sql)
    if not m:
        raise E.SyntaxError_("syntax error in COPY")
    target = m.group("target").upper()
    if target not in ("STDIN", "STDOUT"):
        raise E.FeatureNotSupported("COPY to or from a file is not supported; use STDIN/STDOUT")
    direction = "in" if m.group("dir").upper() == "FROM" else "out"
    if direction == "in" and m.group("query"):
        raise E.SyntaxError_("COPY (query) can only be used with TO")
    schema = table = None
    if m.group("table"):
        parts = re.findall(r'"[^"]+"|[\w$]+', m.group("table"))
        table = _ident(parts[-1])
        schema = _ident(parts[0]) if len(parts) > 1 else None
    cols = [_ident(c) for c in m.group("cols").split(",")] if m.group("cols") else None
    cmd = CopyCommand(direction, table, schema, cols, m.group("query"))
    _options(cmd, m.group("opts"))
    return cmd


def _options(cmd: CopyCommand, text: str) -> None:
    text = text.strip()
    if text.upper().startswith("WITH"):
        text = text[4:].strip()
    if text.startswith("("):
        body = text.strip("()")
        for part in re.split(r",(?=(?:[^']*'[^']*')*[^']*$)", body):
            words = part.strip().split(None, 1)
            if not words:
                continue
            key = words[0].lower()
            val = words[1].strip() if len(words) > 1 else "true"
            _set(cmd, key, val.strip("'") if val.startswith("'") else val)
        return
    toks = re.findall(r"'(?:[^']|'')*'|\S+", text)
    i = 0
    while i < len(toks):
        t = toks[i].upper()
        if t in ("CSV", "BINARY"):
            cmd.format = t.lower()
        elif t == "HEADER":
            cmd.options["header"] = "true"
        elif t in ("DELIMITER", "NULL", "QUOTE", "ESCAPE") and i + 1 < len(toks):
            i += 1
            if toks[i].upper() == "AS" and i + 1 < len(toks):
                i += 1
            cmd.options[t.lower()] = toks[i].strip("'")
        i += 1


def _set(cmd: CopyCommand, key: str, val: str) -> None:
    if key == "format":
        fmt = val.lower()
        if fmt not in ("text", "csv", "binary"):
            raise E.InvalidParameterValue(f'COPY format "{val}" not recognized')
        cmd.format = fmt
    elif key in (
        "header",
        "delimiter",
        "null",
        "quote",
        "escape",
        "encoding",
        "freeze",
        "force_null",
        "force_not_null",
    ):
        cmd.options[key] = val
    else:
        raise E.SyntaxError_(f'option "{key}" not recognized')


def read_chunks(
    data: Iterator[bytes],
    fmt: str,
    options: dict[str, str],
    names: list[str],
    oids: list[int] | None = None,
) -> Iterator[pa.Table]:
    """Parse COPY data into Arrow tables (cast to the column types by the caller): text and csv as
    strings; binary typed by the columns' type ``oids`` (sql/copy_binary.py).

    Binary data carries no types: the caller passes the columns' ``oids``.
    """
    if fmt == "binary":
        if oids is None:
            raise E.InternalError("COPY FROM STDIN in binary format needs the column types")
        if len(oids) != len(names):
            raise E.InternalError(f"COPY: {len(oids)} column types for {len(names)} columns")
        yield from read_binary(data, names, oids)
        return
    csv = fmt == "csv"
    header = options.get("header", "false").lower() in ("true", "on", "1", "match")
    delim = options.get("delimiter", "," if csv else "\t")
    null = options.get("null", "" if csv else "\\N")
    parse = pacsv.ParseOptions(
        delimiter=delim,
        quote_char=options.get("quote", '"') if csv else False,
        double_quote=csv,
        escape_char=False,
        newlines_in_values=csv,
    )
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        null_values=[null],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    buf = b""
    first = True
    for chunk in _with_end(data):
        if chunk is not None:
            buf += chunk
            if len(buf) < 16 << 20:
                continue
            cut = buf.rfind(b"\n") + 1
            if cut == 0 or (csv and buf[:cut].count(b'"') % 2):
                continue
            part, buf = buf[:cut], buf[cut:]
        else:
            part, buf = buf, b""
        if fmt == "text":
            part = part.replace(b"\n\\.\n", b"\n")
            if part.endswith(b"\\.\n") and (len(part) == 3 or part[-4:-3] == b"\n"):
                part = part[:-3]
        if not part.strip():
            continue
        read = pacsv.ReadOptions(column_names=names, skip_rows=1 if (header and first) else 0)
        first = False
        try:
            table = pacsv.read_csv(
                io.BytesIO(part), read_options=read, parse_options=parse, convert_options=convert
            )
        except pa.ArrowInvalid as exc:
            raise E.SqlError(f"invalid COPY data: {exc}".replace("\n", " ")) from exc
        yield table if csv else _unescaped(table)


_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_ESCAPED = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape(m: re.Match) -> str:
    if m.group(1):
        return chr(int(m.group(1), 8) & 0xFF)
    if m.group(2):
        return chr(int(m.group(2), 16))
    return _ESCAPED.get(m.group(3), m.group(3))


def _unescaped(table: pa.Table) -> pa.Table:
    """Text format's backslash escapes (``\\t``, ``\\n``, ``\\\\``, ``\\123``, ``\\x41`` ...) decoded, as
    PostgreSQL's COPY FROM reads them (pg_dump writes a tab in a value as ``\\t``); ``\\N`` alone was
    read as NULL already."""
    for i, col in enumerate(table.columns):
        if not pc.any(pc.match_substring(col, "\\")).as_py():
            continue
        values = [None if v is None else _ESCAPE.sub(_unescape, v) for v in col.to_pylist()]
        table = table.set_column(i, table.field(i), pa.array(values, pa.string()))
    return table


def _with_end(data: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from data
    yield None
