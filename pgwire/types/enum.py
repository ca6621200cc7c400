"""Enum types (CREATE TYPE ... AS ENUM): a value is its label, and its text and binary forms are the
same, the label's UTF-8 bytes (PostgreSQL's enum_out and enum_send); typlen 4, as pg_type has it.

No enum type is built in: each database has its own, with OIDs of its own (sql/enums.py). A statement
tells pgwire which of its parameter and column types are such types (sql.session.UserType), and the
handler registers a codec for each, with its array type, before it decodes parameters or encodes
rows of them: :func:`register_user_types`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pgwire.types import text
from pgwire.types._base import REGISTRY, PgType
from pgwire.types._base import register as _register
from pgwire.types.array import array_of
from sql.session import UserType

ENUM_SIZE = 4


def enum_type(oid: int, name: str, array_oid: int) -> PgType:
    """An enum type's codec: the text codec under the enum's OID and name."""
    return dataclasses.replace(
        REGISTRY[text.TEXT_OID], oid=oid, name=name, size=ENUM_SIZE, array_oid=array_oid
    )


def register_user_types(types: Iterable[UserType]) -> None:
    """Register the codecs of the database's own types ``types`` (and of their arrays), once."""
    for t in types:
        known = REGISTRY.get(t.oid)
        if t.typtype != "e" or (
            known is not None and known.name == t.name and known.array_oid == t.array_oid
        ):
            continue
        element = enum_type(t.oid, t.name, t.array_oid)
        _register(element)
        if t.array_oid:
            _register(array_of(element))


def register() -> None:
    """No enum type is built in."""
