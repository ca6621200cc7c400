"""Users, privileges and HTTP authentication against a real tsgres server (``tsgres serve``).

The statements' answers with authentication off are checked against a real InfluxDB by the
differential corpus (tests/influxql/corpus/12_management.iql); here a server with
``http_auth_enabled`` answers as InfluxDB 1.x with ``auth-enabled = true`` (the texts below were
taken from InfluxDB 1.6 answering the same requests), through both HTTP paths (the lean /query
front and aiohttp's handler, which takes chunked queries), with the ``influx`` CLI and the Python
``influxdb`` package; and users survive a restart.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, start_server
from tests.influxql.conftest import Response, request
from tests.influxql.test_clients import _influxdb_client, _need_cli

ADMIN, ADMIN_PW = "admin", "s3cret"
NO_ADMIN = "error authorizing query: create admin user first or disable authentication"
UNPARSABLE = {"error": "unable to parse authentication credentials"}
FAILED = {"error": "authorization failed"}


def _start(workdir: Path, auth: bool = True) -> ServerProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    return start_server(workdir, env={"TSGRES_HTTP_AUTH_ENABLED": "true" if auth else "false"})


def _stop(proc: ServerProcess) -> int:
    code = proc.stop()
    assert proc.proc.stdout is not None
    proc.proc.stdout.close()  # (stop() leaves the pipe to the reader thread, which has seen its end)
    return code


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = _start(tmp_path_factory.mktemp("auth"))
    try:
        yield proc.http_url("")
    finally:
        _stop(proc)


def query(
    base: str, q: str, *, user: tuple[str, str] | None = None, post: bool = False, **params: str
) -> Response:
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    return request(base, "/query", {"q": q, **params}, method="POST" if post else "GET", headers=headers)


def write(base: str, db: str, *, user: tuple[str, str] | None = None, **params: str) -> Response:
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    return request(base, "/write", {"db": db, **params}, method="POST", data=b"m v=1", headers=headers)


def _admin(base: str) -> tuple[str, str]:
    r = query(base, f"CREATE USER {ADMIN} WITH PASSWORD '{ADMIN_PW}' WITH ALL PRIVILEGES", post=True)
    assert r.status == 200 or r.status == 401, r.body  # (401: the admin exists, credentials needed)
    return ADMIN, ADMIN_PW


def test_admin_bootstrap(server: str) -> None:
    """Until an admin exists, only CREATE USER ... WITH ALL PRIVILEGES is answered, credentials
    or not; then every request needs them."""
    for user in (None, ("nobody", "x")):
        r = query(server, "SHOW DATABASES", user=user)
        assert (r.status, r.json()) == (403, {"error": NO_ADMIN})
        assert r.headers["X-Influxdb-Error"] == NO_ADMIN
    r = query(server, "CREATE USER plain WITH PASSWORD 'x'", post=True)
    assert (r.status, r.json()) == (403, {"error": NO_ADMIN})
    r = write(server, "db")
    assert (r.status, r.json()) == (403, {"error": 'user is required to write to database "db"'})
    r = query(
        server, f"CREATE USER {ADMIN} WITH PASSWORD '{ADMIN_PW}' WITH ALL PRIVILEGES; SHOW USERS", post=True
    )
    assert r.status == 200, r.body
    assert r.json()["results"][1]["series"][0]["values"] == [[ADMIN, True]]
    r = query(server, "SHOW DATABASES")
    assert (r.status, r.json()) == (401, UNPARSABLE)
    assert r.headers["Www-Authenticate"] == 'Basic realm="InfluxDB"'


@pytest.mark.parametrize("chunked", [False, True], ids=["front", "aiohttp"])
def test_credentials(server: str, chunked: bool) -> None:
    """u/p in the query string, Basic and Token; none, unparsable or wrong ones are 401s."""
    _admin(server)
    extra = {"chunked": "true"} if chunked else {}
    ok = [
        query(server, "SHOW USERS", user=(ADMIN, ADMIN_PW), **extra),
        query(server, "SHOW USERS", u=ADMIN, p=ADMIN_PW, **extra),
        request(
            server,
            "/query",
            {"q": "SHOW USERS", **extra},
            headers={"Authorization": f"Token {ADMIN}:{ADMIN_PW}"},
        ),
        # the query string's u and p win over an Authorization header
        query(server, "SHOW USERS", user=("nobody", "x"), u=ADMIN, p=ADMIN_PW, **extra),
    ]
    for r in ok:
        assert r.status == 200, r.body
        assert [ADMIN, True] in r.json()["results"][0]["series"][0]["values"]
    unparsable = [
        query(server, "SHOW USERS", **extra),
        query(server, "SHOW USERS", u=ADMIN, **extra),  # (no p: not credentials)
        request(server, "/query", {"q": "SHOW USERS", **extra}, headers={"Authorization": "Basic !!!"}),
        request(server, "/query", {"q": "SHOW USERS", **extra}, headers={"Authorization": "Token nocolon"}),
        request(server, "/query", {"q": "SHOW USERS", **extra}, headers={"Authorization": "Bearer x"}),
    ]
    for r in unparsable:
        assert (r.status, r.json()) == (401, UNPARSABLE)
    failed = [
        query(server, "SHOW USERS", user=(ADMIN, "wrong"), **extra),
        query(server, "SHOW USERS", user=("nobody", ADMIN_PW), **extra),
        query(server, "SHOW USERS", u=ADMIN, p="wrong", **extra),
    ]
    for r in failed:
        assert (r.status, r.json()) == (401, FAILED)
    assert write(server, "db").json() == UNPARSABLE
    assert write(server, "db", user=(ADMIN, "wrong")).status == 401
    assert write(server, "db", user=(ADMIN, ADMIN_PW)).status == 204
    v2 = request(
        server,
        "/api/v2/write",
        {"bucket": "db"},
        method="POST",
        data=b"m v=2",
        headers={"Authorization": f"Token {ADMIN}:{ADMIN_PW}"},
    )
    assert v2.status == 204, v2.body


def test_read_and_write_privileges(server: str) -> None:
    admin = _admin(server)
    setup = (
        "CREATE DATABASE pa; CREATE DATABASE pb; CREATE USER r WITH PASSWORD 'r'; "
        "CREATE USER w WITH PASSWORD 'w'; CREATE USER n WITH PASSWORD 'n'; "
        "GRANT READ ON pa TO r; GRANT WRITE ON pa TO w; GRANT ALL ON pb TO n; REVOKE ALL ON pb FROM n"
    )
    r = query(server, setup, user=admin, post=True)
    assert r.status == 200 and "error" not in r.body.decode(), r.body
    assert write(server, "pa", user=admin).status == 204

    def denied(user: str, statement: str, need: str) -> dict[str, str]:
        return {
            "error": f"error authorizing query: {user} not authorized to execute statement '{statement}', requires {need}"
        }

    # READ: queries on its database, nothing else
    r = query(server, "SELECT * FROM m", user=("r", "r"), db="pa")
    assert r.status == 200 and r.json()["results"][0]["series"][0]["values"][0][1] == 1, r.body
    assert query(server, "SHOW MEASUREMENTS", user=("r", "r"), db="pa").status == 200
    r = query(server, "SELECT * FROM pb..m", user=("r", "r"), db="pa")
    assert (r.status, r.json()) == (403, denied("r", "SELECT * FROM pb..m", "READ on pb"))
    r = query(server, "SHOW USERS", user=("r", "r"))
    assert (r.status, r.json()) == (403, denied("r", "SHOW USERS", "admin privilege"))
    r = query(server, "SET PASSWORD FOR r = 'x'", user=("r", "r"), post=True)
    assert (r.status, r.json()) == (403, denied("r", "SET PASSWORD FOR r = [REDACTED]", "admin privilege"))
    r = query(server, "SELECT * INTO m2 FROM m", user=("r", "r"), db="pa", post=True)
    assert (r.status, r.json()) == (403, denied("r", "SELECT * INTO m2 FROM m", "WRITE on pa"))
    r = query(server, "SHOW QUERIES", user=("r", "r"))
    assert (r.status, r.json()) == (403, denied("r", "SHOW QUERIES", "READ on "))
    r = write(server, "pa", user=("r", "r"))
    assert (r.status, r.json()) == (403, {"error": '"r" user is not authorized to write to database "pa"'})
    # WRITE: writes to its database, no queries
    assert write(server, "pa", user=("w", "w")).status == 204
    r = write(server, "pb", user=("w", "w"))
    assert (r.status, r.json()) == (403, {"error": '"w" user is not authorized to write to database "pb"'})
    r = query(server, "SELECT * FROM m", user=("w", "w"), db="pa")
    assert (r.status, r.json()) == (403, denied("w", "SELECT * FROM m", "READ on pa"))
    r = query(server, "DROP SERIES FROM m", user=("w", "w"), db="pa", post=True)
    assert r.status == 200, r.body
    # a query is refused whole: its first statement does not run either
    r = query(server, "CREATE DATABASE pc; SHOW USERS", user=("w", "w"), post=True)
    assert (r.status, r.json()) == (403, denied("w", "CREATE DATABASE pc", "admin privilege"))
    assert "pc" not in query(server, "SHOW DATABASES", user=admin).body.decode()
    # SHOW DATABASES lists what a user holds a privilege on
    names = {
        u: query(server, "SHOW DATABASES", user=(u, u)).json()["results"][0]["series"][0].get("values")
        for u in ("r", "w", "n")
    }
    assert names == {"r": [["pa"]], "w": [["pa"]], "n": None}
    # an admin again
    assert query(server, "GRANT ALL PRIVILEGES TO n", user=admin, post=True).status == 200
    assert query(server, "SHOW USERS", user=("n", "n")).status == 200


def test_changed_password_and_dropped_user_are_not_cached(server: str) -> None:
    admin = _admin(server)
    assert query(server, "CREATE USER c WITH PASSWORD 'one'", user=admin, post=True).status == 200
    assert query(server, "SHOW DATABASES", user=("c", "one")).status == 200  # (now cached)
    assert query(server, "SET PASSWORD FOR c = 'two'", user=admin, post=True).status == 200
    assert query(server, "SHOW DATABASES", user=("c", "one")).json() == FAILED
    assert query(server, "SHOW DATABASES", user=("c", "two")).status == 200
    assert query(server, "DROP USER c", user=admin, post=True).status == 200
    assert query(server, "SHOW DATABASES", user=("c", "two")).json() == FAILED


def test_influx_cli_with_username_and_password(server: str, tmp_path: Path) -> None:
    admin = _admin(server)
    port = server.rsplit(":", 1)[1]
    cli = [_need_cli(), "-host", "127.0.0.1", "-port", port]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )

    r = run("-username", admin[0], "-password", admin[1], "-execute", "CREATE USER cli WITH PASSWORD 'c'")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("-username", admin[0], "-password", admin[1], "-format", "json", "-execute", "SHOW USERS")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ["cli", False] in json.loads(r.stdout)["results"][0]["series"][0]["values"]
    r = run("-username", admin[0], "-password", "wrong", "-execute", "SHOW USERS")
    assert r.returncode != 0 and "authorization failed" in r.stdout + r.stderr
    r = run("-username", "cli", "-password", "c", "-execute", "SHOW USERS")
    assert r.returncode != 0 and "requires admin privilege" in r.stdout + r.stderr


def test_python_influxdb_with_username_and_password(server: str) -> None:
    influxdb = _influxdb_client()
    admin = _admin(server)
    port = int(server.rsplit(":", 1)[1])
    client = influxdb.InfluxDBClient("127.0.0.1", port, admin[0], admin[1])
    client.create_database("pydb")
    client.create_user("py", "pw")
    client.grant_privilege("read", "pydb", "py")
    assert {"user": "py", "admin": False} in client.get_list_users()
    assert client.get_list_privileges("py") == [{"database": "pydb", "privilege": "READ"}]
    client.write_points([{"measurement": "m", "fields": {"v": 1.5}}], database="pydb")
    reader = influxdb.InfluxDBClient("127.0.0.1", port, "py", "pw", database="pydb")
    assert [p["v"] for p in reader.query("SELECT v FROM m").get_points()] == [1.5]
    with pytest.raises(influxdb.exceptions.InfluxDBClientError) as e:
        reader.write_points([{"measurement": "m", "fields": {"v": 2.0}}])
    assert e.value.code == 403
    with pytest.raises(influxdb.exceptions.InfluxDBClientError) as e:
        influxdb.InfluxDBClient("127.0.0.1", port, "py", "wrong").query("SHOW DATABASES")
    assert e.value.code == 401


def test_users_survive_a_restart_and_passwords_are_hashed(tmp_path: Path) -> None:
    """With authentication off (the default) users are made and kept all the same, and the
    credentials sent are ignored; on a restart with it on, they log in."""
    proc = _start(tmp_path, auth=False)
    try:
        base = proc.http_url("")
        statements = (
            "CREATE DATABASE kept; CREATE USER boss WITH PASSWORD 'topsecret' WITH ALL PRIVILEGES; "
            "CREATE USER reader WITH PASSWORD 'readpass'; GRANT READ ON kept TO reader"
        )
        r = query(base, statements, user=("whoever", "wrong"), post=True)
        assert r.status == 200 and "error" not in r.body.decode(), r.body
    finally:
        assert _stop(proc) == 0
    catalog = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("catalog*"))
    assert b"influx_users" in catalog
    assert b"topsecret" not in catalog and b"readpass" not in catalog
    proc = _start(tmp_path, auth=True)
    try:
        base = proc.http_url("")
        r = query(base, "SHOW USERS; SHOW GRANTS FOR reader", user=("boss", "topsecret"))
        assert r.status == 200, r.body
        results = r.json()["results"]
        assert results[0]["series"][0]["values"] == [["boss", True], ["reader", False]]
        assert results[1]["series"][0]["values"] == [["kept", "READ"]]
        assert query(base, "SHOW MEASUREMENTS", user=("reader", "readpass"), db="kept").status == 200
        assert query(base, "SHOW USERS", user=("boss", "wrong")).json() == FAILED
    finally:
        _stop(proc)


def test_front_answers_pipelined_requests_in_order_around_a_password_check(server: str) -> None:
    """A password not checked before is checked in the thread pool: the requests sent behind it on
    the connection wait for it and are answered in order."""
    import socket

    admin = _admin(server)
    assert query(server, "CREATE USER piped WITH PASSWORD 'fresh'", user=admin, post=True).status == 200
    port = int(server.rsplit(":", 1)[1])

    def get(q: str, auth: str) -> bytes:
        target = "/query?" + urllib.parse.urlencode({"q": q})
        token = base64.b64encode(auth.encode()).decode()
        return f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n".encode()

    wire = (
        get("SHOW DATABASES", "piped:fresh")
        + get("SHOW USERS", "piped:wrong")
        + get("SHOW DATABASES", "piped:fresh")
    )
    wire += get("SHOW USERS", f"{admin[0]}:{admin[1]}")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(wire)
        data = b""
        while data.count(b"HTTP/1.1 ") < 4 or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"401", b"200", b"200"], data
    assert b'"authorization failed"' in data and b'["piped",false]' in data


def test_docker_image_setup_with_the_cli(tmp_path: Path) -> None:
    """What the influxdb Docker image's init script runs with the ``influx`` CLI for
    INFLUXDB_ADMIN_USER, INFLUXDB_DB, INFLUXDB_USER and INFLUXDB_READ_USER: every command carries
    the admin's credentials, the first one creating that admin (with authentication on)."""
    proc = _start(tmp_path / "server")
    try:
        port = str(proc.http_port)
        cli = [_need_cli(), "-host", "127.0.0.1", "-port", port, "-username", "root", "-password", "rootpw"]
        commands = [
            "CREATE USER root WITH PASSWORD 'rootpw' WITH ALL PRIVILEGES",
            "CREATE DATABASE telegraf",
            "CREATE USER \"telegraf\" WITH PASSWORD 'tpw'",
            'REVOKE ALL PRIVILEGES FROM "telegraf"',
            'GRANT ALL ON "telegraf" TO "telegraf"',
            "CREATE USER \"grafana\" WITH PASSWORD 'gpw'",
            'REVOKE ALL PRIVILEGES FROM "grafana"',
            'GRANT READ ON "telegraf" TO "grafana"',
        ]
        for command in commands:
            r = subprocess.run(
                [*cli, "-execute", command],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
            assert r.returncode == 0 and "ERR" not in r.stdout + r.stderr, (command, r.stdout, r.stderr)
        base = proc.http_url("")
        r = query(base, "SHOW USERS; SHOW GRANTS FOR grafana", user=("root", "rootpw"))
        results = r.json()["results"]
        assert results[0]["series"][0]["values"] == [["root", True], ["telegraf", False], ["grafana", False]]
        assert results[1]["series"][0]["values"] == [["telegraf", "READ"]]
        assert write(base, "telegraf", user=("telegraf", "tpw")).status == 204
        assert write(base, "telegraf", user=("grafana", "gpw")).status == 403
        assert query(base, "SELECT * FROM m", user=("grafana", "gpw"), db="telegraf").status == 200
    finally:
        _stop(proc)
