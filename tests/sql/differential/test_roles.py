"""Roles and privileges, differentially: each scenario runs its statements in order on PostgreSQL 15 and
on tsgres and compares the outcome of each (the SQLSTATE, or the rows of a SELECT). A statement
written ``@name: ...`` runs in a session of role ``name`` (a fresh connection on PostgreSQL, a session
of that user on tsgres), so what a non-superuser may do is compared too.

Roles are cluster-wide on PostgreSQL: every scenario's roles start with ``d_`` and are dropped after
it, with its tables.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.differential.harness import differences, run_pg, run_tsgres

ROLES = (
    "SELECT rolname::text, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolconnlimit"
    " FROM pg_roles WHERE rolname LIKE 'd\\_%' ORDER BY 1"
)
USERS = "SELECT usename::text, usesuper, usecreatedb FROM pg_user WHERE usename LIKE 'd\\_%' ORDER BY 1"
MEMBERS = (
    "SELECT r.rolname::text AS role, m.rolname::text AS member, a.admin_option FROM pg_auth_members a"
    " JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member"
    " WHERE m.rolname LIKE 'd\\_%' ORDER BY 1, 2"
)
ACL = (
    "SELECT c.relname::text, array_to_string(c.relacl, ','), pg_get_userbyid(c.relowner)::text FROM pg_class c"
    " WHERE c.relname LIKE 'd\\_%' ORDER BY 1"
)
GRANTS = (
    "SELECT grantee::text, table_name::text, privilege_type::text FROM information_schema.role_table_grants"
    " WHERE table_name LIKE 'd\\_%' ORDER BY 1, 2, 3"
)
T = "CREATE TABLE d_t (time timestamptz NOT NULL, v float8)"
ROW = "INSERT INTO d_t VALUES ('2024-01-01 00:00:00+00', 1.5)"

SCENARIOS: list[tuple[str, list[str]]] = [
    (
        "create_alter_drop_role",
        [
            "CREATE ROLE d_a",
            "CREATE USER d_u WITH PASSWORD 'secret' CREATEDB",
            "CREATE ROLE d_s WITH SUPERUSER NOLOGIN NOINHERIT CREATEROLE CONNECTION LIMIT 3",
            ROLES,
            USERS,
            "CREATE ROLE d_a",
            "CREATE USER d_u",
            "CREATE ROLE pg_d_x",
            "CREATE ROLE public",
            "CREATE ROLE d_b LOGIN NOLOGIN",
            "SELECT rolname::text, rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname LIKE 'd\\_%' ORDER BY 1",
            "ALTER ROLE d_a LOGIN CREATEDB PASSWORD 'p'",
            "ALTER USER d_u NOCREATEDB PASSWORD NULL",
            "ALTER ROLE d_s NOSUPERUSER INHERIT",
            "ALTER ROLE d_nope LOGIN",
            ROLES,
            "SELECT rolname::text, rolpassword IS NULL FROM pg_authid WHERE rolname LIKE 'd\\_%' ORDER BY 1",
            "ALTER ROLE d_a RENAME TO d_a2",
            "ALTER ROLE d_a2 RENAME TO d_u",
            "ALTER ROLE d_nope RENAME TO d_x",
            ROLES,
            "DROP ROLE d_nope",
            "DROP ROLE IF EXISTS d_nope",
            "DROP ROLE d_a2, d_s",
            "DROP USER d_u",
            ROLES,
        ],
    ),
    (
        "grant_revoke_tables",
        [
            T,
            ROW,
            "CREATE USER d_reader WITH PASSWORD 'x'",
            "GRANT USAGE ON SCHEMA public TO d_reader",
            "GRANT SELECT ON public.d_t TO d_reader",
            ACL,
            GRANTS,
            "SELECT has_table_privilege('d_reader', 'd_t', 'SELECT') AS s,"
            " has_table_privilege('d_reader', 'd_t', 'INSERT') AS i,"
            " has_table_privilege('d_reader', 'd_t', 'INSERT, SELECT') AS any,"
            " has_schema_privilege('d_reader', 'public', 'USAGE') AS u,"
            " has_database_privilege('d_reader', 'postgres', 'CONNECT') AS c",
            "GRANT SELECT ON d_nope TO d_reader",
            "GRANT SELECT ON d_t TO d_nobody",
            "GRANT USAGE ON d_t TO d_reader",
            "GRANT INSERT, UPDATE ON TABLE d_t TO d_reader, PUBLIC",
            ACL,
            "REVOKE INSERT ON d_t FROM PUBLIC",
            "REVOKE UPDATE ON d_t FROM d_reader, PUBLIC",
            ACL,
            "GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO d_reader",
            ACL,
            "DROP TABLE d_t",
            T,  # (a new table: no privileges, also where it gets the dropped one's id)
            ACL,
            "GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO d_reader",
            "REVOKE ALL ON d_t FROM d_reader",
            ACL,
            "DROP ROLE d_reader",
            "REVOKE ALL ON SCHEMA public FROM d_reader",
            "GRANT SELECT ON ALL TABLES IN SCHEMA d_noschema TO d_reader",
            "GRANT CONNECT ON DATABASE postgres TO d_reader",
            "GRANT CONNECT ON DATABASE d_nodb TO d_reader",
            "DROP ROLE d_reader",
            "REVOKE CONNECT ON DATABASE postgres FROM d_reader",
            "DROP ROLE d_reader",
        ],
    ),
    (
        "enforced",
        [
            T,
            ROW,
            "CREATE USER d_reader",
            "@d_reader: SELECT v FROM d_t",
            "GRANT SELECT ON d_t TO d_reader",
            "@d_reader: SELECT v FROM d_t",
            "@d_reader: SELECT has_table_privilege('d_t', 'SELECT') AS s, has_table_privilege('d_t', 'DELETE') AS d",
            "@d_reader: INSERT INTO d_t VALUES ('2024-01-01 00:00:01+00', 2)",
            "@d_reader: UPDATE d_t SET v = 2",
            "@d_reader: DELETE FROM d_t",
            "@d_reader: TRUNCATE d_t",
            "@d_reader: DROP TABLE d_t",
            "@d_reader: CREATE TABLE d_mine (time timestamptz NOT NULL)",
            "@d_reader: CREATE TYPE d_mood AS ENUM ('ok')",
            "@d_reader: CREATE SEQUENCE d_seq",
            "@d_reader: GRANT SELECT ON d_t TO PUBLIC",
            "@d_reader: CREATE ROLE d_other",
            "GRANT INSERT, DELETE ON d_t TO d_reader",
            "@d_reader: INSERT INTO d_t VALUES ('2024-01-01 00:00:01+00', 2)",
            "@d_reader: DELETE FROM d_t WHERE time > '2024-01-01 00:00:00+00'",
            "@d_reader: SELECT v FROM d_t",
            "REVOKE SELECT ON d_t FROM d_reader",
            "@d_reader: SELECT v FROM d_t",
            "@d_reader: DELETE FROM d_t WHERE time > '2025-01-01 00:00:00+00'",
            "@d_reader: SELECT count(*) FROM pg_class WHERE relname = 'd_t'",
            "REVOKE ALL ON d_t FROM d_reader",
            "DROP ROLE d_reader",
        ],
    ),
    (
        "role_ddl_of_non_superusers",
        [
            "CREATE USER d_reader",
            "CREATE USER d_dev CREATEROLE",
            "CREATE ROLE d_s SUPERUSER",
            "@d_reader: CREATE ROLE d_x",
            "@d_reader: ALTER ROLE d_reader PASSWORD 'new'",
            "@d_reader: ALTER ROLE d_reader CREATEDB",
            "@d_reader: ALTER ROLE d_reader SUPERUSER",
            "@d_reader: ALTER ROLE d_dev PASSWORD 'n'",
            "@d_reader: DROP ROLE d_dev",
            "@d_dev: CREATE ROLE d_x LOGIN",
            "@d_dev: CREATE ROLE d_a SUPERUSER",
            "@d_dev: ALTER ROLE d_reader CREATEDB",
            "@d_dev: ALTER ROLE d_s NOLOGIN",
            "@d_dev: ALTER ROLE d_s RENAME TO d_a",
            "@d_dev: DROP ROLE d_s",
            "@d_dev: DROP ROLE d_x",
            "@d_dev: DROP ROLE d_dev",
            ROLES,
        ],
    ),
    (
        "owner_and_membership",
        [
            T,
            ROW,
            "CREATE ROLE d_app",
            "CREATE USER d_dev",
            "ALTER TABLE d_t OWNER TO d_app",
            "ALTER TABLE d_t OWNER TO d_nobody",
            "ALTER TABLE d_nope OWNER TO d_app",
            ACL,
            "@d_dev: SELECT v FROM d_t",
            "GRANT d_app TO d_dev",
            MEMBERS,
            "GRANT d_app TO d_dev",
            "GRANT d_dev TO d_app",
            "GRANT d_app TO d_app",
            "GRANT d_nobody TO d_dev",
            "@d_dev: SELECT v FROM d_t",
            "@d_dev: INSERT INTO d_t VALUES ('2024-01-01 00:00:01+00', 2)",
            "@d_dev: GRANT SELECT ON d_t TO PUBLIC",
            ACL,
            "CREATE VIEW d_v AS SELECT v FROM d_t",
            "GRANT SELECT ON d_v TO d_app",
            "REVOKE d_app FROM d_dev",
            MEMBERS,
            "@d_dev: SELECT v FROM d_t",
            "@d_dev: SELECT v FROM d_v",
            "GRANT SELECT ON d_v TO d_dev",
            "@d_dev: SELECT v FROM d_v",
            "ALTER VIEW d_v OWNER TO d_dev",
            "@d_dev: SELECT v FROM d_v",
            ACL,
            "DROP ROLE d_app",
            "DROP ROLE d_dev",
            "DROP VIEW d_v",
            "DROP TABLE d_t",
            "DROP ROLE d_app",
            "DROP ROLE d_dev",
        ],
    ),
]

_ROLES_USED = ("d_a", "d_a2", "d_u", "d_s", "d_b", "d_x", "d_reader", "d_app", "d_dev", "d_other")


def _pg_as(pair: Any, user: str) -> Any:
    import psycopg

    dsn = pair.pg.info.dsn
    params = dict(p.split("=", 1) for p in dsn.split() if "=" in p)
    params["user"] = user
    return psycopg.connect(" ".join(f"{k}={v}" for k, v in params.items()), autocommit=True)


def _outcomes(pair: Any, sql: str, sessions: dict[str, tuple[Any, Any]]) -> tuple[Any, Any]:
    if sql.startswith("@"):
        user, sql = sql[1:].split(":", 1)
        if user not in sessions:
            sessions[user] = (_pg_as(pair, user), pair.ts.sql_engine.session(pair.ts.database, user))
        pg_conn, ts_session = sessions[user]
        return run_pg(pg_conn, sql.strip()), run_tsgres(ts_session, sql.strip())
    return run_pg(pair.pg, sql), run_tsgres(pair.ts, sql)


def _cleanup(pair: Any) -> None:
    for sql in ("DROP VIEW IF EXISTS d_v", "DROP TABLE IF EXISTS d_t", "DROP TABLE IF EXISTS d_mine"):
        run_pg(pair.pg, sql)
        run_tsgres(pair.ts, sql)
    for role in _ROLES_USED:
        for sql in (
            f"REVOKE ALL ON SCHEMA public FROM {role}",
            f"REVOKE CONNECT ON DATABASE postgres FROM {role}",
            f"DROP ROLE IF EXISTS {role}",
        ):
            run_pg(pair.pg, sql)
            run_tsgres(pair.ts, sql)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_roles(pair: Any, scenario: tuple[str, list[str]]) -> None:
    _id, statements = scenario
    sessions: dict[str, tuple[Any, Any]] = {}
    _cleanup(pair)
    try:
        for i, sql in enumerate(statements):
            pg, ts = _outcomes(pair, sql, sessions)
            diff = differences(sql, pg, ts)
            assert not diff, f"step {i}: {sql}\n" + "\n".join(diff)
    finally:
        for pg_conn, ts_session in sessions.values():
            pg_conn.close()
            ts_session.close()
        _cleanup(pair)
