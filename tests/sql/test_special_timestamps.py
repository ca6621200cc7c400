"""PostgreSQL's special timestamp inputs: 'now', 'today', 'tomorrow', 'yesterday' (and 'epoch')."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from tests.sql.in_process import sql_engine


@pytest.fixture()
def session(tmp_path):
    with sql_engine(tmp_path) as (_storage, engine):
        yield engine.session("postgres")


def _rows(s, sql):
    return [r for b in s.execute(s.prepare(sql, []), []).batches for r in b.to_pylist()]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_special_inputs_follow_the_session_time_zone(session, zone):
    session.set_setting("timezone", zone)
    before = dt.datetime.now(dt.UTC)
    [r] = _rows(
        session,
        "SELECT 'now'::timestamptz AS n, 'today'::timestamptz AS t, 'tomorrow'::timestamp AS tm, "
        "'yesterday'::date AS y, 'epoch'::timestamptz AS e",
    )
    after = dt.datetime.now(dt.UTC)
    assert before - dt.timedelta(seconds=1) <= r["n"] <= after + dt.timedelta(seconds=1)
    local_today = after.astimezone(zoneinfo.ZoneInfo(zone)).date()
    assert r["t"].astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None) == dt.datetime.combine(
        local_today, dt.time()
    )
    assert r["tm"] == dt.datetime.combine(local_today + dt.timedelta(days=1), dt.time())
    assert r["y"] == local_today - dt.timedelta(days=1)
    assert r["e"] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_special_inputs_in_comparisons(session):
    _rows(session, "CREATE TABLE x (time timestamptz NOT NULL, v float8)")
    _rows(session, "INSERT INTO x VALUES (now() - interval '1 minute', 1), (now() - interval '3 days', 2)")
    q = "SELECT v FROM x WHERE time > 'yesterday'::timestamptz ORDER BY v"
    assert _rows(session, q) == [{"v": 1.0}]
    q = "SELECT count(*) AS n FROM x WHERE time < 'now'::timestamptz AND time > 'epoch'"
    assert _rows(session, q) == [{"n": 2}]
    assert _rows(session, "SELECT count(*) AS n FROM x WHERE time >= timestamptz 'tomorrow'") == [{"n": 0}]
    # a text column compared with the word is left alone
    assert _rows(session, "SELECT count(*) AS n FROM pg_proc WHERE proname IN ('now', 'today')") == [{"n": 1}]
