"""PostgreSQL's format strings as DuckDB expressions: to_char templates (strftime and friends) and
format()'s specifiers.

sqlglot maps to_char's template to strftime codes token by token and misreads much of it
('FMDay', '"T"', 'MS', 'Q', 'am'); the parser keeps to_char as written (sql/parse.py) and this module
translates the template itself. Runs of plain strftime fields become one strftime() call; the
fields strftime lacks (quarter, blank-padded month and day names, lower-case am/pm) become their
own expressions, joined with ||.

    to_char(time, 'FMDay, DD "of" Month HH12:MI am')
    -> strftime(time, '%A') || strftime(time, ', %d of ') || rpad(strftime(time, '%B'), 9, ' ')
       || strftime(time, ' %I:%M ') || lower(strftime(time, '%p'))

Numeric templates ('9,990.99', 'FM000PR') are formatted by sql/functions/numeric_format.py.

format(fmt, ...) with a constant fmt is read as PostgreSQL's text_format reads it (``%[n$][-][width |
*[n$]]type``, type s, I or L; ``%%``) and becomes the concatenation of its text and one expression
per specifier: ``%s`` the argument's text ('' for NULL), ``%I`` quote_ident of it (NULL: 22004),
``%L`` quote_nullable of it ('NULL' for NULL), padded to the width. A format PostgreSQL rejects
(22023: too few arguments, an unknown type ...) is an error() raised when a row evaluates it, as
PostgreSQL raises it.

    format('%I.%s = %L', t, c, v)
    -> quote_ident(t) || '.' || COALESCE(CAST(c AS TEXT), '') || ' = ' || quote_nullable(CAST(v AS TEXT))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

# longest first: the template is matched greedily from the left, as PostgreSQL does
_STRFTIME = [
    ("HH24", "%H", "%-H"),
    ("HH12", "%I", "%-I"),
    ("HH", "%I", "%-I"),
    ("MI", "%M", "%-M"),
    ("SS", "%S", "%-S"),
    ("MS", "%g", "%g"),
    ("US", "%f", "%f"),
    ("YYYY", "%Y", "%Y"),
    ("YY", "%y", "%y"),
    ("IYYY", "%G", "%G"),
    ("MM", "%m", "%-m"),
    ("DDD", "%j", "%-j"),
    ("DD", "%d", "%-d"),
    ("IW", "%V", "%-V"),
    ("ID", "%u", "%u"),
    ("AM", "%p", "%p"),
    ("PM", "%p", "%p"),
    ("TZ", "%Z", "%Z"),
]
_STRFTIME += [(t.lower(), plain, fm) for t, plain, fm in _STRFTIME if t not in ("AM", "PM", "TZ")]
_NAMES = {  # token -> (strftime code, pad to 9 unless FM, case)
    "MONTH": ("%B", True, "upper"),
    "Month": ("%B", True, None),
    "month": ("%B", True, "lower"),
    "MON": ("%b", False, "upper"),
    "Mon": ("%b", False, None),
    "mon": ("%b", False, "lower"),
    "DAY": ("%A", True, "upper"),
    "Day": ("%A", True, None),
    "day": ("%A", True, "lower"),
    "DY": ("%a", False, "upper"),
    "Dy": ("%a", False, None),
    "dy": ("%a", False, "lower"),
}
_TOKEN = re.compile(
    "|".join(
        sorted(
            [re.escape(t) for t, _, _ in _STRFTIME]
            + [re.escape(t) for t in _NAMES]
            + ["am", "pm", "Q", "D", "CC", "WW", "Y"],
            key=len,
            reverse=True,
        )
    )
)


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _str(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("TEXT"))


def _template_items(template: str) -> list[tuple[str, str]] | None:
    """A to_char / to_date template read from the left as PostgreSQL reads it: ("FM", "") for the
    fill mode prefix, ("text", t) for quoted text, a backslash-escaped or any other character,
    ("field", token) for the longest field name there (_TOKEN); None for an unterminated quote."""
    items: list[tuple[str, str]] = []
    i = 0
    while i < len(template):
        if template.startswith("FM", i):
            items.append(("FM", ""))
            i += 2
            continue
        c = template[i]
        if c == '"':  # quoted literal text
            end = template.find('"', i + 1)
            if end < 0:
                return None
            items.append(("text", template[i + 1 : end]))
            i = end + 1
            continue
        if c == "\\" and i + 1 < len(template):
            items.append(("text", template[i + 1]))
            i += 2
            continue
        m = _TOKEN.match(template, i)
        if m is None:
            items.append(("text", c))
            i += 1
            continue
        items.append(("field", m.group(0)))
        i = m.end()
    return items


def datetime_template(ts: exp.Expression, template: str) -> exp.Expression | None:
    """to_char(ts, template) as a DuckDB expression; None when the template has what we do not know."""
    parts: list[exp.Expression] = []
    run: list[str] = []  # a strftime format being collected

    def flush() -> None:
        if run:
            parts.append(_fn("strftime", ts.copy(), exp.Literal.string("".join(run))))
            run.clear()

    items = _template_items(template)
    if items is None:
        return None
    fill = False
    for kind, tok in items:
        if kind == "FM":
            fill = True
            continue
        if kind == "text":
            run.append(tok.replace("%", "%%"))
            continue
        code = next((plain if not fill else fm for t, plain, fm in _STRFTIME if t == tok), None)
        if code is not None:
            run.append(code)
        elif tok in _NAMES:
            flush()
            fmt, pad, case = _NAMES[tok]
            e: exp.Expression = _fn("strftime", ts.copy(), exp.Literal.string(fmt))
            if pad and not fill:
                e = _fn("rpad", e, exp.Literal.number(9), exp.Literal.string(" "))
            if case:
                e = _fn(case, e)
            parts.append(e)
        elif tok in ("am", "pm"):
            flush()
            parts.append(_fn("lower", _fn("strftime", ts.copy(), exp.Literal.string("%p"))))
        elif tok == "Q":
            flush()
            parts.append(_str(_fn("quarter", ts.copy())))
        elif tok == "D":  # day of week, Sunday = 1
            flush()
            parts.append(_str(exp.Add(this=_fn("dayofweek", ts.copy()), expression=exp.Literal.number(1))))
        elif tok == "CC":
            flush()
            parts.append(
                _fn("lpad", _str(_fn("century", ts.copy())), exp.Literal.number(2), exp.Literal.string("0"))
            )
        else:  # WW, Y: rare; let the caller keep sqlglot's reading
            return None
        fill = False
    flush()
    return _concat(parts)


# a numeric template: its fields, quoted text and punctuation (no letters of a date/time field)
_NUMERIC = re.compile(r'(?:FM|EEEE|PR|PL|SG|MI|[90.DGS,]|"[^"]*"|[^A-Za-z"])*', re.IGNORECASE)


def strptime_format(template: str) -> str | None:
    """to_date / to_timestamp's template as a strptime format (DuckDB's strptime reads month and day
    names in any case, and numbers without their leading zeros, as PostgreSQL does); None when the
    template has a field strptime cannot read (Q, WW, CC, ISO weeks ...). FM changes nothing when
    reading; quoted text and other characters are matched as written."""
    items = _template_items(template)
    if items is None:
        return None
    out: list[str] = []
    for kind, tok in items:
        if kind == "FM":  # (changes nothing when reading)
            continue
        if kind == "text":
            out.append(tok.replace("%", "%%"))
            continue
        if tok.upper() in _READ:
            out.append(_READ[tok.upper()])
        elif tok in _NAMES:
            out.append(_NAMES[tok][0])
        elif tok in ("am", "pm"):
            out.append("%p")
        else:
            return None
    return "".join(out)


# the fields to_date / to_timestamp read, by upper-case token
_READ = {t: plain for t, plain, _ in _STRFTIME if t not in ("IYYY", "IW", "ID", "TZ")}


def numeric_template(value: exp.Expression, template: str) -> exp.Expression | None:
    """to_char(number, template) for a template of PostgreSQL's number fields (9, 0, ., D, ',', G, S,
    MI, PL, SG, PR, EEEE, FM, quoted text): sql/functions/numeric_format.py formats the value's
    decimal text. None for another template (a date/time one: it has no 9 or 0 field)."""
    if not re.search(r"[90]", re.sub(r'"[^"]*"', "", template)) or not _NUMERIC.fullmatch(template):
        return None
    text = exp.Cast(this=value.copy(), to=exp.DataType.build("VARCHAR"))
    binary = exp.In(
        this=_fn("typeof", value.copy()),
        expressions=[exp.Literal.string("DOUBLE"), exp.Literal.string("FLOAT")],
    )
    return _fn("tsgres_to_char_number", text, exp.Literal.string(template), binary)


def number_reading(text: exp.Expression, template: exp.Expression) -> exp.Expression:
    """to_number(text, template) (sql/functions/numeric_format.py) as a numeric."""
    read = _fn(
        "tsgres_to_number", exp.Cast(this=text.copy(), to=exp.DataType.build("VARCHAR")), template.copy()
    )
    return exp.Cast(this=read, to=exp.DataType.build("DECIMAL(38, 12)", dialect="duckdb"))


# -- format() ---------------------------------------------------------------------------------------------
INT4_MAX = 2**31 - 1
_ARGUMENT_ZERO = "format specifies argument 0, but arguments are numbered from 1"


class _FormatError(Exception):
    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate, self.message = sqlstate, message


@dataclass(frozen=True)
class _Spec:
    """One specifier: its type (s, I or L), argument (1-based), width, whether left-justified (``-``),
    and the argument that gives the width instead (``*``)."""

    kind: str
    arg: int
    width: int
    minus: bool
    width_arg: int | None


def _format_pieces(fmt: str, nargs: int) -> list[str | _Spec]:
    """``fmt`` as text and specifiers, read as PostgreSQL's text_format and text_format_parse_format
    read it (errors in the order they meet them); ``nargs`` arguments follow the format."""
    out: list[str | _Spec] = []
    text: list[str] = []
    i, end, nextarg = 0, len(fmt), 1

    def advance() -> None:
        nonlocal i
        i += 1
        if i >= end:
            raise _FormatError("22023", "unterminated format() type specifier")

    def digits() -> int | None:
        if not fmt[i].isdigit():
            return None
        n = 0
        while fmt[i].isdigit():
            n = n * 10 + int(fmt[i])
            if n > INT4_MAX:
                raise _FormatError("22003", "number is out of range")
            advance()
        return n

    def argument(pos: int | None) -> int:
        nonlocal nextarg
        arg = pos if pos else nextarg
        nextarg = arg + 1
        if arg > nargs:
            raise _FormatError("22023", "too few arguments for format()")
        return arg

    while i < end:
        if fmt[i] != "%":
            text.append(fmt[i])
            i += 1
            continue
        advance()
        if fmt[i] == "%":
            text.append("%")
            i += 1
            continue
        argpos: int | None = None
        widthpos: int | None = None  # 0: the next argument
        width, minus = 0, False
        n = digits()
        if n is not None and fmt[i] != "$":
            width = n  # just a width, then the type
        else:
            if n is not None:
                if n == 0:
                    raise _FormatError("22023", _ARGUMENT_ZERO)
                argpos = n
                advance()
            while fmt[i] == "-":
                minus = True
                advance()
            if fmt[i] == "*":
                advance()
                n = digits()
                if n is None:
                    widthpos = 0
                else:
                    if fmt[i] != "$":
                        raise _FormatError("22023", 'width argument position must be ended by "$"')
                    if n == 0:
                        raise _FormatError("22023", _ARGUMENT_ZERO)
                    widthpos = n
                    advance()
            else:
                width = digits() or 0
        kind = fmt[i]
        if kind not in "sIL":
            raise _FormatError("22023", f'unrecognized format() type specifier "{kind}"')
        i += 1
        width_arg = argument(widthpos) if widthpos is not None else None
        arg = argument(argpos)
        if text:
            out.append("".join(text))
            text.clear()
        out.append(_Spec(kind, arg, width, minus, width_arg))
    if text:
        out.append("".join(text))
    return out


def output_text(value: exp.Expression) -> exp.Cast:
    """The text PostgreSQL's output function gives ``value`` (sql/rewrite/pg_types.py finishes it
    once types are known: a boolean is t / f there, not a cast's true / false)."""
    cast = exp.Cast(this=value.copy(), to=exp.DataType.build("TEXT"))
    cast.meta["pg_output"] = True
    return cast


def _padded(piece: exp.Expression, spec: _Spec, args: list[exp.Expression]) -> exp.Expression:
    """``piece`` padded with spaces to the spec's width (never cut), on the right when left-justified."""
    if spec.width_arg is None and spec.width == 0:
        return piece
    if spec.width_arg is None:
        width: exp.Expression = exp.Literal.number(spec.width)
        left: exp.Expression = exp.Boolean(this=spec.minus)
    else:  # a negative width argument left-justifies too
        width = exp.Coalesce(
            this=exp.Cast(this=args[spec.width_arg - 1].copy(), to=exp.DataType.build("INT")),
            expressions=[exp.Literal.number(0)],
        )
        left = (
            exp.Boolean(this=True)
            if spec.minus
            else exp.LT(this=width.copy(), expression=exp.Literal.number(0))
        )
    short = exp.Sub(this=_fn("abs", width), expression=_fn("length", piece.copy()))
    fill = _fn("repeat", exp.Literal.string(" "), _fn("greatest", short, exp.Literal.number(0)))
    return exp.Case(
        ifs=[exp.If(this=left, true=exp.DPipe(this=piece.copy(), expression=fill.copy(), safe=True))],
        default=exp.DPipe(this=fill, expression=piece, safe=True),
    )


def _conversion(spec: _Spec, args: list[exp.Expression]) -> exp.Expression:
    value = args[spec.arg - 1]
    if spec.kind == "s":
        piece: exp.Expression = exp.Coalesce(this=output_text(value), expressions=[exp.Literal.string("")])
    elif spec.kind == "L":
        piece = _fn("quote_nullable", output_text(value))
    else:
        null = _fn(
            "error", exp.Literal.string("pgsql 22004: null values cannot be formatted as an SQL identifier")
        )
        piece = exp.Case(
            ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=_str(null))],
            default=_fn("quote_ident", output_text(value)),
        )
    return _padded(piece, spec, args)


def format_call(args: list[exp.Expression]) -> exp.Expression | None:
    """format(fmt, args...) as a DuckDB expression; None when fmt is not a constant string."""
    fmt = args[0] if args else None
    if isinstance(fmt, exp.Null):
        return _str(exp.Null())
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        return None
    values = args[1:]
    try:
        pieces = _format_pieces(fmt.this, len(values))
    except _FormatError as exc:
        return _str(_fn("error", exp.Literal.string(f"pgsql {exc.sqlstate}: {exc.message}")))
    parts = [exp.Literal.string(p) if isinstance(p, str) else _conversion(p, values) for p in pieces]
    return _concat(parts)


def _concat(parts: list) -> exp.Expr:
    """``a || b || ...`` of the pieces ('' for none)."""
    if not parts:
        return exp.Literal.string("")
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=True)
    return out
