"""End to end: ``tsgres serve`` binds the PostgreSQL port and real clients reach the real SQL engine."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.conftest import start_server


@pytest.mark.usefixtures("requires_engine")
def test_tsgres_serve_speaks_postgres(tmp_path: Path) -> None:
    pytest.importorskip("sql.engine")
    users = tmp_path / "users"
    users.write_text("alice:s3cret\n")
    server = start_server(
        tmp_path,
        env={"TSGRES_PG_AUTH_METHOD": "scram-sha-256", "TSGRES_PG_PASSWORD_FILE": str(users)},
        listening=("pgwire",),
    )
    try:
        dsn = (
            f"host=127.0.0.1 port={server.listeners['pgwire'][1]} user=alice dbname=postgres password=s3cret"
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.info.parameter_status(
                "server_version",
            ).startswith("15")  # type: ignore[call-arg]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn.replace("s3cret", "wrong"))
    finally:
        try:
            assert server.stop(timeout=20) == 0
        finally:
            server.kill()
