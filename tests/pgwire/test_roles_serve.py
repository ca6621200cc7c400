"""End to end: a role made with CREATE USER logs in over pgwire (SCRAM), reads what it was granted
and nothing more, loses it on REVOKE, cannot log in once dropped, and roles survive a restart."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.conftest import start_server

SCRAM = {"TSGRES_PG_AUTH_METHOD": "scram-sha-256"}


def _dsn(server, user: str, password: str) -> str:
    port = server.listeners["pgwire"][1]
    return f"host=127.0.0.1 port={port} user={user} dbname=postgres password={password}"


def _serve(tmp_path: Path, users: Path):
    return start_server(tmp_path, env={**SCRAM, "TSGRES_PG_PASSWORD_FILE": str(users)}, listening=("pgwire",))


def _stop(server) -> None:
    try:
        assert server.stop(timeout=20) == 0
    finally:
        server.kill()


@pytest.mark.usefixtures("requires_engine")
def test_created_user_logs_in_and_is_held_to_its_grants(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("admin:adminpw\n")
    server = _serve(tmp_path, users)
    try:
        with psycopg.connect(_dsn(server, "admin", "adminpw"), autocommit=True) as admin:
            admin.execute("CREATE TABLE t (time timestamptz NOT NULL, v float8)")
            admin.execute("INSERT INTO t VALUES ('2024-01-01 00:00:00+00', 1.5)")
            admin.execute("CREATE USER grafanareader WITH PASSWORD 'x'")
            admin.execute("GRANT USAGE ON SCHEMA public TO grafanareader")
            with psycopg.connect(_dsn(server, "grafanareader", "x"), autocommit=True) as reader:
                with pytest.raises(
                    psycopg.errors.InsufficientPrivilege, match="permission denied for table t"
                ):
                    reader.execute("SELECT v FROM t")
                admin.execute("GRANT SELECT ON public.t TO grafanareader")
                assert reader.execute("SELECT v FROM t").fetchall() == [(1.5,)]
                with pytest.raises(
                    psycopg.errors.InsufficientPrivilege, match="permission denied for table t"
                ):
                    reader.execute("INSERT INTO t VALUES ('2024-01-01 00:00:01+00', 2)")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    with reader.cursor().copy("COPY t FROM STDIN") as copy:
                        copy.write("2024-01-01 00:00:02+00\t3\n")
                assert reader.execute(
                    "SELECT has_table_privilege('t', 'SELECT'), has_table_privilege('t', 'INSERT')"
                ).fetchone() == (True, False)
                admin.execute("REVOKE SELECT ON t FROM grafanareader")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    reader.execute("SELECT v FROM t")
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(_dsn(server, "grafanareader", "wrong"))
            admin.execute("CREATE ROLE keeper LOGIN PASSWORD 'k'")
            admin.execute("GRANT SELECT ON t TO keeper")
            admin.execute("REVOKE ALL ON SCHEMA public FROM grafanareader")
            admin.execute("DROP USER grafanareader")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(_dsn(server, "grafanareader", "x"))
    finally:
        _stop(server)
    server = _serve(tmp_path, users)  # the same data directory: roles and grants are kept
    try:
        with psycopg.connect(_dsn(server, "keeper", "k"), autocommit=True) as keeper:
            assert keeper.execute("SELECT v FROM t").fetchall() == [(1.5,)]
            assert keeper.execute(
                "SELECT rolname FROM pg_roles WHERE rolname IN ('keeper', 'grafanareader')"
            ).fetchall() == [("keeper",)]
    finally:
        _stop(server)


@pytest.mark.usefixtures("requires_engine")
def test_loopback_trust_lets_in_roles_only(tmp_path: Path) -> None:
    server = start_server(tmp_path, listening=("pgwire",))  # pg_auth_method auto: trust on loopback
    port = server.listeners["pgwire"][1]
    dsn = f"host=127.0.0.1 port={port} dbname=postgres user="
    try:
        with pytest.raises(psycopg.OperationalError, match='role "nobody" does not exist'):
            psycopg.connect(dsn + "nobody")
        with psycopg.connect(dsn + "postgres", autocommit=True) as admin:
            admin.execute("CREATE TABLE t (time timestamptz NOT NULL, v float8)")
            admin.execute("CREATE ROLE nobody LOGIN")
            admin.execute("CREATE ROLE group_only")
            with psycopg.connect(dsn + "nobody", autocommit=True) as nobody:
                assert nobody.execute("SELECT current_user").fetchone() == ("nobody",)
                with pytest.raises(
                    psycopg.errors.InsufficientPrivilege, match="permission denied for table t"
                ):
                    nobody.execute("SELECT * FROM t")
            with pytest.raises(
                psycopg.OperationalError, match='role "group_only" is not permitted to log in'
            ):
                psycopg.connect(dsn + "group_only")
            admin.execute("REVOKE CONNECT ON DATABASE postgres FROM PUBLIC")
            with pytest.raises(psycopg.OperationalError, match='permission denied for database "postgres"'):
                psycopg.connect(dsn + "nobody")
            admin.execute("GRANT CONNECT ON DATABASE postgres TO nobody")
            psycopg.connect(dsn + "nobody").close()
    finally:
        _stop(server)
