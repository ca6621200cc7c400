"""Benchmark data generators: determinism, TSBS shape, and that every text form says the same as the batch."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import numpy as np
import pytest

from bench import datagen
from bench.__main__ import main as bench_main
from bench.datagen import (
    CPU_FIELDS,
    DEFAULT_START_NS,
    DEVOPS_REGIONS,
    DevopsCpu,
    IotSensors,
    clamped_walk,
    format_csv,
    format_line_protocol,
    make_generator,
    rfc3339_text,
)
from columnar.batch import WriteBatch
from columnar.types import NS_PER_SECOND, FieldType

TEN_S = 10 * NS_PER_SECOND


def collect(gen, chunk_rows=1000):
    """All batches of a generator glued into (time, series, {field: values})."""
    batches = list(gen.batches(chunk_rows))
    time = np.concatenate([b.time for b in batches])
    series = np.concatenate([b.series for b in batches])
    fields = {name: np.concatenate([b.fields[name].values for b in batches]) for name in gen.field_types}
    return time, series, fields


def assert_same(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2].keys() == b[2].keys()
    for name in a[2]:
        np.testing.assert_array_equal(a[2][name], b[2][name])


# -- a tiny line-protocol reader (enough for generated data: no escapes, no string fields) ----------------
LINE = re.compile(r"^(?P<series>[^ ]+) (?P<fields>[^ ]+) (?P<ts>-?\d+)$")


def parse_lp(text: bytes):
    assert text.endswith(b"\n")
    rows = []
    for line in text.decode().split("\n")[:-1]:
        m = LINE.match(line)
        assert m, line
        measurement, *tags = m["series"].split(",")
        fields = {}
        for pair in m["fields"].split(","):
            key, raw = pair.split("=", 1)
            if re.fullmatch(r"-?\d+i", raw):
                fields[key] = int(raw[:-1])
            elif raw in ("true", "false"):
                fields[key] = raw == "true"
            else:
                assert re.fullmatch(r"-?\d+(\.\d+)?(e[+-]?\d+)?", raw), raw
                fields[key] = float(raw)
        rows.append((measurement, [tuple(t.split("=", 1)) for t in tags], fields, int(m["ts"])))
    return rows


def assert_lp_matches(gen, batch, text):
    rows = parse_lp(text)
    assert len(rows) == len(batch)
    for i, (measurement, tags, fields, ts) in enumerate(rows):
        s = int(batch.series[i])
        assert measurement == gen.table
        assert tags == list(zip(gen.tag_keys, gen.series_tags[s], strict=True))  # TSBS tag order
        assert sorted(tags) == list(batch.tag_sets[s])
        assert ts == batch.time[i]
        assert list(fields) == list(gen.field_types)
        for name, value in fields.items():
            expected = batch.fields[name].values[i]
            assert (
                type(value)
                is {FieldType.INTEGER: int, FieldType.FLOAT: float, FieldType.BOOLEAN: bool}[
                    gen.field_types[name]
                ]
            )
            assert value == expected, (name, value, expected)


# -- clamped walk -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("ticks,width", [(1, 3), (50, 2), (3000, 3), (997, 40)])
def test_clamped_walk_matches_the_plain_recurrence(ticks, width):
    rng = np.random.default_rng(ticks)
    steps = rng.integers(-30, 31, size=(ticks, width)).astype(np.int64)
    lo = np.array([0, -5, 10] * width)[:width]
    hi = lo + 60
    start = lo + rng.integers(0, 61, size=width)
    expected = np.empty_like(steps)
    x = start.copy()
    for t in range(ticks):
        x = np.minimum(np.maximum(x + steps[t], lo), hi)
        expected[t] = x
    state = start.copy()
    clamped_walk(state, steps, lo, hi)  # in place; long narrow inputs take the segmented route
    np.testing.assert_array_equal(steps, expected)
    np.testing.assert_array_equal(state, expected[-1])


# -- devops -----------------------------------------------------------------------------------------------
def test_devops_is_deterministic_by_seed():
    a = collect(DevopsCpu(5, hours=1, seed=7))
    b = collect(DevopsCpu(5, hours=1, seed=7))
    c = collect(DevopsCpu(5, hours=1, seed=8))
    assert_same(a, b)
    assert not np.array_equal(a[2]["usage_user"], c[2]["usage_user"])
    assert DevopsCpu(5, hours=1, seed=7).series_tags == DevopsCpu(5, hours=1, seed=7).series_tags


def test_devops_chunk_size_does_not_change_the_data():
    gen = DevopsCpu(3, hours=2)  # 720 ticks; big chunks walk in segments, tiny ones row by row
    reference = collect(gen, chunk_rows=gen.n_rows)
    for chunk in (1, 7, 300, 1001):
        assert_same(collect(gen, chunk), reference)
    sizes = [len(b) for b in gen.batches(1001)]
    assert sizes[:-1] == [1001] * (len(sizes) - 1) and sum(sizes) == gen.n_rows


def test_devops_shape_time_major_ten_second_ticks():
    hosts = 4
    gen = DevopsCpu(hosts, hours=1)
    assert gen.n_ticks == 360 and gen.n_rows == 1440
    time, series, fields = collect(gen, chunk_rows=333)
    rows = np.arange(gen.n_rows)
    np.testing.assert_array_equal(time, DEFAULT_START_NS + (rows // hosts) * TEN_S)
    np.testing.assert_array_equal(series, rows % hosts)
    assert datetime.fromtimestamp(time[0] / 1e9, UTC) == datetime(2016, 1, 1, tzinfo=UTC)
    assert list(fields) == list(CPU_FIELDS)
    for name, values in fields.items():
        assert values.dtype == np.int64, name
        assert values.min() >= 0 and values.max() <= 100, name
        # a random walk of N(0, 1) steps, truncated: neighbours in time differ by a few units at most
        per_host = values.reshape(-1, hosts)
        assert np.abs(np.diff(per_host, axis=0)).max() <= 7, name


def test_devops_counts_whole_intervals_and_hours_equal_end():
    by_hours = DevopsCpu(2, hours=0.5)
    by_end = DevopsCpu(2, end_ns=DEFAULT_START_NS + 1800 * NS_PER_SECOND)
    assert by_hours.n_ticks == by_end.n_ticks == 180
    assert_same(collect(by_hours), collect(by_end))
    assert DevopsCpu(2, end_ns=DEFAULT_START_NS + 25 * NS_PER_SECOND).n_ticks == 2  # whole intervals, as TSBS
    assert list(DevopsCpu(2, end_ns=DEFAULT_START_NS).batches()) == []
    with pytest.raises(ValueError):
        DevopsCpu(2, hours=1, end_ns=DEFAULT_START_NS)


def test_devops_host_tags_follow_tsbs_and_are_stable():
    gen = DevopsCpu(60, hours=0.1, seed=3)
    for i, tags in enumerate(gen.series_tags):
        t = dict(zip(gen.tag_keys, tags, strict=True))
        assert t["hostname"] == f"host_{i}"
        assert t["datacenter"] in DEVOPS_REGIONS[t["region"]]
        assert 0 <= int(t["rack"]) < 100 and 0 <= int(t["service"]) < 20
        assert t["service_version"] in ("0", "1")
        assert t["os"] in ("Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10")
        assert t["arch"] in ("x64", "x86") and t["team"] in ("SF", "NYC", "LON", "CHI")
        assert t["service_environment"] in ("production", "staging", "test")
    assert len({tags[1] for tags in gen.series_tags}) > 5  # regions really vary
    # a host keeps its tags whatever the scale, and every batch shares the one tag-set list
    assert DevopsCpu(10, hours=0.1, seed=3).series_tags == gen.series_tags[:10]
    batches = list(gen.batches(50))
    assert all(b.tag_sets is gen.tag_sets for b in batches)
    assert all(list(ts) == sorted(ts) for ts in gen.tag_sets)


def test_devops_first_tick_holds_each_walks_start():
    a = collect(DevopsCpu(3, end_ns=DEFAULT_START_NS + TEN_S))  # a single tick
    b = collect(DevopsCpu(3, hours=1))
    for name in CPU_FIELDS:
        np.testing.assert_array_equal(a[2][name], b[2][name][:3])


def test_devops_line_protocol_parses_back_to_the_batch():
    gen = DevopsCpu(3, hours=0.05)
    batches = list(gen.batches(7))
    text = b"".join(gen.line_protocol(7))
    assert text == b"".join(format_line_protocol(b, gen.lp_prefixes) for b in batches)
    assert text.count(b"\n") == gen.n_rows
    first = text.split(b"\n", 1)[0].decode()
    assert first.startswith("cpu,hostname=host_0,region=")
    assert re.search(
        r" usage_user=\d+i,usage_system=\d+i,.*,usage_guest_nice=\d+i 1451606400000000000$", first
    )
    for batch in batches:
        assert_lp_matches(gen, batch, format_line_protocol(batch, gen.lp_prefixes))
    buf = format_line_protocol(batches[0], gen.lp_prefixes, copy=False)
    assert bytes(memoryview(buf)) == format_line_protocol(batches[0], gen.lp_prefixes)


def test_devops_batches_survive_the_wal_encoding():
    batch = next(DevopsCpu(3, hours=0.05).batches(10))
    again = WriteBatch.from_bytes(batch.to_bytes())
    assert again.tag_sets == batch.tag_sets
    np.testing.assert_array_equal(again.time, batch.time)
    np.testing.assert_array_equal(again.fields["usage_idle"].values, batch.fields["usage_idle"].values)


def test_devops_csv_in_rfc3339_and_ns():
    gen = DevopsCpu(2, hours=0.01)
    text = b"".join(gen.csv(chunk_rows=4)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time", *gen.tag_keys, *CPU_FIELDS]
    time, series, fields = collect(gen)
    assert len(rows) == 1 + gen.n_rows
    for i, row in enumerate(rows[1:]):
        expected = datetime.fromtimestamp(int(time[i]) // NS_PER_SECOND, UTC)
        assert row[0] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert row[1:11] == list(gen.series_tags[series[i]])
        assert [int(v) for v in row[11:]] == [int(fields[f][i]) for f in CPU_FIELDS]
    ns = b"".join(gen.csv(time_format="ns", header=False)).decode().splitlines()
    assert [int(line.split(",")[0]) for line in ns] == time.tolist()


def test_timescale_layout_follows_tsbs(tmp_path):
    gen = DevopsCpu(3, hours=0.01)
    paths = datagen.write_timescale(gen, tmp_path / "ts", chunk_rows=4)
    schema = paths["schema"].read_text()
    tag_cols = ", ".join(f"{k} TEXT" for k in gen.tag_keys)
    assert f"CREATE TABLE tags(id SERIAL PRIMARY KEY, {tag_cols});" in schema
    fields = ", ".join(f"{f} DOUBLE PRECISION" for f in CPU_FIELDS)
    assert f"CREATE TABLE cpu (time timestamptz, tags_id integer, {fields}, additional_tags JSONB" in schema
    assert "create_hypertable('cpu'" in schema and "chunk_time_interval => 43200000000" in schema
    tags = list(csv.reader(io.StringIO(paths["tags"].read_text())))
    assert tags[0] == ["id", *gen.tag_keys]
    assert tags[1:] == [[str(i + 1), *t] for i, t in enumerate(gen.series_tags)]
    rows = list(csv.reader(io.StringIO(paths["rows"].read_text())))
    assert rows[0] == ["time", "tags_id", *CPU_FIELDS]
    time, series, fields = collect(gen)
    assert [int(r[1]) for r in rows[1:]] == (series + 1).tolist()
    assert [int(r[2]) for r in rows[1:]] == fields["usage_user"].tolist()
    assert rows[1][0] == "2016-01-01T00:00:00Z"

    in_table = datagen.write_timescale(gen, tmp_path / "ts2", in_table_tag=True)
    assert "tags_id integer, hostname TEXT, usage_user DOUBLE PRECISION" in in_table["schema"].read_text()
    rows = list(csv.reader(io.StringIO(in_table["rows"].read_text())))
    assert rows[0][:3] == ["time", "tags_id", "hostname"] and rows[2][1:3] == ["2", "host_1"]


# -- iot --------------------------------------------------------------------------------------------------
def test_iot_values_decimals_counter_door_and_jitter():
    sensors = 5
    gen = IotSensors(sensors, hours=0.25, door_flip_probability=0.05, seed=11)
    time, series, f = collect(gen, chunk_rows=777)
    assert gen.n_rows == sensors * 900 and len(time) == gen.n_rows
    for name, places in (("temperature", 2), ("humidity", 3), ("pressure", 2)):
        v = f[name]
        assert v.dtype == np.float64
        np.testing.assert_array_equal(np.round(v * 10**places) / 10**places, v)  # exactly N decimals
    assert f["humidity"].min() >= 0 and f["humidity"].max() <= 100
    assert -40 <= f["temperature"].min() and f["temperature"].max() <= 85
    assert 870 <= f["pressure"].min() and f["pressure"].max() <= 1085
    # a walk, not noise: small moves between a sensor's neighbouring readings
    assert np.abs(np.diff(f["temperature"].reshape(-1, sensors), axis=0)).max() < 1

    counter = f["readings_total"].reshape(-1, sensors)
    assert counter.dtype == np.int64
    steps = np.diff(counter, axis=0)
    assert steps.min() >= 1 and steps.max() <= gen.counter_step_max

    door = f["door_open"].reshape(-1, sensors)
    assert door.dtype == np.bool_
    flips = np.diff(door.astype(np.int8), axis=0) != 0
    assert 0 < flips.sum() < flips.size * 0.15  # flips happen, rarely (p = 0.05 here)

    assert (time % 1_000_000 == 0).all()  # whole milliseconds
    ticks = DEFAULT_START_NS + np.repeat(np.arange(gen.n_ticks), sensors) * NS_PER_SECOND
    jitter = time - ticks
    assert jitter.min() >= 0 and jitter.max() <= gen.jitter_ms * 1_000_000 and len(np.unique(jitter)) > 50
    assert (np.diff(time.reshape(-1, sensors), axis=0) > 0).all()  # each sensor's clock moves forward
    np.testing.assert_array_equal(series, np.arange(gen.n_rows) % sensors)


def test_iot_is_deterministic_and_chunking_proof():
    gen = IotSensors(4, hours=0.2, seed=5)
    reference = collect(gen, chunk_rows=gen.n_rows)
    for chunk in (3, 64, 1000):
        assert_same(collect(gen, chunk), reference)
    assert_same(collect(IotSensors(4, hours=0.2, seed=5)), reference)
    other = collect(IotSensors(4, hours=0.2, seed=6))
    assert not np.array_equal(other[2]["temperature"], reference[2]["temperature"])
    assert IotSensors(2, hours=0.2, seed=5).series_tags == gen.series_tags[:2]


def test_iot_line_protocol_and_csv_parse_back():
    gen = IotSensors(3, hours=0.01, seed=2)
    for batch in gen.batches(20):
        assert_lp_matches(gen, batch, format_line_protocol(batch, gen.lp_prefixes))
    text = b"".join(gen.csv(chunk_rows=20)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time", "sensor_id", "location", *gen.field_types]
    time, series, f = collect(gen)
    for i, row in enumerate(rows[1:]):
        sec, ms = divmod(int(time[i]) // 1_000_000, 1000)
        stamp = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        assert row[0] == f"{stamp}.{ms:03d}Z"
        assert row[1:3] == list(gen.series_tags[series[i]])
        assert float(row[3]) == f["temperature"][i] and float(row[5]) == f["pressure"][i]
        assert int(row[6]) == f["readings_total"][i] and row[7] == str(bool(f["door_open"][i])).lower()


def test_iot_rejects_jitter_as_long_as_the_interval():
    with pytest.raises(ValueError):
        IotSensors(2, hours=1, interval_ns=100_000_000, jitter_ms=100)


# -- text forms of any batch ------------------------------------------------------------------------------
def test_line_protocol_of_a_general_batch_escapes_and_skips_missing_fields():
    batch = WriteBatch.from_rows(
        "my table",
        [1, 2, 3],
        tags=[{"b": "x y", "a": "1,2"}, {"a": "p=q"}, {"a": "p=q"}],
        fields={
            "f": [1.5, None, -2.0],
            "n": [None, 7, 8],
            "s": ['say "hi"', "back\\slash", None],
            "ok": [True, False, None],
        },
    )
    assert format_line_protocol(batch).decode().split("\n") == [
        r'my\ table,a=1\,2,b=x\ y f=1.5,s="say \"hi\"",ok=true 1',
        r'my\ table,a=p\=q n=7i,s="back\\slash",ok=false 2',
        r"my\ table,a=p\=q f=-2,n=8i 3",
        "",
    ]
    assert format_csv(batch, time_format="ns").decode().split("\n") == [
        '1,1.5,,"say ""hi""",true',
        "2,,7,back\\slash,false",
        "3,-2,8,,",
        "",
    ]


def test_rfc3339_text_matches_datetime():
    rng = np.random.default_rng(0)
    ns = rng.integers(0, 4_000_000_000, 200) * NS_PER_SECOND + rng.integers(0, NS_PER_SECOND, 200)
    for unit, digits in (("s", 0), ("ms", 3), ("us", 6), ("ns", 9)):
        got = rfc3339_text(ns, unit).to_pylist()
        for value, text in zip(ns.tolist(), got, strict=True):
            sec, sub = divmod(value, NS_PER_SECOND)
            stamp = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            frac = f".{sub // 10 ** (9 - digits):0{digits}d}" if digits else ""
            assert text == f"{stamp}{frac}Z"


# -- CLI --------------------------------------------------------------------------------------------------
def test_cli_gen_writes_what_the_api_yields(tmp_path, capsys):
    out = tmp_path / "cpu.lp"
    assert bench_main(["gen", "--kind", "devops", "--hosts", "3", "--hours", "0.1", "--seed", "4",
                       "--format", "lp", "--chunk-rows", "50", "--out", str(out)]) == 0  # fmt: skip
    assert out.read_bytes() == b"".join(DevopsCpu(3, hours=0.1, seed=4).line_protocol())
    assert "108 rows" in capsys.readouterr().err

    out = tmp_path / "iot.csv"
    end = "2016-01-01T00:01:00Z"
    assert bench_main(["gen", "--kind", "iot", "--sensors", "2", "--end", end, "--interval", "500ms",
                       "--format", "csv", "--out", str(out)]) == 0  # fmt: skip
    gen = make_generator(
        "iot", 2, end_ns=DEFAULT_START_NS + 60 * NS_PER_SECOND, interval_ns=NS_PER_SECOND // 2
    )
    assert out.read_bytes() == b"".join(gen.csv())

    assert bench_main(["gen", "--hosts", "2", "--hours", "0.01", "--format", "timescale",
                       "--out", str(tmp_path / "ts")]) == 0  # fmt: skip
    assert (tmp_path / "ts" / "cpu.csv").exists() and (tmp_path / "ts" / "schema.sql").exists()


def test_cli_rejects_unknown_commands_and_options():
    with pytest.raises(SystemExit):
        bench_main(["nosuch"])
    with pytest.raises(SystemExit):
        bench_main(["gen", "--kind", "nosuch"])
    with pytest.raises(SystemExit):
        bench_main(["gen", "--jitter-ms", "5"])  # devops has no jitter


def test_parse_helpers():
    assert datagen.parse_duration("10s") == TEN_S
    assert datagen.parse_duration("250ms") == 250_000_000
    assert datagen.parse_duration("1.5h") == 5400 * NS_PER_SECOND
    assert datagen.parse_duration("2") == 2 * NS_PER_SECOND
    assert datagen.parse_time("2016-01-01T00:00:00Z") == DEFAULT_START_NS
    assert datagen.parse_time("2016-01-01T00:00:01.5+00:00") == DEFAULT_START_NS + 1_500_000_000
    assert datagen.parse_time("123") == 123
