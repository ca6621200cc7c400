"""The rows of the differential suite: seeded, deterministic, loaded identically into both databases.

Small tables are INSERT statements (so both sides parse the same literals); the TSBS table is CSV
fed to COPY ... FROM STDIN on both. Values are chosen to be exact in binary floating point where a
query sums them (two decimals are fine for avg/sum comparisons at 1e-9 relative).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.datagen import DevopsCpu

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sql"
SCHEMA_SQL = FIXTURES / "differential_schema.sql"
PG_SHIM_SQL = FIXTURES / "timescale_shim_pg.sql"

START = datetime(2024, 1, 1, tzinfo=UTC)
HOSTS = ("host_a", "host_b", "host_c", "host_d")
REGIONS = {"host_a": "us-east", "host_b": "us-west", "host_c": "eu-central", "host_d": "us-east"}
TSBS_HOSTS = 10
TSBS_HOURS = 2


def _lit(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, date) and not isinstance(v, datetime):
        return f"'{v.isoformat()}'"
    if isinstance(v, datetime):
        if v.tzinfo is None:
            return f"'{v.isoformat(sep=' ')}'"
        return f"'{v.isoformat(sep=' ')}'"
    s = str(v).replace("'", "''")
    return f"'{s}'"


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple], per: int = 200) -> Iterator[str]:
    for i in range(0, len(rows), per):
        values = ",\n".join("(" + ", ".join(_lit(v) for v in r) + ")" for r in rows[i : i + per])
        yield f"INSERT INTO {table} ({', '.join(columns)}) VALUES\n{values}"


def cpu_rows() -> list[tuple]:
    rnd = random.Random(20240101)
    rows: list[tuple] = []
    for tick in range(60):
        t = START + timedelta(minutes=tick)
        for i, host in enumerate(HOSTS):
            if host == "host_d" and tick % 7 == 3:
                continue  # host_d misses some ticks
            user: float | None = round(rnd.uniform(0, 100), 2)
            system: float | None = round(rnd.uniform(0, 30), 2)
            idle = round(100 - (user or 0) / 2 - (system or 0) / 2, 2)
            if rnd.random() < 0.05:
                user = None
            if rnd.random() < 0.04:
                system = None
            region = None if (host == "host_d" and tick >= 50) else REGIONS[host]
            cores = (2, 4, 8, 16)[i]
            load = round(rnd.uniform(0, 4), 1) if tick % 5 else None
            rows.append((t, host, region, user, system, idle, cores, load))
    return rows


def sensor_rows() -> list[tuple]:
    rnd = random.Random(7)
    rows = []
    notes = ("ok", "check battery", "door ajar", "it's cold", "Calibrated", "OK")
    locations = ("lab", "roof", "basement", "Lab 2", "roof")
    totals = [rnd.randrange(0, 1000) for _ in range(5)]
    totals[2] = 2**31 - 50  # crosses the int4 range over the run
    for tick in range(48):
        base = START + timedelta(minutes=15 * tick)
        for s in range(5):
            t = base + timedelta(milliseconds=rnd.randrange(0, 1000), microseconds=rnd.randrange(0, 1000))
            temp = None if rnd.random() < 0.06 else round(rnd.uniform(-10, 35), 2)
            hum = None if rnd.random() < 0.05 else round(rnd.uniform(10, 95), 1)
            count = rnd.randrange(-5, 500) if rnd.random() > 0.03 else None
            totals[s] += rnd.randrange(1, 20)
            level = rnd.randrange(-3, 100)
            door = None if rnd.random() < 0.05 else rnd.random() < 0.2
            note = notes[rnd.randrange(len(notes))] if rnd.random() < 0.15 else None
            rows.append((t, f"sensor_{s}", locations[s], temp, hum, count, totals[s], level, door, note))
    return rows


def host_rows() -> list[tuple]:
    return [
        ("host_a", 1, "infra", 1.0),
        ("host_b", 1, "web", 2.5),
        ("host_c", 2, "web", None),
        ("host_e", 3, "data", 0.75),
        ("host_f", None, None, 1.25),
    ]


def label_rows() -> list[tuple]:
    return [(1, "alpha"), (2, ""), (3, None), (4, "Beta"), (5, " padded ")]


def order_rows() -> list[tuple]:
    rnd = random.Random(3)
    items = ("bolt", "nut", "gear", "belt")
    rows = []
    for i in range(24):
        t = START + timedelta(hours=i, seconds=rnd.randrange(0, 3600))
        price = None if i % 11 == 5 else round(rnd.randrange(100, 100000) / 100, 2)
        ratio = round(rnd.random(), 4) if i % 7 else None
        day = (START + timedelta(days=i // 5)).date()
        rows.append((t, items[i % 4], rnd.randrange(1, 50), price, ratio, day, i % 3 == 0))
    return rows


def event_rows() -> list[tuple]:
    rows: list[tuple] = []
    kinds = ("deploy", "restart", "alert")
    for i in range(30):
        t = START + timedelta(minutes=5 * (i // 3))  # three events share each timestamp
        host = HOSTS[i % 3]
        rows.append((t, host, kinds[i % 3], i * 10))
    rows += [rows[0], rows[4], rows[4]]  # whole-row duplicates
    rows.append((START + timedelta(minutes=5), "host_b", "restart", None))
    return rows


def log_rows() -> list[tuple]:
    rnd = random.Random(99)
    levels = ("INFO", "WARN", "ERROR", "DEBUG")
    services = ("api", "db", "cache")
    rows = []
    base = datetime(2024, 1, 1, 23, 30)  # crosses midnight, without a time zone
    for i in range(40):
        t = base + timedelta(seconds=97 * i, microseconds=rnd.randrange(0, 10**6))
        rows.append(
            (
                t,
                levels[rnd.randrange(4)],
                services[i % 3],
                rnd.randrange(0, 5000) if i % 9 else None,
                round(rnd.uniform(0.5, 250), 3),
            )
        )
    return rows


def insert_statements() -> Iterator[str]:
    yield from _insert(
        "cpu",
        ("time", "hostname", "region", "usage_user", "usage_system", "usage_idle", "cores", "load_avg"),
        cpu_rows(),
    )
    yield from _insert(
        "sensors",
        (
            "time",
            "sensor_id",
            "location",
            "temperature",
            "humidity",
            "reading_count",
            "total",
            "level",
            "door_open",
            "note",
        ),
        sensor_rows(),
    )
    yield from _insert("hosts", ("hostname", "rack", "team", "weight"), host_rows())
    yield from _insert("events", ("time", "host", "kind", "value"), event_rows())
    yield from _insert("labels", ("id", "label"), label_rows())
    yield from _insert("orders", ("time", "item", "qty", "price", "ratio", "day", "shipped"), order_rows())
    yield from _insert("logs", ("ts", "level", "service", "bytes", "latency_ms"), log_rows())


def tsbs_generator() -> DevopsCpu:
    return DevopsCpu(TSBS_HOSTS, hours=TSBS_HOURS, seed=123)


def tsbs_copy_sql() -> str:
    gen = tsbs_generator()
    cols = ["time", *gen.tag_keys, *gen.field_types]
    return f"COPY tsbs_cpu ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)"


def tsbs_csv() -> Iterator[bytes]:
    yield from tsbs_generator().csv(chunk_rows=5000, header=False)


def statements(path: Path) -> list[str]:
    """The statements of a fixture SQL file (PostgreSQL's own splitting rules via sqlglot)."""
    from sql.parse import split

    return split(path.read_text())
