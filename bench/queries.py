"""The 15 TSBS devops queries: InfluxQL against InfluxDB and tsgres /query, SQL against PostgreSQL and tsgres.

Query text follows TSBS's generators (``cmd/tsbs_generate_queries/databases/influx/devops.go`` and
``.../timescaledb/devops.go``, with ``uses/devops/common.go`` for windows and hosts):

=========================  =================================================================
single-groupby-M-H-T        max of the first M cpu fields, H random hosts, random T-hour window,
                            1-minute buckets (M in 1, 5; H in 1, 8; T in 1, 12: six types)
cpu-max-all-H               max of all 10 fields, H random hosts (1, 8), random 8 h window, hourly
double-groupby-M            mean of M fields (1, 5, all 10) per host per hour, random 12 h window
high-cpu-all / high-cpu-1   rows with usage_user > 90 in a random 12 h window (all hosts / 1 host)
lastpoint                   the last row of every host
groupby-orderby-limit       max(usage_user) per minute before a random end, last 5 minutes
=========================  =================================================================

Random parameters: window starts uniform over the data set's span (TSBS's ``RandWindow``), drawn at
whole seconds so both dialects query exactly the same window (TSBS formats InfluxQL times to the
second and SQL times to the microsecond); hosts sampled without replacement (``getRandomSubsetPerm``).
Every instance comes from ``random.Random(f"{seed}:{query type}")``, so a type's instances do not
depend on which other types run. A window longer than the data set is clipped to the whole data set
and a host count above the scale to the scale (say so in the output): small smoke runs stay valid.

Deliberate differences from TSBS's text, each so that every peer computes the same thing:

* SQL buckets are ``date_trunc('minute'|'hour', time)`` (TSBS before it defaulted to TimescaleDB's
  ``time_bucket``, which plain PostgreSQL lacks).
* The SQL data layout is TSBS's ``--in-table-partition-tag`` one (``hostname`` in the ``cpu`` table),
  so double-groupby groups by ``hostname`` instead of ``tags_id`` + a join with ``tags`` (tsgres's
  ``cpu`` has no ``tags_id``). Its SQL is otherwise TSBS's.
* cpu-max-all's InfluxQL groups ``by time(1h)`` like its SQL (TSBS's InfluxQL says ``time(1m)`` while
  its label and SQL say hourly).

Each type runs ``--instances`` different instances (default 10) after ``--warmup`` untimed ones
(default 3: a fresh process's first queries of a shape run 1.5-3x slower than its later ones, tsgres's
while CPython specialises the code on their path and its per-table caches fill, and 10 timed instances
are too few to dilute that as TSBS's thousands of queries per type do);
the time of one instance is, as in TSBS's own runners, the client's wall time from sending the query
to having received the whole answer: the full HTTP body for InfluxQL (one keep-alive connection; the
request is built before the clock starts, as TSBS builds its URL, and read by bench/http1.py, whose
cost per query is near a Go client's rather than http.client's ~150-250 us of Python), every
result row for SQL (one libpq connection, simple query protocol, text format, like TSBS's lib/pq
``Query`` without arguments). Neither runner decodes the values inside its clock, so neither does this
one: the JSON body and the rows are decoded afterwards, to count rows and to catch an error.
``--decode`` puts that decoding (``json.loads``; psycopg 3's ``fetchall``, extended protocol) inside
the clock, which adds the Python client's per-value cost to every peer alike. Reported: median and
p95 per type and peer, and tsgres / the fastest other peer. VictoriaMetrics is not queried (its
MetricsQL has no equivalent of most of these; the suite uses it for ingest and bytes per value).

Data: devops ``--hosts`` x ``--hours`` loaded by line protocol into InfluxDB and tsgres (database
``bench``) and by COPY into PostgreSQL (then ``ANALYZE``). tsgres /query and tsgres SQL rows say "not
supported yet" until the server answers ``/query`` and has a PostgreSQL listener.

    python -m bench queries [--hosts 100] [--hours 24] [--instances 10] [--types a,b] [--print]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import NOT_SUPPORTED, Measurement, failed, median, not_supported, percentile  # noqa: E402
from bench.datagen import CPU_FIELDS, DevopsCpu  # noqa: E402
from bench.http1 import KeepAliveHTTP  # noqa: E402
from columnar.types import NS_PER_HOUR, NS_PER_SECOND  # noqa: E402

DATABASE = "bench"
DOUBLE_GROUPBY_HOURS = 12
HIGH_CPU_HOURS = 12
MAX_ALL_HOURS = 8

# name -> (kind, parameters)
QUERY_TYPES: dict[str, tuple[str, dict[str, int]]] = {
    "single-groupby-1-1-1": ("groupby_time", {"metrics": 1, "hosts": 1, "hours": 1}),
    "single-groupby-1-1-12": ("groupby_time", {"metrics": 1, "hosts": 1, "hours": 12}),
    "single-groupby-1-8-1": ("groupby_time", {"metrics": 1, "hosts": 8, "hours": 1}),
    "single-groupby-5-1-1": ("groupby_time", {"metrics": 5, "hosts": 1, "hours": 1}),
    "single-groupby-5-1-12": ("groupby_time", {"metrics": 5, "hosts": 1, "hours": 12}),
    "single-groupby-5-8-1": ("groupby_time", {"metrics": 5, "hosts": 8, "hours": 1}),
    "cpu-max-all-1": ("max_all", {"hosts": 1}),
    "cpu-max-all-8": ("max_all", {"hosts": 8}),
    "double-groupby-1": ("double_groupby", {"metrics": 1}),
    "double-groupby-5": ("double_groupby", {"metrics": 5}),
    "double-groupby-all": ("double_groupby", {"metrics": 10}),
    "high-cpu-all": ("high_cpu", {"hosts": 0}),
    "high-cpu-1": ("high_cpu", {"hosts": 1}),
    "lastpoint": ("lastpoint", {}),
    "groupby-orderby-limit": ("groupby_orderby_limit", {}),
}

# (peer, dialect) pairs in table order
TARGETS = (("influxdb", "InfluxQL"), ("tsgres", "InfluxQL"), ("postgres", "SQL"), ("tsgres", "SQL"))


@dataclass
class Query:
    qtype: str
    influxql: str
    sql: str
    note: str = ""  # window or host count clipped to a small data set


# -- generation -------------------------------------------------------------------------------------------
def _rfc3339(ns: int) -> str:
    """TSBS's InfluxQL time text (Go's time.RFC3339, whole seconds)."""
    return datetime.fromtimestamp(ns // NS_PER_SECOND, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sqltime(ns: int) -> str:
    """TSBS's SQL time text (Go layout ``2006-01-02 15:04:05.999999 -0700``; whole seconds here)."""
    return datetime.fromtimestamp(ns // NS_PER_SECOND, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


class DevopsQueries:
    """Generates instances of the 15 query types for a devops data set (scale, start, end)."""

    def __init__(self, scale: int, start_ns: int, end_ns: int, seed: int = 0) -> None:
        self.scale, self.start_ns, self.end_ns, self.seed = scale, start_ns, end_ns, seed

    @classmethod
    def for_generator(cls, gen: DevopsCpu, seed: int = 0) -> DevopsQueries:
        return cls(gen.scale, gen.start_ns, gen.end_ns, seed)

    def instances(self, qtype: str, n: int) -> list[Query]:
        rng = random.Random(f"{self.seed}:{qtype}")
        kind, params = QUERY_TYPES[qtype]
        return [getattr(self, f"_{kind}")(qtype, rng, **params) for _ in range(n)]

    # random parameters ------------------------------------------------------------------------------
    def _window(self, rng: random.Random, hours: float, notes: list[str]) -> tuple[int, int]:
        window = round(hours * NS_PER_HOUR)
        lo = -(-self.start_ns // NS_PER_SECOND)
        hi = (self.end_ns - window) // NS_PER_SECOND
        if hi <= lo:  # TSBS refuses; a small data set gets its whole span instead
            notes.append(f"{hours:g} h window clipped to the data set")
            return self.start_ns, self.end_ns
        start = (lo + rng.randrange(hi - lo)) * NS_PER_SECOND
        return start, start + window

    def _hosts(self, rng: random.Random, n: int, notes: list[str]) -> list[str]:
        if n > self.scale:
            notes.append(f"{n} hosts clipped to {self.scale}")
            n = self.scale
        return [f"host_{i}" for i in rng.sample(range(self.scale), n)]

    # the query kinds -----------------------------------------------------------------------------------
    def _groupby_time(self, qtype: str, rng: random.Random, metrics: int, hosts: int, hours: int) -> Query:
        notes: list[str] = []
        start, end = self._window(rng, hours, notes)
        names = self._hosts(rng, hosts, notes)
        fields = CPU_FIELDS[:metrics]
        influx_hosts = "(" + " or ".join(f"hostname = '{h}'" for h in names) + ")"
        influxql = (
            f"SELECT {', '.join(f'max({f})' for f in fields)} from cpu where {influx_hosts} "
            f"and time >= '{_rfc3339(start)}' and time < '{_rfc3339(end)}' group by time(1m)"
        )
        sql_hosts = "(" + " OR ".join(f"hostname = '{h}'" for h in names) + ")"
        sql = (
            "SELECT date_trunc('minute', time) AS minute,\n"
            f"        {', '.join(f'max({f}) as max_{f}' for f in fields)}\n"
            "        FROM cpu\n"
            f"        WHERE {sql_hosts} AND time >= '{_sqltime(start)}' AND time < '{_sqltime(end)}'\n"
            "        GROUP BY minute ORDER BY minute ASC"
        )
        return Query(qtype, influxql, sql, "; ".join(notes))

    def _max_all(self, qtype: str, rng: random.Random, hosts: int) -> Query:
        notes: list[str] = []
        start, end = self._window(rng, MAX_ALL_HOURS, notes)
        names = self._hosts(rng, hosts, notes)
        influx_hosts = "(" + " or ".join(f"hostname = '{h}'" for h in names) + ")"
        influxql = (
            f"SELECT {','.join(f'max({f})' for f in CPU_FIELDS)} from cpu where {influx_hosts} "
            f"and time >= '{_rfc3339(start)}' and time < '{_rfc3339(end)}' group by time(1h)"
        )
        sql_hosts = "(" + " OR ".join(f"hostname = '{h}'" for h in names) + ")"
        sql = (
            "SELECT date_trunc('hour', time) AS hour,\n"
            f"        {', '.join(f'max({f}) as max_{f}' for f in CPU_FIELDS)}\n"
            "        FROM cpu\n"
            f"        WHERE {sql_hosts} AND time >= '{_sqltime(start)}' AND time < '{_sqltime(end)}'\n"
            "        GROUP BY hour ORDER BY hour"
        )
        return Query(qtype, influxql, sql, "; ".join(notes))

    def _double_groupby(self, qtype: str, rng: random.Random, metrics: int) -> Query:
        notes: list[str] = []
        start, end = self._window(rng, DOUBLE_GROUPBY_HOURS, notes)
        fields = CPU_FIELDS[:metrics]
        influxql = (
            f"SELECT {', '.join(f'mean({f})' for f in fields)} from cpu where time >= '{_rfc3339(start)}' "
            f"and time < '{_rfc3339(end)}' group by time(1h),hostname"
        )
        sql = (
            "\n        WITH cpu_avg AS (\n"
            "          SELECT date_trunc('hour', time) as hour, hostname,\n"
            f"          {', '.join(f'avg({f}) as mean_{f}' for f in fields)}\n"
            "          FROM cpu\n"
            f"          WHERE time >= '{_sqltime(start)}' AND time < '{_sqltime(end)}'\n"
            "          GROUP BY hour, hostname\n"
            "        )\n"
            f"        SELECT hour, hostname, {', '.join(f'mean_{f}' for f in fields)}\n"
            "        FROM cpu_avg\n"
            "        ORDER BY hour, hostname"
        )
        return Query(qtype, influxql, sql, "; ".join(notes))

    def _high_cpu(self, qtype: str, rng: random.Random, hosts: int) -> Query:
        notes: list[str] = []
        start, end = self._window(rng, HIGH_CPU_HOURS, notes)
        influx_hosts = sql_hosts = ""
        if hosts:
            names = self._hosts(rng, hosts, notes)
            influx_hosts = "and (" + " or ".join(f"hostname = '{h}'" for h in names) + ")"
            sql_hosts = "AND (" + " OR ".join(f"hostname = '{h}'" for h in names) + ")"
        influxql = (
            f"SELECT * from cpu where usage_user > 90.0 {influx_hosts} and time >= '{_rfc3339(start)}' "
            f"and time < '{_rfc3339(end)}'"
        )
        sql = (
            f"SELECT * FROM cpu WHERE usage_user > 90.0 and time >= '{_sqltime(start)}' "
            f"AND time < '{_sqltime(end)}' {sql_hosts}"
        )
        return Query(qtype, influxql, sql, "; ".join(notes))

    def _lastpoint(self, qtype: str, rng: random.Random) -> Query:
        return Query(
            qtype,
            'SELECT * from cpu group by "hostname" order by time desc limit 1',
            "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
        )

    def _groupby_orderby_limit(self, qtype: str, rng: random.Random) -> Query:
        notes: list[str] = []
        _, end = self._window(rng, 1, notes)
        influxql = f"SELECT max(usage_user) from cpu WHERE time < '{_rfc3339(end)}' group by time(1m) limit 5"
        sql = (
            "SELECT date_trunc('minute', time) AS minute, max(usage_user)\n"
            "        FROM cpu\n"
            f"        WHERE time < '{_sqltime(end)}'\n"
            "        GROUP BY minute\n"
            "        ORDER BY minute DESC\n"
            "        LIMIT 5"
        )
        return Query(qtype, influxql, sql, "; ".join(notes))


# -- running ----------------------------------------------------------------------------------------------
class QueryError(RuntimeError):
    pass


class InfluxQLClient:
    """GET /query over one keep-alive HTTP connection (bench/http1.py). ``prepare`` builds the request
    (outside the clock, as TSBS builds its URL before starting it); ``query`` is what is timed: the
    whole body received (with ``decode``, also decoded by json.loads); ``rows`` counts the result rows
    of what it returned and raises a statement's error."""

    def __init__(
        self, host: str, port: int, database: str = DATABASE, timeout: float = 120.0, decode: bool = False
    ) -> None:
        self.http = KeepAliveHTTP(host, port, timeout)
        self.database = database
        self.decode = decode

    def prepare(self, q: str) -> bytes:
        return self.http.request("/query?" + urllib.parse.urlencode({"db": self.database, "q": q}))

    def get(self, q: str) -> tuple[int, bytes]:
        return self.http.send(self.prepare(q))

    def query(self, request: object) -> object:
        assert isinstance(request, bytes)
        status, body = self.http.send(request)
        if status != 200:
            raise QueryError(f"HTTP {status}: {body[:200]!r}")
        return json.loads(body) if self.decode else body

    @staticmethod
    def rows(raw: object) -> int:
        doc = raw if isinstance(raw, dict) else json.loads(raw)  # type: ignore[arg-type]
        rows = 0
        for result in doc.get("results", []):
            if "error" in result:
                raise QueryError(result["error"])
            for series in result.get("series", []):
                rows += len(series.get("values", []))
        if "error" in doc:
            raise QueryError(doc["error"])
        return rows

    def close(self) -> None:
        self.http.close()


def influxql_supported(host: str, port: int) -> bool:
    """True when the server has a /query endpoint (tsgres before it exists: 404). A server that has
    one but refuses this statement still counts: its query rows then say why each type failed."""
    client = InfluxQLClient(host, port, timeout=30)
    try:
        status, _ = client.get("SHOW DATABASES")
        return status not in (404, 405, 501)
    except OSError:
        return False
    finally:
        client.close()


class SQLClient:
    """One libpq connection through psycopg 3. ``query`` is what is timed: with ``decode`` False, libpq
    receives every row of a simple-protocol query (no per-value conversion, as TSBS's lib/pq runner);
    with ``decode`` True, psycopg executes (extended protocol) and converts every value (``fetchall``).
    ``rows`` counts the rows of what ``query`` returned."""

    def __init__(self, conninfo: str, timeout_s: float = 120.0, decode: bool = False) -> None:
        import psycopg

        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.decode = decode
        try:
            self.conn.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
        except psycopg.Error:  # a server without the setting still runs the queries
            pass

    def prepare(self, sql: str) -> object:
        return sql if self.decode else sql.encode()

    def query(self, sql: object) -> object:
        if self.decode:
            assert isinstance(sql, str)
            with self.conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description is not None else []
        from psycopg import pq

        assert isinstance(sql, bytes)
        res = self.conn.pgconn.exec_(sql)
        if res.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
            raise QueryError((res.error_message or b"query failed").decode(errors="replace").strip())
        return res

    @staticmethod
    def rows(raw: object) -> int:
        if isinstance(raw, list):
            return len(raw)
        from psycopg import pq

        assert isinstance(raw, pq.PGresult)
        return raw.ntuples

    def close(self) -> None:
        self.conn.close()


class Client(Protocol):
    def prepare(self, text: str) -> object: ...
    def query(self, prepared: object) -> object: ...
    def rows(self, raw: object) -> int: ...


@dataclass
class TypeResult:
    qtype: str
    peer: str
    dialect: str
    times_ms: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    error: str = ""
    unsupported: bool = False
    note: str = ""

    def measurement(self) -> Measurement:
        metric = f"median ms ({self.dialect})"
        if self.unsupported:
            return not_supported("queries", self.qtype, self.peer, metric, higher_is_better=False)
        if self.error:
            return failed("queries", self.qtype, self.peer, metric, self.error, higher_is_better=False)
        return Measurement(
            "queries", self.qtype, self.peer, metric, median(self.times_ms), self.note, False,
            {"p95_ms": percentile(self.times_ms, 0.95), "instances": len(self.times_ms),
             "rows_median": median(self.rows)},
        )  # fmt: skip


def settle(pid: int, *, quiet_share: float = 0.05, window_s: float = 1.0, limit_s: float = 60.0) -> float:
    """Wait until the process at ``pid`` is quiet (under ``quiet_share`` of a CPU over ``window_s``):
    a server still snapshotting or compacting what was just loaded would be timed with that work.
    Every peer gets this after its load (PostgreSQL also gets ANALYZE); returns the seconds waited."""
    tick = os.sysconf("SC_CLK_TCK")

    def cpu_s() -> float:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        before = cpu_s()
        time.sleep(window_s)
        if cpu_s() - before < quiet_share * window_s:
            break
    return time.monotonic() - start


def run_type(client: Client, queries: list[Query], dialect: str, peer: str, warmup: int = 1) -> TypeResult:
    """Run the first ``warmup`` queries untimed, then time the rest; the first error stops the type. The clock
    covers ``client.query`` of what ``client.prepare`` made before it (what it covers is the
    client's: see ``--decode``)."""
    res = TypeResult(queries[0].qtype, peer, dialect, note=queries[0].note)
    try:
        for i, q in enumerate(queries):
            prepared = client.prepare(q.influxql if dialect == "InfluxQL" else q.sql)
            t0 = time.perf_counter()
            raw = client.query(prepared)
            ms = (time.perf_counter() - t0) * 1000
            rows = client.rows(raw)
            if i >= warmup:
                res.times_ms.append(ms)
                res.rows.append(rows)
    except Exception as e:  # reported as this type's row
        res.error = f"{type(e).__name__}: {e}"
    return res


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--hours", type=float, default=24)
    p.add_argument("--instances", type=int, default=10, help="timed instances per type")
    p.add_argument("--warmup", type=int, default=3, help="untimed instances run before them")
    p.add_argument("--types", default=",".join(QUERY_TYPES), help="comma-separated query types")
    p.add_argument(
        "--peers", default="influxdb,tsgres,postgres", help="comma-separated, of: influxdb, tsgres, postgres"
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds one query may take")
    p.add_argument("--seed", type=int, default=1, help="data seed")
    p.add_argument("--query-seed", type=int, default=0, help="seed of the random query parameters")
    p.add_argument("--print", action="store_true", help="print one instance of each type and exit")
    p.add_argument(
        "--decode", action="store_true",
        help="time the client's decoding of every value too (json.loads; psycopg fetchall)",
    )  # fmt: skip


def _types(args: argparse.Namespace) -> list[str]:
    types = [t for t in args.types.split(",") if t]
    for t in types:
        if t not in QUERY_TYPES:
            raise SystemExit(f"unknown query type {t!r}; known: {', '.join(QUERY_TYPES)}")
    return types


def measure(args: argparse.Namespace) -> list[Measurement]:
    """Every peer is started, loaded and left to settle first; then the types run one after another,
    each on every (peer, dialect) in turn, the order rotating from type to type. A peer's type is
    timed a few seconds from the others' rather than minutes, so the machine's speed, which drifts
    on a shared VM, weighs on all peers' figures of a type alike."""
    from bench.ingest import load_lp
    from bench.peers import InfluxDB1Peer, PostgresPeer, TsgresPeer
    from bench.pgload import load_copy

    gen = DevopsCpu(args.hosts, hours=args.hours, seed=args.seed)
    generator = DevopsQueries.for_generator(gen, args.query_seed)
    types = _types(args)
    plan = {t: generator.instances(t, args.warmup + args.instances) for t in types}
    peers = [p for p in args.peers.split(",") if p]
    print(
        f"devops: {gen.n_rows:,} rows ({gen.scale} hosts x {gen.n_ticks} ticks); {len(types)} query types x "
        f"{args.instances} instances (+{args.warmup} warm-up)",
        flush=True,
    )
    results: list[TypeResult] = []
    targets: list[tuple[str, str, Client]] = []  # (peer, dialect, client), in --peers order
    pids: dict[str, int] = {}

    def skip_all(peer: str, dialect: str, why: str) -> None:
        print(f"  {peer:8} {dialect:8} {NOT_SUPPORTED} ({why})", flush=True)
        results.extend(TypeResult(t, peer, dialect, unsupported=True) for t in types)

    def start(name: str, stack: contextlib.ExitStack) -> None:
        if name == "influxdb":
            ipeer = stack.enter_context(InfluxDB1Peer())
            load_lp(ipeer, gen)
            pids[name] = ipeer.pid
            print(f"  influxdb settled after {settle(ipeer.pid):.1f} s", flush=True)
            client = InfluxQLClient(ipeer.host, ipeer.http_port, timeout=args.timeout, decode=args.decode)
            stack.callback(client.close)
            targets.append(("influxdb", "InfluxQL", client))
        elif name == "postgres":
            ppeer = stack.enter_context(PostgresPeer())
            load_copy(ppeer.conninfo(), gen, target="postgres")
            with ppeer.connect() as conn:
                conn.execute("ANALYZE")
            pids[name] = ppeer.pid
            print(f"  postgres settled after {settle(ppeer.pid):.1f} s", flush=True)
            sql = SQLClient(ppeer.conninfo(), args.timeout, args.decode)
            stack.callback(sql.close)
            targets.append(("postgres", "SQL", sql))
        elif name == "tsgres":
            tpeer = stack.enter_context(TsgresPeer())
            load_lp(tpeer, gen)
            pids[name] = tpeer.pid
            print(f"  tsgres settled after {settle(tpeer.pid):.1f} s", flush=True)
            if influxql_supported(tpeer.host, tpeer.http_port):
                client = InfluxQLClient(tpeer.host, tpeer.http_port, timeout=args.timeout, decode=args.decode)
                stack.callback(client.close)
                targets.append(("tsgres", "InfluxQL", client))
            else:
                skip_all("tsgres", "InfluxQL", "no /query endpoint in this build")
            if tpeer.has_pgwire:
                sql = SQLClient(tpeer.conninfo(DATABASE), args.timeout, args.decode)
                stack.callback(sql.close)
                targets.append(("tsgres", "SQL", sql))
            else:
                skip_all("tsgres", "SQL", "no PostgreSQL listener in this build")
        else:
            raise SystemExit(f"unknown peer {name!r} (use influxdb, tsgres, postgres)")

    with contextlib.ExitStack() as stack:
        for name in peers:
            try:
                start(name, stack)
            except SystemExit:
                raise
            except Exception as e:  # a peer that cannot start or load: its rows say why
                print(f"  {name}: failed: {e}", flush=True)
                dialects = {"influxdb": ["InfluxQL"], "postgres": ["SQL"], "tsgres": ["InfluxQL", "SQL"]}[
                    name
                ]
                done = {(r.peer, r.dialect) for r in results} | {(p, d) for p, d, _ in targets}
                for d in dialects:
                    if (name, d) not in done:
                        results.extend(
                            TypeResult(t, name, d, error=f"{type(e).__name__}: {e}") for t in types
                        )
        # the peers loaded first may have worked on in the background while the later ones loaded
        for name, pid in pids.items():
            print(f"  {name} quiet after {settle(pid):.1f} s more", flush=True)
        for i, t in enumerate(types):
            k = i % len(targets) if targets else 0
            for peer, dialect, client in targets[k:] + targets[:k]:
                r = run_type(client, plan[t], dialect, peer, args.warmup)
                results.append(r)
                if r.error:
                    shown = f"failed: {r.error[:200]}"
                else:
                    shown = f"median {median(r.times_ms):9.2f} ms  p95 {percentile(r.times_ms, 0.95):9.2f} ms  rows {median(r.rows):g}"
                print(f"  {peer:8} {dialect:8} {t:22} {shown}", flush=True)
    _check_rows(results)
    return [r.measurement() for r in results]


def _check_rows(results: list[TypeResult]) -> None:
    """Within a dialect, peers that ran the same instances must return as many rows: note it if not."""
    by: dict[tuple[str, str], dict[str, TypeResult]] = {}
    for r in results:
        if r.rows:
            by.setdefault((r.qtype, r.dialect), {})[r.peer] = r
    for (qtype, dialect), peers in by.items():
        if len(peers) > 1 and len({tuple(r.rows) for r in peers.values()}) > 1:
            for r in peers.values():
                r.note = (r.note + "; " if r.note else "") + f"row counts differ between peers ({dialect})"
                print(f"  warning: {qtype} {dialect}: row counts differ: "
                      f"{ {p: r.rows for p, r in peers.items()} }")  # fmt: skip


def summary_table(rows: list[Measurement]) -> str:
    """Per query type: median / p95 ms per (peer, dialect), fastest non-tsgres peer, tsgres / fastest."""
    cells: dict[str, dict[tuple[str, str], Measurement]] = {}
    for m in rows:
        if m.part != "queries":
            continue
        dialect = m.metric.split("(")[-1].rstrip(")")
        cells.setdefault(m.item, {})[(m.peer, dialect)] = m
    head = ["query type"] + [f"{p} {d}" for p, d in TARGETS] + ["fastest peer", "tsgres / fastest"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    lines[1] = "|---|" + "---:|" * len(TARGETS) + "---|---:|"
    for qtype, by in cells.items():
        row = [qtype]
        for target in TARGETS:
            cell = by.get(target)
            if cell is None:
                row.append("")
            elif cell.value is None:
                row.append(NOT_SUPPORTED if cell.note == NOT_SUPPORTED else "failed")
            else:
                row.append(f"{cell.value:,.1f} / {float(cell.extra['p95_ms']):,.1f}")
        others = [m for (p, _), m in by.items() if p != "tsgres" and m.value is not None]
        ours = [m for (p, _), m in by.items() if p == "tsgres" and m.value is not None]
        if others:
            best = min(others, key=lambda m: m.value or 0.0)
            row.append(f"{best.peer} ({best.metric.split('(')[-1].rstrip(')')})")
            row.append(f"{min(m.value or 0.0 for m in ours) / (best.value or 1):.2f}x" if ours else "-")
        else:
            row += ["-", "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.print:
        gen = DevopsCpu(args.hosts, hours=args.hours, seed=args.seed)
        generator = DevopsQueries.for_generator(gen, args.query_seed)
        for t in _types(args):
            q = generator.instances(t, 1)[0]
            print(
                f"-- {t}{' (' + q.note + ')' if q.note else ''}\n-- InfluxQL:\n{q.influxql}\n-- SQL:\n{q.sql}\n"
            )
        return 0
    rows = measure(args)
    print()
    print("**TSBS devops queries: median / p95 ms per instance (lower is better)**")
    print()
    print(summary_table(rows))
    failures = [m for m in rows if m.value is None and m.note != NOT_SUPPORTED]
    for m in failures:
        print(f"- {m.item} on {m.peer} ({m.metric}): {m.note}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
