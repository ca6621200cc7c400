"""Loading the TSBS TimescaleDB layout over the PostgreSQL protocol: schema, CSV bodies, parallel COPY.

The layout is ``tsbs_load_timescaledb``'s with ``--in-table-partition-tag`` (bench.datagen
``timescale_schema(in_table_tag=True)``) minus the hypertable (plain PostgreSQL has no TimescaleDB):
``tags(id, hostname, region, ...)``, ``cpu(time timestamptz, tags_id integer, hostname text,
usage_user double precision, ..., additional_tags jsonb)`` with indexes on ``(hostname, time DESC)`` and
``(time DESC)``, created before the load as TSBS does. The ``hostname`` column in the table is what
lets the same devops SQL run on PostgreSQL and on tsgres, whose ``cpu`` has ``hostname`` as a tag.

On tsgres (:func:`schema_sql` with ``target="tsgres"``) only the metrics table is created, without
``additional_tags`` (always NULL; not in the CSV) and with ``hostname`` named as its tag.

Bodies are CSV chunks of ``batch_rows`` rows, generated before the clock starts; ``workers``
connections each run ``COPY ... FROM STDIN (FORMAT csv)`` per chunk (TSBS's loader COPYs batches of
10,000 rows from several workers the same way).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from bench.common import Progress
from bench.datagen import DataGenerator, format_csv, timescale_columns, timescale_tags_csv


def schema_sql(gen: DataGenerator, *, target: str = "postgres", table: str | None = None) -> list[str]:
    """DDL statements for ``gen``'s data: ``target`` is ``postgres`` (full TSBS layout) or ``tsgres``."""
    t = table or gen.table
    tag = gen.tag_keys[0]
    fields = ", ".join(f"{name} {pg}" for name, pg in gen.pg_types.items())
    if target == "tsgres":
        return [
            f"CREATE TABLE {t} (time timestamptz NOT NULL, tags_id integer, {tag} text, {fields}) "
            f"WITH (tags = '{tag}')"
        ]
    if target != "postgres":
        raise ValueError(f"unknown target {target!r}")
    return [
        "CREATE TABLE tags(id SERIAL PRIMARY KEY, " + ", ".join(f"{k} TEXT" for k in gen.tag_keys) + ")",
        f"CREATE UNIQUE INDEX uniq1 ON tags({','.join(gen.tag_keys)})",
        f"CREATE INDEX ON tags({tag})",
        f"CREATE TABLE {t} (time timestamptz, tags_id integer, {tag} TEXT, {fields}, "
        "additional_tags JSONB DEFAULT NULL)",
        f'CREATE INDEX ON {t}({tag}, "time" DESC)',
        f'CREATE INDEX ON {t}("time" DESC)',
    ]


def copy_columns(gen: DataGenerator) -> list[str]:
    return timescale_columns(gen, in_table_tag=True)


def csv_bodies(gen: DataGenerator, batch_rows: int) -> list[bytes]:
    """The metrics rows as CSV chunks (no header): time, tags_id, hostname, fields."""
    cells = [f"{i + 1},{v[0]}" for i, v in enumerate(gen.series_tags)]
    return [
        bytes(format_csv(b, cells, time_format="rfc3339", time_unit=gen.time_unit))
        for b in gen.batches(batch_rows)
    ]


def create_schema(connect: Callable[[], object], gen: DataGenerator, *, target: str) -> None:
    with connect() as conn:  # type: ignore[attr-defined]
        for stmt in schema_sql(gen, target=target):
            conn.execute(stmt)
        if target == "postgres":
            with conn.cursor().copy(
                f"COPY tags({','.join(['id', *gen.tag_keys])}) FROM STDIN (FORMAT csv, HEADER true)"
            ) as cp:
                cp.write(timescale_tags_csv(gen))
            conn.execute(f"SELECT setval('tags_id_seq', {gen.scale})")


def copy_load(
    connect: Callable[[], object],
    gen: DataGenerator,
    bodies: list[bytes],
    batch_rows: int,
    *,
    workers: int = 4,
    table: str | None = None,
    progress: Progress | None = None,
) -> float:
    """COPY every body over ``workers`` connections; returns seconds from first COPY to last commit."""
    stmt = f"COPY {table or gen.table} ({','.join(copy_columns(gen))}) FROM STDIN (FORMAT csv)"
    work: queue.Queue[bytes | None] = queue.Queue()
    for body in bodies:
        work.put(body)
    for _ in range(workers):
        work.put(None)
    errors: list[BaseException] = []
    conns = [connect() for _ in range(workers)]  # connected before the clock starts
    lock = threading.Lock()

    def worker(conn: object) -> None:
        try:
            while (body := work.get()) is not None:
                with conn.cursor().copy(stmt) as cp:  # type: ignore[attr-defined]
                    cp.write(body)
                if progress is not None:
                    with lock:
                        progress.advance(batch_rows)
        except BaseException as e:  # noqa: BLE001 - reported after the join
            errors.append(e)
            while work.get() is not None:  # drain so the others finish
                pass

    started = time.perf_counter()
    if progress is not None:
        progress.started = started
    threads = [threading.Thread(target=worker, args=(c,), name=f"copy-{i}") for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()  # type: ignore[attr-defined]
    if progress is not None:
        progress.done()
    if errors:
        raise errors[0]
    return elapsed


def count_rows(connect: Callable[[], object], table: str) -> int:
    with connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def load_copy(
    conninfo: str,
    gen: DataGenerator,
    *,
    target: str = "postgres",
    batch_rows: int = 10_000,
    workers: int = 4,
    label: str | None = None,
) -> float:
    """Create the schema on the server at ``conninfo`` and COPY ``gen`` into it; returns seconds."""
    import psycopg

    def connect() -> psycopg.Connection:
        return psycopg.connect(conninfo, autocommit=True)

    create_schema(connect, gen, target=target)
    bodies = csv_bodies(gen, batch_rows)
    progress = Progress(label or f"{target} {gen.kind} COPY", gen.n_rows)
    return copy_load(connect, gen, bodies, batch_rows, workers=workers, progress=progress)
