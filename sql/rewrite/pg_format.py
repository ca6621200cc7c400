"""PostgreSQL's to_char templates as DuckDB expressions (strftime and friends).

sqlglot maps to_char's template to strftime codes token by token and misreads much of it
('FMDay', '"T"', 'MS', 'Q', 'am'); the parser keeps to_char as written (sql/parse.py) and this module
translates the template itself. Runs of plain strftime fields become one strftime() call; the
fields strftime lacks (quarter, blank-padded month and day names, lower-case am/pm) become their
own expressions, joined with ||.

    to_char(time, 'FMDay, DD "of" Month HH12:MI am')
    -> strftime(time, '%A') || strftime(time, ', %d of ') || rpad(strftime(time, '%B'), 9, ' ')
       || strftime(time, ' %I:%M ') || lower(strftime(time, '%p'))

Numeric templates ('9990.99', 'FM000') are the digit patterns of 9 and 0 with an optional point.
"""

from __future__ import annotations

import re

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


def datetime_template(ts: exp.Expression, template: str) -> exp.Expression | None:
    """to_char(ts, template) as a DuckDB expression; None when the template has what we do not know."""
    parts: list[exp.Expression] = []
    run: list[str] = []  # a strftime format being collected

    def flush() -> None:
        if run:
            parts.append(_fn("strftime", ts.copy(), exp.Literal.string("".join(run))))
            run.clear()

    i, fill = 0, False
    while i < len(template):
        if template.startswith("FM", i):
            fill, i = True, i + 2
            continue
        c = template[i]
        if c == '"':  # quoted literal text
            end = template.find('"', i + 1)
            if end < 0:
                return None
            run.append(template[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if c == "\\" and i + 1 < len(template):
            run.append(template[i + 1].replace("%", "%%"))
            i += 2
            continue
        m = _TOKEN.match(template, i)
        if m is None:
            run.append(c.replace("%", "%%"))
            i += 1
            continue
        tok = m.group(0)
        i = m.end()
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
    if not parts:
        return exp.Literal.string("")
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=True)
    return out


_NUMERIC = re.compile(r"^(FM)?([90]+)(?:\.([90]+))?$")


def numeric_template(value: exp.Expression, template: str) -> exp.Expression | None:
    """to_char(number, '9990.99') for digit patterns: a sign position, then the digits right-aligned
    (zeros from the first 0 on), rounded to the decimals given; FM drops the padding."""
    m = _NUMERIC.match(template)
    if m is None:
        return None
    fm, whole, frac = bool(m[1]), m[2], m[3] or ""
    zeros = len(whole) - whole.index("0") if "0" in whole else 0
    as_double = exp.Cast(this=value.copy(), to=exp.DataType.build("DOUBLE"))
    digits: exp.Expression = _fn("printf", exp.Literal.string(f"%.{len(frac)}f"), _fn("abs", as_double))
    if zeros:
        int_part = _fn("split_part", digits.copy(), exp.Literal.string("."), exp.Literal.number(1))
        padded = _fn("lpad", int_part, exp.Literal.number(zeros), exp.Literal.string("0"))
        digits = (
            exp.DPipe(
                this=padded,
                expression=exp.DPipe(
                    this=exp.Literal.string("."),
                    expression=_fn("split_part", digits, exp.Literal.string("."), exp.Literal.number(2)),
                    safe=True,
                ),
                safe=True,
            )
            if frac
            else padded
        )
    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    sign = exp.Case(ifs=[exp.If(this=negative, true=exp.Literal.string("-"))], default=exp.Literal.string(""))
    if fm:
        return exp.DPipe(this=sign, expression=digits, safe=True)
    width = len(whole) + (len(frac) + 1 if frac else 0) + 1
    return _fn(
        "lpad",
        exp.DPipe(this=sign, expression=digits, safe=True),
        exp.Literal.number(width),
        exp.Literal.string(" "),
    )
