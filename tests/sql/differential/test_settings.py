"""SET, SHOW, RESET, current_setting and set_config against PostgreSQL 15, on a fresh session each.

Each step runs on both and must give the same outcome: the same rows, or the same SQLSTATE and the
same message. A parameter PostgreSQL does not know is 42704, one a session cannot change 55P02, a
value not of the parameter's type, not among its values or out of its range 22023, and a time zone
that does not exist is refused by SET (it used to be taken, and every later statement failed on it).
"""

from __future__ import annotations

from typing import Any

from tests.sql.differential.harness import step_failures

STEPS = [
    "SET nosuch_param = 1",
    "SHOW nosuch_param",
    "RESET nosuch_param",
    "SET my.custom = 'x'",
    "SHOW my.custom",
    "SELECT current_setting('my.custom')",
    "SET work_mem = '64MB'",
    "SHOW work_mem",
    "SELECT current_setting('work_mem')",
    "SELECT setting, unit, source FROM pg_settings WHERE name = 'work_mem'",
    "SET work_mem = 'abc'",
    "SET work_mem = '10'",
    "SET work_mem = '1XB'",
    "RESET work_mem",
    "SHOW work_mem",
    "SELECT setting, unit, vartype, context, min_val, max_val, source FROM pg_settings WHERE name = 'work_mem'",
    "SHOW effective_cache_size",
    "SET shared_buffers = '1GB'",
    "SET server_version = '1'",
    "SHOW enable_hashjoin",
    "SET enable_seqscan = off",
    "SHOW enable_seqscan",
    "SET enable_seqscan = 'maybe'",
    "SET enable_seqscan = 't'",
    "SET client_min_messages = 'warning'",
    "SET client_min_messages = 'loud'",
    "SET extra_float_digits = 3",
    "SET extra_float_digits = 4",
    "SET statement_timeout = '5min'",
    "SET statement_timeout = 'x'",
    "SET statement_timeout = '5 fortnights'",
    "SET lock_timeout = 1000",
    "SET TIME ZONE 'Europe/Berlin'",
    "SHOW TimeZone",
    "SET TIME ZONE 'Mars/Olympus'",
    "SHOW TimeZone",
    "SELECT 1",
    "SET timezone = 'America/New_York'",
    "SET TIME ZONE DEFAULT",
    "SELECT current_setting('nosuch')",
    "SELECT current_setting('nosuch', true)",
    "SELECT set_config('work_mem', '8MB', false)",
    "SELECT set_config('work_mem', 'x', false)",
    "SELECT set_config('nosuch_param', 'x', false)",
    "SHOW work_mem",
    "SELECT name, vartype, context FROM pg_settings"
    " WHERE name IN ('TimeZone', 'enable_seqscan', 'DateStyle', 'max_connections') ORDER BY 1",
    "SELECT count(*) > 300 FROM pg_settings",
    "SET check_function_bodies = false",
    "SET xmloption = content",
    "SET session_replication_role = replica",
    "SET default_tablespace = ''",
    "SET row_security = off",
    "RESET ALL",
    "SHOW work_mem",
    "SHOW search_path",
]


def test_settings_steps_match_postgres(fresh_pair: Any) -> None:
    failures = step_failures(fresh_pair.pg, fresh_pair.ts, STEPS)
    assert not failures, failures
