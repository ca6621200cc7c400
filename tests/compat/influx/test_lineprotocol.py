"""Line-protocol parser: conformance table, whole-body behaviour, round-trip property, generator diff."""

from __future__ import annotations

import math
import random
import time
from typing import cast

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.datagen import DevopsCpu, IotSensors
from columnar.batch import WriteBatch
from columnar.types import FieldType
from compat.influx.lineprotocol import PRECISIONS, LineError, ParseResult, parse
from tests.compat.influx.lp_conformance import CASES, NOW, PRECISION_CASES, T_MAX, Err, P


# -- helpers ------------------------------------------------------------------------------------------------
def _py(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def points(result: ParseResult) -> list[P]:
    """Every row of every batch as a P (batch order, then row order), checking batch invariants."""
    out = []
    for b in result.batches:
        check_batch(b)
        for r in range(len(b)):
            fields = {}
            for name, col in b.fields.items():
                if col.valid is None or col.valid[r]:
                    fields[name] = (col.type, _py(col.values[r]))
            out.append(P(b.table, dict(b.tag_sets[b.series[r]]), fields, int(b.time[r])))
    return out


def check_batch(b: WriteBatch) -> None:
    assert len(b) > 0
    assert len(set(b.tag_sets)) == len(b.tag_sets), "tag sets must be distinct"
    for ts in b.tag_sets:
        assert list(ts) == sorted(ts) and all(v != "" for _, v in ts)
        assert len({k for k, _ in ts}) == len(ts)
    assert b.series.dtype == np.int32 and b.time.dtype == np.int64
    assert set(b.series.tolist()) == set(range(len(b.tag_sets))), "every tag set is used"
    for col in b.fields.values():
        assert col.type is FieldType.STRING or col.values.dtype == col.type.numpy_dtype
        if col.type is FieldType.STRING:
            assert all(isinstance(x, str) for x in col.values)


def canonical(p: P) -> tuple:
    """P with float signs made visible (-0.0 == 0.0 otherwise)."""
    fields = {
        k: (t, v, math.copysign(1.0, cast(float, v)) if t is FieldType.FLOAT else None)
        for k, (t, v) in p.fields.items()
    }
    return (p.measurement, p.tags, fields, p.time)


def one(line: str | bytes, **kw: object) -> ParseResult:
    body = line.encode() if isinstance(line, str) else line
    return parse(body, now_ns=NOW, **kw)  # type: ignore[arg-type]


# -- conformance table --------------------------------------------------------------------------------------
def test_table_is_large_enough() -> None:
    assert len(CASES) + len(PRECISION_CASES) >= 150
    assert len({line for line, _ in CASES}) == len(CASES), "duplicate inputs in the table"


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[repr(c[0])[:60] for c in CASES])
def test_conformance(line: str, expected: P | Err) -> None:
    result = one(line)
    if isinstance(expected, Err):
        assert result.points == 0 and result.batches == []
        assert len(result.errors) == 1, result.errors
        err = result.errors[0]
        assert expected.substring in err.message
        assert err.line == 1
        assert err.excerpt == line.rstrip("\r\n")[:100] or err.excerpt.endswith("...")
    else:
        assert result.errors == []
        assert result.points == 1
        assert [canonical(p) for p in points(result)] == [canonical(expected)]


@pytest.mark.parametrize(("line", "expected"), CASES[:3] + CASES[-3:])
def test_conformance_with_crlf_and_surroundings(line: str, expected: P | Err) -> None:
    """The same line in the middle of a body, CRLF-terminated, between comments and blank lines."""
    body = f"# head\r\n\r\n{line}\r\n  # tail\n\n"
    result = one(body)
    if isinstance(expected, Err):
        assert [e.line for e in result.errors] == [3]
        assert expected.substring in result.errors[0].message
    else:
        assert result.errors == []
        assert [canonical(p) for p in points(result)] == [canonical(expected)]


@pytest.mark.parametrize(("precision", "stamp", "expected"), PRECISION_CASES)
def test_precision(precision: str, stamp: str, expected: int | Err) -> None:
    result = one(f"cpu v=1 {stamp}", precision=precision)
    if isinstance(expected, Err):
        assert result.points == 0
        assert expected.substring in result.errors[0].message
    else:
        assert result.errors == []
        assert points(result)[0].time == expected


def test_precision_names() -> None:
    assert set(PRECISIONS) == {"ns", "n", "us", "u", "µ", "ms", "s", "m", "h", "auto"}
    for bad in ("x", "S", "NS", "nanoseconds", "", "sec", "mu"):
        with pytest.raises(ValueError, match="invalid precision"):
            parse(b"cpu v=1", precision=bad)


@pytest.mark.parametrize("precision", sorted(PRECISIONS))
def test_missing_timestamp_is_now_whatever_the_precision(precision: str) -> None:
    result = one("cpu v=1\ncpu v=2 1", precision=precision)
    assert points(result)[0].time == NOW


def test_default_now_is_read_once_per_call() -> None:
    before = time.time_ns()
    result = parse(b"cpu v=1\n" * 1000 + b"mem v=1\n")
    after = time.time_ns()
    stamps = np.concatenate([b.time for b in result.batches])
    assert len(set(stamps.tolist())) == 1
    assert before <= stamps[0] <= after


# -- whole bodies -------------------------------------------------------------------------------------------
def test_partial_write_keeps_good_lines_and_numbers_bad_ones() -> None:
    body = (
        b"# comment\n"  # 1
        b"cpu,host=a v=1 10\n"  # 2
        b"\n"  # 3
        b"cpu,host=a v= 11\r\n"  # 4 bad
        b"   \t  \n"  # 5
        b"cpu,host=b v=2 12\r\n"  # 6
        b"mem free=3i 13\n"  # 7
        b"cpu,host=c v=1.2.3 14\n"  # 8 bad
        b"cpu v=3 15"  # 9, no final newline
    )
    result = one(body)
    assert result.points == 4
    assert [(e.line, e.excerpt) for e in result.errors] == [
        (4, "cpu,host=a v= 11"),
        (8, "cpu,host=c v=1.2.3 14"),
    ]
    assert result.errors[0].message == "unable to parse 'cpu,host=a v= 11': missing field value"
    assert all(isinstance(e, LineError) for e in result.errors)
    got = [(p.measurement, p.tags, p.time) for p in points(result)]
    assert got == [
        ("cpu", {"host": "a"}, 10),
        ("cpu", {"host": "b"}, 12),
        ("cpu", {}, 15),
        ("mem", {}, 13),
    ]


def test_line_numbers_count_newlines_inside_strings() -> None:
    body = b'log msg="one\ntwo\nthree" 1\nlog msg=oops 2\nlog msg="x\\\ny" 3\nlog msg= 4\n'
    result = one(body)
    assert [e.line for e in result.errors] == [4, 7]
    assert [p.fields["msg"][1] for p in points(result)] == ["one\ntwo\nthree", "x\\\ny"]


def test_bad_line_with_open_quote_swallows_like_influxdb() -> None:
    """After an error the line ends where InfluxDB's splitter ends it: quotes in fields span newlines."""
    body = b'cpu,host= v="a\nb" 1\ncpu v=2 2\n'
    result = one(body)
    assert [e.line for e in result.errors] == [1]
    assert [p.time for p in points(result)] == [2]
    assert result.errors[0].excerpt == 'cpu,host= v="a\nb" 1'


def test_unbalanced_quote_runs_to_the_end_of_the_body() -> None:
    result = one(b'cpu v=1 1\ncpu v="open 2\ncpu v=3 3\n')
    assert [p.time for p in points(result)] == [1]
    assert [(e.line, "unbalanced quotes" in e.message) for e in result.errors] == [(2, True)]


def test_trailing_backslash_joins_the_next_line_like_influxdb() -> None:
    result = one(b"cpu,host=a\\\ncpu v=1 1\ncpu v=2 2\n")
    assert [e.line for e in result.errors] == [1]
    assert "may not end with a backslash" in result.errors[0].message
    assert [p.time for p in points(result)] == [2]


def test_batches_per_measurement_in_first_appearance_order() -> None:
    lines = []
    for i in range(30):
        table = ("b", "a", "c")[i % 3]
        lines.append(f"{table},k={i % 2} v={i}i {i}")
    result = one("\n".join(lines))
    assert [b.table for b in result.batches] == ["b", "a", "c"]
    for b in result.batches:
        assert b.time.tolist() == sorted(b.time.tolist())
        assert b.tag_sets == [(("k", "0"),), (("k", "1"),)] or b.tag_sets == [(("k", "1"),), (("k", "0"),)]
        assert b.fields["v"].values.tolist() == b.time.tolist()


def test_tag_sets_are_resolved_once_per_distinct_set() -> None:
    variants = ["cpu,a=1,b=2", "cpu,b=2,a=1", "cpu,a=1,b=3", r"cpu,a=1,b=\2", "cpu,a=1"]
    body = "\n".join(f"{variants[i % len(variants)]} v={i}" for i in range(1000))
    result = one(body)
    (b,) = result.batches
    a1 = ("a", "1")
    assert b.tag_sets == [(a1, ("b", "2")), (a1, ("b", "3")), (a1, ("b", "\\2")), (a1,)]
    expected = [[0, 0, 1, 2, 3][i % 5] for i in range(1000)]
    assert b.series.tolist() == expected


def test_series_key_cache_emptied_mid_body(monkeypatch: pytest.MonkeyPatch) -> None:
    from compat.influx import lineprotocol

    monkeypatch.setattr(lineprotocol, "_KEY_CACHE_MAX", 3)
    body = "\n".join(
        f"cpu,b={i % 7},a={i % 5} v={i}" if i % 2 else f"cpu,a={i % 5},b={i % 7} v={i}" for i in range(200)
    )
    (b,) = one(body).batches
    rows = [dict(b.tag_sets[s]) for s in b.series]
    assert rows == [{"a": str(i % 5), "b": str(i % 7)} for i in range(200)]
    assert len(b.tag_sets) == 35
    assert len(lineprotocol._KEY_CACHE) <= 3


def test_missing_fields_get_validity_masks() -> None:
    result = one('m a=1,s="x" 1\nm b=2i 2\nm a=3,b=4i,c=true 3\nm s="y" 4')
    (b,) = result.batches
    assert list(b.fields) == ["a", "s", "b", "c"]
    a, s, bb, c = (b.fields[k] for k in "asbc")
    assert a.valid is not None and s.valid is not None and bb.valid is not None and c.valid is not None
    assert a.values.tolist()[::2] == [1.0, 3.0] and a.valid.tolist() == [True, False, True, False]
    assert s.values.tolist() == ["x", "", "", "y"] and s.valid.tolist() == [True, False, False, True]
    assert bb.values.dtype == np.int64 and bb.valid.tolist() == [False, True, True, False]
    assert c.values.tolist() == [False, False, True, False]
    assert c.valid.tolist() == [False, False, True, False]


def test_type_conflicts_within_a_body_first_type_wins() -> None:
    body = "\n".join(
        [
            "cpu v=1i 1",  # defines v as integer
            "cpu v=2 2",  # float: conflict
            "cpu v=3i 3",
            'cpu v="x",w=1 4',  # string: conflict, and w must not be created by this line
            "mem v=5 5",  # another measurement may use another type
            "cpu v=6u 6",  # unsigned: conflict
            "cpu v=7i,v=8i 7",  # duplicate key, same type: the last wins
            "cpu v=9,v=10i 8",  # duplicate key, two types: conflict within the line (InfluxDB 1.x)
        ]
    )
    result = one(body)
    assert [e.line for e in result.errors] == [2, 4, 6, 8]
    assert result.errors[0].message == (
        'field type conflict: input field "v" on measurement "cpu" is type float, already exists as type integer'
    )
    assert "is type string, already exists as type integer" in result.errors[1].message
    assert "is type unsigned" in result.errors[2].message
    cpu, mem = result.batches
    assert list(cpu.fields) == ["v"]
    assert "is type integer, already exists as type float" in result.errors[3].message
    assert cpu.fields["v"].values.tolist() == [1, 3, 8]
    assert mem.fields["v"].type is FieldType.FLOAT


def test_type_of_a_rejected_line_does_not_count() -> None:
    result = one("cpu v=1i 99999999999999999999\ncpu v=2 2\ncpu,time=x v=3i 3\ncpu v=4 4")
    assert [e.line for e in result.errors] == [1, 3]
    (b,) = result.batches
    assert b.fields["v"].type is FieldType.FLOAT and b.fields["v"].values.tolist() == [2.0, 4.0]


def test_time_field_is_dropped_and_its_type_ignored() -> None:
    result = one("cpu time=1i,v=1 1\ncpu time=2,v=2 2\ncpu time=3 3")
    assert [e.line for e in result.errors] == [3]
    (b,) = result.batches
    assert list(b.fields) == ["v"]


def test_tag_sets_of_rejected_lines_are_not_listed() -> None:
    result = one("cpu,h=a v=1i 1\ncpu,h=b v=2 2\ncpu,h=c v=3i 3")
    (b,) = result.batches
    assert b.tag_sets == [(("h", "a"),), (("h", "c"),)]
    assert b.series.tolist() == [0, 1]


def test_all_lines_bad_or_empty_bodies() -> None:
    assert one(b"") == ParseResult([], [], 0)
    assert one(b"\n\n# only comments\n  \r\n") == ParseResult([], [], 0)
    result = one(b"cpu\nmem\n")
    assert result.batches == [] and result.points == 0 and [e.line for e in result.errors] == [1, 2]


def test_bytes_like_bodies() -> None:
    data = b"cpu,host=a v=1 1\n"
    for body in (data, bytearray(data), memoryview(data)):
        result = parse(body)  # type: ignore[arg-type]
        assert result.points == 1 and result.batches[0].tag_sets == [(("host", "a"),)]


def test_invalid_utf8_fails_only_its_line() -> None:
    body = b'cpu,host=a v=1 1\ncpu,host=\xff v=1 2\ncpu s="\xc3\x28" 3\ncpu s="\xc3\xa9" 4\n'
    result = one(body)
    assert [e.line for e in result.errors] == [2, 3]
    assert all("invalid UTF-8" in e.message for e in result.errors)
    assert [p.time for p in points(result)] == [1, 4]
    assert points(result)[1].fields["s"] == (FieldType.STRING, "é")


def test_excerpt_is_truncated() -> None:
    line = "cpu,host=" + "x" * 500 + " v="
    (err,) = one(line).errors
    assert len(err.excerpt) == 100 and err.excerpt.endswith("...")
    assert err.message == f"unable to parse '{err.excerpt}': missing field value"


def test_key_length_limit() -> None:
    ok = "cpu,k=" + "x" * (65535 - 6) + " v=1"
    bad = "cpu,k=" + "x" * (65535 - 5) + " v=1"
    assert one(ok).points == 1
    assert "max key length exceeded: 65536 > 65535" in one(bad).errors[0].message


def test_long_string_values_and_many_fields() -> None:
    big = "x" * 200_000
    fields = ",".join(f"f{i}={i}i" for i in range(500))
    result = one(f'cpu s="{big}",{fields} 1')
    (b,) = result.batches
    assert b.fields["s"].values[0] == big
    assert len(b.fields) == 501 and b.fields["f499"].values[0] == 499


def test_same_series_key_decodes_the_same_in_later_bodies() -> None:
    body = rb"w\ x,t\=1=a\,b v=1"
    first = one(body).batches[0]
    second = one(body).batches[0]
    assert first.table == second.table == "w x"
    assert first.tag_sets == second.tag_sets == [(("t=1", "a,b"),)]


def test_floats_match_python_float() -> None:
    rng = random.Random(7)
    texts = []
    for _ in range(4000):
        kind = rng.randrange(5)
        if kind == 0:
            x = rng.random() * 10 ** rng.randint(-30, 30)
            texts.append(repr(x))
        elif kind == 1:
            bits = rng.getrandbits(64)
            x = np.frombuffer(bits.to_bytes(8, "little"), np.float64)[0]
            if not np.isfinite(x):
                continue
            texts.append(repr(float(x)))
        elif kind == 2:
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
            texts.append(f"{digits}e{rng.randint(-340, 300)}")
        elif kind == 3:
            texts.append(f"{rng.randint(0, 10**6)}.{rng.randint(0, 10 ** rng.randint(1, 25))}")
        else:
            texts.append(f"{rng.choice(['', '-'])}{rng.randint(0, 2**64)}")
    texts = [t for t in texts if not math.isinf(float(t))]
    body = "\n".join(f"f v={t} {i}" for i, t in enumerate(texts))
    result = one(body)
    assert result.errors == []
    got = result.batches[0].fields["v"].values
    want = np.array([float(t) for t in texts])
    assert got.view(np.int64).tolist() == want.view(np.int64).tolist()


# -- differential: generated batches vs their line protocol -------------------------------------------------
@pytest.mark.parametrize(
    "gen", [DevopsCpu(7, hours=1), IotSensors(9, hours=0.2)], ids=lambda g: type(g).__name__
)
def test_parse_of_generated_lp_equals_generated_batches(gen: DevopsCpu | IotSensors) -> None:
    for text, expected in zip(gen.line_protocol(1000), gen.batches(1000), strict=True):
        result = parse(text)
        assert result.errors == [] and result.points == len(expected)
        (b,) = result.batches
        check_batch(b)
        assert b.table == expected.table
        np.testing.assert_array_equal(b.time, expected.time)
        assert [b.tag_sets[s] for s in b.series] == [expected.tag_sets[s] for s in expected.series]
        assert list(b.fields) == list(expected.fields)
        for name, col in expected.fields.items():
            got = b.fields[name]
            assert got.type is col.type and got.valid is None
            np.testing.assert_array_equal(got.values, col.values)


# -- property: serialise random points, parse them back -----------------------------------------------------
def _escape(text: str, chars: str) -> str:
    out = text.replace("\\", "\\\\")
    for c in chars:
        out = out.replace(c, "\\" + c)
    return out


_names = st.text(min_size=1, max_size=8).filter(lambda s: "\n" not in s)
_measurements = _names.filter(lambda s: s[0] not in "#\t\r")
_keys = _names.filter(lambda s: s != "time")
_strings = st.text(max_size=20)  # anything: newlines, quotes, backslashes
_field_types = st.sampled_from(list(FieldType))
_BOOL_TEXT = {True: ["t", "T", "true", "True", "TRUE"], False: ["f", "F", "false", "False", "FALSE"]}


def _value(ftype: FieldType) -> st.SearchStrategy:
    if ftype is FieldType.FLOAT:
        return st.floats(allow_nan=False, allow_infinity=False)
    if ftype is FieldType.INTEGER:
        return st.integers(-(2**63), 2**63 - 1)
    if ftype is FieldType.UNSIGNED:
        return st.integers(0, 2**64 - 1)
    if ftype is FieldType.BOOLEAN:
        return st.booleans()
    return _strings


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, list[P]]:
    schema_of = st.dictionaries(_keys, _field_types, min_size=1, max_size=4)
    schemas = draw(st.dictionaries(_measurements, schema_of, min_size=1, max_size=3))
    lines, expected = [], []
    for _ in range(draw(st.integers(1, 12))):
        measurement = draw(st.sampled_from(sorted(schemas)))
        schema = schemas[measurement]
        tags = draw(st.dictionaries(_keys, _names, max_size=4))
        names = draw(st.lists(st.sampled_from(sorted(schema)), min_size=1, max_size=len(schema), unique=True))
        fields, parts = {}, []
        for name in names:
            ftype = schema[name]
            value = draw(_value(ftype))
            if ftype is FieldType.FLOAT:
                text = format(value, draw(st.sampled_from(["", ".17g", ".17e"])))
            elif ftype is FieldType.INTEGER:
                text = f"{value}i"
            elif ftype is FieldType.UNSIGNED:
                text = f"{value}u"
            elif ftype is FieldType.BOOLEAN:
                text = draw(st.sampled_from(_BOOL_TEXT[value]))
            else:
                text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(f"{_escape(name, ',= ')}={text}")
            fields[name] = (ftype, value)
        stamp = draw(st.none() | st.integers(-T_MAX, T_MAX))
        tag_items = draw(st.permutations(list(tags.items())))
        key = _escape(measurement, ", ")
        key += "".join(f",{_escape(k, ',= ')}={_escape(v, ',= ')}" for k, v in tag_items)
        line = f"{key} {','.join(parts)}" + ("" if stamp is None else f" {stamp}")
        lines.append(line)
        expected.append(P(measurement, tags, fields, NOW if stamp is None else stamp))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline])), expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_round_trip(case: tuple[str, list[P]]) -> None:
    body, expected = case
    result = one(body)
    assert result.errors == [], result.errors
    by_table: dict[str, list[P]] = {}
    for p in expected:
        by_table.setdefault(p.measurement, []).append(p)
    want = [canonical(p) for table in by_table.values() for p in table]
    assert [canonical(p) for p in points(result)] == want
    assert result.points == len(expected)


def test_every_truncation_of_every_table_line() -> None:
    """Bodies that stop anywhere (mid-escape, mid-string, mid-number) end in an error, never a crash."""
    for line, _ in CASES:
        data = line.encode()
        for end in range(len(data) + 1):
            result = parse(data[:end], now_ns=NOW)
            assert result.points + len(result.errors) <= 1


# -- fuzz: arbitrary bytes never break the kernels (they run without bounds checks) -------------------------
_NASTY = list(b' ,=\\"\n\r\t#-+.0123456789eEiutfTFa') + [0x00, 0xC3, 0xA9, 0xFF]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_NASTY), max_size=120).map(bytes), st.sampled_from(sorted(PRECISIONS)))
def test_fuzz_never_crashes(body: bytes, precision: str) -> None:
    result = parse(body, precision=precision, now_ns=NOW)
    assert result.points == sum(len(b) for b in result.batches)
    for b in result.batches:
        check_batch(b)
    lines = [e.line for e in result.errors]
    assert lines == sorted(set(lines))
    assert all(1 <= n <= body.count(b"\n") + 1 for n in lines)
    for e in result.errors:
        assert e.message and len(e.excerpt) <= 100
