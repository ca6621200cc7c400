"""The column-at-a-time JSON of a columnar series is the text the value-by-value encoder gives its rows."""

from __future__ import annotations

import json
import zoneinfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compat.influx.query import Encoder, UnsupportedValue, _chunks, _encode_all, _encode_chunks
from sql.influxql.execute import StatementResult
from sql.influxql.functions import Col
from sql.influxql.series import Series

FLOATS = [
    0.0,
    -0.0,
    1.0,
    90.0,
    39355327922.19974,
    9999999999.5,
    1e10,
    -5e-7,
    0.30000000000000004,
    0.1,
    1e-4,
    9.9e-5,
    1e-6,
    1e-7,
    123456.789,
    1e15,
    1e16,
    9.99e20,
    1e21,
    -2.5e-9,
]
TIMES = [
    0,
    1,
    1_000_000_000,
    1_451_606_400_000_000_000,
    1_451_606_400_123_456_789,
    -1_000_000_000,
    10**18 * 9,
]


@pytest.fixture(autouse=True, params=["cell-at-a-time", "column-at-a-time"])
def encoding_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs on both paths of values_json: small answers formatted a cell at a time
    (SMALL_CELLS) and the Arrow column-wise one."""
    import compat.influx.query as Q

    monkeypatch.setattr(Q, "SMALL_CELLS", 10**9 if request.param == "cell-at-a-time" else 0)
    return str(request.param)


def _series(n: int) -> Series:
    rng = np.random.default_rng(1)
    valid = rng.random(n) > 0.2
    floats = np.array((FLOATS * n)[:n], np.float64)
    ints = rng.integers(-50, 50, n)
    big = rng.integers(-(2**62), 2**62, n)
    words = np.array(["a", "b<c", "d&e", 'q"uote', "é", "\u2028"] * n, dtype=object)[:n]
    return Series(
        "m",
        {"host": "a"},
        ["time", "f", "i", "big", "u", "b", "s"],
        times=np.array((TIMES * n)[:n], np.int64),
        cols=[
            Col(floats, valid, "float"),
            Col(ints, valid[::-1].copy(), "integer"),
            Col(big, np.ones(n, bool), "integer"),
            Col(np.arange(n, dtype=np.uint64) * np.uint64(2**40), valid, "unsigned"),
            Col(ints > 0, valid, "boolean"),
            Col(words, valid, "string"),
        ],
    )


def _rows_copy(s: Series) -> Series:
    return Series(s.name, s.tags, s.columns, [list(r) for r in s.values], tz=s.tz)


@pytest.mark.parametrize("epoch", [None, "ns", "u", "ms", "s", "h"])
@pytest.mark.parametrize("tz", [None, zoneinfo.ZoneInfo("Europe/Paris")])
def test_columnar_json_is_the_rows_json(epoch: str | None, tz: zoneinfo.ZoneInfo | None) -> None:
    s = _series(40)
    s.tz = tz
    enc = Encoder(epoch, False)
    fast = _encode_all(enc, [StatementResult(0, [s])])
    slow = _encode_all(enc, [StatementResult(0, [_rows_copy(s)])])
    assert fast == slow
    json.loads(fast)


def test_constant_columns_and_small_integers() -> None:
    """Columns of one value in every row (the tags of SELECT * over one series: joined into the
    rows as one text) and integers around the table of small integers' texts."""
    n = 30
    words = np.array(["x<y", "host_1", None], dtype=object)
    codes = np.zeros(n, np.int64)
    some_null = np.ones(n, bool)
    some_null[3] = False
    edges = np.array([-1025, -1024, -1, 0, 4095, 4096, 2**40, -(2**40)] * 4, np.int64)[:n]
    s = Series(
        "m",
        None,
        ["time", "a", "b", "i", "j", "k", "t", "u", "w", "z"],
        times=np.arange(n, dtype=np.int64) * 10**9,
        cols=[
            Col(words[codes], np.ones(n, bool), "string", codes, words),
            Col(words[codes + 1], np.ones(n, bool), "string", codes + 1, words),
            Col(np.full(n, 7, np.int64), np.ones(n, bool), "integer"),
            Col(np.full(n, 7, np.int64), some_null, "integer"),
            Col(edges, np.ones(n, bool), "integer"),
            Col(np.ones(n, bool), np.ones(n, bool), "boolean"),
            Col(np.full(n, 3, np.uint64), np.ones(n, bool), "unsigned"),
            Col(np.full(n, 1.5), np.ones(n, bool), "float"),
            Col(np.arange(n, dtype=np.uint64) + np.uint64(4090), np.ones(n, bool), "unsigned"),
        ],
    )
    enc = Encoder(None, False)
    fast = _encode_all(enc, [StatementResult(0, [s])])
    slow = _encode_all(enc, [StatementResult(0, [_rows_copy(s)])])
    assert fast == slow
    assert json.loads(fast)["results"][0]["series"][0]["values"][0] == [
        "1970-01-01T00:00:00Z",
        "x<y",
        "host_1",
        7,
        7,
        -1025,
        True,
        3,
        1.5,
        4090,
    ]


@pytest.mark.parametrize("epoch", [None, "ms"])
def test_integers_written_between_constant_texts(epoch: str | None) -> None:
    """Integer columns the joining kernel writes itself (compat/influx/_rowsjson.py): int64's ends,
    nulls, signs, next to runs of constant texts and varying texts, over several series."""
    n = 12
    words = np.array(['é"x', "host_1", None], dtype=object)
    zeros = np.zeros(n, np.int64)
    valid = np.ones(n, bool)
    valid[[2, 7]] = False
    ends = np.array([-(2**63), 2**63 - 1, -1, 0, 9, 10, -10, 99, 100, -(10**18), 10**18, 5], np.int64)
    texts = np.array(["a", "b", "é"] * 4, dtype=object)

    def series(tag: str, rows: slice) -> Series:
        m = rows.stop - rows.start
        return Series(
            "m",
            {"host": tag},
            ["time", "a", "i", "b", "c", "j", "s"],
            times=(np.arange(n, dtype=np.int64) * -(10**9 + 7))[rows],
            cols=[
                Col(words[zeros[:m]], np.ones(m, bool), "string", zeros[:m], words),
                Col(ends[rows], valid[rows], "integer"),
                Col(words[zeros[:m] + 1], np.ones(m, bool), "string", zeros[:m] + 1, words),
                Col(np.full(m, 3, np.int64), np.ones(m, bool), "integer"),
                Col(ends[::-1][rows].copy(), np.ones(m, bool), "integer"),
                Col(texts[rows], np.ones(m, bool), "string"),
            ],
        )

    all_series = [series("a", slice(0, 5)), series("b", slice(5, 12))]
    enc = Encoder(epoch, False)
    fast = _encode_all(enc, [StatementResult(0, all_series)])
    slow = _encode_all(enc, [StatementResult(0, [_rows_copy(s) for s in all_series])])
    assert fast == slow
    assert json.loads(fast)["results"][0]["series"][0]["values"][0][1:5] == ['é"x', -(2**63), "host_1", 3]


def test_series_formatted_together() -> None:
    """Series of one result are formatted in one pass when their column types agree."""
    a, b = _series(7), _series(12)
    b.tags = {"host": "b"}
    c = Series("m", {"host": "c"}, a.columns, times=a.times, cols=[*a.cols[:-1], Col.nulls(7, "string")])
    d = Series(
        "m",
        {"host": "d"},
        ["time", "v"],
        times=np.array([5]),
        cols=[Col(np.array([2]), np.ones(1, bool), "integer")],
    )
    series = [a, b, c, d]
    enc = Encoder(None, False)
    fast = _encode_all(enc, [StatementResult(0, series)])
    slow = _encode_all(enc, [StatementResult(0, [_rows_copy(s) for s in series])])
    assert fast == slow


def test_chunks_cut_columnar_series() -> None:
    s = _series(25)
    enc = Encoder(None, False)
    fast = _encode_chunks(enc, StatementResult(0, [s]), 10)
    slow = _encode_chunks(enc, StatementResult(0, [_rows_copy(s)]), 10)
    assert fast == slow and len(fast) == 3
    assert len(list(_chunks(enc, StatementResult(0, []), 10))) == 1


def test_infinity_is_go_json_error() -> None:
    s = Series(
        "m",
        None,
        ["time", "v"],
        times=np.array([0, 1]),
        cols=[Col(np.array([1.0, np.inf]), np.ones(2, bool), "float")],
    )
    body = _encode_all(Encoder(None, False), [StatementResult(0, [s])])
    with pytest.raises(UnsupportedValue):
        Encoder(None, False).values_json([s])
    assert b"unsupported value: +Inf" in body


def test_nan_is_null() -> None:
    s = Series(
        "m",
        None,
        ["time", "v"],
        times=np.array([0]),
        cols=[Col(np.array([np.nan]), np.ones(1, bool), "float")],
    )
    assert json.loads(_encode_all(Encoder("ns", False), [StatementResult(0, [s])]))["results"][0]["series"][
        0
    ]["values"] == [[0, None]]


@pytest.mark.parametrize("n", [1, 3, 61])
def test_whole_second_times_and_several_number_columns(n: int) -> None:
    """Windows' times (whole seconds: formatted by numpy's string kernels) and several float or
    integer columns (formatted as one column) give the rows' text."""
    rng = np.random.default_rng(n)
    times = np.array(([1_451_606_400, -86_400, 0, 253_402_300_799] * n)[:n], np.int64) * 10**9
    cols = []
    for j in range(3):
        vals = np.array((FLOATS[j:] * n)[:n], np.float64)
        cols.append(Col(vals, rng.random(n) > 0.3 * j, "float"))
    cols.insert(1, Col(rng.integers(-5, 5, n), np.ones(n, bool), "integer"))
    cols.append(Col(rng.integers(-(2**62), 2**62, n), rng.random(n) > 0.5, "integer"))
    s = Series("m", None, ["time", "a", "i", "b", "c", "j"], times=times, cols=cols)
    for epoch in (None, "s"):
        enc = Encoder(epoch, False)
        fast = _encode_all(enc, [StatementResult(0, [s])])
        assert fast == _encode_all(enc, [StatementResult(0, [_rows_copy(s)])])
        json.loads(fast)


def test_whole_second_cells_are_format_times() -> None:
    """The numpy-computed RFC3339 texts of whole seconds: every year 1000-9999, leap days, ends."""
    from compat.influx.query import _whole_seconds_cells
    from sql.influxql.values import format_time

    rng = np.random.default_rng(3)
    lo, hi = -30610224000, 253402300800  # 1000-01-01, 10000-01-01
    edges = [lo, hi - 1, 0, -1, 951782400, 951868800, 4107542400, 4107456000, 1451606400, 1456704000]
    sec = np.concatenate([rng.integers(lo, hi, 20000), np.array(edges, np.int64)])
    assert _whole_seconds_cells(sec).to_pylist() == [f'"{format_time(int(x) * 10**9)}"' for x in sec]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1451606400 - 3 * 86400, 1451606400 + 3 * 86400), max_size=200), st.booleans())
def test_whole_second_cells_of_few_days(sec: list[int], ordered: bool) -> None:
    """Seconds of a few days, in order (a window's times: each one of the day before it copies that
    one's date) or not (days back and forth): format_time's texts."""
    from compat.influx.query import _whole_seconds_cells
    from sql.influxql.values import format_time

    arr = np.array(sorted(sec) if ordered else sec, np.int64)
    assert _whole_seconds_cells(arr).to_pylist() == [f'"{format_time(int(x) * 10**9)}"' for x in arr]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-9223372036, 9223372035).map(lambda x: x * 10**9),  # whole seconds
            st.integers(-(2**63), 2**63 - 1),  # any time: fractions, years beyond
        ),
        max_size=80,
    )
)
def test_time_texts_are_format_times(times: list[int]) -> None:
    """The small answers' time texts (formatted together when not seen yet, then kept) are
    format_time's, whatever mix of new and known times a window holds."""
    from compat.influx import query as Q
    from sql.influxql.values import format_time

    want = [f'"{format_time(t)}"' for t in times]
    Q._TIME_TEXT.clear()
    assert Q._time_texts(times, None, None) == want
    assert Q._time_texts(times[::-1], None, None) == want[::-1]  # (now from the cache)
    assert Q._time_texts(times + [0], None, None) == [*want, '"1970-01-01T00:00:00Z"']


def test_series_of_one_block() -> None:
    """Series whose rows are ranges of one Block (split_series) encode as their rows do, in any
    order of the series, chunked or not; their cols are the block's rows."""
    from sql.influxql.series import Block

    whole = _series(30)
    assert whole.times is not None and whole.cols is not None
    block = Block(whole.times, whole.cols)
    ranges = [(0, 4), (4, 15), (15, 16), (16, 30)]

    def split() -> list[Series]:
        return [
            Series("m", {"host": str(i)}, whole.columns, times=whole.times[lo:hi], block=(block, lo))
            for i, (lo, hi) in enumerate(ranges)
        ]

    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        series = [split()[i] for i in order]
        enc = Encoder(None, False)
        fast = _encode_all(enc, [StatementResult(0, series)])
        assert fast == _encode_all(enc, [StatementResult(0, [_rows_copy(s) for s in series])])
        json.loads(fast)
    s = split()[1]
    assert s.cols is not None and [c.tolist() for c in s.cols] == [
        c.take(slice(4, 15)).tolist() for c in whole.cols
    ]
    enc = Encoder("ms", False)
    assert _encode_chunks(enc, StatementResult(0, split()), 5) == _encode_chunks(
        enc, StatementResult(0, [_rows_copy(s) for s in split()]), 5
    )
    pretty = Encoder(None, True)
    assert _encode_all(pretty, [StatementResult(0, split())]) == _encode_all(
        pretty, [StatementResult(0, [_rows_copy(s) for s in split()])]
    )


def test_text_columns_of_one_dictionary() -> None:
    """Tag columns converted with one dictionary (raw.text_cols) are formatted as one column."""
    from sql.influxql.columns import text_cols

    table = pa.table(
        {
            "host": pa.array(["a<b", "b", None, "a<b"]),
            "region": pa.array(["x", "é", "x", '"q"']),
            "team": pa.array([None, None, None, "\u2028"]),
        }
    )
    cols = text_cols(table)
    s = Series(
        "m",
        None,
        ["time", "host", "region", "team"],
        times=np.arange(4, dtype=np.int64) * 10**9,
        cols=[cols["host"], cols["region"], cols["team"]],
    )
    enc = Encoder(None, False)
    fast = _encode_all(enc, [StatementResult(0, [s])])
    assert fast == _encode_all(enc, [StatementResult(0, [_rows_copy(s)])])
    json.loads(fast)


def test_float_cells_are_go_text() -> None:
    """The cell-at-a-time float text (Python's repr) is _value's (Go's) across magnitudes, signs,
    round-trip ties, subnormals, NaN; an infinity raises as _value does."""
    from compat.influx.query import _float_cell, _value

    rng = np.random.default_rng(7)
    mags = 10.0 ** rng.integers(-330, 308, 20000)
    xs = np.concatenate(
        [
            rng.random(20000) * mags * rng.choice([-1, 1], 20000),
            rng.random(5000) * 100,
            np.round(rng.random(5000) * 100, 2),
            np.array(FLOATS + [5e-324, 1e-4 * (1 - 2**-52), 1e16 * (1 - 2**-53), 2.0**53, np.nan]),
        ]
    )
    for x in xs.tolist():
        assert _float_cell(x) == _value(x), x
    with pytest.raises(UnsupportedValue):
        _float_cell(float("-inf"))


def test_multi_day_whole_seconds_and_epochs() -> None:
    """Windows across days and years (each day's date looked up once), a span of days too long to
    tabulate, and times before 1970 and between seconds."""
    hourly = np.arange(1_451_606_400, 1_451_606_400 + 300 * 3600, 3600)
    for sec in (
        np.concatenate([hourly, [1_483_228_800, -86_400]]),
        np.array([-30610224000, 0, 253402300799]),
        None,
    ):
        times = (
            np.array([-86_400 * 10**9 - 1, -1, 0, 1_451_606_400 * 10**9 + 5], np.int64)
            if sec is None
            else np.asarray(sec, np.int64) * 10**9
        )
        n = len(times)
        s = Series("m", None, ["time", "v"], times=times, cols=[Col(np.ones(n), np.ones(n, bool), "float")])
        for epoch in (None, "ns", "u", "ms", "s", "m", "h"):
            enc = Encoder(epoch, False)
            fast = _encode_all(enc, [StatementResult(0, [s])])
            assert fast == _encode_all(enc, [StatementResult(0, [_rows_copy(s)])])


def test_whole_answer_text_is_the_objects_dumps() -> None:
    """_encode_all writes a plain answer's text at once: the text dumps gives result_obj's objects,
    for results with series, messages, an error, nothing, and names, tags and messages to escape."""
    enc = Encoder(None, False)
    series = [
        Series(
            "cpu<&>",
            {"host": 'a"b'},
            ["time", "v"],
            times=np.array([0, 10**9]),
            cols=[Col(np.array([1.5, 2.0]), np.array([True, False]), "float")],
        ),
        Series("mem", None, ["time", "v"], [[0, 1]]),
    ]
    results = [
        StatementResult(0, series=series[:1], messages=[{"level": "warning", "text": "x<y>"}]),
        StatementResult(1, error="not <found>"),
        StatementResult(2),
        StatementResult(3, series=series),
    ]
    expected = enc.dumps({"results": [enc.result_obj(r, enc.series_objs(r.series)) for r in results]}) + b"\n"
    assert _encode_all(enc, results) == expected
    assert json.loads(expected)["results"][0]["messages"] == [{"level": "warning", "text": "x<y>"}]


@pytest.mark.parametrize("epoch", [None, "s"])
def test_small_integer_rows_are_the_rows_json(epoch: str | None) -> None:
    """A small answer of integer columns without nulls is formatted a row at a time: the text the
    value-by-value encoder gives, for extreme values, unsigned ones, several series of one result;
    a null or a boolean column takes the cell-by-cell path, with the same text."""
    n = 7
    edge = np.array([0, -1, 2**63 - 1, -(2**63), 42, -42, 10**18][:n], np.int64)
    unsigned = np.array([0, 1, 2**64 - 1, 2**63, 5, 6, 7][:n], np.uint64)
    valid = np.ones(n, bool)
    some_null = valid.copy()
    some_null[3] = False
    times = np.arange(n, dtype=np.int64) * 60 * 10**9 + 1451606400 * 10**9
    for cols in (
        [Col(edge, valid, "integer"), Col(unsigned, valid, "unsigned")],
        [Col(edge, some_null, "integer")],
        [Col(edge, valid, "integer"), Col(edge > 0, valid, "boolean")],
    ):
        enc = Encoder(epoch, False)
        names = ["time", *(f"c{j}" for j in range(len(cols)))]
        block = [
            Series("m", {"host": h}, names, times=times[lo:hi], cols=[c.take(slice(lo, hi)) for c in cols])
            for h, lo, hi in (("a", 0, 3), ("b", 3, n))
        ]
        fast = _encode_all(enc, [StatementResult(0, block)])
        assert fast == _encode_all(enc, [StatementResult(0, [_rows_copy(s) for s in block])])
        assert json.loads(fast)["results"][0]["series"][0]["values"][0][1:] == [c.tolist()[0] for c in cols]


def test_small_mixed_rows_are_the_rows_json() -> None:
    """A small answer whose columns mix integers with nulls, floats (exponents, -0, NaN as null) and
    texts that look like % formats: each series of the block (1, 2 and 4 rows) as the value-by-value
    encoder writes it."""
    n = 7
    valid = np.ones(n, bool)
    some_null = valid.copy()
    some_null[[1, 5]] = False
    times = np.arange(n, dtype=np.int64) * 60 * 10**9 + 1451606400 * 10**9
    floats = np.array([0.5, 1e20, -0.0, 3.0, 1e-7, np.nan, 7.25])
    words = np.array(["%s", "a%db", "%%", "x", "<&>", "", "%(k)s"], object)
    cols = [
        Col(np.arange(n, dtype=np.int64) - 3, some_null, "integer"),
        Col(floats, ~np.isnan(floats), "float"),
        Col(words, some_null, "string"),
    ]
    enc = Encoder(None, False)
    names = ["time", "i", "f", "s"]
    block = [
        Series("m", {"host": h}, names, times=times[lo:hi], cols=[c.take(slice(lo, hi)) for c in cols])
        for h, lo, hi in (("a", 0, 1), ("b", 1, 3), ("c", 3, n))
    ]
    fast = _encode_all(enc, [StatementResult(0, block)])
    assert fast == _encode_all(enc, [StatementResult(0, [_rows_copy(s) for s in block])])
    values = [s["values"] for s in json.loads(fast)["results"][0]["series"]]
    assert values[1] == [["2016-01-01T00:01:00Z", None, 1e20, None], ["2016-01-01T00:02:00Z", -1, -0.0, "%%"]]
    assert values[2][2] == ["2016-01-01T00:05:00Z", None, None, None]
