"""EXPLAIN's options, as PostgreSQL 15 reads them, and the plan in FORMAT JSON.

    EXPLAIN [ ( option [, ...] ) ] statement
    EXPLAIN [ ANALYZE ] [ VERBOSE ] statement

Options: ANALYZE, VERBOSE, COSTS, SETTINGS, BUFFERS, WAL, TIMING, SUMMARY [boolean] and FORMAT
{ TEXT | JSON | YAML | XML }. Tools send them (pgAdmin and DBeaver ``(ANALYZE, BUFFERS)``, graphical
plan viewers ``(FORMAT JSON)``). What they change here: ANALYZE runs the statement; FORMAT JSON gives
one json row instead of text lines. The others are accepted and checked as PostgreSQL checks them
(WAL and TIMING need ANALYZE) and change nothing: there are no buffers, costs or settings to show.
YAML and XML answer 0A000.

FORMAT JSON is PostgreSQL's outer shape, ``[{"Plan": {"Node Type": ...}, ...}]``, so tools that read
a plan's root find one: the root's "Node Type" is the plan's first line and "Plan Lines" holds every
line of the text form (tsgres's plans are not PostgreSQL's nodes); with ANALYZE an "Execution Time"
(ms) when the text reports one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sql import errors as E

JSON_OID = 114  # FORMAT JSON's column type
# the spellings PostgreSQL's defGetBoolean takes (not yes / no, which a GUC takes)
_BOOLEAN = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}
_FLAGS = ("analyze", "verbose", "costs", "settings", "buffers", "wal", "timing", "summary")
_FORMATS = ("text", "json", "yaml", "xml")
_LEGACY = re.compile(r"\s*(ANALY[SZ]E|VERBOSE)\b", re.IGNORECASE)
_EXECUTION = re.compile(r"^Execution time: ([0-9.]+) ms$")
_NATIVE = re.compile(r"^Native execution: ([0-9.]+) ms")


@dataclass
class ExplainOptions:
    analyze: bool = False
    verbose: bool = False
    format: str = "text"


def parse_explain(sql: str) -> tuple[ExplainOptions, str]:
    """The options of ``EXPLAIN ...`` and the statement it explains."""
    body = sql.strip().rstrip(";").strip()[len("EXPLAIN") :]
    opts = ExplainOptions()
    if body.lstrip().startswith("("):
        body = body.lstrip()
        close = body.find(")")
        if close < 0:
            raise E.SyntaxError_('syntax error at end of input: EXPLAIN options need a ")"')
        given = _options(body[1:close])
        body = body[close + 1 :]
        opts.analyze = bool(given.get("analyze", False))
        opts.verbose = bool(given.get("verbose", False))
        opts.format = str(given.get("format", "text"))
        for needs in ("wal", "timing"):
            if given.get(needs) and not opts.analyze:
                raise E.InvalidParameterValue(f"EXPLAIN option {needs.upper()} requires ANALYZE")
        if opts.format in ("yaml", "xml"):
            raise E.FeatureNotSupported(
                f"EXPLAIN (FORMAT {opts.format.upper()}) is not supported: use TEXT or JSON"
            )
    else:
        while (m := _LEGACY.match(body)) is not None:
            if m[1].upper() == "VERBOSE":
                opts.verbose = True
            else:
                opts.analyze = True
            body = body[m.end() :]
    return opts, body.strip()


def _options(text: str) -> dict[str, bool | str]:
    out: dict[str, bool | str] = {}
    for item in text.split(","):
        words = item.split()
        if not words:
            raise E.SyntaxError_(f'syntax error at or near "{text.strip() or ")"}": an empty EXPLAIN option')
        name = words[0].lower()
        value = " ".join(words[1:]).strip("'").lower()
        if name == "analyse":
            name = "analyze"
        if name == "format":
            if value not in _FORMATS:
                raise E.InvalidParameterValue(f'unrecognized value for EXPLAIN option "format": "{value}"')
            out[name] = value
        elif name in _FLAGS:
            if value and value not in _BOOLEAN:
                raise E.SyntaxError_(f"{name} requires a Boolean value")
            out[name] = _BOOLEAN[value] if value else True
        else:
            raise E.SyntaxError_(f'unrecognized EXPLAIN option "{name}"')
    return out


def as_json(lines: list[str], analyze: bool) -> str:
    """The text plan's lines in FORMAT JSON's shape (see the module's docstring)."""
    plan: dict[str, object] = {"Node Type": lines[0].strip() if lines else "", "Plan Lines": lines}
    root: dict[str, object] = {"Plan": plan}
    if analyze:
        for line in lines:
            m = _EXECUTION.match(line.strip()) or _NATIVE.match(line.strip())
            if m is not None:
                root["Execution Time"] = float(m[1])
                break
    return json.dumps([root], indent=2)
