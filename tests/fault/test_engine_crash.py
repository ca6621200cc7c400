"""kill -9 of a process writing through the engine: every acknowledged point survives reopening,
also while snapshots and compactions run in the background of the killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from columnar.engine import Engine
from columnar.options import EngineOptions
from columnar.scan import ScanRequest, read_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("policy", ["always", "interval"])
def test_every_acknowledged_write_survives_kill_9(tmp_path, policy):
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("engine_writer.py")), str(tmp_path / "d"), policy],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
    )
    acked: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 200 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # lines written before the kill were acknowledged too
        acked += [int(x) for x in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
    assert len(acked) >= 200, err
    with Engine.open(tmp_path / "d", EngineOptions(compaction_interval_s=0)) as e:
        tbl = read_table(e, ScanRequest("postgres", "m"))
        times = np.sort(tbl["time"].cast("int64").to_numpy())
        values = tbl["v"].to_numpy()
    want = np.concatenate([np.arange(i * 50, (i + 1) * 50) for i in acked])
    assert np.isin(want, times).all(), f"{(~np.isin(want, times)).sum()} acknowledged points lost"
    assert len(np.unique(times)) == len(times)
    assert set(np.unique(values)) >= {float(i) for i in acked}


@pytest.mark.parametrize("policy", ["always", "interval"])
def test_tag_renames_survive_kill_9(tmp_path, policy):
    """Renames among writes, snapshots and compactions: after the kill every acknowledged point is
    there, in one of the three series (written under every name the tag had), under the last name
    acknowledged (or the next one, when the kill came after its commit but before its answer)."""
    lines, err = _kill_renaming(tmp_path, policy)
    acked = [int(x.split()[1]) for x in lines if x.startswith("W")]
    renamed = max([int(x.split()[1]) for x in lines if x.startswith("R")], default=0)
    assert renamed >= 12, err
    with Engine.open(tmp_path / "d", EngineOptions(compaction_interval_s=0)) as e:
        meta = e.table(1, "autogen", "m")
        assert [c.name for c in meta.columns if c.kind == "tag"] in ([f"k{renamed}"], [f"k{renamed + 1}"])
        key = meta.tags[0]
        assert e.index(1).tag_keys("m") == [key]
        assert e.index(1).series_count("m") == 3
        tbl = read_table(e, ScanRequest("postgres", "m"))
        times = tbl["time"].cast("int64").to_numpy()
        hosts = tbl[key].cast("string").to_numpy(zero_copy_only=False)
    want = np.concatenate([np.arange(i * 50, (i + 1) * 50) for i in acked])
    assert np.isin(want, times).all(), f"{(~np.isin(want, times)).sum()} acknowledged points lost"
    assert len(np.unique(times)) == len(times)
    assert (hosts == np.array([f"h{(t // 50) % 3}" for t in times])).all()


@pytest.mark.parametrize("policy", ["always", "interval"])
def test_table_renames_survive_kill_9(tmp_path, policy):
    """Table renames among writes (to it, and concurrently to another table), snapshots and
    compactions: after the kill every acknowledged point is there, in one of the table's three
    series (written under every name it had), under the last name acknowledged (or the next one,
    when the kill came after its commit but before its answer); no old name keeps a series."""
    lines, err = _kill_renaming(tmp_path, policy, "table")
    acked = [int(x.split()[1]) for x in lines if x.startswith("W")]
    others = [int(x.split()[1]) for x in lines if x.startswith("O")]
    renamed = max([int(x.split()[1]) for x in lines if x.startswith("R")], default=0)
    assert renamed >= 12, err
    with Engine.open(tmp_path / "d", EngineOptions(compaction_interval_s=0)) as e:
        names = [t.name for t in e.tables("postgres")]
        name = f"m{renamed}" if f"m{renamed}" in names else f"m{renamed + 1}"
        assert sorted(names) == sorted([name, "other"])
        assert e.index(1).tables() == sorted([name, "other"])
        assert e.index(1).series_count(name) == 3
        assert e.index(1).series_count("other") == 2
        tbl = read_table(e, ScanRequest("postgres", name))
        times = tbl["time"].cast("int64").to_numpy()
        hosts = tbl["k0"].cast("string").to_numpy(zero_copy_only=False)
        other = read_table(e, ScanRequest("postgres", "other"))["time"].cast("int64").to_numpy()
    want = np.concatenate([np.arange(i * 50, (i + 1) * 50) for i in acked])
    assert np.isin(want, times).all(), f"{(~np.isin(want, times)).sum()} acknowledged points lost"
    assert len(np.unique(times)) == len(times)
    assert (hosts == np.array([f"h{(t // 50) % 3}" for t in times])).all()
    want = np.concatenate([np.arange(i * 20, (i + 1) * 20) for i in others] or [np.zeros(0, np.int64)])
    assert np.isin(want, other).all(), f"{(~np.isin(want, other)).sum()} acknowledged points of other lost"


def _kill_renaming(tmp_path: Path, policy: str, *mode: str) -> tuple[list[str], str]:
    """rename_writer.py (``mode``: "table" renames the table, else a tag) killed with SIGKILL after its
    12th acknowledged rename: the lines it printed (W: a write acknowledged, R: a rename, O: a write
    to the other table) and its stderr."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("rename_writer.py")),
            str(tmp_path / "d"),
            policy,
            *mode,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while sum(x.startswith("R") for x in lines) < 12 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        lines += proc.stdout.read().splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
    return lines, err
