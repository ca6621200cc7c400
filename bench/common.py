"""What the benchmark parts share: result rows, the "not supported yet" marker, tables, progress lines.

Every part (``python -m bench ingest|disk|queries|pgwire``) reports :class:`Measurement` rows: one
number for one peer on one item (a data set, a query type, a client count, ...). A peer that cannot do
the item yet gets a row with ``value=None`` and ``note=NOT_SUPPORTED`` instead of being left out, so
a table always has a row for every peer. :func:`ratio_table` prints them as a Markdown table with the
ratio tsgres / peer for each item.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

NOT_SUPPORTED = "not supported yet"


@dataclass
class Measurement:
    part: str  # "ingest", "disk", "queries", "pgwire"
    item: str  # what was measured: "devops LP/HTTP", "single-groupby-1-1-1", ...
    peer: str  # "tsgres", "influxdb", "victoriametrics", "postgres"
    metric: str  # "rows/s", "bytes/value", "median ms", ...
    value: float | None  # None: see note
    note: str = ""  # NOT_SUPPORTED, or what went wrong, or extra detail
    higher_is_better: bool = True
    extra: dict[str, float | str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.value is not None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def not_supported(
    part: str, item: str, peer: str, metric: str, *, higher_is_better: bool = True
) -> Measurement:
    return Measurement(part, item, peer, metric, None, NOT_SUPPORTED, higher_is_better)


def failed(
    part: str, item: str, peer: str, metric: str, error: BaseException | str, *, higher_is_better: bool = True
) -> Measurement:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    if "ERROR" in text:  # a server's log tail: its first error line says more than its start-up lines
        text = text[: text.index(":") + 1] + " " + text[text.index("ERROR") :]
    return Measurement(
        part, item, peer, metric, None, f"failed: {' '.join(text.split())[:200]}", higher_is_better
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def fmt_value(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    if metric.endswith("ms"):
        return f"{value:.3f}" if value < 1 else f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if "bytes/value" in metric:
        return f"{value:.3f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def ratio(ours: Measurement | None, theirs: Measurement) -> str:
    """tsgres / peer as text: "1.25x"; "-" when either side has no number."""
    if ours is None or ours.value is None or theirs.value is None or theirs.value == 0:
        return "-"
    return f"{ours.value / theirs.value:.2f}x"


def ratio_table(rows: Iterable[Measurement], *, title: str | None = None) -> str:
    """Markdown table: item, peer, metric, value, tsgres/peer, note; items in first-seen order."""
    rows = list(rows)
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    lines += ["| item | peer | metric | value | tsgres / peer | note |", "|---|---|---|---:|---:|---|"]
    ours = {(r.item, r.metric): r for r in rows if r.peer == "tsgres"}
    order = {item: i for i, item in reversed(list(enumerate(r.item for r in rows)))}
    for r in sorted(rows, key=lambda r: order[r.item]):  # stable: peers keep their order within an item
        rel = "" if r.peer == "tsgres" else ratio(ours.get((r.item, r.metric)), r)
        lines.append(
            f"| {r.item} | {r.peer} | {r.metric} | {fmt_value(r.value, r.metric)} | {rel} | {r.note} |"
        )
    return "\n".join(lines)


def fastest_peer_ratios(rows: Iterable[Measurement], metric: str) -> list[tuple[str, str, str]]:
    """Per item: (item, fastest other peer, tsgres / that peer) for a lower-is-better ``metric``."""
    by_item: dict[str, dict[str, Measurement]] = {}
    for r in rows:
        if r.metric == metric:
            by_item.setdefault(r.item, {})[r.peer] = r
    out = []
    for item, peers in by_item.items():
        others = [r for p, r in peers.items() if p != "tsgres" and r.value is not None]
        ours = peers.get("tsgres")
        if not others:
            out.append((item, "-", "-"))
            continue
        best = min(others, key=lambda r: r.value or 0.0)
        out.append((item, best.peer, ratio(ours, best)))
    return out


def machine() -> dict[str, str]:
    """nproc, memory, CPU model, kernel and Python version of this machine."""
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                    break
    except OSError:
        pass
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "cpu": cpu,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
    }


class Progress:
    """A one-line progress bar on stderr: ``label [####....] 45% 400,000/864,000 rows 123,456 rows/s``.

    On a terminal it redraws in place (at most 5 times a second); otherwise it prints a line at every
    25% so logs stay short. ``done()`` prints the final line.
    """

    WIDTH = 24

    def __init__(self, label: str, total: int, unit: str = "rows", stream=None) -> None:
        self.label, self.total, self.unit = label, max(0, total), unit
        self.stream = stream or sys.stderr
        self.count = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._last_quarter = -1
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def advance(self, n: int) -> None:
        self.count = min(self.total, self.count + n) if self.total else self.count + n
        now = time.perf_counter()
        if self.tty:
            if now - self._last_draw >= 0.2:
                self._last_draw = now
                self._draw("\r")
        else:
            quarter = int(4 * self.count / self.total) if self.total else 0
            if quarter != self._last_quarter and quarter < 4:
                self._last_quarter = quarter
                self._draw("")

    def _draw(self, lead: str, end: str = "") -> None:
        elapsed = time.perf_counter() - self.started
        frac = self.count / self.total if self.total else 1.0
        filled = int(frac * self.WIDTH)
        rate = self.count / elapsed if elapsed > 0 else 0.0
        text = (
            f"{lead}  {self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {frac * 100:3.0f}% "
            f"{self.count:,}/{self.total:,} {self.unit} {rate:,.0f} {self.unit}/s"
        )
        self.stream.write(text + (end or ("" if self.tty else "\n")))
        self.stream.flush()

    def done(self) -> None:
        self.count = self.total or self.count
        self._draw("\r" if self.tty else "", "\n")
