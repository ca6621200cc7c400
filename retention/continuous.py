"""InfluxDB 1.x continuous queries: where they are kept.

The queries live in the storage catalog (meta key :data:`KEY`, JSON: database -> [{name, query}] in
creation order), so they survive restarts; sql/influxql/cq.py creates, drops and lists them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

KEY = "influxql_continuous_queries"
_lock = threading.Lock()  # (sessions add and drop queries while the server's loop runs them)


class AlreadyExists(Exception):
    """A query of that name exists on the database with another text."""


@dataclass(frozen=True)
class ContinuousQuery:
    name: str
    query: str  # the CREATE CONTINUOUS QUERY statement as InfluxDB prints it (sql/influxql/cq.py)


# -- the catalog --------------------------------------------------------------------------------------------
def queries(storage: Any) -> dict[str, list[ContinuousQuery]]:
    """database -> its queries, in creation order."""
    raw = storage.catalog.get_meta(KEY)
    if not raw:
        return {}
    return {db: [ContinuousQuery(**q) for q in qs] for db, qs in json.loads(raw).items()}


def _save(storage: Any, by_db: dict[str, list[ContinuousQuery]]) -> None:
    doc = {db: [asdict(q) for q in qs] for db, qs in by_db.items() if qs}
    storage.catalog.set_meta(KEY, json.dumps(doc) if doc else None)


def add(storage: Any, database: str, name: str, query: str) -> bool:
    """Add a query; False when one of that name and text (ignoring case) exists already. Raises
    AlreadyExists when one of that name has another text."""
    with _lock:
        by_db = queries(storage)
        mine = by_db.setdefault(database, [])
        for q in mine:
            if q.name == name:
                if q.query.lower() == query.lower():
                    return False
                raise AlreadyExists(name)
        mine.append(ContinuousQuery(name, query))
        _save(storage, by_db)
    return True


def remove(storage: Any, database: str, name: str) -> bool:
    """Drop a query; whether it existed."""
    with _lock:
        by_db = queries(storage)
        mine = by_db.get(database, [])
        keep = [q for q in mine if q.name != name]
        if len(keep) == len(mine):
            return False
        by_db[database] = keep
        _save(storage, by_db)
    return True


def drop_database(storage: Any, database: str) -> None:
    """Forget a dropped database's queries (a database created again by that name has none)."""
    with _lock:
        by_db = queries(storage)
        if by_db.pop(database, None) is not None:
            _save(storage, by_db)
