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
