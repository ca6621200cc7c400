"""CREATE / DROP / ALTER INDEX over an index's life, differentially: each scenario runs its
statements in order on PostgreSQL 15 and on tsgres; after every statement the outcome (the SQLSTATE
and message of an error) and what the catalog then shows of the scenario's indexes (pg_index,
pg_indexes, pg_get_indexdef) must agree.

Expression indexes are left out of the probes: PostgreSQL prints an expression as it deparses it
(``((n)::text)``), tsgres as it was written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres

_INDEXES = """
SELECT c.relname::text AS index, t.relname::text AS tbl, i.indnatts, i.indnkeyatts, i.indisunique,
       i.indisprimary, i.indkey::text AS indkey, i.indoption::text AS indoption,
       pg_get_indexdef(i.indexrelid) AS def, pg_get_indexdef(i.indexrelid, 0, true) AS pretty,
       pg_get_indexdef(i.indexrelid, 1, true) AS col1, c.relkind::text AS relkind
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname LIKE '{prefix}%'
"""
_PG_INDEXES = """
SELECT schemaname::text, tablename::text, indexname::text, indexdef FROM pg_indexes
WHERE tablename LIKE '{prefix}%'
"""
_DESCRIPTIONS = """
SELECT c.relname::text, obj_description(c.oid, 'pg_class') AS d FROM pg_class c
WHERE c.relkind = 'i' AND c.relname LIKE '{prefix}%'
"""
_CONSTRAINTS = """
SELECT conname::text, contype::text FROM pg_constraint WHERE conrelid IN
  (SELECT oid FROM pg_class WHERE relname LIKE '{prefix}%')
"""

# (id, name prefix of its tables, probes, statements, cleanup)
SCENARIOS: list[tuple[str, str, list[str], list[str], list[str]]] = [
    (
        "names_and_definitions",
        "ix_",
        [_INDEXES, _PG_INDEXES, _DESCRIPTIONS],
        [
            "CREATE TABLE ix_cpu (time timestamptz NOT NULL, hostname text, region text,"
            " usage double precision, n int4)",
            "CREATE INDEX ON ix_cpu (hostname, time DESC)",
            "CREATE INDEX ON ix_cpu (hostname, time DESC)",  # a second name: ..._idx1
            "CREATE INDEX ix_by_region ON ix_cpu USING btree (region DESC NULLS LAST, n NULLS FIRST)"
            " INCLUDE (usage) WHERE n > 1",
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_u ON ONLY public.ix_cpu (n, time)",
            "CREATE INDEX IF NOT EXISTS ix_u ON ix_cpu (region)",  # NOTICE, nothing made
            "CREATE INDEX ix_u ON ix_cpu (region)",
            "CREATE INDEX ix_cpu ON ix_cpu (region)",  # a table's name
            "CREATE INDEX ix_bad ON ix_cpu (nope)",
            "CREATE INDEX ix_bad ON ix_nope (region)",
            "CREATE INDEX ix_w ON ix_cpu (region) WITH (fillfactor = 70, deduplicate_items = off)",
            "ALTER INDEX ix_w RESET (fillfactor)",
            "ALTER INDEX ix_w SET (fillfactor = 50)",
            "ALTER INDEX ix_w SET (bogus = 1)",
            "COMMENT ON INDEX ix_w IS 'by region'",
            "ALTER INDEX ix_w RENAME TO ix_w2",  # the description follows it
            "ALTER INDEX ix_w2 RENAME TO ix_u",
            "ALTER INDEX ix_nope RENAME TO ix_x",
            "ALTER INDEX IF EXISTS ix_nope RENAME TO ix_x",
            "ALTER INDEX ix_cpu RENAME TO ix_x",  # a table: PostgreSQL renames it (ALTER INDEX on a table)
            "ALTER INDEX ix_x RENAME TO ix_cpu",
            "ALTER TABLE ix_cpu RENAME COLUMN hostname TO host",  # the index follows its column
            "ALTER TABLE ix_cpu DROP COLUMN n",  # and goes with a dropped one
            "REINDEX INDEX ix_w2",
            "REINDEX INDEX ix_nope",
            "REINDEX INDEX ix_cpu",
            "CLUSTER ix_cpu USING ix_nope",
            "CLUSTER ix_cpu USING ix_w2",
            "DROP INDEX ix_nope",
            "DROP INDEX IF EXISTS ix_nope, ix_cpu_hostname_time_idx1",
            "DROP INDEX ix_cpu",
            "DROP INDEX CONCURRENTLY ix_w2, ix_cpu_hostname_time_idx",
            "DROP INDEX CONCURRENTLY IF EXISTS ix_w2",
            "DROP TABLE ix_cpu",
            "CREATE TABLE ix_cpu (time timestamptz NOT NULL, hostname text)",  # made again: no indexes
        ],
        ["DROP TABLE IF EXISTS ix_cpu", "DROP TABLE IF EXISTS ix_x"],
    ),
    (
        "keys",
        "ik_",
        [_INDEXES, _CONSTRAINTS],
        [
            "CREATE TABLE ik_kv (k text PRIMARY KEY, v int4 UNIQUE, w int4)",
            "DROP INDEX ik_kv_pkey",
            "DROP INDEX ik_kv_v_key",
            "ALTER INDEX ik_kv_pkey RENAME TO ik_kv_pk",  # the constraint is renamed with it
            "ALTER TABLE ik_kv DROP CONSTRAINT ik_kv_pkey",
            "ALTER TABLE ik_kv DROP CONSTRAINT ik_kv_pk",
            "CREATE UNIQUE INDEX ik_w ON ik_kv (w)",
            "INSERT INTO ik_kv VALUES ('a', 1, 1)",
            "INSERT INTO ik_kv VALUES ('b', 2, 1)",  # 23505 naming the index
            "INSERT INTO ik_kv VALUES ('b', 2, 1) ON CONFLICT (w) DO UPDATE SET v = 9",
            "SELECT k, v, w FROM ik_kv ORDER BY k",
            "DROP INDEX ik_w",
            "INSERT INTO ik_kv VALUES ('c', 3, 1)",  # no longer unique
            "SELECT k, v, w FROM ik_kv ORDER BY k",
            "DROP TABLE ik_kv",
        ],
        ["DROP TABLE IF EXISTS ik_kv"],
    ),
]


def _run(pair: Any, sql: str) -> tuple[Any, Any]:
    return run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_indexes(pair: Any, scenario: tuple[str, str, list[str], list[str], list[str]]) -> None:
    _id, prefix, probes, statements, cleanup = scenario
    try:
        for i, sql in enumerate(statements):
            where = f"step {i}: {sql}"
            pg, ts = _run(pair, sql)
            assert (ts.sqlstate, ts.message) == (pg.sqlstate, pg.message), where
            if not pg.failed and pg.columns:
                diff = differences(sql, pg, ts)
                assert not diff, f"{where}\n" + "\n".join(diff)
            for probe in probes:
                probe = probe.format(prefix=prefix)
                pg, ts = _run(pair, probe)
                assert not pg.failed, pg.message
                diff = differences(probe, pg, ts)
                assert not diff, f"{where}\n" + "\n".join(diff)
    finally:
        for sql in cleanup:
            _run(pair, sql)
