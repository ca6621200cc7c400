"""Statements that differ only in the constants of their WHERE comparisons share one plan.

Dashboards and benchmarks send the same query again and again with other time bounds and tag
values, each time as new text. Parsing, rewriting, describing and planning such a text costs
milliseconds; the plan itself does not depend on those constants. So a query's text is cut into a
*template*: every string or number literal that could be a comparison value becomes a parameter
``$k`` (numbered after the client's own parameters). The template is parsed once; in its tree a
parameter stays a parameter only where it is compared with a column of one of our tables whose
type takes the literal unchanged (text, integers, float8, timestamps); every other one gets its
literal back (``date_trunc('minute', ...)``, ``LIMIT 5``, ``'1 hour'::interval``). The prepared
template, with the literals it kept as part of its identity, is cached; the next text with the same
template and the same kept literals reuses it, the lifted literals converted to parameter values.

    SELECT max(v) FROM cpu WHERE host = 'a' AND time >= '2016-01-01 00:00:00+00' GROUP BY 1
    -> template  SELECT max(v) FROM cpu WHERE host = $1 AND time >= $2 GROUP BY 1
       values    ['a', datetime(2016, 1, 1, tzinfo=UTC)]

A literal whose value cannot be converted exactly as PostgreSQL would read it (an empty tag, a
timestamp with a time zone name, an integer out of range) makes the text a miss: it takes the
ordinary path, which also raises every error with positions in the client's own text.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

_SKIP = r"""
    "(?:[^"]|"")*"                                    # quoted identifier
    | --[^\n]*                                        # comment
    | /\*.*?\*/                                        # block comment
    | \$\$.*?\$\$ | \$(?P<dq>[A-Za-z_][A-Za-z0-9_]*)\$.*?\$(?P=dq)\$   # dollar quoting
    | [A-Za-z_][A-Za-z0-9_$]*'(?:[^']|'')*'           # E'..', B'..', X'..', U&'..' prefixed strings
"""
# the token before a literal that may be a comparison value: = < > <= >= <> != ( , AND BETWEEN IN OR
_BEFORE = r"(?:<=|>=|<>|!=|[=<>(,]|(?i:AND|BETWEEN|IN|OR)\b(?!'))"  # (AND'x' is a prefixed string)
_LITERAL = r"(?:'(?:[^']|'')*'|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
_OTHER_TOKEN = (
    r"""
    (?:"""
    + _SKIP
    + r""")
    | '(?:[^']|'')*'                                  # a string that is no candidate
    | [A-Za-z_][A-Za-z0-9_$]*                         # a word
    | (?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?            # a number that is no candidate
    | <=|>=|<>|!=|::|\s+
    | .                                               # anything else, one character at a time
"""
)
# The text as matches of: a candidate (a literal right after one of _BEFORE, whitespace between), a
# client parameter $n, or a run of other tokens. Tokens are matched whole, so a candidate is only
# looked for where a token starts, never inside a string, identifier or comment; a run stops before
# the next candidate or parameter. One match per candidate keeps the Python loop short.
_SCAN = re.compile(
    r"(?P<cand>"
    + _BEFORE
    + r"\s*(?P<lit>"
    + _LITERAL
    + r"))"
    + r"|\$(?P<pn>\d+)"
    + r"|(?:(?!"
    + _BEFORE
    + r"\s*"
    + _LITERAL
    + r")(?!\$\d)(?:"
    + _OTHER_TOKEN
    + r"))+",
    re.S | re.X,
)
_LIT, _PN = _SCAN.groupindex["lit"], _SCAN.groupindex["pn"]

MAX_VARIANTS = 8  # plans kept per template (e.g. one per date_trunc unit)


@dataclass(frozen=True)
class Template:
    text: str  # the statement with lifted-candidate literals as $k
    literals: tuple[str, ...]  # the candidates' source text, in order
    kinds: tuple[str, ...]  # "str" | "num" per candidate
    base: int  # candidate i is parameter $(base + i + 1)
    pieces: tuple[str, ...] = ()  # the text around the candidates (len(literals) + 1 pieces)


def template(sql: str, n_given: int) -> Template | None:
    """The template of ``sql``; None when it has no candidate literal (nothing to share)."""
    if "'" not in sql and not any(ch.isdigit() for ch in sql):
        return None
    seen = _SEEN.get((sql[:_KEY_CHARS], n_given))
    if seen is not None:
        for known in seen:
            tpl = _refill(known, sql)
            if tpl is not None:
                return tpl
    tpl = _scan(sql, n_given)
    if tpl is not None and len(tpl.pieces[0]) >= _KEY_CHARS:
        _remember(tpl, n_given)
    return tpl


# A repeated query differs from the last one of its template only in its literals: its text is the
# same pieces with other literals between them. _refill checks that (the pieces in place, a whole
# literal of _LITERAL's greedy match between each two) in one match of a pattern made of the pieces
# (~2 us), where _SCAN tokenises the whole text (~20 us for a TSBS query). The cut is the one _scan
# would make when every piece is closed: no dollar sign or comment start in it, and each quote in it
# part of a whole quoted string or identifier of the piece (only such templates are remembered; InfluxQL's SQL quotes its
# identifiers and intervals). Then no token of a piece reaches past it (a quoted token could, looking
# for its closing quote in the text after; one that closes inside a piece closes in the same place in
# any text, as a piece never ends in a quote), so _SCAN reaches each literal in the same state (its
# lookaheads from inside a piece reach at most a comparison token and the white space after it) and
# there matches the same greedy _LITERAL; the text after the last literal is the same too.
_OPEN_ENDED = re.compile(r"\$|--|/\*")
_CLOSED = re.compile(r"""(?:'(?:[^']|'')*'|"(?:[^"]|"")*"|[^'"])*""")
_KEY_CHARS = 16  # templates are looked up by the first characters of the text (and the parameters)
_SEEN_PER_KEY = 16  # most recent templates kept per key
_SEEN_KEYS = 1024
_SEEN: dict[tuple[str, int], list[Template]] = {}


def _refill(known: Template, sql: str) -> Template | None:
    """``known``'s cut applied to ``sql``: None unless ``sql`` is its pieces with other literals."""
    m = _cut(known.pieces).fullmatch(sql)
    if m is None:
        return None
    literals = m.groups()
    return Template(known.text, literals, tuple(map(_kind, literals)), known.base, known.pieces)


@functools.lru_cache(maxsize=_SEEN_KEYS)
def _cut(pieces: tuple[str, ...]) -> re.Pattern[str]:
    """The pieces with a literal between each two, in one pattern. Each literal is an atomic group:
    it matches what _LITERAL alone matches at that place (greedy, never given back to let a piece
    match), so a text fits exactly when _scan would cut it into these pieces (see above)."""
    between = "((?>" + _LITERAL + "))"
    return re.compile(between.join(re.escape(p) for p in pieces), re.S)


def _kind(literal: str) -> str:
    """A candidate's kind: "str" (a quoted string) or "num"."""
    return "str" if literal[0] == "'" else "num"


def _remember(tpl: Template, n_given: int) -> None:
    if any(_OPEN_ENDED.search(p) or not _CLOSED.fullmatch(p) for p in tpl.pieces):
        return
    key = (tpl.pieces[0][:_KEY_CHARS], n_given)
    seen = _SEEN.get(key)
    if seen is None:
        if len(_SEEN) >= _SEEN_KEYS:
            _SEEN.clear()  # (a bound, not a cache policy: the next texts fill it again)
        seen = _SEEN[key] = []
    if all(t.pieces != tpl.pieces for t in seen):
        seen.insert(0, tpl)
        del seen[_SEEN_PER_KEY:]


def _scan(sql: str, n_given: int) -> Template | None:
    base = n_given
    spans: list[tuple[int, int, str]] = []
    for m in _SCAN.finditer(sql):
        lo = m.start(_LIT)
        if lo >= 0:
            spans.append((lo, m.end(_LIT), _kind(sql[lo])))
        elif m.start(_PN) >= 0:
            base = max(base, int(m.group(_PN)))
    if not spans:
        return None
    pieces: list[str] = []
    at = 0
    for s, e, _k in spans:
        pieces.append(sql[at:s])
        at = e
    pieces.append(sql[at:])
    parts = [pieces[0]]
    for i, piece in enumerate(pieces[1:]):
        parts.append(f"${base + i + 1} ")  # the space: see sql.parse.space_parameters
        parts.append(piece)
    return Template(
        "".join(parts),
        tuple(sql[s:e] for s, e, _k in spans),
        tuple(k for _s, _e, k in spans),
        base,
        tuple(pieces),
    )


# -- which parameters stay lifted ----------------------------------------------------------------------
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
TEXT_OIDS = {25, 1043}
INT_OIDS = {20: 2**63, 21: 2**15, 23: 2**31}
FLOAT8 = 701
TIMESTAMPTZ = 1184
TIMESTAMP = 1114
LIFTABLE_OIDS = TEXT_OIDS | set(INT_OIDS) | {FLOAT8, TIMESTAMPTZ, TIMESTAMP}


def compared_column(p: exp.Parameter) -> exp.Column | None:
    """The column ``p`` is compared with (=, <>, <, <=, >, >=, IN list, BETWEEN bounds)."""
    parent = p.parent
    if isinstance(parent, _COMPARISONS):
        other = parent.right if parent.left is p else parent.left
        return other if isinstance(other, exp.Column) else None
    if isinstance(parent, exp.In) and p is not parent.this and not parent.args.get("query"):
        return parent.this if isinstance(parent.this, exp.Column) else None
    if isinstance(parent, exp.Between) and p is not parent.this:
        return parent.this if isinstance(parent.this, exp.Column) else None
    return None


def literal_node(text: str, kind: str) -> exp.Expression:
    if kind == "num":
        return exp.Literal.number(text)
    return exp.Literal.string(text[1:-1].replace("''", "'"))


def lift(
    tree: exp.Expression, tpl: Template, column_oid: Callable[[exp.Column], int | None]
) -> dict[int, int]:
    """Put back every literal that must stay one; {candidate index: parameter type OID} of the rest.

    ``column_oid`` gives the type of a column that belongs to one of our tables (None otherwise)."""
    lifted: dict[int, int] = {}
    nodes: dict[int, exp.Parameter] = {}
    for p in list(tree.find_all(exp.Parameter)):
        name = p.this.name if isinstance(p.this, exp.Expression) else ""
        if not name.isdigit() or int(name) <= tpl.base:
            continue
        i = int(name) - tpl.base - 1
        if i >= len(tpl.literals):
            continue
        col = compared_column(p)
        oid = column_oid(col) if col is not None else None
        if oid is not None and i not in nodes and _accepts(oid, tpl.literals[i], tpl.kinds[i]):
            lifted[i] = oid
            nodes[i] = p
        else:
            p.replace(literal_node(tpl.literals[i], tpl.kinds[i]))
    # the parameters that stay are numbered without gaps, in the order of the text
    order = sorted(lifted)
    for rank, i in enumerate(order):
        nodes[i].set("this", exp.Literal.number(tpl.base + rank + 1))
    return {i: lifted[i] for i in order}


def _accepts(oid: int, text: str, kind: str) -> bool:
    if oid in TEXT_OIDS or oid in (TIMESTAMPTZ, TIMESTAMP):
        return kind == "str"
    if oid in INT_OIDS:
        return kind == "num" and text.isdigit()
    if oid == FLOAT8:
        return kind == "num"
    return False


# -- values of lifted literals -------------------------------------------------------------------------
_TS = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def value(oid: int, text: str, kind: str, timezone: str) -> object:
    """The parameter value PostgreSQL would read the literal as; raises ValueError when unsure."""
    if kind == "str":
        s = text[1:-1].replace("''", "'")
        if oid in TEXT_OIDS:
            if not s:
                raise ValueError("an empty tag value is not pushed down exactly")
            return s
        if oid in (TIMESTAMPTZ, TIMESTAMP):
            return _timestamp(s, oid, timezone)
        raise ValueError(text)
    if oid in INT_OIDS:
        v = int(text)
        if v >= INT_OIDS[oid]:
            raise ValueError("out of range")
        return v
    if oid == FLOAT8:
        return float(text)
    raise ValueError(text)


def _timestamp(s: str, oid: int, timezone: str) -> _dt.datetime:
    m = _TS.match(s)
    if m is None:
        raise ValueError(s)
    try:
        # (for what _TS accepts, fromisoformat reads the same value when it reads one: 4x faster)
        v = _dt.datetime.fromisoformat(s)
    except ValueError:
        return _timestamp_parts(m, oid, timezone)
    if oid == TIMESTAMP:
        if v.tzinfo is not None:
            raise ValueError("PostgreSQL ignores the offset of a timestamp without time zone")
        return v
    if v.tzinfo is None:
        return v.replace(tzinfo=_dt.UTC if timezone == "UTC" else zoneinfo.ZoneInfo(timezone))
    return v


def _timestamp_parts(m: re.Match, oid: int, timezone: str) -> _dt.datetime:
    """The value of a _TS match from its parts (what PostgreSQL reads)."""
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    v = _dt.datetime(
        int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), int((frac or "0").ljust(6, "0"))
    )
    if oid == TIMESTAMP:
        if off is not None:
            raise ValueError("PostgreSQL ignores the offset of a timestamp without time zone")
        return v
    if off is None:
        tz = _dt.UTC if timezone == "UTC" else zoneinfo.ZoneInfo(timezone)
        return v.replace(tzinfo=tz)
    if off == "Z":
        return v.replace(tzinfo=_dt.UTC)
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return v.replace(tzinfo=_dt.timezone(sign * _dt.timedelta(minutes=minutes)))


@dataclass
class Variant:
    """One prepared template: which candidates are parameters (and their types), which are kept."""

    lifted: dict[int, int]  # candidate index -> parameter type OID
    kept: dict[int, str]  # candidate index -> literal text the plan was made with
    n_client: int  # the client's own parameters (prepared.param_oids[:n_client])
    prepared: object  # sql.engine.Prepared over the lifted tree

    def values(self, tpl: Template, timezone: str) -> list[object] | None:
        """Values of the lifted parameters for ``tpl``, None when this variant does not fit it."""
        lits = tpl.literals
        for i, text in self.kept.items():
            if lits[i] != text:
                return None
        try:
            return [value(oid, lits[i], tpl.kinds[i], timezone) for i, oid in self.lifted.items()]
        except (ValueError, OverflowError, zoneinfo.ZoneInfoNotFoundError):
            return None
