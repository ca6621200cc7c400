"""COPY ... TO STDOUT: Arrow batches as the rows of PostgreSQL's text, csv and binary COPY formats.

Every row goes out in its own CopyData message (clients such as psycopg read one row per message);
the rows of a batch are built column-wise and framed in one buffer.

    text    values in text form, backslash-escaped (\\\\ \\n \\r \\t and the delimiter), NULL as \\N,
            delimiter TAB, each row ended by \\n
    csv     values quoted when they hold the delimiter, the quote, CR or LF or equal the NULL string
            (empty by default, so an empty string is written ""), quotes doubled; optional header line
    binary  "PGCOPY\\n\\377\\r\\n\\0" | int32 flags 0 | int32 extension length 0, sent with the first row;
            each row int16 field count | (int32 length or -1 | binary value)*; trailer int16 -1
            in a message of its own
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pgwire.messages import CopyData, WireColumn, encode_data_rows, frame_each
from pgwire.types import Context, encode_column
from sql.session import ColumnDesc, CopyRequest

BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"


def wire_values(col: WireColumn) -> pa.Array:
    """A WireColumn as a large_binary array with NULLs."""
    n = len(col)
    if col.fixed is not None:
        w = col.fixed.shape[1]
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
        arr = pa.Array.from_buffers(
            pa.large_binary(),
            n,
            [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(col.fixed).reshape(-1))],
        )
    else:
        assert col.var is not None
        arr = col.var
        if pa.types.is_large_string(arr.type):
            arr = arr.view(pa.large_binary())
        elif not pa.types.is_large_binary(arr.type):
            arr = arr.cast(pa.large_binary())
    if col.nulls is not None and col.nulls.any():
        arr = pc.if_else(pa.array(~col.nulls), arr, pa.scalar(None, pa.large_binary()))
    return arr


class CopyOutWriter:
    """Formats the batches of one COPY TO STDOUT; ``rows`` counts what was written."""

    def __init__(self, request: CopyRequest, ctx: Context) -> None:
        self.request = request
        self.ctx = ctx
        self.columns: list[ColumnDesc] = request.columns
        opts = {k.lower(): v for k, v in request.options.items()}
        self.format = request.format.lower()
        csv = self.format == "csv"
        self.delimiter = opts.get("delimiter", "," if csv else "\t")
        self.null = opts.get("null", "" if csv else "\\N")
        self.quote = opts.get("quote", '"')
        self.escape = opts.get("escape", self.quote)
        self.header = opts.get("header", "false").lower() in ("true", "on", "1", "yes", "match")
        self.rows = 0
        self._started = False

    def start(self) -> bytes:
        """What goes out before the first row: the csv header line, if asked for."""
        self._started = True
        if self.format == "csv" and self.header:
            names = [self._csv_quote_one(c.name) for c in self.columns]
            return CopyData((self.delimiter.join(names) + "\n").encode()).encode()
        return b""

    def batch(self, batch: pa.RecordBatch) -> bytes | memoryview:
        n = batch.num_rows
        if n == 0:
            return b""
        first = self.rows == 0
        self.rows += n
        if self.format == "binary":
            cols = [
                encode_column(batch.column(i), c.type_oid, 1, self.ctx) for i, c in enumerate(self.columns)
            ]
            out = encode_data_rows(cols, n, type_code=b"d")
            if first:  # the signature travels inside the first row's CopyData
                (length,) = np.frombuffer(out[1:5], ">i4")
                row = out[5 : 1 + int(length)]
                out = CopyData(BINARY_SIGNATURE + row).encode() + out[1 + int(length) :]
            return out
        values = [
            wire_values(encode_column(batch.column(i), c.type_oid, 0, self.ctx)).view(pa.large_string())
            for i, c in enumerate(self.columns)
        ]
        if self.format == "csv":
            cells = [self._csv_cells(v) for v in values]
        else:
            cells = [self._text_cells(v) for v in values]
        sep = pa.scalar(self.delimiter, pa.large_string())
        joined = pc.binary_join_element_wise(*cells, sep) if len(cells) > 1 else cells[0]
        lines = pc.binary_join_element_wise(
            joined, pa.scalar("\n", pa.large_string()), pa.scalar("", pa.large_string())
        )
        return frame_each(b"d", lines)

    def finish(self) -> bytes:
        out = b""
        if self.format == "binary":
            if self.rows == 0:
                out += CopyData(BINARY_SIGNATURE).encode()
            out += CopyData(BINARY_TRAILER).encode()
        return out

    def _text_cells(self, v: pa.Array) -> pa.Array:
        v = pc.replace_substring(v, "\\", "\\\\")
        v = pc.replace_substring(v, "\n", "\\n")
        v = pc.replace_substring(v, "\r", "\\r")
        v = pc.replace_substring(v, "\t", "\\t")
        if self.delimiter != "\t":
            v = pc.replace_substring(v, self.delimiter, "\\" + self.delimiter)
        return v.fill_null(self.null)

    def _csv_cells(self, v: pa.Array) -> pa.Array:
        q = self.quote
        special = "[" + "".join("\\" + c for c in {self.delimiter, q, "\r", "\n"}) + "]"
        needs = pc.or_(pc.match_substring_regex(v, special), pc.equal(v, self.null))
        needs = pc.or_(needs, pc.starts_with(v, "\\."))
        escaped = pc.replace_substring(v, q, self.escape + q) if self.escape else v
        quoted = pc.binary_join_element_wise(
            pa.scalar(q, pa.large_string()),
            escaped,
            pa.scalar(q, pa.large_string()),
            pa.scalar("", pa.large_string()),
        )
        return pc.if_else(needs, quoted, v).fill_null(self.null)

    def _csv_quote_one(self, text: str) -> str:
        q = self.quote
        if any(c in text for c in (self.delimiter, q, "\r", "\n")) or text == self.null:
            return q + text.replace(q, self.escape + q) + q
        return text
