"""Storage engine behaviour: cache and chunk reads against a reference, last write wins, deletes,
compaction, WAL replay, schema errors, series limit, shards and retention."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from columnar.batch import WriteBatch
from columnar.catalog import Rename
from columnar.errors import (
    ColumnKindConflict,
    FieldTypeConflict,
    SeriesLimitExceeded,
    StorageError,
    TableNotFound,
)
from columnar.predicate import TagEq, TagIn, TagRegex
from columnar.scan import ScanRequest, last_rows, read_table
from columnar.types import NS_PER_DAY, NS_PER_SECOND, FieldType
from tests.columnar.conftest import Reference, engine_rows

T0 = 1_451_606_400 * NS_PER_SECOND  # 2016-01-01


def cpu_batch(
    rng: np.random.Generator, hosts: int, n: int, t0: int = T0, step: int = 10 * NS_PER_SECOND
) -> WriteBatch:
    host = rng.integers(0, hosts, n)
    time = t0 + rng.integers(0, n, n) * step
    tags = [{"host": f"h{h}", "region": f"r{h % 3}"} for h in host]
    fields = {
        "usage": rng.integers(0, 100, n).astype(np.int64),
        "temp": np.round(rng.normal(50, 10, n), 2),
        "ok": rng.random(n) < 0.5,
        "note": [f"n{int(x)}" if x % 4 else None for x in rng.integers(0, 20, n)],
    }
    return WriteBatch.from_rows("cpu", time, tags, fields, types={"note": FieldType.STRING})


def test_read_your_writes_then_flush_then_reopen(make_engine, tmp_path):
    rng = np.random.default_rng(1)
    ref = Reference()
    e = make_engine()
    for _ in range(5):
        b = cpu_batch(rng, 7, 3000)
        ref.write(b)
        e.write("postgres", b).check()
    assert engine_rows(e, "cpu") == ref.expected()  # from the memtable
    assert e.flush() >= 1
    assert engine_rows(e, "cpu") == ref.expected()  # from chunk files
    b = cpu_batch(rng, 9, 2000)  # overlaps the files: merged at read time
    ref.write(b)
    e.write("postgres", b).check()
    assert engine_rows(e, "cpu") == ref.expected()
    e.close()
    e2 = make_engine()  # files + WAL replay of the unflushed batch
    assert engine_rows(e2, "cpu") == ref.expected()
    e2.compact(full=True)
    assert engine_rows(e2, "cpu") == ref.expected()
    assert sum(len(s.table_files(e2.table(1, "autogen", "cpu").id)) for s in e2.shards()) == len(e2.shards())


def test_out_of_order_duplicates_and_partial_fields(make_engine):
    e = make_engine()
    tags = [{"host": "a"}]
    e.write(
        "postgres", WriteBatch.from_rows("m", [30, 10, 20], tags * 3, {"x": [3.0, 1.0, 2.0], "y": [1, 1, 1]})
    ).check()
    e.flush()
    # same times again: x rewritten at 10, y only at 20; a new point at 5
    e.write("postgres", WriteBatch.from_rows("m", [10, 5], tags * 2, {"x": [10.0, 0.5]})).check()
    e.write("postgres", WriteBatch.from_rows("m", [20], tags, {"y": [7]})).check()
    expected = {
        ((("host", "a"),), 5, (("x", 0.5),)),
        ((("host", "a"),), 10, (("x", 10.0), ("y", 1))),
        ((("host", "a"),), 20, (("x", 2.0), ("y", 7))),
        ((("host", "a"),), 30, (("x", 3.0), ("y", 1))),
    }
    assert engine_rows(e, "m") == expected
    e.flush()
    assert engine_rows(e, "m") == expected
    e.compact(full=True)
    assert engine_rows(e, "m") == expected


def test_time_range_and_tag_predicates(make_engine):
    rng = np.random.default_rng(2)
    ref = Reference()
    e = make_engine()
    b = cpu_batch(rng, 10, 5000)
    ref.write(b)
    e.write("postgres", b).check()
    e.flush()
    lo, hi = T0 + 1000 * 10 * NS_PER_SECOND, T0 + 2000 * 10 * NS_PER_SECOND
    assert engine_rows(e, "cpu", tmin=lo, tmax=hi) == ref.expected(lo, hi)
    pred = TagEq("region", "r1")
    assert engine_rows(e, "cpu", predicate=pred) == ref.expected(match=lambda t: t["region"] == "r1")
    pred2 = TagIn("host", frozenset({"h1", "h2"})) & TagRegex("region", "^r[12]$")
    assert engine_rows(e, "cpu", predicate=pred2, tmin=lo) == ref.expected(
        lo, match=lambda t: t["host"] in ("h1", "h2") and t["region"] in ("r1", "r2")
    )


def test_delete_in_cache_files_replay_and_compaction(make_engine):
    rng = np.random.default_rng(3)
    ref = Reference()
    e = make_engine()
    b1 = cpu_batch(rng, 6, 4000)
    ref.write(b1)
    e.write("postgres", b1).check()
    e.flush()
    b2 = cpu_batch(rng, 6, 4000)
    ref.write(b2)
    e.write("postgres", b2).check()
    lo, hi = T0 + 500 * 10 * NS_PER_SECOND, T0 + 3000 * 10 * NS_PER_SECOND
    e.delete("postgres", "cpu", tmin=lo, tmax=hi, predicate=TagEq("region", "r0"))
    ref.delete(lo, hi, lambda t: t["region"] == "r0")
    assert engine_rows(e, "cpu") == ref.expected()
    # a point written after the delete into the deleted range stays
    b3 = WriteBatch.from_rows("cpu", [lo + 1], [{"host": "h0", "region": "r0"}], {"usage": np.array([42])})
    ref.write(b3)
    e.write("postgres", b3).check()
    assert engine_rows(e, "cpu") == ref.expected()
    e.close()
    e2 = make_engine()
    assert engine_rows(e2, "cpu") == ref.expected()
    e2.flush()
    assert engine_rows(e2, "cpu") == ref.expected()
    e2.compact(full=True)
    assert engine_rows(e2, "cpu") == ref.expected()
    assert e2.catalog.tombstones() == []


def test_field_type_conflict_keeps_other_rows(make_engine):
    e = make_engine()
    e.write("postgres", WriteBatch.from_rows("m", [1], [{"h": "a"}], {"v": [1.0]})).check()
    b = WriteBatch.from_rows("m", [2, 3], [{"h": "a"}] * 2, {"v": [5, None], "w": [1.5, 2.5]})
    res = e.write("postgres", b)
    assert res.rows_dropped == 1 and res.rows_written == 1
    err = res.errors[0]
    assert isinstance(err, FieldTypeConflict)
    assert (err.table, err.column, err.existing, err.new) == ("m", "v", "float", "integer")
    assert '"v"' in str(err) and '"m"' in str(err) and "integer" in str(err) and "float" in str(err)
    assert engine_rows(e, "m") == {
        ((("h", "a"),), 1, (("v", 1.0),)),
        ((("h", "a"),), 3, (("w", 2.5),)),
    }
    with pytest.raises(ColumnKindConflict):
        e.write("postgres", WriteBatch.from_rows("m", [4], [{"v": "x"}], {"w": [1.0]}))


def test_series_limit_rejects_new_series_keeps_known(make_engine):
    e = make_engine(series_limit=3)
    e.write(
        "postgres",
        WriteBatch.from_rows("m", [1, 2, 3], [{"h": "a"}, {"h": "b"}, {"h": "c"}], {"v": [1.0] * 3}),
    ).check()
    res = e.write("postgres", WriteBatch.from_rows("m", [4, 5], [{"h": "a"}, {"h": "d"}], {"v": [2.0, 3.0]}))
    assert res.rows_written == 1 and res.rows_dropped == 1
    assert isinstance(res.errors[0], SeriesLimitExceeded)
    assert "postgres" in str(res.errors[0]) and "3" in str(res.errors[0])
    assert len(engine_rows(e, "m")) == 4


def test_shards_partition_time_and_drop(make_engine):
    e = make_engine()
    times = [T0, T0 + 3 * NS_PER_DAY, T0 + 8 * NS_PER_DAY, T0 + 15 * NS_PER_DAY]
    e.write(
        "postgres", WriteBatch.from_rows("m", times, [{"h": "a"}] * 4, {"v": [1.0, 2.0, 3.0, 4.0]})
    ).check()
    shards = e.shards("postgres")
    assert len(shards) == 3  # autogen (infinite) uses 7-day shards
    for s in shards:
        assert (s.meta.end_ns - s.meta.start_ns) == 7 * NS_PER_DAY
    e.flush()
    e.drop_shard(shards[0].meta.id)
    got = sorted(t for _, t, _ in engine_rows(e, "m"))
    assert all(not shards[0].contains(t) for t in got) and len(got) == 4 - sum(
        shards[0].contains(t) for t in times
    )


def test_retention_policy_shard_duration_and_window(make_engine):
    import time

    e = make_engine()
    e.catalog.create_retention_policy("postgres", "short", 24 * 3600 * NS_PER_SECOND)
    rp = e.retention_policy("postgres", "short")
    assert rp.shard_duration_ns == 3600 * NS_PER_SECOND
    now = time.time_ns()
    b = WriteBatch.from_rows("m", [now - 2 * NS_PER_DAY, now], [{"h": "a"}] * 2, {"v": [1.0, 2.0]})
    res = e.write("postgres", b, rp="short")
    assert res.rows_written == 1 and res.rows_dropped == 1


def test_aggregate_scan_matches_raw_and_uses_block_stats(make_engine):
    rng = np.random.default_rng(5)
    e = make_engine()
    n = 40_000
    hosts = 4
    time = T0 + np.repeat(np.arange(n // hosts), hosts) * 10 * NS_PER_SECOND
    host = np.tile(np.arange(hosts), n // hosts)
    b = WriteBatch.from_rows(
        "cpu",
        time,
        [{"host": f"h{h}"} for h in host],
        {"usage": rng.integers(0, 100, n), "temp": rng.normal(0, 1, n)},
    )
    e.write("postgres", b).check()
    e.flush()
    # an overlapping later write forces decoding of the overlapped groups only
    e.write(
        "postgres",
        WriteBatch.from_rows("cpu", [T0 + 50 * NS_PER_SECOND], [{"host": "h1"}], {"usage": np.array([999])}),
    ).check()
    from columnar.scan import AggregateStats, aggregate

    every = 3600 * NS_PER_SECOND * 6  # 1024-row blocks at 10 s span 2.8 h: many fit in one bucket
    req = ScanRequest("postgres", "cpu", tmin=T0 + 7 * NS_PER_SECOND, tmax=T0 + 20 * 3600 * NS_PER_SECOND)
    for col in ("usage", "temp"):
        st_ = AggregateStats()
        agg = aggregate(e, req, col, every=every, stats=st_).to_pydict()
        raw = read_table(
            e, ScanRequest(req.database, req.table, tmin=req.tmin, tmax=req.tmax, with_series_id=True)
        )
        t = raw["time"].cast("int64").to_numpy()
        v = raw[col].to_numpy()
        sid = raw["__series_id"].to_numpy()
        bucket = (t // every) * every
        keys = sorted(set(zip(sid.tolist(), bucket.tolist(), strict=True)))
        assert [(a, b_) for a, b_ in zip(agg["series_id"], agg["bucket"], strict=True)] == keys
        for i, (s, bk) in enumerate(keys):
            m = (sid == s) & (bucket == bk)
            assert agg["count"][i] == m.sum()
            assert agg["sum"][i] == pytest.approx(v[m].sum())
            assert agg["min"][i] == v[m].min() and agg["max"][i] == v[m].max()
            assert agg["first"][i] == v[m][0] and agg["last"][i] == v[m][-1]
            assert agg["first_time"][i] == t[m][0] and agg["last_time"][i] == t[m][-1]
        assert st_.blocks_from_stats > 0 and st_.groups_decoded > 0


def test_last_rows_per_series(make_engine):
    rng = np.random.default_rng(6)
    ref = Reference()
    e = make_engine()
    for i in range(3):
        b = cpu_batch(rng, 5, 2000, t0=T0 + i * 8 * NS_PER_DAY)
        ref.write(b)
        e.write("postgres", b).check()
        if i < 2:
            e.flush()
    # one host only exists in the oldest shard
    b = WriteBatch.from_rows("cpu", [T0 - 5], [{"host": "old", "region": "r9"}], {"usage": np.array([1])})
    ref.write(b)
    e.write("postgres", b).check()
    tbl = last_rows(e, ScanRequest("postgres", "cpu"))
    tbl = tbl.set_column(0, "time", tbl["time"].cast("int64"))
    got = {tuple(sorted((k, r[k]) for k in ("host", "region"))): r for r in tbl.to_pylist()}
    newest: dict[tuple, int] = {}
    for tags, t in ref.rows:
        newest[tags] = max(newest.get(tags, -(2**63)), t)
    assert set(got) == set(newest)
    for tags, t in newest.items():
        assert got[tags]["time"] == t
        assert got[tags]["usage"] == ref.rows[(tags, t)].get("usage")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["write", "write", "write", "flush", "compact", "delete"]),
            st.integers(0, 2**31),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_operation_sequences_match_reference(tmp_path_factory, ops):
    from columnar.engine import Engine
    from columnar.options import EngineOptions

    d = tmp_path_factory.mktemp("prop")
    ref = Reference()
    e = Engine.open(d, EngineOptions(compaction_interval_s=0, wal_fsync="off", compaction_min_files=2))
    try:
        for op, seed in ops:
            rng = np.random.default_rng(seed)
            if op == "write":
                n = int(rng.integers(1, 300))
                b = WriteBatch.from_rows(
                    "m",
                    rng.integers(0, 50, n),
                    [{"h": f"h{x}"} for x in rng.integers(0, 4, n)],
                    {
                        "a": [None if x < 0.2 else float(x) for x in rng.random(n)],
                        "b": [None if x % 3 == 0 else int(x) for x in rng.integers(0, 9, n)],
                    },
                    types={"a": FieldType.FLOAT, "b": FieldType.INTEGER},
                )
                ref.write(b)
                e.write("postgres", b).check()
            elif op == "flush":
                e.flush()
            elif op == "compact":
                e.compact(full=bool(seed % 2))
            elif op == "delete" and e.table(1, "autogen", "m") is not None:
                lo = int(rng.integers(0, 50))
                hi = lo + int(rng.integers(0, 20))
                host = f"h{int(rng.integers(0, 4))}"
                e.delete("postgres", "m", tmin=lo, tmax=hi, predicate=TagEq("h", host))
                ref.delete(lo, hi, lambda t, host=host: t.get("h") == host)
            if e.table(1, "autogen", "m") is not None:
                assert engine_rows(e, "m") == ref.expected()
        e.close()
        e = Engine.open(d, EngineOptions(compaction_interval_s=0, wal_fsync="off"))
        if e.table(1, "autogen", "m") is not None:
            assert engine_rows(e, "m") == ref.expected()
    finally:
        e.close()


def test_table_without_dedupe_keeps_duplicate_rows(make_engine):
    e = make_engine()
    e.create_table("postgres", "log", [("v", "field", FieldType.FLOAT, "float8")], options={"dedupe": False})
    for _ in range(2):
        e.write("postgres", WriteBatch.from_rows("log", [5, 1, 5], [{}] * 3, {"v": [1.0, 2.0, 3.0]})).check()

    def values():
        t = read_table(e, ScanRequest("postgres", "log"))
        return sorted(zip(t["time"].cast("int64").to_pylist(), t["v"].to_pylist(), strict=True))

    want = sorted([(5, 1.0), (1, 2.0), (5, 3.0)] * 2)
    assert values() == want
    e.flush()
    e.write("postgres", WriteBatch.from_rows("log", [5], [{}], {"v": [9.0]})).check()
    e.flush()
    e.compact(full=True)
    assert values() == sorted(want + [(5, 9.0)])


def test_snapshot_starts_at_the_size_threshold_and_bounds_memtables(tmp_path):
    import time as _t

    from columnar.engine import Engine
    from columnar.options import EngineOptions

    opts = EngineOptions(compaction_interval_s=3600, wal_fsync="off", cache_snapshot_bytes=200_000)
    with Engine.open(tmp_path / "d", opts) as e:
        rng = np.random.default_rng(9)
        peak = 0
        for i in range(60):
            b = cpu_batch(rng, 5, 2000, t0=T0 + i * 10**12)
            e.write("postgres", b).check()
            peak = max(peak, e._unflushed)
        # writers were held back rather than let the memtables grow without bound
        assert peak < (Engine.HOLD_BACK_FACTOR + 1) * opts.cache_snapshot_bytes
        deadline = _t.monotonic() + 30
        while not any(s.files for s in e.shards()) and _t.monotonic() < deadline:
            _t.sleep(0.05)
        # snapshots ran long before the hour-long background interval
        assert any(s.files for s in e.shards())


_VALUE = st.sampled_from([None, 1.0, 2.0, 3.0])


@settings(max_examples=60, deadline=None)
@example(
    in_file=[(0, 1, 7.0, 7.0), (0, 3, 1.0, None), (0, 3, None, 2.0)], in_memtable=[]
)  # two rows at the end
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), _VALUE, _VALUE), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5), _VALUE, _VALUE), max_size=12),
)
def test_last_rows_of_a_table_keeping_duplicates(tmp_path_factory, in_file, in_memtable):
    """Without dedupe, each series' last row is one of the rows written at its newest time, whole
    (its values together, never one row's v with another's w), whether files, the memtable or both
    hold them."""
    from columnar.engine import Engine
    from columnar.options import EngineOptions

    e = Engine.open(tmp_path_factory.mktemp("last"), EngineOptions(compaction_interval_s=0, wal_fsync="off"))
    try:
        e.create_table(
            "postgres", "log",
            [("h", "tag", None, "text"), ("v", "field", FieldType.FLOAT, "float8"),
             ("w", "field", FieldType.FLOAT, "float8")],
            options={"dedupe": False},
        )  # fmt: skip
        for part, flush in ((in_file, True), (in_memtable, False)):
            if part:
                tags = [{"h": f"h{r[0]}"} for r in part]
                vals = {"v": [r[2] for r in part], "w": [r[3] for r in part]}
                e.write("postgres", WriteBatch.from_rows("log", [r[1] for r in part], tags, vals)).check()
            if flush:
                e.flush()
        tbl = last_rows(e, ScanRequest("postgres", "log"))
    finally:
        e.close()
    rows = in_file + in_memtable
    cols = [tbl[c].to_pylist() for c in ("h", "v", "w")] + [tbl["time"].cast("int64").to_pylist()]
    newest = {f"h{r[0]}": max(t for s, t, _, _ in rows if s == r[0]) for r in rows}
    assert sorted(cols[0]) == sorted(newest)
    for h, v, w, t in zip(*cols, strict=True):
        assert t == newest[h]
        assert (v, w) in [(r[2], r[3]) for r in rows if f"h{r[0]}" == h and r[1] == t]


def test_background_sorts_memtables_once_writes_pause(tmp_path):
    """Rows appended by writes are sorted into the memtable's runs by the storage thread once writes
    pause (SETTLE_QUIET_S), not by the first query that reads them; also after a WAL replay."""
    import time as _t

    from columnar.engine import SETTLE_QUIET_S, Engine
    from columnar.options import EngineOptions

    def unsettled(e: Engine) -> bool:
        return any(t.unsettled for s in e.shards() for t in s.cache.tables.values())

    def wait_settled(e: Engine) -> bool:
        deadline = _t.monotonic() + SETTLE_QUIET_S + 5
        while unsettled(e) and _t.monotonic() < deadline:
            _t.sleep(0.05)
        return not unsettled(e)

    opts = EngineOptions(compaction_interval_s=3600, wal_fsync="off")
    with Engine.open(tmp_path / "d", opts) as e:
        for k in range(5):
            t = np.arange(k, 5000, 5, dtype=np.int64)[::-1] * NS_PER_SECOND  # out of order
            e.write(
                "postgres", WriteBatch.from_rows("m", t, [{"h": f"h{k % 3}"}] * len(t), {"v": t * 1.0})
            ).check()
        assert unsettled(e)  # (nothing read it yet)
        assert wait_settled(e)
        rows = read_table(e, ScanRequest("postgres", "m"))
        assert rows.num_rows == 5000
    with Engine.open(tmp_path / "d", opts) as e:  # the WAL replays into an unsorted memtable
        assert wait_settled(e)
        assert read_table(e, ScanRequest("postgres", "m")).num_rows == 5000


def test_memtable_rows_beside_a_file_group_leave_it_to_the_kernels(make_engine):
    """A row group is merged with the memtable only when the memtable holds a row of its series
    within its time: rows written out of order before the snapshot's newest ones, but outside every
    row group's span, leave the groups to the fused kernels (the memtable's extent of the series
    overlapping them is not enough); a row inside a group's span makes that group merge. The
    answers match the reference either way."""
    from columnar.scan import FieldCondition, _candidates, _target, aggregate_partials, filtered

    e = make_engine()
    step = 10 * NS_PER_SECOND
    ref = Reference()

    def write(times, host, usage):
        b = WriteBatch.from_rows(
            "cpu", np.asarray(times, np.int64), [{"host": host}] * len(times),
            {"usage": np.asarray(usage, np.int64)},
        )  # fmt: skip
        ref.write(b)
        e.write("postgres", b).check()

    n = 3000  # several row groups per series
    write(T0 + np.arange(n) * step, "a", np.arange(n) % 97)
    write(T0 + np.arange(n) * step, "b", np.arange(n) % 89)
    e.flush()
    # out of order: "a" gets rows before and after its file rows (the memtable's extent of "a"
    # then spans every group of it), "b" one row inside one of its groups' spans
    write([T0 + n * step + step, T0 - 5 * step], "a", [1, 2])
    write([T0 + 500 * step + 5 * NS_PER_SECOND], "b", [3])  # inside one group of "b"
    req = ScanRequest("postgres", "cpu")
    t = _target(e, req)
    (shard,) = t.shards
    src = shard.sources(t.table_id, t.table)
    cand, isolated, _ = _candidates(t, src, req.tmin, req.tmax)
    (lf, g) = cand[0]
    series = lf.chunk.groups["series"][g]
    gt0, gt1 = lf.chunk.groups["tmin"][g], lf.chunk.groups["tmax"][g]
    tagsets = e.index(t.database_id).series_tags(t.series.tolist())
    ids = {dict(ts)["host"]: sid for sid, (_, ts) in zip(t.series.tolist(), tagsets, strict=True)}
    a, b = series == ids["a"], series == ids["b"]
    assert isolated[a].all()  # the memtable's extent of "a" covers them, none of its rows does
    inside = (gt0 <= T0 + 500 * step + 5 * NS_PER_SECOND) & (gt1 >= T0 + 500 * step + 5 * NS_PER_SECOND)
    assert (~isolated[b] == inside[b]).all() and inside[b].sum() == 1
    got = filtered(e, req, [FieldCondition("usage", ">=", 0)]).num_rows
    assert got == len(ref.rows) == 2 * n + 3
    p = aggregate_partials(e, req, ["usage"])
    assert int(p.count[0].sum()) == 2 * n + 3


@pytest.mark.parametrize("dedupe", [True, False])
def test_filtered_rows_over_a_file_and_the_memtable_are_the_merged_rows_that_match(make_engine, dedupe):
    """Memtable rows beside a flushed file: new keys inside a row group's span (no merge needed),
    overwrites of file rows that make a match or undo one, and a write of another field only (the
    file's value of the condition's field stays). The filtered rows are the merged rows that match,
    with every field as the merge gives it; a table that keeps duplicates keeps both rows."""
    from columnar.scan import FieldCondition, filtered

    step = 10 * NS_PER_SECOND

    def rows_of(e, req, cond):
        tbl = filtered(e, req, [cond])
        cols = tbl.to_pydict()
        times = tbl["time"].cast("int64").to_pylist()
        return sorted(zip(cols["host"], times, cols["usage"], cols["idle"], strict=True))

    def write(e, times, host, usage, idle):
        e.write(
            "postgres",
            WriteBatch.from_rows(
                "cpu", np.asarray(times, np.int64), [{"host": host}] * len(times),
                {"usage": usage, "idle": idle}, {"usage": FieldType.INTEGER, "idle": FieldType.INTEGER},
            ),
        ).check()  # fmt: skip

    e = make_engine()
    if not dedupe:
        e.create_table(
            "postgres", "cpu",
            [("host", "tag", FieldType.STRING, "text"), ("usage", "field", FieldType.INTEGER, "int8"),
             ("idle", "field", FieldType.INTEGER, "int8")],
            options={"dedupe": False},
        )  # fmt: skip
    n = 3000  # several row groups per series
    i = np.arange(n)
    want: dict[tuple[str, int], list] = {}
    for host, mod in (("a", 97), ("b", 89)):
        write(e, T0 + i * step, host, list(i % mod), list(i))
        want.update({(host, int(T0 + k * step)): [int(k % mod), int(k)] for k in i})
    e.flush()
    later = [  # (host, time, usage, idle): None leaves the field unwritten
        ("a", T0 + 700 * step + 5 * NS_PER_SECOND, 95, -1),  # a new key inside a group's span
        ("a", T0 + 100 * step, 99, -2),  # 100 % 97 = 3: the overwrite makes a match
        ("b", T0 + 85 * step, 1, -3),  # 85: the overwrite undoes a match
        ("b", T0 + 170 * step, None, -4),  # 170 % 89 = 81 matches; only idle changes
        ("b", T0 + 200 * step, None, -5),  # 200 % 89 = 22: no match either way
    ]
    dup = []
    for host, t, usage, idle in later:
        write(e, [t], host, [usage], [idle])
        key = (host, int(t))
        if dedupe or key not in want:
            row = want.setdefault(key, [None, None])
            row[:] = [row[0] if usage is None else usage, idle]
        else:
            dup.append((host, int(t), usage, idle))
    cond = FieldCondition("usage", ">=", 80)
    expect = sorted(
        [(h, t, u, d) for (h, t), (u, d) in want.items() if u is not None and u >= 80]
        + [r for r in dup if r[2] is not None and r[2] >= 80]
    )
    req = ScanRequest("postgres", "cpu")
    assert rows_of(e, req, cond) == expect
    if dedupe:
        got = {(h, t): (u, d) for h, t, u, d in rows_of(e, req, cond)}
        assert got[("a", int(T0 + 100 * step))] == (99, -2)
        assert got[("b", int(T0 + 170 * step))] == (81, -4)
        assert ("b", int(T0 + 85 * step)) not in got


# -- tag renames --------------------------------------------------------------------------------------------
def _renamed_rows(rows: set, old: str, new: str) -> set:
    return {(tuple(sorted((new if k == old else k, v) for k, v in tags)), t, f) for tags, t, f in rows}


def test_tag_rename_survives_restart_and_wal_replay(make_engine):
    rng = np.random.default_rng(7)
    ref = Reference()
    e = make_engine()
    for i in range(3):
        b = cpu_batch(rng, 5, 500, t0=T0 + i * 10**12)
        ref.write(b)
        e.write("postgres", b).check()
        if i == 0:
            e.flush()  # some rows in chunk files, the rest only in the WAL (under the old key)
    series = e.index(1).series_count("cpu")
    e.rename_tag("postgres", "cpu", "host", "name")
    expected = _renamed_rows(ref.expected(), "host", "name")
    assert engine_rows(e, "cpu") == expected
    # the new key is the renamed series; the old one is just a new tag key (InfluxDB's view)
    after = WriteBatch.from_rows(
        "cpu", [T0 + 5, T0 + 6], [{"name": "h1", "region": "r1"}, {"host": "h1"}], {"usage": [1, 2]}
    )  # (cpu_batch's times are whole 10 s: these rows are new)
    e.write("postgres", after).check()
    assert e.index(1).series_count("cpu") == series + 1
    meta = e.table(1, "autogen", "cpu")
    assert [c.name for c in meta.columns if c.kind == "tag"] == ["name", "region", "host"]
    expected |= {
        ((("name", "h1"), ("region", "r1")), T0 + 5, (("usage", 1),)),
        ((("host", "h1"),), T0 + 6, (("usage", 2),)),
    }
    assert engine_rows(e, "cpu") == expected
    e.close()
    e2 = make_engine()  # chunk files + WAL replay: records before the rename hold "host"
    assert e2.index(1).series_count("cpu") == series + 1
    assert engine_rows(e2, "cpu") == expected
    assert [c.name for c in e2.table(1, "autogen", "cpu").columns if c.kind == "tag"] == [
        "name",
        "region",
        "host",
    ]
    assert len(e2.catalog.renames()) == 1
    e2.flush()  # the WAL records before the rename are gone: the rename is forgotten
    assert e2.catalog.renames() == []
    e2.close()
    e3 = make_engine()
    assert engine_rows(e3, "cpu") == expected


def _crash_between_catalog_and_index(make_engine, tmp_path, monkeypatch, rename):
    """Two rows of cpu written, then ``rename(engine)`` killed after its catalog commit and before
    the series index applied it: the engine opened on the data directory as the process left it."""
    import shutil

    from columnar.engine import Engine
    from columnar.index import SeriesIndex
    from columnar.options import EngineOptions

    e = make_engine()
    b = WriteBatch.from_rows("cpu", [T0, T0 + 1], [{"host": "a"}, {"host": "b"}], {"v": [1.0, 2.0]})
    e.write("postgres", b).check()
    died = tmp_path / "died"

    def die(self, table, steps, rename_id, to=None):  # the catalog committed; the process dies here
        shutil.copytree(tmp_path / "data", died)
        raise SystemExit

    monkeypatch.setattr(SeriesIndex, "rename", die)
    with pytest.raises(SystemExit):
        rename(e)
    monkeypatch.undo()
    return Engine.open(died, EngineOptions(compaction_interval_s=0, wal_fsync="off"))


def test_tag_rename_recovers_a_crash_between_catalog_and_index(make_engine, tmp_path, monkeypatch):
    e2 = _crash_between_catalog_and_index(
        make_engine, tmp_path, monkeypatch, lambda e: e.rename_tag("postgres", "cpu", "host", "name")
    )
    try:
        assert e2.index(1).tag_keys("cpu") == ["name"]
        assert e2.index(1).series_count("cpu") == 2
        got = read_table(e2, ScanRequest("postgres", "cpu")).select(["name", "v"]).to_pydict()
        assert sorted(zip(got["name"], got["v"], strict=True)) == [("a", 1.0), ("b", 2.0)]
    finally:
        e2.close()


def test_a_write_racing_a_tag_rename_is_read_after_it(make_engine, monkeypatch):
    e = make_engine()
    e.write("postgres", WriteBatch.from_rows("cpu", [T0], [{"host": "a"}], {"v": [1.0]})).check()
    e.catalog.rename_column(e.table(1, "autogen", "cpu").id, "v", "value")  # (stored as "v")
    e.invalidate_tables()
    real, raced = e._resolve, []

    def racing(db, batch, result):
        ids = real(db, batch, result)
        if not raced:  # the rename lands between the write's schema check and its WAL record
            raced.append(True)
            e.rename_tag("postgres", "cpu", "host", "name")
        return ids

    monkeypatch.setattr(e, "_resolve", racing)
    e.write("postgres", WriteBatch.from_rows("cpu", [T0 + 1], [{"host": "a"}], {"value": [2.0]})).check()
    expected = {
        ((("name", "a"),), T0, (("value", 1.0),)),
        ((("host", "a"),), T0 + 1, (("value", 2.0),)),  # written after the rename: a new tag key
    }
    assert engine_rows(e, "cpu") == expected
    meta = e.table(1, "autogen", "cpu")
    assert [(c.name, c.kind) for c in meta.columns] == [
        ("time", "time"),
        ("name", "tag"),
        ("value", "field"),
        ("host", "tag"),
    ]
    e.close()
    assert engine_rows(make_engine(), "cpu") == expected  # the WAL replays it alike


def test_a_wal_that_lost_its_tail_does_not_rename_later_writes(make_engine):
    e = make_engine()
    e.write("postgres", WriteBatch.from_rows("cpu", [T0], [{"host": "a"}], {"v": [1.0]})).check()
    e.rename_tag("postgres", "cpu", "host", "name")
    with e.catalog._tx() as cur:  # as if WAL records up to seq 100 came before it, and were lost
        cur.execute("UPDATE renames SET wal_seq=100")
    e.close()
    e2 = make_engine()  # the WAL ends at seq 1: the writes after this one are after the rename
    assert [r.wal_seq for r in e2.catalog.renames()] == [1]
    e2.write("postgres", WriteBatch.from_rows("cpu", [T0 + 1], [{"host": "b"}], {"v": [2.0]})).check()
    e2.close()
    expected = {((("name", "a"),), T0, (("v", 1.0),)), ((("host", "b"),), T0 + 1, (("v", 2.0),))}
    assert engine_rows(make_engine(), "cpu") == expected


# -- table (measurement) renames -----------------------------------------------------------------------------
def _tags_of(rows: set) -> set:
    return {tags for tags, _t, _f in rows}


def test_table_rename_survives_restart_wal_replay_and_compaction(make_engine):
    rng = np.random.default_rng(8)
    ref = Reference()
    e = make_engine()
    for i in range(3):
        b = cpu_batch(rng, 5, 500, t0=T0 + i * 10**12)
        ref.write(b)
        e.write("postgres", b).check()
        if i == 0:
            e.flush()  # some rows in chunk files, the rest only in memtables and the WAL ("cpu")
    e.delete("postgres", "cpu", predicate=TagEq("host", "h1"))  # (a WAL delete record of "cpu")
    expected = {r for r in ref.expected() if ("host", "h1") not in r[0]}
    series = e.index(1).series_count("cpu")
    table_id = e.table(1, "autogen", "cpu").id
    e.rename_table("postgres", "cpu", "machine")
    assert e.table(1, "autogen", "cpu") is None
    assert e.table(1, "autogen", "machine").id == table_id
    assert engine_rows(e, "machine") == expected
    assert e.index(1).tables() == ["machine"]
    # the new name writes to the series written before; the old one is a new, separate table
    after = WriteBatch.from_rows(
        "machine", [T0 + 5], [{"host": "h2", "region": "r2"}], {"usage": np.array([1], np.int64)}
    )
    e.write("postgres", after).check()
    assert e.index(1).series_count("machine") == series
    e.write("postgres", WriteBatch.from_rows("cpu", [T0 + 6], [{"host": "h2"}], {"x": [2.0]})).check()
    assert e.table(1, "autogen", "cpu").id != table_id
    assert engine_rows(e, "cpu") == {((("host", "h2"),), T0 + 6, (("x", 2.0),))}
    expected.add(((("host", "h2"), ("region", "r2")), T0 + 5, (("usage", 1),)))
    assert engine_rows(e, "machine") == expected
    e.close()
    e2 = make_engine()  # chunk files + WAL replay: records before the rename hold "cpu"
    assert e2.index(1).series_count("machine") == series
    assert engine_rows(e2, "machine") == expected
    assert engine_rows(e2, "cpu") == {((("host", "h2"),), T0 + 6, (("x", 2.0),))}
    assert [(r.table, r.to) for r in e2.catalog.renames()] == [("cpu", "machine")]
    e2.flush()  # the WAL records before the rename are gone: the rename is forgotten
    assert e2.catalog.renames() == []
    e2.compact(full=True)
    assert engine_rows(e2, "machine") == expected
    e2.close()
    e3 = make_engine()
    assert engine_rows(e3, "machine") == expected
    assert _tags_of(engine_rows(e3, "cpu")) == {(("host", "h2"),)}


def test_table_renames_in_a_chain_replay_in_order(make_engine):
    e = make_engine()
    e.write("postgres", WriteBatch.from_rows("a", [T0], [{"host": "x"}], {"v": [1.0]})).check()
    e.rename_table("postgres", "a", "b")
    e.write("postgres", WriteBatch.from_rows("b", [T0 + 1], [{"host": "x"}], {"v": [2.0]})).check()
    e.rename_tag("postgres", "b", "host", "name")
    e.rename_table("postgres", "b", "a")  # (back to the first name)
    e.write("postgres", WriteBatch.from_rows("a", [T0 + 2], [{"name": "x"}], {"v": [3.0]})).check()
    expected = {((("name", "x"),), T0 + i, (("v", float(i + 1)),)) for i in range(3)}
    assert engine_rows(e, "a") == expected
    assert e.index(1).series_count("a") == 1
    e.close()
    e2 = make_engine()
    assert engine_rows(e2, "a") == expected
    assert e2.index(1).tables() == ["a"] and e2.index(1).series_count("a") == 1


def test_table_rename_refusals(make_engine):
    e = make_engine()
    for name in ("cpu", "mem"):
        e.write("postgres", WriteBatch.from_rows(name, [T0], [{"host": "a"}], {"v": [1.0]})).check()
    with pytest.raises(StorageError, match="already exists"):
        e.rename_table("postgres", "cpu", "mem")
    with pytest.raises(TableNotFound):
        e.rename_table("postgres", "nope", "x")
    e.create_retention_policy("postgres", "other", 0)
    e.write("postgres", WriteBatch.from_rows("disk", [T0], [{"host": "a"}], {"v": [1.0]}), rp="other").check()
    with pytest.raises(StorageError, match="another retention policy"):  # (they share the series)
        e.rename_table("postgres", "cpu", "disk")
    e.write("postgres", WriteBatch.from_rows("mem", [T0], [{"host": "a"}], {"v": [1.0]}), rp="other").check()
    with pytest.raises(StorageError, match="another retention policy"):
        e.rename_table("postgres", "mem", "ram")
    assert e.catalog.renames() == [] and e.index(1).renamed == 0
    assert engine_rows(e, "cpu") == {((("host", "a"),), T0, (("v", 1.0),))}


def test_table_rename_recovers_a_crash_between_catalog_and_index(make_engine, tmp_path, monkeypatch):
    e2 = _crash_between_catalog_and_index(
        make_engine, tmp_path, monkeypatch, lambda e: e.rename_table("postgres", "cpu", "machine")
    )
    try:
        assert e2.index(1).tables() == ["machine"]
        assert e2.index(1).series_count("machine") == 2
        got = read_table(e2, ScanRequest("postgres", "machine")).select(["host", "v"]).to_pydict()
        assert sorted(zip(got["host"], got["v"], strict=True)) == [("a", 1.0), ("b", 2.0)]
        e2.write("postgres", WriteBatch.from_rows("machine", [T0 + 2], [{"host": "a"}], {"v": [3.0]})).check()
        assert e2.index(1).series_count("machine") == 2
    finally:
        e2.close()


def test_a_write_racing_a_table_rename_makes_a_new_table(make_engine, monkeypatch):
    e = make_engine()
    e.write("postgres", WriteBatch.from_rows("cpu", [T0], [{"host": "a"}], {"v": [1.0]})).check()
    real, raced = e._resolve, []

    def racing(db, batch, result):
        ids = real(db, batch, result)
        if not raced:  # the rename lands between the write's schema check and its WAL record
            raced.append(True)
            e.rename_table("postgres", "cpu", "machine")
        return ids

    monkeypatch.setattr(e, "_resolve", racing)
    e.write("postgres", WriteBatch.from_rows("cpu", [T0 + 1], [{"host": "a"}], {"v": [2.0]})).check()
    assert engine_rows(e, "machine") == {((("host", "a"),), T0, (("v", 1.0),))}
    assert engine_rows(e, "cpu") == {((("host", "a"),), T0 + 1, (("v", 2.0),))}  # written after it
    assert e.index(1).series_count("machine") == 1  # (the write's own series moved with it: none)
    e.close()
    e2 = make_engine()  # the WAL replays it alike
    assert engine_rows(e2, "machine") == {((("host", "a"),), T0, (("v", 1.0),))}
    assert engine_rows(e2, "cpu") == {((("host", "a"),), T0 + 1, (("v", 2.0),))}


def test_a_catalog_of_tag_renames_is_migrated(tmp_path):
    import sqlite3

    from columnar.catalog import Catalog

    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE tag_renames (id INTEGER PRIMARY KEY AUTOINCREMENT, database_id INTEGER NOT NULL,"
        " table_name TEXT NOT NULL, steps TEXT NOT NULL, wal_seq INTEGER NOT NULL)"
    )
    db.execute(
        "INSERT INTO tag_renames (database_id, table_name, steps, wal_seq) VALUES (1, 'm', '[[\"a\", \"b\"]]', 3)"
    )
    db.execute("INSERT INTO tag_renames (database_id, table_name, steps, wal_seq) VALUES (1, 'm', '[]', 4)")
    db.execute("DELETE FROM tag_renames WHERE id=2")
    db.commit()
    db.close()
    c = Catalog(path)
    try:
        assert [(r.id, r.table, r.steps, r.wal_seq, r.to) for r in c.renames()] == [
            (1, "m", (("a", "b"),), 3, None)
        ]
        c.create_database("postgres")
        meta = c.create_table(1, "autogen", "m")
        assert c.rename_table(meta.id, "n", rename=Rename(1, "m", (), 5, to="n")) == 3  # (ids go on)
    finally:
        c.close()


def test_a_sql_write_racing_a_table_rename_makes_no_table(make_engine, monkeypatch):
    """A write to the table the caller resolved (table_id, as SQL writes) that the rename overtakes
    is refused (42P01 in SQL, as PostgreSQL's INSERT waiting for the rename's lock), not written
    to a new table of the old name."""
    e = make_engine()
    e.write("postgres", WriteBatch.from_rows("cpu", [T0], [{"host": "a"}], {"v": [1.0]})).check()
    table_id = e.table(1, "autogen", "cpu").id
    real, raced = e._resolve, []

    def racing(db, batch, result):
        ids = real(db, batch, result)
        if not raced:
            raced.append(True)
            e.rename_table("postgres", "cpu", "machine")
        return ids

    monkeypatch.setattr(e, "_resolve", racing)
    b = WriteBatch.from_rows("cpu", [T0 + 1], [{"host": "a"}], {"v": [2.0]})
    with pytest.raises(TableNotFound):
        e.write("postgres", b, table_id=table_id)
    assert e.table(1, "autogen", "cpu") is None
    assert engine_rows(e, "machine") == {((("host", "a"),), T0, (("v", 1.0),))}
    with pytest.raises(TableNotFound):  # (and after it)
        e.write(
            "postgres",
            WriteBatch.from_rows("cpu", [T0 + 2], [{"host": "a"}], {"v": [3.0]}),
            table_id=table_id,
        )


def test_shards_never_overlap_after_the_shard_duration_changes(make_engine):
    """A point written again after its retention policy's shard duration changed went to a new shard
    of the new duration beside the old one that covers its time: read back twice. Now a time an
    existing shard covers goes there, and a new shard fills only the gap between shards."""
    from columnar.types import NS_PER_HOUR

    e = make_engine()
    day = 24 * NS_PER_HOUR
    t0 = (T0 // (7 * day)) * (7 * day) + 3 * day  # inside the week-long shard made first
    e.write("postgres", WriteBatch.from_rows("cpu", [t0], [{"host": "a"}], {"v": [1.0]})).check()
    rp = e.catalog.retention_policy("postgres").name
    e.catalog.alter_retention_policy("postgres", rp, shard_duration_ns=NS_PER_HOUR)
    later = [t0, t0 + 2 * day, (t0 // (7 * day) + 1) * (7 * day) + NS_PER_HOUR // 2]
    e.write(
        "postgres", WriteBatch.from_rows("cpu", later, [{"host": "a"}] * 3, {"v": [2.0, 3.0, 4.0]})
    ).check()
    got = read_table(e, ScanRequest("postgres", "cpu"))
    assert got.column("v").to_pylist() == [2.0, 3.0, 4.0]  # the rewrite replaced the first point
    spans = sorted((s.meta.start_ns, s.meta.end_ns) for s in e.shards("postgres"))
    week = (t0 // (7 * day)) * (7 * day)
    assert spans == [(week, week + 7 * day), (week + 7 * day, week + 7 * day + NS_PER_HOUR)]
