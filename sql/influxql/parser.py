"""InfluxQL parser: a query string -> statements, with InfluxDB 1.x's grammar and error messages.

Recursive descent over :class:`sql.influxql.lexer.BufScanner`, in the shape of InfluxDB's own parser
so that a query it rejects fails here with the same message and position (``found X, expected Y at
line 1, char 8``). Bound parameters (``$name``) are replaced by their values from the request's
``params`` JSON while scanning, as InfluxDB does.

    >>> parse_query("SELECT mean(v) FROM cpu WHERE host = 'a' GROUP BY time(1m)")[0].fields[0].expr
    Call(name='mean', args=[VarRef(name='v', type=None)])
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from sql.influxql import ast as A
from sql.influxql.lexer import (
    OPERATORS,
    BufScanner,
    InvalidDuration,
    Pos,
    T,
    is_whitespace,
    parse_duration,
    precedence,
    tokstr,
)
from sql.influxql.users import ALL, READ, WRITE

MAX_INT32 = 2**31 - 1


class ParseError(Exception):
    """A query InfluxDB would refuse to parse (HTTP 400 ``error parsing query: ...``)."""

    def __init__(
        self, message: str = "", *, found: str = "", expected: list[str] | None = None, pos: Pos | None = None
    ) -> None:
        self.message = message
        self.found = found
        self.expected = expected or []
        self.pos = pos
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.message:
            if self.pos is None:
                return self.message
            return f"{self.message} at line {self.pos.line + 1}, char {self.pos.char + 1}"
        assert self.pos is not None
        return (
            f"found {self.found}, expected {', '.join(self.expected)} "
            f"at line {self.pos.line + 1}, char {self.pos.char + 1}"
        )


def _err(tok: T, lit: str, expected: list[str], pos: Pos) -> ParseError:
    return ParseError(found=tokstr(tok, lit), expected=expected, pos=pos)


def bind_value(v: Any) -> tuple[T, str]:
    """A ``params`` value as the token it stands for."""
    if isinstance(v, bool):
        return (T.TRUE, "") if v else (T.FALSE, "")
    if isinstance(v, int):
        return T.INTEGER, str(v)
    if isinstance(v, float):
        return T.NUMBER, repr(v)
    if isinstance(v, str):
        return T.STRING, v
    if isinstance(v, dict) and len(v) == 1:
        ((k, val),) = v.items()
        kinds = {
            "identifier": T.IDENT,
            "regex": T.REGEX,
            "duration": T.DURATIONVAL,
            "string": T.STRING,
            "integer": T.INTEGER,
            "float": T.NUMBER,
            "number": T.NUMBER,
        }
        if k in kinds:
            return kinds[k], str(val)
        if k == "boolean":
            return (T.TRUE, "") if val else (T.FALSE, "")
    return T.BOUNDPARAM, "__error__:" + f"unable to bind parameter with type {type(v).__name__}"


class Parser:
    def __init__(self, text: str, params: dict[str, Any] | None = None) -> None:
        self.s = BufScanner(text)
        self.params = dict(params or {})
        self._sort_named = False  # (the ORDER BY being parsed names its field: time DESC, not DESC)

    # -- scanning ------------------------------------------------------------------------------------------
    def _subst(self, item: tuple[T, Pos, str]) -> tuple[T, Pos, str]:
        tok, pos, lit = item
        if tok is T.BOUNDPARAM:
            k = lit[1:]
            if k and k in self.params:
                t2, l2 = bind_value(self.params[k])
                return t2, pos, l2
        return tok, pos, lit

    def scan(self) -> tuple[T, Pos, str]:
        return self._subst(self.s.scan())

    def scan_regex(self) -> tuple[T, Pos, str]:
        return self._subst(self.s.scan_regex())

    def scan_ws(self) -> tuple[T, Pos, str]:
        while True:
            tok, pos, lit = self.scan()
            if tok not in (T.WS, T.COMMENT):
                return tok, pos, lit

    def unscan(self) -> None:
        self.s.unscan()

    def consume_ws(self) -> None:
        tok, _, _ = self.scan()
        if tok is not T.WS:
            self.unscan()

    def peek_rune(self) -> str:
        return self.s.s.peek_rune()

    def parse_tokens(self, toks: list[T]) -> None:
        for want in toks:
            tok, pos, lit = self.scan_ws()
            if tok is not want:
                raise _err(tok, lit, [want.value], pos)

    # -- entry points --------------------------------------------------------------------------------------
    def parse_query(self) -> list[A.Statement]:
        statements: list[A.Statement] = []
        semi = True
        while True:
            tok, pos, lit = self.scan_ws()
            if tok is T.EOF:
                return statements
            if tok is T.SEMICOLON:
                semi = True
                continue
            if not semi:
                raise _err(tok, lit, [";"], pos)
            self.unscan()
            statements.append(self.parse_statement())
            semi = False

    def parse_statement(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        handlers = {
            T.SELECT: lambda: self.parse_select(target="not_required"),
            T.DELETE: self._parse_delete,
            T.SHOW: self._parse_show,
            T.CREATE: self._parse_create,
            T.DROP: self._parse_drop,
            T.EXPLAIN: self._parse_explain,
            T.GRANT: self._parse_grant,
            T.REVOKE: self._parse_revoke,
            T.ALTER: self._parse_alter,
            T.SET: self._parse_set,
            T.KILL: self._parse_kill,
        }
        h = handlers.get(tok)
        if h is None:
            raise _err(tok, lit, [t.value for t in handlers], pos)
        return h()

    # -- small pieces --------------------------------------------------------------------------------------
    def parse_int(self, lo: int, hi: int) -> int:
        tok, pos, lit = self.scan_ws()
        if tok is not T.INTEGER:
            raise _err(tok, lit, ["integer"], pos)
        n = int(lit)
        if n < lo or n > hi:
            raise ParseError(f"invalid value {n}: must be {lo} <= n <= {hi}", pos=pos)
        return n

    def parse_uint64(self) -> int:
        tok, pos, lit = self.scan_ws()
        if tok is not T.INTEGER:
            raise _err(tok, lit, ["integer"], pos)
        n = int(lit)
        if n >= 2**64:
            raise ParseError(f'strconv.ParseUint: parsing "{lit}": value out of range', pos=pos)
        return n

    def parse_duration(self) -> int:
        tok, pos, lit = self.scan_ws()
        if tok not in (T.DURATIONVAL, T.INF):
            raise _err(tok, lit, ["duration"], pos)
        if tok is T.INF:
            return 0
        try:
            return parse_duration(lit)
        except InvalidDuration as e:
            raise ParseError(str(e), pos=pos) from None

    def parse_ident(self) -> str:
        tok, pos, lit = self.scan_ws()
        if tok is not T.IDENT:
            raise _err(tok, lit, ["identifier"], pos)
        return lit

    def parse_ident_list(self) -> list[str]:
        idents = [self.parse_ident()]
        while True:
            tok, _, _ = self.scan_ws()
            if tok is not T.COMMA:
                self.unscan()
                return idents
            idents.append(self.parse_ident())

    def parse_segmented_idents(self) -> list[str]:
        idents = [self.parse_ident()]
        while True:
            tok, _, _ = self.scan()
            if tok is not T.DOT:
                self.unscan()
                break
            ch = self.peek_rune()
            if ch in ("/", ":"):
                break
            if ch == ".":
                idents.append("")
                continue
            idents.append(self.parse_ident())
        if len(idents) > 3:
            raise ParseError(f"too many segments in {A.quote_ident(*idents)}", pos=Pos(0, 0))
        return idents

    def parse_string(self) -> str:
        tok, pos, lit = self.scan_ws()
        if tok is not T.STRING:
            raise _err(tok, lit, ["string"], pos)
        return lit

    def parse_optional_int(self, t: T) -> int:
        tok, _, _ = self.scan_ws()
        if tok is not t:
            self.unscan()
            return 0
        tok, pos, lit = self.scan_ws()
        if tok is not T.INTEGER:
            raise _err(tok, lit, ["integer"], pos)
        n = int(lit)
        if n >= 2**63:
            n = -1
        if n < 0:
            raise ParseError(f"{t.value} must be >= 0", pos=pos)
        return n

    # -- SELECT --------------------------------------------------------------------------------------------
    def parse_select(self, target: str) -> A.SelectStatement:
        stmt = A.SelectStatement()
        stmt.fields = self._parse_fields()
        stmt.target = self._parse_target(target)
        tok, pos, lit = self.scan_ws()
        if tok is not T.FROM:
            raise _err(tok, lit, ["FROM"], pos)
        stmt.sources = self._parse_sources(subqueries=True)
        stmt.condition = self._parse_condition()
        stmt.dimensions = self._parse_dimensions()
        stmt.fill, stmt.fill_value = self._parse_fill()
        self._sort_named = False
        sort = self._parse_order_by()
        if sort is not None:
            stmt.sort_given = True
            stmt.sort_desc = sort
            stmt.sort_named = self._sort_named
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        stmt.slimit = self.parse_optional_int(T.SLIMIT)
        stmt.soffset = self.parse_optional_int(T.SOFFSET)
        stmt.location = self._parse_location()
        stmt.is_raw = not any(isinstance(n, A.Call) for f in stmt.fields for n in A.walk(f.expr))
        return stmt

    def _parse_target(self, requirement: str) -> A.Measurement | None:
        tok, pos, lit = self.scan_ws()
        if tok is not T.INTO:
            if requirement == "required":
                raise _err(tok, lit, ["INTO"], pos)
            self.unscan()
            return None
        idents = self.parse_segmented_idents()
        if len(idents) < 3 and self.peek_rune() == ":":
            self.parse_tokens([T.COLON, T.MEASUREMENT])
            idents.append("")
        m = A.Measurement(is_target=True)
        if len(idents) == 1:
            m.name = idents[0]
        elif len(idents) == 2:
            m.rp, m.name = idents
        else:
            m.database, m.rp, m.name = idents
        return m

    def _parse_fields(self) -> list[A.Field]:
        fields = []
        while True:
            fields.append(self._parse_field())
            tok, _, _ = self.scan()
            if tok is not T.COMMA:
                self.unscan()
                return fields

    def _parse_field(self) -> A.Field:
        f = A.Field(A.Wildcard())
        re_ = self.parse_regex()
        if re_ is not None:
            f.expr = re_
        else:
            _, pos, _ = self.scan_ws()
            self.unscan()
            expr = self.parse_expr()
            bad = _find_condition_op(expr)
            if bad is not None:
                raise ParseError(
                    f"invalid operator {bad.value} in SELECT clause at line {pos.line + 1}, char "
                    f"{pos.char + 1}; operator is intended for WHERE clause"
                )
            f.expr = expr
        f.alias = self._parse_alias()
        self.consume_ws()
        return f

    def _parse_alias(self) -> str:
        tok, _, _ = self.scan_ws()
        if tok is not T.AS:
            self.unscan()
            return ""
        return self.parse_ident()

    def _parse_sources(self, subqueries: bool) -> list[A.Source]:
        sources: list[A.Source] = []
        while True:
            sources.append(self._parse_source(subqueries))
            tok, _, _ = self.scan_ws()
            if tok is not T.COMMA:
                self.unscan()
                return sources

    def _parse_source(self, subqueries: bool) -> A.Source:
        m = A.Measurement()
        re_ = self.parse_regex()
        if re_ is not None:
            m.regex = re_
            return m
        if subqueries:
            tok, _, _ = self.scan_ws()
            if tok is T.LPAREN:
                self.parse_tokens([T.SELECT])
                stmt = self.parse_select(target="subquery")
                self.parse_tokens([T.RPAREN])
                return A.SubQuery(stmt)
            self.unscan()
        idents = self.parse_segmented_idents()
        if len(idents) == 3:
            m.database, m.rp, m.name = idents
            return m
        re_ = self.parse_regex()
        if re_ is not None:
            m.regex = re_
        if len(idents) == 1:
            if re_ is not None:
                m.rp = idents[0]
            else:
                m.name = idents[0]
        elif len(idents) == 2:
            if re_ is not None:
                m.database, m.rp = idents
            else:
                m.rp, m.name = idents
        return m

    def _parse_condition(self) -> A.Expr | None:
        tok, _, _ = self.scan_ws()
        if tok is not T.WHERE:
            self.unscan()
            return None
        return self.parse_expr()

    def _parse_dimensions(self) -> list[A.Dimension]:
        tok, _, _ = self.scan_ws()
        if tok is not T.GROUP:
            self.unscan()
            return []
        tok, pos, lit = self.scan_ws()
        if tok is not T.BY:
            raise _err(tok, lit, ["BY"], pos)
        dims = []
        while True:
            re_ = self.parse_regex()
            if re_ is not None:
                dims.append(A.Dimension(re_))
            else:
                dims.append(A.Dimension(self.parse_expr()))
                self.consume_ws()
            tok, _, _ = self.scan()
            if tok is not T.COMMA:
                self.unscan()
                return dims

    def _parse_fill(self) -> tuple[str, Any]:
        tok, _, lit = self.scan_ws()
        self.unscan()
        if tok is not T.IDENT or lit.lower() != "fill":
            return "null", None
        expr = self.parse_expr()
        if not isinstance(expr, A.Call):
            raise ParseError("fill must be a function call")
        if len(expr.args) != 1:
            raise ParseError("fill requires an argument, e.g.: 0, null, none, previous, linear")
        arg = expr.args[0]
        text = str(arg)
        if text in ("null", "none", "previous", "linear"):
            return text, None
        if isinstance(arg, A.IntegerLiteral | A.NumberLiteral):
            return "number", arg.value
        raise ParseError("expected number argument in fill()")

    def _parse_location(self) -> str | None:
        tok, _, lit = self.scan_ws()
        self.unscan()
        if tok is not T.IDENT or lit.lower() != "tz":
            return None
        expr = self.parse_expr()
        if not isinstance(expr, A.Call):
            raise ParseError("tz must be a function call")
        if len(expr.args) != 1:
            raise ParseError("tz requires exactly one argument")
        arg = expr.args[0]
        if not isinstance(arg, A.StringLiteral):
            raise ParseError("expected string argument in tz()")
        try:
            if arg.value in ("", "UTC"):
                return "UTC"
            zoneinfo.ZoneInfo(arg.value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParseError(f"unable to find time zone {arg.value}") from None
        return arg.value

    def _parse_order_by(self) -> bool | None:
        """None without ORDER BY; else True for DESC."""
        tok, _, _ = self.scan_ws()
        if tok is not T.ORDER:
            self.unscan()
            return None
        tok, pos, lit = self.scan_ws()
        if tok is not T.BY:
            raise _err(tok, lit, ["BY"], pos)
        tok, pos, lit = self.scan_ws()
        fields: list[bool] = []
        if tok in (T.ASC, T.DESC):
            fields.append(tok is T.DESC)
        elif tok is T.IDENT:
            self.unscan()
            desc = self._parse_sort_field()
            self._sort_named = True
            if lit != "time":
                raise ParseError("only ORDER BY time supported at this time")
            fields.append(desc)
        else:
            raise _err(tok, lit, ["identifier", "ASC", "DESC"], pos)
        while True:
            tok, _, _ = self.scan_ws()
            if tok is not T.COMMA:
                self.unscan()
                break
            fields.append(self._parse_sort_field())
        if len(fields) > 1:
            raise ParseError("only ORDER BY time supported at this time")
        return fields[0]

    def _parse_sort_field(self) -> bool:
        self.parse_ident()
        tok, _, _ = self.scan_ws()
        if tok not in (T.ASC, T.DESC):
            self.unscan()
            return False
        return tok is T.DESC

    # -- expressions ---------------------------------------------------------------------------------------
    def parse_var_ref(self) -> A.VarRef:
        segments = self.parse_segmented_idents()
        dtype = None
        tok, _, _ = self.scan()
        if tok is T.DOUBLECOLON:
            tok, pos, lit = self.scan()
            if tok is T.IDENT and lit.lower() in ("float", "integer", "unsigned", "string", "boolean"):
                dtype = lit.lower()
            elif tok is T.FIELD:
                dtype = "field"
            elif tok is T.TAG:
                dtype = "tag"
            elif tok is T.IDENT:
                raise _err(
                    tok, lit, ["float", "integer", "unsigned", "string", "boolean", "field", "tag"], pos
                )
            else:
                raise _err(tok, lit, ["float", "integer", "string", "boolean", "field", "tag"], pos)
        else:
            self.unscan()
        return A.VarRef(".".join(segments), dtype)

    def parse_expr(self) -> A.Expr:
        root = A.BinaryExpr(T.ILLEGAL, A.NilLiteral(), self._parse_unary())
        while True:
            op, _, _ = self.scan_ws()
            if op not in OPERATORS:
                self.unscan()
                return root.rhs
            if op in (T.EQREGEX, T.NEQREGEX):
                rhs: A.Expr | None = self.parse_regex()
                if rhs is None:
                    tok, pos, lit = self.scan_ws()
                    raise _err(tok, lit, ["regex"], pos)
            else:
                rhs = self._parse_unary()
            node = root
            while True:
                r = node.rhs
                if not isinstance(r, A.BinaryExpr) or precedence(r.op) >= precedence(op):
                    node.rhs = A.BinaryExpr(op, node.rhs, rhs)
                    break
                node = r

    def _parse_unary(self) -> A.Expr:
        tok, _, _ = self.scan_ws()
        if tok is T.LPAREN:
            expr = self.parse_expr()
            tok, pos, lit = self.scan_ws()
            if tok is not T.RPAREN:
                raise _err(tok, lit, [")"], pos)
            return A.ParenExpr(expr)
        self.unscan()
        tok, pos, lit = self.scan_ws()
        if tok is T.IDENT:
            tok0, _, _ = self.scan()
            if tok0 is T.LPAREN:
                return self._parse_call(lit)
            self.unscan()
            self.unscan()
            return self.parse_var_ref()
        if tok is T.DISTINCT:
            tok0, pos0, lit0 = self.scan()
            if tok0 is T.LPAREN:
                return self._parse_call("distinct")
            if tok0 is T.WS:
                tok1, pos1, lit1 = self.scan_ws()
                if tok1 is not T.IDENT:
                    raise _err(tok1, lit1, ["identifier"], pos1)
                return A.Distinct(lit1)
            raise _err(tok0, lit0, ["(", "identifier"], pos0)
        if tok is T.STRING:
            return A.StringLiteral(lit)
        if tok is T.NUMBER:
            try:
                return A.NumberLiteral(float(lit))
            except ValueError:
                raise ParseError("unable to parse number", pos=pos) from None
        if tok is T.INTEGER:
            v = int(lit)
            if v >= 2**63:
                if v < 2**64:
                    return A.UnsignedLiteral(v)
                raise ParseError("unable to parse integer", pos=pos)
            return A.IntegerLiteral(v)
        if tok in (T.TRUE, T.FALSE):
            return A.BooleanLiteral(tok is T.TRUE)
        if tok is T.DURATIONVAL:
            try:
                return A.DurationLiteral(parse_duration(lit))
            except InvalidDuration as e:
                raise ParseError(str(e)) from None
        if tok is T.MUL:
            wc = A.Wildcard()
            tok1, pos1, lit1 = self.scan()
            if tok1 is T.DOUBLECOLON:
                tok2, pos2, lit2 = self.scan()
                if tok2 is T.FIELD:
                    wc.type = "field"
                elif tok2 is T.TAG:
                    wc.type = "tag"
                else:
                    raise _err(tok2, lit2, ["field", "tag"], pos2)
            else:
                self.unscan()
            return wc
        if tok is T.REGEX:
            return _regex(lit, pos)
        if tok is T.BOUNDPARAM:
            if lit.startswith("__error__:"):
                raise ParseError(lit[len("__error__:") :])
            k = lit[1:]
            if not k:
                raise ParseError("empty bound parameter")
            raise ParseError(f"missing parameter: {k}")
        if tok in (T.ADD, T.SUB):
            mul = -1 if tok is T.SUB else 1
            tok0, pos0, lit0 = self.scan_ws()
            if tok0 in (T.NUMBER, T.INTEGER, T.DURATIONVAL, T.LPAREN, T.IDENT):
                self.unscan()
                inner = self._parse_unary()
                if isinstance(inner, A.NumberLiteral | A.DurationLiteral | A.IntegerLiteral):
                    inner.value *= mul
                elif isinstance(inner, A.UnsignedLiteral):
                    if tok is T.SUB:
                        if inner.value == 2**63:
                            return A.IntegerLiteral(-(2**63))
                        raise ParseError(f"constant -{inner.value} underflows int64")
                elif isinstance(inner, A.VarRef | A.Call | A.ParenExpr):
                    return A.BinaryExpr(T.MUL, A.IntegerLiteral(mul), inner)
                return inner
            raise _err(tok0, lit0, ["identifier", "number", "duration", "("], pos0)
        raise _err(tok, lit, ["identifier", "string", "number", "bool"], pos)

    def parse_regex(self) -> A.RegexLiteral | None:
        nxt = self.peek_rune()
        if is_whitespace(nxt):
            self.consume_ws()
        nxt = self.peek_rune()
        if nxt == "$":
            tok, _, _ = self.scan()
            self.unscan()
            if tok is not T.REGEX:
                return None
            tok, pos, lit = self.scan()
            return _regex(lit, pos)
        if nxt != "/":
            return None
        tok, pos, lit = self.scan_regex()
        if tok is T.BADESCAPE:
            raise ParseError(f"bad escape: {lit}", pos=pos)
        if tok is T.BADREGEX:
            raise ParseError(f"bad regex: {lit}", pos=pos)
        if tok is not T.REGEX:
            raise _err(tok, lit, ["regex"], pos)
        return _regex(lit, pos)

    def _parse_call(self, name: str) -> A.Call:
        name = name.lower()
        args: list[A.Expr] = []
        re_ = self.parse_regex()
        if re_ is not None:
            args.append(re_)
        else:
            tok, _, _ = self.scan()
            if tok is T.RPAREN:
                return A.Call(name, [])
            self.unscan()
            args.append(self.parse_expr())
        while True:
            tok, _, _ = self.scan_ws()
            if tok is not T.COMMA:
                self.unscan()
                break
            re_ = self.parse_regex()
            if re_ is not None:
                args.append(re_)
                continue
            args.append(self.parse_expr())
        tok, pos, lit = self.scan()
        if tok is not T.RPAREN:
            raise _err(tok, lit, [")"], pos)
        return A.Call(name, args)

    # -- DELETE / DROP SERIES ------------------------------------------------------------------------------
    def _parse_delete(self) -> A.Statement:
        stmt = A.DeleteSeries()
        tok, pos, lit = self.scan_ws()
        if tok is T.FROM:
            stmt.sources = self._parse_sources(subqueries=False)
            _check_delete_sources(stmt.sources)
        else:
            self.unscan()
        stmt.condition = self._parse_condition()
        if stmt.condition is None and not stmt.sources:
            raise _err(tok, lit, ["FROM", "WHERE"], pos)
        return stmt

    def _parse_drop_series(self) -> A.Statement:
        stmt = A.DropSeries()
        tok, pos, lit = self.scan_ws()
        if tok is T.FROM:
            stmt.sources = self._parse_sources(subqueries=False)
            _check_delete_sources(stmt.sources)
        else:
            self.unscan()
        stmt.condition = self._parse_condition()
        if stmt.condition is None and not stmt.sources:
            raise _err(tok, lit, ["FROM", "WHERE"], pos)
        return stmt

    # -- SHOW ----------------------------------------------------------------------------------------------
    def _parse_show(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        if tok is T.CONTINUOUS:
            self.parse_tokens([T.QUERIES])
            return A.ShowSimple("continuous queries")
        if tok is T.DATABASES:
            return A.ShowDatabases()
        if tok is T.DIAGNOSTICS:
            return A.ShowSimple("diagnostics", self._parse_for_module())
        if tok is T.FIELD:
            tok, pos, lit = self.scan_ws()
            if tok is T.KEY:
                return self._parse_key_cardinality("field_key")
            if tok is T.KEYS:
                return self._parse_show_field_keys()
            raise _err(tok, lit, ["KEY", "KEYS"], pos)
        if tok is T.GRANTS:
            self.parse_tokens([T.FOR])
            return A.ShowSimple("grants", self.parse_ident())
        if tok is T.MEASUREMENT:
            tok, pos, lit = self.scan_ws()
            if tok is T.EXACT:
                tok, pos, lit = self.scan_ws()
                if tok is not T.CARDINALITY:
                    raise _err(tok, lit, ["CARDINALITY"], pos)
                return self._parse_cardinality("measurement", True)
            if tok is T.CARDINALITY:
                return self._parse_cardinality("measurement", False)
            raise _err(tok, lit, ["EXACT", "CARDINALITY"], pos)
        if tok is T.MEASUREMENTS:
            return self._parse_show_measurements()
        if tok is T.QUERIES:
            return A.ShowSimple("queries")
        if tok is T.RETENTION:
            self.parse_tokens([T.POLICIES])
            stmt = A.ShowRetentionPolicies()
            tok, _, _ = self.scan_ws()
            if tok is T.ON:
                stmt.database = self.parse_ident()
            else:
                self.unscan()
            return stmt
        if tok is T.SERIES:
            return self._parse_show_series()
        if tok is T.SHARD:
            self.parse_tokens([T.GROUPS])
            return A.ShowShardGroups()
        if tok is T.SHARDS:
            return A.ShowShards()
        if tok is T.STATS:
            return A.ShowSimple("stats", self._parse_for_module())
        if tok is T.SUBSCRIPTIONS:
            return A.ShowSimple("subscriptions")
        if tok is T.TAG:
            tok, pos, lit = self.scan_ws()
            if tok is T.KEY:
                return self._parse_key_cardinality("tag_key")
            if tok is T.KEYS:
                return self._parse_show_tag_keys()
            if tok is T.VALUES:
                return self._parse_show_tag_values()
            raise _err(tok, lit, ["KEY", "KEYS", "VALUES"], pos)
        if tok is T.USERS:
            return A.ShowSimple("users")
        expected = [
            "CONTINUOUS",
            "DATABASES",
            "DIAGNOSTICS",
            "FIELD",
            "GRANTS",
            "MEASUREMENT",
            "MEASUREMENTS",
            "QUERIES",
            "RETENTION",
            "SERIES",
            "SHARD",
            "SHARDS",
            "STATS",
            "SUBSCRIPTIONS",
            "TAG",
            "USERS",
        ]
        raise _err(tok, lit, expected, pos)

    def _parse_for_module(self) -> str:
        tok, _, _ = self.scan_ws()
        if tok is T.FOR:
            return self.parse_string()
        self.unscan()
        return ""

    def _parse_on(self) -> str:
        tok, _, _ = self.scan_ws()
        if tok is T.ON:
            return self.parse_ident()
        self.unscan()
        return ""

    def _parse_from(self) -> list[A.Source]:
        tok, _, _ = self.scan_ws()
        if tok is T.FROM:
            return self._parse_sources(subqueries=False)
        self.unscan()
        return []

    def _parse_show_measurements(self) -> A.Statement:
        stmt = A.ShowMeasurements()
        tok, _, _ = self.scan_ws()
        if tok is T.ON:
            stmt.database = self.parse_ident()
        else:
            self.unscan()
        tok, _, _ = self.scan_ws()
        if tok is T.WITH:
            self.parse_tokens([T.MEASUREMENT])
            tok, pos, lit = self.scan_ws()
            if tok in (T.EQ, T.EQREGEX):
                stmt.op = tok
                src = self._parse_source(subqueries=False)
                assert isinstance(src, A.Measurement)
                stmt.source = src
            else:
                raise _err(tok, lit, ["=", "=~"], pos)
        else:
            self.unscan()
        stmt.condition = self._parse_condition()
        self._parse_order_by()
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        return stmt

    def _parse_show_tag_keys(self) -> A.Statement:
        stmt = A.ShowTagKeys()
        stmt.database = self._parse_on()
        stmt.sources = self._parse_from()
        stmt.condition = self._parse_condition()
        self._parse_order_by()
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        stmt.slimit = self.parse_optional_int(T.SLIMIT)
        stmt.soffset = self.parse_optional_int(T.SOFFSET)
        return stmt

    def _parse_show_tag_values(self) -> A.Statement:
        tok, _, _ = self.scan_ws()
        if tok is T.EXACT:
            tok, pos, lit = self.scan_ws()
            if tok is not T.CARDINALITY:
                raise _err(tok, lit, ["CARDINALITY"], pos)
            return self._parse_cardinality("tag_values", True)
        if tok is T.CARDINALITY:
            return self._parse_cardinality("tag_values", False)
        self.unscan()
        stmt = A.ShowTagValues()
        stmt.database = self._parse_on()
        stmt.sources = self._parse_from()
        stmt.op, stmt.key_expr = self._parse_tag_key_expr()
        stmt.condition = self._parse_condition()
        self._parse_order_by()
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        return stmt

    def _parse_tag_key_expr(self) -> tuple[T, Any]:
        self.parse_tokens([T.WITH, T.KEY])
        tok, pos, lit = self.scan_ws()
        if tok is T.IN:
            tok, pos, lit = self.scan_ws()
            if tok is not T.LPAREN:
                raise _err(tok, lit, ["("], pos)
            keys = self.parse_ident_list()
            tok, pos, lit = self.scan_ws()
            if tok is not T.RPAREN:
                raise _err(tok, lit, [")"], pos)
            return T.IN, keys
        if tok in (T.EQ, T.NEQ):
            return tok, self.parse_ident()
        if tok in (T.EQREGEX, T.NEQREGEX):
            re_ = self.parse_regex()
            if re_ is None:
                tok2, pos2, lit2 = self.scan_ws()
                raise _err(tok2, lit2, ["regex"], pos2)
            return tok, re_
        raise _err(tok, lit, ["IN", "=", "=~"], pos)

    def _parse_show_field_keys(self) -> A.Statement:
        stmt = A.ShowFieldKeys()
        stmt.database = self._parse_on()
        stmt.sources = self._parse_from()
        self._parse_order_by()
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        return stmt

    def _parse_show_series(self) -> A.Statement:
        exact = False
        tok, _, _ = self.scan_ws()
        if tok is T.EXACT:
            exact = True
        else:
            self.unscan()
        tok, _, _ = self.scan_ws()
        if tok is T.CARDINALITY:
            return self._parse_cardinality("series", exact)
        self.unscan()
        stmt = A.ShowSeries()
        stmt.database = self._parse_on()
        stmt.sources = self._parse_from()
        stmt.condition = self._parse_condition()
        self._parse_order_by()
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        return stmt

    def _parse_key_cardinality(self, what: str) -> A.Statement:
        exact = False
        required = ["EXACT", "CARDINALITY"]
        tok, _, _ = self.scan_ws()
        if tok is T.EXACT:
            exact = True
            required = ["CARDINALITY"]
        else:
            self.unscan()
        tok, pos, lit = self.scan_ws()
        if tok is not T.CARDINALITY:
            raise _err(tok, lit, required, pos)
        return self._parse_cardinality(what, exact)

    def _parse_cardinality(self, what: str, exact: bool) -> A.Statement:
        stmt = A.ShowCardinality(what=what, exact=exact)
        stmt.database = self._parse_on()
        stmt.sources = self._parse_from()
        if what == "tag_values":
            stmt.op, stmt.key_expr = self._parse_tag_key_expr()
        stmt.condition = self._parse_condition()
        stmt.dimensions = self._parse_dimensions()
        stmt.limit = self.parse_optional_int(T.LIMIT)
        stmt.offset = self.parse_optional_int(T.OFFSET)
        return stmt

    # -- CREATE / DROP / ALTER -----------------------------------------------------------------------------
    def _parse_create(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        if tok is T.CONTINUOUS:
            self.parse_tokens([T.QUERY])
            return self._parse_create_cq()
        if tok is T.DATABASE:
            return self._parse_create_database()
        if tok is T.USER:
            name = self.parse_ident()
            self.parse_tokens([T.WITH, T.PASSWORD])
            password = self.parse_string()
            tok, _, _ = self.scan_ws()
            admin = tok is T.WITH
            if admin:
                self.parse_tokens([T.ALL, T.PRIVILEGES])
            else:
                self.unscan()
            return A.CreateUser(user=name, password=password, admin=admin)
        if tok is T.RETENTION:
            self.parse_tokens([T.POLICY])
            return self._parse_create_rp()
        if tok is T.SUBSCRIPTION:
            name = self.parse_ident()
            self.parse_tokens([T.ON])
            self.parse_ident()
            tok, pos, lit = self.scan()
            if tok is not T.DOT:
                raise _err(tok, lit, ["."], pos)
            self.parse_ident()
            self.parse_tokens([T.DESTINATIONS])
            tok, pos, lit = self.scan_ws()
            if tok not in (T.ALL, T.ANY):
                raise _err(tok, lit, ["ALL", "ANY"], pos)
            self.parse_string()
            while True:
                tok, _, _ = self.scan_ws()
                if tok is not T.COMMA:
                    self.unscan()
                    break
                self.parse_string()
            return A.Unsupported(f"CREATE SUBSCRIPTION {name}")
        raise _err(tok, lit, ["CONTINUOUS", "DATABASE", "USER", "RETENTION", "SUBSCRIPTION"], pos)

    def _parse_create_cq(self) -> A.Statement:
        stmt = A.CreateContinuousQuery(name=self.parse_ident())
        self.parse_tokens([T.ON])
        stmt.database = self.parse_ident()
        tok, _, _ = self.scan_ws()
        if tok is T.RESAMPLE:
            tok, _, _ = self.scan_ws()
            if tok is T.EVERY:
                stmt.resample_every = self.parse_duration()
            else:
                self.unscan()
            tok, _, _ = self.scan_ws()
            if tok is T.FOR:
                stmt.resample_for = self.parse_duration()
            else:
                self.unscan()
            if not stmt.resample_every and not stmt.resample_for:
                tok, pos, lit = self.scan_ws()
                raise _err(tok, lit, ["EVERY", "FOR"], pos)
        else:
            self.unscan()
        self.parse_tokens([T.BEGIN, T.SELECT])
        stmt.source = self.parse_select(target="required")
        if not stmt.source.is_raw:
            interval, problem = A.group_by_interval(stmt.source)
            if not interval:
                # InfluxDB names the select's last token: back over the whitespace and that token
                self.unscan()
                self.unscan()
                tok, pos, lit = self.scan_ws()
                raise _err(tok, lit, ["GROUP BY time(...)", *([problem] if problem else [])], pos)
        tok, pos, lit = self.scan_ws()
        if tok is not T.END:
            raise _err(tok, lit, ["END"], pos)
        return stmt

    def _parse_create_database(self) -> A.Statement:
        stmt = A.CreateDatabase(name=self.parse_ident())
        tok, _, _ = self.scan_ws()
        if tok is not T.WITH:
            self.unscan()
            return stmt
        tok, pos, lit = self.scan_ws()
        if tok not in (T.DURATION, T.NAME, T.REPLICATION, T.SHARD):
            raise _err(tok, lit, ["DURATION", "NAME", "REPLICATION", "SHARD"], pos)
        self.unscan()
        stmt.rp_create = True
        if self._optional(T.DURATION):
            stmt.rp_duration = self.parse_duration()
        if self._optional(T.REPLICATION):
            stmt.rp_replication = self.parse_int(1, MAX_INT32)
        if self._optional(T.SHARD):
            tok, pos, lit = self.scan_ws()
            if tok is not T.DURATION:
                raise _err(tok, lit, ["DURATION"], pos)
            stmt.rp_shard_duration = self.parse_duration()
        if self._optional(T.NAME):
            stmt.rp_name = self.parse_ident()
        return stmt

    def _optional(self, t: T) -> bool:
        tok, _, _ = self.scan_ws()
        if tok is t:
            return True
        self.unscan()
        return False

    def _parse_create_rp(self) -> A.Statement:
        stmt = A.CreateRetentionPolicy(name=self.parse_ident())
        tok, pos, lit = self.scan_ws()
        if tok is not T.ON:
            raise _err(tok, lit, ["ON"], pos)
        stmt.database = self.parse_ident()
        tok, pos, lit = self.scan_ws()
        if tok is not T.DURATION:
            raise _err(tok, lit, ["DURATION"], pos)
        stmt.duration = self.parse_duration()
        tok, pos, lit = self.scan_ws()
        if tok is not T.REPLICATION:
            raise _err(tok, lit, ["REPLICATION"], pos)
        stmt.replication = self.parse_int(1, MAX_INT32)
        if self._optional(T.SHARD):
            tok, pos, lit = self.scan_ws()
            if tok is not T.DURATION:
                raise _err(tok, lit, ["DURATION"], pos)
            tok, pos, _ = self.scan_ws()
            if tok is T.INF:
                raise ParseError("invalid duration INF for shard duration", pos=pos)
            self.unscan()
            stmt.shard_duration = self.parse_duration()
        if self._optional(T.DEFAULT):
            stmt.default = True
        return stmt

    def _parse_alter(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        if tok is not T.RETENTION:
            raise _err(tok, lit, ["RETENTION"], pos)
        self.parse_tokens([T.POLICY])
        stmt = A.AlterRetentionPolicy()
        tok, pos, lit = self.scan_ws()
        if tok is T.DEFAULT:
            stmt.name = "default"
        elif tok is T.IDENT:
            stmt.name = lit
        else:
            raise _err(tok, lit, ["identifier"], pos)
        tok, pos, lit = self.scan_ws()
        if tok is not T.ON:
            raise _err(tok, lit, ["ON"], pos)
        stmt.database = self.parse_ident()
        found: set[T] = set()
        while True:
            tok, pos, lit = self.scan_ws()
            if tok in found:
                raise ParseError(f"found duplicate {tok.value} option", pos=pos)
            if tok is T.DURATION:
                stmt.duration = self.parse_duration()
            elif tok is T.REPLICATION:
                stmt.replication = self.parse_int(1, MAX_INT32)
            elif tok is T.SHARD:
                tok2, pos2, lit2 = self.scan_ws()
                if tok2 is not T.DURATION:
                    raise _err(tok2, lit2, ["DURATION"], pos2)
                tok3, pos3, _ = self.scan_ws()
                if tok3 is T.INF:
                    raise ParseError("invalid duration INF for shard duration", pos=pos3)
                self.unscan()
                stmt.shard_duration = self.parse_duration()
            elif tok is T.DEFAULT:
                stmt.default = True
            else:
                if not found:
                    raise _err(tok, lit, ["DURATION", "REPLICATION", "SHARD", "DEFAULT"], pos)
                self.unscan()
                return stmt
            found.add(tok)

    def _parse_drop(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        if tok is T.CONTINUOUS:
            self.parse_tokens([T.QUERY])
            name = self.parse_ident()
            self.parse_tokens([T.ON])
            return A.DropContinuousQuery(name, self.parse_ident())
        if tok is T.DATABASE:
            return A.DropDatabase(self.parse_ident())
        if tok is T.MEASUREMENT:
            return A.DropMeasurement(self.parse_ident())
        if tok is T.RETENTION:
            self.parse_tokens([T.POLICY])
            name = self.parse_ident()
            tok, pos, lit = self.scan_ws()
            if tok is not T.ON:
                raise _err(tok, lit, ["ON"], pos)
            return A.DropRetentionPolicy(name, self.parse_ident())
        if tok is T.SERIES:
            return self._parse_drop_series()
        if tok is T.SHARD:
            return A.DropShard(self.parse_uint64())
        if tok is T.SUBSCRIPTION:
            name = self.parse_ident()
            self.parse_tokens([T.ON])
            self.parse_ident()
            tok, pos, lit = self.scan()
            if tok is not T.DOT:
                raise _err(tok, lit, ["."], pos)
            self.parse_ident()
            return A.Unsupported(f"DROP SUBSCRIPTION {name}")
        if tok is T.USER:
            return A.DropUser(user=self.parse_ident())
        raise _err(
            tok,
            lit,
            ["CONTINUOUS", "DATABASE", "MEASUREMENT", "RETENTION", "SERIES", "SHARD", "SUBSCRIPTION", "USER"],
            pos,
        )

    def _parse_explain(self) -> A.Statement:
        stmt = A.Explain()
        if self._optional(T.ANALYZE):
            stmt.analyze = True
        tok, _, lit = self.scan_ws()
        if not (tok is T.IDENT and lit.lower() == "verbose"):
            self.unscan()
        tok, pos, lit = self.scan_ws()
        if tok is not T.SELECT:
            raise _err(tok, lit, ["SELECT"], pos)
        stmt.statement = self.parse_select(target="not_required")
        return stmt

    def _parse_privilege(self) -> int:
        tok, pos, lit = self.scan_ws()
        if tok is T.READ:
            return READ
        if tok is T.WRITE:
            return WRITE
        if tok is T.ALL:
            tok, _, _ = self.scan_ws()
            if tok is not T.PRIVILEGES:
                self.unscan()
            return ALL
        raise _err(tok, lit, ["READ", "WRITE", "ALL [PRIVILEGES]"], pos)

    def _parse_grant(self) -> A.Statement:
        return self._parse_grant_or_revoke(T.TO)

    def _parse_revoke(self) -> A.Statement:
        return self._parse_grant_or_revoke(T.FROM)

    def _parse_grant_or_revoke(self, to: T) -> A.Statement:
        """GRANT/REVOKE <privilege> ON <db> TO/FROM <user>, or ALL [PRIVILEGES] TO/FROM <user>
        (admin); READ or WRITE without ON is an error at the token after them, as in InfluxDB."""
        privilege = self._parse_privilege()
        tok, pos, lit = self.scan_ws()
        if tok is T.ON:
            database = self.parse_ident()
            self.parse_tokens([to])
            user = self.parse_ident()
            if to is T.TO:
                return A.Grant(user=user, privilege=privilege, database=database)
            return A.Revoke(user=user, privilege=privilege, database=database)
        if tok is not to or privilege != ALL:
            raise _err(tok, lit, ["ON"] if privilege != ALL else ["ON", to.value], pos)
        user = self.parse_ident()
        return A.GrantAdmin(user=user) if to is T.TO else A.RevokeAdmin(user=user)

    def _parse_set(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        if tok is not T.PASSWORD:
            raise _err(tok, lit, ["PASSWORD"], pos)
        self.parse_tokens([T.FOR])
        name = self.parse_ident()
        tok, pos, lit = self.scan_ws()
        if tok is not T.EQ:
            raise _err(tok, lit, ["="], pos)
        return A.SetPassword(user=name, password=self.parse_string())

    def _parse_kill(self) -> A.Statement:
        tok, pos, lit = self.scan_ws()
        if tok is not T.QUERY:
            raise _err(tok, lit, ["QUERY"], pos)
        qid = self.parse_uint64()
        if self._optional(T.ON):
            self.parse_ident()  # a cluster node: tsgres is one
        return A.KillQuery(qid)


def _check_delete_sources(sources: list[A.Source]) -> None:
    """DELETE and DROP SERIES apply to a database's every retention policy (InfluxDB 1.6's checks)."""
    message = ""
    for s in sources:
        if isinstance(s, A.Measurement):
            if s.database:
                message = "database not supported"
            if s.rp:
                message = "retention policy not supported"
    if message:
        raise ParseError(message, pos=Pos(0, 0))


def _find_condition_op(e: A.Expr) -> T | None:
    for n in A.walk(e):
        if isinstance(n, A.BinaryExpr) and n.op in (
            T.EQ,
            T.NEQ,
            T.EQREGEX,
            T.NEQREGEX,
            T.LT,
            T.LTE,
            T.GT,
            T.GTE,
            T.AND,
            T.OR,
        ):
            return n.op
    return None


def _regex(lit: str, pos: Pos) -> A.RegexLiteral:
    from sql.influxql.regex import compile_go

    try:
        return A.RegexLiteral(lit, compile_go(lit))
    except re.error as e:
        raise ParseError(f"error parsing regexp: {e}", pos=pos) from None


def parse_query(text: str, params: dict[str, Any] | None = None) -> list[A.Statement]:
    return Parser(text, params).parse_query()


def parse_statement(text: str) -> A.Statement:
    return Parser(text).parse_statement()


def parse_expr(text: str) -> A.Expr:
    return Parser(text).parse_expr()
