"""to_char(number, template) and to_number(text, template): PostgreSQL's numeric templates.

A template is read from the left into fields (PostgreSQL's formatting.c reads the same fields):

    9      a digit; a leading zero is a blank            0    a digit, leading zeros kept
    . D    the decimal point                             , G  a group separator (blank left of the digits)
    S      the sign (+ or -) where it stands             MI   '-' for a negative value, else a blank
    PL     '+' for a positive value, else a blank        SG   '+' or '-'
    PR     a negative value in angle brackets            EEEE scientific notation
    FM     no padding: leading blanks and trailing zeros of 9 fields go
    "..."  literal text; any other character is itself

Without S, MI, PL, SG or PR a sign is written just before the first digit ('-' or a blank). A value
with more integer digits than the template has is written with '#' in every digit field. Values are
rounded half away from zero, as PostgreSQL rounds numeric, from their decimal text (a double's
shortest text, a numeric's digits), not from a binary double.

to_number reads the digits of ``text`` field by field: as many integer digits as the template has
before its decimal point and as many decimals as after it (the rest are dropped, as PostgreSQL drops
them); group separators, blanks and other characters are skipped; '-', a trailing MI/S sign or
angle brackets (PR) make it negative. (PostgreSQL reads group separators under FM oddly:
to_number('1,234', 'FM9,999') is 123 there, 1234 here.)

These run per value in Python (DuckDB Arrow functions over each batch): formatting for display, not a
scan or an aggregate.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from duckdb.func import ARROW

from sql import errors as E
from sql.functions.udf import strict_column

_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)
_TOKEN = re.compile(r'FM|EEEE|PR|PL|SG|MI|"[^"]*"|[90.DG,S]|.', re.IGNORECASE)


@dataclass
class _Template:
    fields: list[str]  # in order: '9', '0', '.', ',', 'S', 'MI', 'PL', 'SG', 'PR', 'EEEE' or literal text
    fm: bool
    int_digits: int  # digit fields before the decimal point
    frac_digits: int  # after it
    frac_zeros: int  # of those, how many up to the last 0 field (kept under FM)
    min_int: int  # integer digits always written (from the first 0 field on)


def _parse(template: str) -> _Template:
    fields: list[str] = []
    fm = False
    for m in _TOKEN.finditer(template):
        tok = m[0]
        up = tok.upper()
        if up == "FM":
            fm = True
        elif up in ("9", "0", "EEEE", "PR", "PL", "SG", "MI", "S"):
            fields.append(up)
        elif up in (".", "D"):
            fields.append(".")
        elif up in (",", "G"):
            fields.append(",")
        elif tok.startswith('"'):
            fields.append(tok[1:-1])
        else:
            fields.append(tok)
    point = fields.index(".") if "." in fields else len(fields)
    ints = [f for f in fields[:point] if f in ("9", "0")]
    fracs = [f for f in fields[point:] if f in ("9", "0")]
    first_zero = ints.index("0") if "0" in ints else len(ints)
    last_zero = max((i + 1 for i, f in enumerate(fracs) if f == "0"), default=0)
    return _Template(fields, fm, len(ints), len(fracs), last_zero, len(ints) - first_zero)


def _number(text: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        raise E.InvalidTextRepresentation(f'invalid input syntax for type numeric: "{text}"') from None
    return value


def to_char(value_text: str, template: str, binary: bool = False) -> str:
    """PostgreSQL's to_char(numeric, text) of a value given as its decimal text; ``binary``: of a
    float4 / float8, rounded as C's printf rounds the binary value (a tie to even: 3.25 -> 3.2),
    where a numeric's digits round half away from zero (3.25 -> 3.3)."""
    t = _parse(template)
    value = _number(value_text)
    negative = value.is_signed() and (value != 0 or binary)  # (a float's -0.0 is written -0)
    if "EEEE" in t.fields:
        if binary and value.is_finite():
            mantissa = f"{abs(float(value_text)):.{t.frac_digits}e}"
            return ("-" if negative else ("" if t.fm else " ")) + mantissa
        return _scientific(abs(value), negative, t)
    if not value.is_finite():
        return "#" * (t.int_digits + t.frac_digits + ("." in t.fields)) or "#"
    if binary:
        digits = f"{abs(float(value_text)):.{t.frac_digits}f}"
        rounded = decimal.Decimal(digits)
    else:
        rounded = abs(value).quantize(decimal.Decimal(1).scaleb(-t.frac_digits), context=_CONTEXT)
        digits = f"{rounded:f}"
    whole, _, frac = digits.partition(".")
    frac = frac.ljust(t.frac_digits, "0")[: t.frac_digits]
    negative = negative and (rounded != 0 or binary)  # (a float's -0.4 is '-0', as printf writes it)
    if t.fm:  # trailing zeros of 9 fields go
        frac = frac[: max(len(frac.rstrip("0")), t.frac_zeros)]
    if whole == "0":  # no integer digit unless a 0 field asks for one, or nothing else would be written
        whole = "" if frac or t.min_int else "0"
    overflow = len(whole) > t.int_digits
    digits = "#" * t.int_digits if overflow else whole.rjust(t.min_int, "0").rjust(t.int_digits)
    # (a float of more than 15 integer digits is written without decimals, as PostgreSQL does)
    no_decimals = binary and overflow and len(whole) > 15
    frac_left = ([] if no_decimals else ["#"] * t.frac_digits) if overflow else list(frac)
    anchored = _anchored_sign(t, negative)  # written just before the first digit (or the point)
    out: list[str] = []
    int_left = t.int_digits  # integer digit fields not written yet
    started = False  # a digit has been written
    for field in t.fields:
        if field in ("9", "0") and int_left:
            ch = digits[t.int_digits - int_left]
            int_left -= 1
            if ch == " ":
                out.append("" if t.fm else " ")
                continue
            if not started:
                out.append(anchored)
                started = True
            out.append(ch)
        elif field in ("9", "0"):
            out.append(frac_left.pop(0) if frac_left else ("" if t.fm or no_decimals else " "))
        elif field == ".":
            if not started:
                out.append(anchored)
                started = True
            if not t.frac_digits and not overflow:
                break  # (a point with no digit fields after it ends the output: '9.MI' writes no sign)
            out.append(".")
        elif field == ",":
            out.append("," if started else ("" if t.fm else " "))
        elif field == "S":
            if _trailing(t, field):
                out.append("-" if negative else "+")
        elif field == "MI":
            out.append("-" if negative else ("" if t.fm else " "))
        elif field == "PL":
            out.append(" " if negative and not t.fm else ("" if negative else "+"))
        elif field == "SG":
            out.append("-" if negative else "+")
        elif field == "PR":
            out.append(">" if negative else ("" if t.fm else " "))
        else:
            out.append(field)
    if not started:  # (a template without digits or a point)
        out.insert(0, anchored)
    return "".join(out)


def _trailing(t: _Template, field: str) -> bool:
    """Whether ``field`` comes after the template's first digit or point."""
    at = t.fields.index(field)
    return any(f in ("9", "0", ".") for f in t.fields[:at])


def _anchored_sign(t: _Template, negative: bool) -> str:
    """The sign written next to the number: PR's '<', a leading S's + or -, else '-' or a blank
    (none with FM); nothing when SG, MI or a trailing S writes it where it stands."""
    blank = "" if t.fm else " "
    if "PR" in t.fields:
        return "<" if negative else blank
    if "S" in t.fields:
        return "" if _trailing(t, "S") else ("-" if negative else "+")
    if "SG" in t.fields or "MI" in t.fields:
        return ""
    return "-" if negative else blank


def _scientific(value: decimal.Decimal, negative: bool, t: _Template) -> str:
    if not value.is_finite():
        return " #.##e+##"
    mantissa = f"{value:.{t.frac_digits}e}" if value else f"{0:.{t.frac_digits}e}"
    if value:  # (half away from zero, as above)
        exponent = value.adjusted()
        scaled = value.scaleb(-exponent).quantize(decimal.Decimal(1).scaleb(-t.frac_digits), context=_CONTEXT)
        if scaled >= 10:
            exponent += 1
            scaled = (scaled / 10).quantize(decimal.Decimal(1).scaleb(-t.frac_digits), context=_CONTEXT)
        mantissa = f"{scaled:f}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    sign = "-" if negative else ("" if t.fm else " ")
    return sign + mantissa


def to_number(text: str, template: str) -> decimal.Decimal:
    """PostgreSQL's to_number(text, text)."""
    t = _parse(template)
    s = text.strip()
    negative = "-" in s or (s.startswith("<") and "PR" in t.fields)  # ('9.PR' writes no closing '>')
    whole_part, point, frac_part = s.partition(".") if "." in t.fields else (s, "", "")
    whole = re.sub(r"\D", "", whole_part)[: t.int_digits]
    frac = re.sub(r"\D", "", frac_part)[: t.frac_digits] if point else ""
    if not whole and not frac:
        raise E.InvalidTextRepresentation('invalid input syntax for type numeric: " "')
    value = decimal.Decimal(f"{whole or '0'}.{frac}" if frac else whole)
    return -value if negative else value


def install(con: duckdb.DuckDBPyConnection) -> None:
    """tsgres_to_char_number(value text, template, of a float), tsgres_to_number(text, template) -> text."""
    con.create_function(
        "tsgres_to_char_number",
        strict_column(to_char, 3, pa.string()),
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR"), duckdb.sqltype("BOOLEAN")],
        duckdb.sqltype("VARCHAR"),
        type=ARROW,
        side_effects=False,
    )
    con.create_function(
        "tsgres_to_number",
        strict_column(lambda v, f: str(to_number(v, f)), 2, pa.string()),
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type=ARROW,
        side_effects=False,
    )
