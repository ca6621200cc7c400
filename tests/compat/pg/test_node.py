"""node-postgres (npm ``pg``, pinned by node/package-lock.json) against tsgres: node/check.js does the work.

It connects, reads every common type over the simple protocol, writes and reads a table through
parameters (extended protocol; Date parameters sent with the Europe/Berlin offset), reuses a named
prepared statement, survives an error and runs a pool. The expected values are what the same script
prints against PostgreSQL 15 (server_version aside).
"""

from __future__ import annotations

import json
import os
import subprocess

from tests.compat.pg.conftest import IN_CI, NODE_DIR, PgServer, require, require_command


def _install_pg() -> None:
    """node_modules from package-lock.json (.ci/run installs it; a checkout may not have it yet)."""
    if (NODE_DIR / "node_modules" / "pg" / "package.json").exists():
        return
    npm = require_command("npm")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0 and not IN_CI:
        require(False, f"npm package pg (npm ci failed: {done.stderr.strip()[-300:]})")
    assert done.returncode == 0, done.stderr


def _s(v: object) -> list[object]:
    return ["string", v]


def _n(v: object) -> list[object]:
    return ["number", v]


def test_node_postgres(pg_server: PgServer) -> None:
    node = require_command("node")
    _install_pg()
    db = pg_server.database("node")
    env = {**os.environ, "TZ": "Europe/Berlin"}
    run = subprocess.run(
        [node, str(NODE_DIR / "check.js"), pg_server.host, str(pg_server.port), db],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, f"{run.stderr[-4000:]}\n--- tsgres ---\n{pg_server.stderr()[-3000:]}"
    out = json.loads(run.stdout)

    assert out["tz"] == "Europe/Berlin"
    assert out["server_version"].startswith("15.")
    assert out["simple"] == {
        "i4": _n(1),
        "i2": _n(2),
        "i8": _s("9007199254740993"),  # pg returns int8 and numeric as strings
        "f8": _n(1.5),
        "f4": _n(0.25),
        "num": _s("12.345"),
        "t": ["boolean", True],
        "f": ["boolean", False],
        "s": _s("héllo"),
        "vc": _s("v"),
        "tstz": ["Date", "2024-02-29T23:59:59.123Z"],
        "d": ["Date", "2024-02-28T23:00:00.000Z"],  # a date is local midnight (Berlin)
        "n": ["null", None],
    }
    assert out["simple_fields"] == [
        ["i4", 23], ["i2", 21], ["i8", 20], ["f8", 701], ["f4", 700], ["num", 1700], ["t", 16], ["f", 16],
        ["s", 25], ["vc", 1043], ["tstz", 1184], ["d", 1082], ["n", 25],
    ]  # fmt: skip
    assert out["inserted"] == 3
    assert out["param_rows"] == [
        {
            "time": ["Date", "2024-01-01T00:00:00.005Z"],
            "host": _s("alpha"),
            "value": _n(0.1),
            "n": _s("1"),
            "ok": ["boolean", True],
        },
        {
            "time": ["Date", "2024-01-01T00:02:00.000Z"],
            "host": _s("alpha"),
            "value": _n(1e-300),
            "n": _s("-7"),
            "ok": ["null", None],
        },
    ]
    assert out["param_command"] == ["SELECT", 2]
    assert out["reused"] == [[{"host": _s("alpha"), "m": _s(str(i))}] for i in range(6)]
    assert out["agg"] == ["2", -2.65, "2024-01-01T00:00:00.005Z"]
    assert out["error"] == ["42P01", 'relation "no_such_table" does not exist']
    assert out["after_error"] == "ok!"
    assert out["pool"] == [2 * i for i in range(20)]
