"""The write API of a real ``tsgres serve`` process: Telegraf-sized gzip batches, 16 concurrent
writers, /metrics with the WAL fsync histogram, and the UDP listener. Everything written is read back
through a fresh engine on the data directory once the server has stopped cleanly."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import urllib.request

import aiohttp
import numpy as np

from bench.datagen import DevopsCpu
from bench.peers import free_port
from tests.compat.conftest import engine_on, read_rows, stop_cleanly

T0 = 1_700_000_000_000_000_000


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_telegraf_sized_gzip_batches_arrive_whole(tsgres_proc) -> None:
    server = tsgres_proc()
    gen = DevopsCpu(10, hours=4)  # 14,400 rows: batches of 5,000, 5,000 and 4,400 lines
    bodies = [gzip.compress(bytes(chunk)) for chunk in gen.line_protocol(5000)]
    assert len(bodies) == 3

    async def send() -> None:
        async with aiohttp.ClientSession() as session:
            for body in bodies:
                async with session.post(
                    server.http_url("/write?db=telegraf&precision=ns"),
                    data=body,
                    headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
                ) as resp:
                    assert resp.status == 204, await resp.text()

    asyncio.run(send())
    stop_cleanly(server)
    with engine_on(server.data_dir) as engine:
        got = read_rows(engine, "telegraf", "cpu").sort_by([("time", "ascending"), ("hostname", "ascending")])
    assert got.num_rows == gen.n_rows
    # every value, compared with the generator's own batches
    want_time = np.concatenate([b.time for b in gen.batches()])
    want_host = np.concatenate(
        [np.array([dict(b.tag_sets[s])["hostname"] for s in b.series]) for b in gen.batches()]
    )
    want_user = np.concatenate([b.fields["usage_user"].values for b in gen.batches()])
    order = np.lexsort((want_host, want_time))
    assert got["time"].to_numpy().tolist() == want_time[order].tolist()
    assert got["hostname"].to_pylist() == want_host[order].tolist()
    assert got["usage_user"].to_numpy().tolist() == want_user[order].tolist()
    assert set(got.column_names) >= {"region", "datacenter", "usage_guest_nice"}


def test_sixteen_concurrent_writers_lose_nothing(tsgres_proc) -> None:
    server = tsgres_proc()
    writers, bodies, lines = 16, 12, 400

    def body(writer: int, n: int) -> bytes:
        base = T0 + n * lines * 1000
        return "".join(
            f"conc,writer=w{writer},shard=s{i % 4} v={writer * 1_000_000 + n * lines + i}i {base + i * 1000}\n"
            for i in range(lines)
        ).encode()

    async def client(writer: int) -> None:
        async with aiohttp.ClientSession() as session:
            for n in range(bodies):
                data = body(writer, n)
                headers = {"Content-Encoding": "gzip"} if n % 2 else {}
                if n % 2:
                    data = gzip.compress(data)
                async with session.post(
                    server.http_url("/write?db=conc"), data=data, headers=headers
                ) as resp:
                    assert resp.status == 204, await resp.text()

    async def run_all() -> None:
        await asyncio.gather(*(client(w) for w in range(writers)))

    asyncio.run(run_all())
    stop_cleanly(server)
    with engine_on(server.data_dir) as engine:
        got = read_rows(engine, "conc", "conc")
    assert got.num_rows == writers * bodies * lines
    seen = set(zip(got["writer"].to_pylist(), got["v"].to_pylist(), strict=True))
    want = {
        (f"w{w}", w * 1_000_000 + n * lines + i)
        for w in range(writers)
        for n in range(bodies)
        for i in range(lines)
    }
    assert seen == want


def test_metrics_include_wal_fsync_latency(tsgres_proc) -> None:
    server = tsgres_proc(env={"TSGRES_STORAGE_WAL_FSYNC": "always"})
    for i in range(3):
        req = urllib.request.Request(
            server.http_url("/write?db=db"), data=f"m v={i} {T0 + i}".encode(), method="POST"
        )
        # a fresh server's first write may wait for the parser's kernels to load: not what is tested here
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 204
    url = server.http_url("/metrics")
    assert metric(url, "tsgres_wal_fsync_duration_seconds_count") >= 3
    assert metric(url, 'tsgres_write_points_total{api="v1"}') == 3
    assert metric(url, 'tsgres_write_requests_total{api="v1",status="204"}') == 3
    stop_cleanly(server)


def test_udp_listener_writes_datagrams(tsgres_proc) -> None:
    port = free_port()
    server = tsgres_proc(env={"TSGRES_UDP_BIND": f"127.0.0.1:{port}", "TSGRES_UDP_DATABASE": "udpdb"})
    datagrams = [
        "".join(f"sensor,id=s{d} t={d * 100 + i}i {T0 + i}\n" for i in range(50)).encode() for d in range(10)
    ] + [b"garbage line\n" + f"sensor,id=bad t=1i {T0}\n".encode()]
    url = server.http_url("/metrics")
    # The UDP socket is bound just after the HTTP one; datagrams sent before that are lost, so send the
    # same (idempotent: same series and times) datagrams until all have been counted.
    deadline = time.monotonic() + 30
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while metric(url, 'tsgres_write_requests_total{api="udp",status="ok"}') < 10:
            assert time.monotonic() < deadline, "UDP datagrams never arrived"
            for d in datagrams:
                sock.sendto(d, ("127.0.0.1", port))
            time.sleep(0.2)
    assert metric(url, 'tsgres_write_points_dropped_total{api="udp",reason="parse"}') >= 1
    stop_cleanly(server)
    with engine_on(server.data_dir) as engine:
        got = read_rows(engine, "udpdb", "sensor")
    assert got.num_rows == 10 * 50 + 1
    assert sorted(got["t"].to_pylist()) == sorted([d * 100 + i for d in range(10) for i in range(50)] + [1])
