"""InfluxQL tokens and scanner, with InfluxDB 1.x's lexical rules and error positions.

Tokens: identifiers (bare ``[A-Za-z_][A-Za-z0-9_]*`` or double-quoted with ``\\"`` escapes), keywords
(case-insensitive; a keyword used as a name must be double-quoted), single-quoted strings (escapes
``\\n \\\\ \\' \\"``), integers, numbers, durations (an integer followed by letters: ``10s``, ``1h30m``,
``5µs``), regexes ``/.../`` (scanned only where the grammar allows one; ``\\/`` escapes a slash),
bound parameters ``$name``, operators and ``--`` / ``/* */`` comments.

Positions are what InfluxDB reports in "at line L, char C" (1-based when printed). The reader keeps
InfluxDB's quirks so that error messages match: reading past the end counts one character once, and
a peek at the end consumes it (so an EOF found right after a peek is one character further on).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class T(enum.Enum):
    ILLEGAL = "ILLEGAL"
    EOF = "EOF"
    WS = "WS"
    COMMENT = "COMMENT"
    IDENT = "IDENT"
    BOUNDPARAM = "BOUNDPARAM"
    NUMBER = "NUMBER"
    INTEGER = "INTEGER"
    DURATIONVAL = "DURATIONVAL"
    STRING = "STRING"
    BADSTRING = "BADSTRING"
    BADESCAPE = "BADESCAPE"
    TRUE = "TRUE"
    FALSE = "FALSE"
    REGEX = "REGEX"
    BADREGEX = "BADREGEX"
    # operators
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    BITWISE_AND = "&"
    BITWISE_OR = "|"
    BITWISE_XOR = "^"
    AND = "AND"
    OR = "OR"
    IN = "IN"
    EQ = "="
    NEQ = "!="
    EQREGEX = "=~"
    NEQREGEX = "!~"
    LT = "<"
    LTE = "<="
    GT = ">"
    GTE = ">="
    # punctuation
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    COLON = ":"
    DOUBLECOLON = "::"
    SEMICOLON = ";"
    DOT = "."
    # keywords: the value is the word
    ALL = "ALL"
    ALTER = "ALTER"
    ANALYZE = "ANALYZE"
    ANY = "ANY"
    AS = "AS"
    ASC = "ASC"
    BEGIN = "BEGIN"
    BY = "BY"
    CARDINALITY = "CARDINALITY"
    CREATE = "CREATE"
    CONTINUOUS = "CONTINUOUS"
    DATABASE = "DATABASE"
    DATABASES = "DATABASES"
    DEFAULT = "DEFAULT"
    DELETE = "DELETE"
    DESC = "DESC"
    DESTINATIONS = "DESTINATIONS"
    DIAGNOSTICS = "DIAGNOSTICS"
    DISTINCT = "DISTINCT"
    DROP = "DROP"
    DURATION = "DURATION"
    END = "END"
    EVERY = "EVERY"
    EXACT = "EXACT"
    EXPLAIN = "EXPLAIN"
    FIELD = "FIELD"
    FOR = "FOR"
    FROM = "FROM"
    GRANT = "GRANT"
    GRANTS = "GRANTS"
    GROUP = "GROUP"
    GROUPS = "GROUPS"
    INF = "INF"
    INSERT = "INSERT"
    INTO = "INTO"
    KEY = "KEY"
    KEYS = "KEYS"
    KILL = "KILL"
    LIMIT = "LIMIT"
    MEASUREMENT = "MEASUREMENT"
    MEASUREMENTS = "MEASUREMENTS"
    NAME = "NAME"
    OFFSET = "OFFSET"
    ON = "ON"
    ORDER = "ORDER"
    PASSWORD = "PASSWORD"
    POLICY = "POLICY"
    POLICIES = "POLICIES"
    PRIVILEGES = "PRIVILEGES"
    QUERIES = "QUERIES"
    QUERY = "QUERY"
    READ = "READ"
    REPLICATION = "REPLICATION"
    RESAMPLE = "RESAMPLE"
    RETENTION = "RETENTION"
    REVOKE = "REVOKE"
    SELECT = "SELECT"
    SERIES = "SERIES"
    SET = "SET"
    SHOW = "SHOW"
    SHARD = "SHARD"
    SHARDS = "SHARDS"
    SLIMIT = "SLIMIT"
    SOFFSET = "SOFFSET"
    STATS = "STATS"
    SUBSCRIPTION = "SUBSCRIPTION"
    SUBSCRIPTIONS = "SUBSCRIPTIONS"
    TAG = "TAG"
    TO = "TO"
    USER = "USER"
    USERS = "USERS"
    VALUES = "VALUES"
    WHERE = "WHERE"
    WITH = "WITH"
    WRITE = "WRITE"


_FIRST_KEYWORD = list(T).index(T.ALL)
KEYWORDS: dict[str, T] = {t.value.lower(): t for t in list(T)[_FIRST_KEYWORD:]}
KEYWORDS.update({"and": T.AND, "or": T.OR, "in": T.IN, "true": T.TRUE, "false": T.FALSE})

OPERATORS = frozenset(
    {
        T.ADD,
        T.SUB,
        T.MUL,
        T.DIV,
        T.MOD,
        T.BITWISE_AND,
        T.BITWISE_OR,
        T.BITWISE_XOR,
        T.AND,
        T.OR,
        T.IN,
        T.EQ,
        T.NEQ,
        T.EQREGEX,
        T.NEQREGEX,
        T.LT,
        T.LTE,
        T.GT,
        T.GTE,
    }
)


def precedence(t: T) -> int:
    if t is T.OR:
        return 1
    if t is T.AND:
        return 2
    if t in (T.EQ, T.NEQ, T.EQREGEX, T.NEQREGEX, T.LT, T.LTE, T.GT, T.GTE, T.IN):
        return 3
    if t in (T.ADD, T.SUB, T.BITWISE_OR, T.BITWISE_XOR):
        return 4
    if t in (T.MUL, T.DIV, T.MOD, T.BITWISE_AND):
        return 5
    return 0


def lookup(word: str) -> T:
    return KEYWORDS.get(word.lower(), T.IDENT)


def tokstr(tok: T, lit: str) -> str:
    """How an error message names a token: its text when it has one, else the token's name."""
    return lit if lit else tok.value


@dataclass(frozen=True)
class Pos:
    line: int  # 0-based
    char: int  # 0-based


EOF_CH = ""


def is_whitespace(ch: str) -> bool:
    return ch in (" ", "\t", "\n")


def is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z" or "A" <= ch <= "Z") and ch != ""


def is_digit(ch: str) -> bool:
    return "0" <= ch <= "9" and ch != ""


def is_ident_char(ch: str) -> bool:
    return is_letter(ch) or is_digit(ch) or ch == "_"


def is_ident_first_char(ch: str) -> bool:
    return is_letter(ch) or ch == "_"


_IDENT_RUN = re.compile(r"[A-Za-z0-9_]+")  # is_ident_char
# a string's characters up to its end, an escape or a line break
_PLAIN_RUN = {q: re.compile(rf"[^{q}\\\n\r]+") for q in ("'", '"')}


class Reader:
    """Characters with positions and up to three characters of unread (InfluxDB's rune reader)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0  # next index into text
        self.line = 0
        self.char = 0
        self.eof = False
        self.buf: list[tuple[str, Pos]] = [("", Pos(0, 0))] * 3
        self.bi = 0
        self.n = 0

    def read(self) -> tuple[str, Pos]:
        if self.n > 0:
            self.n -= 1
            return self.curr()
        if self.i < len(self.text):
            ch = self.text[self.i]
            self.i += 1
            if ch == "\r":
                if self.i < len(self.text) and self.text[self.i] == "\n":
                    self.i += 1
                ch = "\n"
        else:
            ch = EOF_CH
        self.bi = (self.bi + 1) % 3
        self.buf[self.bi] = (ch, Pos(self.line, self.char))
        if ch == "\n":
            self.line += 1
            self.char = 0
        elif not self.eof:
            self.char += 1
        if ch == EOF_CH:
            self.eof = True
        return self.curr()

    def read_run(self, run: re.Pattern[str]) -> str:
        """The longest run of characters ``run`` matches (none of them a newline or a carriage
        return), read as that many :meth:`read` calls would."""
        head = ""
        while self.n:  # unread characters first
            ch, _ = self.read()
            if ch == EOF_CH or run.match(ch) is None:
                self.unread()
                return head
            head += ch
        m = run.match(self.text, self.i)
        if m is None:
            return head
        s = m.group()
        for k in range(max(0, len(s) - 3), len(s)):  # the ring keeps the last three, as read() does
            self.bi = (self.bi + 1) % 3
            self.buf[self.bi] = (s[k], Pos(self.line, self.char + k))
        self.i += len(s)
        self.char += len(s)
        return head + s

    def unread(self) -> None:
        self.n += 1

    def curr(self) -> tuple[str, Pos]:
        return self.buf[(self.bi - self.n + 3) % 3]


class ScanError(Exception):
    pass


class Scanner:
    def __init__(self, text: str) -> None:
        self.r = Reader(text)

    def scan(self) -> tuple[T, Pos, str]:
        ch0, pos = self.r.read()
        if is_whitespace(ch0):
            return self._scan_whitespace()
        if is_letter(ch0) or ch0 == "_":
            self.r.unread()
            return self.scan_ident(True)
        if is_digit(ch0):
            return self._scan_number()
        if ch0 == EOF_CH:
            return T.EOF, pos, ""
        if ch0 == '"':
            self.r.unread()
            return self.scan_ident(True)
        if ch0 == "'":
            return self._scan_string()
        if ch0 == ".":
            ch1, _ = self.r.read()
            self.r.unread()
            if is_digit(ch1):
                return self._scan_number()
            return T.DOT, pos, ""
        if ch0 == "$":
            tok, _, lit = self.scan_ident(False)
            if tok is not T.IDENT:
                return tok, pos, "$" + lit
            return T.BOUNDPARAM, pos, "$" + lit
        if ch0 == "+":
            return T.ADD, pos, ""
        if ch0 == "-":
            ch1, _ = self.r.read()
            if ch1 == "-":
                self._skip_until_newline()
                return T.COMMENT, pos, ""
            self.r.unread()
            return T.SUB, pos, ""
        if ch0 == "*":
            return T.MUL, pos, ""
        if ch0 == "/":
            ch1, _ = self.r.read()
            if ch1 == "*":
                if not self._skip_until_end_comment():
                    return T.ILLEGAL, pos, ""
                return T.COMMENT, pos, ""
            self.r.unread()
            return T.DIV, pos, ""
        simple = {"%": T.MOD, "&": T.BITWISE_AND, "|": T.BITWISE_OR, "^": T.BITWISE_XOR}
        if ch0 in simple:
            return simple[ch0], pos, ""
        if ch0 == "=":
            ch1, _ = self.r.read()
            if ch1 == "~":
                return T.EQREGEX, pos, ""
            self.r.unread()
            return T.EQ, pos, ""
        if ch0 == "!":
            ch1, _ = self.r.read()
            if ch1 == "=":
                return T.NEQ, pos, ""
            if ch1 == "~":
                return T.NEQREGEX, pos, ""
            self.r.unread()
        elif ch0 == ">":
            ch1, _ = self.r.read()
            if ch1 == "=":
                return T.GTE, pos, ""
            self.r.unread()
            return T.GT, pos, ""
        elif ch0 == "<":
            ch1, _ = self.r.read()
            if ch1 == "=":
                return T.LTE, pos, ""
            if ch1 == ">":
                return T.NEQ, pos, ""
            self.r.unread()
            return T.LT, pos, ""
        punct = {"(": T.LPAREN, ")": T.RPAREN, ",": T.COMMA, ";": T.SEMICOLON}
        if ch0 in punct:
            return punct[ch0], pos, ""
        if ch0 == ":":
            ch1, _ = self.r.read()
            if ch1 == ":":
                return T.DOUBLECOLON, pos, ""
            self.r.unread()
            return T.COLON, pos, ""
        return T.ILLEGAL, pos, ch0

    def _scan_whitespace(self) -> tuple[T, Pos, str]:
        ch, pos = self.r.curr()
        out = [ch]
        while True:
            ch, _ = self.r.read()
            if ch == EOF_CH:
                break
            if not is_whitespace(ch):
                self.r.unread()
                break
            out.append(ch)
        return T.WS, pos, "".join(out)

    def _skip_until_newline(self) -> None:
        while True:
            ch, _ = self.r.read()
            if ch in ("\n", EOF_CH):
                return

    def _skip_until_end_comment(self) -> bool:
        while True:
            ch1, _ = self.r.read()
            if ch1 == "*":
                while True:
                    ch2, _ = self.r.read()
                    if ch2 == "/":
                        return True
                    if ch2 == "*":
                        continue
                    if ch2 == EOF_CH:
                        return False
                    break
            elif ch1 == EOF_CH:
                return False

    def scan_ident(self, lookup_keyword: bool) -> tuple[T, Pos, str]:
        _, pos = self.r.read()
        self.r.unread()
        out: list[str] = []
        while True:
            ch, _ = self.r.read()
            if ch == EOF_CH:
                break
            if ch == '"':
                tok0, pos0, lit0 = self._scan_string()
                if tok0 in (T.BADSTRING, T.BADESCAPE):
                    return tok0, pos0, lit0
                return T.IDENT, pos, lit0
            if is_ident_char(ch):
                self.r.unread()
                out.append(self._scan_bare_ident())
            else:
                self.r.unread()
                break
        lit = "".join(out)
        if lookup_keyword:
            tok = lookup(lit)
            if tok is not T.IDENT:
                return tok, pos, ""
        return T.IDENT, pos, lit

    def _scan_bare_ident(self) -> str:
        out = [self.r.read_run(_IDENT_RUN)]
        while True:
            ch, _ = self.r.read()
            if ch == EOF_CH:
                break
            if not is_ident_char(ch):
                self.r.unread()
                break
            out.append(ch)
        return "".join(out)

    def _scan_string(self) -> tuple[T, Pos, str]:
        self.r.unread()
        _, pos = self.r.curr()
        ending, _ = self.r.read()
        out: list[str] = []
        plain = _PLAIN_RUN[ending]
        while True:
            out.append(self.r.read_run(plain))
            ch0, _ = self.r.read()
            if ch0 == ending:
                return T.STRING, pos, "".join(out)
            if ch0 == EOF_CH or ch0 == "\n":
                return T.BADSTRING, pos, "".join(out)
            if ch0 == "\\":
                ch1, _ = self.r.read()
                esc = {"n": "\n", "\\": "\\", '"': '"', "'": "'"}.get(ch1)
                if esc is None:
                    _, epos = self.r.curr()
                    return T.BADESCAPE, epos, ch0 + ch1
                out.append(esc)
            else:
                out.append(ch0)

    def scan_regex(self) -> tuple[T, Pos, str]:
        _, pos = self.r.curr()
        ch, _ = self.r.read()
        if ch != "/":
            return T.BADREGEX, pos, ""
        out: list[str] = []
        while True:
            ch0, _ = self.r.read()
            if ch0 == "/":
                return T.REGEX, pos, "".join(out)
            if ch0 == EOF_CH:
                return T.BADREGEX, pos, ""
            if ch0 == "\n":
                return T.BADREGEX, pos, ""
            if ch0 == "\\":
                ch1, _ = self.r.read()
                if ch1 == EOF_CH:
                    return T.BADREGEX, pos, ""
                if ch1 == "/":
                    out.append("/")
                else:
                    self.r.unread()
                    out.append("\\")
            else:
                out.append(ch0)

    def _scan_number(self) -> tuple[T, Pos, str]:
        ch, pos = self.r.curr()
        if ch == ".":
            ch1, _ = self.r.read()
            self.r.unread()
            if not is_digit(ch1):
                return T.ILLEGAL, pos, "."
            self.r.unread()
        else:
            self.r.unread()
        out = [self._scan_digits()]
        is_decimal = False
        ch0, _ = self.r.read()
        if ch0 == ".":
            is_decimal = True
            ch1, _ = self.r.read()
            if is_digit(ch1):
                out.append(ch0)
                out.append(ch1)
                out.append(self._scan_digits())
            else:
                self.r.unread()
        else:
            self.r.unread()
        if not is_decimal:
            ch0, _ = self.r.read()
            if is_letter(ch0) or ch0 == "µ":
                out.append(ch0)
                while True:
                    ch1, _ = self.r.read()
                    if not is_letter(ch1) and ch1 != "µ":
                        self.r.unread()
                        break
                    out.append(ch1)
                while True:
                    ch1, _ = self.r.read()
                    if is_letter(ch1) or ch1 == "µ" or is_digit(ch1):
                        out.append(ch1)
                    else:
                        self.r.unread()
                        break
                return T.DURATIONVAL, pos, "".join(out)
            self.r.unread()
            return T.INTEGER, pos, "".join(out)
        return T.NUMBER, pos, "".join(out)

    def _scan_digits(self) -> str:
        out = []
        while True:
            ch, _ = self.r.read()
            if not is_digit(ch):
                self.r.unread()
                break
            out.append(ch)
        return "".join(out)

    def peek_rune(self) -> str:
        """The next character; at the end the read is not undone (InfluxDB's peek does the same)."""
        ch, _ = self.r.read()
        if ch != EOF_CH:
            self.r.unread()
        return ch


class BufScanner:
    """Tokens with up to three tokens of unscan."""

    def __init__(self, text: str) -> None:
        self.s = Scanner(text)
        self.buf: list[tuple[T, Pos, str]] = [(T.EOF, Pos(0, 0), "")] * 3
        self.i = 0
        self.n = 0

    def _scan_with(self, fn) -> tuple[T, Pos, str]:
        if self.n > 0:
            self.n -= 1
            return self.curr()
        self.i = (self.i + 1) % 3
        self.buf[self.i] = fn()
        return self.curr()

    def scan(self) -> tuple[T, Pos, str]:
        return self._scan_with(self.s.scan)

    def scan_regex(self) -> tuple[T, Pos, str]:
        return self._scan_with(self.s.scan_regex)

    def unscan(self) -> None:
        self.n += 1

    def curr(self) -> tuple[T, Pos, str]:
        return self.buf[(self.i - self.n + 3) % 3]


# -- durations ------------------------------------------------------------------------------------------
NS = 1
US = 1000
MS = 1000 * US
S = 1000 * MS
M = 60 * S
H = 60 * M
D = 24 * H
W = 7 * D


class InvalidDuration(ValueError):
    pass


def parse_duration(s: str) -> int:
    """InfluxQL's duration literal (``1h30m``, ``-5s``, ``10µs``) in nanoseconds."""
    if len(s) < 2:
        raise InvalidDuration("invalid duration")
    i = 0
    negative = False
    if s[0] == "-":
        negative = True
        i = 1
    total = 0
    measure = 0
    unit = ""
    while i < len(s):
        start = i
        while i < len(s) and is_digit(s[i]):
            i += 1
        if i >= len(s) or i == start:
            raise InvalidDuration("invalid duration")
        n = int(s[start:i])
        if n >= 2**63:
            raise InvalidDuration("invalid duration")
        measure = n
        c = s[i]
        unit = c
        if c == "n":
            if i + 1 < len(s) and s[i + 1] == "s":
                unit = "ns"
                total += n
                i += 2
                continue
            raise InvalidDuration("invalid duration")
        if c in ("u", "µ"):
            total += n * US
        elif c == "m":
            if i + 1 < len(s) and s[i + 1] == "s":
                unit = "ms"
                total += n * MS
                i += 2
                continue
            total += n * M
        elif c == "s":
            total += n * S
        elif c == "h":
            total += n * H
        elif c == "d":
            total += n * D
        elif c == "w":
            total += n * W
        else:
            raise InvalidDuration("invalid duration")
        i += 1
    wrapped = (total + 2**63) % 2**64 - 2**63  # Go's int64 arithmetic
    if wrapped < 0 and not negative:
        raise InvalidDuration(f"overflowed duration {measure}{unit}: choose a smaller duration or INF")
    return -wrapped if negative else wrapped


def format_duration(d: int) -> str:
    """InfluxQL's shortest duration text (``1w``, ``90m``, ``0s``), as SHOW RETENTION POLICIES has it."""
    if d == 0:
        return "0s"
    for unit, name in ((W, "w"), (D, "d"), (H, "h"), (M, "m"), (S, "s"), (MS, "ms"), (US, "u")):
        if d % unit == 0:
            return f"{d // unit}{name}"
    return f"{d}ns"


def go_duration(d: int) -> str:
    """Go's time.Duration.String(): ``168h0m0s``, ``1h30m0s``, ``0s`` (SHOW RETENTION POLICIES)."""
    if d == 0:
        return "0s"
    neg = d < 0
    u = -d if neg else d
    if u < S:
        if u < US:
            text = f"{u}ns"
        elif u < MS:
            text = _frac(u, 3) + "µs"
        else:
            text = _frac(u, 6) + "ms"
        return ("-" if neg else "") + text
    secs = _frac(u % M, 9) + "s"
    mins = (u // M) % 60
    hours = u // H
    if hours:
        text = f"{hours}h{mins}m{secs}"
    elif u >= M:
        text = f"{mins}m{secs}"
    else:
        text = secs
    return ("-" if neg else "") + text


def _frac(v: int, prec: int) -> str:
    whole, frac = divmod(v, 10**prec)
    if not frac:
        return str(whole)
    return f"{whole}." + f"{frac:0{prec}d}".rstrip("0")
