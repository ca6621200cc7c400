"""Go (RE2) regular expressions, as InfluxQL writes them, in Python's ``re``.

InfluxDB matches with Go's regexp package: unanchored search, ASCII ``\\d \\w \\s``, ``$`` only at the
very end of the text, ``\\z`` for end of text. The same pattern text goes to DuckDB (RE2) when a
filter runs there; this module serves the places where Python matches (measurement and field names,
tag values in the series index).
"""

from __future__ import annotations

import re
from functools import lru_cache


def _translate(pattern: str) -> str:
    out = []
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "z" and not in_class:
                out.append(r"\Z")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class:
            out.append(r"(?:\Z)")  # Go's $ (without (?m)) matches only at the end of the text
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_go(pattern: str) -> re.Pattern[str]:
    flags = re.ASCII
    if pattern.startswith("(?") and "m" in pattern[2 : pattern.find(")")]:
        return re.compile(pattern, flags)
    return re.compile(_translate(pattern), flags)
