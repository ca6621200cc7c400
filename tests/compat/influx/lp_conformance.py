"""Line-protocol conformance table: one input line → the point it must parse to, or an error substring.

Every entry is ``(line, expected)``. ``expected`` is a :class:`P` (measurement, tags, fields, time) or an
:class:`Err` with a substring of the error message. Lines are ``str`` (raw strings where backslashes
matter) and are UTF-8 encoded before parsing. Points without a timestamp get :data:`NOW`.

Sources of the expectations: InfluxDB's public line-protocol reference (v1 and v2 docs: escaping table,
boolean spellings, integer and unsigned ranges, comments) and, where versions differ, the choices written
down in docs/format/line-protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from columnar.types import FieldType

NOW = 1_700_000_000_123_456_789
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
U64_MAX = 2**64 - 1
T_MAX = 9_223_372_036_854_775_806  # InfluxDB's time range: [-T_MAX, T_MAX]


def F(v: float) -> tuple[FieldType, object]:
    return (FieldType.FLOAT, float(v))


def I(v: int) -> tuple[FieldType, object]:  # noqa: E743
    return (FieldType.INTEGER, v)


def U(v: int) -> tuple[FieldType, object]:
    return (FieldType.UNSIGNED, v)


def B(v: bool) -> tuple[FieldType, object]:
    return (FieldType.BOOLEAN, v)


def S(v: str) -> tuple[FieldType, object]:
    return (FieldType.STRING, v)


@dataclass(frozen=True)
class P:
    measurement: str
    tags: dict[str, str] = field(default_factory=dict)
    fields: dict[str, tuple[FieldType, object]] = field(default_factory=dict)
    time: int = NOW


@dataclass(frozen=True)
class Err:
    substring: str


Case = tuple[str, "P | Err"]


def v(fields_value: tuple[FieldType, object], time: int = NOW) -> P:
    """Shorthand for ``cpu`` with one field ``v``."""
    return P("cpu", {}, {"v": fields_value}, time)


MEASUREMENT: list[Case] = [
    ("cpu v=1", v(F(1))),
    ("cpu v=1 1", v(F(1), 1)),
    (r"c\,pu v=1", P("c,pu", {}, {"v": F(1)})),
    (r"c\ pu v=1", P("c pu", {}, {"v": F(1)})),
    (r"c\\pu v=1", P("c\\pu", {}, {"v": F(1)})),
    (r"c\pu v=1", P("c\\pu", {}, {"v": F(1)})),  # an unknown escape keeps its backslash
    (r"c\=pu v=1", P("c=pu", {}, {"v": F(1)})),
    (r"c\"pu v=1", P('c"pu', {}, {"v": F(1)})),  # InfluxDB 1.x unescapes \" in measurements
    (r"c\xpu v=1", P("c\\xpu", {}, {"v": F(1)})),
    ("c=pu v=1", P("c=pu", {}, {"v": F(1)})),
    ('"cpu" v=1', P('"cpu"', {}, {"v": F(1)})),
    ("'cpu' v=1", P("'cpu'", {}, {"v": F(1)})),
    ("cpu#1 v=1", P("cpu#1", {}, {"v": F(1)})),
    ("time v=1", P("time", {}, {"v": F(1)})),
    ("cpu\tx v=1", P("cpu\tx", {}, {"v": F(1)})),
    ("🍭 v=1", P("🍭", {}, {"v": F(1)})),
    ("ünïcödé v=1", P("ünïcödé", {}, {"v": F(1)})),
    (r"\ cpu v=1", P(" cpu", {}, {"v": F(1)})),
    ("  cpu v=1", v(F(1))),
    ("\tcpu v=1", v(F(1))),
    (",cpu v=1", Err("missing measurement")),
    ("cpu", Err("missing fields")),
    ("cpu ", Err("missing fields")),
    ("cpu  ", Err("missing fields")),
    (r"cpu\ ", Err("missing fields")),
    (r"cpu\,v=1", Err("missing fields")),
    ("cpu\\", Err("may not end with a backslash")),
    ("cpu,", Err("missing tag key")),
]

TAGS: list[Case] = [
    ("cpu,host=a v=1", P("cpu", {"host": "a"}, {"v": F(1)})),
    ("cpu,b=2,a=1 v=1", P("cpu", {"a": "1", "b": "2"}, {"v": F(1)})),
    (r"cpu,host=a\,b v=1", P("cpu", {"host": "a,b"}, {"v": F(1)})),
    (r"cpu,host=a\ b v=1", P("cpu", {"host": "a b"}, {"v": F(1)})),
    (r"cpu,host=a\=b v=1", P("cpu", {"host": "a=b"}, {"v": F(1)})),
    (r"cpu,ho\,st=a v=1", P("cpu", {"ho,st": "a"}, {"v": F(1)})),
    (r"cpu,ho\ st=a v=1", P("cpu", {"ho st": "a"}, {"v": F(1)})),
    (r"cpu,ho\=st=a v=1", P("cpu", {"ho=st": "a"}, {"v": F(1)})),
    (r"cpu,host=a\\ v=1", P("cpu", {"host": "a\\"}, {"v": F(1)})),
    (r"cpu,host=a\\\ b v=1", P("cpu", {"host": "a\\ b"}, {"v": F(1)})),
    (r"cpu,host=a\b v=1", P("cpu", {"host": "a\\b"}, {"v": F(1)})),
    (r"cpu,host=a\\b v=1", P("cpu", {"host": "a\\b"}, {"v": F(1)})),
    (r"cpu,a\=b\,c\ d\\e=x v=1", P("cpu", {"a=b,c d\\e": "x"}, {"v": F(1)})),
    ('cpu,host="a" v=1', P("cpu", {"host": '"a"'}, {"v": F(1)})),
    (r"cpu,host=a\"b v=1", P("cpu", {"host": 'a\\"b'}, {"v": F(1)})),  # but not in tags
    ("cpu,host=#1 v=1", P("cpu", {"host": "#1"}, {"v": F(1)})),
    ("cpu,host=🍭 v=1", P("cpu", {"host": "🍭"}, {"v": F(1)})),
    ("cpu,Host=a,host=b v=1", P("cpu", {"Host": "a", "host": "b"}, {"v": F(1)})),
    ("cpu,Time=1 v=1", P("cpu", {"Time": "1"}, {"v": F(1)})),
    ("cpu,host=a  v=1", P("cpu", {"host": "a"}, {"v": F(1)})),
    ("cpu,host= v=1", Err("missing tag value")),
    ("cpu,host=,a=b v=1", Err("missing tag value")),
    ("cpu,host v=1", Err("missing tag value")),
    ("cpu,host", Err("missing tag value")),
    ("cpu,host=", Err("missing tag value")),
    ("cpu,=a v=1", Err("missing tag key")),
    ("cpu,host=a, v=1", Err("missing tag key")),
    ("cpu,host=a,,b=c v=1", Err("missing tag key")),
    ("cpu, host=a v=1", Err("missing tag key")),
    ("cpu,host=a=b v=1", Err("invalid tag format")),
    ("cpu,host=a", Err("missing fields")),
    ("cpu,host=a ", Err("missing fields")),
    (r"cpu,host=a\ ", Err("missing fields")),
    ("cpu,host=a\\", Err("may not end with a backslash")),
    ("cpu,host=a,host=b v=1", Err("duplicate tags")),
    ("cpu,b=1,a=2,b=3 v=1", Err("duplicate tags")),
    (r"cpu,a\ b=1,a\ b=2 v=1", Err("duplicate tags")),
    ("cpu,time=1 v=1", Err('invalid tag key: input tag "time" on measurement "cpu" is invalid')),
]

FLOATS: list[Case] = [
    ("cpu v=1.5", v(F(1.5))),
    ("cpu v=-1.5", v(F(-1.5))),
    ("cpu v=.5", v(F(0.5))),
    ("cpu v=-.5", v(F(-0.5))),
    ("cpu v=1.", v(F(1.0))),
    ("cpu v=00.5", v(F(0.5))),
    ("cpu v=0", v(F(0.0))),
    ("cpu v=-0", v(F(-0.0))),
    ("cpu v=-0.0", v(F(-0.0))),
    ("cpu v=1e3", v(F(1000.0))),
    ("cpu v=1E3", v(F(1000.0))),
    ("cpu v=1.5e-3", v(F(0.0015))),
    ("cpu v=1.5E+3", v(F(1500.0))),
    ("cpu v=-1.234456e+78", v(F(-1.234456e78))),
    ("cpu v=0.1", v(F(0.1))),
    ("cpu v=3.141592653589793", v(F(3.141592653589793))),
    ("cpu v=0.30000000000000004", v(F(0.30000000000000004))),
    ("cpu v=1.7976931348623157e308", v(F(1.7976931348623157e308))),
    ("cpu v=4.9e-324", v(F(5e-324))),
    ("cpu v=2.2250738585072011e-308", v(F(2.2250738585072011e-308))),
    ("cpu v=1e-400", v(F(0.0))),
    ("cpu v=9007199254740993", v(F(9007199254740992.0))),  # 2^53 + 1: ties to even
    ("cpu v=123456789012345678901234567890", v(F(1.2345678901234568e29))),  # > 19 digits
    ("cpu v=0.30000000000000000000000000001", v(F(0.3))),
    ("cpu v=00000000000000000000001.5", v(F(1.5))),  # > 19 digits, but leading zeros
    ("cpu v=1.00000000000000000000", v(F(1.0))),  # > 19 digits, trailing zeros
    ("cpu v=12345678901234567890", v(F(12345678901234567890.0))),
    ("cpu v=0.000000000000000000001", v(F(1e-21))),
    ("cpu v=-0.000000000000000000000", v(F(-0.0))),
    ("cpu v=1e400", Err("unable to parse float 1e400: value out of range")),
    ("cpu v=-1e400", Err("value out of range")),
    ("cpu v=1" + "0" * 400, Err("value out of range")),
    ("cpu v=+1", Err("invalid number +1")),
    ("cpu v=NaN", Err("invalid number")),
    ("cpu v=nan", Err("invalid number")),
    ("cpu v=inf", Err("invalid number")),
    ("cpu v=-inf", Err("invalid number")),
    ("cpu v=Infinity", Err("invalid number")),
    ("cpu v=1.2.3", Err("invalid number 1.2.3")),
    ("cpu v=1e", Err("invalid number")),
    ("cpu v=1e+", Err("invalid number")),
    ("cpu v=1.5e", Err("invalid number")),
    ("cpu v=-", Err("invalid number")),
    ("cpu v=.", Err("invalid number")),
    ("cpu v=-.", Err("invalid number")),
    ("cpu v=1a", Err("invalid number 1a")),
    ("cpu v=0x10", Err("invalid number")),
    ("cpu v=1_000", Err("invalid number")),
    ("cpu v=--1", Err("invalid number")),
    ("cpu v=1-", Err("invalid number")),
]

INTEGERS: list[Case] = [
    ("cpu v=1i", v(I(1))),
    ("cpu v=-1i", v(I(-1))),
    ("cpu v=0i", v(I(0))),
    ("cpu v=-0i", v(I(0))),
    ("cpu v=007i", v(I(7))),
    ("cpu v=12485903i", v(I(12485903))),
    ("cpu v=9223372036854775807i", v(I(I64_MAX))),
    ("cpu v=-9223372036854775808i", v(I(I64_MIN))),
    ("cpu v=00000000000000000000009223372036854775807i", v(I(I64_MAX))),
    ("cpu v=09223372036854775807i", v(I(I64_MAX))),
    ("cpu v=-09223372036854775808i", v(I(I64_MIN))),
    ("cpu v=9223372036854775808i", Err("unable to parse integer 9223372036854775808i: value out of range")),
    ("cpu v=-9223372036854775809i", Err("value out of range")),
    ("cpu v=99999999999999999999i", Err("value out of range")),
    ("cpu v=18446744073709551616i", Err("value out of range")),
    ("cpu v=1.0i", Err("invalid number")),
    ("cpu v=1.i", Err("invalid number")),
    ("cpu v=1e3i", Err("invalid number")),
    ("cpu v=1ii", Err("invalid number")),
    ("cpu v=1iu", Err("invalid number")),
    ("cpu v=i", Err("invalid number")),
    ("cpu v=-i", Err("invalid number")),
    ("cpu v=1i2", Err("invalid number")),
    ("cpu v=1I", Err("invalid number")),
    ("cpu v=1u", v(U(1))),
    ("cpu v=0u", v(U(0))),
    ("cpu v=12485903u", v(U(12485903))),
    ("cpu v=9223372036854775808u", v(U(2**63))),
    ("cpu v=10000000000000000000u", v(U(10**19))),
    ("cpu v=18446744073709551615u", v(U(U64_MAX))),
    ("cpu v=018446744073709551615u", v(U(U64_MAX))),
    (
        "cpu v=18446744073709551616u",
        Err("unable to parse unsigned 18446744073709551616u: value out of range"),
    ),
    ("cpu v=18446744073709551620u", Err("value out of range")),
    ("cpu v=100000000000000000000u", Err("value out of range")),
    ("cpu v=-1u", Err("unsigned values cannot be negative")),
    ("cpu v=-0u", Err("unsigned values cannot be negative")),
    ("cpu v=1.5u", Err("invalid number")),
    ("cpu v=1e2u", Err("invalid number")),
    ("cpu v=u", Err("invalid field value")),
    ("cpu v=1U", Err("invalid number")),
]

BOOLEANS: list[Case] = [
    ("cpu v=t", v(B(True))),
    ("cpu v=T", v(B(True))),
    ("cpu v=true", v(B(True))),
    ("cpu v=True", v(B(True))),
    ("cpu v=TRUE", v(B(True))),
    ("cpu v=f", v(B(False))),
    ("cpu v=F", v(B(False))),
    ("cpu v=false", v(B(False))),
    ("cpu v=False", v(B(False))),
    ("cpu v=FALSE", v(B(False))),
    ("cpu v=true 5", v(B(True), 5)),
    ("cpu v=f,w=1", P("cpu", {}, {"v": B(False), "w": F(1)})),
    ("cpu v=tRUE", Err("invalid boolean tRUE")),
    ("cpu v=TRue", Err("invalid boolean")),
    ("cpu v=tru", Err("invalid boolean")),
    ("cpu v=truee", Err("invalid boolean")),
    ("cpu v=falsey", Err("invalid boolean")),
    ("cpu v=fals", Err("invalid boolean")),
    ("cpu v=FaLsE", Err("invalid boolean")),
    ("cpu v=yes", Err("invalid field value yes")),
    ("cpu v=on", Err("invalid field value")),
    ('cpu v="true"', v(S("true"))),
]

STRINGS: list[Case] = [
    ('cpu v="x"', v(S("x"))),
    ('cpu v=""', v(S(""))),
    ('cpu v="a,b c=d"', v(S("a,b c=d"))),
    (r'cpu v="a\"b"', v(S('a"b'))),
    (r'cpu v="a\\b"', v(S("a\\b"))),
    (r'cpu v="a\b"', v(S("a\\b"))),
    (r'cpu v="a\\\"b"', v(S('a\\"b'))),
    (r'cpu v="a\nb"', v(S("a\\nb"))),
    (r'cpu v="\\"', v(S("\\"))),
    (r'cpu v="\\\\"', v(S("\\\\"))),
    (r'cpu v="\\\"', Err("unbalanced quotes")),
    ('cpu v="line1\nline2" 5', v(S("line1\nline2"), 5)),
    ('cpu v="crlf\r\ninside"', v(S("crlf\r\ninside"))),
    ('cpu v="🍭 Launch 🚀"', v(S("🍭 Launch 🚀"))),
    ('cpu v="a#b",w="#"', P("cpu", {}, {"v": S("a#b"), "w": S("#")})),
    ("cpu v=\"'single'\"", v(S("'single'"))),
    ('cpu v="x" 5', v(S("x"), 5)),
    ('cpu v="x', Err("unbalanced quotes")),
    ('cpu v="a\\', Err("unbalanced quotes")),
    ('cpu v="x"y', Err("invalid field format")),
    ('cpu v="x""y"', Err("invalid field format")),
    ("cpu v='x'", Err("invalid field value")),
    ("cpu v=x", Err("invalid field value")),
]

FIELDS: list[Case] = [
    (
        'cpu a=1,b=2i,c=true,d="x",e=3u',
        P("cpu", {}, {"a": F(1), "b": I(2), "c": B(True), "d": S("x"), "e": U(3)}),
    ),
    ("cpu v=1,v=2", v(F(2))),
    ("cpu v=1i,v=2i", v(I(2))),
    ('cpu v=1,v="x"', Err('field type conflict: input field "v" on measurement "cpu" is type string')),
    ("cpu v=1,v=2i,v=3", Err("field type conflict")),
    ("cpu v=1i,w=2,v=3i", P("cpu", {}, {"v": I(3), "w": F(2)})),
    ("cpu time=1,v=2", v(F(2))),
    ("cpu v=2,time=1i", v(F(2))),
    ("cpu Time=1", P("cpu", {}, {"Time": F(1)})),
    (r"cpu a\,b=1", P("cpu", {}, {"a,b": F(1)})),
    (r"cpu a\ b=1", P("cpu", {}, {"a b": F(1)})),
    (r"cpu a\=b=1", P("cpu", {}, {"a=b": F(1)})),
    (r"cpu a\\=1", P("cpu", {}, {"a\\": F(1)})),
    (r"cpu a\b=1", P("cpu", {}, {"a\\b": F(1)})),
    ('cpu "a"=1', P("cpu", {}, {'"a"': F(1)})),
    ('cpu a"b=1', P("cpu", {}, {'a"b': F(1)})),
    (r"cpu a\"b=1", P("cpu", {}, {'a"b': F(1)})),  # InfluxDB 1.x unescapes \" in field keys
    ("cpu 🍭=1", P("cpu", {}, {"🍭": F(1)})),
    ("cpu #=1", P("cpu", {}, {"#": F(1)})),
    ("cpu time=1", Err('invalid field name: input field "time" on measurement "cpu" is invalid')),
    ("cpu time=1,time=2i", Err('input field "time"')),
    ("cpu v=", Err("missing field value")),
    ("cpu v= 1", Err("missing field value")),
    ("cpu v=,w=1", Err("missing field value")),
    ("cpu =1", Err("missing field key")),
    ("cpu v=1,=2", Err("missing field key")),
    ("cpu v=1,,w=2", Err("missing field key")),
    ("cpu v=1,", Err("invalid field format")),
    ("cpu v=1,w", Err("invalid field format")),
    ("cpu v", Err("invalid field format")),
    ("cpu a b=1", Err("invalid field format")),
    ("cpu v=1, w=2", Err("invalid field format")),
    ("cpu v=1,w 5", Err("invalid field format")),
    ("cpu v\\", Err("may not end with a backslash")),
]

TIMESTAMPS: list[Case] = [
    ("cpu v=1 0", v(F(1), 0)),
    ("cpu v=1 -1", v(F(1), -1)),
    ("cpu v=1 1556813561098000000", v(F(1), 1556813561098000000)),
    ("cpu v=1 0005", v(F(1), 5)),
    ("cpu v=1 -0", v(F(1), 0)),
    ("cpu v=1 000000000000000000001", v(F(1), 1)),
    ("cpu v=1 -00000000000000000000009223372036854775806", v(F(1), -T_MAX)),
    ("cpu v=1 00000000000000000000009223372036854775807", Err("time outside range")),
    ("cpu v=1 018446744073709551616", Err("value out of range")),
    ("cpu v=1 9223372036854775806", v(F(1), T_MAX)),
    ("cpu v=1 -9223372036854775806", v(F(1), -T_MAX)),
    ("cpu v=1 5 ", v(F(1), 5)),
    ("cpu v=1 5\t", v(F(1), 5)),
    ("cpu v=1 5  \t ", v(F(1), 5)),
    ("cpu v=1  5", v(F(1), 5)),
    ("cpu v=1 ", v(F(1))),
    ("cpu v=1\t", Err("invalid number")),
    ("cpu v=1 5\r", v(F(1), 5)),
    ("cpu v=1 9223372036854775807", Err("time outside range -9223372036854775806 - 9223372036854775806")),
    ("cpu v=1 -9223372036854775807", Err("time outside range")),
    ("cpu v=1 -9223372036854775808", Err("time outside range")),
    ("cpu v=1 9223372036854775808", Err("bad timestamp 9223372036854775808: value out of range")),
    ("cpu v=1 -9223372036854775809", Err("bad timestamp -9223372036854775809: value out of range")),
    ("cpu v=1 99999999999999999999", Err("value out of range")),
    ("cpu v=1 12a", Err("bad timestamp 12a")),
    ("cpu v=1 1.5", Err("bad timestamp")),
    ("cpu v=1 -", Err("bad timestamp")),
    ("cpu v=1 +5", Err("bad timestamp")),
    ("cpu v=1 1e9", Err("bad timestamp")),
    ("cpu v=1 0x10", Err("bad timestamp")),
    ("cpu v=1 5 6", Err("point is invalid: unexpected text after the timestamp")),
    ("cpu v=1 5 #", Err("unexpected text after the timestamp")),
    ("cpu v=1 5,6", Err("bad timestamp")),
]

WHOLE: list[Case] = [
    ("cpu,host=server01,region=us-west usage=0.64,count=3i,ok=t,msg=\"fine\" 1556813561098000000",
     P("cpu", {"host": "server01", "region": "us-west"},
       {"usage": F(0.64), "count": I(3), "ok": B(True), "msg": S("fine")}, 1556813561098000000)),
    (r'my\ Measurement,tag\ Key1=tag\ Value1,tag\ Key2=tag\ Value2 fieldKey=100',
     P("my Measurement", {"tag Key1": "tag Value1", "tag Key2": "tag Value2"}, {"fieldKey": F(100)})),
    (r'myMeasurement fieldKey="\"string\" within a string"',
     P("myMeasurement", {}, {"fieldKey": S('"string" within a string')})),
    ("myMeasurement,tagKey=🍭 fieldKey=\"Launch 🚀\" 1556813561098000000",
     P("myMeasurement", {"tagKey": "🍭"}, {"fieldKey": S("Launch 🚀")}, 1556813561098000000)),
]  # fmt: skip

CASES: list[Case] = MEASUREMENT + TAGS + FLOATS + INTEGERS + BOOLEANS + STRINGS + FIELDS
CASES += TIMESTAMPS + WHOLE

# (precision, timestamp text, expected ns or an error substring)
PRECISION_CASES: list[tuple[str, str, int | Err]] = [
    ("ns", "1", 1),
    ("n", "1", 1),
    ("us", "1", 1_000),
    ("u", "1", 1_000),
    ("µ", "1", 1_000),
    ("ms", "1", 1_000_000),
    ("s", "1", 1_000_000_000),
    ("m", "1", 60_000_000_000),
    ("h", "1", 3_600_000_000_000),
    ("s", "-1", -1_000_000_000),
    ("s", "1700000000", 1_700_000_000_000_000_000),
    ("ms", "1700000000123", 1_700_000_000_123_000_000),
    ("us", "1700000000123456", 1_700_000_000_123_456_000),
    ("s", str(T_MAX // 10**9), T_MAX // 10**9 * 10**9),
    ("s", str(T_MAX // 10**9 + 1), Err("time outside range")),
    ("s", str(-(T_MAX // 10**9) - 1), Err("time outside range")),
    ("ms", str(T_MAX // 10**6 + 1), Err("time outside range")),
    ("us", str(T_MAX // 10**3 + 1), Err("time outside range")),
    ("m", "153722867", 153722867 * 60_000_000_000),
    ("m", "153722868", Err("time outside range")),
    ("h", "2562047", 2562047 * 3_600_000_000_000),
    ("h", "2562048", Err("time outside range")),
    ("h", "-2562048", Err("time outside range")),
    ("h", "9223372036854775807", Err("time outside range")),
    # auto: |t| < 5e9 → s, < 5e12 → ms, < 5e15 → us, else ns
    ("auto", "0", 0),
    ("auto", "1", 1_000_000_000),
    ("auto", "1700000000", 1_700_000_000_000_000_000),
    ("auto", "-1700000000", -1_700_000_000_000_000_000),
    ("auto", "4999999999", 4_999_999_999_000_000_000),
    ("auto", "5000000000", 5_000_000_000_000_000),
    ("auto", "1700000000123", 1_700_000_000_123_000_000),
    ("auto", "4999999999999", 4_999_999_999_999_000_000),
    ("auto", "5000000000000", 5_000_000_000_000_000),
    ("auto", "1700000000123456", 1_700_000_000_123_456_000),
    ("auto", "4999999999999999", 4_999_999_999_999_999_000),
    ("auto", "5000000000000000", 5_000_000_000_000_000),
    ("auto", "1700000000123456789", 1_700_000_000_123_456_789),
    ("auto", "-1700000000123456789", -1_700_000_000_123_456_789),
    ("auto", "9223372036854775806", T_MAX),
    ("auto", "9223372036854775807", Err("time outside range")),
]
