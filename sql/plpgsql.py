"""DO blocks: PL/pgSQL run statement by statement through the session.

ORMs and hand-written migrations wrap statements that may already have run in a DO block, e.g.
Drizzle's

    DO $$ BEGIN
     CREATE TYPE "public"."mood" AS ENUM('sad', 'ok');
    EXCEPTION
     WHEN duplicate_object THEN null;
    END $$;

and maintenance scripts loop over the catalog running dynamic SQL (``FOR r IN SELECT ... LOOP EXECUTE
format(...); END LOOP``). The body is read into a tree of blocks, IFs, loops and statement texts
(:func:`parse_block`, which PL/pgSQL functions share: sql/plpgsql_function.py compiles that tree
into one SQL expression instead, and refuses loops) and run by :class:`Runner`:

- blocks with declarations and EXCEPTION handlers (PostgreSQL's condition names or ``SQLSTATE
  'xxxxx'``; SQLSTATE / SQLERRM and GET STACKED DIAGNOSTICS inside), IF, CASE, LOOP, WHILE, FOR over
  integers, a query or EXECUTE, FOREACH over an array, EXIT / CONTINUE with labels, RETURN;
- variables, assignments, SELECT / DML ... INTO [STRICT], FOUND, GET DIAGNOSTICS ROW_COUNT, EXECUTE
  ... INTO ... USING, PERFORM, RAISE (notices and errors), ASSERT;
- any other statement is SQL, run as the client would send it. SQL reads a variable where PostgreSQL
  binds one as a parameter: :meth:`Runner.bind` writes its value in as a literal of its type.

A DO outside a transaction block is one transaction (an undo log of its own, sql/transaction.py),
and a block with handlers a savepoint, as in PostgreSQL. Not supported (0A000): cursors, ALIAS FOR,
FOREACH ... SLICE, assignments to records, and languages other than plpgsql.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from sql import errors as E
from sql import transaction
from sql.parse import DIALECT, split
from sql.types import BY_OID

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
    block = parse_block(body, "DO blocks", loops=True)
    runner = Runner(session)
    atomically(session, lambda: run_block(runner, block))
    return Result(None, tag="DO")


def atomically(session: SqlSession, work: Callable[[], None]) -> None:
    """``work`` (a DO block, a procedure's body) as one transaction when no transaction block is open
    (an undo log of its own: an error undoes its writes), else as part of the open block. RETURN
    ends it."""
    own = None
    if session.txn is None and session.transaction_status == "I":
        own = session.txn = transaction.Transaction()
    try:
        work()
    except _Return:
        pass
    except BaseException:
        if own is not None and session.txn is own:
            session.txn = None
            own.undo(session)
        raise
    if own is not None and session.txn is own:
        session.txn = None
        if own.wal_seq:  # (its writes did not wait for the WAL's fsync: it does, as a COMMIT)
            session.storage.sync(own.wal_seq)


# -- reading: statements (top-level ; pieces) with their leading keywords peeled -----------------------
def parse_block(body: str, what: str, loops: bool = False) -> tuple:
    """The block a PL/pgSQL body is: ("block", statements, handlers, declarations, label), each
    statement ("block", ...), ("if", [(condition, statements)], else statements), ("loop", label,
    kind, header, statements) (with ``loops``; else they are 0A000) or ("sql", text). ``what`` names
    the body's kind in errors ("DO blocks")."""
    pieces = _Pieces(split_statements(body), what, loops)
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
    elif stmt[0] == "loop":
        nested = stmt[4]
    else:
        return
    for s in nested:
        yield from walk(s)


def split_statements(body: str) -> list[str]:
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


_LOOPS = ("FOR", "WHILE", "LOOP", "FOREACH")


def _split_loop(text: str) -> tuple[str, str] | None:
    """``header LOOP rest``: the header (up to the first LOOP keyword outside parentheses, brackets
    and strings) and what follows it; None without one."""
    depth = 0
    for tok in tokens(text):
        if tok.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE):
            depth += 1
        elif tok.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END) and depth:
            depth -= 1
        elif depth == 0 and tok.token_type == TokenType.VAR and tok.text.upper() == "LOOP":
            return text[: tok.start].strip(), text[tok.end + 1 :].strip()
    return None


def split_commas(text: str) -> list[str]:
    """``a, b, c`` at the top level (outside parentheses and CASE ... END)."""
    parts = []
    while (found := split_at(text, (TokenType.COMMA,))) is not None:
        parts.append(found[0])
        text = found[1]
    return [*parts, text.strip()]


_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
DECL = re.compile(rf"(?is)^\s*(?P<name>{_NAME})\s+(?P<constant>CONSTANT\s+)?(?P<rest>.+)$")
ASSIGN = re.compile(rf"(?is)^\s*(?P<name>{_NAME})\s*(?::=|=)(?P<expr>.+)$")


def normal_name(name: str) -> str:
    """A name as PostgreSQL folds it: quoted as written, else lower case."""
    if name.startswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()


def tokens(text: str) -> list:
    try:
        return DIALECT.tokenize(text)
    except TokenError as e:
        raise E.SyntaxError_(f"syntax error in PL/pgSQL: {e}") from None


def split_default(rest: str) -> tuple[str, str | None]:
    """``type [{:= | = | DEFAULT} expr]`` as (the type's text, the default's text or None)."""
    found = split_at(rest, (TokenType.COLON_EQ, TokenType.EQ, TokenType.DEFAULT))
    return (rest.strip(), None) if found is None else (found[0], found[1])


def into_clause(text: str) -> tuple[int, int, list[str], bool] | None:
    """Where ``INTO [STRICT] a, b`` is in a SELECT (outside parentheses): (its start, its end, the
    targets' names, STRICT); None without one."""
    toks = tokens(text)
    depth = 0
    for k, tok in enumerate(toks):
        if tok.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif tok.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
        elif depth == 0 and tok.token_type == TokenType.INTO:
            j = k + 1
            strict = j < len(toks) and toks[j].text.upper() == "STRICT"
            j += strict
            names: list[str] = []
            end = tok.end + 1
            while j < len(toks):
                t = toks[j]
                quoted = t.token_type == TokenType.IDENTIFIER
                names.append(t.text if quoted else t.text.lower())
                end = t.end + 1 + (1 if quoted else 0)  # (a quoted name's token ends before its quote)
                if j + 1 < len(toks) and toks[j + 1].token_type == TokenType.COMMA:
                    j += 2
                    continue
                break
            return tok.start, end, names, strict
    return None


class _Pieces:
    """The body's statements; ``head`` is what is left of the current one once keywords are peeled."""

    def __init__(self, statements: list[str], what: str, loops: bool = False) -> None:
        self.what = what
        self.loops = loops  # FOR / WHILE / LOOP / FOREACH read (DO blocks); else 0A000
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
            m = re.match(r"(?is)^\s*END\s+(?:(IF|CASE)|(LOOP)(?:\s+\w+)?)\s*$", self.head)
            if m:
                return "END " + (m[1] or m[2]).upper()
        return w

    def label(self) -> str | None:
        """A ``<<label>>`` before the current statement, peeled off (None without one)."""
        m = re.match(r"^\s*<<\s*(\w+)\s*>>\s*", self.head)
        if m is None:
            return None
        self.head = self.head[m.end() :]
        if not self.head.strip():
            self.next()
        return m[1].lower()

    def block(self) -> tuple:
        """``[<<label>>] [DECLARE decls] BEGIN stmts [EXCEPTION handlers] END [label]``: ("block",
        statements, handlers, declarations: the text of each)."""
        label = self.label()
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
        return ("block", body, handlers, decls, label)

    def statements(self, ends: tuple[str, ...]) -> list[tuple]:
        out: list[tuple] = []
        while not self.done():
            tok = self.token()
            if tok in ends:
                return out
            if tok.startswith("<<"):
                at, head = self.at, self.head
                self.label()
                loop = self.word() in _LOOPS
                self.at, self.head = at, head  # (the label is read again by what it labels)
                out.append(self.loop() if loop else self.block())
            elif tok in ("BEGIN", "DECLARE"):
                out.append(self.block())
            elif tok == "IF":
                out.append(self.if_())
            elif tok == "CASE":
                out.append(self.case_())
            elif tok in _LOOPS:
                out.append(self.loop())
            elif tok in ("ELSIF", "ELSEIF", "ELSE", "EXCEPTION", "WHEN", "THEN", "END", "END IF", "END CASE",
                         "END LOOP"):  # fmt: skip
                raise self.error()
            else:
                out.append(("sql", self.head))
                self.next()
        return out

    def loop(self) -> tuple:
        """``[<<label>>] {LOOP | WHILE cond LOOP | FOR ... LOOP | FOREACH ... LOOP} stmts END LOOP
        [label]``: ("loop", label, kind, header text after the kind's keyword, statements)."""
        label = self.label()
        kind = self.word()
        if not self.loops:
            raise E.FeatureNotSupported(f"{self.what}: {kind} is not supported")
        if kind == "LOOP":
            header = ""
            self.take("LOOP")
        else:
            found = _split_loop(rest_after(self.head, kind))
            if found is None:
                raise E.SyntaxError_(f'syntax error at or near "{kind}"', hint="LOOP expected")
            header, self.head = found
            if not self.head:
                self.next()
        body = self.statements(("END LOOP",))
        if self.token() != "END LOOP":
            raise self.error()
        end = re.match(r"(?is)^\s*END\s+LOOP\s+(\w+)", self.head)
        if end is not None and end[1].lower() != label:
            raise E.SyntaxError_(f'end label "{end[1]}" differs from block\'s label "{label}"'
                                 if label else f'end label "{end[1]}" specified for unlabeled block')  # fmt: skip
        self.next()
        return ("loop", label, kind, header, body)

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
                    cond = " OR ".join(f"({selector}) = ({v})" for v in split_commas(cond))
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
@dataclass
class Var:
    """A variable of a running block: its value (a record's: {field: (value, type)}, or None before
    a row is assigned) and its SQL type (None: the type of whatever was assigned last)."""

    value: Any = None
    type: str | None = None
    constant: bool = False
    not_null: bool = False
    record: bool = False


class _Exit(Exception):
    def __init__(self, label: str | None, again: bool) -> None:
        self.label = label
        self.again = again  # CONTINUE (else EXIT)


_NOT_CAUGHT_BY_OTHERS = ("57014", "P0004")  # query_canceled, assert_failure: as PostgreSQL's OTHERS


class Runner:
    """Runs a DO block's statements through ``session``. Variables live in frames (a block's
    declarations, a FOR loop's variable); SQL reads them as literals of their type written where
    PostgreSQL would read a parameter (:meth:`bind`)."""

    def __init__(self, session: SqlSession, params: list[tuple[Any, str | None]] | None = None) -> None:
        self.session = session
        self.frames: list[dict[str, Var]] = [{"found": Var(False, "boolean")}]
        self.params = params  # a procedure's arguments, read as $1, $2 ... (a DO block has none)
        self.row_count = 0
        self.errors: list[E.SqlError] = []  # the errors being handled (GET STACKED DIAGNOSTICS, RAISE;)
        timeout = session._timeout_s()
        self.deadline = _time.monotonic() + timeout if timeout > 0 else 0.0

    # -- variables ----------------------------------------------------------------------------------------
    def lookup(self, name: str) -> Var | None:
        for frame in reversed(self.frames):
            var = frame.get(name)
            if var is not None:
                return var
        return None

    def declare(self, text: str) -> None:
        m = DECL.match(text)
        if m is None:
            raise E.SyntaxError_(f'syntax error at or near "{text.split()[0] if text.split() else text}"')
        name, rest = normal_name(m["name"]), m["rest"]
        if re.match(r"(?is)^ALIAS\s+FOR\b", rest) or re.match(r"(?is)^(NO\s+)?(SCROLL\s+)?CURSOR\b", rest):
            raise E.FeatureNotSupported(
                f"DO blocks: {rest.split()[0].upper()} declarations are not supported"
            )
        typ, default = split_default(rest)
        not_null = re.search(r"(?is)\s+NOT\s+NULL\s*$", typ) is not None
        typ = re.sub(r"(?is)\s+NOT\s+NULL\s*$", "", typ).strip()
        typ = re.sub(r"(?is)\s+COLLATE\s+\S+\s*$", "", typ).strip()
        var = Var(constant=m["constant"] is not None, not_null=not_null)
        if typ.lower() == "record" or typ.upper().endswith("%ROWTYPE"):
            var.record = True
        elif typ.upper().endswith("%TYPE"):
            var.type = None  # (the type of what it is given)
        else:
            var.type = typ
        if default is not None:
            if var.record:
                raise E.SyntaxError_(f'syntax error at or near "{default.split()[0]}"')
            var.value, found = self.value(default, var.type)
            var.type = var.type or found
        elif var.type is not None:
            self.value("NULL", var.type)  # (an unknown type: 42704 here, as PostgreSQL's DECLARE)
        if var.not_null and var.value is None and not var.record:
            raise E.NullValueNotAllowed(
                f'variable "{name}" must have a default value, since it\'s declared NOT NULL'
            )
        self.frames[-1][name] = var

    def assign(self, name: str, value: Any, typ: str | None) -> None:
        var = self.lookup(name)
        if var is None:
            raise E.SyntaxError_(f'"{name}" is not a known variable')
        if var.constant:
            raise _error("22005", f'variable "{name}" is declared CONSTANT')
        if var.record:
            raise E.FeatureNotSupported("DO blocks: assigning a value to a record variable is not supported")
        if var.type is not None and typ != var.type and value is not None:
            value, typ = self.value(_literal(value, typ), var.type)
        if value is None and var.not_null:
            raise E.NullValueNotAllowed(
                f'null value cannot be assigned to variable "{name}" declared NOT NULL'
            )
        var.value = value
        var.type = var.type or typ

    def assign_row(
        self, targets: list[str], row: tuple | None, types: list[str | None], names: list[str]
    ) -> None:
        """A row's values into ``targets``: one record variable (the row's columns as its fields), or
        scalars in column order (missing columns: NULL; extra ones ignored, as PostgreSQL's)."""
        first = self.lookup(targets[0])
        if first is not None and first.record:
            if len(targets) > 1:
                raise E.SyntaxError_("record variable cannot be part of multiple-item INTO list")
            first.value = (
                None if row is None else {n: (v, t) for n, v, t in zip(names, row, types, strict=True)}
            )
            return
        for k, name in enumerate(targets):
            have = row is not None and k < len(row)
            self.assign(name, row[k] if have else None, types[k] if have and k < len(types) else None)

    # -- SQL with variables ----------------------------------------------------------------------------------
    def bind(self, text: str, params: list[tuple[Any, str | None]] | None = None) -> str:
        """``text`` with each variable it reads written as a literal of its type (``$n``: the n-th of
        ``params``, for EXECUTE ... USING). A name read as a relation, a column of another table
        (``t.x``), a function (``x(``), a type or an alias (``::x``, ``AS x``) or an UPDATE's target
        column is left alone; a name that is a variable is the variable (a column of that name is not
        read there; PostgreSQL's plpgsql.variable_conflict = error would raise 42702)."""
        toks = tokens(text)
        params = params if params is not None else self.params
        out: list[str] = []
        at = 0
        owners: list[str] = []  # per open parenthesis: the word before it
        in_set = False
        k = 0
        while k < len(toks):
            tok = toks[k]
            kind = tok.token_type
            prev = toks[k - 1] if k else None
            nxt = toks[k + 1] if k + 1 < len(toks) else None
            word = tok.text.upper()
            if kind == TokenType.L_PAREN:
                owners.append(_paren_owner(toks, k))
            elif kind == TokenType.R_PAREN and owners:
                owners.pop()
            elif kind == TokenType.SET:
                in_set = True
            elif kind in (TokenType.WHERE, TokenType.FROM, TokenType.RETURNING):
                in_set = False
            if (
                kind == TokenType.PARAMETER
                and params is not None
                and nxt is not None
                and nxt.token_type == TokenType.NUMBER
            ):
                n = int(nxt.text)
                if not 1 <= n <= len(params):
                    raise E.UndefinedParameter(f"there is no parameter ${n}")
                out.append(text[at : tok.start])
                out.append(_literal(*params[n - 1]))
                at = nxt.end + 1
                k += 2
                continue
            if kind in _NOT_VALUES or not tok.text.isidentifier() or word in _NOT_NAMES:
                k += 1
                continue
            var = self.lookup(tok.text.lower())
            qualifier = nxt is not None and nxt.token_type == TokenType.DOT
            if var is None or not self._reads(prev, nxt, owners, in_set) or (qualifier and not var.record):
                k += 1
                continue
            end = tok.end + 1
            if var.record:
                field = (
                    toks[k + 2]
                    if nxt is not None and nxt.token_type == TokenType.DOT and k + 2 < len(toks)
                    else None
                )
                if field is None:
                    raise E.FeatureNotSupported(
                        "DO blocks: a record variable as a value is not supported (name its fields)"
                    )
                if var.value is None:
                    raise E.ObjectNotInPrerequisiteState(
                        f'record "{tok.text.lower()}" is not assigned yet',
                        detail="The tuple structure of a not-yet-assigned record is indeterminate.",
                    )
                fname = field.text if field.token_type == TokenType.IDENTIFIER else field.text.lower()
                if fname not in var.value:
                    raise E.UndefinedColumn(f'record "{tok.text.lower()}" has no field "{fname}"')
                literal = _literal(*var.value[fname])
                end = field.end + 1 + (1 if field.token_type == TokenType.IDENTIFIER else 0)
                k += 3
            else:
                literal = _literal(var.value, var.type)
                k += 1
            out.append(text[at : tok.start])
            out.append(literal)
            at = end
        out.append(text[at:])
        return "".join(out)

    @staticmethod
    def _reads(prev: Any, nxt: Any, owners: list[str], in_set: bool) -> bool:
        """Whether a name between tokens ``prev`` and ``nxt`` is read as a value (see :meth:`bind`)."""
        if nxt is not None and nxt.token_type == TokenType.L_PAREN:
            return False
        if prev is None:
            return True
        p = prev.text.upper()
        if prev.token_type in (TokenType.DOT, TokenType.DCOLON) or p == "AS":
            return False
        if prev.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and p not in _VAR_KEYWORDS:
            return False  # (right after a name: an alias, FROM t d)
        if p in ("JOIN", "INTO", "UPDATE", "TABLE", "ONLY") or (
            p == "FROM" and (not owners or owners[-1] not in _FROM_INSIDE)
        ):
            return False
        if (
            in_set
            and nxt is not None
            and nxt.token_type == TokenType.EQ
            and (p == "SET" or prev.token_type == TokenType.COMMA)
        ):
            return False
        return not (owners and owners[-1] == _COLUMNS)

    def query(self, sql: str) -> tuple[list[tuple], list[str | None], list[str]]:
        """Run ``sql`` (bound already) to its end: its rows, its columns' types and names (its tag sets
        :attr:`row_count`)."""
        self.tick()
        session = self.session
        prepared = session.prepare(sql, [])
        result = session.execute(prepared, [])
        rows = [
            row
            for b in (result.batches or ())
            for row in zip(*(c.to_pylist() for c in b.columns), strict=True)
        ]
        columns = prepared.columns or []
        tag = result.tag or ""
        count = tag.split()[-1] if tag.split() else ""
        self.row_count = int(count) if count.isdigit() else len(rows)
        return rows, [type_name(c.type_oid) for c in columns], [c.name for c in columns]

    def value(self, expr: str, typ: str | None = None) -> tuple[Any, str | None]:
        """The value of the SQL expression ``expr`` (as ``typ``, when given) and its type."""
        sql = f"SELECT ({self.bind(expr)})" if typ is None else f"SELECT CAST(({self.bind(expr)}) AS {typ})"
        rows, types, _names = self.query(sql)
        return (rows[0][0] if rows else None), (typ or types[0])

    def true(self, cond: str) -> bool:
        value, _ = self.value(cond)
        return bool(value)

    def tick(self) -> None:
        """Between statements: statement_timeout over the whole block, and a cancel request."""
        if self.deadline and _time.monotonic() > self.deadline:
            raise E.QueryCanceled("canceling statement due to statement timeout")
        if self.session._cancelled:
            raise E.QueryCanceled("canceling statement due to user request")

    # -- statements ----------------------------------------------------------------------------------------
    def block(self, block: tuple) -> None:
        _kind, body, handlers, decls, label = block
        status = self.session.transaction_status
        txn = self.session.txn
        # a block with handlers starts a savepoint: a handled error undoes the block's writes
        mark = len(txn.entries) if handlers and txn is not None else None
        self.frames.append({})
        try:
            for d in decls:
                self.declare(d)
            try:
                self.statements(body)
            except E.SqlError as e:
                for states, stmts in handlers:
                    if e.sqlstate in states or ("*" in states and e.sqlstate not in _NOT_CAUGHT_BY_OTHERS):
                        if mark is not None and self.session.txn is txn:
                            txn.undo(self.session, mark)
                        self.session.transaction_status = status  # (handled: the transaction goes on)
                        self.frames.append(
                            {"sqlstate": Var(e.sqlstate, "text"), "sqlerrm": Var(str(e), "text")}
                        )
                        self.errors.append(e)
                        try:
                            self.statements(stmts)
                        finally:
                            self.errors.pop()
                            self.frames.pop()
                        return
                raise
        except _Exit as x:
            if x.again or x.label is None or x.label != label:
                raise
        finally:
            self.frames.pop()

    def statements(self, stmts: list[tuple]) -> None:
        for stmt in stmts:
            kind = stmt[0]
            if kind == "block":
                self.block(stmt)
            elif kind == "if":
                _, branches, otherwise = stmt
                for cond, body in branches:
                    if self.true(cond):
                        self.statements(body)
                        break
                else:
                    self.statements(otherwise)
            elif kind == "loop":
                self.loop(stmt)
            else:
                self.statement(stmt[1])

    def loop(self, stmt: tuple) -> None:
        _, label, kind, header, body = stmt
        iterations = self._iterations(kind, header)
        ran = False
        for bind in iterations:
            self.tick()
            self.frames.append({})
            try:
                bind()
                ran = True
                self.statements(body)
            except _Exit as x:
                if x.label is not None and x.label != label:
                    raise
                if not x.again:
                    break
            finally:
                self.frames.pop()
        if kind in ("FOR", "FOREACH"):
            self.lookup("found").value = ran

    def _iterations(self, kind: str, header: str) -> Iterator[Callable[[], None]]:
        """Per pass of a loop: what sets its variables (in the pass's own frame) before the body."""
        if kind == "LOOP":
            while True:
                yield lambda: None
        elif kind == "WHILE":
            while self.true(header):
                yield lambda: None
        elif kind == "FOREACH":
            m = re.match(r"(?is)^\s*(.+?)\s+(?:SLICE\s+(\d+)\s+)?IN\s+ARRAY\s+(.+)$", header)
            if m is None:
                raise E.SyntaxError_('syntax error at or near "FOREACH"')
            if m[2] is not None and int(m[2]) != 0:
                raise E.FeatureNotSupported("DO blocks: FOREACH ... SLICE is not supported")
            targets = [normal_name(t) for t in split_commas(m[1])]
            array, typ = self.value(m[3])
            if array is None:
                raise E.NullValueNotAllowed("FOREACH expression must not be null")
            if not isinstance(array, list):
                raise E.DatatypeMismatch(f"FOREACH expression must yield an array, not type {typ}")
            element = typ[:-2] if typ and typ.endswith("[]") else None
            for item in _flat(array):
                yield lambda item=item: self.assign_row(targets, (item,), [element], ["?column?"])
        else:  # FOR
            found = split_at(header, (TokenType.IN,))
            if found is None:
                raise E.SyntaxError_('syntax error at or near "FOR"')
            targets = [normal_name(t) for t in split_commas(found[0])]
            rest = found[1]
            word = first_word(rest)
            if word == "EXECUTE":
                rows, types, names = self.execute(rest_after(rest, "EXECUTE"))
            elif word in ("SELECT", "WITH", "VALUES", "TABLE") or rest.startswith("("):
                rows, types, names = self.query(self.bind(rest))
            else:
                yield from self._range(targets, rest)
                return
            for t in targets:
                if self.lookup(t) is None:
                    raise E.SyntaxError_(
                        "loop variable of loop over rows must be a record variable or list of scalar variables"
                    )
            for row in rows:
                yield lambda row=row: self.assign_row(targets, row, types, names)

    def _range(self, targets: list[str], rest: str) -> Iterator[Callable[[], None]]:
        """``FOR i IN [REVERSE] lo .. hi [BY step]``: i an integer of the loop's own."""
        if len(targets) != 1:
            raise E.SyntaxError_("integer FOR loop must have only one target variable")
        m = re.match(r"(?is)^\s*(REVERSE\s+)?(.+?)\s*\.\.\s*(.+?)(?:\s+BY\s+(.+))?\s*$", rest)
        if m is None:
            raise E.SyntaxError_('syntax error at or near "FOR"')
        lo, _ = self.value(m[2], "integer")
        hi, _ = self.value(m[3], "integer")
        step = 1
        if m[4] is not None:
            step, _ = self.value(m[4], "integer")
            if step is None:
                raise E.NullValueNotAllowed("BY value of FOR loop cannot be null")
            if step <= 0:
                raise E.InvalidParameterValue("BY value of FOR loop must be greater than zero")
        if lo is None:
            raise E.NullValueNotAllowed("lower bound of FOR loop cannot be null")
        if hi is None:
            raise E.NullValueNotAllowed("upper bound of FOR loop cannot be null")
        name = targets[0]
        # (REVERSE: from the first bound down to the second)
        values = range(lo, hi - 1, -step) if m[1] else range(lo, hi + 1, step)
        for i in values:
            yield lambda i=i: self.frames[-1].__setitem__(name, Var(i, "integer"))

    def statement(self, text: str) -> None:
        word = first_word(text)
        upper = text.strip().upper()
        if word == "NULL" and upper == "NULL":
            return
        if word == "RETURN":
            if upper != "RETURN":
                raise E.SyntaxError_("RETURN cannot have a parameter in function returning void")
            raise _Return
        if word in ("EXIT", "CONTINUE"):
            m = re.match(r"(?is)^\s*(?:EXIT|CONTINUE)(?:\s+(?!WHEN\b)(\w+))?(?:\s+WHEN\s+(.+))?\s*$", text)
            if m is None:
                raise E.SyntaxError_(f'syntax error at or near "{word}"')
            if m[2] is None or self.true(m[2]):
                raise _Exit(m[1].lower() if m[1] else None, word == "CONTINUE")
            return
        if word == "PERFORM":
            self.query(self.bind("SELECT " + rest_after(text, "PERFORM")))
            self.lookup("found").value = self.row_count > 0
            return
        if word == "RAISE":
            self.raise_(rest_after(text, "RAISE"))
            return
        if word == "ASSERT":
            self.assertion(rest_after(text, "ASSERT"))
            return
        if word == "EXECUTE":
            self.execute(rest_after(text, "EXECUTE"))
            return
        if word == "GET":
            self.diagnostics(text)
            return
        m = ASSIGN.match(text)
        if m is not None and word not in _SQL_WORDS and self.lookup(normal_name(m["name"])) is not None:
            name = normal_name(m["name"])
            var = self.lookup(name)
            assert var is not None
            value, typ = self.value(m["expr"], var.type)
            self.assign(name, value, typ)
            return
        if (
            m is not None
            and word not in _SQL_WORDS
            and text.lstrip()[len(m["name"]) :].lstrip().startswith(":=")
        ):
            raise E.SyntaxError_(f'"{normal_name(m["name"])}" is not a known variable')
        if word == "WITH":
            word = _main_word(text) if _main_word(text) in _DML else word
        into = _into_of(text, word)
        if into is not None:
            start, end, targets, strict = into
            rows, types, names = self.query(self.bind(text[:start] + " " + text[end:]))
            if (strict or word in _DML) and len(rows) > 1 or strict and not rows:
                if rows:
                    raise _error("P0003", "query returned more than one row")
                raise _error("P0002", "query returned no rows")
            self.assign_row(targets, rows[0] if rows else None, types, names)
            self.row_count = min(len(rows), 1) if word in ("SELECT", "WITH") else self.row_count
            self.lookup("found").value = bool(rows)
            return
        if word in ("SELECT", "WITH", "VALUES", "TABLE"):
            raise E.SyntaxError_(
                "query has no destination for result data",
                hint="If you want to discard the results of a SELECT, use PERFORM instead.",
            )
        rows, _types, _names = self.query(self.bind(text) if word in _DML else text)
        if rows and word in _DML:  # (... RETURNING without INTO)
            raise E.SyntaxError_("query has no destination for result data")
        if word in _DML:
            self.lookup("found").value = self.row_count > 0

    def execute(self, text: str) -> tuple[list[tuple], list[str | None], list[str]]:
        """``EXECUTE command [INTO [STRICT] targets] [USING args]``: the command string run with
        ``$n`` as the n-th argument; its rows go INTO the targets."""
        using: list[str] = []
        found = split_at(text, (TokenType.USING,))
        if found is not None:
            text, using = found[0], split_commas(found[1])
        into = into_clause(text) if re.search(r"(?i)\bINTO\b", text) else None
        targets: list[str] = []
        strict = False
        if into is not None:
            start, end, targets, strict = into
            text = text[:start] + " " + text[end:]
        command, _typ = self.value(text)
        if command is None:
            raise E.NullValueNotAllowed("query string argument of EXECUTE is null")
        params = [self.value(u) for u in using]
        rows, types, names = self.query(self.bind(str(command), params) if params else str(command))
        if targets:
            if strict and len(rows) != 1:
                raise (
                    _error("P0003", "query returned more than one row")
                    if rows
                    else _error("P0002", "query returned no rows")
                )
            self.assign_row(targets, rows[0] if rows else None, types, names)
        return rows, types, names

    def diagnostics(self, text: str) -> None:
        """``GET [CURRENT | STACKED] DIAGNOSTICS var = item [, ...]``."""
        m = re.match(r"(?is)^\s*GET\s+(?:(CURRENT|STACKED)\s+)?DIAGNOSTICS\s+(.+)$", text)
        if m is None:
            raise E.SyntaxError_('syntax error at or near "GET"')
        stacked = (m[1] or "").upper() == "STACKED"
        if stacked and not self.errors:
            raise _error("0Z002", "GET STACKED DIAGNOSTICS cannot be used outside an exception handler")
        for part in split_commas(m[2]):
            item = re.match(r"(?is)^\s*(\S+)\s*(?::=|=)\s*(\w+)\s*$", part)
            if item is None:
                raise E.SyntaxError_(f'syntax error at or near "{part.split()[0] if part.split() else part}"')
            what = item[2].upper()
            if stacked:
                e = self.errors[-1]
                known = {
                    "RETURNED_SQLSTATE": e.sqlstate,
                    "MESSAGE_TEXT": str(e),
                    "PG_EXCEPTION_DETAIL": getattr(e, "detail", None) or "",
                    "PG_EXCEPTION_HINT": getattr(e, "hint", None) or "",
                    "PG_EXCEPTION_CONTEXT": "",
                    "COLUMN_NAME": "", "CONSTRAINT_NAME": "", "PG_DATATYPE_NAME": "", "TABLE_NAME": "", "SCHEMA_NAME": "",
                }  # fmt: skip
                if what not in known:
                    raise E.SyntaxError_(f'unrecognized GET STACKED DIAGNOSTICS item "{item[2]}"')
                self.assign(normal_name(item[1]), known[what], "text")
            elif what == "ROW_COUNT":
                self.assign(normal_name(item[1]), self.row_count, "bigint")
            else:
                raise E.FeatureNotSupported(f"DO blocks: GET DIAGNOSTICS {what} is not supported")

    def raise_(self, text: str) -> None:
        if not text.strip():
            if not self.errors:
                raise _error("0Z002", "RAISE without parameters cannot be used outside an exception handler")
            raise self.errors[-1]
        level, errcode, message, args_sql = read_raise(text, "DO blocks")
        if args_sql:
            args = split_commas(args_sql)
            if len(args) != message.count("%") - 2 * message.count("%%"):
                raise E.SyntaxError_("too many parameters specified for RAISE" if len(args) > message.count("%")
                                     else "too few parameters specified for RAISE")  # fmt: skip
            rows, types, _names = self.query(self.bind("SELECT " + ", ".join(f"({a})" for a in args)))
            texts = self._texts(rows[0], types)
        else:
            texts = []
        message = _format(message, texts)
        if level == "EXCEPTION":
            code = CONDITIONS.get((errcode or "").lower(), errcode) or "P0001"
            raise _error(code, message)
        if level in ("NOTICE", "WARNING", "INFO"):
            self.session.notice(E.Warning_(message) if level == "WARNING" else E.Notice_(message))

    def _texts(self, values: tuple, types: list[str | None]) -> list[str]:
        """Values as PostgreSQL prints them (a boolean t / f, NULL as <NULL>)."""
        out: list[str | None] = [None] * len(values)
        others = []
        for k, v in enumerate(values):
            if v is None:
                out[k] = "<NULL>"
            elif isinstance(v, bool):
                out[k] = "t" if v else "f"
            elif isinstance(v, str):
                out[k] = v
            else:
                others.append(k)
        if others:
            rows, _t, _n = self.query(
                "SELECT " + ", ".join(f"CAST({_literal(values[k], types[k])} AS text)" for k in others)
            )
            for k, text in zip(others, rows[0], strict=True):
                out[k] = text
        return [o or "" for o in out]

    def assertion(self, text: str) -> None:
        found = split_at(text, (TokenType.COMMA,))
        cond, message = (found[0], found[1]) if found is not None else (text, None)
        value, _ = self.value(cond)
        if value is None or not value:
            said = None if message is None else self.value(message)[0]
            raise _error("P0004", "assertion failed" if said is None else str(said))


def run_block(runner: Runner, block: tuple) -> None:
    try:
        runner.block(block)
    except _Exit as x:
        if x.label is None:
            raise E.SyntaxError_(
                ("CONTINUE" if x.again else "EXIT") + " cannot be used outside a loop, unless it has a label"
            ) from None
        raise E.SyntaxError_(
            f'there is no label "{x.label}" attached to any block or loop enclosing this statement'
        ) from None


_SQL_WORDS = ("SELECT", "WITH", "PERFORM", "INSERT", "UPDATE", "DELETE", "VALUES", "TABLE")
_DML = ("INSERT", "UPDATE", "DELETE", "MERGE")
_NOT_NAMES = frozenset(("NULL", "TRUE", "FALSE", "AND", "OR", "NOT", "IS", "IN", "LIKE", "ILIKE", "BETWEEN",
                        "CASE", "WHEN", "THEN", "ELSE", "END", "SELECT", "FROM", "WHERE", "DISTINCT", "ALL"))  # fmt: skip
_VAR_KEYWORDS = frozenset(("BY", "AT", "ZONE", "WITHIN"))  # words the tokenizer reads as names
_FROM_INSIDE = frozenset(("EXTRACT", "SUBSTRING", "TRIM", "POSITION", "OVERLAY"))  # (x FROM y): y is a value
_NOT_VALUES = frozenset((TokenType.STRING, TokenType.NUMBER, TokenType.IDENTIFIER, TokenType.PARAMETER))
_COLUMNS = "#columns"  # the owner of a parenthesis of column names: INSERT INTO t (...), ON CONFLICT (...)


def _paren_owner(toks: list, k: int) -> str:
    """What the parenthesis at ``toks[k]`` belongs to: the word before it, or _COLUMNS."""
    if not k:
        return ""
    before = toks[k - 1].text.upper()
    if before == "CONFLICT":
        return _COLUMNS
    j = k - 1  # a table name, maybe qualified, right after INTO
    while j >= 2 and toks[j - 1].token_type == TokenType.DOT:
        j -= 2
    if (
        j >= 1
        and toks[j - 1].token_type == TokenType.INTO
        and toks[k - 1].token_type in (TokenType.VAR, TokenType.IDENTIFIER)
    ):
        return _COLUMNS
    return before


def _main_word(text: str) -> str:
    """The first word of the statement a WITH leads to (SELECT, INSERT ...)."""
    depth = 0
    for tok in tokens(text)[1:]:
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and tok.text.upper() in ("SELECT", "VALUES", "TABLE", *_DML):
            return tok.text.upper()
    return "SELECT"


def _into_of(text: str, word: str) -> tuple[int, int, list[str], bool] | None:
    """The ``INTO targets`` of a SELECT, or of an INSERT / UPDATE / DELETE after its RETURNING."""
    if word in ("SELECT", "WITH"):
        return into_clause(text)
    if word in _DML:
        found = re.search(r"(?is)\bRETURNING\b", text)
        if found is None:
            return None
        into = into_clause("SELECT " + text[found.end() :])
        if into is None:
            return None
        shift = found.end() - len("SELECT ")
        return into[0] + shift, into[1] + shift, into[2], into[3]
    return None


def _error(code: str, message: str) -> E.SqlError:
    err = E.SqlError(message)
    err.sqlstate = code
    return err


def _format(message: str, args: list[str]) -> str:
    """RAISE's format: each % the next argument, %% a percent sign."""
    out = []
    it = iter(args)
    k = 0
    while k < len(message):
        ch = message[k]
        if ch == "%" and message[k + 1 : k + 2] == "%":
            out.append("%")
            k += 2
            continue
        out.append(next(it, "") if ch == "%" else ch)
        k += 1
    return "".join(out)


def _flat(items: list) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _flat(item)
        else:
            yield item


def type_name(oid: int) -> str | None:
    """The SQL name of a result column's type (an array's as ``elem[]``), None when unknown."""
    t = BY_OID.get(oid)
    if t is not None:
        return t.sql_name or t.name
    for t in BY_OID.values():
        if t.array_oid == oid:
            return (t.sql_name or t.name) + "[]"
    return None


def _literal(value: Any, typ: str | None) -> str:
    """SQL for ``value`` as a value of type ``typ`` (None: the value's own)."""
    if value is None:
        text = "NULL"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value) if value >= 0 else f"({value})"
    elif isinstance(value, float):
        text = repr(value) if math.isfinite(value) else f"'{_FLOAT_WORDS[repr(value)]}'"
        typ = typ or "double precision"
    elif isinstance(value, Decimal):
        if not value.is_finite():
            text, typ = f"'{value}'", typ or "numeric"
        else:  # (a numeric literal keeps its digits; a cast to bare numeric here would pad its scale)
            text = str(value) if value >= 0 else f"({value})"
            typ = None if typ in (None, "numeric") else typ
    elif isinstance(value, _dt.datetime):
        text = _quote(value.isoformat(sep=" "))
        typ = typ or (
            "timestamp with time zone" if value.tzinfo is not None else "timestamp without time zone"
        )
    elif isinstance(value, _dt.date):
        text, typ = _quote(value.isoformat()), typ or "date"
    elif isinstance(value, _dt.time):
        text, typ = _quote(value.isoformat()), typ or "time without time zone"
    elif isinstance(value, _dt.timedelta):
        text = _quote(f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds")
        typ = typ or "interval"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text, typ = "'\\x" + bytes(value).hex() + "'", typ or "bytea"
    elif isinstance(value, list):
        element = typ[:-2] if typ and typ.endswith("[]") else None
        text = "ARRAY[" + ", ".join(_literal(v, element) for v in value) + "]" if value else "'{}'"
    elif hasattr(value, "months") and hasattr(value, "nanoseconds"):  # (pyarrow's MonthDayNano)
        text = _quote(f"{value.months} months {value.days} days {value.nanoseconds // 1000} microseconds")
        typ = typ or "interval"
    elif isinstance(value, dict):
        text = _quote(json.dumps(value))
    else:
        text = _quote(str(value))
    return f"CAST({text} AS {typ})" if typ else text


_FLOAT_WORDS = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
