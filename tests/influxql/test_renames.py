"""Renames by SQL as line protocol and InfluxQL see them, before and after a restart.

A tag column renamed (ALTER TABLE ... RENAME COLUMN) is the measurement's tag key under its new name,
in the same series. A table renamed (ALTER TABLE ... RENAME TO) is the measurement under its new
name: the same series (ids); the old name is free again, and a write to it makes a new, separate
measurement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compat.influx import lineprotocol
from sql.influxql.execute import run
from tests.sql.in_process import sql_engine

LINES = b"""cpu,host=a,region=east v=1 1000000000
cpu,host=b,region=west v=2 2000000000
cpu,host=a,region=east v=3 3000000000
mem,host=a used=7i 1000000000
"""
CPU_LINES = b"".join(line + b"\n" for line in LINES.splitlines() if line.startswith(b"cpu"))


def _write(storage: Any, body: bytes) -> None:
    for batch in lineprotocol.parse(body).batches:
        storage.write("postgres", batch).check()


def _q(storage: Any, sql: Any, text: str) -> list[tuple[str, list[str], list[list]]]:
    (result,) = run(storage, sql, text, database="postgres")
    assert result.error is None, result.error
    return [(s.name, list(s.columns), [list(v) for v in s.values]) for s in result.series]


def _sql(sql: Any, text: str) -> None:
    s = sql.session("postgres")
    s.execute(s.prepare(text, []), [])


def test_renamed_tag_in_line_protocol_and_influxql(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        _write(storage, CPU_LINES)
        assert _q(storage, sql, "SHOW TAG KEYS FROM cpu") == [("cpu", ["tagKey"], [["host"], ["region"]])]
        series = storage.index(1).series_count("cpu")
        _sql(sql, "ALTER TABLE cpu RENAME COLUMN host TO hostname")
        assert _q(storage, sql, "SHOW TAG KEYS FROM cpu") == [("cpu", ["tagKey"], [["hostname"], ["region"]])]
        # the new key writes to the series written before the rename; the old one is a new tag key
        _write(storage, b"cpu,hostname=a,region=east v=4 4000000000\ncpu,host=z v=5 5000000000\n")
        assert storage.index(1).series_count("cpu") == series + 1
    with sql_engine(tmp_path) as (storage, sql):  # after a restart (and the WAL's replay)
        assert storage.index(1).series_count("cpu") == series + 1
        assert _q(storage, sql, "SHOW TAG KEYS FROM cpu") == [
            ("cpu", ["tagKey"], [["host"], ["hostname"], ["region"]])
        ]
        assert _q(storage, sql, 'SHOW TAG VALUES FROM cpu WITH KEY = "hostname"') == [
            ("cpu", ["key", "value"], [["hostname", "a"], ["hostname", "b"]])
        ]
        assert _q(storage, sql, "SELECT sum(v) FROM cpu WHERE hostname = 'a'") == [
            ("cpu", ["time", "sum"], [[0, 8.0]])
        ]
        (result,) = run(storage, sql, "SELECT count(v) FROM cpu GROUP BY hostname", database="postgres")
        assert [(s.tags, s.values) for s in result.series] == [
            ({"hostname": ""}, [[0, 1]]),
            ({"hostname": "a"}, [[0, 3]]),
            ({"hostname": "b"}, [[0, 1]]),
        ]
        assert _q(storage, sql, "SELECT v FROM cpu WHERE host = 'a'") == []


def test_renamed_measurement_in_line_protocol_and_influxql(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        _write(storage, LINES)
        ids = storage.index(1).select_ids("cpu").tolist()
        _sql(sql, "ALTER TABLE cpu RENAME TO machine")
        assert _q(storage, sql, "SHOW MEASUREMENTS") == [("measurements", ["name"], [["machine"], ["mem"]])]
        assert _q(storage, sql, "SELECT sum(v) FROM machine") == [("machine", ["time", "sum"], [[0, 6.0]])]
        assert _q(storage, sql, "SELECT sum(v) FROM cpu") == []
        # the new name writes to the series written before the rename; the old one is a new measurement
        _write(storage, b"machine,host=a,region=east v=4 4000000000\ncpu,host=a,region=east v=5 5000000000\n")
        assert storage.index(1).select_ids("machine").tolist() == ids
        assert storage.index(1).series_count("cpu") == 1
        assert storage.index(1).select_ids("cpu").tolist()[0] not in ids
    with sql_engine(tmp_path) as (storage, sql):  # after a restart (and the WAL's replay)
        assert storage.index(1).select_ids("machine").tolist() == ids
        assert _q(storage, sql, "SHOW MEASUREMENTS") == [
            ("measurements", ["name"], [["cpu"], ["machine"], ["mem"]])
        ]
        assert _q(storage, sql, "SHOW TAG VALUES FROM machine WITH KEY = host") == [
            ("machine", ["key", "value"], [["host", "a"], ["host", "b"]])
        ]
        assert _q(storage, sql, "SELECT sum(v) FROM machine WHERE host = 'a'") == [
            ("machine", ["time", "sum"], [[0, 8.0]])
        ]
        assert _q(storage, sql, "SELECT v FROM cpu") == [("cpu", ["time", "v"], [[5000000000, 5.0]])]
        (result,) = run(storage, sql, "SELECT count(v) FROM machine GROUP BY host", database="postgres")
        assert [(s.tags, s.values) for s in result.series] == [
            ({"host": "a"}, [[0, 3]]),
            ({"host": "b"}, [[0, 1]]),
        ]
        storage.flush()
        storage.compact(full=True)
        assert _q(storage, sql, "SELECT count(v) FROM machine") == [("machine", ["time", "count"], [[0, 4]])]
