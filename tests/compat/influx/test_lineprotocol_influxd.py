"""The conformance table against a real InfluxDB 1.x (``influxd`` on PATH; skipped without it).

Every table line is written to its own fresh database of a private ``influxd`` (temporary directory,
free local ports, stopped by pid afterwards) and read back with InfluxQL. A line we accept must be
accepted there with the same measurement, tags, field types and values (and time, when the line has
one); a line we reject must be rejected. Error wording is not compared.

The lines where we differ on purpose are listed in :data:`DIFFERENCES` (see
docs/format/line-protocol.md); they are expected to fail, strictly, so the list stays true.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from columnar.types import FieldType
from tests.compat.influx.lp_conformance import CASES, NOW, Err, P

UNSIGNED = "InfluxDB 1.x OSS builds parse unsigned integers only with uint support enabled"
DIFFERENCES: dict[str, str] = {
    r"c\\pu v=1": "we unescape \\\\ to \\ (v2 docs, InfluxDB 3); 1.x keeps both backslashes",
    r"cpu,host=a\\ v=1": "\\\\ then a space: 1.x reads an escaped space",
    r"cpu,host=a\\\ b v=1": "\\\\ in a tag value",
    r"cpu,host=a\\b v=1": "\\\\ in a tag value",
    r"cpu,a\=b\,c\ d\\e=x v=1": "\\\\ in a tag key",
    r"cpu a\\=1": "\\\\ then '=' in a field key",
    'cpu v="x"y': "1.x accepts bytes after the closing quote",
    'cpu v="x""y"': "1.x accepts bytes after the closing quote",
    "cpu v=1 5\t": "we allow trailing tabs",
    "cpu v=1 5  \t ": "we allow trailing tabs",
    "cpu v=1 5\r": "we take CR before the end of the line as part of a CRLF line ending",
}
MAYBE: dict[str, str] = {
    line: UNSIGNED
    for line, exp in CASES
    if isinstance(exp, P) and any(t is FieldType.UNSIGNED for t, _ in exp.fields.values())
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(base: str, root: Path, http_port: int, rpc_port: int) -> str:
    swaps = {
        r'^bind-address = ".*"$': f'bind-address = "127.0.0.1:{rpc_port}"',
        r'^(\s*)dir = "[^"]*/meta"$': rf'\1dir = "{root}/meta"',
        r'^(\s*)dir = "[^"]*/data"$': rf'\1dir = "{root}/data"',
        r'^(\s*)wal-dir = ".*"$': rf'\1wal-dir = "{root}/wal"',
        r"^(\s*)store-enabled = true$": r"\1store-enabled = false",
        r"^reporting-enabled = true$": "reporting-enabled = false",
    }
    for pattern, repl in swaps.items():
        base = re.sub(pattern, repl, base, flags=re.M)
    # the first bind-address in [http] is the API's
    head, _, tail = base.partition("[http]")
    tail = re.sub(r'bind-address = ".*"', f'bind-address = "127.0.0.1:{http_port}"', tail, count=1)
    return head + "[http]" + tail


@pytest.fixture(scope="module")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("influxd")
    if exe is None:
        pytest.skip("influxd (InfluxDB 1.x) is not installed")
    version = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=30).stdout
    if not version.startswith("InfluxDB v1."):
        pytest.skip(f"needs InfluxDB 1.x, found {version.strip()!r}")
    base = subprocess.run([exe, "config"], capture_output=True, text=True, timeout=30).stdout
    root = tmp_path_factory.mktemp("influxd")
    http_port = _free_port()
    (root / "influxdb.conf").write_text(_config(base, root, http_port, _free_port()))
    log = (root / "influxd.log").open("w")
    proc = subprocess.Popen([exe, "run", "-config", str(root / "influxdb.conf")], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as r:
                    if r.status == 204:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "influxd.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _query(url: str, db: str, q: str) -> list[dict]:
    params = urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"})
    with urllib.request.urlopen(urllib.request.Request(f"{url}/query?{params}", method="POST")) as r:
        return json.loads(r.read())["results"][0].get("series", [])


def _write(url: str, db: str, body: bytes) -> int:
    req = urllib.request.Request(f"{url}/write?db={db}&precision=ns", data=body, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


_TYPES = {"float": FieldType.FLOAT, "integer": FieldType.INTEGER, "string": FieldType.STRING}
_TYPES |= {"boolean": FieldType.BOOLEAN, "unsigned": FieldType.UNSIGNED}


def _stored(url: str, db: str) -> list[P]:
    """Every stored point, read back through InfluxQL."""
    field_types = {
        s["name"]: {k: _TYPES[t] for k, t in s["values"]} for s in _query(url, db, "SHOW FIELD KEYS")
    }
    tag_keys = {s["name"]: {v[0] for v in s["values"]} for s in _query(url, db, "SHOW TAG KEYS")}
    out = []
    for series in _query(url, db, "SELECT * FROM /.*/"):
        name = series["name"]
        types = field_types.get(name, {})
        for row in series["values"]:
            cells = dict(zip(series["columns"], row, strict=True))
            tags = {k: v for k, v in cells.items() if k in tag_keys.get(name, set()) and v is not None}
            fields = {
                k: (types[k], float(v) if types[k] is FieldType.FLOAT else v)
                for k, v in cells.items()
                if k in types and v is not None
            }
            out.append(P(name, tags, fields, cells["time"]))
    return out


def _marks(line: str) -> list[pytest.MarkDecorator]:
    if line in DIFFERENCES:
        return [pytest.mark.xfail(strict=True, reason=DIFFERENCES[line])]
    if line in MAYBE:
        return [pytest.mark.xfail(strict=False, reason=MAYBE[line])]
    return []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("index", "line", "expected"),
    [
        pytest.param(i, line, exp, marks=_marks(line), id=repr(line)[:60])
        for i, (line, exp) in enumerate(CASES)
    ],
)
def test_influxd_agrees(influxd: str, index: int, line: str, expected: P | Err) -> None:
    db = f"lp{index}"
    _query(influxd, db, f'CREATE DATABASE "{db}"')
    try:
        status = _write(influxd, db, line.encode())
        if isinstance(expected, Err):
            assert status == 400, f"influxd accepted it: {_stored(influxd, db)}"
            return
        assert status == 204, "influxd rejected it"
        (got,) = _stored(influxd, db)
        assert (got.measurement, got.tags, got.fields) == (
            expected.measurement,
            expected.tags,
            expected.fields,
        )
        if expected.time != NOW:
            assert got.time == expected.time
    finally:
        _query(influxd, db, f'DROP DATABASE "{db}"')
