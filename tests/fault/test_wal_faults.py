"""WAL under crashes and corruption: torn tails, flipped bytes, garbage, simulated power cuts, kill -9.

What every test here holds the WAL to: opening and replaying never raise on damaged files, never loop,
never return a record whose checksums do not match (every payload returned is exactly the one appended
with that seq), report what they skipped, and leave a log that accepts the next append.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import columnar.wal as wal_mod
from columnar.wal import RECORD_HEADER_SIZE, RECORD_MAGIC, SEGMENT_HEADER_SIZE, WAL, WALError, segment_name

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("wal_writer.py")
PAYLOADS = [b"alpha", b"", b"c" * 100, os.urandom(37), b"\xf5WLR" * 9, os.urandom(64)]


@pytest.fixture
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the loops that reopen a WAL hundreds of times: what they test does not need the disk flushed."""
    monkeypatch.setattr(wal_mod, "_fsync", lambda fd: None)


def write_log(directory: Path, payloads: list[bytes], **kwargs: object) -> list[int]:
    """Write ``payloads`` into a fresh WAL; return each record's end offset (one segment)."""
    with WAL(directory, fsync="off", **kwargs) as w:  # type: ignore[arg-type]
        for p in payloads:
            w.append(p)
    ends, off = [], SEGMENT_HEADER_SIZE
    for p in payloads:
        off += RECORD_HEADER_SIZE + len(p)
        ends.append(off)
    return ends


def reopen(
    directory: Path, fsync: str = "off", **kwargs: object
) -> tuple[list[tuple[int, bytes]], list[str], WAL]:
    w = WAL(directory, fsync=fsync, **kwargs)  # type: ignore[arg-type]
    return list(w.replay()), w.replay_report, w


def check_genuine(records: list[tuple[int, bytes]], originals: dict[int, bytes]) -> None:
    seqs = [s for s, _ in records]
    assert seqs == sorted(set(seqs)), "seqs must strictly increase"
    for seq, payload in records:
        assert originals.get(seq) == payload, f"seq {seq} is not what was appended"


# -- torn tails ----------------------------------------------------------------------------------------
def test_truncate_at_every_offset(tmp_path: Path, no_fsync: None) -> None:
    pristine = tmp_path / "pristine"
    ends = write_log(pristine, PAYLOADS)
    data = (pristine / segment_name(1)).read_bytes()
    assert len(data) == ends[-1]
    for cut in range(SEGMENT_HEADER_SIZE, len(data) + 1):
        d = tmp_path / f"cut{cut}"
        d.mkdir()
        (d / segment_name(1)).write_bytes(data[:cut])
        complete = sum(1 for e in ends if e <= cut)
        good_end = ends[complete - 1] if complete else SEGMENT_HEADER_SIZE
        records, report, w = reopen(d)
        with w:
            assert records == list(enumerate(PAYLOADS[:complete], start=1)), cut
            assert os.path.getsize(d / segment_name(1)) == good_end  # torn tail gone
            assert bool(report) == (cut != good_end)
            assert all("torn tail" in line for line in report)
            assert w.append(b"next") == complete + 1
        if cut % 5 == 0:  # (a sample: reopening twice per offset doubles the test's time)
            records, report, w = reopen(d)
            with w:
                assert records == [*enumerate(PAYLOADS[:complete], start=1), (complete + 1, b"next")]
                assert report == []
        shutil.rmtree(d)


def test_torn_tail_logs_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ends = write_log(tmp_path, PAYLOADS)
    with open(tmp_path / segment_name(1), "r+b") as f:
        f.truncate(ends[-1] - 3)
    with caplog.at_level(logging.WARNING, logger="columnar.wal"):
        WAL(tmp_path, fsync="off").close()
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "torn tail" in caplog.records[0].getMessage()


def test_zero_filled_tail_is_truncated(tmp_path: Path) -> None:
    """A crash can leave the file longer than what was written, the rest reading as zeros."""
    ends = write_log(tmp_path, PAYLOADS)
    with open(tmp_path / segment_name(1), "ab") as f:
        f.write(bytes(8192))
    records, report, w = reopen(tmp_path, fsync="always")
    with w:
        assert [p for _, p in records] == PAYLOADS
        assert os.path.getsize(tmp_path / segment_name(1)) == ends[-1]
        assert len(report) == 1


@pytest.mark.parametrize("cut", [0, 1, SEGMENT_HEADER_SIZE - 1])
def test_torn_segment_header_of_first_segment(tmp_path: Path, cut: int) -> None:
    write_log(tmp_path, PAYLOADS)
    with open(tmp_path / segment_name(1), "r+b") as f:
        f.truncate(cut)
    records, report, w = reopen(tmp_path)
    with w:
        assert records == []
        assert w.append(b"again") == 1  # segment 1 starts at seq 1: nothing is ambiguous
    assert (tmp_path / (segment_name(1) + ".corrupt")).exists()
    assert "moved to" in report[0]


def test_unreadable_sole_segment_with_unknown_sequence_refuses_to_open(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="off") as w:
        w.append(b"x")
        w.rotate()
        w.append(b"y")
        w.rotate()
        w.remove_through(2)
    assert sorted(os.listdir(tmp_path)) == [segment_name(3)]
    (tmp_path / segment_name(3)).write_bytes(b"\0" * 10)
    with pytest.raises(WALError, match="move it aside"):
        WAL(tmp_path)
    with WAL(tmp_path / "other"):  # the failed open leaked nothing (pytest turns leaks into errors)
        pass


def test_torn_tail_in_older_segment_is_reported_not_truncated(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="off") as w:
        for p in PAYLOADS[:3]:
            w.append(p)
        w.rotate()
        for p in PAYLOADS[3:]:
            w.append(p)
    first = tmp_path / segment_name(1)
    size = os.path.getsize(first)
    with open(first, "r+b") as f:
        f.truncate(size - 5)
    records, report, w = reopen(tmp_path)
    with w:
        assert [s for s, _ in records] == [1, 2, 4, 5, 6]
        assert os.path.getsize(first) == size - 5
        assert any("damaged bytes" in line for line in report)
        assert any("3..3 are missing" in line for line in report)


# -- flipped bytes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("segment_bytes", [10**6, 60], ids=["one-segment", "segment-per-record"])
def test_flip_every_byte_of_the_middle_record(tmp_path: Path, segment_bytes: int, no_fsync: None) -> None:
    payloads = [b"one", b"two" * 5, os.urandom(40), b"four", b"five" * 3]
    pristine = tmp_path / "pristine"
    write_log(pristine, payloads, segment_bytes=segment_bytes)
    files = {p.name: p.read_bytes() for p in pristine.iterdir()}
    if segment_bytes == 60:  # record k alone in segment k
        target, start = segment_name(3), SEGMENT_HEADER_SIZE
    else:
        target, start = segment_name(1), SEGMENT_HEADER_SIZE + 2 * RECORD_HEADER_SIZE + 3 + 15
    length = RECORD_HEADER_SIZE + 40
    for pos in range(start, start + length):
        for xor in (0x01, 0x80, 0xFF)[pos % 3 :][:2]:  # each byte twice, three bit patterns in turn
            d = tmp_path / "work"
            shutil.copytree(pristine, d)
            damaged = bytearray(files[target])
            damaged[pos] ^= xor
            (d / target).write_bytes(damaged)
            records, report, w = reopen(d, segment_bytes=segment_bytes)
            with w:
                assert [s for s, _ in records] == [1, 2, 4, 5], (pos, xor)
                check_genuine(records, dict(enumerate(payloads, start=1)))
                assert report, (pos, xor)
                assert w.append(b"six") == 6
            shutil.rmtree(d)


def test_corrupt_record_logs_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ends = write_log(tmp_path, PAYLOADS)
    damaged = bytearray((tmp_path / segment_name(1)).read_bytes())
    damaged[ends[2] - 1] ^= 0x10  # last payload byte of record 3
    (tmp_path / segment_name(1)).write_bytes(damaged)
    with caplog.at_level(logging.WARNING, logger="columnar.wal"), WAL(tmp_path, fsync="off") as w:
        assert [s for s, _ in w.replay()] == [1, 2, 4, 5, 6]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("payload checksum mismatch in record seq 3" in m for m in errors)
    assert any("3..3 are missing" in m for m in errors)


def test_flip_in_last_record_is_a_torn_tail(tmp_path: Path) -> None:
    ends = write_log(tmp_path, PAYLOADS)
    damaged = bytearray((tmp_path / segment_name(1)).read_bytes())
    damaged[ends[-2] + 10] ^= 0x01  # the seq field of the last record
    (tmp_path / segment_name(1)).write_bytes(damaged)
    records, report, w = reopen(tmp_path)
    with w:
        assert [p for _, p in records] == PAYLOADS[:-1]
        assert "torn tail" in report[0]
        assert w.append(b"x") == len(PAYLOADS)


@pytest.mark.parametrize("pos", range(SEGMENT_HEADER_SIZE))
def test_flip_in_segment_header_keeps_records(tmp_path: Path, pos: int) -> None:
    write_log(tmp_path, PAYLOADS)
    damaged = bytearray((tmp_path / segment_name(1)).read_bytes())
    damaged[pos] ^= 0x04
    (tmp_path / segment_name(1)).write_bytes(damaged)
    records, report, w = reopen(tmp_path)
    with w:
        assert [p for _, p in records] == PAYLOADS
        assert any("segment header" in line for line in report)
        assert w.append(b"x") == len(PAYLOADS) + 1


def test_newer_format_version_refuses_to_open(tmp_path: Path) -> None:
    write_log(tmp_path, PAYLOADS)
    head = wal_mod._SEGMENT_HEADER.pack(b"TSGWAL", 2, 1, 1, 0)
    data = bytearray((tmp_path / segment_name(1)).read_bytes())
    data[:SEGMENT_HEADER_SIZE] = head + wal_mod._U32.pack(wal_mod._crc(head))
    (tmp_path / segment_name(1)).write_bytes(data)
    with pytest.raises(WALError, match="version 2"):
        WAL(tmp_path)


# -- garbage -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "garbage",
    [os.urandom(500), RECORD_MAGIC * 200, (RECORD_MAGIC + bytes(20)) * 30, b"\xf5" * 300, bytes(4096)],
    ids=["random", "magics", "magic-headers", "magic-prefixes", "zeros"],
)
def test_garbage_between_records_is_skipped(tmp_path: Path, garbage: bytes) -> None:
    ends = write_log(tmp_path, PAYLOADS)
    data = (tmp_path / segment_name(1)).read_bytes()
    (tmp_path / segment_name(1)).write_bytes(data[: ends[2]] + garbage + data[ends[2] :])
    records, report, w = reopen(tmp_path)
    with w:
        assert [p for _, p in records] == PAYLOADS
        assert len(report) == 1 and f"skipped {len(garbage)} damaged bytes" in report[0]


def test_forged_record_with_stale_seq_is_skipped(tmp_path: Path) -> None:
    ends = write_log(tmp_path, PAYLOADS)
    data = (tmp_path / segment_name(1)).read_bytes()
    stale = wal_mod.encode_record(2, b"an old copy")  # intact, but not after seq 3
    (tmp_path / segment_name(1)).write_bytes(data[: ends[2]] + stale + data[ends[2] :])
    records, report, w = reopen(tmp_path)
    with w:
        assert [p for _, p in records] == PAYLOADS
        assert "not after seq 3" in report[0]


def test_scanning_a_large_damaged_file_is_fast(tmp_path: Path) -> None:
    """20 MB of garbage full of magic prefixes after every record: replay stays linear."""
    with WAL(tmp_path, fsync="off", segment_bytes=10**9) as w:
        for _ in range(50):
            w.append(os.urandom(1000))
    data = bytearray((tmp_path / segment_name(1)).read_bytes())
    junk = (b"\xf5WL" + b"\x00") * (20 * 2**20 // 4)  # almost a magic, everywhere
    (tmp_path / segment_name(1)).write_bytes(bytes(data[:-500]) + junk + bytes(data[-500:]))
    started = time.monotonic()
    records, report, w = reopen(tmp_path)
    w.close()
    assert len(records) == 49 and time.monotonic() - started < 5


# -- fuzz: any damage --------------------------------------------------------------------------------------
mutation = st.tuples(
    st.sampled_from(["flip", "truncate", "insert", "zero", "copy", "delete"]),
    st.integers(min_value=0),  # which file
    st.floats(min_value=0, max_value=1),  # where
    st.integers(min_value=1, max_value=200),  # how much
    st.binary(min_size=1, max_size=64),
)


def mutate(
    data: bytearray, kind: str, where: float, amount: int, blob: bytes, rng: random.Random
) -> bytearray:
    pos = min(int(where * len(data)), max(len(data) - 1, 0))
    if kind == "flip" and data:
        data[pos] ^= blob[0] or 1
    elif kind == "truncate":
        del data[pos:]
    elif kind == "insert":
        data[pos:pos] = blob
    elif kind == "zero":
        data[pos : pos + amount] = bytes(len(data[pos : pos + amount]))
    elif kind == "copy" and data:
        src = rng.randrange(len(data))
        chunk = data[src : src + amount]
        data[pos : pos + len(chunk)] = chunk
    elif kind == "delete":
        del data[pos : pos + amount]
    return data


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(st.binary(max_size=120), min_size=1, max_size=25),
    segment_bytes=st.integers(min_value=100, max_value=1500),
    mutations=st.lists(mutation, min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_fuzz_any_damage(payloads: list[bytes], segment_bytes: int, mutations: list, seed: int) -> None:
    originals = dict(enumerate(payloads, start=1))
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with WAL(d, fsync="off", segment_bytes=segment_bytes) as w:
            for p in payloads:
                w.append(p)
        files = sorted(d.glob("*.wal"))
        for kind, which, where, amount, blob in mutations:
            path = files[which % len(files)]
            path.write_bytes(mutate(bytearray(path.read_bytes()), kind, where, amount, blob, rng))
        with WAL(d, fsync="off", segment_bytes=segment_bytes) as w:
            records = list(w.replay())
            report = list(w.replay_report)
            check_genuine(records, originals)
            seqs = [s for s, _ in records]
            if seqs and len(seqs) != seqs[-1] - seqs[0] + 1:
                assert report, "records lost in the middle must be reported"
            if seqs and seqs[0] > 1:
                assert report, "records lost at the start must be reported"
            new = w.append(b"after")
            assert new > (seqs[-1] if seqs else 0)
            assert list(w.replay())[-1] == (new, b"after")


# -- simulated power cut: what was acknowledged was fsynced -----------------------------------------------
class PowerCut:
    """Replaces the WAL's fsync: remembers per file how many bytes an fsync has made durable, then
    'cuts the power' by throwing away everything after that (keeping a random part of it, some of it
    zeroed, as a disk might)."""

    def __init__(self) -> None:
        self.durable: dict[int, int] = {}
        self.live = True
        self._lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        if self.live:
            st_ = os.fstat(fd)  # all of it was written before this fsync started
            with self._lock:
                self.durable[st_.st_ino] = max(self.durable.get(st_.st_ino, 0), st_.st_size)

    def cut(self, directory: Path, rng: random.Random) -> None:
        self.live = False
        for path in directory.glob("*.wal"):
            data = bytearray(path.read_bytes())
            keep = self.durable.get(path.stat().st_ino, 0)
            survived = keep + rng.randint(0, len(data) - keep)
            if survived > keep and rng.random() < 0.5:
                a = rng.randint(keep, survived - 1)
                b = rng.randint(a, survived)
                data[a:b] = bytes(b - a)
            path.write_bytes(data[:survived])


@pytest.mark.parametrize("policy", ["always", "interval"])
@pytest.mark.parametrize("seed", range(6))
def test_power_cut_keeps_acknowledged_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str, seed: int
) -> None:
    power = PowerCut()
    monkeypatch.setattr(wal_mod, "_fsync", power)
    appended: dict[int, bytes] = {}
    acked: set[int] = set()
    lock = threading.Lock()
    w = WAL(tmp_path, fsync=policy, interval_ms=1, segment_bytes=4096)

    def work(t: int) -> None:
        rng = random.Random(seed * 100 + t)
        for i in range(60):
            payload = rng.randbytes(rng.choice([0, 10, 300, 1500, 5000]))
            sync = rng.random() < 0.8
            seq = w.append(payload, sync=sync)
            with lock:
                appended[seq] = payload
                if sync:
                    acked.add(seq)
            if t == 0 and i % 20 == 19:
                w.rotate()

    pool = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    power.cut(tmp_path, random.Random(seed))  # before close() syncs the rest
    w.close()
    with WAL(tmp_path, fsync=policy) as w2:
        records = list(w2.replay())
        check_genuine(records, appended)
        missing = acked - {s for s, _ in records}
        assert not missing, f"acknowledged records lost: {sorted(missing)[:10]}"
        assert w2.append(b"after") > max(s for s, _ in records)


# -- kill -9 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["always", "interval", "off"])
def test_kill_9_keeps_acknowledged_records(tmp_path: Path, policy: str) -> None:
    wal_dir = tmp_path / "wal"
    acks = tmp_path / "acks.txt"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    with open(acks, "wb") as out, open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(wal_dir), policy, "4"],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while acks.stat().st_size == 0:  # writing has started
            assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "the writer acknowledged nothing"
            time.sleep(0.01)
        time.sleep(1.0)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    acked: dict[int, str] = {}
    for line in acks.read_text().splitlines(keepends=True):
        if line.endswith("\n"):  # the kill may cut the last line short
            seq_text, digest = line.split()
            acked[int(seq_text)] = digest
    assert len(acked) > 50

    with WAL(wal_dir, fsync=policy) as w:
        records = list(w.replay())
        report = list(w.replay_report)
        assert w.append(b"after") == w.last_seq
    found = {seq: hashlib.sha256(payload).hexdigest() for seq, payload in records}
    for seq, digest in acked.items():
        assert found.get(seq) == digest, f"acknowledged seq {seq} lost or changed"
    seqs = [s for s, _ in records]
    assert seqs == list(range(1, len(seqs) + 1))  # a process kill loses at most the record in flight
    assert all("torn tail" in line for line in report), report
