"""PL/pgSQL functions: a body of declarations, assignments, IF, SELECT INTO and RETURN, compiled into
one SQL expression that a call inlines as it inlines a LANGUAGE sql function's body
(sql/rewrite/user_functions.py).

    CREATE FUNCTION level(v double precision) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE high double precision := 80;
    BEGIN
      IF v > high THEN RETURN 'high'; ELSIF v > high / 2 THEN RETURN 'mid'; END IF;
      RETURN 'low';
    END $$;
    -> SELECT CASE WHEN $1 > (CAST(80 AS DOUBLE PRECISION)) THEN CAST('high' AS TEXT)
                   WHEN $1 > (CAST(80 AS DOUBLE PRECISION)) / 2 THEN CAST('mid' AS TEXT)
                   ELSE CAST('low' AS TEXT) END

The statements are read in order, each variable standing for an expression of the parameters: an
assignment gives the variable a new expression, a reference is replaced by the current one, an IF
that may return becomes a CASE whose branches each go on with the statements after the IF (one that
cannot gives each variable it changes a CASE instead), and RETURN ends a path. A variable's
expression is copied into each reference, so bodies whose expressions grow too large are refused.
A call then costs what its expression costs, computed column-wise over all rows at once (no
interpreter runs per row), and gives what PostgreSQL's function gives for the same arguments.

- ``DECLARE name [CONSTANT] type [NOT NULL] [{:= | = | DEFAULT} expr]``, in nested blocks too (their
  names are theirs until their END); a variable without a default is NULL;
- ``name := expr`` (or ``=``), for parameters too;
- ``SELECT exprs INTO names FROM ...``: each name the first row's value of its column (NULL without a
  row); ``FOUND`` then says whether there was a row (false before any);
- ``IF cond THEN ... [ELSIF cond THEN ...] [ELSE ...] END IF``, ``CASE`` statements (read as that IF:
  sql/plpgsql.py), ``NULL``;
- ``RETURN expr`` (cast to the declared result type); in a SETOF / TABLE function, ``RETURN QUERY
  select`` on a path without IF;
- ``RAISE EXCEPTION 'format' [, args] [USING ERRCODE = '...']``: that error when a call reaches it;
- a path that ends without RETURN raises 2F005 when a call takes it, as in PostgreSQL.

Not supported (0A000 when the function is created, naming the construct): loops,
EXCEPTION handlers, SELECT INTO STRICT, other statements (INSERT, UPDATE, PERFORM, EXECUTE ...),
RAISE below EXCEPTION, %TYPE, %ROWTYPE and record variables, RETURNS void and trigger functions.
As with check_function_bodies, a body is read when the function is created but its queries are
bound only when it is called (PostgreSQL's plpgsql validator checks syntax only).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sql import errors as E
from sql.parse import parse
from sql.plpgsql import (
    ASSIGN,
    CONDITIONS,
    DECL,
    first_word,
    into_clause,
    normal_name,
    parse_block,
    read_raise,
    rest_after,
    split_default,
    walk,
)
from sql.types import lookup as type_lookup

if TYPE_CHECKING:
    from sql.user_functions import Function

WHAT = "PL/pgSQL functions"
MAX_BODY = 100_000  # characters of a compiled body: IFs copy the statements after them into each branch
MAX_PATHS = 2_000  # (IFs in a row double the paths: checked as they are compiled, before any text)
MAX_NODES = 20_000  # nodes of one variable's expression (see _bounded)


def compile_body(source: str, fn: Function) -> str:
    """The SELECT a call of ``fn`` inlines, from its PL/pgSQL ``source``."""
    if fn.base == "void":
        raise E.FeatureNotSupported(f"{WHAT} returning void are not supported (they have no value to inline)")
    if fn.columns is not None and fn.base != "record":
        raise E.FeatureNotSupported(f"{WHAT} returning rows of a table are not supported")
    block = parse_block(source, WHAT)
    env: dict[str, tuple[exp.Expression, str | None]] = {"found": (exp.false(), "boolean")}
    for k, a in enumerate(fn.args):
        if a.name:
            env[a.name] = (parse(f"SELECT ${k + 1}").expressions[0], a.type)
    c = _Compiler(fn)
    if fn.retset:
        body = c.query([block], env)
    else:
        expr = c.value([block], env)
        body = exp.select(expr)
        if expr.find(exp.Select) is not None:
            # (a FROM: the inliner then reads the arguments from a row of their own, so an argument
            # naming a caller's column is not read inside a query of the body as that query's column)
            body = body.from_(
                exp.Subquery(this=exp.select("1"), alias=exp.TableAlias(this=exp.to_identifier("__plpgsql")))
            )
    text = body.sql("postgres")
    if len(text) > MAX_BODY:
        raise E.FeatureNotSupported(f"{WHAT}: the body is too large once its IF branches are expanded")
    return text


class _Compiler:
    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.result = exp.DataType.build(fn.base, dialect="postgres") if not fn.retset else None
        self.paths = 0  # statement lists compiled: IFs in a row multiply them (MAX_PATHS)

    # -- scalar functions: the value each path returns ----------------------------------------------------
    def value(self, items: list, env: dict) -> exp.Expression:
        """The value the statements ``items`` (then nothing) return, variables as in ``env``."""
        self.paths += 1
        if self.paths > MAX_PATHS:
            raise E.FeatureNotSupported(f"{WHAT}: too many paths through the body's IFs to inline")
        for k, item in enumerate(items):
            kind = item[0]
            rest = items[k + 1 :]
            if kind == "block":
                body, inner, declared = self.enter(item, env)
                # the block's names are its own: after END the outer ones come back, with the values
                # the block gave those it did not shadow
                shadowed = {n: env[n] for n in declared if n in env}
                hidden = [n for n in declared if n not in env]
                return self.value([*body, ("scope", shadowed, hidden), *rest], inner)
            if kind == "scope":
                _, shadowed, hidden = item
                env = {n: v for n, v in env.items() if n not in hidden}
                env.update(shadowed)
                continue
            if kind == "if" and not _ends(item):
                env = self.merged_if(item, env)  # (no path ends in it: each variable one CASE)
                continue
            if kind == "if":
                _, branches, otherwise = item
                ifs = [
                    exp.If(this=self.expr(cond, env), true=self.value([*body, *rest], dict(env)))
                    for cond, body in branches
                ]
                return exp.Case(ifs=ifs, default=self.value([*otherwise, *rest], dict(env)))
            text = item[1]
            word = first_word(text)
            if word == "RETURN":
                value = rest_after(text, "RETURN")
                if not value:
                    raise E.SyntaxError_('missing expression at or near "RETURN"')
                if re.match(r"(?i)(QUERY|NEXT)\b", value):
                    raise E.SyntaxError_("cannot use RETURN QUERY / RETURN NEXT in a non-SETOF function")
                return exp.Cast(this=exp.Paren(this=self.expr(value, env)), to=self.result.copy())
            if word == "RAISE":
                return self.raised(text, env)
            self.statement(text, word, env)
        return self.error("2F005", "control reached end of function without RETURN")

    def run(self, items: list, env: dict) -> dict:
        """``env`` after statements none of which ends the function (no RETURN or RAISE in them)."""
        for item in items:
            if item[0] == "block":
                body, inner, declared = self.enter(item, env)
                inner = self.run(body, inner)
                env = {n: (env[n] if n in declared else v) for n, v in inner.items() if n in env}
            elif item[0] == "if":
                env = self.merged_if(item, env)
            else:
                self.statement(item[1], first_word(item[1]), env)
        return env

    def merged_if(self, item: tuple, env: dict) -> dict:
        """An IF none of whose branches ends the function: each variable a branch changes becomes
        CASE WHEN cond THEN (its value after that branch) ... ELSE (after the ELSE) END, so IFs in a
        row grow the expression by their own size rather than doubling it."""
        _, branches, otherwise = item
        conds = [self.expr(cond, env) for cond, _ in branches]
        after = [self.run(body, dict(env)) for _, body in branches]
        last = self.run(otherwise, dict(env))
        out = dict(env)
        for name, (old, typ) in env.items():
            values = [a[name][0] for a in after] + [last[name][0]]
            if all(v is old for v in values):
                continue
            ifs = [exp.If(this=c.copy(), true=v) for c, v in zip(conds, values, strict=False)]
            out[name] = (_bounded(exp.Case(ifs=ifs, default=values[-1])), typ)
        return out

    # -- set-returning functions: the query of RETURN QUERY ------------------------------------------------
    def query(self, items: list, env: dict) -> exp.Select:
        found: exp.Select | None = None
        pending = list(items)
        while pending:
            item = pending.pop(0)
            if item[0] == "block":  # (one scope: a set-returning body has no IF to branch)
                body, env, _declared = self.enter(item, env)
                pending[:0] = body
                continue
            if item[0] == "if":
                raise E.FeatureNotSupported(f"{WHAT}: IF in a set-returning function is not supported")
            text = item[1]
            word = first_word(text)
            if word == "RETURN":
                rest = rest_after(text, "RETURN")
                m = re.match(r"(?is)^QUERY\s+(.+)$", rest)
                if m is not None:
                    if found is not None:
                        raise E.FeatureNotSupported(f"{WHAT}: more than one RETURN QUERY is not supported")
                    found = self.select(m[1], env)
                    continue
                if rest:
                    raise E.SyntaxError_("RETURN cannot have a parameter in function returning set",
                                         hint="Use RETURN NEXT or RETURN QUERY.")  # fmt: skip
                break
            if word == "RAISE":
                raise E.FeatureNotSupported(f"{WHAT}: RAISE in a set-returning function is not supported")
            self.statement(text, word, env)
        if found is None:
            raise E.FeatureNotSupported(f"{WHAT}: a set-returning function needs RETURN QUERY here")
        return found

    # -- statements ------------------------------------------------------------------------------------------
    def statement(self, text: str, word: str, env: dict) -> None:
        if word == "NULL" and text.strip().upper() == "NULL":
            return
        if word == "SELECT" and into_clause(text) is not None:
            self.selectinto_clause(text, env)
            return
        m = ASSIGN.match(text)
        if m is not None and word not in ("SELECT", "WITH", "PERFORM"):
            name = normal_name(m["name"])
            if name not in env:
                raise E.SyntaxError_(f'"{name}" is not a known variable')
            _old, typ = env[name]
            env[name] = (self.typed(self.expr(m["expr"], env), typ), typ)
            return
        raise E.FeatureNotSupported(
            f"{WHAT}: {word or 'this statement'} is not supported "
            "(DECLARE, assignments, IF, SELECT INTO, RETURN and RAISE EXCEPTION are)"
        )

    def declare(self, text: str, env: dict) -> str:
        """A declaration's variable into ``env``; its name."""
        m = DECL.match(text)
        if m is None:
            raise E.SyntaxError_(f'syntax error at or near "{text.split()[0] if text.split() else text}"')
        name, rest = normal_name(m["name"]), m["rest"]
        if re.match(r"(?is)^ALIAS\s+FOR\b", rest):
            raise E.FeatureNotSupported(f"{WHAT}: ALIAS FOR is not supported")
        typ, default = split_default(rest)
        typ = re.sub(r"(?is)\s+NOT\s+NULL\s*$", "", typ).strip()
        typ = re.sub(r"(?is)\s+COLLATE\s+\S+\s*$", "", typ).strip()
        if "%" in typ or typ.lower() in ("record", "refcursor", "cursor"):
            raise E.FeatureNotSupported(f"{WHAT}: variables of type {typ} are not supported")
        try:
            type_lookup(typ)
            exp.DataType.build(typ, dialect="postgres")
        except Exception:  # noqa: BLE001 - any failure to read it: PostgreSQL's error
            raise E.UndefinedObject(f'type "{typ}" does not exist') from None
        value = exp.null() if default is None else self.expr(default, env)
        env[name] = (self.typed(value, typ), typ)
        return name

    def enter(self, block: tuple, env: dict) -> tuple[list, dict, list[str]]:
        """A nested block: its statements, the variables inside it (its declarations over ``env``,
        which stays as it is) and the names it declares."""
        _, body, handlers, decls, _label = block
        if handlers:
            raise E.FeatureNotSupported(f"{WHAT}: EXCEPTION handlers are not supported")
        inner = dict(env)
        return body, inner, [self.declare(d, inner) for d in decls]

    def selectinto_clause(self, text: str, env: dict) -> None:
        into = into_clause(text)
        assert into is not None
        start, end, targets, strict = into
        if strict:
            raise E.FeatureNotSupported(f"{WHAT}: SELECT INTO STRICT is not supported")
        query = self.select(text[:start] + " " + text[end:], env)
        items = list(query.expressions)
        if len(items) != len(targets):
            raise E.FeatureNotSupported(f"{WHAT}: SELECT INTO needs one variable per column")
        for name, item in zip(targets, items, strict=True):
            if name not in env:
                raise E.SyntaxError_(f'"{name}" is not a known variable')
            one = query.copy()
            one.set("expressions", [item.copy()])
            if one.args.get("limit") is None:
                one = one.limit(1)
            _old, typ = env[name]
            env[name] = (self.typed(exp.Subquery(this=one), typ), typ)
        env["found"] = (exp.Exists(this=query.copy()), "boolean")

    def raised(self, text: str, env: dict) -> exp.Expression:
        """RAISE EXCEPTION's failure, as the value of the path reaching it (RAISE below EXCEPTION:
        0A000, a notice being no value to inline)."""
        level, given, text, args_sql = read_raise(rest_after(text, "RAISE"), WHAT)
        if level != "EXCEPTION":
            raise E.FeatureNotSupported(f"{WHAT}: RAISE {level} is not supported (RAISE EXCEPTION is)")
        code = "P0001"
        if given is not None:
            code = CONDITIONS.get(given.lower(), given)
            if not re.fullmatch(r"[0-9A-Z]{5}", code):
                raise E.UndefinedObject(f'unrecognized exception condition "{given}"')
        parts = text.split("%")
        args = [] if not args_sql else list(parse(f"SELECT {args_sql}").expressions)
        if len(args) != len(parts) - 1:
            raise E.SyntaxError_("too few parameters specified for RAISE" if len(args) < len(parts) - 1
                                 else "too many parameters specified for RAISE")  # fmt: skip
        message: exp.Expression = exp.Literal.string(f"pgsql {code}: {parts[0]}")
        for arg, after in zip(args, parts[1:], strict=True):
            shown = exp.Coalesce(
                this=exp.Cast(this=exp.Paren(this=self.substitute(arg, env)), to=exp.DataType.build("text")),
                expressions=[exp.Literal.string("<NULL>")],
            )
            message = exp.DPipe(
                this=exp.DPipe(this=message, expression=shown), expression=exp.Literal.string(after)
            )
        return self.fail(message)

    # -- expressions ------------------------------------------------------------------------------------------
    def expr(self, text: str, env: dict) -> exp.Expression:
        try:
            tree = parse(f"SELECT {text}")
        except (ParseError, TokenError, E.SqlError) as e:
            raise E.SyntaxError_(f"syntax error in PL/pgSQL expression {text.strip()!r}: {e}") from None
        if not isinstance(tree, exp.Select) or len(tree.expressions) != 1 or tree.args.get("from"):
            raise E.FeatureNotSupported(f"{WHAT}: {text.strip()!r} is not one expression")
        item = tree.expressions[0]
        return self.substitute(item.this if isinstance(item, exp.Alias) else item, env)

    def select(self, text: str, env: dict) -> exp.Select:
        try:
            tree = parse(text)
        except (ParseError, TokenError, E.SqlError) as e:
            raise E.SyntaxError_(f"syntax error in PL/pgSQL query: {e}") from None
        if not isinstance(tree, exp.Select):
            raise E.FeatureNotSupported(f"{WHAT}: a query must be a SELECT here")
        return self.substitute(tree, env)

    @staticmethod
    def substitute(tree: exp.Expression, env: dict) -> exp.Expression:
        """``tree`` with each unqualified reference to a variable replaced by its expression."""

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier):
                ident = node.this
                name = ident.this if ident.quoted else ident.this.lower()
                if name in env:
                    return exp.Paren(this=env[name][0].copy())
            return node

        return tree.copy().transform(swap, copy=False)

    @staticmethod
    def typed(value: exp.Expression, typ: str | None) -> exp.Expression:
        _bounded(value)
        if typ is None:
            return value
        return exp.Cast(this=exp.Paren(this=value), to=exp.DataType.build(typ, dialect="postgres"))

    def error(self, code: str, message: str) -> exp.Expression:
        return self.fail(exp.Literal.string(f"pgsql {code}: {message}"))

    def fail(self, message: exp.Expression) -> exp.Expression:
        call = exp.Anonymous(this="error", expressions=[message])
        return exp.Cast(this=call, to=self.result.copy()) if self.result is not None else call


def _bounded(e: exp.Expression) -> exp.Expression:
    """``e``, unless it has more than MAX_NODES nodes (0A000). A variable's expression is copied
    into each reference to it, so one used twice per statement doubles in size with every statement:
    checked at each step, the walk stops after MAX_NODES nodes."""
    for count, _node in enumerate(e.walk()):
        if count > MAX_NODES:
            raise E.FeatureNotSupported(
                f"{WHAT}: the body is too large to inline (its variables' expressions grow past {MAX_NODES} nodes)"
            )
    return e


def _ends(stmt: tuple) -> bool:
    """Whether a statement may end the function (RETURN or RAISE in it, at any depth)."""
    return any(s[0] == "sql" and first_word(s[1]) in ("RETURN", "RAISE") for s in walk(stmt))
