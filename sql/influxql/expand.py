"""InfluxDB's RewriteFields: ``*``, regexes and wildcard calls (``max(*)``) expanded over the
sources' fields and tags, GROUP BY ``*`` / regexes over their tag keys, and the output column names
(``max``, ``max_1``, an alias, ``max_usage_user`` for an expanded wildcard)."""

from __future__ import annotations

from sql.influxql import ast as A
from sql.influxql.compile import Compiled
from sql.influxql.functions import BOOLEAN, FLOAT, INTEGER, STRING, UNSIGNED
from sql.influxql.source import Source
from sql.influxql.translate import Schema

_WILDCARD_TYPES = {
    "count": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "first": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "last": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "distinct": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "elapsed": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "mode": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "sample": {FLOAT, INTEGER, UNSIGNED, STRING, BOOLEAN},
    "min": {FLOAT, INTEGER, UNSIGNED, BOOLEAN},
    "max": {FLOAT, INTEGER, UNSIGNED, BOOLEAN},
}


def union_schema(sources: list[Source]) -> Schema:
    out = Schema()
    for s in sources:
        for k, v in s.schema.fields.items():
            out.fields.setdefault(k, v)
        out.tags |= s.schema.tags
        out.hidden |= s.schema.hidden
    return out


def expand_dimensions(c: Compiled, schema: Schema) -> list[str]:
    dims: list[str] = []
    for d in c.stmt.dimensions:
        e = d.expr
        if isinstance(e, A.Call):
            continue
        if isinstance(e, A.Wildcard):
            dims.extend(sorted(schema.tags))
        elif isinstance(e, A.RegexLiteral):
            dims.extend(sorted(t for t in schema.tags if e.compiled.search(t)))
        elif isinstance(e, A.VarRef):
            dims.append(e.name)
    seen: set[str] = set()
    return [d for d in dims if not (d in seen or seen.add(d))]  # type: ignore[func-returns-value]


def _innermost_arg(call: A.Call) -> tuple[A.Call, int] | None:
    """The call whose first argument is a wildcard/regex, searching nested calls."""
    if call.args and isinstance(call.args[0], A.Wildcard | A.RegexLiteral):
        return call, 0
    if call.args and isinstance(call.args[0], A.Call):
        return _innermost_arg(call.args[0])
    return None


def _replace_arg(call: A.Call, target: A.Call, ref: A.VarRef) -> A.Call:
    if call is target:
        return A.Call(call.name, [ref, *call.args[1:]])
    return A.Call(call.name, [_replace_arg(call.args[0], target, ref), *call.args[1:]])  # type: ignore[arg-type]


def expand_fields(c: Compiled, schema: Schema, dims: list[str]) -> list[A.Field]:
    out: list[A.Field] = []
    for f in c.fields:
        e = f.expr
        if isinstance(e, A.Wildcard):
            refs: list[A.VarRef] = []
            if e.type in (None, "field"):
                refs += [A.VarRef(n, k) for n, k in schema.fields.items()]
            if e.type in (None, "tag"):
                refs += [A.VarRef(n, "tag") for n in schema.tags if n not in dims and n not in schema.hidden]
            out.extend(A.Field(r) for r in sorted(refs, key=lambda r: r.name))
            continue
        if isinstance(e, A.RegexLiteral):
            refs = [A.VarRef(n, k) for n, k in schema.fields.items() if e.compiled.search(n)]
            refs += [
                A.VarRef(n, "tag")
                for n in schema.tags
                if n not in dims and n not in schema.hidden and e.compiled.search(n)
            ]
            out.extend(A.Field(r) for r in sorted(refs, key=lambda r: r.name))
            continue
        if isinstance(e, A.Call):
            found = _innermost_arg(e)
            if found is not None:
                inner, _ = found
                arg = inner.args[0]
                types = _WILDCARD_TYPES.get(inner.name, {FLOAT, INTEGER, UNSIGNED})
                for name in sorted(schema.fields):
                    kind = schema.fields[name]
                    if kind not in types:
                        continue
                    if isinstance(arg, A.RegexLiteral) and not arg.compiled.search(name):
                        continue
                    if isinstance(arg, A.Wildcard) and arg.type == "tag":
                        continue
                    out.append(A.Field(_replace_arg(e, inner, A.VarRef(name, kind)), f"{f.name()}_{name}"))
                continue
        out.append(f)
    return out


def column_names(fields: list[A.Field], time_name: str, has_target: bool) -> list[str]:
    cols: list[A.Field] = []
    for f in fields:
        cols.append(f)
        e = f.expr
        if isinstance(e, A.Call) and e.name in ("top", "bottom") and not has_target:
            for a in e.args[1:]:
                if isinstance(a, A.VarRef):
                    cols.append(A.Field(a))
    names: list[str] = [""] * len(cols)
    seen: dict[str, int] = {}
    for i, f in enumerate(cols):
        if f.alias:
            names[i] = f.alias
            seen[f.alias] = 1
    for i, f in enumerate(cols):
        if names[i]:
            continue
        name = f.name()
        if name in seen:
            count = seen[name]
            while True:
                resolved = f"{name}_{count}"
                if resolved not in seen:
                    seen[name] = count + 1
                    name = resolved
                    break
                count += 1
        seen[name] = seen.get(name, 0) + 1
        names[i] = name
    return [time_name, *names]
