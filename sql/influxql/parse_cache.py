"""InfluxQL texts that differ only in the values they compare share one parse.

Dashboards and benchmarks send the same statement again and again with other time bounds and tag
values, each time as new text; InfluxDB's grammar is scanned a character at a time, which costs
0.3-0.8 ms for a TSBS query. So a text is cut into a *template*: every string or number literal
right after a comparison operator (``=``, ``!=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``) becomes a
bound parameter named after its kind (``$__s0``, ``$__i1``, ``$__f2``):

    SELECT max(v) FROM cpu WHERE host = 'a' AND time >= '2016-01-01T00:00:00Z' AND v > 90.5
    -> SELECT max(v) FROM cpu WHERE host = $__s0 AND time >= $__s1 AND v > $__f2

The template is parsed once with a distinct sentinel value per parameter. A text with the same
template gets a tree whose literal nodes are built from the text's own values: the parser makes a
literal node of a string or number token without looking at its value, so the tree is the one
parsing the text gives. For SELECTs of measurements the template's tree is shared: a text's tree
has its own statements, their lists and the nodes on the paths to its literals, and every other
node is the template's, which nothing after the parser changes (:class:`_Shared`). Other statements
(subqueries, whose statement is changed while they run; SHOW and the rest) are kept pickled, each
sentinel's literal node pickled as a reference to the parameter, and each text unpickles a fresh
tree.

A template is trusted only when every parameter appears exactly once in its tree as a literal
node, and the tree built for the text that introduced it equals that text's own parse; otherwise
(a quote inside an identifier or a comment, a parameter glued to a word, a parse error) the
template is remembered as one that always takes the parser. Texts with bound parameters of their
own (``$name``), backslashes or slashes (escapes and regexes, whose scanning depends on the parser)
are never cut.

A shared template also keeps, per statement, the ConditionPlan of its condition (compile.py): the
split of a WHERE clause into time range and the rest depends only on its shape, so it is worked
out once per template and each text binds its own values (:meth:`ParseCache.condition_plan`).
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import re
import threading
from collections import OrderedDict
from typing import Any

from sql.influxql import ast as A
from sql.influxql.compile import ConditionPlan
from sql.influxql.parser import parse_query

# a string or number literal right after a comparison operator; an integer of at most 18 digits
# (always an int64), a number with digits on both sides of its point; neither glued to a word
_LIFT = re.compile(r"""(?<=[=<>])(\s*)(?:'([^'\\\n]*)'|(\d{1,18})(?![\w.])|(\d+\.\d+)(?![\w.]))""")
_NEVER = re.compile(r"[$\\/]")

MAX_TEMPLATES = 1024
MAX_TEXT = 16384  # longer texts are parsed each time (a cached template keeps its text as its key)
_STR, _INT, _FLOAT = "s", "i", "f"
_NODE = {_STR: A.StringLiteral, _INT: A.IntegerLiteral, _FLOAT: A.NumberLiteral}


def _sentinel(kind: str, k: int) -> Any:
    """A value no text's own literal has there: a control character, a negative number."""
    if kind == _STR:
        return f"\x00{k}\x00"
    if kind == _INT:
        return -(10**17) - k
    return float(-(10**17) - 1024 * k)


class _Pickler(pickle.Pickler):
    def __init__(self, f: io.BytesIO, sentinels: dict[tuple[type, Any], int]) -> None:
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self.sentinels = sentinels
        self.seen: list[int] = [0] * len(sentinels)

    def persistent_id(self, obj: Any) -> Any:
        t = type(obj)
        if t is A.StringLiteral or t is A.IntegerLiteral or t is A.NumberLiteral:
            k = self.sentinels.get((t, obj.value))
            if k is not None:
                self.seen[k] += 1
                return k
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, nodes: list[Any]) -> None:
        super().__init__(io.BytesIO(data))
        self.nodes = nodes

    def persistent_load(self, pid: Any) -> Any:
        return self.nodes[pid]


class _Shared:
    """A template's tree shared by the texts of its template: each text's tree has its own
    statements, their lists, and copies of the nodes on the paths to the literal nodes of its
    values; every other node is the template's own, which nothing after the parser changes in a
    SELECT without subqueries (so a caller may change its statements, their lists and the nodes
    above its values, not the expressions below a field or a dimension). Building it costs a few
    microseconds where unpickling a TSBS query's tree costs 25-80."""

    __slots__ = ("conditions", "in_condition", "leaves", "lists", "ops", "paths", "tree")

    def __init__(self, tree: list[A.Statement], paths: list[tuple[str | int, ...]]) -> None:
        self.tree = tree
        self.paths = paths
        # per statement: the names of its attributes that are lists (fields, sources, dimensions)
        self.lists = tuple(tuple(k for k, v in stmt.__dict__.items() if type(v) is list) for stmt in tree)
        # per statement: whether every value of the template in it is in its WHERE clause
        self.in_condition = tuple(
            all(p[0] != i or (len(p) > 1 and p[1] == "condition") for p in paths) for i in range(len(tree))
        )
        # The paths as one walk over their common prefixes, each node on them reached once: ops are
        # (index of the parent among the nodes reached, step, whether to copy), in the order that
        # reaches a parent before its children (node 0: the statements' list); leaves are
        # (parent's index, step) per value. The statements and their lists are copied by build
        # itself; every other node on a path is the template's until build copies it.
        index: dict[tuple[str | int, ...], int] = {(): 0}
        ops: list[tuple[int, str | int, bool]] = []
        for path in paths:
            for k in range(1, len(path)):
                prefix = path[:k]
                if prefix in index:
                    continue
                listed = k == 2 and type(getattr(tree[int(path[0])], str(path[1]))) is list
                ops.append((index[path[: k - 1]], path[k - 1], not (k == 1 or listed)))
                index[prefix] = len(ops)
        self.ops = tuple(ops)
        self.leaves = tuple((index[path[:-1]], path[-1]) for path in paths)
        # per statement: its condition's ConditionPlan, made on first use (condition_plan)
        self.conditions: list[ConditionPlan | None] = [None] * len(tree)

    def build(self, nodes: list[Any]) -> list[A.Statement]:
        out: list[Any] = [_copy_node(stmt) for stmt in self.tree]
        for stmt, names in zip(out, self.lists, strict=True):
            d = stmt.__dict__  # a caller may change its statements and their lists (fields, sources...)
            for name in names:
                d[name] = list(d[name])
        reached: list[Any] = [out]
        for at, step, copy in self.ops:
            parent = reached[at]
            child = parent[step] if type(step) is int else getattr(parent, step)  # type: ignore[arg-type]
            if copy:
                if type(child) is list:
                    child = list(child)
                else:  # _copy_node(child), without the call
                    node = object.__new__(type(child))
                    node.__dict__.update(child.__dict__)
                    child = node
                if type(step) is int:
                    parent[step] = child
                else:
                    setattr(parent, step, child)  # type: ignore[arg-type]
            reached.append(child)
        for (at, last), node in zip(self.leaves, nodes, strict=True):
            if type(last) is int:
                reached[at][last] = node
            else:
                setattr(reached[at], last, node)  # type: ignore[arg-type]
        return out


def _copy_node(node: Any) -> Any:
    new = object.__new__(type(node))
    new.__dict__.update(node.__dict__)
    return new


def _literal_paths(tree: list[A.Statement], sentinels: dict[tuple[type, Any], int]) -> list[list[tuple]]:
    """Where each sentinel's literal node is, as paths of attribute names and list indexes."""
    found: list[list[tuple]] = [[] for _ in sentinels]

    def visit(obj: Any, path: tuple) -> None:
        t = type(obj)
        if t is A.StringLiteral or t is A.IntegerLiteral or t is A.NumberLiteral:
            k = sentinels.get((t, obj.value))
            if k is not None:
                found[k].append(path)
            return
        if t is list:
            for i, x in enumerate(obj):
                visit(x, (*path, i))
        elif dataclasses.is_dataclass(obj) and hasattr(obj, "__dict__"):
            for f in dataclasses.fields(obj):
                visit(getattr(obj, f.name), (*path, f.name))

    visit(tree, ())
    return found


class ParseCache:
    """Parsed templates by template text, least recently used dropped first (thread-safe)."""

    def __init__(self, size: int = MAX_TEMPLATES) -> None:
        self.size = size
        # a shared tree, a pickled one, or None: not a template
        self._entries: OrderedDict[str, _Shared | bytes | None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def parse(self, text: str, params: dict[str, Any] | None = None) -> list[A.Statement]:
        """``parse_query(text, params)``, from a template when ``text`` has one."""
        return self.parse_keyed(text, params)[0]

    def parse_keyed(self, text: str, params: dict[str, Any] | None = None) -> tuple[list[A.Statement], str]:
        """:meth:`parse`, and the text's template (the text itself when it is never cut): what the
        texts of one statement shape share, for whoever keeps figures per shape (query costs)."""
        if params or len(text) > MAX_TEXT or _NEVER.search(text):
            return parse_query(text, params), text
        values: list[Any] = []
        kinds: list[str] = []
        # the text cut at its literals by one split (what _LIFT.sub with a function per literal gave,
        # ~0.2 us less a literal): the text before each, its groups (space, string, integer, number)
        pieces = _LIFT.split(text)
        out = [pieces[0]]
        for at in range(1, len(pieces), 5):
            space, s, i, f, after = pieces[at : at + 5]
            if s is not None:
                kind, v = _STR, s
            elif i is not None:
                kind, v = _INT, int(i)
            else:
                kind, v = _FLOAT, float(f)
            out.append(f"{space}$__{kind}{len(values)}")
            out.append(after)
            values.append(v)
            kinds.append(kind)
        key = "".join(out)  # a text without any such literal is its own template
        with self._lock:
            entry = self._entries.get(key, False)
            if entry is not False:
                self._entries.move_to_end(key)
        if entry is None:  # a template that always takes the parser
            return parse_query(text), key
        if entry is not False:
            self.hits += 1
            nodes = [_NODE[kind](v) for kind, v in zip(kinds, values, strict=True)]
            if type(entry) is _Shared:
                return entry.build(nodes), key
            return _Unpickler(entry, nodes).load(), key
        self.misses += 1
        statements = parse_query(text)  # raises the text's own errors, with its positions
        made = _make_template(key, kinds, values, statements)
        with self._lock:
            self._entries[key] = made
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return statements, key

    def condition_only(self, key: str, text: str, index: int) -> bool:
        """Whether statement ``index`` of ``text`` (parsed by :meth:`parse_keyed` without bound
        parameters, which gave ``key``) is the same in every text of the template but for values in
        its WHERE clause: then what depends only on the rest of it may be kept by template."""
        if key == text:
            return True  # nothing cut: the text is its own template
        with self._lock:
            entry = self._entries.get(key)
        return type(entry) is _Shared and index < len(entry.in_condition) and entry.in_condition[index]

    def condition_plan(self, key: str, index: int) -> ConditionPlan | None:
        """The ConditionPlan of the condition of statement ``index`` of the texts of template
        ``key`` (parse_keyed's, without bound parameters): their conditions have the template's
        shape, so it is made once. None when the template has no shared tree."""
        with self._lock:
            entry = self._entries.get(key)
        if type(entry) is not _Shared or index >= len(entry.tree):
            return None
        plan = entry.conditions[index]
        if plan is None:  # (two threads may both make it: the same plan)
            stmt = entry.tree[index]
            plan = entry.conditions[index] = ConditionPlan(getattr(stmt, "condition", None))
        return plan

    def __len__(self) -> int:
        return len(self._entries)


def _make_template(
    key: str, kinds: list[str], values: list[Any], statements: list[A.Statement]
) -> _Shared | bytes | None:
    """The template of ``key``, or None when it cannot stand for the text it came from: a shared
    tree for SELECTs without subqueries (whose nodes nothing changes), else a pickled one."""
    try:
        params = {f"__{kind}{k}": _sentinel(kind, k) for k, kind in enumerate(kinds)}
        template = parse_query(key, params)
        sentinels = {(_NODE[kind], _sentinel(kind, k)): k for k, kind in enumerate(kinds)}
        buf = io.BytesIO()
        p = _Pickler(buf, sentinels)
        p.dump(template)
        if any(n != 1 for n in p.seen):
            return None
        data = buf.getvalue()
        nodes = [_NODE[kind](v) for kind, v in zip(kinds, values, strict=True)]
        if _Unpickler(data, nodes).load() != statements:
            return None
        if _shareable(template):
            paths = _literal_paths(template, sentinels)
            if all(len(found) == 1 for found in paths):
                shared = _Shared(template, [found[0] for found in paths])
                fresh = [_NODE[kind](v) for kind, v in zip(kinds, values, strict=True)]
                if shared.build(fresh) == statements:
                    return shared
        return data
    except Exception:  # a parameter the grammar does not take there, a tree too deep to compare
        return None


def _shareable(statements: list[A.Statement]) -> bool:
    """SELECTs that read measurements only: a subquery's statement is changed while it runs."""
    return all(
        type(stmt) is A.SelectStatement and all(type(src) is A.Measurement for src in stmt.sources)
        for stmt in statements
    )


CACHE = ParseCache()


def parse_cached(text: str, params: dict[str, Any] | None = None) -> list[A.Statement]:
    """The process-wide :class:`ParseCache`'s parse."""
    return CACHE.parse(text, params)


def parse_cached_keyed(text: str, params: dict[str, Any] | None = None) -> tuple[list[A.Statement], str]:
    """The process-wide :class:`ParseCache`'s parse_keyed."""
    return CACHE.parse_keyed(text, params)


def condition_plan(key: str, index: int) -> ConditionPlan | None:
    """The process-wide :class:`ParseCache`'s condition_plan."""
    return CACHE.condition_plan(key, index)
