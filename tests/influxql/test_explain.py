"""InfluxQL EXPLAIN and EXPLAIN ANALYZE (sql/influxql/explain.py) over what storage holds: memtable
values before a flush, chunk files and their blocks after it. The differential corpus
(tests/influxql/corpus/01_raw.iql) compares EXPLAIN's text with InfluxDB's on data in the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compat.influx import lineprotocol
from sql.influxql.execute import run
from tests.sql.in_process import sql_engine

LINES = "".join(
    f"cpu,host=h{i % 3} u={i}.5,s={i}i {1_600_000_000_000_000_000 + i * 10**9}\n" for i in range(60)
).encode()


def _lines(storage: Any, sql: Any, text: str) -> tuple[list[str], list[str]]:
    (result,) = run(storage, sql, text, database="postgres")
    assert result.error is None, result.error
    (series,) = result.series
    return list(series.columns), [row[0] for row in series.values]


def test_explain_counts_memtable_values_then_files_and_blocks(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        for batch in lineprotocol.parse(LINES).batches:
            storage.write("postgres", batch).check()
        cols, lines = _lines(storage, sql, "EXPLAIN SELECT mean(u), max(s) FROM cpu WHERE host = 'h1'")
        assert cols == ["QUERY PLAN"]
        assert lines[:7] == [
            "EXPRESSION: mean(u::float)",
            "NUMBER OF SHARDS: 1",
            "NUMBER OF SERIES: 1",
            "CACHED VALUES: 20",
            "NUMBER OF FILES: 0",
            "NUMBER OF BLOCKS: 0",
            "SIZE OF BLOCKS: 0",
        ]
        assert lines[7] == "" and lines[8] == "EXPRESSION: max(s::integer)"
        storage.flush()
        _, lines = _lines(storage, sql, "EXPLAIN SELECT u, s FROM cpu")
        assert lines[:4] == [
            "EXPRESSION: <nil>",
            "AUXILIARY FIELDS: s::integer, u::float",
            "NUMBER OF SHARDS: 1",
            "NUMBER OF SERIES: 3",
        ]
        assert lines[4] == "CACHED VALUES: 0"
        files, blocks, size = (int(line.split(": ")[1]) for line in lines[5:8])
        assert files == 1 and blocks == 6 and size > 0  # (3 series x 2 fields, one row group each)
        # a time range before every point reads nothing
        _, lines = _lines(storage, sql, "EXPLAIN SELECT u FROM cpu WHERE time < 1000")
        assert lines[2:] == ["NUMBER OF SHARDS: 0", "NUMBER OF SERIES: 3", "CACHED VALUES: 0",
                             "NUMBER OF FILES: 0", "NUMBER OF BLOCKS: 0", "SIZE OF BLOCKS: 0"]  # fmt: skip


def test_explain_analyze_runs_the_statement_and_prints_a_tree(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        for batch in lineprotocol.parse(LINES).batches:
            storage.write("postgres", batch).check()
        cols, lines = _lines(
            storage,
            sql,
            "EXPLAIN ANALYZE SELECT count(u) FROM cpu WHERE host = 'h2' AND time >= 1600000000s AND time < 1600000060s"
            " GROUP BY time(10s)",
        )
        assert cols == ["EXPLAIN ANALYZE"]
        assert lines[:2] == [".", "└── select"]
        assert any(line.strip("│ \u00a0├└─").startswith("total_time: ") for line in lines)
        assert any(
            "statement: SELECT count(u::float) FROM postgres.autogen.cpu WHERE host::tag = 'h2' AND time"
            in line
            for line in lines
        )
        assert "        │\u00a0\u00a0 └── points: 6" in lines  # (20 points of h2 over 60 s, in 10 s windows)
        assert "            ├── cached_values: 20" in lines


def test_explain_of_a_subquery_says_it_is_not_supported(tmp_path: Path) -> None:
    with sql_engine(tmp_path) as (storage, sql):
        (result,) = run(storage, sql, "EXPLAIN SELECT mean(u) FROM (SELECT u FROM cpu)", database="postgres")
        assert result.error is not None and "subquery" in result.error
