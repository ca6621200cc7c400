"""Statement splitting and parsing (sqlglot, PostgreSQL dialect), with PostgreSQL-style errors.

``split`` cuts a simple-query string at top-level semicolons using sqlglot's tokenizer, so
semicolons inside strings, dollar quotes and comments do not split; comment-only pieces vanish.
``parse`` turns one statement into a sqlglot expression or raises SyntaxError_ (42601) with the
1-based character position of the offending token.
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from sql.errors import SyntaxError_, UndefinedFunction

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is not a user's concern


# Schemas whose functions are ours (PostgreSQL's built-ins, TimescaleDB's API and internals, and
# DuckDB's, which tsgres answers as PostgreSQL's): a call qualified with one of them is read as the
# unqualified call. A call qualified with any other schema stays a Dot over the call, for
# sql/rewrite/qualified_calls.py to refuse.
FUNCTION_SCHEMAS = frozenset(
    (
        "pg_catalog",
        "public",
        "information_schema",
        "_timescaledb_functions",
        "_timescaledb_internal",
        "_timescaledb_catalog",
        "timescaledb_information",
        "timescaledb_experimental",
    )
)


def is_function_schema(name: exp.Identifier) -> bool:
    """Whether ``name`` (as written: a quoted name keeps its case) is one of FUNCTION_SCHEMAS."""
    return (name.this if name.quoted else name.this.lower()) in FUNCTION_SCHEMAS


def sqlglot_function(name: str, args: list) -> exp.Expr:
    """sqlglot's own reading of PostgreSQL's function ``name`` (upper case) of ``args``: what a rule
    falls back to where it does not translate a call the parser keeps as written."""
    import inspect

    build = Postgres.Parser.FUNCTIONS[name]
    if "dialect" in inspect.signature(build).parameters:
        return build(args, dialect=Postgres())
    return build(args)


class _Postgres(Postgres):
    """PostgreSQL as sqlglot reads it, less the normalisations that lose what PostgreSQL means."""

    class Parser(Postgres.Parser):
        # sqlglot folds date_part() into EXTRACT, but PostgreSQL's date_part returns double
        # precision and names its column "date_part", EXTRACT returns numeric ("extract")
        FUNCTION_PARSERS = {k: v for k, v in Postgres.Parser.FUNCTION_PARSERS.items() if k != "DATE_PART"}
        # to_char keeps PostgreSQL's template: sql/rewrite/pg_format.py translates it (sqlglot's
        # token-by-token strftime mapping misreads FM, quoted text, MS, Q, am/pm)
        FUNCTIONS = {
            **Postgres.Parser.FUNCTIONS,
            "TO_CHAR": lambda args: exp.Anonymous(this="to_char", expressions=args),
            # and so do to_date and to_timestamp(text, template) (pg_format.strptime_format)
            "TO_DATE": lambda args: exp.Anonymous(this="to_date", expressions=args),
            "TO_TIMESTAMP": lambda args, dialect: (
                exp.Anonymous(this="to_timestamp", expressions=args)
                if len(args) == 2
                else sqlglot_function("TO_TIMESTAMP", args)
            ),
        }

        # interval '3 days -00:30:00': sqlglot makes '<number> <unit>' strings the canonical INTERVAL
        # '3' DAYS when it finds one such pair, dropping whatever else the text holds; such a text is
        # kept whole (DuckDB reads it as PostgreSQL does)
        def _parse_interval_span(self, this: exp.Expr, parse_function_unit: bool = True) -> exp.Interval:
            text = this.name if this is not None and this.is_string else None
            interval = super()._parse_interval_span(this, parse_function_unit=parse_function_unit)
            if (
                text is not None
                and isinstance(interval.args.get("unit"), exp.Var)
                and len(exp.INTERVAL_STRING_RE.findall(text)) == 1
                and not exp.INTERVAL_STRING_RE.fullmatch(text)
            ):
                return self.expression(exp.Interval(this=exp.Literal.string(text)))
            return interval

        # ``public.time_bucket(...)``, ``pg_catalog.count(*) FILTER (...)``, ``pg_catalog.extract(epoch
        # FROM t)``: sqlglot reads a call after a dot as an anonymous function (its special syntax a
        # syntax error, count no Count) inside a Dot that every rule would have to look through. After
        # one of FUNCTION_SCHEMAS the call is parsed as it is without the schema, and the schema dropped.
        def _parse_column_ops(self, this: exp.Expr | None) -> exp.Expr | None:
            if self._at_qualified_call(this):
                start = self._index
                self._advance()  # the dot
                call = self._parse_function()
                if call is not None:
                    this = call
                else:  # a name that is no function name (a keyword): sqlglot's reading
                    self._retreat(start)
            return super()._parse_column_ops(this)

        def _at_qualified_call(self, this: exp.Expr | None) -> bool:
            """At ``.name(`` after a lone name that is one of FUNCTION_SCHEMAS."""
            i = self._index
            return (
                isinstance(this, exp.Column)
                and not this.table
                and isinstance(this.this, exp.Identifier)
                and i + 2 < len(self._tokens)
                and self._tokens[i].token_type == TokenType.DOT
                and self._tokens[i + 2].token_type == TokenType.L_PAREN
                and is_function_schema(this.this)
            )

        # ``$1::oid[]``, ``'{...}'::regtype[]``: sqlglot returns an object identifier type (oid,
        # regclass, regtype ...) before it looks for the brackets of an array type
        def _parse_types(
            self,
            check_func: bool = False,
            schema: bool = False,
            allow_identifiers: bool = True,
            with_collation: bool = False,
        ) -> exp.Expr | None:
            this = super()._parse_types(check_func, schema, allow_identifiers, with_collation)
            if isinstance(this, exp.ObjectIdentifier):
                while self._match_pair(TokenType.L_BRACKET, TokenType.R_BRACKET):
                    this = exp.DataType(this=exp.DType.ARRAY, expressions=[this], nested=True)
            return this

        # referential actions, as sqlglot reads them, and PostgreSQL 15's column list of SET NULL /
        # SET DEFAULT (``ON DELETE SET NULL (a, b)``), kept in the option's text:
        # sql/foreign_keys.py reads the options
        def _parse_key_constraint_options(self) -> list[str]:
            options: list[str] = []
            while self._curr:
                if not self._match(TokenType.ON):
                    var = self._parse_var_from_options(self.KEY_CONSTRAINT_OPTIONS, raise_unmatched=False)
                    if not var:
                        break
                    options.append(var.name)
                    continue
                event = self._advance_any() and self._prev.text.upper()
                if self._match_text_seq("NO", "ACTION"):
                    action = "NO ACTION"
                elif self._match_text_seq("CASCADE") or self._match_text_seq("RESTRICT"):
                    action = self._prev.text.upper()
                elif self._match(TokenType.SET) and self._match_set((TokenType.NULL, TokenType.DEFAULT)):
                    action = f"SET {self._prev.text.upper()}"
                    if self._match(TokenType.L_PAREN, advance=False):
                        names = [i.name for i in self._parse_wrapped_id_vars()]
                        action += f" ({', '.join(names)})"
                else:
                    self.raise_error("Invalid key constraint")
                options.append(f"ON {event} {action}")
            return options

        # a set-returning call in FROM: ``FROM public.show_chunks('t')``, ``pg_catalog.unnest(x)``
        def _parse_table_parts(
            self,
            schema: bool = False,
            is_db_reference: bool = False,
            wildcard: bool = False,
            fast: bool = False,
        ) -> exp.Table | exp.Dot | None:
            table = super()._parse_table_parts(schema, is_db_reference, wildcard, fast)
            db = table.args.get("db") if isinstance(table, exp.Table) else None
            if (
                isinstance(table, exp.Table)
                and isinstance(table.this, exp.Func)
                and isinstance(db, exp.Identifier)
                and not table.args.get("catalog")
                and is_function_schema(db)
            ):
                table.set("db", None)
            return table


DIALECT = _Postgres()


def split(sql: str) -> list[str]:
    try:
        tokens = DIALECT.tokenize(sql)
    except TokenError as exc:
        raise SyntaxError_(f"syntax error: {exc}") from exc
    out: list[str] = []
    start: int | None = None
    end = 0
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            if start is not None:
                out.append(sql[start : end + 1])
            start = None
            continue
        if start is None:
            start = tok.start
        end = tok.end
    if start is not None:
        out.append(sql[start : end + 1])
    return out


# quoted text that may hold a "$": left alone when parameters are spaced out
_PARAM_CONTEXT = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\$\$.*?\$\$|\$([A-Za-z_][A-Za-z0-9_]*)\$.*?\$\1\$|(\$\d+)(?=\S)""",
    re.S,
)


def space_parameters(sql: str) -> str:
    """``$1`` followed directly by another character gets a space after it: sqlglot's tokenizer
    reads ``($1,$2)`` as a dollar-quoted string (PostgreSQL's tags cannot start with a digit)."""
    if "$" not in sql:
        return sql
    return _PARAM_CONTEXT.sub(lambda m: m.group(2) + " " if m.group(2) else m.group(0), sql)


# ALTER TABLE t RENAME c TO d renames a column (COLUMN is optional in PostgreSQL; Alembic leaves it
# out); sqlglot reads it as renaming the table to c. The word is put in before parsing.
_RENAME_COLUMN = re.compile(
    r"""(\bRENAME\s+)(?!(?:COLUMN|TO|CONSTRAINT)\b)("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)(\s+TO\b)""", re.I
)
_ALTER_TABLE = re.compile(r"\s*ALTER\s+TABLE\b", re.I)


_CREATE_TABLE = re.compile(
    r"(?is)\s*CREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE\b"
)
ON_COMMIT_DROP = re.compile(r"(?is)\s+ON\s+COMMIT\s+DROP\b")
_INSERT = re.compile(r"(?is)\s*(?:WITH\b.*)?\bINSERT\s+INTO\b")
# INSERT's OVERRIDING {SYSTEM | USER} VALUE (sqlglot does not read it): cut out, kept in the tree's meta
_OVERRIDING = re.compile(r"(?is)\s+OVERRIDING\s+(SYSTEM|USER)\s+VALUE\b")


def parse(sql: str) -> exp.Expression:
    overriding = None
    identity_options: list[str] = []
    if _ALTER_TABLE.match(sql):
        sql = _RENAME_COLUMN.sub(r"\1COLUMN \2\3", sql)
    elif _CREATE_TABLE.match(sql):  # sqlglot reads ON COMMIT DELETE / PRESERVE ROWS, not DROP
        sql = ON_COMMIT_DROP.sub(" ON COMMIT PRESERVE ROWS", sql)
        if "IDENTITY" in sql.upper():
            from sql.identity import cut_options

            sql, identity_options = cut_options(sql)
    elif _INSERT.match(sql) and (m := _OVERRIDING.search(sql)) and sql[: m.start()].count("'") % 2 == 0:
        overriding, sql = m[1].lower(), sql[: m.start()] + sql[m.end() :]
    try:
        try:
            tree = sqlglot.parse_one(sql, read=DIALECT)
        except TokenError:
            spaced = space_parameters(sql)
            if spaced == sql:
                raise
            tree = sqlglot.parse_one(spaced, read=DIALECT)
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        near = err.get("highlight") or ""
        pos = _position(sql, err.get("line"), err.get("col"), near)
        missing = _call_without_arguments(sql, err, pos)
        if missing is not None:
            raise UndefinedFunction(f"function {missing}() does not exist", position=pos) from exc
        msg = f'syntax error at or near "{near}"' if near else "syntax error at end of input"
        raise SyntaxError_(msg, position=pos) from exc
    except TokenError as exc:
        raise SyntaxError_(f"syntax error: {exc}") from exc
    if tree is None:
        raise SyntaxError_("syntax error at end of input", position=len(sql) + 1)
    if overriding is not None:  # (sql/dml.py: values for identity columns)
        tree.meta["overriding"] = overriding
    if identity_options:  # (sql/identity.py)
        tree.meta["identity_options"] = identity_options
    _remember_function_names(tree, sql)
    return tree


# calls that are grammar in PostgreSQL: with missing arguments they are syntax errors there too
_SYNTAX_CALLS = {
    "coalesce",
    "greatest",
    "least",
    "nullif",
    "extract",
    "position",
    "substring",
    "trim",
    "overlay",
    "cast",
}


def _call_without_arguments(sql: str, err: dict, pos: int | None) -> str | None:
    """The name of a built-in function called with too few arguments (sqlglot: "Required keyword
    ... missing for <class Func>"): PostgreSQL finds no such function (42883), not a syntax error."""
    desc = err.get("description") or ""
    if not desc.startswith("Required keyword") or pos is None:
        return None
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*$", sql[: pos - 1])
    if m is None or m[1].lower() in _SYNTAX_CALLS:
        return None
    return m[1].lower()


def _remember_function_names(tree: exp.Expression, sql: str) -> None:
    """Keep each call's name as written (``meta["pg_name"]``): sqlglot maps ceiling/ceil, pow/power,
    substr/substring, mod()/% to one node each, PostgreSQL names result columns after the spelling."""
    for node in tree.walk():
        meta = node.meta if isinstance(node, exp.Func | exp.Binary) else None
        if meta and "start" in meta and "end" in meta:
            name = sql[meta["start"] : meta["end"] + 1]
            if name.replace("_", "").isalnum():
                meta["pg_name"] = name.lower()


def _position(sql: str, line: int | None, col: int | None, near: str) -> int | None:
    if not line or not col:
        return None
    lines = sql.split("\n")
    offset = sum(len(x) + 1 for x in lines[: line - 1])
    # sqlglot's col is the end of the highlighted token (1-based); PostgreSQL points at its start
    return offset + max(col - len(near), 0) + 1


def command_word(sql: str) -> str:
    """The first keyword, upper-cased (SELECT, INSERT, SET, BEGIN ...)."""
    words = sql.lstrip("( \t\r\n").split(None, 1)
    return words[0].upper().rstrip(";") if words else ""
