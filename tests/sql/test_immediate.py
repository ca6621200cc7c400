"""sql.immediate: which statements pgwire may answer on its event loop."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sql.immediate import MAX_TEXT, immediate


def test_constant_queries_once_prepared_and_session_commands(tsgres_session) -> None:  # type: ignore[no-untyped-def]
    s = tsgres_session
    s.execute(s.prepare("CREATE TABLE IF NOT EXISTS imm (time timestamptz NOT NULL, v float8)", []), [])
    sql = "SELECT 1 + 41 AS answer"
    assert not immediate(s, sql)  # nothing cached yet: preparing it parses and plans
    stmt = s.prepare(sql, [])
    assert immediate(s, sql) and immediate(s, stmt)
    assert immediate(s, f"BEGIN; {sql}; COMMIT")
    assert immediate(s, "SET TimeZone = 'Europe/Berlin'") and immediate(s, "SHOW TimeZone")
    assert immediate(s, "")
    table = s.prepare("SELECT v FROM imm", [])
    assert not immediate(s, "SELECT v FROM imm") and not immediate(s, table)  # a scan
    assert not immediate(s, f"{sql}; SELECT v FROM imm")
    assert not immediate(s, "SELECT 1" + " " * MAX_TEXT)


def test_cached_split_is_split_and_hands_out_fresh_lists() -> None:
    from sql.immediate import cached_split
    from sql.parse import split

    for sql in ["SELECT 1", "select 1; select 2;", "BEGIN; SELECT 'a;b'; -- c\n COMMIT", "", "  ;  "]:
        assert cached_split(sql) == split(sql)
    first = cached_split("SELECT 1; SELECT 2")
    first.pop()  # the handler consumes the list it is given
    assert cached_split("SELECT 1; SELECT 2") == ["SELECT 1", "SELECT 2"]


def test_cached_split_of_one_statement_texts_without_tokenizing() -> None:
    """Texts that can only be one statement are not tokenized (the split of a new 400-character
    dashboard query cost ~200-400 us): the same answer as the tokenizer's, or the tokenizer's own."""
    from unittest import mock

    from sql import immediate as imm

    texts = {
        "  SELECT max(v) FROM cpu WHERE host = 'a b' AND time >= '2016-01-01 00:00:00+00'\n\t ": (
            "SELECT max(v) FROM cpu WHERE host = 'a b' AND time >= '2016-01-01 00:00:00+00'",
        ),
        '\n SELECT "weird ""name""" FROM t\n': ('SELECT "weird ""name""" FROM t',),
        " \n\t": (),
    }
    for sql, want in texts.items():
        imm._split.cache_clear()
        with mock.patch.object(imm, "split", side_effect=AssertionError("tokenized")):
            assert imm.cached_split(sql) == list(want)
    for sql in ["SELECT 1; SELECT 2", "SELECT 1 -- c", "/* c */ SELECT 1", "SELECT 'a", "SELECT $$x$$",
                "SELECT E'\\''", "\x0bSELECT 1"]:  # fmt: skip
        assert imm._single(sql) is None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=list(" \t\n\r\x0b'\"$;-/*\\abcE(),=01é{}#"), max_size=30))
def test_the_one_statement_shortcut_splits_as_the_tokenizer(sql: str) -> None:
    from sql import immediate as imm
    from sql.errors import SqlError
    from sql.parse import split

    one = imm._single(sql)
    if one is None:
        return
    try:
        want = split(sql)
    except SqlError:
        want = None
    assert want is None or list(one) == want


def test_lookup_finds_a_template_instance_without_planning_and_prepare_takes_it(tsgres_session) -> None:  # type: ignore[no-untyped-def]
    from sql.immediate import lookup

    s = tsgres_session
    s.execute(s.prepare("CREATE TABLE IF NOT EXISTS imm (time timestamptz NOT NULL, v float8)", []), [])
    text = "SELECT max(v) FROM imm WHERE time >= '2020-01-0{d} 00:00:00+00'"
    assert lookup(s, text.format(d=1), ()) is None  # no plan of this template yet
    first = s.prepare(text.format(d=1), [])
    found = lookup(s, text.format(d=2), ())
    assert found is not None and found.native is first.native and found.extra_params != first.extra_params
    assert s.prepare(text.format(d=2), []) is found  # handed to the prepare of that text, once
    again = s.prepare(text.format(d=2), [])
    assert again is not found and again.extra_params == found.extra_params
    found = lookup(s, text.format(d=3), ())
    s.execute(s.prepare("SET TimeZone = 'Europe/Berlin'", []), [])
    try:  # the values were read in UTC: not for a prepare in another TimeZone
        assert s.prepare(text.format(d=3), []) is not found
    finally:
        s.execute(s.prepare("RESET TimeZone", []), [])
