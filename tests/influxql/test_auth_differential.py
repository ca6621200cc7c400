"""HTTP authentication, differentially: InfluxDB 1.x with ``auth-enabled = true`` and tsgres with
``http_auth_enabled`` get the same requests, in order, and must give the same status, body and
error header: the admin bootstrap, credentials in every form InfluxDB 1.6 reads, and what users
with READ, WRITE or no privilege may query and write.

Left out on purpose (tsgres differs, see docs/influxql.md): ``Authorization: Token`` (InfluxDB
1.8's, unknown to 1.6), writes to missing databases (tsgres creates them), and SHOW DATABASES as an
admin (tsgres has a ``postgres`` database).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import start_server
from tests.influxql.conftest import Response, request, start_influxd

ADMIN = ("admin", "adminpw")


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@dataclass
class Step:
    name: str
    path: str = "/query"
    params: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def send(self, base: str) -> Response:
        return request(base, self.path, self.params, method=self.method, data=self.body, headers=self.headers)


def q(
    name: str, text: str, user: tuple[str, str] | None = None, *, post: bool = False, **params: str
) -> Step:
    return Step(
        name,
        params={"q": text, **params},
        method="POST" if post else "GET",
        headers=_basic(*user) if user else {},
    )


def w(name: str, db: str, user: tuple[str, str] | None = None, **params: str) -> Step:
    headers = _basic(*user) if user else {}
    return Step(name, "/write", {"db": db, **params}, "POST", headers, b"m v=2 1600000060000000000")


def _groups() -> list[tuple[str, list[Step]]]:
    """The steps in groups that run in order, each with some answer that only authentication
    gives (a server that ignores credentials fails every group)."""
    steps = [
        q("no admin yet", "SHOW DATABASES"),
        q("no admin yet, credentials ignored", "SHOW DATABASES", ("nobody", "x")),
        q("no admin yet, a non-admin user", "CREATE USER plain WITH PASSWORD 'x'", post=True),
        q(
            "no admin yet, admin second",
            "SHOW USERS; CREATE USER a WITH PASSWORD 'x' WITH ALL PRIVILEGES",
            post=True,
        ),
        q(
            "the first admin",
            f"CREATE USER {ADMIN[0]} WITH PASSWORD '{ADMIN[1]}' WITH ALL PRIVILEGES",
            post=True,
        ),
        q("no credentials", "SHOW USERS"),
        q("wrong password", "SHOW USERS", (ADMIN[0], "wrong")),
        q("unknown user", "SHOW USERS", ("nobody", ADMIN[1])),
        q("u and p", "SHOW USERS", u=ADMIN[0], p=ADMIN[1]),
        q("u without p", "SHOW USERS", u=ADMIN[0]),
        q("u and p win over Basic", "SHOW USERS", ("nobody", "x"), u=ADMIN[0], p=ADMIN[1]),
        q("wrong p", "SHOW USERS", u=ADMIN[0], p="wrong"),
        Step("bad Basic", params={"q": "SHOW USERS"}, headers={"Authorization": "Basic !!!"}),
        q("chunked, no credentials", "SHOW USERS", chunked="true"),
        q("chunked, admin", "SHOW USERS", ADMIN, chunked="true"),
        q("no q", "", ADMIN),
        q("parse error", "SHOW FOO", ADMIN),
        q(
            "setup",
            "CREATE DATABASE ad1; CREATE DATABASE ad2; CREATE USER r WITH PASSWORD 'r'; "
            "CREATE USER w WITH PASSWORD 'w'; CREATE USER n WITH PASSWORD 'n'; "
            "GRANT READ ON ad1 TO r; GRANT WRITE ON ad1 TO w; GRANT ALL ON ad2 TO n; REVOKE ALL ON ad2 FROM n",
            ADMIN,
            post=True,
        ),
        Step("admin writes", "/write", {"db": "ad1"}, "POST", _basic(*ADMIN), b"m v=1 1600000000000000000"),
        q("grants", "SHOW GRANTS FOR r", ADMIN),
        w("write without credentials", "ad1"),
        w("write with a wrong password", "ad1", ("r", "wrong")),
        w("write without a database", "", ADMIN),
    ]
    groups = [("bootstrap", steps[:5]), ("credentials", steps[5:])]
    for u in ("r", "w", "n"):
        me = (u, u)
        steps = [
            q(f"{u}: select", "SELECT * FROM m", me, db="ad1"),
            q(f"{u}: select from another database", "SELECT * FROM ad2..m", me, db="ad1"),
            q(f"{u}: select without db", "SELECT * FROM m", me),
            q(f"{u}: show measurements", "SHOW MEASUREMENTS", me, db="ad1"),
            q(f"{u}: show measurements on", "SHOW MEASUREMENTS ON ad2", me),
            q(f"{u}: show retention policies", "SHOW RETENTION POLICIES ON ad1", me),
            q(f"{u}: show databases", "SHOW DATABASES", me),
            q(f"{u}: show users", "SHOW USERS", me),
            q(f"{u}: show grants", f"SHOW GRANTS FOR {u}", me),
            q(f"{u}: set password", f"SET PASSWORD FOR {u} = '{u}'", me, post=True),
            q(f"{u}: create database", "CREATE DATABASE ad3", me, post=True),
            q(f"{u}: drop measurement", "DROP MEASUREMENT m", me, db="ad1", post=True),
            q(f"{u}: show queries", "SHOW QUERIES", me),
            q(f"{u}: show shards", "SHOW SHARDS", me),
            q(f"{u}: kill query", "KILL QUERY 12345", me, post=True),
            q(f"{u}: select into", "SELECT * INTO m2 FROM m", me, db="ad1", post=True),
            q(f"{u}: select into another database", "SELECT * INTO ad2..m2 FROM m", me, db="ad1", post=True),
            q(
                f"{u}: create continuous query",
                f"CREATE CONTINUOUS QUERY cq_{u} ON ad1 BEGIN SELECT count(v) INTO c FROM m GROUP BY time(1h) END",
                me,
                post=True,
            ),
            q(
                f"{u}: continuous query into another database",
                f"CREATE CONTINUOUS QUERY cq2_{u} ON ad1 BEGIN SELECT count(v) INTO ad2..c FROM m GROUP BY time(1h) END",
                me,
                post=True,
            ),
            q(f"{u}: drop continuous query", f"DROP CONTINUOUS QUERY cq_{u} ON ad1", me, post=True),
            q(
                f"{u}: drop continuous query as admin",
                f"DROP CONTINUOUS QUERY cq_{u} ON ad1",
                ADMIN,
                post=True,
            ),
            q(f"{u}: refused whole", "SELECT * FROM m; SHOW USERS", me, db="ad1"),
            q(f"{u}: chunked", "SELECT * FROM m", me, db="ad1", chunked="true"),
            w(f"{u}: write", "ad1", me),
            w(f"{u}: write to another database", "ad2", me),
            q(f"{u}: read back", "SELECT * FROM m", ADMIN, db="ad1"),
        ]
        groups.append((u, steps))
    steps = [
        q("w: delete", "DELETE FROM m WHERE time > 1600000030000000000", ("w", "w"), db="ad1", post=True),
        q("after delete", "SELECT * FROM m", ADMIN, db="ad1"),
        q("r loses READ", "REVOKE READ ON ad1 FROM r", ADMIN, post=True),
        q("r: select, read revoked", "SELECT * FROM m", ("r", "r"), db="ad1"),
        q("n: an admin", "GRANT ALL PRIVILEGES TO n", ADMIN, post=True),
        q("n: show users as an admin", "SHOW USERS", ("n", "n")),
        q("n: password changed", "SET PASSWORD FOR n = 'new'", ADMIN, post=True),
        q("n: old password", "SHOW USERS", ("n", "n")),
        q("n: new password", "SHOW USERS", ("n", "new")),
        q("n: dropped", "DROP USER n", ADMIN, post=True),
        q("n: gone", "SHOW USERS", ("n", "new")),
    ]
    groups.append(("changes", steps))
    return groups


GROUPS = _groups()


@dataclass
class Pair:
    influx: str
    tsgres: str
    answers: dict[str, tuple[Response, Response]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    influx = start_influxd(tmp_path_factory.mktemp("influxd_auth"), auth=True)
    workdir: Path = tmp_path_factory.mktemp("tsgres_auth")
    try:
        tsgres = start_server(workdir, env={"TSGRES_HTTP_AUTH_ENABLED": "true"})
    except BaseException:
        influx.stop()
        raise
    try:
        yield Pair(influx.url, tsgres.http_url(""))
    finally:
        tsgres.stop()
        assert tsgres.proc.stdout is not None
        tsgres.proc.stdout.close()
        influx.stop()


def _body(r: Response) -> object:
    text = r.body.decode()
    try:
        return json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()] if text.strip() else text


@pytest.mark.parametrize("index", range(len(GROUPS)), ids=[name for name, _ in GROUPS])
def test_auth(pair: Pair, index: int) -> None:
    """Each group runs after the ones before it (the servers' state is the sequence's); every step
    must get InfluxDB's status, body and error headers."""
    for _, steps in GROUPS[: index + 1]:  # (a group selected alone runs its predecessors first)
        for step in steps:
            if step.name not in pair.answers:
                pair.answers[step.name] = (step.send(pair.influx), step.send(pair.tsgres))
    differences = []
    for step in GROUPS[index][1]:
        want, got = pair.answers[step.name]
        headers = ("X-Influxdb-Error", "Www-Authenticate")
        expected = (want.status, _body(want), [want.headers.get(h) for h in headers])
        actual = (got.status, _body(got), [got.headers.get(h) for h in headers])
        if actual != expected:
            differences.append(f"{step.name}: InfluxDB {expected}, tsgres {actual}")
    assert not differences, "\n".join(differences)
