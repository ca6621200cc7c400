"""Real InfluxDB 1.x clients reading through tsgres's /query: the ``influx`` CLI (Debian's
influxdb-client) and the Python ``influxdb`` package. No InfluxDB server is involved: the server
under test is tsgres with tests/influxql/dataset.py loaded.

CI installs both (.ci/run); a missing CLI or package fails the test under CI=true and skips it
elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest


def _need_cli() -> str:
    path = shutil.which("influx")
    if path is None:
        message = "the influx CLI is missing (apt-get install influxdb-client)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _influxdb_client():  # noqa: ANN202
    try:
        import influxdb
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("the influxdb Python package is missing (pip install influxdb)")
        pytest.skip("the influxdb Python package is missing")
    return influxdb


def _port(url: str) -> int:
    return int(urllib.parse.urlsplit(url).port or 0)


def influx(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_need_cli(), "-host", "127.0.0.1", "-port", str(_port(url)), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_cli_show_databases(tsgres_only: str, tmp_path: Path) -> None:
    r = influx(tsgres_only, "-execute", "SHOW DATABASES", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == ["name: databases", "name", "----"], r.stdout
    assert {"postgres", "db1", "db2"} <= set(lines[3:]), r.stdout


def test_cli_select(tsgres_only: str, tmp_path: Path) -> None:
    r = influx(
        tsgres_only,
        "-database",
        "db1",
        "-execute",
        "SELECT usage_user, host FROM cpu WHERE host = 'server01' LIMIT 3",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "name: cpu",
        "time                usage_user host",
        "----                ---------- ----",
        "1600000000000000000 0          server01",
        "1600000010000000000 18.5       server01",
        "1600000020000000000 37         server01",
    ], r.stdout


def test_cli_execute_csv(tsgres_only: str, tmp_path: Path) -> None:
    r = influx(
        tsgres_only,
        "-database",
        "db1",
        "-format",
        "csv",
        "-execute",
        "SELECT count(usage_user) FROM cpu GROUP BY host",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "name,tags,time,count",
        "cpu,host=server01,0,360",
        "name,tags,time,count",
        "cpu,host=server02,0,360",
        "name,tags,time,count",
        "cpu,host=server03,0,300",
        "name,tags,time,count",
        "cpu,host=server04,0,160",
    ], r.stdout


def test_cli_insert_then_select_json(tsgres_only: str, tmp_path: Path) -> None:
    r = influx(
        tsgres_only,
        "-database",
        "db2",
        "-execute",
        "INSERT cli_insert,host=x v=1.5,n=3i 1600000000000000000",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r = influx(
        tsgres_only,
        "-database",
        "db2",
        "-format",
        "json",
        "-execute",
        "SELECT * FROM cli_insert",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == (
        '{"results":[{"series":[{"name":"cli_insert","columns":["time","host","n","v"],'
        '"values":[[1600000000000000000,"x",3,1.5]]}]}]}'
    )


def test_cli_import_with_ddl(tsgres_only: str, tmp_path: Path) -> None:
    """-import runs the file's DDL section through /query, then writes the DML section."""
    path = tmp_path / "import.txt"
    path.write_text(
        "# DDL\nCREATE DATABASE cli_import\n"
        'CREATE RETENTION POLICY "week" ON "cli_import" DURATION 1w REPLICATION 1\n'
        "# DML\n# CONTEXT-DATABASE: cli_import\n# CONTEXT-RETENTION-POLICY: autogen\n"
        + "\n".join(f"m,k=a v={i} {1600000000 + i}" for i in range(10))
        + "\n"
    )
    r = influx(tsgres_only, "-import", "-path", str(path), "-precision", "s", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = influx(
        tsgres_only,
        "-database",
        "cli_import",
        "-format",
        "csv",
        "-execute",
        "SELECT sum(v) FROM m; SHOW RETENTION POLICIES",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "name,time,sum",
        "m,0,45",
        "name,duration,shardGroupDuration,replicaN,default",
        "autogen,0s,168h0m0s,1,true",
        "week,168h0m0s,24h0m0s,1,false",
    ], r.stdout


def test_cli_error_exit_code(tsgres_only: str, tmp_path: Path) -> None:
    r = influx(
        tsgres_only,
        "-database",
        "db1",
        "-execute",
        "SELECT usage_user FROM cpu WHERE time > 'x'",
        cwd=tmp_path,
    )
    assert r.returncode == 1
    assert "invalid operation: time and *influxql.StringLiteral are not compatible" in r.stdout + r.stderr


def test_python_influxdb_package(tsgres_only: str) -> None:
    influxdb = _influxdb_client()
    client = influxdb.InfluxDBClient(host="127.0.0.1", port=_port(tsgres_only), database="db1")
    try:
        assert {"db1", "db2"} <= {d["name"] for d in client.get_list_database()}
        points = list(client.query("SELECT usage_user FROM cpu WHERE host = 'server01' LIMIT 2").get_points())
        assert points == [
            {"time": "2020-09-13T12:26:40Z", "usage_user": 0},
            {"time": "2020-09-13T12:26:50Z", "usage_user": 18.5},
        ]
        rs = client.query("SELECT max(usage_user) FROM cpu GROUP BY host")
        by_host = {tags["host"]: list(pts)[0]["max"] for (_, tags), pts in rs.items()}
        assert set(by_host) == {"server01", "server02", "server03", "server04"}
        bound = client.query(
            "SELECT count(usage_user) FROM cpu WHERE host = $host",
            bind_params={"host": "server03"},
        )
        assert list(bound.get_points()) == [{"time": "1970-01-01T00:00:00Z", "count": 300}]
        epoch = client.query("SELECT usage_user FROM cpu WHERE host = 'server02' LIMIT 1", epoch="s")
        assert list(epoch.get_points()) == [{"time": 1600000000, "usage_user": 6.5}]
        chunked = client.query(
            "SELECT usage_user FROM cpu WHERE host = 'server01'", chunked=True, chunk_size=100
        )
        assert sum(len(list(rs.get_points())) for rs in chunked) == 360  # one ResultSet per chunk
        client.create_database("py_client")
        client.write_points(
            [{"measurement": "m", "tags": {"k": "v"}, "time": 1600000000000000000, "fields": {"x": 2.5}}],
            database="py_client",
        )
        got = client.query("SELECT x FROM m", database="py_client")
        assert list(got.get_points()) == [{"time": "2020-09-13T12:26:40Z", "x": 2.5}]
        assert client.get_list_measurements() == [
            {"name": n} for n in ["cpu", "cpu_load", "disk", "h2o level", "mem", "net", "precise", "weather"]
        ]
        client.drop_database("py_client")
        with pytest.raises(influxdb.exceptions.InfluxDBClientError):
            client.query("SELEC 1")
    finally:
        client.close()
