"""Peer runners: start a database server in a temporary directory on free ports, stop it by pid.

Every runner is a :class:`Peer`: ``start()`` launches the server and waits until it answers,
``stop()`` ends it (SIGTERM, then SIGKILL after a grace period) and removes its directory, and
``pid`` / ``http_url(path)`` let benchmarks reach it and watch it. Runners are context managers::

    with TsgresPeer() as peer:
        requests go to peer.http_url("/write?db=bench")

A new peer is a subclass that implements :meth:`Peer._launch` (return the Popen) and :meth:`Peer._ready`
(True once it serves), plus a line in :data:`PEERS`. Peers here:

* ``tsgres``: ``python -m tsgres serve``; HTTP (and, once the pgwire listener exists, PostgreSQL) ports
  are read from its ``tsgres: NAME listening on HOST:PORT`` lines. ``pg_port`` stays 0 while the build
  has no PostgreSQL listener; benchmarks then report "not supported yet" for its SQL rows.
* ``influxdb``: InfluxDB 1.x ``influxd`` with a generated config.
* ``victoriametrics``: the single-node ``victoria-metrics`` binary (Debian package), InfluxDB line
  protocol on ``/write``, retention 100 years (TSBS data starts in 2016; VictoriaMetrics drops samples
  older than its retention period, 1 month by default).
* ``postgres``: PostgreSQL 15 (``initdb`` + ``postgres`` on a temporary cluster, trust auth, loopback
  only). PostgreSQL will not run as root, so as root the cluster belongs to the ``postgres`` system
  user (or ``nobody``). Stopped with SIGINT (fast shutdown) rather than SIGTERM (which waits for
  clients).

:func:`peer_versions` reports the installed version of each, for results files.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Self

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_LISTENING = re.compile(rb"^tsgres: http listening on \S+:(\d+)$", re.M)
# The PostgreSQL listener's line; its name is not settled yet ("pgwire" is the Listener name the server
# module reserves), so any of these is taken.
_PG_LISTENING = re.compile(rb"^tsgres: (?:pgwire|postgres|postgresql|pg) listening on \S+:(\d+)$", re.M)
_TSGRES_READY = re.compile(rb"tsgres\.server: ready$", re.M)
TSGRES_PG_GRACE_S = 3.0  # after HTTP answers, how long to wait for a PostgreSQL line without a ready line


class PeerError(RuntimeError):
    """A peer could not be started (binary missing, exited early, never became ready)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for servers that cannot bind port 0 and report it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (OSError, ValueError):
        return None


class Peer:
    """One server process in its own temporary directory. Subclasses say how to launch and probe it."""

    name: ClassVar[str] = "peer"
    host = "127.0.0.1"
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM

    def __init__(self, *, workdir: Path | None = None, keep: bool = False) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-")) if workdir is None else workdir
        self.keep = keep
        self.http_port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / f"{self.name}.log"

    # -- what a subclass provides ------------------------------------------------------------------
    def _launch(self, log: int) -> subprocess.Popen[bytes]:
        """Start the server process (stdout and stderr to ``log``) and set ``http_port`` if known."""
        raise NotImplementedError

    def _ready(self) -> bool:
        """True once the server accepts requests."""
        return bool(self.http_port) and _http_status(self.http_url("/ping")) in (200, 204)

    # -- shared ------------------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        if self.proc is None:
            raise PeerError(f"{self.name} is not running")
        return self.proc.pid

    def http_url(self, path: str) -> str:
        return f"http://{self.host}:{self.http_port}{path}"

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            self.proc = self._launch(log_fd)
        finally:
            os.close(log_fd)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise PeerError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self._ready():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise PeerError(f"{self.name} not ready after {START_TIMEOUT_S}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> int | None:
        """SIGTERM, wait, SIGKILL if it lingers; remove the working directory. Returns the exit code."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(self.stop_signal)
                try:
                    self.proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            code = self.proc.returncode
            self.proc = None
        if self._own_dir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return code

    @classmethod
    def version(cls) -> str:
        """The server's version, as its binary or package reports it (without starting it)."""
        return "unknown"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class InfluxDB1Peer(Peer):
    """InfluxDB 1.x (``influxd``, e.g. Debian's ``influxdb`` package) with a generated config file.

    Data, meta and WAL live under the working directory; HTTP and the RPC bind on free loopback
    ports; reporting, the _internal monitor store and the access log are off so they cost nothing.
    """

    name = "influxdb"
    binary = "influxd"

    def __init__(
        self,
        *,
        wal_fsync_delay: str = "0s",
        index: str = "inmem",
        data_settings: dict[str, str] | None = None,
        workdir: Path | None = None,
        keep: bool = False,
    ) -> None:
        super().__init__(workdir=workdir, keep=keep)
        self.wal_fsync_delay = wal_fsync_delay
        self.index = index
        # extra [data] keys, values as TOML text, e.g. {"compact-full-write-cold-duration": '"1s"'}
        self.data_settings = data_settings or {}

    def config_text(self) -> str:
        d = self.workdir
        extra_data = "".join(f"  {k} = {v}\n" for k, v in self.data_settings.items())
        return f"""\
reporting-disabled = true
bind-address = "{self.host}:{free_port()}"

[meta]
  dir = "{d / "meta"}"
  logging-enabled = false

[data]
  dir = "{d / "data"}"
  wal-dir = "{d / "wal"}"
  wal-fsync-delay = "{self.wal_fsync_delay}"
  index-version = "{self.index}"
  query-log-enabled = false
{extra_data}
[monitor]
  store-enabled = false

[admin]
  enabled = false

[http]
  enabled = true
  bind-address = "{self.host}:{self.http_port}"
  log-enabled = false
  pprof-enabled = false

[[graphite]]
  enabled = false

[[udp]]
  enabled = false

[continuous_queries]
  enabled = false
"""

    @property
    def data_dir(self) -> Path:
        """Holds ``data/`` (TSM files) and ``wal/``; ``meta/`` beside them."""
        return self.workdir

    @classmethod
    def version(cls) -> str:
        return _first_line([shutil.which(cls.binary) or cls.binary, "version"])

    def _launch(self, log: int) -> subprocess.Popen[bytes]:
        exe = shutil.which(self.binary)
        if exe is None:
            raise PeerError(f"{self.binary} not found: install InfluxDB 1.x (apt-get install influxdb)")
        self.http_port = free_port()
        conf = self.workdir / "influxdb.conf"
        conf.write_text(self.config_text())
        return subprocess.Popen(
            [exe, "run", "-config", str(conf)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, "INFLUXDB_CONFIG_PATH": str(conf)},
        )


class TsgresPeer(Peer):
    """``python -m tsgres serve`` on ports chosen by the OS; the HTTP port is read from its output."""

    name = "tsgres"

    def __init__(
        self,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        workdir: Path | None = None,
        keep: bool = False,
    ) -> None:
        super().__init__(workdir=workdir, keep=keep)
        self.args = args
        self.env = env or {}
        self.pg_port = 0  # stays 0 while this build has no PostgreSQL listener
        self._http_ready_at: float | None = None

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def has_pgwire(self) -> bool:
        return bool(self.pg_port)

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for the PostgreSQL listener (only when ``has_pgwire``)."""
        if not self.pg_port:
            raise PeerError("this tsgres build has no PostgreSQL listener")
        return f"host={self.host} port={self.pg_port} user=postgres dbname={dbname}"

    @classmethod
    def version(cls) -> str:
        try:
            out = subprocess.run(
                [sys.executable, "-m", "tsgres", "version"], cwd=REPO, capture_output=True, text=True,
                timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(REPO)},
            )  # fmt: skip
            return out.stdout.strip() or "unknown"
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    def _launch(self, log: int) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TSGRES_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env)
        argv = [sys.executable, "-m", "tsgres", "serve", "--data-dir", str(self.data_dir)]
        argv += ["--host", self.host, "--http-port", "0", "--pg-port", "0", *self.args]
        return subprocess.Popen(
            argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )

    def _ready(self) -> bool:
        log = self.log_path.read_bytes()
        if not self.http_port:  # the server prints the port it bound once it listens
            match = _LISTENING.search(log)
            if match is None:
                return False
            self.http_port = int(match[1])
        if not super()._ready():
            return False
        # Listeners print their lines one after the other; the PostgreSQL one may follow HTTP's.
        pg = _PG_LISTENING.search(log)
        if pg is not None:
            self.pg_port = int(pg[1])
            return True
        if _TSGRES_READY.search(log):
            return True  # started every listener it has, and none is PostgreSQL
        now = time.monotonic()
        if self._http_ready_at is None:
            self._http_ready_at = now
        return now - self._http_ready_at > TSGRES_PG_GRACE_S


class VictoriaMetricsPeer(Peer):
    """Single-node VictoriaMetrics (``victoria-metrics``, Debian's package) on a temporary storage path.

    Line protocol goes to ``/write`` (measurement ``cpu`` + field ``usage_user`` become the metric
    ``cpu_usage_user``; tags become labels). ``force_flush()`` makes recent writes searchable,
    ``force_merge()`` merges every partition into as few parts as it can (``/internal/force_merge``).
    """

    name = "victoriametrics"
    binary = "victoria-metrics"

    def __init__(self, *, retention: str = "100y", workdir: Path | None = None, keep: bool = False) -> None:
        super().__init__(workdir=workdir, keep=keep)
        self.retention = retention

    @property
    def data_dir(self) -> Path:
        return self.workdir / "storage"

    def _launch(self, log: int) -> subprocess.Popen[bytes]:
        exe = shutil.which(self.binary)
        if exe is None:
            raise PeerError(f"{self.binary} not found: install it (apt-get install victoria-metrics)")
        self.http_port = free_port()
        argv = [
            exe,
            f"-storageDataPath={self.data_dir}",
            f"-httpListenAddr={self.host}:{self.http_port}",
            f"-retentionPeriod={self.retention}",
            "-search.latencyOffset=0s",  # make just-written samples visible to queries at once
            "-loggerLevel=WARN",
        ]
        return subprocess.Popen(argv, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def _ready(self) -> bool:
        return bool(self.http_port) and _http_status(self.http_url("/health")) == 200

    def _internal(self, path: str, timeout: float) -> None:
        with urllib.request.urlopen(self.http_url(path), timeout=timeout) as resp:
            resp.read()

    def force_flush(self) -> None:
        self._internal("/internal/force_flush", 120)

    def force_merge(self) -> None:
        self._internal("/internal/force_merge", 600)

    @classmethod
    def version(cls) -> str:
        return _dpkg_version("victoria-metrics") or _first_line([cls.binary, "-version"])


class PostgresPeer(Peer):
    """PostgreSQL 15: ``initdb`` on a temporary directory, ``postgres`` on a free loopback port.

    Durability settings stay PostgreSQL's defaults (fsync on); ``settings`` adds or overrides ``-c``
    options. ``conninfo()`` gives a libpq connection string; the superuser is ``postgres`` with trust
    authentication; the Unix socket lives in the working directory only.
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown; SIGTERM would wait for clients to disconnect
    BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin",)

    def __init__(
        self,
        *,
        settings: dict[str, str] | None = None,
        workdir: Path | None = None,
        keep: bool = False,
    ) -> None:
        super().__init__(workdir=workdir, keep=keep)
        self.settings = {
            "max_connections": "100",
            "shared_buffers": "256MB",
            "timezone": "UTC",
            "max_wal_size": "4GB",
            "listen_addresses": self.host,
            **(settings or {}),
        }
        self.port = 0
        self._preexec: Callable[[], None] | None = None
        self._env: dict[str, str] = {}

    @property
    def data_dir(self) -> Path:
        return self.workdir / "pgdata"

    @classmethod
    def bin_dir(cls) -> Path | None:
        env = os.environ.get("PG_BIN")
        for cand in (env, *cls.BIN_CANDIDATES):
            if cand and (Path(cand) / "initdb").is_file() and (Path(cand) / "postgres").is_file():
                return Path(cand)
        found = shutil.which("postgres")
        return Path(found).resolve().parent if found and shutil.which("initdb") else None

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={dbname}"

    def _as_postgres_user(self) -> None:
        """As root, hand the working directory to the postgres (or nobody) user and run as it."""
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self._env.update(LC_ALL="C", HOME=str(self.workdir))
        if os.geteuid() != 0:
            return
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pw = pwd.getpwnam("nobody")
        uid, gid = pw.pw_uid, pw.pw_gid
        os.chown(self.workdir, uid, gid)
        if self.log_path.exists():
            os.chown(self.log_path, uid, gid)

        def demote() -> None:
            os.setgid(gid)
            os.setuid(uid)

        self._preexec = demote

    def _launch(self, log: int) -> subprocess.Popen[bytes]:
        bindir = self.bin_dir()
        if bindir is None:
            raise PeerError("PostgreSQL 15 not found: install it (apt-get install postgresql-15)")
        self._as_postgres_user()
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd=self.workdir, env=self._env, preexec_fn=self._preexec,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if init.returncode != 0:
            raise PeerError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        self.port = free_port()
        argv = [
            str(bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-k",
            str(self.workdir),
        ]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return subprocess.Popen(
            argv, cwd=self.workdir, env=self._env, preexec_fn=self._preexec,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip

    def _ready(self) -> bool:
        if not self.port:
            return False
        import psycopg

        try:
            psycopg.connect(self.conninfo(), connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> Any:  # a psycopg.Connection
        import psycopg

        return psycopg.connect(self.conninfo(dbname), autocommit=True, **kwargs)

    @classmethod
    def version(cls) -> str:
        bindir = cls.bin_dir()
        return _first_line([str(bindir / "postgres"), "--version"]) if bindir else "not installed"


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "not installed"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _dpkg_version(package: str) -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


PEERS: dict[str, type[Peer]] = {
    "tsgres": TsgresPeer,
    "influxdb": InfluxDB1Peer,
    "victoriametrics": VictoriaMetricsPeer,
    "postgres": PostgresPeer,
}


def peer_versions(names: list[str] | None = None) -> dict[str, str]:
    """Each peer's version without starting it (tsgres: ``tsgres version``)."""
    return {name: PEERS[name].version() for name in names or list(PEERS)}
