"""pgwire-layer: SELECT 1 latency (1 and 64 clients) and rows/s of a 1M-row result, the protocol layer alone.

``python -m bench pgwire-layer [--engine duck|tsgres]``. (``python -m bench pgwire`` is the end-to-end
comparison with PostgreSQL in bench/roundtrip.py.)

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
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATABASE = "postgres"  # exists on a fresh tsgres; the DuckDB test session takes any name
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
    parser.add_argument(
        "--port", type=int, default=0, help="measure a server already listening here (default: start one)"
    )
    parser.add_argument(
        "--engine",
        choices=["duck", "tsgres"],
        default="duck",
        help="server to start: the DuckDB test session (default) or `tsgres serve` (storage + SQL engine)",
    )
    parser.add_argument(
        "--queries", type=int, default=5000, help="SELECT 1 round trips per client (default 5000)"
    )
    parser.add_argument("--clients", default="1,64", help="client counts for the latency runs (default 1,64)")
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows in the streaming result (default 1M)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="streaming runs per format; the best is kept")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


async def _latency(port: int, clients: int, queries: int) -> list[float]:
    import asyncpg

    conns = [
        await asyncpg.connect(host="127.0.0.1", port=port, user="bench", database=DATABASE)
        for _ in range(clients)
    ]
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
    params = b"user\0bench\0database\0" + DATABASE.encode() + b"\0\0"
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


def _in_process_breakdown(queries: int) -> dict[str, float]:
    """SELECT 1 through the handler alone (no sockets, no threads) vs the session's execute alone."""
    sys.path.insert(0, str(REPO))
    from pgwire import messages as m
    from pgwire.auth import AuthConfig
    from pgwire.handlers import Handler
    from pgwire.protocol import Connection
    from tests.pgwire.duck_session import session_factory

    conn = Connection()
    handler = Handler(conn, session_factory(), AuthConfig("trust"))

    def feed(data: bytes) -> bytes:
        conn.receive_data(data)
        for _ in handler.run():
            pass
        return conn.data_to_send()

    feed(m.StartupMessage({"user": "bench", "database": DATABASE}).encode())
    feed(m.Parse("s", "SELECT 1").encode() + m.Sync().encode())
    query = b"".join(x.encode() for x in (m.Bind("", "s", [], [], [1]), m.Execute(), m.Sync()))
    session = handler.session
    assert session is not None
    spent = [0.0]

    class Timed:
        """Forwards to the real session and adds up the time spent inside it (execute and its batches)."""

        def __getattr__(self, name: str) -> object:
            return getattr(session, name)

        def execute(self, statement: object, params: list[object]) -> object:
            t0 = time.perf_counter()
            result = session.execute(statement, params)  # type: ignore[arg-type]
            inner = iter(result.batches)

            def batches() -> object:
                while True:
                    t1 = time.perf_counter()
                    batch = next(inner, None)
                    spent[0] += time.perf_counter() - t1
                    if batch is None:
                        return
                    yield batch

            result.batches = batches()  # type: ignore[assignment]
            spent[0] += time.perf_counter() - t0
            return result

    handler.session = Timed()  # type: ignore[assignment]
    for _ in range(200):
        feed(query)
    total, inside = [], []
    for _ in range(queries):
        spent[0] = 0.0
        t0 = time.perf_counter()
        feed(query)
        total.append(time.perf_counter() - t0)
        inside.append(spent[0])
    handler.session = session
    handler.close()
    return {
        "handler_p50_us": round(statistics.median(total) * 1e6, 1),
        "session_p50_us": round(statistics.median(inside) * 1e6, 1),
        "protocol_p50_us": round(
            statistics.median([t - i for t, i in zip(total, inside, strict=True)]) * 1e6, 1
        ),
    }


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run(args: argparse.Namespace) -> int:
    proc = None
    port = args.port
    tmp = None
    if not port:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TSGRES_")}
        env["PYTHONPATH"] = str(REPO)
        if args.engine == "duck":
            argv = [sys.executable, "-c", SERVER.format(repo=str(REPO))]
        else:
            tmp = tempfile.TemporaryDirectory(prefix="bench-pgwire-")
            argv = [
                sys.executable,
                "-m",
                "tsgres",
                "serve",
                "--data-dir",
                tmp.name,
                "--http-port",
                "0",
                "--pg-port",
                "0",
                "--log-level",
                "warning",
            ]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the server exited before listening")
            if args.engine == "duck":
                port = int(line)
                break
            if line.startswith("tsgres: pgwire listening on"):
                port = int(line.rsplit(":", 1)[1])
                break
    label = {
        "duck": "DuckDB test session (tests/pgwire/duck_session.py)",
        "tsgres": "tsgres serve (SQL engine)",
    }
    figures: dict[str, object] = {
        "server": label[args.engine] if proc else f"server on port {port}",
        "load_average": os.getloadavg()[0],
    }
    try:
        for clients in (int(c) for c in args.clients.split(",")):
            samples = asyncio.run(_latency(port, clients, args.queries))
            figures[f"select1_{clients}_clients"] = {
                "p50_us": round(statistics.median(samples) * 1e6, 1),
                "p99_us": round(_percentile(samples, 99) * 1e6, 1),
                "queries_per_s": round(len(samples) / (sum(samples) / clients)),
            }
        if args.engine == "duck" and not args.port:
            figures["select1_in_process"] = _in_process_breakdown(args.queries)
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
        if tmp is not None:
            tmp.cleanup()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0
