"""DO blocks: the part of PL/pgSQL that migrations write around their DDL.

ORMs and hand-written migrations wrap statements that may already have run in a DO block, e.g.
Drizzle's

    DO $$ BEGIN
     CREATE TYPE "public"."mood" AS ENUM('sad', 'ok');
    EXCEPTION
     WHEN duplicate_object THEN null;
    END $$;

and conditional DDL (``IF NOT EXISTS (SELECT 1 FROM pg_type WHERE ...) THEN ... END IF;``). Such a
block runs here statement by statement, each through the session as if the client had sent it:

- a block ``[<<label>>] BEGIN stmts [EXCEPTION WHEN cond [OR cond ...] THEN stmts ...] END [label]``,
  nested blocks too; the conditions are PostgreSQL's names (``duplicate_object``, ``unique_violation``,
  ``others`` ...) or ``SQLSTATE 'xxxxx'``; a handled error's statement changed nothing (each statement
  runs alone), what ran before it in the block stays (PostgreSQL would undo the block's earlier
  statements too);
- ``CASE [selector] WHEN value [, value] THEN stmts ... [ELSE stmts] END CASE``, read as the IF it is
  (no branch taken and no ELSE: 20000);
- ``IF cond THEN stmts [ELSIF cond THEN stmts ...] [ELSE stmts] END IF``, the condition a SQL
  boolean expression (``EXISTS (SELECT ...)`` and the like);
- ``NULL``, ``PERFORM query`` (run, result dropped), ``RAISE NOTICE|WARNING|INFO|LOG|DEBUG 'text' [,
  args]`` (``%`` replaced by the arguments), ``RAISE EXCEPTION 'text' [, args] [USING ERRCODE = '...']``
  (P0001 unless given), ``RETURN``;
- any other statement is SQL, run as is.

Not supported (0A000): DECLARE (variables), loops, assignments, dynamic EXECUTE, GET DIAGNOSTICS, and
a language other than plpgsql.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from sql import errors as E
from sql.parse import DIALECT, split

if TYPE_CHECKING:
    from sql.engine import SqlSession
    from sql.session import Result

_DO = re.compile(
    r"""(?is)^\s*DO\s+(?:LANGUAGE\s+(?P<l1>\w+)\s+)?(?:\$(?P<tag>\w*)\$(?P<body>.*)\$(?P=tag)\$|'(?P<quoted>(?:[^']|'')*)')"""
    r"""\s*(?:LANGUAGE\s+(?P<l2>\w+))?\s*;?\s*$"""
)
# condition names of PostgreSQL's errcodes appendix that migrations catch
CONDITIONS = {
    "duplicate_object": "42710",
    "duplicate_table": "42P07",
    "duplicate_column": "42701",
    "duplicate_schema": "42P06",
    "duplicate_function": "42723",
    "duplicate_database": "42P04",
    "undefined_table": "42P01",
    "undefined_column": "42703",
    "undefined_object": "42704",
    "undefined_function": "42883",
    "invalid_schema_name": "3F000",
    "unique_violation": "23505",
    "foreign_key_violation": "23503",
    "not_null_violation": "23502",
    "check_violation": "23514",
    "feature_not_supported": "0A000",
    "insufficient_privilege": "42501",
    "invalid_parameter_value": "22023",
    "division_by_zero": "22012",
    "raise_exception": "P0001",
    "syntax_error": "42601",
    "wrong_object_type": "42809",
    "object_not_in_prerequisite_state": "55000",
    "invalid_table_definition": "42P16",
    "case_not_found": "20000",
}
_KEYWORDS = ("BEGIN", "END", "IF", "ELSIF", "ELSEIF", "ELSE", "EXCEPTION", "WHEN", "THEN", "DECLARE")


class _Return(Exception):
    """RETURN: the block ends."""


def is_statement(word: str) -> bool:
    return word == "DO"


def run(session: SqlSession, sql: str) -> Result:
    from sql.session import Result

    m = _DO.match(sql)
    if m is None:
        raise E.SyntaxError_('syntax error at or near "DO"')
    language = (m["l1"] or m["l2"] or "plpgsql").lower()
    if language != "plpgsql":
        raise E.FeatureNotSupported(f'DO blocks in language "{language}" are not supported')
    body = m["body"] if m["body"] is not None else m["quoted"].replace("''", "'")
    block = parse_block(body, "DO blocks")
    if _declares(block):
        raise E.FeatureNotSupported("DO blocks with DECLARE (variables) are not supported")
    try:
        _run_block(session, block)
    except _Return:
        pass
    return Result(None, tag="DO")


# -- reading: statements (top-level ; pieces) with their leading keywords peeled -----------------------
def parse_block(body: str, what: str) -> tuple:
    """The block a PL/pgSQL body is: ("block", statements, handlers, declarations), each statement
    ("block", ...), ("if", [(condition, statements)], else statements) or ("sql", text). ``what``
    names the body's kind in errors ("DO blocks")."""
    pieces = _Pieces(_statements(body), what)
    block = pieces.block()
    if not pieces.done():
        raise pieces.error()
    return block


def walk(stmt: tuple) -> Iterator[tuple]:
    """``stmt`` and every statement inside it: a block's statements and handlers, an IF's branches."""
    yield stmt
    if stmt[0] == "block":
        nested = [*stmt[1], *(s for _, body in stmt[2] for s in body)]
    elif stmt[0] == "if":
        nested = [*(s for _, body in stmt[1] for s in body), *stmt[2]]
    else:
        return
    for s in nested:
        yield from walk(s)


def _declares(block: tuple) -> bool:
    return any(s[0] == "block" and s[3] for s in walk(block))


def _statements(body: str) -> list[str]:
    return [p.strip().rstrip(";").strip() for p in split(body) if p.strip().rstrip(";").strip()]


def first_word(text: str) -> str:
    m = re.match(r"\s*(<<\s*\w+\s*>>|[A-Za-z_]+)", text)
    return m.group(1).upper() if m else ""


def rest_after(text: str, word: str) -> str:
    return re.sub(rf"(?is)^\s*{re.escape(word)}\b", "", text, count=1).strip()


def _split_then(text: str) -> tuple[str, str]:
    """``cond THEN rest``: the condition (up to the first THEN outside parentheses and CASE) and the rest."""
    found = split_at(text, (TokenType.THEN,))
    if found is None:
        raise E.SyntaxError_("syntax error in PL/pgSQL: THEN expected")
    return found[0], found[1]


def split_at(text: str, kinds: tuple[TokenType, ...]) -> tuple[str, str, TokenType] | None:
    """The text before the first token of ``kinds`` outside parentheses and CASE ... END, the text
    after it, and its kind; None without one."""
    try:
        tokens = DIALECT.tokenize(text)
    except TokenError as e:
        raise E.SyntaxError_(f"syntax error in PL/pgSQL: {e}") from None
    depth = 0
    for tok in tokens:
        if tok.token_type in (TokenType.L_PAREN, TokenType.CASE):
            depth += 1
        elif tok.token_type in (TokenType.R_PAREN, TokenType.END) and depth:
            depth -= 1
        elif tok.token_type in kinds and depth == 0:
            return text[: tok.start].strip(), text[tok.end + 1 :].strip(), tok.token_type
    return None


def _split_commas(text: str) -> list[str]:
    """``a, b, c`` at the top level (outside parentheses and CASE ... END)."""
    parts = []
    while (found := split_at(text, (TokenType.COMMA,))) is not None:
        parts.append(found[0])
        text = found[1]
    return [*parts, text.strip()]


class _Pieces:
    """The body's statements; ``head`` is what is left of the current one once keywords are peeled."""

    def __init__(self, statements: list[str], what: str) -> None:
        self.what = what
        self.items = statements
        self.at = 0
        self.head = statements[0] if statements else ""

    def done(self) -> bool:
        return self.at >= len(self.items)

    def word(self) -> str:
        return first_word(self.head) if not self.done() else ""

    def take(self, word: str) -> None:
        """Peel ``word`` off the current statement; an empty remainder moves on to the next."""
        self.head = rest_after(self.head, word)
        if not self.head:
            self.next()

    def next(self) -> None:
        self.at += 1
        self.head = self.items[self.at] if self.at < len(self.items) else ""

    def error(self) -> E.SqlError:
        near = self.head.split()[0] if self.head.split() else "end of input"
        return E.SyntaxError_(f'syntax error at or near "{near}"')

    def token(self) -> str:
        """The current statement's first keyword (``END IF`` as one)."""
        w = self.word()
        if w == "END":
            m = re.match(r"(?is)^\s*END\s+(IF|CASE)\s*$", self.head)
            if m:
                return "END " + m[1].upper()
        return w

    def block(self) -> tuple:
        """``[<<label>>] [DECLARE decls] BEGIN stmts [EXCEPTION handlers] END [label]``: ("block",
        statements, handlers, declarations: the text of each)."""
        if self.word().startswith("<<"):
            self.head = re.sub(r"^\s*<<\s*\w+\s*>>", "", self.head, count=1).strip()
        decls: list[str] = []
        if self.word() == "DECLARE":
            self.take("DECLARE")
            while not self.done() and self.word() != "BEGIN":
                decls.append(self.head)
                self.next()
        if self.word() != "BEGIN":
            raise self.error()
        self.take("BEGIN")
        body = self.statements(("END", "EXCEPTION"))
        handlers = []
        if self.token() == "EXCEPTION":
            self.take("EXCEPTION")
            while self.token() == "WHEN":
                cond, self.head = _split_then(rest_after(self.head, "WHEN"))
                if not self.head:
                    self.next()
                handlers.append((_conditions(cond), self.statements(("WHEN", "END"))))
        if self.token() != "END" or not re.fullmatch(r"(?is)\s*END(\s+\w+)?\s*", self.head):
            raise self.error()
        self.next()
        return ("block", body, handlers, decls)

    def statements(self, ends: tuple[str, ...]) -> list[tuple]:
        out: list[tuple] = []
        while not self.done():
            tok = self.token()
            if tok in ends:
                return out
            if tok in ("BEGIN", "DECLARE") or tok.startswith("<<"):
                out.append(self.block())
            elif tok == "IF":
                out.append(self.if_())
            elif tok == "CASE":
                out.append(self.case_())
            elif tok in ("FOR", "WHILE", "LOOP", "FOREACH"):
                raise E.FeatureNotSupported(f"{self.what}: {tok} is not supported")
            elif tok in ("ELSIF", "ELSEIF", "ELSE", "EXCEPTION", "WHEN", "THEN", "END", "END IF", "END CASE"):
                raise self.error()
            else:
                out.append(("sql", self.head))
                self.next()
        return out

    def if_(self) -> tuple:
        branches = []
        otherwise: list[tuple] = []
        cond, self.head = _split_then(rest_after(self.head, "IF"))
        if not self.head:
            self.next()
        ends = ("ELSIF", "ELSEIF", "ELSE", "END IF")
        branches.append((cond, self.statements(ends)))
        while True:
            tok = self.token()
            if tok in ("ELSIF", "ELSEIF"):
                cond, self.head = _split_then(rest_after(self.head, tok))
                if not self.head:
                    self.next()
                branches.append((cond, self.statements(ends)))
            elif tok == "ELSE":
                self.take("ELSE")
                otherwise = self.statements(("END IF",))
            elif tok == "END IF":
                self.next()
                return ("if", branches, otherwise)
            else:
                raise self.error()

    def case_(self) -> tuple:
        """``CASE [selector] WHEN value [, value ...] THEN stmts ... [ELSE stmts] END CASE`` as the IF it
        is: the selector compared (=) with each value, or each WHEN a condition; without ELSE, no
        branch taken raises 20000 (case_not_found), as PostgreSQL's."""
        rest = rest_after(self.head, "CASE")
        selector = None
        if first_word(rest) != "WHEN":
            found = split_at(rest, (TokenType.WHEN,))
            if found is None:
                raise self.error()
            selector, rest = found[0], "WHEN " + found[1]
        self.head = rest
        branches = []
        otherwise: list[tuple] | None = None
        while True:
            tok = self.token()
            if tok == "WHEN":
                cond, self.head = _split_then(rest_after(self.head, "WHEN"))
                if not self.head:
                    self.next()
                if selector is not None:
                    cond = " OR ".join(f"({selector}) = ({v})" for v in _split_commas(cond))
                branches.append((cond, self.statements(("WHEN", "ELSE", "END CASE"))))
            elif tok == "ELSE" and branches and otherwise is None:
                self.take("ELSE")
                otherwise = self.statements(("END CASE",))
            elif tok == "END CASE" and branches:
                self.next()
                if otherwise is None:
                    otherwise = [("sql", "RAISE EXCEPTION 'case not found' USING ERRCODE = '20000'")]
                return ("if", branches, otherwise)
            else:
                raise self.error()


def _conditions(text: str) -> list[str]:
    """SQLSTATEs of ``cond [OR cond ...]`` ("*" for OTHERS)."""
    out = []
    for part in re.split(r"(?i)\s+OR\s+", text.strip()):
        m = re.fullmatch(r"(?is)SQLSTATE\s+'([0-9A-Z]{5})'", part.strip())
        name = part.strip().lower()
        if m:
            out.append(m[1])
        elif name == "others":
            out.append("*")
        elif name in CONDITIONS:
            out.append(CONDITIONS[name])
        else:
            raise E.UndefinedObject(f'unrecognized exception condition "{part.strip()}"')
    return out


# -- running ---------------------------------------------------------------------------------------------
def _run_block(session: SqlSession, block: tuple) -> None:
    _kind, body, handlers, _decls = block
    status = session.transaction_status
    try:
        _run_statements(session, body)
    except E.SqlError as e:
        for states, stmts in handlers:
            if "*" in states or e.sqlstate in states:
                session.transaction_status = status  # (handled: the transaction goes on)
                _run_statements(session, stmts)
                return
        raise


def _run_statements(session: SqlSession, stmts: list[tuple]) -> None:
    for stmt in stmts:
        kind = stmt[0]
        if kind == "block":
            _run_block(session, stmt)
        elif kind == "if":
            _, branches, otherwise = stmt
            for cond, body in branches:
                if _true(session, cond):
                    _run_statements(session, body)
                    break
            else:
                _run_statements(session, otherwise)
        else:
            _run_sql(session, stmt[1])


def _true(session: SqlSession, cond: str) -> bool:
    rows = _execute(session, f"SELECT ({cond}) AS v")
    return bool(rows and rows[0][0])


def _execute(session: SqlSession, sql: str) -> list[tuple]:
    """Run ``sql`` to its end (a query's batches are lazy); its rows."""
    result = session.execute(session.prepare(sql, []), [])
    return [tuple(r.values()) for b in (result.batches or ()) for r in b.to_pylist()]


def _run_sql(session: SqlSession, text: str) -> None:
    word = first_word(text)
    if word == "NULL" and text.strip().upper() == "NULL":
        return
    if word == "RETURN" and text.strip().upper() == "RETURN":
        raise _Return
    if word == "PERFORM":
        _execute(session, "SELECT " + rest_after(text, "PERFORM"))
        return
    if word == "RAISE":
        _raise(session, rest_after(text, "RAISE"))
        return
    if word in ("EXECUTE", "GET", "FOR", "WHILE", "LOOP", "FOREACH") or re.match(r"^\s*\w+\s*:=", text):
        raise E.FeatureNotSupported(f"DO blocks: {word or 'assignment'} is not supported")
    _execute(session, text)


_LEVELS = ("DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "EXCEPTION")


def read_raise(text: str, what: str) -> tuple[str, str | None, str, str | None]:
    """What follows RAISE: (its level, EXCEPTION unless given; the ERRCODE of ``USING ERRCODE =
    '...'`` as written, or None; the format text; the SQL of the arguments after it, or None)."""
    level = first_word(text)
    if level in _LEVELS:
        text = rest_after(text, level)
    else:
        level = "EXCEPTION"
    errcode = None
    using = re.search(r"(?is)\bUSING\s+ERRCODE\s*=\s*'([^']*)'\s*$", text)
    if using:
        errcode, text = using[1], text[: using.start()].strip()
    m = re.match(r"(?s)^\s*'((?:[^']|'')*)'\s*(?:,(.*))?$", text)
    if m is None:
        raise E.FeatureNotSupported(f"{what}: RAISE needs a format string")
    return level, errcode, m[1].replace("''", "'"), m[2]


def _raise(session: SqlSession, text: str) -> None:
    level, errcode, message, args_sql = read_raise(text, "DO blocks")
    if args_sql:
        (values,) = _execute(session, f"SELECT {args_sql}")
        args = [str(v) if v is not None else "<NULL>" for v in values]
        for a in args:
            message = message.replace("%", a, 1)
    if level == "EXCEPTION":
        code = CONDITIONS.get((errcode or "").lower(), errcode) or "P0001"
        err = E.SqlError(message)
        err.sqlstate = code
        raise err
    if level in ("NOTICE", "WARNING", "INFO"):
        session.notice(E.Warning_(message) if level == "WARNING" else E.Notice_(message))
