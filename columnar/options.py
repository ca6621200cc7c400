"""Storage engine options. The application shell (tsgres/config.py) fills them from TOML and TSGRES_*."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineOptions:
    wal_fsync: str = "interval"  # "always" | "interval" | "off"
    wal_fsync_interval_ms: float = 5.0
    wal_segment_bytes: int = 10 * 1024 * 1024
    cache_snapshot_bytes: int = 64 * 1024 * 1024  # memtable size that triggers a chunk file
    cache_snapshot_age_s: float = 600.0  # a memtable older than this is written out too
    series_limit: int = 1_000_000  # per database; 0 = unlimited
    compaction_interval_s: float = 30.0  # background compaction/snapshot check period; 0 = off
    compaction_min_files: int = 4  # files of one level in a shard that trigger a merge
    default_database: str = "postgres"

    def __post_init__(self) -> None:
        if self.wal_fsync not in ("always", "interval", "off"):
            raise ValueError(f"wal_fsync must be always, interval or off, not {self.wal_fsync!r}")
        if self.wal_fsync_interval_ms <= 0:
            raise ValueError("wal_fsync_interval_ms must be positive")
        if self.cache_snapshot_bytes <= 0:
            raise ValueError("cache_snapshot_bytes must be positive")
        if self.series_limit < 0:
            raise ValueError("series_limit must be >= 0")
        if self.wal_segment_bytes <= 0:
            raise ValueError("wal_segment_bytes must be positive")
        if self.compaction_min_files < 2:
            raise ValueError("compaction_min_files must be at least 2")
        if self.cache_snapshot_age_s <= 0:
            raise ValueError("cache_snapshot_age_s must be positive")
