"""Write-ahead log: round trips, concurrency, fsync policies, rotation, reopen, limits."""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import columnar.wal as wal_mod
from columnar.wal import RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, WAL, WALError, encode_record, segment_name

POLICIES = ["always", "interval", "off"]


def segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".wal"))


def replayed(directory: Path, **kwargs: object) -> list[tuple[int, bytes]]:
    with WAL(directory, **kwargs) as w:  # type: ignore[arg-type]
        return list(w.replay())


class FsyncSpy:
    """Stands in for the WAL's fsync: records the file size each fsync covered, per inode."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.synced: dict[int, int] = {}
        self.delay = delay
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        if self.gate is not None:
            assert self.gate.wait(10), "fsync gate never opened"
        if self.delay:
            time.sleep(self.delay)
        st_ = os.fstat(fd)
        with self._lock:
            self.calls += 1
            self.synced[st_.st_ino] = max(self.synced.get(st_.st_ino, 0), st_.st_size)

    def covers(self, path: Path) -> bool:
        st_ = os.stat(path)
        return self.synced.get(st_.st_ino, -1) >= st_.st_size


@pytest.fixture
def monkeypatch_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """fsync becomes a no-op: the code paths of each policy run, the disk is not waited on."""
    monkeypatch.setattr(wal_mod, "_fsync", lambda fd: None)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> FsyncSpy:
    s = FsyncSpy()
    monkeypatch.setattr(wal_mod, "_fsync", s)
    return s


# -- round trips ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_round_trip(tmp_path: Path, policy: str) -> None:
    payloads = [b"", b"x", os.urandom(1000), b"\xf5WLR" * 50, os.urandom(200_000)]
    with WAL(tmp_path, fsync=policy) as w:
        assert w.last_seq == 0
        seqs = [w.append(p) for p in payloads]
        assert seqs == [1, 2, 3, 4, 5]
        assert w.last_seq == 5
        assert list(w.replay()) == list(zip(seqs, payloads, strict=True))  # readable while open
    assert replayed(tmp_path, fsync=policy) == list(zip(seqs, payloads, strict=True))


def test_file_bytes_match_documented_layout(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="off") as w:
        w.append(b"hello")
        w.append(b"")
    data = (tmp_path / segment_name(1)).read_bytes()
    assert data[:6] == b"TSGWAL"
    assert int.from_bytes(data[6:8], "little") == 1  # version
    assert int.from_bytes(data[8:16], "little") == 1  # segment id
    assert int.from_bytes(data[16:24], "little") == 1  # first seq
    assert data[SEGMENT_HEADER_SIZE:] == encode_record(1, b"hello") + encode_record(2, b"")
    rec = data[SEGMENT_HEADER_SIZE:]
    assert rec[:4] == b"\xf5WLR"
    assert int.from_bytes(rec[4:8], "little") == 5
    assert int.from_bytes(rec[8:16], "little") == 1
    assert rec[RECORD_HEADER_SIZE : RECORD_HEADER_SIZE + 5] == b"hello"


def test_bytes_like_payloads(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="off") as w:
        w.append(bytearray(b"abc"))
        w.append(memoryview(b"defg"))
        with pytest.raises(TypeError):
            w.append("text")  # type: ignore[arg-type]
        assert [p for _, p in w.replay()] == [b"abc", b"defg"]


# -- concurrency ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_concurrent_appends(tmp_path: Path, policy: str) -> None:
    threads, per_thread = 8, 150
    got: dict[int, bytes] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    with WAL(tmp_path, fsync=policy, interval_ms=1, segment_bytes=16 * 1024) as w:

        def work(t: int) -> None:
            try:
                for i in range(per_thread):
                    payload = f"{t}:{i}:".encode() * (1 + (i * 7 + t) % 40)
                    seq = w.append(payload, sync=i % 5 != 0)
                    with lock:
                        assert seq not in got
                        got[seq] = payload
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
    assert not errors
    assert sorted(got) == list(range(1, threads * per_thread + 1))
    assert len(segments(tmp_path)) > 3  # rotated under concurrency
    assert dict(replayed(tmp_path)) == got
    assert [s for s, _ in replayed(tmp_path)] == sorted(got)


def test_replay_while_appending_sees_a_clean_prefix(tmp_path: Path) -> None:
    stop = threading.Event()
    with WAL(tmp_path, fsync="off", segment_bytes=8192) as w:

        def writer() -> None:
            i = 0
            while not stop.is_set() and i < 20_000:
                w.append(b"%d" % i * 50)
                i += 1

        th = threading.Thread(target=writer)
        th.start()
        try:
            for _ in range(20):
                records = list(w.replay())
                assert w.replay_report == []  # the record being written is never taken for damage
                assert [s for s, _ in records] == list(range(1, len(records) + 1))
                assert all(p == b"%d" % (s - 1) * 50 for s, p in records)
        finally:
            stop.set()
            th.join()


def test_always_shares_fsyncs_between_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = FsyncSpy(delay=0.003)  # a slow disk, so appends pile up behind each fsync
    monkeypatch.setattr(wal_mod, "_fsync", spy)
    rounds: list[float] = []
    with WAL(tmp_path, fsync="always", on_fsync=rounds.append) as w:
        created = spy.calls  # the segment header
        pool = [threading.Thread(target=lambda: [w.append(b"r" * 100) for _ in range(20)]) for _ in range(10)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        assert w.last_seq == 200
        data_fsyncs = spy.calls - created
    assert data_fsyncs < 120, data_fsyncs  # shared: far fewer than one per append
    assert len(rounds) == data_fsyncs  # each round reports its latency (close() found nothing unsynced)
    assert all(isinstance(r, float) and r >= 0.003 for r in rounds)


# -- fsync policies ------------------------------------------------------------------------------------
def test_always_acknowledges_only_after_fsync(tmp_path: Path, spy: FsyncSpy) -> None:
    with WAL(tmp_path, fsync="always") as w:
        for i in range(20):
            w.append(os.urandom(i * 100))
            assert spy.covers(tmp_path / segment_name(1))


def test_interval_acknowledges_only_after_fsync(tmp_path: Path, spy: FsyncSpy) -> None:
    with WAL(tmp_path, fsync="interval", interval_ms=2) as w:
        for i in range(20):
            w.append(os.urandom(i * 100))
            assert spy.covers(tmp_path / segment_name(1))


def test_interval_batches_concurrent_writers_into_few_fsyncs(tmp_path: Path, spy: FsyncSpy) -> None:
    with WAL(tmp_path, fsync="interval", interval_ms=300) as w:
        w.append(b"first")  # idle WAL: synced at once, and an interval starts
        before = spy.calls
        spy.gate = threading.Event()  # the next round blocks in fsync while the others append

        def append() -> None:
            w.append(b"x" * 10)

        first = threading.Thread(target=append)
        first.start()  # a lone writer: its round starts at once, and blocks
        time.sleep(0.05)
        pool = [threading.Thread(target=append) for _ in range(19)]
        for th in pool:
            th.start()
        time.sleep(0.1)  # (all nineteen written and waiting)
        opened = time.monotonic()
        spy.gate.set()
        for th in [first, *pool]:
            th.join()
        elapsed = time.monotonic() - opened
        assert spy.calls - before <= 3  # the nineteen shared a round (two if they straddled one)
        assert elapsed >= 0.1  # several waiting: that round waited for the interval to end


def test_interval_syncs_a_lone_writer_at_once(tmp_path: Path, spy: FsyncSpy) -> None:
    """A client writing record after record, each waited for, is not held for the interval: each
    statement would take the interval (a one-row INSERT after another: ~5 ms each at 5 ms)."""
    with WAL(tmp_path, fsync="interval", interval_ms=300) as w:
        started = time.monotonic()
        for k in range(5):
            w.append(b"row %d" % k)
        assert time.monotonic() - started < 0.3  # (5 x 300 ms before)
        assert spy.covers(tmp_path / segment_name(1))


def test_no_sync_returns_before_fsync(tmp_path: Path, spy: FsyncSpy) -> None:
    with WAL(tmp_path, fsync="interval", interval_ms=1) as w:
        spy.gate = threading.Event()  # fsync blocks until the gate opens
        seq = w.append(b"fast", sync=False)  # does not wait
        assert seq == 1
        done = threading.Event()

        def synced_append() -> None:
            w.append(b"slow")
            done.set()

        slow = threading.Thread(target=synced_append)
        slow.start()
        assert not done.wait(0.1)  # a synced append waits for the blocked fsync
        spy.gate.set()
        assert done.wait(5)
        slow.join()
    assert [p for _, p in replayed(tmp_path, fsync="off")] == [b"fast", b"slow"]


def test_off_never_fsyncs_until_close(tmp_path: Path, spy: FsyncSpy) -> None:
    with WAL(tmp_path, fsync="off", segment_bytes=1000) as w:
        for _ in range(50):
            w.append(b"y" * 100)
        assert spy.calls == 0
        assert len(segments(tmp_path)) > 3
    assert spy.calls == 1  # close()


def test_always_no_sync_is_covered_by_next_round(tmp_path: Path, spy: FsyncSpy) -> None:
    with WAL(tmp_path, fsync="always") as w:
        w.append(b"a", sync=False)
        assert not spy.covers(tmp_path / segment_name(1))
        w.append(b"b")
        assert spy.covers(tmp_path / segment_name(1))


@pytest.mark.parametrize("policy", ["always", "interval"])
def test_sync_to_waits_like_a_synced_append(tmp_path: Path, spy: FsyncSpy, policy: str) -> None:
    with WAL(tmp_path, fsync=policy, interval_ms=50) as w:
        spy.gate = threading.Event()
        seq = w.append(b"later", sync=False)
        done = threading.Event()

        def wait_for_it() -> None:
            w.sync_to(seq)
            done.set()

        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        assert not done.wait(0.1)  # fsync is held up, so sync_to is too
        spy.gate.set()
        assert done.wait(5)
        waiter.join()
        assert spy.covers(tmp_path / segment_name(1))
        with pytest.raises(ValueError, match="last seq appended is 1"):
            w.sync_to(2)  # would never be synced: refuse rather than hang
        w.sync_to(0)


@pytest.mark.parametrize(
    "kwargs", [{"fsync": "sometimes"}, {"fsync": "Always"}, {"interval_ms": 0}, {"segment_bytes": 0}]
)
def test_bad_options_raise(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WAL(tmp_path, **kwargs)  # type: ignore[arg-type]
    with WAL(tmp_path):  # and the failed attempt left the directory usable
        pass


# -- rotation and removal ------------------------------------------------------------------------------
def test_rotation_by_size(tmp_path: Path) -> None:
    record = RECORD_HEADER_SIZE + 100
    with WAL(tmp_path, fsync="off", segment_bytes=SEGMENT_HEADER_SIZE + 3 * record) as w:
        for _ in range(10):
            w.append(b"z" * 100)
    names = segments(tmp_path)
    assert names == [segment_name(i) for i in (1, 2, 3, 4)]  # 3 + 3 + 3 + 1 records
    assert [os.path.getsize(tmp_path / n) for n in names] == [
        SEGMENT_HEADER_SIZE + k * record for k in (3, 3, 3, 1)
    ]
    assert [s for s, _ in replayed(tmp_path)] == list(range(1, 11))


def test_rotate_and_remove_through(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="always") as w:
        for i in range(1, 4):
            w.append(b"a%d" % i)
        assert w.rotate() == 1
        for i in range(4, 7):
            w.append(b"a%d" % i)
        assert w.rotate() == 2
        w.append(b"a7")
        assert segments(tmp_path) == [segment_name(i) for i in (1, 2, 3)]

        w.remove_through(2)  # segment 1 still holds seq 3
        assert segments(tmp_path) == [segment_name(i) for i in (1, 2, 3)]
        w.remove_through(3)
        assert segments(tmp_path) == [segment_name(i) for i in (2, 3)]
        assert [s for s, _ in w.replay()] == [4, 5, 6, 7]
        w.remove_through(100)  # never the current segment
        assert segments(tmp_path) == [segment_name(3)]
        assert list(w.replay()) == [(7, b"a7")]
        w.append(b"a8")
    assert replayed(tmp_path) == [(7, b"a7"), (8, b"a8")]


def test_remove_through_after_reopen_uses_headers(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="off", segment_bytes=200) as w:
        for _ in range(20):
            w.append(b"q" * 60)  # two per segment
    with WAL(tmp_path, fsync="off", segment_bytes=200) as w:
        w.remove_through(9)
        assert [s for s, _ in w.replay()][0] == 9  # segment of 9 and 10 kept
        w.remove_through(10)
        assert [s for s, _ in w.replay()][0] == 11


def test_empty_rotations(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="always") as w:
        assert w.rotate() == 1
        assert w.rotate() == 2
        w.remove_through(0)  # empty closed segments hold nothing above 0
        assert segments(tmp_path) == [segment_name(3)]
        assert w.append(b"x") == 1


# -- reopen ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_reopen_continues_sequence(tmp_path: Path, policy: str) -> None:
    with WAL(tmp_path, fsync=policy) as w:
        for _ in range(5):
            w.append(b"one")
    with WAL(tmp_path, fsync=policy) as w:
        assert w.last_seq == 5
        assert w.append(b"two") == 6
    assert [s for s, _ in replayed(tmp_path)] == [1, 2, 3, 4, 5, 6]


def test_reopen_after_everything_removed_keeps_sequence(tmp_path: Path) -> None:
    with WAL(tmp_path, fsync="always") as w:
        for _ in range(5):
            w.append(b"x")
        w.rotate()
        w.remove_through(5)
        assert segments(tmp_path) == [segment_name(2)]
    with WAL(tmp_path) as w:
        assert w.last_seq == 5  # from the empty segment's header
        assert list(w.replay()) == []
        assert w.append(b"y") == 6


def test_reopen_without_appends_creates_no_files(tmp_path: Path) -> None:
    with WAL(tmp_path) as w:
        w.append(b"x")
    for _ in range(5):
        with WAL(tmp_path):
            pass
    assert segments(tmp_path) == [segment_name(1), segment_name(2)]
    assert replayed(tmp_path) == [(1, b"x")]


def test_directory_is_locked(tmp_path: Path) -> None:
    with WAL(tmp_path):
        with pytest.raises(WALError, match="in use"):
            WAL(tmp_path)
    with WAL(tmp_path):  # released by close
        pass


def test_closed_wal_refuses_writes(tmp_path: Path) -> None:
    w = WAL(tmp_path)
    w.append(b"x")
    w.close()
    w.close()
    with pytest.raises(WALError, match="closed"):
        w.append(b"y")
    with pytest.raises(WALError):
        w.rotate()
    assert list(w.replay()) == [(1, b"x")]


def test_ignores_other_files_and_removes_stale_tmp(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("not a segment")
    (tmp_path / f"{segment_name(7)}.tmp").write_bytes(b"half a header")
    with WAL(tmp_path) as w:
        w.append(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [segment_name(1), "README"]


# -- limits ----------------------------------------------------------------------------------------------
def test_records_larger_than_a_segment(tmp_path: Path) -> None:
    big = [os.urandom(5000), b"small", os.urandom(7000), os.urandom(6000)]
    with WAL(tmp_path, fsync="always", segment_bytes=1024) as w:
        for p in big:
            w.append(p)
    names = segments(tmp_path)
    assert len(names) == 4  # one record per segment
    assert [p for _, p in replayed(tmp_path, segment_bytes=1024)] == big


def test_payload_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wal_mod, "MAX_PAYLOAD", 10)  # the real limit (4 GiB - 1) is too big to test
    with WAL(tmp_path, fsync="off") as w:
        w.append(b"x" * 10)
        with pytest.raises(ValueError, match="exceeds"):
            w.append(b"x" * 11)
        assert w.last_seq == 1


# -- I/O errors -------------------------------------------------------------------------------------------
def test_failed_write_leaves_log_consistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_writev = os.writev
    with WAL(tmp_path, fsync="always") as w:
        w.append(b"before")

        def short_then_enospc(fd: int, buffers: list[bytes]) -> int:
            os.write(fd, bytes(buffers[0][:10]))  # a partial record reaches the file
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(wal_mod.os, "writev", short_then_enospc)
        with pytest.raises(WALError, match="No space"):
            w.append(b"lost")
        monkeypatch.setattr(wal_mod.os, "writev", real_writev)
        assert w.append(b"after") == 2  # the failed append used no seq
    assert replayed(tmp_path) == [(1, b"before"), (2, b"after")]


def test_failed_fsync_makes_wal_unusable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = WAL(tmp_path, fsync="always")
    w.append(b"ok")

    def eio(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wal_mod, "_fsync", eio)
    with pytest.raises(WALError, match="fsync failed"):
        w.append(b"maybe")
    with pytest.raises(WALError, match="unusable"):
        w.append(b"never")
    w.close()  # closes files without hanging or raising
    monkeypatch.undo()
    assert [s for s, _ in replayed(tmp_path)] == [1, 2]  # "maybe" was written, just not known durable


# -- property ----------------------------------------------------------------------------------------------
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    sessions=st.lists(st.lists(st.binary(max_size=300), max_size=15), min_size=1, max_size=3),
    segment_bytes=st.integers(min_value=1, max_value=2000),
    policy=st.sampled_from(["always", "off"]),
)
def test_property_round_trip(
    monkeypatch_fsync: None, sessions: list[list[bytes]], segment_bytes: int, policy: str
) -> None:
    """Payloads written over several sessions come back complete, in order, with contiguous seqs."""
    expected: list[bytes] = []
    with tempfile.TemporaryDirectory() as d:
        for payloads in sessions:
            with WAL(d, fsync=policy, segment_bytes=segment_bytes) as w:
                assert [p for _, p in w.replay()] == expected
                assert w.replay_report == []
                for p in payloads:
                    assert w.append(p) == len(expected) + 1
                    expected.append(p)
        assert replayed(Path(d), segment_bytes=segment_bytes) == list(enumerate(expected, start=1))
