"""Fixtures every test package may use.

``tsgres_server`` starts the real ``python -m tsgres serve`` in a subprocess on ephemeral ports and
stops it by pid afterwards; the port comes from the line the server prints for each listener.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"^tsgres: (\w+) listening on (\[[^\]]+\]|[^:\s]+):(\d+)$")
START_TIMEOUT_S = 60.0  # a cold start imports numpy, pyarrow and duckdb on a 2-core CI machine


def pytest_configure(config: pytest.Config) -> None:
    # When a property fails, hypothesis imports libcst to suggest a patch, and libcst trips
    # mypy_extensions' DeprecationWarning; filterwarnings = error turns that into an INTERNALERROR
    # that aborts the whole run and hides the failure. The warning is not ours to fix.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


@pytest.fixture(autouse=True)
def _no_tsgres_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own TSGRES_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.startswith("TSGRES_"):
            monkeypatch.delenv(name)


def tsgres_env(**extra: str) -> dict[str, str]:
    """The environment for a tsgres subprocess: ours without TSGRES_*, with this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSGRES_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    data_dir: Path
    stderr_path: Path
    listeners: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def http_port(self) -> int:
        return self.listeners["http"][1]

    def http_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=15)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _read_lines(stream: object, lines: queue.Queue[str | None]) -> None:
    try:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line.rstrip("\n"))
    except (OSError, ValueError):  # stdout closed by kill() while we read
        pass
    lines.put(None)


def start_server(
    workdir: Path, *args: str, env: dict[str, str] | None = None, listening: tuple[str, ...] = ("http",)
) -> ServerProcess:
    """Start ``python -m tsgres serve ARGS`` in ``workdir`` and wait until the listeners named in
    ``listening`` (the HTTP one unless told) are bound.

    ``env`` adds variables to the test's own environment (less its TSGRES_* ones).
    """
    data_dir = workdir / "data"
    stderr_path = workdir / "tsgres.stderr.log"
    argv = [sys.executable, "-m", "tsgres", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
    argv += ["--http-port", "0", "--pg-port", "0", *args]
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=tsgres_env(**(env or {})),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    server = ServerProcess(proc, data_dir, stderr_path)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not all(name in server.listeners for name in listening):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"tsgres printed no {' and '.join(listening)} listener in {START_TIMEOUT_S}s"
                )
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"tsgres exited with {proc.wait()} before listening")
            match = LISTENING.match(line)
            if match:
                server.listeners.setdefault(match[1], (match[2].strip("[]"), int(match[3])))
    except BaseException as e:
        server.kill()
        raise RuntimeError(f"{e}\n--- tsgres stderr ---\n{server.stderr()}") from e
    return server


@pytest.fixture
def requires_engine() -> None:
    """Skip only while the storage engine module has not landed in this checkout."""
    import importlib.util

    if importlib.util.find_spec("columnar.engine") is None:
        pytest.skip("columnar/engine.py is not in this checkout yet")


@pytest.fixture
def tsgres_server(requires_engine: None, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """A factory: ``tsgres_server("--log-level", "debug")`` starts a server; all are killed at the end.

    Every server gets ``--data-dir <tmp>/data --host 127.0.0.1 --http-port 0 --pg-port 0`` first;
    later flags win.
    """
    started: list[ServerProcess] = []

    def start(
        *args: str, env: dict[str, str] | None = None, listening: tuple[str, ...] = ("http",)
    ) -> ServerProcess:
        server = start_server(tmp_path, *args, env=env, listening=listening)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def tsgres_run(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m tsgres ARGS`` to completion in a temporary directory; ``env=`` adds variables."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tsgres", *args],
            cwd=tmp_path,
            env=tsgres_env(**(env or {})),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
