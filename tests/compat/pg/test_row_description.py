"""RowDescription's table OID and column number through a real client (libpq's PQftable/PQftablecol).

pgjdbc's ResultSetMetaData.getTableName/isNullable and ORMs read them. sql/column_origin.annotate
computes them when the engine describes a query; pgwire sends them, over the simple query protocol
and Parse/Describe alike.
"""

from __future__ import annotations

from tests.compat.pg.conftest import PgServer


def test_columns_from_a_table_carry_its_oid_and_attnum(pg_server: PgServer) -> None:
    db = pg_server.database("rowdesc")
    with pg_server.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS rd (time timestamptz NOT NULL, host text, v float8)")
        (oid,) = conn.execute("SELECT 'rd'::regclass::oid").fetchone()  # type: ignore[misc]
        attnums = dict(
            conn.execute(
                "SELECT attname, attnum FROM pg_attribute WHERE attrelid = %s AND attnum > 0", (oid,)
            )
        )
        for prepare in (False, True):  # simple query, then Parse/Describe
            cur = conn.execute("SELECT v, time AS t, v * 2 AS w FROM rd", prepare=prepare)
            res = cur.pgresult
            assert res is not None
            got = [(res.ftable(i), res.ftablecol(i)) for i in range(res.nfields)]
            assert got == [(oid, attnums["v"]), (oid, attnums["time"]), (0, 0)]
