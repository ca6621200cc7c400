"""Series index: keys, ids, predicates against a brute-force reference, limits, drops, persistence."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from columnar.batch import TagSet
from columnar.errors import CorruptData, SeriesLimitExceeded, StorageError
from columnar.index import SeriesIndex, parse_series_key, series_key
from columnar.predicate import AllSeries, And, Not, Or, TagEq, TagIn, TagNe, TagPredicate, TagRegex


def ts(**tags: str) -> TagSet:
    return tuple(sorted(tags.items()))


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SeriesIndex]:
    ix = SeriesIndex(tmp_path / "ix", database="db")
    yield ix
    ix.close()


def select(ix: SeriesIndex, table: str, predicate: TagPredicate | None = None) -> set[int]:
    got = ix.select(table, predicate)
    assert isinstance(got, BitMap)
    return set(got)


def log_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("series-*.log"))


# -- series keys -----------------------------------------------------------------------------------------
def test_series_key_is_line_protocol_with_sorted_tags() -> None:
    assert series_key("cpu", ts(region="eu", host="a")) == b"cpu,host=a,region=eu"
    assert series_key("cpu", ()) == b"cpu"
    assert series_key("cpu", (("host", "a"), ("rack", ""))) == b"cpu,host=a,rack="  # '' is a value
    assert parse_series_key(b"cpu,host=a,rack=") == ("cpu", (("host", "a"), ("rack", "")))
    assert parse_series_key(b"cpu,a\\ b=,rack=") == ("cpu", (("a b", ""), ("rack", "")))
    assert series_key("my cpu,x", ts(k="v")) == b"my\\ cpu\\,x,k=v"
    assert series_key("m=1", ts(**{"a b": "c,d", "e=f": "g=h"})) == b"m=1,a\\ b=c\\,d,e\\=f=g\\=h"
    assert series_key("m", ts(k="ends\\")) == b"m,k=ends\\\\"
    assert series_key("m", ts(k="ü")) == "m,k=ü".encode()


def test_parse_series_key_rejects_garbage() -> None:
    for bad in (b"m,k", b"m,k=v\\", b"m,k=a=b", b"m,k=v,"):
        with pytest.raises(ValueError):
            parse_series_key(bad)


name_text = st.text(st.sampled_from("ab,= \\é\t"), max_size=6) | st.text(
    st.characters(codec="utf-8"), max_size=8
)


@given(
    table=name_text,
    tags=st.dictionaries(name_text, name_text.filter(bool), max_size=5),
)
def test_series_key_round_trip(table: str, tags: dict[str, str]) -> None:
    tag_set = tuple(sorted(tags.items()))
    key = series_key(table, tag_set)
    assert parse_series_key(key) == (table, tag_set)
    assert series_key(table, tuple(reversed(tag_set))) == key  # order of the input does not matter


# -- resolve and lookup ------------------------------------------------------------------------------
def test_resolve_is_idempotent_and_dedupes(index: SeriesIndex) -> None:
    sets = [ts(host="a"), ts(host="b"), ts(host="a"), ts()]
    ids = index.resolve("cpu", sets)
    assert ids.dtype == np.int64
    assert ids.tolist() == [1, 2, 1, 3]
    assert index.resolve("cpu", sets).tolist() == [1, 2, 1, 3]
    assert index.resolve("mem", [ts(host="a")]).tolist() == [4]  # another table, another series
    assert index.resolve("cpu", []).tolist() == []
    assert index.lookup("cpu", ts(host="b")) == 2
    assert index.lookup("cpu", ts(host="zz")) is None
    assert index.lookup_many("cpu", [ts(host="zz"), ts(host="a")]).tolist() == [0, 1]
    assert index.series_count() == 4
    assert index.series_count("cpu") == 3
    assert index.tables() == ["cpu", "mem"]
    assert index.series_tags([2, 3, 4]) == [("cpu", ts(host="b")), ("cpu", ()), ("mem", ts(host="a"))]
    with pytest.raises(KeyError):
        index.series_tags([99])


def test_select_ids_follows_new_and_dropped_series(index: SeriesIndex) -> None:
    """select_ids keeps its answers only while the series stay as they were."""
    index.resolve("cpu", [ts(host="a", dc="x"), ts(host="b", dc="x")])
    in_x = TagEq("dc", "x")
    first = index.select_ids("cpu", in_x)
    assert first.tolist() == [1, 2] and not first.flags.writeable
    assert index.select_ids("cpu", in_x) is first  # unchanged: the same answer
    index.resolve("cpu", [ts(host="c", dc="x")])
    assert index.select_ids("cpu", in_x).tolist() == [1, 2, 3]
    index.drop_series([2])
    assert index.select_ids("cpu", in_x).tolist() == [1, 3]
    index.resolve("cpu", [ts(host="b", dc="x")])  # the same tags again: a new series
    assert index.select_ids("cpu", in_x).tolist() == [1, 3, 4]
    index.drop_table("cpu")
    assert index.select_ids("cpu", in_x).tolist() == []
    assert index.select_ids("cpu", None).tolist() == []


def test_resolve_normalises_tag_sets(index: SeriesIndex) -> None:
    a = index.resolve("cpu", [(("region", "eu"), ("host", "a"))])
    b = index.resolve("cpu", [(("host", "a"), ("region", "eu"))])
    assert a.tolist() == b.tolist()
    assert index.series_tags(a.tolist()) == [("cpu", ts(host="a", region="eu"))]
    assert index.tag_keys("cpu") == ["host", "region"]
    # a tag whose value is '' (SQL) is another series than one without the tag (NULL)
    c = index.resolve("cpu", [(("host", "a"), ("rack", ""), ("region", "eu"))])
    assert c.tolist() != a.tolist()
    assert index.series_tags(c.tolist()) == [("cpu", (("host", "a"), ("rack", ""), ("region", "eu")))]
    assert index.tag_keys("cpu") == ["host", "rack", "region"]


def test_ids_stable_across_reopen(tmp_path: Path) -> None:
    sets = [ts(host=f"h{i}", dc=f"d{i % 3}") for i in range(500)]
    with SeriesIndex(tmp_path) as ix:
        first = ix.resolve("cpu", sets)
    with SeriesIndex(tmp_path) as ix:  # from the snapshot
        assert ix.resolve("cpu", sets).tolist() == first.tolist()
        assert ix.resolve("cpu", [ts(host="new")]).tolist() == [501]
        ix.sync()
        shutil.copytree(tmp_path, tmp_path.parent / "crashed")  # as if the process died here
    with SeriesIndex(tmp_path.parent / "crashed") as ix:  # snapshot + log replay
        assert ix.lookup("cpu", ts(host="new")) == 501
        assert ix.resolve("cpu", sets).tolist() == first.tolist()
        assert select(ix, "cpu", TagEq("dc", "d1")) == {int(i) for i in first[1::3]}


def test_log_only_reopen_without_snapshot(tmp_path: Path) -> None:
    ix = SeriesIndex(tmp_path, snapshot_log_bytes=1 << 40)
    ids = ix.resolve("cpu", [ts(host=f"h{i}", os="linux") for i in range(100)])
    ix.drop_series([5])
    ix.sync()
    shutil.copytree(tmp_path, tmp_path.parent / "copy")
    ix.close()
    assert not (tmp_path.parent / "copy" / "series.snap").exists()
    with SeriesIndex(tmp_path.parent / "copy") as re_ix:
        assert select(re_ix, "cpu", TagEq("os", "linux")) == set(ids.tolist()) - {5}
        assert re_ix.lookup("cpu", ts(host="h4", os="linux")) is None


def test_sync_takes_snapshot_when_log_is_large(tmp_path: Path) -> None:
    with SeriesIndex(tmp_path, snapshot_log_bytes=2000) as ix:
        for n in range(10):
            ix.resolve("cpu", [ts(host=f"h{n}-{i}") for i in range(20)])
            ix.sync()
        assert (tmp_path / "series.snap").exists()
        assert len(log_files(tmp_path)) == 1
        assert os.path.getsize(log_files(tmp_path)[0]) <= 2000 + 600
    with SeriesIndex(tmp_path) as ix:
        assert ix.series_count() == 200
        assert ix.lookup("cpu", ts(host="h9-19")) == 200


def test_concurrent_resolve_agrees(tmp_path: Path) -> None:
    sets = [ts(host=f"h{i}") for i in range(2000)]
    results: list[list[int]] = []
    with SeriesIndex(tmp_path) as ix:

        def work(seed: int) -> None:
            order = np.random.default_rng(seed).permutation(len(sets))
            got = {}
            for chunk in np.array_split(order, 20):
                for i, sid in zip(chunk, ix.resolve("cpu", [sets[i] for i in chunk]), strict=True):
                    got[int(i)] = int(sid)
            results.append([got[i] for i in range(len(sets))])

        threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ix.series_count() == 2000
    assert len(results) == 4 and all(r == results[0] for r in results)
    assert sorted(results[0]) == list(range(1, 2001))


# -- predicates ----------------------------------------------------------------------------------------
def test_missing_tag_semantics(index: SeriesIndex) -> None:
    a, b, c = index.resolve("cpu", [ts(host="a", dc="x"), ts(host="b"), ts(dc="y")]).tolist()
    assert select(index, "cpu", TagEq("dc", "")) == {b}
    assert select(index, "cpu", TagNe("dc", "")) == {a, c}
    assert select(index, "cpu", TagNe("dc", "x")) == {b, c}
    assert select(index, "cpu", TagIn("dc", frozenset({"", "y"}))) == {b, c}
    assert select(index, "cpu", TagRegex("dc", "^$")) == {b}
    assert select(index, "cpu", TagRegex("dc", "x", negate=True)) == {b, c}
    assert select(index, "cpu", TagRegex("dc", ".*")) == {a, b, c}  # "" matches too
    assert select(index, "cpu", TagEq("nosuch", "")) == {a, b, c}
    assert select(index, "cpu", TagNe("nosuch", "v")) == {a, b, c}
    assert select(index, "cpu", TagEq("nosuch", "v")) == set()
    assert select(index, "cpu", Not(TagEq("host", "a"))) == {b, c}
    assert select(index, "cpu", And(())) == {a, b, c}
    assert select(index, "cpu", Or(())) == set()
    assert select(index, "cpu", None) == select(index, "cpu", AllSeries()) == {a, b, c}
    assert select(index, "nosuch", AllSeries()) == set()
    assert index.tag_values("cpu", "dc") == ["x", "y"]
    assert index.tag_values("cpu", "dc", TagEq("host", "")) == ["y"]
    assert index.tag_values("cpu", "nosuch") == []
    # a value that is '' compares as a missing tag does (InfluxDB's semantics), in every predicate
    (e,) = index.resolve("cpu", [ts(host="e", dc="")]).tolist()
    assert select(index, "cpu", TagEq("dc", "")) == {b, e}
    assert select(index, "cpu", TagNe("dc", "")) == {a, c}
    assert select(index, "cpu", TagIn("dc", frozenset({""}))) == {b, e}
    assert select(index, "cpu", TagRegex("dc", "^$")) == {b, e}
    assert select(index, "cpu", TagRegex("dc", "^$", negate=True)) == {a, c}


def test_select_returns_a_copy(index: SeriesIndex) -> None:
    index.resolve("cpu", [ts(dc="x"), ts(dc="x", host="h")])
    got = index.select("cpu", TagEq("dc", "x"))
    got.clear()
    index.select("cpu").clear()
    assert select(index, "cpu", TagEq("dc", "x")) == {1, 2}
    assert select(index, "cpu") == {1, 2}


def test_regex_runs_once_per_distinct_value(index: SeriesIndex) -> None:
    index.resolve("cpu", [ts(host=f"h{i}", dc=f"d{i % 4}") for i in range(1000)])
    calls: list[str] = []

    pred = TagRegex("dc", "^d[12]$")
    search = pred.compiled.search

    class Spy:
        def search(self, s: str) -> object:
            calls.append(s)
            return search(s)

    object.__setattr__(pred, "compiled", Spy())
    assert len(select(index, "cpu", pred)) == 500
    assert sorted(calls) == ["", "d0", "d1", "d2", "d3"]


KEYS = ("a", "b", "c")
VALUES = ("x", "y", "x y", "z,w", "x=1")
values_or_empty = st.sampled_from(("",) + VALUES + ("nope",))
leaf = st.one_of(
    st.builds(TagEq, st.sampled_from(KEYS), values_or_empty),
    st.builds(TagNe, st.sampled_from(KEYS), values_or_empty),
    st.builds(TagIn, st.sampled_from(KEYS), st.frozensets(values_or_empty, max_size=3)),
    st.builds(
        TagRegex,
        st.sampled_from(KEYS),
        st.sampled_from(("^x", "y$", "^$", "z", ".", "x|y", "^x y$", "=")),
        st.booleans(),
    ),
    st.just(AllSeries()),
)
predicates = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(And, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Not, inner),
    ),
    max_leaves=8,
)
tag_dicts = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


def matches(p: TagPredicate, tags: dict[str, str]) -> bool:
    """The reference: InfluxDB semantics, one series at a time."""
    if isinstance(p, TagEq):
        return tags.get(p.key, "") == p.value
    if isinstance(p, TagNe):
        return tags.get(p.key, "") != p.value
    if isinstance(p, TagIn):
        return tags.get(p.key, "") in p.values
    if isinstance(p, TagRegex):
        return (p.compiled.search(tags.get(p.key, "")) is not None) != p.negate
    if isinstance(p, And):
        return all(matches(q, tags) for q in p.parts)
    if isinstance(p, Or):
        return any(matches(q, tags) for q in p.parts)
    if isinstance(p, Not):
        return not matches(p.part, tags)
    assert isinstance(p, AllSeries)
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=st.lists(st.tuples(st.sampled_from(("cpu", "mem")), tag_dicts), max_size=40),
    preds=st.lists(predicates, min_size=1, max_size=4),
    drop=st.sets(st.integers(1, 40), max_size=10),
    chunk=st.integers(1, 8),
)
def test_select_matches_reference(
    series: list[tuple[str, dict[str, str]]], preds: list[TagPredicate], drop: set[int], chunk: int
) -> None:
    with tempfile.TemporaryDirectory() as d:
        ix = SeriesIndex(d)
        live: dict[int, tuple[str, dict[str, str]]] = {}
        for start in range(0, len(series), chunk):  # several series per resolve(), one table each
            for table in ("cpu", "mem"):
                part = [tags for t, tags in series[start : start + chunk] if t == table]
                for tags, sid in zip(
                    part, ix.resolve(table, [ts(**tags) for tags in part]).tolist(), strict=True
                ):
                    live[sid] = (table, tags)
        ix.drop_series(drop)
        for sid in drop:
            live.pop(sid, None)

        def check(index: SeriesIndex) -> None:
            for table in ("cpu", "mem"):
                rows = {sid: tags for sid, (t, tags) in live.items() if t == table}
                for p in preds:
                    want = {sid for sid, tags in rows.items() if matches(p, tags)}
                    assert select(index, table, p) == want, p
                    for key in KEYS:
                        values = {tags[key] for sid, tags in rows.items() if sid in want and key in tags}
                        assert index.tag_values(table, key, p) == sorted(values)
                assert index.tag_keys(table) == sorted({k for tags in rows.values() for k in tags})
                assert index.series_count(table) == len(rows)

        check(ix)
        ix.close()
        with SeriesIndex(d) as reopened:  # the snapshot restores the same inverted index
            check(reopened)


# -- limits -----------------------------------------------------------------------------------------
def test_series_limit_is_all_or_nothing(tmp_path: Path) -> None:
    with SeriesIndex(tmp_path, database="telemetry", series_limit=5) as ix:
        ix.resolve("cpu", [ts(host=f"h{i}") for i in range(3)])
        batch = [ts(host="h0"), ts(host="n1"), ts(host="n2"), ts(host="n3"), ts(host="n1")]
        with pytest.raises(SeriesLimitExceeded) as err:
            ix.resolve("cpu", batch)
        assert err.value.dropped == 3 and err.value.limit == 5 and err.value.database == "telemetry"
        assert '"telemetry"' in str(err.value) and "5 series" in str(err.value)
        assert ix.series_count() == 3  # nothing was created
        assert ix.lookup_many("cpu", batch).tolist() == [1, 0, 0, 0, 0]
        assert ix.resolve("cpu", batch[:3]).tolist() == [1, 4, 5]  # exactly up to the limit is fine
        ix.drop_series([4])
        assert ix.resolve("mem", [ts()]).tolist() == [6]  # dropping frees room; ids are not reused
    with SeriesIndex(tmp_path, series_limit=5) as ix:
        assert ix.series_count() == 5
        assert ix.lookup("cpu", ts(host="n1")) is None


# -- drops ------------------------------------------------------------------------------------------
def test_drop_series_and_table(tmp_path: Path) -> None:
    with SeriesIndex(tmp_path) as ix:
        ids = ix.resolve("cpu", [ts(host="a", dc="x"), ts(host="b", dc="x"), ts(host="c", rack="1")])
        ix.resolve("mem", [ts(host="a")])
        ix.drop_series(np.array([ids[0], 99, 0]))
        assert select(ix, "cpu", TagEq("dc", "x")) == {2}
        assert ix.lookup("cpu", ts(host="a", dc="x")) is None
        ix.drop_series([3])
        assert ix.tag_keys("cpu") == ["dc", "host"]  # rack is gone with its last series
        assert ix.tag_values("cpu", "host") == ["b"]
        assert ix.resolve("cpu", [ts(host="a", dc="x")]).tolist() == [5]  # a new id
        ix.drop_table("cpu")
        ix.drop_table("nosuch")
        assert ix.tables() == ["mem"]
        assert select(ix, "cpu") == set() and ix.tag_keys("cpu") == []
        assert ix.series_count() == 1
        with pytest.raises(KeyError):
            ix.series_tags([2])
        ix.sync()
        shutil.copytree(tmp_path, tmp_path.parent / "replayed")
    for d in (tmp_path, tmp_path.parent / "replayed"):  # snapshot, and log replay
        with SeriesIndex(d) as ix:
            assert ix.tables() == ["mem"] and ix.series_count() == 1
            assert ix.resolve("cpu", [ts(host="a", dc="x")]).tolist() == [6]


def test_closed_index_refuses_writes(tmp_path: Path) -> None:
    ix = SeriesIndex(tmp_path)
    with pytest.raises(StorageError, match="already open"):
        SeriesIndex(tmp_path)
    ix.close()
    ix.close()
    with pytest.raises(StorageError, match="closed"):
        ix.resolve("cpu", [ts(host="a")])


# -- corruption -------------------------------------------------------------------------------------
def crashed_copy(tmp_path: Path) -> tuple[Path, list[int]]:
    """A directory holding a snapshot of 10 series and a synced log of 2 batches of 5 more."""
    src = tmp_path / "src"
    ix = SeriesIndex(src)
    ids = ix.resolve("cpu", [ts(host=f"h{i}") for i in range(10)]).tolist()
    ix.snapshot()
    ids += ix.resolve("cpu", [ts(host=f"g{i}") for i in range(5)]).tolist()
    ids += ix.resolve("cpu", [ts(host=f"k{i}") for i in range(5)]).tolist()
    ix.sync()
    dst = tmp_path / "dst"
    shutil.copytree(src, dst)
    ix.close()
    return dst, ids


@pytest.mark.parametrize("damage", ["garbage", "cut", "flip"])
def test_corrupt_log_tail_is_truncated(tmp_path: Path, damage: str) -> None:
    d, ids = crashed_copy(tmp_path)
    (log,) = log_files(d)
    data = bytearray(log.read_bytes())
    if damage == "garbage":
        data += b"\x07\x00\x00\x00junk"
        keep = 20
    elif damage == "cut":
        data = data[:-3]
        keep = 15
    else:
        data[-2] ^= 0x40
        keep = 15
    log.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="truncated"):
        ix = SeriesIndex(d)
    with ix:
        assert ix.series_count() == keep
        assert select(ix, "cpu") == set(ids[:keep])
        assert ix.resolve("cpu", [ts(host="after")]).tolist() == [keep + 1]
    with SeriesIndex(d) as ix:  # no warning the second time; the new series survived
        assert ix.lookup("cpu", ts(host="after")) == keep + 1


def test_corrupt_snapshot_raises(tmp_path: Path) -> None:
    d, _ = crashed_copy(tmp_path)
    snap = d / "series.snap"
    good = snap.read_bytes()
    for bad in (
        good[:100] + bytes([good[100] ^ 1]) + good[101:],  # a flipped bit
        good[: len(good) // 2],  # cut short
        b"",
        b"not a snapshot at all, no",
    ):
        snap.write_bytes(bad)
        with pytest.raises(CorruptData) as err:
            SeriesIndex(d)
        assert "series.snap" in str(err.value)


def test_log_not_covered_by_snapshot_raises(tmp_path: Path) -> None:
    d, _ = crashed_copy(tmp_path)
    (d / "series.snap").unlink()  # the log continues from id 11: without the snapshot that is a gap
    with pytest.raises(CorruptData, match="expected 1"):
        SeriesIndex(d)


# -- cardinality estimate ------------------------------------------------------------------------------
def test_hll_estimate_close_to_exact(tmp_path: Path) -> None:
    with SeriesIndex(tmp_path, series_limit=200_000) as ix:
        assert ix.estimate_series_cardinality() == 0
        ix.resolve("one", [ts(host="x")])
        assert ix.estimate_series_cardinality("one") == 1
        ix.resolve("cpu", [ts(host=f"host_{i}", region=f"r{i % 7}") for i in range(100_000)])
        ix.resolve("mem", [ts(host=f"host_{i}") for i in range(1000)])
        for table, exact in ((None, 101_001), ("cpu", 100_000), ("mem", 1000)):
            est = ix.estimate_series_cardinality(table)
            assert abs(est - exact) / exact < 0.03, (table, est)
        ix.drop_table("cpu")
        assert abs(ix.estimate_series_cardinality() - 1001) < 30  # drops are reflected


# -- tag renames -------------------------------------------------------------------------------------------
def test_rename_tag_keeps_ids_and_renames_keys(tmp_path: Path) -> None:
    ix = SeriesIndex(tmp_path / "ix", snapshot_log_bytes=1 << 40)
    ids = ix.resolve("cpu", [ts(host=f"h{i}", dc=f"d{i % 3}") for i in range(30)]).tolist()
    other = ix.resolve("mem", [ts(host="h1")]).tolist()
    ix.resolve("cpu", [ts(dc="d9")])  # a series without the tag
    assert select(ix, "cpu", TagEq("host", "h4")) == {ids[4]}  # (an answer select_ids keeps)
    assert ix.select_ids("cpu", TagEq("host", "h4")).tolist() == [ids[4]]
    ix.rename("cpu", [("host", "name")], 1)
    assert ix.renamed == 1
    assert ix.tag_keys("cpu") == ["dc", "name"]
    assert ix.tag_keys("mem") == ["host"]  # another table's tag of that name stays
    assert ix.select_ids("cpu", TagEq("host", "h4")).tolist() == []
    assert ix.select_ids("cpu", TagEq("name", "h4")).tolist() == [ids[4]]
    assert ix.lookup("cpu", ts(name="h4", dc="d1")) == ids[4]
    assert ix.lookup("cpu", ts(host="h4", dc="d1")) is None
    assert ix.series_tags([ids[5]]) == [("cpu", (("dc", "d2"), ("name", "h5")))]
    assert ix.resolve("cpu", [ts(name="h7", dc="d1")]).tolist() == [ids[7]]  # the same series
    assert ix.resolve("cpu", [ts(host="h7", dc="d1")]).tolist() == [33]  # a new tag key: a new series
    assert ix.lookup("mem", ts(host="h1")) == other[0]
    assert ix.estimate_series_cardinality("cpu") == 32
    ix.rename("cpu", [("host", "name")], 1)  # applied already (by id): nothing happens
    assert ix.tag_keys("cpu") == ["dc", "host", "name"]
    ix.sync()
    shutil.copytree(tmp_path / "ix", tmp_path / "crashed")  # log replay (no snapshot)
    ix.close()  # snapshot
    for path in (tmp_path / "ix", tmp_path / "crashed"):
        with SeriesIndex(path) as again:
            assert again.renamed == 1
            assert again.lookup("cpu", ts(name="h4", dc="d1")) == ids[4]
            assert again.tag_values("cpu", "name") == sorted(f"h{i}" for i in range(30))
            assert again.tag_values("cpu", "host") == ["h7"]
            assert select(again, "cpu", TagEq("name", "")) == {32, 33}


def test_rename_tag_refuses_a_taken_key(index: SeriesIndex) -> None:
    index.resolve("cpu", [ts(host="a", dc="x"), ts(host="b")])
    with pytest.raises(StorageError, match="already exists"):
        index.rename("cpu", [("host", "dc")], 1)
    with pytest.raises(StorageError, match="already exists"):  # all or nothing over the steps
        index.rename("cpu", [("host", "h2"), ("dc", "h2")], 1)
    assert index.renamed == 0 and index.tag_keys("cpu") == ["dc", "host"]
    # moving a key aside first, then taking its name
    index.rename("cpu", [("dc", "dc~1"), ("host", "dc")], 2)
    assert index.series_tags([1, 2]) == [("cpu", (("dc", "a"), ("dc~1", "x"))), ("cpu", (("dc", "b"),))]
    index.rename("nosuch", [("a", "b")], 3)  # a table without series: only remembered
    assert index.renamed == 3


# -- measurement renames -----------------------------------------------------------------------------------
def test_rename_measurement_keeps_ids_and_renames_keys(tmp_path: Path) -> None:
    ix = SeriesIndex(tmp_path / "ix", snapshot_log_bytes=1 << 40)
    ids = ix.resolve("cpu", [ts(host=f"h{i}", dc=f"d{i % 3}") for i in range(30)]).tolist()
    other = ix.resolve("mem", [ts(host="h1")]).tolist()
    assert ix.select_ids("cpu", TagEq("host", "h4")).tolist() == [ids[4]]
    with pytest.raises(StorageError, match="already has series"):
        ix.rename("cpu", [], 1, to="mem")
    assert ix.renamed == 0
    ix.rename("cpu", [], 1, to="cpu two")  # (a name line protocol escapes)
    assert ix.renamed == 1
    assert ix.tables() == ["cpu two", "mem"]
    assert ix.select_ids("cpu", TagEq("host", "h4")).tolist() == []  # (select_ids' answers dropped)
    assert ix.select_ids("cpu two", TagEq("host", "h4")).tolist() == [ids[4]]
    assert ix.series_tags([ids[5]]) == [("cpu two", (("dc", "d2"), ("host", "h5")))]
    assert ix.resolve("cpu two", [ts(host="h7", dc="d1")]).tolist() == [ids[7]]  # the same series
    assert ix.resolve("cpu", [ts(host="h7", dc="d1")]).tolist() == [32]  # the old name: a new series
    assert ix.lookup("mem", ts(host="h1")) == other[0]
    assert ix.series_count("cpu two") == 30 and ix.series_count("cpu") == 1
    ix.rename("cpu", [], 1, to="cpu two")  # applied already (by id): nothing happens
    assert ix.series_count("cpu") == 1
    ix.sync()
    shutil.copytree(tmp_path / "ix", tmp_path / "crashed")  # log replay (no snapshot)
    ix.close()  # snapshot
    for path in (tmp_path / "ix", tmp_path / "crashed"):
        with SeriesIndex(path) as again:
            assert again.renamed == 1
            assert again.tables() == ["cpu", "cpu two", "mem"]
            assert again.lookup("cpu two", ts(host="h4", dc="d1")) == ids[4]
            assert again.tag_values("cpu two", "host") == sorted(f"h{i}" for i in range(30))
            assert select(again, "cpu", TagEq("host", "h7")) == {32}
