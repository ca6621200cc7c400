"""pgwire: SELECT 1 round-trip latency (1 and 64 clients) and rows/s streaming a 1M-row result.

The server is ``pgwire.server.serve`` in a child process over the DuckDB test session
(tests/pgwire/duck_session.py) until the SQL engine is measured instead: the figures are the protocol
layer's (framing, encoding, transport), plus DuckDB's own cost for the query. Latency is measured with
asyncpg (extended protocol, prepared statement reused: Bind/Execute/Sync per query). Streaming is read
by a raw socket client that only counts bytes, so the client's decoding does not cap the figure; the
result is three columns (timestamptz, float8, int8) in text (simple Query) and binary (Bind with
result format 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROWS_QUERY = (
    "select TIMESTAMPTZ '2020-01-01 00:00:00+00' + i * INTERVAL 1 SECOND as time, i * 0.5::DOUBLE as value, i as n "
    "from range({rows}) t(i)"
)

SERVER = """
import asyncio, sys
import uvloop
sys.path.insert(0, {repo!r})
from pgwire.server import serve
from tests.pgwire.duck_session import session_factory

async def main():
    pg = await serve("127.0.0.1", 0, session_factory())
    print(pg.addresses[0][1], flush=True)
    await asyncio.Event().wait()

uvloop.run(main())
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="measure a server already listening here (default: start one)")
    parser.add_argument("--queries", type=int, default=5000, help="SELECT 1 round trips per client (default 5000)")
    parser.add_argument("--clients", default="1,64", help="client counts for the latency runs (default 1,64)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the streaming result (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="streaming runs per format; the best is kept")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


async def _latency(port: int, clients: int, queries: int) -> list[float]:
    import asyncpg

    conns = [await asyncpg.connect(host="127.0.0.1", port=port, user="bench", database="bench") for _ in range(clients)]
    samples: list[float] = []

    async def one(conn: asyncpg.Connection) -> None:
        stmt = await conn.prepare("SELECT 1")
        for _ in range(50):  # warm up
            await stmt.fetchval()
        for _ in range(queries):
            t0 = time.perf_counter()
            await stmt.fetchval()
            samples.append(time.perf_counter() - t0)

    await asyncio.gather(*(one(c) for c in conns))
    for c in conns:
        await c.close()
    return samples


def _frame(code: bytes, payload: bytes) -> bytes:
    return code + struct.pack("!i", len(payload) + 4) + payload


def _startup(sock: socket.socket) -> None:
    params = b"user\0bench\0database\0bench\0\0"
    sock.sendall(struct.pack("!ii", len(params) + 8, 196608) + params)
    _read_until_ready(sock)


def _read_until_ready(sock: socket.socket) -> int:
    """Read until ReadyForQuery; the number of bytes read."""
    total = 0
    tail = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        total += len(chunk)
        tail = (tail + chunk)[-6:]
        if tail[:1] == b"Z" and tail[1:5] == b"\x00\x00\x00\x05":
            return total


def _stream(port: int, rows: int, binary: bool) -> tuple[float, int]:
    sql = ROWS_QUERY.format(rows=rows)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _startup(sock)
        if binary:
            msg = (
                _frame(b"P", b"\0" + sql.encode() + b"\0\0\0")
                + _frame(b"B", b"\0\0" + b"\0\0" + b"\0\0" + b"\0\x01\0\x01")
                + _frame(b"E", b"\0\0\0\0\0")
                + _frame(b"S", b"")
            )
        else:
            msg = _frame(b"Q", sql.encode() + b"\0")
        t0 = time.perf_counter()
        sock.sendall(msg)
        nbytes = _read_until_ready(sock)
        return time.perf_counter() - t0, nbytes


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run(args: argparse.Namespace) -> int:
    proc = None
    port = args.port
    if not port:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        proc = subprocess.Popen([sys.executable, "-c", SERVER.format(repo=str(REPO))], stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
    figures: dict[str, object] = {"session": "DuckDB test session" if proc else f"server on port {port}"}
    try:
        for clients in (int(c) for c in args.clients.split(",")):
            samples = asyncio.run(_latency(port, clients, args.queries))
            figures[f"select1_{clients}_clients"] = {
                "p50_us": round(statistics.median(samples) * 1e6, 1),
                "p99_us": round(_percentile(samples, 99) * 1e6, 1),
                "queries_per_s": round(len(samples) / (sum(samples) / clients)),
            }
        for binary in (False, True):
            best = min(_stream(port, args.rows, binary) for _ in range(args.repeat))
            seconds, nbytes = best
            figures[f"stream_{'binary' if binary else 'text'}"] = {
                "rows": args.rows,
                "seconds": round(seconds, 3),
                "rows_per_s": round(args.rows / seconds),
                "MB_per_s": round(nbytes / seconds / 1e6, 1),
            }
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0
