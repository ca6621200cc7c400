"""CALL of user-defined procedures (CREATE PROCEDURE, kept with the functions: sql/user_functions.py).

    CREATE PROCEDURE archive(older_than interval) LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO archive SELECT * FROM readings WHERE time < now() - older_than;
      DELETE FROM readings WHERE time < now() - older_than;
    END $$;
    CALL archive('30 days');

A call picks the overload by its number of arguments (named ones, ``name => value``, by name;
defaults fill the rest), reads each argument as its parameter's type, and runs the body: a
``plpgsql`` one as a DO block runs (sql/plpgsql.py), the parameters its variables (and ``$1`` ...),
a ``sql`` one statement by statement with the parameters read the same way. Outside a transaction
block the call is one transaction, as in PostgreSQL: an error undoes its writes. TimescaleDB's jobs
call procedures so (add_job: sql/timescale.py, retention/jobs.py).

Not supported: OUT / INOUT parameters (refused at CREATE), COMMIT / ROLLBACK inside a procedure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sql import errors as E
from sql.plpgsql import (
    Runner,
    Var,
    atomically,
    normal_name,
    parse_block,
    run_block,
    split_commas,
    split_statements,
    type_name,
)
from sql.session import Result
from sql.user_functions import Function, overloads

if TYPE_CHECKING:
    from sql.engine import SqlSession

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CALL = re.compile(rf"(?is)^\s*CALL\s+(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})?)\s*\((?P<args>.*)\)\s*;?\s*$")
_NAMED = re.compile(rf"(?is)^\s*(?P<name>{_IDENT})\s*=>\s*(?P<value>.+)$")
_NO_MATCH = (
    "No procedure matches the given name and argument types. You might need to add explicit type casts."
)


def is_call(word: str) -> bool:
    return word == "CALL"


def find(session: SqlSession, sql: str) -> tuple[Function, list[str]]:
    """The procedure ``CALL name(args)`` runs and the SQL of each of its arguments, in parameter order
    (a default's where the call gives none)."""
    m = _CALL.match(sql)
    if m is None:
        raise E.SyntaxError_(
            'syntax error at or near "CALL"' if "(" in sql else "syntax error at end of input"
        )
    parts = [normal_name(p.strip()) for p in re.split(r"\s*\.\s*(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", m["name"])]
    schema, name = (parts[0], parts[1]) if len(parts) == 2 else ("public", parts[0])
    given = split_commas(m["args"]) if m["args"].strip() else []
    positional: list[str] = []
    named: dict[str, str] = {}
    for arg in given:
        n = _NAMED.match(arg)
        if n is not None:
            named[normal_name(n["name"])] = n["value"]
        elif named:
            raise E.SyntaxError_("positional argument cannot follow named argument")
        else:
            positional.append(arg)
    found = overloads(session.storage.catalog, session.database, schema, name)
    for fn in (f for f in found if f.kind == "p"):
        names = [a.name for a in fn.args]
        if len(positional) > len(fn.args) or any(k not in names[len(positional) :] for k in named):
            continue
        args: list[str] = []
        for k, a in enumerate(fn.args):
            sql_of = positional[k] if k < len(positional) else named.get(a.name, a.default)
            if sql_of is None:
                break
            args.append(sql_of)
        else:
            return fn, args
    shown = f"{name}({', '.join(_types(session, [*positional, *named.values()]))})"
    if any(f.kind != "p" for f in found):
        raise E.WrongObjectType(f"{shown} is not a procedure", hint="To call a function, use SELECT.")
    raise E.UndefinedFunction(f"procedure {shown} does not exist", hint=_NO_MATCH)


def _types(session: SqlSession, args: list[str]) -> list[str]:
    """The types of the arguments of a call no procedure takes, for its error (as PostgreSQL shows them)."""
    if not args:
        return []
    try:
        prepared = session.prepare("SELECT " + ", ".join(f"({a})" for a in args), [])
    except E.SqlError:
        return ["unknown"] * len(args)
    return [type_name(c.type_oid) or "unknown" for c in prepared.columns or []]


def call(session: SqlSession, sql: str) -> Result:
    fn, args = find(session, sql)
    runner = Runner(session)
    values: list[tuple[Any, str | None]] = [
        runner.value(a, p.type) for a, p in zip(args, fn.args, strict=True)
    ]
    runner.params = values
    for p, (value, typ) in zip(fn.args, values, strict=True):
        if p.name:
            runner.frames[0][p.name] = Var(value, typ)
    source = fn.written
    if fn.language == "plpgsql":
        block = parse_block(source, "procedures", loops=True)
        atomically(session, lambda: run_block(runner, block))
        return Result(None, tag="CALL")
    statements = split_statements(source)

    def run_statements() -> None:
        for text in statements:
            runner.query(runner.bind(text))

    atomically(session, run_statements)
    return Result(None, tag="CALL")
