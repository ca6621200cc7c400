"""Write-ahead log: numbered segment files of checksummed, sequence-numbered records.

The engine appends each write batch (Arrow IPC bytes; opaque here) before it touches the memtable and
acknowledges the client only once the record is as durable as the fsync policy promises. On start it
replays every intact record in sequence order, and once a memtable is flushed to chunk files it drops
the segments the flush made redundant (:meth:`WAL.remove_through`).

Directory: ``<segment id, 20 digits>.wal``, ids 1, 2, 3, ... never reused. Appends go to the newest
segment only. Another file name is ignored, except leftovers of an interrupted segment creation
(``*.wal.tmp``, deleted on open) and segments set aside as unreadable (``*.wal.corrupt``, kept for the
operator). The directory is ``flock``-ed while open, so a second WAL on it fails instead of interleaving.

Segment header, 32 bytes, little endian::

    offset  size  field
    0       6     magic b"TSGWAL"
    6       2     format version, uint16 = 1
    8       8     segment id, uint64 (equals the number in the file name)
    16      8     first_seq, uint64: the seq the segment's first record gets (last seq before it + 1)
    24      4     reserved, zero
    28      4     CRC32C (Castagnoli) of bytes 0..28

Record, 24-byte header then the payload, little endian, records back to back from offset 32::

    offset  size  field
    0       4     magic b"\\xf5WLR" (0xF5 never occurs in UTF-8 text, so text payloads rarely hold one)
    4       4     payload length n, uint32
    8       8     seq, uint64: 1, 2, 3, ... across segments, strictly increasing, no gaps
    16      4     CRC32C of the payload
    20      4     CRC32C of bytes 0..20 (magic, length, seq and the payload CRC)
    24      n     payload

How a reader decides what is intact: a record starts at a magic whose header CRC matches and whose seq
is above the previous record's; it is intact when its payload CRC matches too. Because the header CRC
covers the length, a header that checks out is trusted to say where the record ends, so a record whose
payload is damaged is skipped by its length. A header that does not check out (a damaged magic,
length, seq or CRC field) gives no length to trust: the reader searches forward (``bytes.find``) for the
next magic that starts an intact record. Every step moves forward, so a scan ends on any input, and
nothing is returned whose two CRCs do not both match.

Recovery, done by the constructor (so :meth:`WAL.replay` only reads): damaged bytes after the last
intact record of the newest segment are a torn tail (a write cut short by a crash); the file is
truncated to the end of that record, with a ``logging.warning``. Damage anywhere else is reported by
:meth:`WAL.replay` (``logging.error`` and :attr:`WAL.replay_report`) and skipped; later records are kept.
Sequence numbers continue after the last intact record (or, for an empty newest segment, from its
header's ``first_seq``, which survives :meth:`WAL.remove_through` deleting every older segment).

Durability (``fsync=``), for ``append(payload, sync=True)``:

- ``"always"``: returns once an fsync issued after the record was written has completed. Appenders
  share fsyncs (group commit): one thread at a time runs an fsync round covering every record written
  before it starts; appenders whose record it covers return with it, the next one leads the next round.
- ``"interval"``: a flusher thread runs the rounds, at most one every ``interval_ms`` while writes
  come from several writers at once (so a round covers many of them), and only when something is
  unsynced; append waits for the round covering its record. An idle WAL wakes nobody. A lone writer,
  one record unsynced and nobody else waiting, after a round that covered one record (a client
  inserting row after row, a single loader), is synced at once: waiting out the interval would make
  each of its statements take the interval (~5-7 ms per one-row INSERT, against PostgreSQL's
  ~0.3 ms) and batch nothing.
- ``"off"``: returns once the record is written to the OS (survives the process, not the machine).

``sync=False`` returns after the write whatever the policy (InfluxDB v3 ``no_sync=true``);
:meth:`WAL.sync_to` waits for it later, as ``sync=True`` would have. Otherwise the record is synced by
the flusher (``"interval"``) or by the next round anybody leads (``"always"``). Except with
``"off"``, a segment is synced before the next one is created, so only the newest segment can end in a
torn write. :meth:`WAL.close` always fsyncs.

An fsync that fails leaves the WAL unusable (every later append raises :class:`WALError`): after a
failed fsync the kernel may have dropped the dirty pages, so retrying could report success for data
that is gone. Close it and open it again; recovery reads what really is on disk.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import google_crc32c

from columnar.errors import StorageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no directory lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

SEGMENT_MAGIC = b"TSGWAL"
SEGMENT_VERSION = 1
SEGMENT_HEADER_SIZE = 32
RECORD_MAGIC = b"\xf5WLR"
RECORD_HEADER_SIZE = 24
MAX_PAYLOAD = 2**32 - 1
FSYNC_POLICIES = ("always", "interval", "off")

_SEGMENT_HEADER = struct.Struct("<6sHQQI")  # bytes 0..28, then the CRC
_RECORD_HEADER = struct.Struct("<4sIQI")  # bytes 0..20, then the header CRC
_U32 = struct.Struct("<I")
_SEGMENT_NAME = re.compile(r"^(\d{20})\.wal$")
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

# One seam for fault tests: every fsync of segment data goes through here.
_fsync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)

_crc = google_crc32c.value


class WALError(StorageError):
    """The WAL cannot do what was asked: closed, failed fsync or write, directory in use, bad format."""


def segment_name(segment_id: int) -> str:
    return f"{segment_id:020d}.wal"


def encode_segment_header(segment_id: int, first_seq: int) -> bytes:
    head = _SEGMENT_HEADER.pack(SEGMENT_MAGIC, SEGMENT_VERSION, segment_id, first_seq, 0)
    return head + _U32.pack(_crc(head))


def encode_record(seq: int, payload: bytes) -> bytes:
    """One record's bytes (header + payload). The WAL writes header and payload without joining them."""
    return _record_header(seq, payload, _crc(payload)) + payload


def _record_header(seq: int, payload: bytes, payload_crc: int) -> bytes:
    head = _RECORD_HEADER.pack(RECORD_MAGIC, len(payload), seq, payload_crc)
    return head + _U32.pack(_crc(head))


@dataclass(frozen=True, slots=True)
class _SegmentHeader:
    segment_id: int
    first_seq: int


def _decode_segment_header(data: bytes, segment_id: int) -> _SegmentHeader | str:
    """The header, or why it cannot be used. A well-formed header of another version raises."""
    if len(data) < SEGMENT_HEADER_SIZE:
        return f"segment header incomplete ({len(data)} of {SEGMENT_HEADER_SIZE} bytes)"
    magic, version, sid, first_seq, _ = _SEGMENT_HEADER.unpack_from(data)
    if magic != SEGMENT_MAGIC:
        return "segment header magic missing"
    if _crc(data[:28]) != _U32.unpack_from(data, 28)[0]:
        return "segment header checksum mismatch"
    if version != SEGMENT_VERSION:
        raise WALError(
            f"WAL segment {segment_name(segment_id)} has format version {version}; "
            f"this build reads version {SEGMENT_VERSION}"
        )
    if sid != segment_id:
        return f"segment header names segment {sid}"
    return _SegmentHeader(sid, first_seq)


@dataclass(frozen=True, slots=True)
class _Damage:
    start: int
    end: int
    reason: str


def _scan(data: bytes, start: int, after_seq: int) -> Iterator[tuple[int, int, bytes] | _Damage]:
    """Walk the records in ``data`` from ``start``: ``(seq, end offset, payload)`` per intact record in
    file order, and a :class:`_Damage` per stretch of bytes between them that holds none.

    ``after_seq``: records must have a larger seq than this and than each other (anything else is
    damage). Per record the work is two CRCs and one payload slice, all in C.
    """
    size = len(data)
    off = start
    prev = after_seq
    damage_at = -1
    reason = ""
    while off < size:
        skip_to = -1
        if size - off < RECORD_HEADER_SIZE:
            problem = "incomplete record header"
            skip_to = size
        elif data.startswith(RECORD_MAGIC, off):
            _, length, seq, payload_crc = _RECORD_HEADER.unpack_from(data, off)
            end = off + RECORD_HEADER_SIZE + length
            if _crc(data[off : off + 20]) != _U32.unpack_from(data, off + 20)[0]:
                problem = "record header checksum mismatch"
            elif end > size:
                problem = f"record seq {seq} ({length} byte payload) runs past the end of the file"
                skip_to = size
            elif seq <= prev:
                problem = f"record seq {seq} is not after seq {prev}"
                skip_to = end
            else:
                payload = data[off + RECORD_HEADER_SIZE : end]
                if _crc(payload) == payload_crc:
                    if damage_at >= 0:
                        yield _Damage(damage_at, off, reason)
                        damage_at = -1
                    yield seq, end, payload
                    prev = seq
                    off = end
                    continue
                problem = f"payload checksum mismatch in record seq {seq} ({length} bytes)"
                skip_to = end
        else:
            problem = "no record magic"
        if damage_at < 0:
            damage_at, reason = off, problem
        if skip_to < 0:
            found = data.find(RECORD_MAGIC, off + 1)
            skip_to = size if found < 0 else found
        off = skip_to
    if damage_at >= 0:
        yield _Damage(damage_at, size, reason)


def _write_all(fd: int, head: bytes, payload: bytes) -> None:
    """Write head + payload at the end of ``fd`` (O_APPEND), finishing short writes."""
    total = len(head) + len(payload)
    done = os.writev(fd, (head, payload)) if payload else os.write(fd, head)
    while done < total:
        if done < len(head):
            n = os.writev(fd, (head[done:], payload))
        else:
            with memoryview(payload) as view:
                n = os.write(fd, view[done - len(head) :])
        if n <= 0:
            raise OSError(f"write made no progress ({done} of {total} bytes written)")
        done += n


@dataclass(slots=True)
class _Segment:
    id: int
    path: Path
    first_seq: int | None  # from the header; None when the header is damaged
    max_seq: int | None  # every record in the segment has seq <= max_seq; None: unknown, scan to learn
    size: int = 0  # bytes written (current segment only)
    fd: int = -1  # open while the segment is current, or retired and not yet synced


class WAL:
    """Append-only, group-committed log of opaque payloads. See the module docstring for the format.

    ``append`` and ``last_seq`` are thread-safe; ``replay``, ``rotate`` and ``remove_through`` may be
    called while other threads append. The constructor recovers the directory (tail repair) and does
    not replay; call :meth:`replay` to read the records back.
    """

    replay_report: list[str]

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        fsync: str = "interval",
        interval_ms: float = 5.0,
        segment_bytes: int = 10 * 1024 * 1024,
        on_fsync: Callable[[float], None] | None = None,
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
        if not interval_ms > 0:
            raise ValueError(f"interval_ms must be positive, not {interval_ms!r}")
        if segment_bytes < 1:
            raise ValueError(f"segment_bytes must be positive, not {segment_bytes!r}")
        self._policy = fsync
        self._durable = fsync != "off"
        self._interval = interval_ms / 1000.0
        self._segment_bytes = segment_bytes
        self._on_fsync = on_fsync
        self._dir = Path(directory)
        self.replay_report = []
        self._recovery_report: list[str] = []

        # Lock order: _lock before _cv; nobody holds _cv while taking _lock.
        self._lock = threading.Lock()  # seq, file writes, segment list; held for the write, not the fsync
        self._cv = threading.Condition(threading.Lock())  # _synced_seq, _syncing, _failure
        self._synced_seq = 0
        self._syncing = False  # an fsync round is running (its leader set this)
        self._waiters = 0  # appenders waiting for a round (under _cv)
        self._round_records = 0  # records the last round covered (under _cv)
        self._failure: BaseException | None = None
        self._closed = False
        self._files_closed = False  # set by close() once no fsync round may run any more
        self._closed_segments: list[_Segment] = []  # oldest first, current excluded
        self._retired: list[_Segment] = []  # closed segments whose fd waits for the next fsync round
        self._last_seq = 0
        self._stop = threading.Event()
        self._pending = threading.Event()  # something was written since the flusher last looked
        self._flusher: threading.Thread | None = None

        self._dir.mkdir(parents=True, exist_ok=True)
        self._dir_fd = os.open(self._dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(self._dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise WALError(f"WAL directory {self._dir} is in use by another WAL") from None
            self._current = self._recover()
        except BaseException:
            os.close(self._dir_fd)
            raise
        self._synced_seq = self._last_seq  # what recovery found is on disk
        self.replay_report = list(self._recovery_report)
        if fsync == "interval":
            self._flusher = threading.Thread(target=self._flush_loop, name="tsgres-wal-flusher", daemon=True)
            self._flusher.start()

    # -- public API ------------------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        """The seq of the newest record appended or recovered; 0 for a log that never had one."""
        return self._last_seq

    @property
    def directory(self) -> Path:
        return self._dir

    def append(self, payload: bytes | bytearray | memoryview, *, sync: bool = True) -> int:
        """Write one record and return its seq once the fsync policy is met (see the module docstring)."""
        if type(payload) is not bytes:
            payload = bytes(payload)
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"WAL payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD} byte limit")
        payload_crc = _crc(payload)  # outside the lock
        record_size = RECORD_HEADER_SIZE + len(payload)
        rotated_through = -1
        with self._lock:
            self._check_usable()
            cur = self._current
            if cur.size > SEGMENT_HEADER_SIZE and cur.size + record_size > self._segment_bytes:
                rotated_through = self._switch_segment()
                cur = self._current
            seq = self._last_seq + 1
            self._write(cur, _record_header(seq, payload, payload_crc), payload)
            cur.size += record_size
            cur.max_seq = seq
            self._last_seq = seq
        if self._flusher is not None:
            self._pending.set()
        if rotated_through >= 0 and self._durable:
            self._sync_through(rotated_through, lead=True, force=True)
        if sync and self._durable:
            self._sync_through(seq, lead=self._policy == "always")
        return seq

    def sync_to(self, seq: int) -> None:
        """Return once records up to ``seq`` are durable under the policy.

        For callers that append with ``sync=False`` under a lock of their own (so WAL order and
        memtable order agree) and wait for durability after releasing it. ``append(p)`` is
        ``sync_to(append(p, sync=False))``. A seq not yet appended is an error (it would never sync).
        """
        if seq > self._last_seq:
            raise ValueError(f"cannot sync to seq {seq}: the last seq appended is {self._last_seq}")
        if self._durable:
            self._sync_through(seq, lead=self._policy == "always")

    def replay(self, report: bool = True) -> Iterator[tuple[int, bytes]]:
        """Yield ``(seq, payload)`` for every intact record, oldest first, across segments.

        Damage is logged and listed in :attr:`replay_report` (which starts over at each replay with
        what recovery found) and the reader moves on to the next intact record. Reads one segment file
        at a time; records appended after the call started are not included. ``report`` False: a
        look at the records (the replay proper reports), damage neither logged nor listed.
        """
        with self._lock:
            segments = [(s.path, -1) for s in self._closed_segments]
            segments.append((self._current.path, self._current.size))
        found = list(self._recovery_report)
        if report:
            self.replay_report = found

        def problem(message: str) -> None:
            if report:
                log.error("WAL replay: %s", message)
                found.append(message)

        prev = 0
        for path, limit in segments:
            try:
                with open(path, "rb") as f:
                    data = f.read() if limit < 0 else f.read(limit)
            except FileNotFoundError:  # removed by remove_through meanwhile
                continue
            header = _decode_segment_header(data, int(path.name[:20]))
            if isinstance(header, str):
                problem(f"{path.name}: {header}; reading its records anyway")
            for item in _scan(data, min(SEGMENT_HEADER_SIZE, len(data)), prev):
                if isinstance(item, _Damage):
                    problem(
                        f"{path.name}: skipped {item.end - item.start} damaged bytes at offset "
                        f"{item.start} ({item.reason})"
                    )
                    continue
                seq, _, payload = item
                if prev and seq != prev + 1:
                    problem(f"{path.name}: records seq {prev + 1}..{seq - 1} are missing")
                prev = seq
                yield seq, payload

    def rotate(self) -> int:
        """Close the current segment (synced unless fsync="off") and start a new one; return the closed
        segment's id."""
        with self._lock:
            self._check_usable()
            closed_id = self._current.id
            through = self._switch_segment()
        if self._durable:
            self._sync_through(through, lead=True, force=True)
        return closed_id

    def remove_through(self, seq: int) -> None:
        """Delete the oldest closed segments whose records all have seq <= ``seq``.

        Stops at the first segment that holds a later record, so what remains is always a contiguous
        run of segments. The current segment is never deleted.
        """
        with self._lock:
            if self._closed:
                raise WALError("WAL is closed")
            removed = 0
            while self._closed_segments:
                seg = self._closed_segments[0]
                if seg.max_seq is None:
                    seg.max_seq = _max_seq_in(seg.path)
                if seg.max_seq > seq:
                    break
                try:
                    os.unlink(seg.path)
                except FileNotFoundError:
                    pass
                self._closed_segments.pop(0)
                removed += 1
            if removed and self._durable:
                os.fsync(self._dir_fd)

    def close(self) -> None:
        """Sync what was written, stop the flusher, close the files. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._flusher is not None:
                self._stop.set()
                self._pending.set()
                self._flusher.join()
            if self._failure is None:
                self._sync_through(self._last_seq, lead=True, force=True)
        finally:
            with self._cv:  # wait out a running round; none starts after this
                while self._syncing:
                    self._cv.wait()
                self._files_closed = True
                self._cv.notify_all()
            with self._lock:
                for seg in [*self._retired, self._current]:
                    if seg.fd >= 0:
                        os.close(seg.fd)
                        seg.fd = -1
                self._retired = []
            os.close(self._dir_fd)  # also drops the flock

    def __enter__(self) -> WAL:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- recovery --------------------------------------------------------------------------------------
    def _recover(self) -> _Segment:
        """Read the directory, repair the newest segment's tail, learn the last seq; return the segment
        appends go to (the newest one if it is empty, else a new one)."""
        ids: list[int] = []
        for entry in os.listdir(self._dir):
            if entry.endswith(".wal.tmp"):
                os.unlink(self._dir / entry)  # a creation that never completed (renamed only when whole)
                continue
            m = _SEGMENT_NAME.match(entry)
            if m:
                ids.append(int(m.group(1)))
        ids.sort()
        self._next_id = (ids[-1] if ids else 0) + 1
        segments: list[_Segment] = []
        for sid in ids:
            path = self._dir / segment_name(sid)
            with open(path, "rb") as f:
                header = _decode_segment_header(f.read(SEGMENT_HEADER_SIZE), sid)
            first = header.first_seq if isinstance(header, _SegmentHeader) else None
            segments.append(_Segment(sid, path, first, None))
        for older, newer in zip(segments, segments[1:], strict=False):
            if newer.first_seq is not None:
                older.max_seq = newer.first_seq - 1

        reuse = None
        while segments:
            newest = segments[-1]
            outcome = self._repair_newest(newest, has_older=len(segments) > 1)
            if outcome is None:  # set aside; the one before it is the newest now
                segments.pop()
                continue
            self._last_seq, empty = outcome
            newest.max_seq = self._last_seq
            if empty:
                reuse = segments.pop()
            break
        self._closed_segments = segments
        if reuse is not None:
            reuse.fd = os.open(reuse.path, os.O_WRONLY | os.O_APPEND | _O_CLOEXEC)
            reuse.size = SEGMENT_HEADER_SIZE
            return reuse
        return self._create_segment()

    def _repair_newest(self, seg: _Segment, *, has_older: bool) -> tuple[int, bool] | None:
        """Truncate a torn tail off the newest segment. Returns (last seq, segment is empty with a good
        header), or None when the segment held nothing readable and was set aside."""
        with open(seg.path, "rb") as f:
            data = f.read()
        header = _decode_segment_header(data, seg.id)
        after = header.first_seq - 1 if isinstance(header, _SegmentHeader) else 0
        good_end = SEGMENT_HEADER_SIZE
        last_seq = -1
        tail: _Damage | None = None
        for item in _scan(data, min(SEGMENT_HEADER_SIZE, len(data)), after):
            if isinstance(item, _Damage):
                tail = item
            else:
                last_seq, good_end, _ = item
                tail = None
        if isinstance(header, str) and last_seq < 0:
            # Nothing readable. Its first_seq is lost with its header; only an older segment (or
            # being segment 1, whose first seq is 1) tells where the sequence stands.
            if not has_older and seg.id != 1:
                raise WALError(
                    f"WAL segment {seg.path} is unreadable ({header}) and no older segment is left to "
                    f"tell the last sequence number; move it aside to start over (sequence numbers "
                    f"would restart at 1)"
                )
            aside = seg.path.with_name(seg.path.name + ".corrupt")
            os.replace(seg.path, aside)
            if self._durable:
                os.fsync(self._dir_fd)
            self._note(f"{seg.path.name}: unreadable ({header}), holds no records; moved to {aside.name}")
            return None
        if tail is not None:
            with open(seg.path, "r+b") as f:
                f.truncate(tail.start)
                if self._durable:
                    _fsync(f.fileno())
            self._note(
                f"{seg.path.name}: truncated torn tail of {tail.end - tail.start} bytes at offset "
                f"{tail.start} ({tail.reason})"
            )
        if last_seq < 0:  # no records, good header: the file is the header alone now
            return after, True
        return last_seq, False

    def _note(self, message: str) -> None:
        log.warning("WAL recovery: %s", message)
        self._recovery_report.append(message)

    # -- writing ---------------------------------------------------------------------------------------
    def _check_usable(self) -> None:
        if self._closed:
            raise WALError("WAL is closed")
        if self._failure is not None:
            raise WALError(f"WAL unusable after an I/O error: {self._failure}") from self._failure

    def _create_segment(self) -> _Segment:
        """Create the next segment, starting at seq last_seq + 1. Written under a temporary name and
        renamed when whole, so a crash never leaves a segment with a partial header behind."""
        sid = self._next_id
        path = self._dir / segment_name(sid)
        tmp = path.with_name(path.name + ".tmp")
        first_seq = self._last_seq + 1
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | _O_CLOEXEC, 0o644)
        try:
            _write_all(fd, encode_segment_header(sid, first_seq), b"")
            if self._durable:
                _fsync(fd)
            os.replace(tmp, path)
            if self._durable:
                os.fsync(self._dir_fd)
        except BaseException:
            os.close(fd)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self._next_id = sid + 1
        return _Segment(sid, path, first_seq, first_seq - 1, SEGMENT_HEADER_SIZE, fd)

    def _switch_segment(self) -> int:
        """Under _lock: make a new current segment; return the old one's max seq.

        The old segment is synced before its successor exists (unless fsync="off"), so after a crash
        only the newest segment can end in a torn write: recovery truncates it and the sequence
        continues without a gap. Costs one fsync under the lock per segment_bytes written.
        """
        old = self._current
        assert old.max_seq is not None
        if self._durable and self._synced_seq < old.max_seq:
            started = time.perf_counter()
            try:
                _fsync(old.fd)
            except OSError as exc:
                self._fail(exc)
                raise WALError(f"WAL fsync failed: {exc}") from exc
            self._report_fsync(time.perf_counter() - started)
        try:
            self._current = self._create_segment()
        except OSError as exc:
            raise WALError(f"cannot move the WAL to a new segment in {self._dir}: {exc}") from exc
        self._closed_segments.append(old)
        if self._durable:
            self._retired.append(old)  # a running fsync round may be using the fd: the next round closes it
        else:
            os.close(old.fd)  # no rounds run with fsync="off" until close()
            old.fd = -1
        return old.max_seq

    def _write(self, seg: _Segment, head: bytes, payload: bytes) -> None:
        try:
            _write_all(seg.fd, head, payload)
        except OSError as exc:
            try:
                os.ftruncate(seg.fd, seg.size)  # drop the partial record so the next one follows a good one
            except OSError as trunc_exc:
                self._fail(trunc_exc)
            raise WALError(f"write to {seg.path} failed: {exc}") from exc

    # -- syncing ---------------------------------------------------------------------------------------
    def _sync_through(self, seq: int, *, lead: bool, force: bool = False) -> None:
        """Return once an fsync round covering ``seq`` has completed.

        ``lead``: run the round ourselves when none is running (else wait for the flusher).
        ``force``: run a round even if ``seq`` is covered already (to close retired segments).
        """
        with self._cv:
            while True:
                if self._failure is not None:
                    raise WALError(f"WAL fsync failed: {self._failure}") from self._failure
                if self._files_closed or (self._synced_seq >= seq and not force):
                    return  # (closed: close() synced everything first)
                if lead and not self._syncing:
                    self._syncing = True
                    break
                self._waiters += 1
                try:
                    self._cv.wait()
                finally:
                    self._waiters -= 1
        try:
            self._fsync_round()
        finally:
            with self._cv:
                self._syncing = False
                self._cv.notify_all()

    def _fsync_round(self) -> None:
        """Run by the one leader: fsync every segment written to, then publish the seq covered."""
        with self._lock:
            target = self._last_seq
            retired, self._retired = self._retired, []
            cur = self._current
        if target <= self._synced_seq and not retired:
            return
        started = time.perf_counter()
        try:
            for seg in retired:
                _fsync(seg.fd)
            if cur.fd >= 0:
                _fsync(cur.fd)
        except OSError as exc:
            with self._lock:
                self._retired = retired + self._retired  # close() closes them
            self._fail(exc)
            raise WALError(f"WAL fsync failed: {exc}") from exc
        elapsed = time.perf_counter() - started
        for seg in retired:
            os.close(seg.fd)
            seg.fd = -1
        with self._cv:
            self._round_records = target - self._synced_seq
            self._synced_seq = max(self._synced_seq, target)
        self._report_fsync(elapsed)

    def _report_fsync(self, seconds: float) -> None:
        if self._on_fsync is not None:
            try:
                self._on_fsync(seconds)
            except Exception:
                log.exception("WAL on_fsync callback failed")

    def _fail(self, exc: BaseException) -> None:
        log.error("WAL I/O failure, no further appends accepted: %s", exc)
        with self._cv:
            if self._failure is None:
                self._failure = exc
            self._cv.notify_all()

    def _flush_loop(self) -> None:
        last_round = float("-inf")
        try:
            while True:
                self._pending.wait()
                if self._stop.is_set():
                    return
                delay = last_round + self._interval - time.monotonic()
                if delay > 0 and not self._lone_writer() and self._stop.wait(delay):
                    return
                self._pending.clear()
                last_round = time.monotonic()
                self._sync_through(self._last_seq, lead=True)
        except WALError:
            return  # the failure is recorded; appenders see it
        except BaseException as exc:
            log.exception("WAL flusher died")
            self._fail(exc)

    def _lone_writer(self) -> bool:
        """Whether the unsynced write is a lone writer's (see the module docstring): one record
        unsynced, at most one appender waiting, and the last round covered one record."""
        with self._cv:
            return self._waiters <= 1 and self._round_records <= 1 and self._last_seq - self._synced_seq <= 1


def _max_seq_in(path: Path) -> int:
    """The largest seq of an intact record in a segment file (0 if none or the file is gone)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return 0
    best = 0
    for item in _scan(data, min(SEGMENT_HEADER_SIZE, len(data)), 0):
        if not isinstance(item, _Damage):
            best = item[0]
    return best
