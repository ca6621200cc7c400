"""SHOW QUERIES lists the running InfluxQL queries and KILL QUERY stops one, over /query.

The server's HTTP app in process (aiohttp's test server) over a real storage engine holding a day of
TSBS cpu rows for 20 hosts; the long query is a percentile per minute and host (seconds of work), sent
while other requests watch and kill it.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from bench.datagen import DevopsCpu
from sql.activity import go_duration
from tests.compat.conftest import Client, WriteApp

LONG = "SELECT percentile(usage_user, 50) FROM cpu GROUP BY time(1m), hostname"


async def _query(client: Client, q: str, method: str = "GET") -> dict[str, Any]:
    call = client.get if method == "GET" else client.post
    resp = await call("/query", params={"db": "db", "q": q})
    assert resp.status == 200, await resp.text()
    return json.loads(await resp.read())


def test_go_duration() -> None:
    assert [go_duration(n) for n in (512, 49_512, 123_456_789, 5_900_000_000, 65 * 10**9, 7200 * 10**9)] == [
        "512ns",
        "49µs",
        "123ms",
        "5s",
        "1m5s",
        "2h0m0s",
    ]


def test_show_queries_lists_a_running_query_and_kill_query_stops_it(write_app) -> None:
    app: WriteApp = write_app()
    app.engine.create_database("db")
    for b in DevopsCpu(20, hours=12, seed=3).batches(20_000):
        app.engine.write("db", b).check()
    app.engine.flush()

    async def check(client: Client) -> None:
        idle = await _query(client, "SHOW QUERIES")
        [me] = idle["results"][0]["series"][0]["values"]
        assert me[1:3] == ["SHOW QUERIES", "db"] and me[4] == "running"  # it lists itself

        victim = asyncio.create_task(_query(client, LONG))
        for _ in range(500):
            await asyncio.sleep(0.01)
            shown = await _query(client, "SHOW QUERIES")
            series = shown["results"][0]["series"][0]
            assert series["columns"] == ["qid", "query", "database", "duration", "status"]
            running = [v for v in series["values"] if v[1] == LONG]
            if running:
                break
        else:
            raise AssertionError("the long query was never listed")
        [(qid, _text, database, duration, status)] = running
        assert (database, status) == ("db", "running")
        assert re.fullmatch(r"\d+(ns|µs|ms|s)|\d+m\d+s", duration), duration
        assert [v[1] for v in series["values"]] == [LONG, "SHOW QUERIES"]  # by qid: the older first

        killed = await _query(client, f"KILL QUERY {qid}", method="POST")
        assert killed == {"results": [{"statement_id": 0}]}
        answer = await asyncio.wait_for(victim, 60)
        assert answer == {"results": [{"statement_id": 0, "error": "query killed by user"}]}

        after = await _query(client, "SHOW QUERIES")
        assert [v[1] for v in after["results"][0]["series"][0]["values"]] == ["SHOW QUERIES"]
        gone = await _query(client, f"KILL QUERY {qid}", method="POST")
        assert gone["results"][0]["error"] == f"no such query id: {qid}"

    app.run(check)
