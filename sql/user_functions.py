"""User-defined SQL functions: CREATE [OR REPLACE] FUNCTION ... LANGUAGE sql and DROP FUNCTION.

A function's body is one SELECT of one column. A call is replaced by the body with the arguments in
place of the parameters (sql/rewrite/user_functions.py), as PostgreSQL inlines simple SQL functions:

    CREATE FUNCTION c_to_f(c double precision) RETURNS double precision
        LANGUAGE sql IMMUTABLE AS $$ SELECT c * 9 / 5 + 32 $$;
    SELECT c_to_f(temp) FROM weather   ->   SELECT CAST((CAST(temp AS DOUBLE) * 9 / 5 + 32) AS DOUBLE) ...

A body with a FROM becomes a scalar subquery (correlated through the arguments). A function that
RETURNS SETOF type, SETOF a table or TABLE (name type, ...) is called in FROM (LATERAL too) and
becomes a subquery there, its columns cast to the declared types and named as declared. Parameters are named
(``c``, or ``c_to_f.c``) or numbered (``$1``); a name that is also a column of the body's FROM is the
column, as in PostgreSQL. STRICT (RETURNS NULL ON NULL INPUT) gives NULL when an argument is NULL.
Functions overload by their number of arguments (defaults count as optional ones). The definition is
checked when it is created (the body must bind, as with check_function_bodies = on) and kept in the
catalog's meta, one key per name with every overload; pg_proc lists each, and pg_get_functiondef
prints it back.

LANGUAGE plpgsql functions whose bodies declare, assign, branch with IF, SELECT INTO and RETURN are
compiled into such a SELECT (sql/plpgsql_function.py); pg_proc and pg_get_functiondef show their body
as written.

CREATE PROCEDURE stores a procedure here too (``kind`` p), its body as written; CALL runs it
(sql/procedures.py).

Not supported (0A000, said so): other languages (C, internal), trigger functions, OUT parameters, VARIADIC, SET clauses, BEGIN ATOMIC bodies, a set-returning function outside FROM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlglot import exp, tokens
from sqlglot.dialects.postgres import Postgres

from sql import comments
from sql import errors as E
from sql.session import Result
from sql.types import lookup as type_lookup

T = tokens.TokenType

# words that end a RETURNS type (the next clause)
_CLAUSES = {
    "LANGUAGE", "IMMUTABLE", "STABLE", "VOLATILE", "STRICT", "CALLED", "RETURNS", "SECURITY", "EXTERNAL",
    "PARALLEL", "COST", "ROWS", "SET", "AS", "LEAKPROOF", "NOT", "WINDOW", "SUPPORT", "TRANSFORM",
    "RETURN", "BEGIN",
}  # fmt: skip
_VOLATILITY = {"IMMUTABLE": "i", "STABLE": "s", "VOLATILE": "v"}
_VOLATILITY_WORD = {v: k for k, v in _VOLATILITY.items()}


@dataclass
class Argument:
    name: str  # "" when unnamed
    type: str  # the type as PostgreSQL prints it (format_type)
    default: str | None  # the default's SQL, or None


@dataclass
class Function:
    schema: str
    name: str
    args: list[Argument]
    returns: (
        str  # the result as pg_get_function_result prints it (integer, SETOF integer, TABLE(x integer) ...)
    )
    body: str  # the SELECT
    volatility: str = "v"  # i, s or v (pg_proc.provolatile)
    strict: bool = False
    retset: bool = False  # RETURNS SETOF / TABLE: a set of rows, called in FROM
    # the type of the result (of each row of a set of one column), format_type; for rows of several
    # columns (RETURNS TABLE, SETOF a table) "record" or the table's name, with ``columns``
    base: str = ""
    columns: list[list[str]] | None = None  # [name, type] of each column of a set of rows
    language: str = "sql"  # sql | plpgsql
    # a plpgsql function's body as written (``body`` is its SELECT: sql/plpgsql_function.py)
    source: str | None = None
    kind: str = "f"  # pg_proc.prokind: f (a function) or p (a procedure: CALL runs it, sql/procedures.py)

    def __post_init__(self) -> None:
        if not self.base:
            self.base = self.returns

    @property
    def arg_types(self) -> list[str]:
        return [a.type for a in self.args]

    @property
    def required(self) -> int:
        return sum(1 for a in self.args if a.default is None)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(a.type for a in self.args)})"

    def arguments(self, defaults: bool = True) -> str:
        """What pg_get_function_arguments prints: names, types and defaults (without them:
        pg_get_function_identity_arguments); a procedure's with their mode (IN)."""
        mode = "IN" if self.kind == "p" else ""
        return ", ".join(
            " ".join(p for p in (mode, a.name, a.type) if p)
            + (f" DEFAULT {a.default}" if defaults and a.default is not None else "")
            for a in self.args
        )

    def definition(self) -> str:
        """What pg_get_functiondef prints."""
        if self.kind == "p":
            return (
                f"CREATE OR REPLACE PROCEDURE {self.schema}.{self.name}({self.arguments()})\n"
                f" LANGUAGE {self.language}\nAS $procedure${self.written}$procedure$\n"
            )
        lines = [
            f"CREATE OR REPLACE FUNCTION {self.schema}.{self.name}({self.arguments()})",
            f" RETURNS {self.returns}",
            f" LANGUAGE {self.language}",
        ]
        if self.volatility != "v":
            lines.append(f" {_VOLATILITY_WORD[self.volatility]}")
        if self.strict:
            lines.append(" STRICT")
        return "\n".join(lines) + f"\nAS $function${self.written}$function$\n"

    @property
    def written(self) -> str:
        """The body as the definition gave it (pg_proc.prosrc)."""
        return self.source if self.source is not None else self.body

    def to_json(self) -> dict:
        return {
            "schema": self.schema,
            "name": self.name,
            "args": [[a.name, a.type, a.default] for a in self.args],
            "returns": self.returns,
            "body": self.body,
            "volatility": self.volatility,
            "strict": self.strict,
            "retset": self.retset,
            "base": self.base,
            "columns": self.columns,
            "language": self.language,
            "source": self.source,
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, d: dict) -> Function:
        return cls(
            d["schema"],
            d["name"],
            [Argument(*a) for a in d["args"]],
            d["returns"],
            d["body"],
            d.get("volatility", "v"),
            d.get("strict", False),
            d.get("retset", False),
            d.get("base", ""),
            d.get("columns"),
            d.get("language", "sql"),
            d.get("source"),
            d.get("kind", "f"),
        )


def oid_of(database: str, fn: Function) -> int:
    """The function's pg_proc OID: stable, from what tells it apart (database, schema, name, arguments)."""
    from sql.pgcatalog_model import hashed_oid

    return hashed_oid(database, "function", fn.schema, fn.name, *(a.type for a in fn.args))


def function_key(database: str, schema: str, name: str) -> str:
    return f"function:{database}:{schema}:{name}"


def is_statement(sql: str) -> bool:
    """CREATE [OR REPLACE] FUNCTION / PROCEDURE, DROP FUNCTION / PROCEDURE and ALTER FUNCTION."""
    words = sql.split(None, 4)
    upper = [w.upper() for w in words]
    if upper[:1] == ["CREATE"] and upper[1:3] == ["OR", "REPLACE"]:
        upper = upper[:1] + upper[3:]
    return (
        len(upper) >= 2
        and upper[0] in ("CREATE", "DROP", "ALTER")
        and upper[1].split("(")[0] in ("FUNCTION", "PROCEDURE")
    )


def tag_of(sql: str) -> str:
    words = [w.upper() for w in sql.split(None, 4)]
    kind = "PROCEDURE" if "PROCEDURE" in words[:4] else "FUNCTION"
    return f"{words[0]} {kind}"


def run(session, sql: str) -> Result:
    toks = [t for t in Postgres.Tokenizer().tokenize(sql) if t.token_type != T.SEMICOLON]
    session.sql_engine.schema_changed()
    first = toks[0].text.upper()
    if first == "CREATE":
        return _create(session, sql, toks)
    if first == "ALTER":
        return _alter(session, sql, toks)
    return _drop(session, sql, toks)


# -- the definitions of a database ------------------------------------------------------------------------
def overloads(catalog, database: str, schema: str, name: str) -> list[Function]:
    raw = catalog.get_meta(function_key(database, schema, name))
    return [Function.from_json(d) for d in json.loads(raw)] if raw else []


def all_functions(catalog, database: str) -> list[Function]:
    """Every user function of ``database``, in name order."""
    out = []
    for _key, raw in sorted(catalog.meta_items(f"function:{database}:")):
        out.extend(Function.from_json(d) for d in json.loads(raw))
    return out


def _store(catalog, database: str, schema: str, name: str, found: list[Function]) -> None:
    key = function_key(database, schema, name)
    catalog.set_meta(key, json.dumps([f.to_json() for f in found]) if found else None)


# -- CREATE FUNCTION ----------------------------------------------------------------------------------------
def _create(session, sql: str, toks: list[tokens.Token]) -> Result:
    i = 1
    replace = False
    if toks[i].text.upper() == "OR" and i + 1 < len(toks) and toks[i + 1].text.upper() == "REPLACE":
        replace, i = True, i + 2
    kind = toks[i].text.upper()
    procedure = kind == "PROCEDURE"
    i += 1
    schema, name, i = _qualified_name(session, toks, i)
    if i >= len(toks) or toks[i].token_type != T.L_PAREN:
        raise E.SyntaxError_(f'syntax error at or near "{toks[i].text if i < len(toks) else ""}"')
    close = _matching(toks, i)
    args = [_argument(sql, part) for part in _split_commas(toks[i + 1 : close])]
    fn = _clauses(session, sql, toks, close + 1, schema, name, args, procedure)
    _check_arguments(fn)
    if (
        fn.language == "sql"
        and not procedure
        and session.settings.get("check_function_bodies", "on").lower() not in ("off", "false", "no", "0")
    ):
        _check_body(session, fn)  # (pg_dump's scripts turn it off: a body may read a table made later)
    catalog = session.storage.catalog
    found = overloads(catalog, session.database, schema, name)
    same = [k for k, f in enumerate(found) if f.arg_types == fn.arg_types]
    if same and not replace:
        raise E.DuplicateFunction(f'function "{name}" already exists with same argument types')
    if same and found[same[0]].kind != fn.kind:
        raise E.WrongObjectType(
            "cannot change routine kind",
            detail=f'"{name}" is a {"procedure" if found[same[0]].kind == "p" else "function"}.',
        )
    if same:
        old = found[same[0]]
        if old.returns != fn.returns:
            raise E.InvalidFunctionDefinition(
                "cannot change return type of existing function",
                hint=f"Use DROP FUNCTION {old.signature} first.",
            )
        found[same[0]] = fn
    else:
        _check_arities(found, fn)
        found.append(fn)
    _store(catalog, session.database, schema, name, found)
    return Result(None, tag=f"CREATE {kind}")


def _qualified_name(session, toks: list[tokens.Token], i: int) -> tuple[str, str, int]:
    parts = [_name(toks[i])]
    i += 1
    while i + 1 < len(toks) and toks[i].token_type == T.DOT:
        parts.append(_name(toks[i + 1]))
        i += 2
    if len(parts) > 2:
        raise E.FeatureNotSupported(f"cross-database references are not implemented: {'.'.join(parts)}")
    schema = parts[0] if len(parts) == 2 else "public"
    if schema != "public":
        from sql.pgcatalog_model import Snapshot

        if schema not in {s.name for s in Snapshot(session).user_schemas}:
            raise E.InvalidSchemaName(f'schema "{schema}" does not exist')
    return schema, parts[-1], i


def _name(tok: tokens.Token) -> str:
    return tok.text if tok.token_type == T.IDENTIFIER else tok.text.lower()


def _matching(toks: list[tokens.Token], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].token_type in (T.L_PAREN, T.L_BRACKET):
            depth += 1
        elif toks[j].token_type in (T.R_PAREN, T.R_BRACKET):
            depth -= 1
            if depth == 0:
                return j
    raise E.SyntaxError_("syntax error at end of input")


def _split_commas(toks: list[tokens.Token]) -> list[list[tokens.Token]]:
    parts: list[list[tokens.Token]] = []
    cur: list[tokens.Token] = []
    depth = 0
    for t in toks:
        if t.token_type in (T.L_PAREN, T.L_BRACKET):
            depth += 1
        elif t.token_type in (T.R_PAREN, T.R_BRACKET):
            depth -= 1
        if t.token_type == T.COMMA and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur or parts:
        if not cur:
            raise E.SyntaxError_('syntax error at or near ")"')
        parts.append(cur)
    return parts


def _text(sql: str, toks: list[tokens.Token]) -> str:
    return sql[toks[0].start : toks[-1].end + 1]


def _type_of(sql: str, toks: list[tokens.Token]) -> str:
    """format_type of a type as written (42704 for a type PostgreSQL would not know)."""
    text = _text(sql, toks)
    try:
        t = type_lookup(text)
    except Exception:  # noqa: BLE001 - any failure to read it: PostgreSQL's error
        raise E.UndefinedObject(f'type "{text}" does not exist') from None
    shown = t.sql_name or t.name
    return shown + "[]" if text.rstrip().endswith("]") else shown


def _argument(sql: str, toks: list[tokens.Token]) -> Argument:
    mode = toks[0].text.upper()
    if mode in ("OUT", "INOUT", "VARIADIC"):
        raise E.FeatureNotSupported(f"{mode} parameters are not supported")
    if mode == "IN":
        toks = toks[1:]
    default = None
    for k, t in enumerate(toks):
        if t.token_type == T.EQ or t.text.upper() == "DEFAULT":
            if k + 1 >= len(toks):
                raise E.SyntaxError_("syntax error at end of input")
            default = _text(sql, toks[k + 1 :])
            toks = toks[:k]
            break
    if not toks:
        raise E.SyntaxError_("syntax error in a parameter")
    if len(toks) > 1:  # a name, then the type; or a type of several words
        try:
            return Argument(_name(toks[0]), _type_of(sql, toks[1:]), default)
        except E.UndefinedObject:
            pass
    return Argument("", _type_of(sql, toks), default)


def _row_columns(session, written: list[tokens.Token]) -> list[list[str]] | None:
    """[name, type] of each column of the table ``written`` names (None: it names no table of ours)."""
    from sql.binder import resolve_table
    from sql.tables import sql_columns

    if len(written) not in (1, 3) or (len(written) == 3 and written[1].token_type != T.DOT):
        return None
    table = exp.table_(_name(written[-1]), db=_name(written[0]) if len(written) == 3 else None)
    try:
        _, meta = resolve_table(session.storage, session.database, table)
    except Exception:  # noqa: BLE001 - not a table: a type, or 42704 from _type_of
        return None
    return [[c.name, c.type.sql_name or c.type.name] for c in sql_columns(meta)]


def _clauses(
    session,
    sql: str,
    toks: list[tokens.Token],
    i: int,
    schema: str,
    name: str,
    args: list[Argument],
    procedure: bool = False,
) -> Function:
    returns = language = body = None
    volatility, strict = "v", False
    while i < len(toks):
        word = toks[i].text.upper()
        if procedure and word in ("RETURNS", "IMMUTABLE", "STABLE", "VOLATILE", "STRICT", "CALLED", "ROWS"):
            raise E.InvalidFunctionDefinition(f"invalid attribute in procedure definition: {word}")
        if word == "RETURNS" and i + 1 < len(toks) and toks[i + 1].text.upper() == "NULL":
            strict, i = True, i + 5  # RETURNS NULL ON NULL INPUT
        elif word == "RETURNS" and i + 2 < len(toks) and toks[i + 1].text.upper() == "TABLE":
            if toks[i + 2].token_type != T.L_PAREN:
                raise E.SyntaxError_(f'syntax error at or near "{toks[i + 2].text}"')
            close = _matching(toks, i + 2)
            cols = [_argument(sql, part) for part in _split_commas(toks[i + 3 : close])]
            if not cols or any(not c.name or c.default is not None for c in cols):
                raise E.SyntaxError_("syntax error in RETURNS TABLE")
            returns, i = ("record", [[c.name, c.type] for c in cols], True), close + 1
        elif word == "RETURNS":
            j = i + 1
            setof = j < len(toks) and toks[j].text.upper() == "SETOF"
            j += setof
            while j < len(toks) and not (
                toks[j].text.upper() in _CLAUSES and toks[j].token_type != T.IDENTIFIER
            ):
                j += 1
            if j == i + 1 + setof:
                raise E.SyntaxError_("syntax error after RETURNS")
            written = toks[i + 1 + setof : j]
            if _text(sql, written).lower() in ("trigger", "event_trigger"):
                raise E.FeatureNotSupported("trigger functions are not supported (no CREATE TRIGGER here)")
            table = _row_columns(session, written) if setof else None
            if table is not None:  # SETOF a table: rows of its columns
                returns, i = (_name(written[-1]), table, True), j
            else:
                returns, i = (_type_of(sql, written), None, setof), j
        elif word == "LANGUAGE":
            language, i = _name(toks[i + 1]).lower() if i + 1 < len(toks) else "", i + 2
        elif word in _VOLATILITY:
            volatility, i = _VOLATILITY[word], i + 1
        elif word == "STRICT":
            strict, i = True, i + 1
        elif word == "CALLED":  # CALLED ON NULL INPUT
            strict, i = False, i + 4
        elif word in ("PARALLEL", "COST", "ROWS", "SECURITY", "SUPPORT"):
            i += 2
        elif word == "EXTERNAL":
            i += 3
        elif word == "LEAKPROOF":
            i += 1
        elif word == "NOT":
            i += 2
        elif word == "AS":
            if i + 1 >= len(toks) or toks[i + 1].token_type not in (T.STRING, T.HEREDOC_STRING):
                raise E.SyntaxError_(
                    f'syntax error at or near "{toks[i + 1].text if i + 1 < len(toks) else ""}"'
                )
            if i + 2 < len(toks) and toks[i + 2].token_type == T.COMMA:
                raise E.FeatureNotSupported("functions from object files are not supported")
            body, i = toks[i + 1].text, i + 2
        elif word == "RETURN":
            body, i = " SELECT " + sql[toks[i + 1].start :].rstrip().rstrip(";") + " ", len(toks)
        elif word == "BEGIN":
            raise E.FeatureNotSupported(
                "BEGIN ATOMIC function bodies are not supported (AS $$ SELECT ... $$ is)"
            )
        elif word in ("SET", "WINDOW", "TRANSFORM"):
            raise E.FeatureNotSupported(f"{word} in CREATE FUNCTION is not supported")
        else:
            raise E.SyntaxError_(f'syntax error at or near "{toks[i].text}"')
    if language is None:
        raise E.InvalidFunctionDefinition("no language specified")
    if language in ("c", "internal"):
        raise E.FeatureNotSupported(
            f"functions in LANGUAGE {language} are not supported (LANGUAGE sql and plpgsql functions are)"
        )
    if language not in ("sql", "plpgsql"):
        raise E.UndefinedObject(f'language "{language}" does not exist')
    if procedure:
        returns = ("void", None, False)
    if returns is None:
        raise E.InvalidFunctionDefinition("function result type must be specified")
    if body is None:
        raise E.InvalidFunctionDefinition("no function body specified")
    base, columns, retset = returns
    if columns is not None and base == "record":
        shown = "TABLE(" + ", ".join(f"{n} {t}" for n, t in columns) + ")"
    else:
        shown = ("SETOF " if retset else "") + base
    fn = Function(schema, name, args, shown, body, volatility, strict, retset, base, columns)
    if procedure:
        from sql.plpgsql import parse_block

        if any(a.type.lower().startswith(("out ", "inout ")) for a in args):
            raise E.FeatureNotSupported("procedures with OUT / INOUT parameters are not supported")
        fn.language, fn.source, fn.kind = language, body, "p"
        if language == "plpgsql":
            parse_block(body, "procedures", loops=True)  # (a syntax error is CREATE's, as PostgreSQL's)
        return fn
    if language == "plpgsql":
        from sql.plpgsql_function import compile_body

        fn.language, fn.source = language, body
        fn.body = compile_body(body, fn)
    return fn


def _check_arguments(fn: Function) -> None:
    names = [a.name for a in fn.args if a.name]
    for k, n in enumerate(names):
        if n in names[:k]:
            raise E.InvalidFunctionDefinition(f'parameter name "{n}" used more than once')
    seen_default = False
    for a in fn.args:
        if a.default is not None:
            seen_default = True
        elif seen_default:
            raise E.InvalidFunctionDefinition(
                "input parameters after one with a default value must also have defaults"
            )


def _check_arities(found: list[Function], fn: Function) -> None:
    """0A000 when ``fn`` takes as many arguments as one of ``found`` (the overloads of its new name):
    calls are told apart by their number of arguments here."""
    for f in found:
        if f.required <= len(fn.args) and fn.required <= len(f.args):
            raise E.FeatureNotSupported(
                f"function {fn.signature} takes as many arguments as {f.signature}: "
                "overloads must differ in their number of arguments"
            )


def body_select(fn: Function) -> exp.Select:
    """The body as a parsed SELECT (0A000 / 42P13 for what cannot be a function's body here)."""
    from sql.parse import parse, split

    statements = split(fn.body)
    if len(statements) != 1:
        raise E.FeatureNotSupported("a function body of more than one statement is not supported")
    tree = parse(statements[0])
    if not isinstance(tree, exp.Select):
        raise E.FeatureNotSupported("a function body must be a SELECT here")
    want = len(fn.columns) if fn.columns is not None else 1
    if any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in tree.expressions
    ):
        if want == 1:
            raise E.InvalidFunctionDefinition(
                "return type mismatch in function declared to return " + fn.base,
                detail="Final statement must return exactly one column.",
            )
    elif len(tree.expressions) != want:
        raise E.InvalidFunctionDefinition(
            "return type mismatch in function declared to return " + fn.base,
            detail="Final statement returns too many columns."
            if len(tree.expressions) > want
            else "Final statement returns too few columns.",
        )
    return tree


def _check_body(session, fn: Function) -> None:
    """The body binds with NULLs of the parameters' types in their place (check_function_bodies)."""
    from sql.rewrite.user_functions import inline_call, inline_set

    body_select(fn)
    args = [exp.Cast(this=exp.Null(), to=exp.DataType.build(a.type, dialect="postgres")) for a in fn.args]
    if fn.retset:
        rows = inline_set(fn, args, session.table_columns, fn.name)
        probe = exp.select("*").from_(
            exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier(fn.name)))
        )
    else:
        probe = exp.select(exp.alias_(inline_call(fn, args, session.table_columns), fn.name, quoted=True))
    session.prepare(probe.sql("postgres"), [])


# -- DROP FUNCTION ------------------------------------------------------------------------------------------
def _drop(session, sql: str, toks: list[tokens.Token]) -> Result:
    i = 2
    kind = toks[1].text.upper()
    what = kind.lower()
    exists = False
    if i + 1 < len(toks) and toks[i].text.upper() == "IF" and toks[i + 1].text.upper() == "EXISTS":
        exists, i = True, i + 2
    if toks and toks[-1].text.upper() in ("CASCADE", "RESTRICT"):
        toks = toks[:-1]
    targets = []
    for part in _split_commas(toks[i:]):
        if not part:
            raise E.SyntaxError_(f'syntax error at or near "{sql}"')
        targets.append(_signature(session, sql, part, 0)[:3])
    catalog = session.storage.catalog
    for schema, name, types in targets:
        found = overloads(catalog, session.database, schema, name)
        hit = [k for k in _chosen(found, name, types) if (found[k].kind == "p") == (kind == "PROCEDURE")]
        if not hit:
            missing = (
                f'could not find a {what} named "{name}"'
                if types is None
                else (f"{what} {_shown(name, types)} does not exist")
            )
            if exists:
                session.notice(E.Notice_(f"{what} {_shown(name, types)} does not exist, skipping"))
                continue
            raise E.UndefinedFunction(missing)
        _store(catalog, session.database, schema, name, [f for k, f in enumerate(found) if k not in hit])
        for k in hit:
            comments.function_dropped(session, oid_of(session.database, found[k]))
    return Result(None, tag=f"DROP {kind}")


def _signature(session, sql: str, toks: list[tokens.Token], i: int) -> tuple[str, str, list[str] | None, int]:
    """``name[(types)]`` from toks[i]: (schema, name, the argument types or None without a list, the
    index after it)."""
    schema, name, j = _qualified_name(session, toks, i)
    types = None
    if j < len(toks) and toks[j].token_type == T.L_PAREN:
        close = _matching(toks, j)
        types = [_arg_type(sql, p) for p in _split_commas(toks[j + 1 : close])]
        j = close + 1
    return schema, name, types, j


def _chosen(found: list[Function], name: str, types: list[str] | None) -> list[int]:
    """Which of ``found`` a signature names (all of them without an argument list: 42725 for more
    than one)."""
    if types is None:
        if len(found) > 1:
            raise E.AmbiguousFunction(
                f'function name "{name}" is not unique',
                hint="Specify the argument list to select the function unambiguously.",
            )
        return list(range(len(found)))
    return [k for k, f in enumerate(found) if f.arg_types == types]


def _shown(name: str, types: list[str] | None) -> str:
    return f"{name}({', '.join(types)})" if types is not None else name


def _arg_type(sql: str, toks: list[tokens.Token]) -> str:
    """The type of one argument of a signature's list (``integer``, ``x integer``, ``IN x int``)."""
    rest = toks[1:] if toks and toks[0].text.upper() in ("IN", "OUT", "INOUT", "VARIADIC") else toks
    try:
        return _argument(sql, rest).type
    except E.UndefinedObject:
        raise E.UndefinedObject(f'type "{_text(sql, toks)}" does not exist') from None


# -- ALTER FUNCTION ---------------------------------------------------------------------------------------
def _alter(session, sql: str, toks: list[tokens.Token]) -> Result:
    """ALTER FUNCTION name[(types)] OWNER TO role (what pg_dump writes after each function: functions
    belong to the bootstrap superuser here, roles.unchanged_owner) or RENAME TO; other changes are
    0A000."""
    from sql.roles import unchanged_owner

    if toks[1].text.upper() == "PROCEDURE":
        raise E.FeatureNotSupported("ALTER PROCEDURE is not supported")
    schema, name, types, j = _signature(session, sql, toks, 2)
    found = overloads(session.storage.catalog, session.database, schema, name)
    hit = _chosen(found, name, types)
    if not hit:
        raise E.UndefinedFunction(f"function {_shown(name, types)} does not exist")
    fn = found[hit[0]]
    rest = [t.text.upper() for t in toks[j:]]
    if rest[:2] == ["RENAME", "TO"] and len(toks) == j + 3:
        _rename(session, fn, _name(toks[j + 2]))
        return Result(None, tag="ALTER FUNCTION")
    if rest[:2] != ["OWNER", "TO"] or len(toks) != j + 3:
        raise E.FeatureNotSupported("ALTER FUNCTION is supported for OWNER TO and RENAME TO only")
    unchanged_owner(session, toks[j + 2].text, f"function {fn.signature}")
    return Result(None, tag="ALTER FUNCTION")


def _rename(session, fn: Function, new: str) -> None:
    """ALTER FUNCTION ... RENAME TO ``new``: the overload moves to the new name (42723 when one of
    the same argument types is there already); its description goes with it."""
    catalog = session.storage.catalog
    types = fn.arg_types
    there = overloads(catalog, session.database, fn.schema, new)
    if any(f.arg_types == types for f in there):
        raise E.DuplicateFunction(f'function {_shown(new, types)} already exists in schema "{fn.schema}"')
    _check_arities(there, fn)
    old_oid = oid_of(session.database, fn)
    db_id = catalog.database(session.database).id
    text = catalog.comments(db_id).get(("function", str(old_oid), ""))
    left = [f for f in overloads(catalog, session.database, fn.schema, fn.name) if f.arg_types != types]
    _store(catalog, session.database, fn.schema, fn.name, left)
    moved = Function.from_json({**fn.to_json(), "name": new})
    _store(catalog, session.database, fn.schema, new, [*there, moved])
    comments.function_dropped(session, old_oid)
    if text is not None:
        catalog.set_comment(db_id, "function", str(oid_of(session.database, moved)), "", text)
