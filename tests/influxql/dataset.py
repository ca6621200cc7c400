"""The deterministic data set the InfluxQL differential tests write to InfluxDB and to tsgres.

``db1`` holds the measurements most queries read:

- ``cpu``: host server01..04, region (server04 has none), fields usage_user / usage_system /
  usage_idle (float), load (integer), status (string, sparse), active (boolean, sparse); one point
  every 10 s for an hour from 2020-09-13T12:26:40Z; server03 pauses for ten minutes, server04 starts
  late, so windows are empty and series start at different times.
- ``mem`` (every 30 s), ``net`` (an integer counter that resets, per host and interface), ``disk`` (tag
  values with spaces), ``weather`` (millisecond times, unicode and spaces in tags, all field types),
  ``cpu_load`` and ``"h2o level"`` (names for regexes and quoting), ``precise`` (nanosecond times).
- retention policy ``alt`` with a few ``cpu`` points.

``db2`` has a small ``cpu`` for cross-database sources. Times are whole milliseconds: tsgres's SQL
engine counts microseconds (see docs/influxql.md).
"""

from __future__ import annotations

BASE = 1_600_000_000  # 2020-09-13T12:26:40Z, in seconds
DATABASES = ["db1", "db2"]
EXTRA_DATABASES: list[str] = []
SETUP = [
    "CREATE DATABASE postgres",  # tsgres always has it (PostgreSQL clients' default); InfluxDB gets it too
    "CREATE DATABASE db1",
    "CREATE DATABASE db2",
    'CREATE RETENTION POLICY "alt" ON "db1" DURATION INF REPLICATION 1',
]

HOSTS = [("server01", "us-west"), ("server02", "us-west"), ("server03", "eu-central"), ("server04", None)]


def _cpu(db: str, n: int, step: int) -> list[str]:
    lines = []
    for i in range(n):
        t = BASE + i * step
        for h, (host, region) in enumerate(HOSTS):
            if host == "server03" and 100 <= i < 160:
                continue
            if host == "server04" and i < 200:
                continue
            tags = f"host={host}" + (f",region={region}" if region else "")
            user = round(((i * 37 + h * 11) % 100) * 0.5 + h, 2)
            system = round(((i * 13 + h * 7) % 40) * 0.25, 2)
            idle = round(100 - user - system, 2)
            load = (i * 3 + h * 5) % 17 - 4
            fields = [f"usage_user={user}", f"usage_system={system}", f"usage_idle={idle}", f"load={load}i"]
            if i % 3 == 0:
                fields.append(f'status="{["ok", "warn", "crit"][(i // 3 + h) % 3]}"')
            if i % 4 == 1:
                fields.append(f"active={'true' if (i + h) % 2 else 'false'}")
            lines.append(f"cpu,{tags} {','.join(fields)} {t}")
    return lines


def _mem() -> list[str]:
    lines = []
    for i in range(120):
        t = BASE + i * 30
        for h, host in enumerate(["server01", "server02"]):
            used = 1000 + (i * 17 + h * 100) % 500
            free = 4000 - used
            lines.append(
                f"mem,host={host} used={used}i,free={free}i,used_percent={round(used / 40.0, 4)} {t}"
            )
    return lines


def _net() -> list[str]:
    lines = []
    for i in range(60):
        t = BASE + i * 60
        for h, (host, iface) in enumerate([("server01", "eth0"), ("server01", "eth1"), ("server02", "eth0")]):
            counter = (i * (100 + h * 10)) if i < 40 else (i - 40) * 50
            if h == 2 and i % 7 == 3:
                continue
            lines.append(
                f"net,host={host},interface={iface} bytes_recv={counter}i,packets={round(i * 1.5 + h, 1)} {t}"
            )
    return lines


def _disk() -> list[str]:
    lines = []
    for i in range(12):
        t = BASE + i * 300
        for path, device in [("/", "sda1"), ("/var/log data", "sdb1"), ("/home", "sdc1")]:
            esc = path.replace(" ", "\\ ")
            lines.append(f"disk,path={esc},device={device} free={100000 - i * 1000 - len(path)}i {t}")
    return lines


def _weather() -> list[str]:
    lines = []
    cities = ["Paris", "New\\ York", "São\\ Paulo"]
    for i in range(40):
        t_ms = BASE * 1000 + i * 97_531  # irregular millisecond times
        city = cities[i % 3]
        temp = round(10 + (i * 7 % 23) * 0.7 - 5, 1)
        humidity = 40 + (i * 11) % 50
        raining = "true" if i % 5 == 0 else "false"
        lines.append(
            f'weather,city={city} temp={temp},humidity={humidity}i,raining={raining},note="obs {i}" {t_ms}'
        )
    return lines


def _misc() -> list[str]:
    return [
        f"cpu_load,host=server01 value=0.5 {BASE}",
        f"cpu_load,host=server01 value=0.75 {BASE + 60}",
        f"cpu_load,host=server02 value=1.25 {BASE + 120}",
        f"h2o\\ level,location=coyote\\ creek water=8.12 {BASE}",
        f"h2o\\ level,location=coyote\\ creek water=8.005 {BASE + 360}",
        f"h2o\\ level,location=santa\\ monica water=2.064 {BASE + 180}",
    ]


def _precise() -> list[str]:
    """Nanosecond times: tsgres's SQL engine keeps microseconds (a known gap, see the corpus)."""
    return [f"precise,src=a v={i} {BASE * 10**9 + i * 1_000_000_123}" for i in range(5)]


def line_protocol(db: str) -> list[tuple[str, str, str]]:
    """(precision, retention policy, body) chunks to write to ``db``."""
    if db == "db1":
        return [
            ("s", "", "\n".join(_cpu(db, 360, 10))),
            ("s", "", "\n".join(_mem())),
            ("s", "", "\n".join(_net())),
            ("s", "", "\n".join(_disk())),
            ("ms", "", "\n".join(_weather())),
            ("s", "", "\n".join(_misc())),
            ("ns", "", "\n".join(_precise())),
            ("s", "alt", "\n".join(_cpu(db, 6, 600))),
        ]
    if db == "db2":
        return [("s", "", "\n".join(_cpu(db, 30, 60)))]
    return []
