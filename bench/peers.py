"""Peer runners: start a database server in a temporary directory on free ports, stop it by pid.

Every runner is a :class:`Peer`: ``start()`` launches the server and waits until it answers,
``stop()`` ends it (SIGTERM, then SIGKILL after a grace period) and removes its directory, and
``pid`` / ``http_url(path)`` let benchmarks reach it and watch it. Runners are context managers::

    with TsgresPeer() as peer:
        requests go to peer.http_url("/write?db=bench")

A new peer (VictoriaMetrics, PostgreSQL, ...) is a subclass that implements :meth:`Peer._launch`
(return the Popen) and :meth:`Peer._ready` (True once it serves), plus a line in :data:`PEERS`.
"""

from __future__ import annotations

import os
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
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_LISTENING = re.compile(rb"^tsgres: http listening on \S+:(\d+)$", re.M)


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

    def start(self) -> Peer:
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
                self.proc.send_signal(signal.SIGTERM)
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

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Peer:
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
        workdir: Path | None = None,
        keep: bool = False,
    ) -> None:
        super().__init__(workdir=workdir, keep=keep)
        self.wal_fsync_delay = wal_fsync_delay
        self.index = index

    def config_text(self) -> str:
        d = self.workdir
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

    def _launch(self, log: int) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TSGRES_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env)
        argv = [sys.executable, "-m", "tsgres", "serve", "--data-dir", str(self.workdir / "data")]
        argv += ["--host", self.host, "--http-port", "0", "--pg-port", "0", *self.args]
        return subprocess.Popen(
            argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )

    def _ready(self) -> bool:
        if not self.http_port:  # the server prints the port it bound once it listens
            match = _LISTENING.search(self.log_path.read_bytes())
            if match is None:
                return False
            self.http_port = int(match[1])
        return super()._ready()


PEERS: dict[str, type[Peer]] = {"tsgres": TsgresPeer, "influxdb": InfluxDB1Peer}
