"""An in-process tsgres for SQL tests: a storage engine on a directory and one SqlEngine over it.

with sql_engine(tmp_path) as (storage, sql):
    storage.write("postgres", batch).check()
    session = sql.session("postgres")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from columnar.engine import Engine
from columnar.options import EngineOptions
from sql.engine import SqlEngine


@contextmanager
def sql_engine(data_dir: Path) -> Iterator[tuple[Engine, SqlEngine]]:
    """No WAL fsync, no background compaction: tests decide when data is flushed."""
    storage = Engine.open(data_dir, EngineOptions(compaction_interval_s=0, wal_fsync="off"))
    engine = SqlEngine(storage)
    try:
        yield storage, engine
    finally:
        engine.close()
        storage.close()
