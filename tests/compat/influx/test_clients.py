"""Real InfluxDB clients against tsgres: the ``influx`` CLI (InfluxDB 1.x's, Debian's influxdb-client
package), the Python ``influxdb`` (1.x) and ``influxdb-client`` (2.x) libraries. Every write is read
back through the storage engine's scan API.

``-import`` sends an import file's DDL section to ``/query`` and its DML section to ``/write``;
``INSERT`` goes to ``/write``; the CLI pings ``/ping`` first.
CI installs the CLI (.ci/run); a missing CLI fails the test under CI=true and skips it elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import Client, WriteApp, engine_on, read_rows, stop_cleanly

T0 = 1_700_000_000_000_000_000
S = 1_000_000_000


def need_cli() -> str:
    path = shutil.which("influx")
    if path is None:
        message = "the influx CLI is missing (apt-get install influxdb-client)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def influx(cli: str, port: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [cli, "-host", "127.0.0.1", "-port", str(port), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_influx_cli_import_and_insert(tsgres_proc, tmp_path: Path) -> None:
    cli = need_cli()
    server = tsgres_proc()
    lines = "\n".join(f"weather,city=c{i % 3} temp={20 + i / 10},rain={i}i {T0 + i * S}" for i in range(300))
    path = tmp_path / "import.lp"
    # The DDL section goes through /query, the DML section through /write.
    path.write_text(
        "# DDL\nCREATE DATABASE climate\n"
        "# DML\n# CONTEXT-DATABASE: climate\n# CONTEXT-RETENTION-POLICY: autogen\n" + lines + "\n"
    )
    result = influx(cli, server.http_port, "-import", "-path", str(path), "-precision", "ns", cwd=tmp_path)
    report = result.stdout + result.stderr  # the CLI logs its summary to stdout
    assert result.returncode == 0, report
    assert "Processed 1 commands" in report, report
    assert "Processed 300 inserts" in report and "Failed 0 inserts" in report, report

    result = influx(
        cli,
        server.http_port,
        "-database",
        "climate",
        "-execute",
        f"INSERT weather,city=x temp=1.5,rain=7i {T0}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = influx(
        cli,
        server.http_port,
        "-database",
        "climate",
        "-precision",
        "s",
        "-execute",
        "INSERT weather,city=y temp=2.5 1700000001",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    # An error comes back in InfluxDB's words: the CLI prints the server's message
    result = influx(
        cli,
        server.http_port,
        "-database",
        "climate",
        "-execute",
        f'INSERT weather,city=x temp="hot" {T0}',
        cwd=tmp_path,
    )
    output = (result.stdout + result.stderr).replace('\\"', '"')
    assert 'field type conflict: input field "temp" on measurement "weather"' in output, output

    stop_cleanly(server)
    with engine_on(server.data_dir) as engine:
        got = read_rows(engine, "climate", "weather", rp="autogen")
    assert got.num_rows == 302
    rows = {(r["city"], r["time"]): r for r in got.to_pylist()}
    assert (
        rows[("c1", T0 + 10 * S)]["temp"] == pytest.approx(21.0) and rows[("c1", T0 + 10 * S)]["rain"] == 10
    )
    assert rows[("x", T0)]["temp"] == 1.5 and rows[("x", T0)]["rain"] == 7
    assert rows[("y", 1_700_000_001 * S)]["temp"] == 2.5


def in_thread(app: WriteApp, work: Callable[[int], Any]) -> Any:
    """Run a blocking client ``work(port)`` against the in-process server, off its event loop."""
    out: list[Any] = []

    async def check(client: Client) -> None:
        out.append(await asyncio.to_thread(work, client.server.port))

    app.run(check)
    return out[0]


def test_python_influxdb_v1_client(write_app) -> None:
    influxdb = pytest.importorskip("influxdb")
    from influxdb.exceptions import InfluxDBClientError

    app: WriteApp = write_app()

    def work(port: int) -> str:
        for gz in (False, True):
            client = influxdb.InfluxDBClient("127.0.0.1", port, "user", "pass", "pyv1", gzip=gz)
            m = "gz" if gz else "plain"
            points = [
                {
                    "measurement": m,
                    "tags": {"host": f"h{i % 2}"},
                    "time": T0 + i,
                    "fields": {"v": i * 0.5, "n": i},
                }
                for i in range(100)
            ]
            assert client.write_points(points, time_precision="n")
            assert client.write_points(
                [{"measurement": m, "tags": {"host": "s"}, "time": 1_700_000_000, "fields": {"v": 9.5}}],
                time_precision="s",
                retention_policy="autogen",
            )
            assert client.write(
                [f"{m},host=line v=1.25 {T0}", f"{m},host=line v=2.25 {T0 + 1}"],
                params={"db": "pyv1"},
                protocol="line",
            )
            client.close()
        client = influxdb.InfluxDBClient("127.0.0.1", port, database="pyv1")
        try:
            client.write_points([{"measurement": "plain", "time": T0, "fields": {"v": "text"}}])
        except InfluxDBClientError as e:
            assert e.code == 400
            return str(e.content)
        finally:
            client.close()
        raise AssertionError("a type conflict was accepted")

    error = in_thread(app, work)
    assert 'field type conflict: input field "v" on measurement "plain" is type string' in error.replace(
        '\\"', '"'
    )
    for m in ("plain", "gz"):
        rows = app.rows(m, "pyv1")
        assert len(rows) == 103
        by_host = {(r["host"], r["time"]): r for r in rows}
        assert by_host[("h1", T0 + 7)]["v"] == 3.5 and by_host[("h1", T0 + 7)]["n"] == 7
        assert by_host[("s", 1_700_000_000 * S)]["v"] == 9.5
        assert by_host[("line", T0 + 1)]["v"] == 2.25


def test_python_influxdb_client_v2(write_app) -> None:
    pytest.importorskip("influxdb_client")
    from influxdb_client import InfluxDBClient, Point, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS
    from influxdb_client.rest import ApiException

    app: WriteApp = write_app()

    def work(port: int) -> int:
        for gz in (False, True):
            m = "gz" if gz else "plain"
            with InfluxDBClient(
                url=f"http://127.0.0.1:{port}", token="user:pass", org="-", enable_gzip=gz
            ) as client:
                api = client.write_api(write_options=SYNCHRONOUS)
                api.write(bucket="pyv2/autogen", record=Point(m).tag("host", "a").field("v", 1.5).time(T0))
                api.write(bucket="pyv2", record=[f"{m},host=b v=2.5 {T0}", f"{m},host=b v=3.5 {T0 + 1}"])
                api.write(
                    bucket="pyv2/autogen",
                    record=Point(m).tag("host", "c").field("v", 4.5).time(1_700_000_000, WritePrecision.S),
                    write_precision=WritePrecision.S,
                )
        with InfluxDBClient(url=f"http://127.0.0.1:{port}", token="user:pass", org="-") as client:
            api = client.write_api(write_options=SYNCHRONOUS)
            try:
                api.write(bucket="pyv2", record=f'plain v="text" {T0}')
            except ApiException as e:
                assert json.loads(e.body)["error"] == (
                    'partial write: field type conflict: input field "v" on measurement "plain" is type string, '
                    "already exists as type float dropped=1"
                )
                assert e.headers["X-Influxdb-Error"] == json.loads(e.body)["error"]
                return int(e.status)
        raise AssertionError("a type conflict was accepted")

    assert in_thread(app, work) == 400
    for m in ("plain", "gz"):
        rows = app.rows(m, "pyv2")
        assert [(r["host"], r["v"]) for r in rows] == [("a", 1.5), ("b", 2.5), ("c", 4.5), ("b", 3.5)]
