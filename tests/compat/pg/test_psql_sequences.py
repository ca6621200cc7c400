"""psql 15's ``\\ds`` and ``\\d`` of sequences against ``tsgres serve``, as PostgreSQL 15 prints them:
the list, a sequence's options, and the column a SERIAL's sequence is owned by; nextval over the
wire (simple and extended protocol) per row and per session."""

from __future__ import annotations

from tests.compat.pg.conftest import PgServer
from tests.compat.pg.test_comments import _psql

SCHEMA = (
    "CREATE SEQUENCE order_no AS integer INCREMENT BY 10 START WITH 1000 MAXVALUE 9999 CYCLE",
    "CREATE TABLE orders (id bigserial, no int DEFAULT nextval('order_no'), item text)",
)


def test_psql_lists_and_describes_sequences(pg_server: PgServer) -> None:
    db = pg_server.database("sequences_psql")
    with pg_server.connect(db) as conn:
        for sql in SCHEMA:
            conn.execute(sql)
        conn.execute("INSERT INTO orders (item) VALUES ('a'), ('b')")
        assert conn.execute("SELECT id, no FROM orders ORDER BY id").fetchall() == [(1, 1000), (2, 1010)]
        assert conn.execute("SELECT nextval(%s) FROM generate_series(1, 2)", ["order_no"]).fetchall() == [
            (1020,),
            (1030,),
        ]
        with pg_server.connect(db) as other:
            assert other.execute("SELECT nextval('order_no')").fetchone() == (1040,)
        assert conn.execute("SELECT currval('order_no')").fetchone() == (1030,)
    listed = _psql(pg_server, db, r"\ds").splitlines()
    assert "public|order_no|sequence|postgres" in listed
    assert "public|orders_id_seq|sequence|postgres" in listed
    own = _psql(pg_server, db, r"\d order_no").splitlines()
    assert own[0] == 'Sequence "public.order_no"'
    assert "integer|1000|1|9999|10|yes|1" in own
    serial = _psql(pg_server, db, r"\d orders_id_seq").splitlines()
    assert "bigint|1|1|9223372036854775807|1|no|1" in serial
    assert "Owned by: public.orders.id" in serial
    table = _psql(pg_server, db, r"\d orders").splitlines()
    assert "no|integer|||nextval('order_no'::regclass)" in table
