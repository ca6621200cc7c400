"""PostgreSQL protocol: round-trip latency (SELECT 1, one-row INSERT) and result streaming rate, tsgres against PostgreSQL 15.

* Latency: ``SELECT 1`` over the simple query protocol, psycopg 3, autocommit. One client sends
  ``--queries`` queries back to back; then ``--clients`` (default 64) clients on one asyncio loop
  (psycopg's AsyncConnection, one connection each) send ``--queries-per-client`` each, all at once.
  Reported: p50 and p99 of the per-query wall time seen by the client, and queries/s for the many-client
  run. The client is Python in one process on the same 2 cores as the server, so at 64 clients it is part
  of what is measured, equally for both peers.
* One-row INSERT: ``INSERT INTO ins_probe VALUES (%s, %s, %s, %s)`` (a timestamptz, a text, a float and
  an integer: psycopg's parameters, extended protocol, as an ORM inserts row by row), ``--inserts``
  statements back to back into a table of its own, each in autocommit (durable when it returns: both
  peers fsync) and then all in one transaction (COMMIT durable). p50 / p99 per statement.
* Streaming: ``SELECT time, hostname, usage_user, ..., usage_guest_nice FROM cpu LIMIT n`` with
  ``n`` = ``--stream-rows`` (default: the whole data set), fetched completely (``fetchall``) in text and
  in binary format (psycopg ``cursor(binary=True)``); rows/s = rows / wall time from execute to the last
  row decoded. Best of ``--repeat`` runs. Decoding every value into Python objects bounds that rate on the
  client side (both peers land near 0.1-0.2 M rows/s), so the same query is also fetched through libpq
  alone (``PQexecParams`` via psycopg's ``pq`` layer, text and binary result format): the whole result
  in libpq's C structures, no Python per row; that rate is the server's.

Data: devops ``--hosts`` x ``--hours``, line protocol into tsgres (database ``bench``), COPY into
PostgreSQL. Rows for tsgres say "not supported yet" while it has no PostgreSQL listener.

    python -m bench pgwire [--hosts 100] [--hours 24] [--clients 64] [--queries 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Measurement, failed, not_supported, percentile, ratio_table  # noqa: E402
from bench.datagen import CPU_FIELDS, DevopsCpu  # noqa: E402

DATABASE = "bench"
PEER_NAMES = ("tsgres", "postgres")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=24)
    p.add_argument("--queries", type=int, default=2000, help="SELECT 1 round trips for the single client")
    p.add_argument("--clients", type=int, default=64, help="concurrent clients for the second run")
    p.add_argument("--inserts", type=int, default=500, help="one-row INSERTs per mode")
    p.add_argument("--queries-per-client", type=int, default=50)
    p.add_argument("--stream-rows", type=int, default=0, help="rows to stream (0: the whole data set)")
    p.add_argument("--repeat", type=int, default=3, help="streaming runs per format (best is kept)")
    p.add_argument(
        "--peers", default=",".join(PEER_NAMES), help=f"comma-separated, of: {', '.join(PEER_NAMES)}"
    )
    p.add_argument("--seed", type=int, default=1)


def one_client(conninfo: str, n: int) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT 1").fetchall()  # warm-up
        for _ in range(n):
            t0 = time.perf_counter()
            conn.execute("SELECT 1").fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    return times


def inserts(conninfo: str, n: int) -> dict[str, list[float]]:
    """Per-statement wall times (ms) of ``n`` one-row INSERTs with parameters, in autocommit and in
    one transaction block (its COMMIT timed as part of the last statement's share: added to each)."""
    import datetime as dt

    import psycopg

    sql = "INSERT INTO ins_probe VALUES (%s, %s, %s, %s)"
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    out: dict[str, list[float]] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS ins_probe")
        conn.execute(
            "CREATE TABLE ins_probe (time timestamptz NOT NULL, host text, v double precision, n int4)"
        )
        for k in range(10):  # warm-up
            conn.execute(sql, (start - dt.timedelta(seconds=k + 1), "warm", 0.0, k))
        times = []
        for k in range(n):
            t0 = time.perf_counter()
            conn.execute(sql, (start + dt.timedelta(seconds=k), f"h{k % 10}", k * 0.5, k))
            times.append((time.perf_counter() - t0) * 1000)
        out["autocommit"] = times
        times = []
        conn.execute("BEGIN")
        for k in range(n):
            t0 = time.perf_counter()
            conn.execute(sql, (start + dt.timedelta(seconds=n + k), f"h{k % 10}", k * 0.5, k))
            times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        conn.execute("COMMIT")
        commit = (time.perf_counter() - t0) * 1000
        out["in one transaction"] = [t + commit / n for t in times]
        conn.execute("DROP TABLE ins_probe")
    return out


async def _many_clients(conninfo: str, clients: int, n: int) -> tuple[list[float], float]:
    import psycopg

    conns = [await psycopg.AsyncConnection.connect(conninfo, autocommit=True) for _ in range(clients)]
    times: list[float] = []

    async def client(conn: psycopg.AsyncConnection) -> None:
        await (await conn.execute("SELECT 1")).fetchall()  # warm-up
        for _ in range(n):
            t0 = time.perf_counter()
            await (await conn.execute("SELECT 1")).fetchall()
            times.append((time.perf_counter() - t0) * 1000)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in conns))
        elapsed = time.perf_counter() - started
    finally:
        for c in conns:
            await c.close()
    return times, elapsed


def many_clients(conninfo: str, clients: int, n: int) -> tuple[list[float], float]:
    return asyncio.run(_many_clients(conninfo, clients, n))


def stream(conninfo: str, rows: int, binary: bool, repeat: int) -> tuple[float, int]:
    """Best rows/s of ``repeat`` full fetches; returns (rows/s, rows fetched)."""
    import psycopg

    cols = ", ".join(["time", "hostname", *CPU_FIELDS])
    best, got = 0.0, 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(repeat):
            with conn.cursor(binary=binary) as cur:
                t0 = time.perf_counter()
                cur.execute(f"SELECT {cols} FROM cpu LIMIT {rows}")
                got = len(cur.fetchall())
                elapsed = time.perf_counter() - t0
            best = max(best, got / elapsed)
    return best, got


def stream_libpq(conninfo: str, rows: int, binary: bool, repeat: int) -> tuple[float, int]:
    """Best rows/s of ``repeat`` fetches of the whole result by libpq, undecoded."""
    import psycopg

    cols = ", ".join(["time", "hostname", *CPU_FIELDS])
    query = f"SELECT {cols} FROM cpu LIMIT {rows}".encode()
    best, got = 0.0, 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pgconn = conn.pgconn
        for _ in range(repeat):
            t0 = time.perf_counter()
            res = pgconn.exec_params(query, [], result_format=1 if binary else 0)
            elapsed = time.perf_counter() - t0
            if res.status != psycopg.pq.ExecStatus.TUPLES_OK:
                raise RuntimeError((res.error_message or b"").decode(errors="replace"))
            got = res.ntuples
            res.clear()
            best = max(best, got / elapsed)
    return best, got


def measure_peer(name: str, conninfo: str, args: argparse.Namespace, rows: int) -> list[Measurement]:
    out: list[Measurement] = []
    t1 = one_client(conninfo, args.queries)
    out.append(Measurement("pgwire", "SELECT 1, 1 client", name, "p50 ms", percentile(t1, 0.5), "", False))
    out.append(Measurement("pgwire", "SELECT 1, 1 client", name, "p99 ms", percentile(t1, 0.99), "", False))
    item = f"SELECT 1, {args.clients} clients"
    tn, elapsed = many_clients(conninfo, args.clients, args.queries_per_client)
    qps = len(tn) / elapsed
    out.append(Measurement("pgwire", item, name, "p50 ms", percentile(tn, 0.5), "", False, {"qps": qps}))
    out.append(Measurement("pgwire", item, name, "p99 ms", percentile(tn, 0.99), "", False, {"qps": qps}))
    out.append(Measurement("pgwire", item, name, "queries/s", qps))
    print(
        f"  {name:8} SELECT 1: 1 client p50 {percentile(t1, 0.5):.3f} ms p99 {percentile(t1, 0.99):.3f} ms; "
        f"{args.clients} clients p50 {percentile(tn, 0.5):.3f} ms p99 {percentile(tn, 0.99):.3f} ms, {qps:,.0f} q/s",
        flush=True,
    )
    for mode, ti in inserts(conninfo, args.inserts).items():
        item = f"one-row INSERT, {mode}"
        out.append(Measurement("pgwire", item, name, "p50 ms", percentile(ti, 0.5), "", False))
        out.append(Measurement("pgwire", item, name, "p99 ms", percentile(ti, 0.99), "", False))
        print(
            f"  {name:8} one-row INSERT, {mode}: p50 {percentile(ti, 0.5):.3f} ms p99 {percentile(ti, 0.99):.3f} ms",
            flush=True,
        )
    for binary in (False, True):
        fmt = "binary" if binary else "text"
        rate, got = stream(conninfo, rows, binary, args.repeat)
        if got != rows:
            raise RuntimeError(f"{name}: streamed {got} rows, expected {rows}")
        out.append(Measurement("pgwire", f"stream {fmt}", name, "rows/s", rate, "", True, {"rows": got}))
        print(f"  {name:8} streaming {got:,} rows, {fmt}: {rate:,.0f} rows/s", flush=True)
    for binary in (False, True):
        fmt = "binary" if binary else "text"
        rate, got = stream_libpq(conninfo, rows, binary, args.repeat)
        if got != rows:
            raise RuntimeError(f"{name}: libpq fetched {got} rows, expected {rows}")
        item = f"stream {fmt}, libpq"
        out.append(Measurement("pgwire", item, name, "rows/s", rate, "", True, {"rows": got}))
        print(f"  {name:8} libpq fetch of {got:,} rows, {fmt}: {rate:,.0f} rows/s", flush=True)
    return out


def _all_unsupported(name: str, args: argparse.Namespace) -> list[Measurement]:
    items = [
        ("SELECT 1, 1 client", "p50 ms", False),
        ("SELECT 1, 1 client", "p99 ms", False),
        (f"SELECT 1, {args.clients} clients", "p50 ms", False),
        (f"SELECT 1, {args.clients} clients", "p99 ms", False),
        (f"SELECT 1, {args.clients} clients", "queries/s", True),
        ("one-row INSERT, autocommit", "p50 ms", False),
        ("one-row INSERT, autocommit", "p99 ms", False),
        ("one-row INSERT, in one transaction", "p50 ms", False),
        ("one-row INSERT, in one transaction", "p99 ms", False),
        ("stream text", "rows/s", True),
        ("stream binary", "rows/s", True),
        ("stream text, libpq", "rows/s", True),
        ("stream binary, libpq", "rows/s", True),
    ]
    return [not_supported("pgwire", i, name, m, higher_is_better=h) for i, m, h in items]


def _all_failed(name: str, args: argparse.Namespace, e: BaseException) -> list[Measurement]:
    return [failed("pgwire", m.item, name, m.metric, e, higher_is_better=m.higher_is_better)
            for m in _all_unsupported(name, args)]  # fmt: skip


def measure(args: argparse.Namespace) -> list[Measurement]:
    from bench.ingest import load_lp
    from bench.peers import PostgresPeer, TsgresPeer
    from bench.pgload import load_copy

    gen = DevopsCpu(args.hosts, hours=args.hours, seed=args.seed)
    rows = min(args.stream_rows or gen.n_rows, gen.n_rows)
    print(f"devops: {gen.n_rows:,} rows; streaming {rows:,} of them", flush=True)
    out: list[Measurement] = []
    for name in (p for p in args.peers.split(",") if p):
        try:
            if name == "postgres":
                with PostgresPeer() as peer:
                    load_copy(peer.conninfo(), gen, target="postgres")
                    out += measure_peer(name, peer.conninfo(), args, rows)
            elif name == "tsgres":
                with TsgresPeer() as peer:
                    if not peer.has_pgwire:
                        print(
                            "  tsgres   not supported yet (no PostgreSQL listener in this build)", flush=True
                        )
                        out += _all_unsupported(name, args)
                        continue
                    load_lp(peer, gen)
                    out += measure_peer(name, peer.conninfo(DATABASE), args, rows)
            else:
                raise SystemExit(f"unknown peer {name!r} (use {', '.join(PEER_NAMES)})")
        except SystemExit:
            raise
        except Exception as e:  # a peer's failure must not hide the other's numbers
            print(f"  {name}: failed: {e}", flush=True)
            done = {(m.peer, m.item, m.metric) for m in out}
            out += [m for m in _all_failed(name, args, e) if (m.peer, m.item, m.metric) not in done]
    return out


def run(args: argparse.Namespace) -> int:
    rows = measure(args)
    print()
    print(
        ratio_table(
            rows, title="PostgreSQL protocol: latency (lower is better) and streaming (higher is better)"
        )
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
