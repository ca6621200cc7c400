"""The InfluxDB write endpoints, in process: every status code, InfluxDB's error texts, partial writes,
gzip, precision, v2 bucket mapping and v3's options, each read back through ``columnar.scan``."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest

from tests.compat.conftest import Client, WriteApp

T0 = 1_700_000_000_000_000_000  # a fixed ns timestamp, 2023-11-14
S = 1_000_000_000


async def post(
    client: Client, path: str, body: bytes | str, **kw: Any
) -> tuple[int, dict[str, Any] | None, Any]:
    """POST and return (status, JSON body or None, headers)."""
    data = body.encode() if isinstance(body, str) else body
    resp = await client.post(path, data=data, **kw)
    raw = await resp.read()
    payload = json.loads(raw) if raw else None
    return resp.status, payload, resp.headers


def assert_error(status: int, payload: Any, headers: Any, want_status: int, message: str) -> None:
    assert status == want_status, payload
    assert payload == {"error": message}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Influxdb-Error"] == message.replace("\n", " ")[:1024]
    assert headers["X-Influxdb-Version"].startswith("1.8")


# -- v1 -------------------------------------------------------------------------------------------------------
def test_v1_write_is_204_and_readable(write_app) -> None:
    app: WriteApp = write_app()
    body = (
        f'cpu,host=a,region=eu usage=1.5,count=3i,ok=true,note="hi" {T0}\n'
        f'cpu,host=b,region=eu usage=2.5,count=4i,ok=false,note="yo" {T0 + S}\n'
        f"mem,host=a used=10u {T0}\n"
    )

    async def check(client: Client) -> None:
        status, payload, headers = await post(client, "/write?db=db", body)
        assert (status, payload) == (204, None)
        assert headers["X-Influxdb-Version"].startswith("1.8")

    app.run(check)
    rows = app.rows("cpu")
    assert [(r["host"], r["usage"], r["count"], r["ok"], r["note"]) for r in rows] == [
        ("a", 1.5, 3, True, "hi"),
        ("b", 2.5, 4, False, "yo"),
    ]
    assert [r["time"] for r in rows] == [T0, T0 + S]
    assert app.rows("mem")[0]["used"] == 10


def test_v1_requires_a_database(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert_error(*await post(client, "/write", "m v=1"), 400, "database is required")
        assert_error(*await post(client, "/write?db=", "m v=1"), 400, "database is required")

    app.run(check)


def test_unknown_database_is_created_by_default(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        status, _, _ = await post(client, "/write?db=fresh", f"m v=1 {T0}")
        assert status == 204

    app.run(check)
    assert app.rows("m", "fresh")[0]["v"] == 1.0


def test_unknown_database_is_404_without_auto_create(write_app) -> None:
    app = write_app(auto_create_databases=False)

    async def check(client: Client) -> None:
        assert_error(*await post(client, "/write?db=nope", "m v=1"), 404, 'database not found: "nope"')
        status, payload, _ = await post(client, "/api/v2/write?bucket=nope", "m v=1")
        assert (status, payload) == (404, {"error": 'database not found: "nope"'})
        status, payload, _ = await post(client, "/api/v3/write_lp?db=nope", "m v=1")
        assert (status, payload) == (404, {"error": 'database not found: "nope"'})
        # the engine's default database exists
        assert (await post(client, "/write?db=postgres", f"m v=1 {T0}"))[0] == 204

    app.run(check)
    assert "nope" not in [d.name for d in app.engine.databases()]


def test_an_empty_or_blank_body_is_204_and_creates_nothing(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=empty", b""))[0] == 204
        assert (await post(client, "/write?db=empty", b"\n\n# just a comment\n"))[0] == 204

    app.run(check)
    assert "empty" not in [d.name for d in app.engine.databases()]


def test_unknown_retention_policy_is_500_naming_it(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert_error(
            *await post(client, "/write?db=db&rp=nope", "m v=1"), 500, "retention policy not found: nope"
        )
        assert (await post(client, "/write?db=db&rp=autogen", f"m v=2 {T0}"))[0] == 204

    app.run(check)
    assert [r["v"] for r in app.rows("m", rp="autogen")] == [2.0]


V1_PRECISION = [
    ("", 1),
    ("n", 1),
    ("ns", 1),
    ("u", 1_000),
    ("ms", 1_000_000),
    ("s", S),
    ("m", 60 * S),
    ("h", 3600 * S),
]


@pytest.mark.parametrize(("precision", "unit"), V1_PRECISION)
def test_v1_precision(write_app, precision: str, unit: int) -> None:
    app = write_app()
    stamp = 1_000_003

    async def check(client: Client) -> None:
        assert (await post(client, f"/write?db=db&precision={precision}", f"m v=1 {stamp}"))[0] == 204

    app.run(check)
    assert app.rows("m")[0]["time"] == stamp * unit


def test_v1_invalid_precision_and_consistency(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert_error(
            *await post(client, "/write?db=db&precision=xs", "m v=1"),
            400,
            'invalid precision "xs" (use n, u, ms, s, m or h)',
        )
        assert_error(
            *await post(client, "/write?db=db&consistency=most", "m v=1"), 400, "invalid consistency level"
        )
        for level in ("any", "one", "quorum", "all"):
            assert (await post(client, f"/write?db=db&consistency={level}", f"m v=1 {T0}"))[0] == 204

    app.run(check)


def test_a_line_without_timestamp_gets_the_request_time(write_app) -> None:
    import time

    app = write_app()
    before = time.time_ns()

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=db", "m v=1\nm,t=x v=2"))[0] == 204

    app.run(check)
    stamps = {r["time"] for r in app.rows("m")}
    assert len(stamps) == 1  # one "now" for the whole request, as InfluxDB does
    assert before <= stamps.pop() <= time.time_ns()


def test_partial_write_names_bad_lines_and_writes_the_good_ones(write_app) -> None:
    app = write_app()
    body = f"m,t=a v=1 {T0}\nbad line here\nm,t=b v=2 {T0}\nm,t=c v= {T0}\nm,t=d v=4 {T0}\n"

    async def check(client: Client) -> None:
        status, payload, headers = await post(client, "/write?db=db", body)
        assert status == 400
        message = payload["error"]
        assert message == (
            "partial write: unable to parse 'bad line here': invalid field format (line 2)\n"
            f"unable to parse 'm,t=c v= {T0}': missing field value (line 4) dropped=2"
        )
        assert headers["X-Influxdb-Error"] == message.replace("\n", " ")

    app.run(check)
    assert [(r["t"], r["v"]) for r in app.rows("m")] == [("a", 1.0), ("b", 2.0), ("d", 4.0)]


def test_a_body_where_no_line_parses_is_400_without_partial_write(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        status, payload, _ = await post(client, "/write?db=db", "bad\nworse line")
        assert status == 400
        assert payload["error"] == (
            "unable to parse 'bad': missing fields (line 1)\nunable to parse 'worse line': invalid field format (line 2)"
        )

    app.run(check)
    assert "db" not in [d.name for d in app.engine.databases()]


def test_many_bad_lines_are_listed_up_to_100_and_the_header_is_cut_at_1024(write_app) -> None:
    app = write_app()
    body = "\n".join([f"m v=1 {T0}"] + [f"broken{i}" for i in range(250)])

    async def check(client: Client) -> None:
        status, payload, headers = await post(client, "/write?db=db", body)
        assert status == 400
        lines = payload["error"].split("\n")
        assert len(lines) == 101
        assert lines[0] == "partial write: unable to parse 'broken0': missing fields (line 2)"
        assert lines[99] == "unable to parse 'broken99': missing fields (line 101)"
        assert lines[-1] == "... and 150 more dropped=250"
        assert len(headers["X-Influxdb-Error"]) == 1024

    app.run(check)
    assert len(app.rows("m")) == 1


def test_field_type_conflict_is_influxdb_s_message_and_other_rows_are_written(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=db", f"m v=1 {T0}"))[0] == 204
        body = f"m v=2i {T0 + S}\nm v=3i {T0 + 2 * S}\nother x=1 {T0}\n"
        assert_error(
            *await post(client, "/write?db=db", body),
            400,
            'partial write: field type conflict: input field "v" on measurement "m" is type integer, '
            "already exists as type float dropped=2",
        )

    app.run(check)
    assert [r["v"] for r in app.rows("m")] == [1.0]
    assert [r["x"] for r in app.rows("other")] == [1.0]


def test_parse_errors_and_type_conflicts_are_reported_together(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=db", f"m v=1 {T0}"))[0] == 204
        status, payload, _ = await post(client, "/write?db=db", f'm v="s" {T0}\nnope\nm w=1 {T0 + S}')
        assert status == 400
        lines = payload["error"].split("\n")
        assert lines[0] == "partial write: unable to parse 'nope': missing fields (line 2)"
        assert lines[1] == (
            'field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=2'
        )

    app.run(check)
    assert [(r["v"], r["w"]) for r in app.rows("m")] == [(1.0, None), (None, 1.0)]


def test_a_name_used_as_tag_and_field_is_a_partial_write(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=db", f"m,k=a v=1 {T0}"))[0] == 204
        status, payload, _ = await post(client, "/write?db=db", f"m k=2 {T0}\nn v=1 {T0}")
        assert status == 400
        assert payload["error"].startswith('partial write: column "k" on measurement "m" is a tag')
        assert payload["error"].endswith(" dropped=1")

    app.run(check)
    assert len(app.rows("n")) == 1


def test_series_limit_is_an_explicit_partial_write(write_app) -> None:
    app = write_app(storage={"series_limit": 2})

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=db", f"m,host=h0 v=0 {T0}\nm,host=h1 v=1 {T0}"))[0] == 204
        body = "".join(f"m,host=h{i} v={i} {T0 + S}\n" for i in range(3))
        assert_error(
            *await post(client, "/write?db=db", body),
            400,
            "partial write: max-series-per-database limit exceeded: (2) dropped=1",
        )

    app.run(check)
    assert [(r["host"], r["v"]) for r in app.rows("m")] == [
        ("h0", 0.0),
        ("h1", 1.0),
        ("h0", 0.0),
        ("h1", 1.0),
    ]


def test_points_beyond_the_retention_policy_are_a_partial_write(write_app) -> None:
    import time

    app = write_app()
    app.engine.create_database("db")
    app.engine.catalog.create_retention_policy("db", "week", 7 * 24 * 3600 * S)
    now = time.time_ns()

    async def check(client: Client) -> None:
        body = f"m v=1 {now}\nm v=2 {now - 30 * 24 * 3600 * S}\nm v=3 {now - 60 * 24 * 3600 * S}\n"
        assert_error(
            *await post(client, "/write?db=db&rp=week", body),
            400,
            "partial write: points beyond retention policy dropped=2",
        )

    app.run(check)
    assert [r["v"] for r in app.rows("m", rp="week")] == [1.0]


# -- bodies: gzip, limits, encodings ------------------------------------------------------------------------------
def test_gzip_body(write_app) -> None:
    app = write_app()
    body = "".join(f"m,t=a v={i} {T0 + i}\n" for i in range(1000)).encode()

    async def check(client: Client) -> None:
        headers = {"Content-Encoding": "gzip"}
        assert (await post(client, "/write?db=db", gzip.compress(body), headers=headers))[0] == 204
        # two gzip members, as `cat a.gz b.gz` makes
        two = gzip.compress(f"n v=1 {T0}\n".encode()) + gzip.compress(f"n v=2 {T0 + 1}\n".encode())
        assert (await post(client, "/write?db=db", two, headers=headers))[0] == 204
        assert (await post(client, "/api/v2/write?bucket=db", gzip.compress(b"o v=1 5"), headers=headers))[
            0
        ] == 204
        assert (await post(client, "/api/v3/write_lp?db=db", gzip.compress(b"p v=1 5"), headers=headers))[
            0
        ] == 204

    app.run(check)
    assert len(app.rows("m")) == 1000
    assert [r["v"] for r in app.rows("n")] == [1.0, 2.0]
    assert len(app.rows("o")) == len(app.rows("p")) == 1


def test_broken_gzip_is_400(write_app) -> None:
    app = write_app()
    good = gzip.compress(f"m v=1 {T0}\n".encode() * 100)
    headers = {"Content-Encoding": "gzip"}

    async def check(client: Client) -> None:
        assert_error(
            *await post(client, "/write?db=db", b"m v=1", headers=headers), 400, "gzip: invalid header"
        )
        assert_error(
            *await post(client, "/write?db=db", good[: len(good) // 2], headers=headers),
            400,
            "unexpected EOF",
        )
        corrupt = good[:12] + bytes(b ^ 0xFF for b in good[12:30]) + good[30:]
        status, payload, _ = await post(client, "/write?db=db", corrupt, headers=headers)
        assert status == 400 and payload["error"].startswith("gzip: ")

    app.run(check)
    assert "db" not in [d.name for d in app.engine.databases()]


def test_body_over_the_limit_is_413(write_app) -> None:
    app = write_app(max_body_bytes=1000)

    async def check(client: Client) -> None:
        assert_error(*await post(client, "/write?db=db", b"m v=1 1\n" * 200), 413, "Request Entity Too Large")

        async def chunks():  # no Content-Length: the limit applies while reading
            for _ in range(200):
                yield b"m v=1 1\n"

        resp = await client.post("/write?db=db", data=chunks())
        assert resp.status == 413
        assert (await post(client, "/write?db=db", b"m v=1 1\n" * 100))[0] == 204

    app.run(check)


def test_gzip_bomb_is_413_after_inflating_at_most_the_limit(write_app) -> None:
    app = write_app(max_body_bytes=1_000_000)
    zeros = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = zeros.compress(b"\0" * (100 * 1024 * 1024)) + zeros.flush()  # 100 MiB in ~100 KB
    assert len(bomb) < 1_000_000
    just_under = gzip.compress(b"m v=1 1\n" * 120_000)  # 960,000 bytes inflated

    async def check(client: Client) -> None:
        headers = {"Content-Encoding": "gzip"}
        assert_error(
            *await post(client, "/write?db=db", bomb, headers=headers), 413, "Request Entity Too Large"
        )
        assert (await post(client, "/write?db=db", just_under, headers=headers))[0] == 204

    app.run(check)


def test_unknown_content_encoding_is_415(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert_error(
            *await post(client, "/write?db=db", b"m v=1", headers={"Content-Encoding": "br"}),
            415,
            'unsupported content encoding "br" (use gzip or identity)',
        )
        assert (await post(client, "/write?db=db", f"m v=1 {T0}", headers={"Content-Encoding": "identity"}))[
            0
        ] == 204

    app.run(check)


def test_write_takes_post_only_and_answers_options(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await client.get("/write?db=db")).status == 405
        assert (await client.get("/api/v2/write?bucket=db")).status == 405
        assert (await client.options("/write")).status == 204

    app.run(check)


def test_credentials_are_accepted_and_not_checked(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/write?db=db&u=alice&p=secret", f"m v=1 {T0}"))[0] == 204
        basic = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
        assert (await post(client, "/write?db=db", f"m v=2 {T0 + 1}", headers=basic))[0] == 204
        token = {"Authorization": "Token alice:secret"}
        assert (await post(client, "/api/v2/write?bucket=db&org=-", f"m v=3 {T0 + 2}", headers=token))[
            0
        ] == 204
        assert (
            await post(
                client, "/api/v3/write_lp?db=db", f"m v=4 {T0 + 3}", headers={"Authorization": "Bearer x"}
            )
        )[0] == 204

    app.run(check)
    assert len(app.rows("m")) == 4


# -- v2 ------------------------------------------------------------------------------------------------------------
def test_v2_bucket_maps_to_database_and_retention_policy(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/api/v2/write?bucket=db/autogen&org=x", f"m v=1 {T0}"))[0] == 204
        assert (await post(client, "/api/v2/write?bucket=db", f"m v=2 {T0 + 1}"))[0] == 204
        assert_error(
            *await post(client, "/api/v2/write?bucket=db/nope", "m v=1"),
            500,
            "retention policy not found: nope",
        )
        assert_error(
            *await post(client, "/api/v2/write", "m v=1"),
            404,
            'bucket name "" is missing a slash; not in "database/retention-policy" format',
        )
        assert_error(
            *await post(client, "/api/v2/write?bucket=/autogen", "m v=1"),
            404,
            'bucket name "/autogen" is in db/rp form but has an empty database',
        )

    app.run(check)
    assert [r["v"] for r in app.rows("m")] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("precision", "unit"), [("", 1), ("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", S)]
)
def test_v2_precision(write_app, precision: str, unit: int) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, f"/api/v2/write?bucket=db&precision={precision}", "m v=1 1700000000"))[
            0
        ] == 204

    app.run(check)
    assert app.rows("m")[0]["time"] == 1_700_000_000 * unit


def test_v2_refuses_v1_precision_names(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        for name in ("n", "u", "h"):
            assert_error(
                *await post(client, f"/api/v2/write?bucket=db&precision={name}", "m v=1"),
                400,
                f'invalid precision "{name}" (use ns, us, ms or s)',
            )

    app.run(check)


def test_v2_partial_write_uses_the_v1_dialect(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        status, payload, _ = await post(client, "/api/v2/write?bucket=db", f"m v=1 {T0}\nx y")
        assert status == 400
        assert (
            payload["error"]
            == "partial write: unable to parse 'x y': invalid field format (line 2) dropped=1"
        )

    app.run(check)


# -- v3 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("precision", "stamp", "expected"),
    [
        ("", 1_700_000_000, 1_700_000_000 * S),  # auto: seconds
        ("auto", 1_700_000_000_000, 1_700_000_000_000 * 1_000_000),  # auto: milliseconds
        ("auto", T0, T0),  # auto: nanoseconds
        ("second", 1_700_000_000, 1_700_000_000 * S),
        ("millisecond", 1_700_000_000_000, 1_700_000_000_000 * 1_000_000),
        ("microsecond", 1_700_000_000_000_000, 1_700_000_000_000_000 * 1_000),
        ("nanosecond", T0, T0),
        ("s", 1_700_000_000, 1_700_000_000 * S),
        ("ms", 1_700_000_000_000, 1_700_000_000_000 * 1_000_000),
        ("us", 1_700_000_000_000_000, 1_700_000_000_000_000 * 1_000),
        ("ns", T0, T0),
    ],
)
def test_v3_precision(write_app, precision: str, stamp: int, expected: int) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, f"/api/v3/write_lp?db=db&precision={precision}", f"m v=1 {stamp}"))[
            0
        ] == 204

    app.run(check)
    assert app.rows("m")[0]["time"] == expected


def test_v3_bad_parameters(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert_error(*await post(client, "/api/v3/write_lp", "m v=1"), 400, "database is required")
        assert_error(
            *await post(client, "/api/v3/write_lp?db=db&precision=h", "m v=1"),
            400,
            'invalid precision "h" (use auto, nanosecond, microsecond, millisecond or second)',
        )
        assert_error(
            *await post(client, "/api/v3/write_lp?db=db&no_sync=maybe", "m v=1"),
            400,
            'invalid no_sync "maybe" (use true or false)',
        )

    app.run(check)


def test_v3_partial_write_lists_lines_and_writes_the_rest(write_app) -> None:
    app = write_app()
    body = f"m,t=a v=1 {T0}\nm,t=b v= {T0}\nm,t=c v=3 {T0}"

    async def check(client: Client) -> None:
        status, payload, _ = await post(client, "/api/v3/write_lp?db=db", body)
        assert status == 400
        assert payload["error"] == "partial write of line protocol occurred"
        assert payload["data"] == [
            {"original_line": f"m,t=b v= {T0}", "line_number": 2, "error_message": "missing field value"}
        ]

    app.run(check)
    assert [r["t"] for r in app.rows("m")] == ["a", "c"]


def test_v3_accept_partial_false_refuses_the_whole_body(write_app) -> None:
    app = write_app()
    body = f"m,t=a v=1 {T0}\nm,t=b v= {T0}\nm,t=c v=3 {T0}"

    async def check(client: Client) -> None:
        status, payload, _ = await post(client, "/api/v3/write_lp?db=db&accept_partial=false", body)
        assert status == 400
        assert payload["error"] == "parsing failed for write_lp endpoint"
        assert payload["data"] == {
            "original_line": f"m,t=b v= {T0}",
            "line_number": 2,
            "error_message": "missing field value",
        }
        # a conflict with the stored type refuses the whole body too, checked before anything is written
        assert (await post(client, "/api/v3/write_lp?db=db", f"n v=1 {T0}"))[0] == 204
        status, payload, _ = await post(
            client, "/api/v3/write_lp?db=db&accept_partial=false", f'k v=2 {T0 + 1}\nn v="x" {T0 + 2}'
        )
        assert status == 400
        assert payload["data"]["error_message"] == (
            'field type conflict: input field "v" on measurement "n" is type string, already exists as type float'
        )

    app.run(check)
    assert {t.name for t in app.engine.tables("db")} == {"n"}
    assert [r["v"] for r in app.rows("n")] == [1.0]


def test_v3_type_conflict_with_accept_partial(write_app) -> None:
    app = write_app()

    async def check(client: Client) -> None:
        assert (await post(client, "/api/v3/write_lp?db=db", f"n v=1 {T0}"))[0] == 204
        status, payload, _ = await post(client, "/api/v3/write_lp?db=db", f'n v="x" {T0 + 1}\nk v=1 {T0}')
        assert status == 400
        assert payload["error"] == "partial write of line protocol occurred"
        assert payload["data"][0]["error_message"].startswith('field type conflict: input field "v"')

    app.run(check)
    assert len(app.rows("k")) == 1


def test_v3_no_sync_writes_without_waiting(write_app) -> None:
    app = write_app(storage={"wal_fsync": "always"})

    async def check(client: Client) -> None:
        assert (await post(client, "/api/v3/write_lp?db=db&no_sync=true", f"m v=1 {T0}"))[0] == 204
        assert (await post(client, "/api/v3/write_lp?db=db&no_sync=false", f"m v=2 {T0 + 1}"))[0] == 204

    app.run(check)
    assert [r["v"] for r in app.rows("m")] == [1.0, 2.0]


# -- /metrics ------------------------------------------------------------------------------------------------------
def test_metrics_count_points_lines_bytes_requests_and_errors(write_app) -> None:
    app = write_app()
    body = f"m v=1 {T0}\nm v=2 {T0 + 1}\nbad\n"

    async def check(client: Client) -> None:
        await post(client, "/write?db=db", body)
        await post(
            client,
            "/write?db=db",
            gzip.compress(f"m v=3 {T0 + 2}\n".encode()),
            headers={"Content-Encoding": "gzip"},
        )
        await post(client, "/write", "m v=1")
        resp = await client.get("/metrics")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
        samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))

        def value(name: str) -> float:
            return float(samples[name])

        assert value('tsgres_write_points_total{api="v1"}') == 3
        assert value('tsgres_write_lines_total{api="v1"}') == 4
        assert value('tsgres_write_points_dropped_total{api="v1",reason="parse"}') == 1
        assert value('tsgres_write_requests_total{api="v1",status="204"}') == 1
        assert value('tsgres_write_requests_total{api="v1",status="400"}') == 2
        assert value('tsgres_write_errors_total{api="v1",kind="partial"}') == 1
        assert value('tsgres_write_errors_total{api="v1",kind="request"}') == 1
        assert value('tsgres_write_body_bytes_total{api="v1"}') == len(body) + len(f"m v=3 {T0 + 2}\n")
        assert (
            value('tsgres_write_bytes_total{api="v1"}')
            < value('tsgres_write_body_bytes_total{api="v1"}') + 100
        )
        assert value('tsgres_write_duration_seconds_count{api="v1"}') == 3
        assert "tsgres_wal_fsync_duration_seconds_bucket" in text

    app.run(check)
