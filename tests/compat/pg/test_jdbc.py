"""pgjdbc (Debian libpostgresql-jdbc-java on OpenJDK 17): metadata, server-prepared statements, binary results.

The checks themselves are Java (java/JdbcCheck.java), compiled with javac here and run against tsgres
through a recording proxy, so the test also sees that the driver really switched to a named server
statement with binary result columns after prepareThreshold executions.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.compat.pg.conftest import JAVA_DIR, PgServer, WireRecorder, require, require_command

JDBC_JARS = ("/usr/share/java/postgresql.jar",)  # Debian's libpostgresql-jdbc-java

SETUP = [
    "CREATE TABLE readings (time timestamptz NOT NULL, device varchar(16), reading double precision,"
    " seq bigint, label text, ok boolean)",
    "INSERT INTO readings VALUES"
    " ('2024-03-01 12:00:00.123456+00', 'd1', 21.5, 1, 'first', true),"
    " ('2024-03-01 12:00:01+00', 'd2', -0.1, 9007199254740993, 'zwei ü', false),"
    " ('2024-03-01 12:00:02+00', 'd1', 1e300, -5, NULL, NULL)",
    "CREATE TABLE jdbc_batch (time timestamptz NOT NULL, name text, v double precision)",
]


def test_pgjdbc(pg_server: PgServer, wire_recorder: WireRecorder, tmp_path: Path) -> None:
    javac = require_command("javac")
    java = require_command("java")
    jar = next((j for j in JDBC_JARS if Path(j).exists()), None)
    require(jar, "pgjdbc (Debian libpostgresql-jdbc-java)")
    assert jar is not None

    db = pg_server.database("jdbc")
    with pg_server.connect(db) as conn:
        for sql in SETUP:
            conn.execute(sql)

    classes = tmp_path / "classes"
    built = subprocess.run(
        [javac, "-d", str(classes), "-cp", jar, str(JAVA_DIR / "JdbcCheck.java")],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert built.returncode == 0, built.stderr

    url = f"jdbc:postgresql://127.0.0.1:{wire_recorder.port}/{db}"
    run = subprocess.run(
        [java, "-cp", f"{classes}:{jar}", "JdbcCheck", url],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAIL")]
    assert run.returncode == 0 and not failed, (
        f"{failed}\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}\n{pg_server.stderr()[-3000:]}"
    )
    assert run.stdout.rstrip().endswith("ALL OK")
    assert "ok default server-prepared after 8 runs" in run.stdout

    # On the wire: the SELECT was parsed into a named statement and bound with binary result columns
    # (past prepareThreshold with the defaults; at once with prepareThreshold=-1).
    named = {p.name for p in wire_recorder.parses if p.name and p.sql.startswith("SELECT time, device")}
    assert named, [p.sql for p in wire_recorder.parses]
    binary_binds = [b for b in wire_recorder.binds if b.statement in named and 1 in b.result_formats]
    assert len(binary_binds) >= 8, [(b.statement, b.result_formats) for b in wire_recorder.binds]
    # the int8 parameter goes binary, the timestamptz one as text with its type
    assert any(b.param_formats and 1 in b.param_formats for b in binary_binds)
