"""Tag predicates that the query layers push down into the storage engine.

A predicate is a small immutable tree. The series index evaluates it to the set of series ids that
match (a roaring bitmap), so a scan reads only those series. Semantics follow InfluxQL and SQL over
tags: a series without the tag compares as the empty string for ``=``/``<>`` (InfluxDB), and a regex
is a Python ``re`` search (unanchored, like InfluxDB's ``=~``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class TagPredicate:
    """Base of all predicate nodes."""

    def __and__(self, other: TagPredicate) -> TagPredicate:
        return And((self, other))

    def __or__(self, other: TagPredicate) -> TagPredicate:
        return Or((self, other))

    def __invert__(self) -> TagPredicate:
        return Not(self)


@dataclass(frozen=True)
class TagEq(TagPredicate):
    key: str
    value: str


@dataclass(frozen=True)
class TagNe(TagPredicate):
    key: str
    value: str


@dataclass(frozen=True)
class TagIn(TagPredicate):
    key: str
    values: frozenset[str]


@dataclass(frozen=True)
class TagRegex(TagPredicate):
    """``key =~ /pattern/`` (or ``!~`` with negate=True)."""

    key: str
    pattern: str
    negate: bool = False
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern))


@dataclass(frozen=True)
class And(TagPredicate):
    parts: tuple[TagPredicate, ...]


@dataclass(frozen=True)
class Or(TagPredicate):
    parts: tuple[TagPredicate, ...]


@dataclass(frozen=True)
class Not(TagPredicate):
    part: TagPredicate


@dataclass(frozen=True)
class AllSeries(TagPredicate):
    """Matches every series of the table."""
