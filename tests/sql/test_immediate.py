"""sql.immediate: which statements pgwire may answer on its event loop."""

from __future__ import annotations

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
