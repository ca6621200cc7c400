"""What each codec promises beyond the round trip: sizes, choices, layouts and API errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from columnar import encodings
from columnar.encodings import (
    CODECS,
    CorruptPayload,
    alp,
    bits,
    dictionary,
    dod,
    gorilla,
    rans,
    rle,
    simple8b,
    zstd_stage,
    zstd_strings,
)
from columnar.encodings._core import uvarint
from columnar.encodings._select import STAGE_ID, decode_nested
from tests.columnar.encodings.blocks import T0, same

S10 = 10_000_000_000


def _obj(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# --- the registry -------------------------------------------------------------------------------


def test_registry_modules_follow_the_contract() -> None:
    kinds = set(encodings.KINDS)
    names = set()
    for cid, m in CODECS.items():
        assert m.ID == cid and 0 <= cid < 256
        assert m.NAME not in names
        names.add(m.NAME)
        assert m.KINDS and set(m.KINDS) <= kinds
        assert callable(m.encode) and callable(m.decode)
        doc = inspect.getdoc(m) or ""
        assert "|" in doc and "---" in doc, f"{m.NAME} must open with its layout table"
    for kind in kinds:
        assert any(kind in m.KINDS and cid != STAGE_ID for cid, m in CODECS.items())


def test_payload_header_is_codec_id_then_varint_count() -> None:
    values = np.arange(300, dtype=np.int64)
    payload = encodings.encode(values, "int")
    assert payload[0] in CODECS
    assert payload[1:3] == uvarint(300)
    assert encodings.decode_count(payload) == 300
    assert encodings.decode_count(memoryview(payload)) == 300


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 25, 1024, 100_000])
def test_regular_interval_costs_a_few_bytes_at_any_length(n: int) -> None:
    t = T0 + np.arange(n, dtype=np.int64) * S10
    payload = encodings.encode(t, "time")
    assert len(payload) < 20 + (n >= 100_000)  # the count's varint grows
    assert same(encodings.decode(payload), t)


def test_regular_run_of_1024_at_10s_is_under_20_bytes_in_dod() -> None:
    t = T0 + np.arange(1024, dtype=np.int64) * S10
    body = dod.encode(t)
    assert body is not None and len(body) + 3 < 20
    assert encodings.describe(encodings.encode(t, "time")) == "dod"


def test_divisor_makes_ms_jitter_cheap() -> None:
    rng = np.random.default_rng(7)
    t = T0 + np.arange(1024, dtype=np.int64) * S10 + rng.integers(-25, 26, 1024) * 1_000_000
    body = dod.encode(t)
    assert body is not None and len(body) < 1024  # 7 bits a value, not the ~34 of raw ns jitter
    assert len(encodings.encode(t, "time")) < 0.9 * 1024  # rans goes below the bit widths


def test_gap_in_regular_timestamps_stays_small() -> None:
    t = T0 + np.arange(2000, dtype=np.int64) * S10
    t = np.delete(t, np.s_[700:760])
    assert len(encodings.encode(t, "time")) < 40


def test_dod_round_trips_wrapping_deltas() -> None:
    i64 = np.iinfo(np.int64)
    t = np.array([i64.max, i64.min, i64.max, 0, i64.min, -1, 1], np.int64)
    body = dod.encode(t)
    assert body is not None and same(dod.decode(memoryview(body), t.size), t)


# --- floats -------------------------------------------------------------------------------------


def test_alp_chooses_the_smallest_exact_exponent() -> None:
    rng = np.random.default_rng(3)
    for decimals in (0, 1, 2, 3, 5):
        x = np.round(rng.normal(100, 20, 500), decimals)
        body = alp.encode(x)
        assert body is not None and body[0] == decimals
        assert same(alp.decode(memoryview(body), x.size), x)


def test_alp_widens_the_exponent_for_a_few_longer_decimals() -> None:
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(50, 5, 1024), 2)
    x[1::16] = np.round(x[1::16] + 0.001, 3)  # off the encoder's sample (every 16th from 0)
    body = alp.encode(x)
    assert body is not None and body[0] == 3 and body[1] == 0  # e = 3, no exceptions
    assert same(alp.decode(memoryview(body), x.size), x)


def test_alp_keeps_specials_as_exceptions() -> None:
    x = np.round(np.linspace(10, 20, 1000), 2)
    x[[5, 6, 500]] = [np.nan, -0.0, np.inf]
    body = alp.encode(x)
    assert body is not None and body[0] == 2 and body[1] == 3
    assert same(alp.decode(memoryview(body), x.size), x)


def test_alp_declines_non_decimal_data() -> None:
    assert alp.encode(np.random.default_rng(1).random(100)) is None


def test_sensor_walks_cost_under_a_byte() -> None:
    rng = np.random.default_rng(11)
    temp = np.round(20 + np.cumsum(rng.normal(0, 0.05, 1024)), 2)
    payload = encodings.encode(temp, "float")
    assert encodings.describe(payload) == "alp"
    assert len(payload) / temp.size < 0.65


def test_gorilla_on_constant_data_is_one_bit_a_value() -> None:
    x = np.full(1024, 23.75)
    body = gorilla.encode(x)
    assert body is not None and len(body) <= 8 + 1024 // 8 + 1
    assert same(gorilla.decode(memoryview(body), x.size), x)


def test_gorilla_keeps_nan_payloads_and_negative_zero() -> None:
    x = np.array([0x7FF8DEADBEEF0001, 0x8000000000000000, 0x7FF0000000000001], np.uint64).view(np.float64)
    body = gorilla.encode(x)
    assert body is not None and same(gorilla.decode(memoryview(body), 3), x)


# --- integers -----------------------------------------------------------------------------------


def test_simple8b_uses_zero_run_selectors() -> None:
    x = np.full(2401, 5, np.int64)  # 2400 zero deltas: ten 240-zero words
    body = simple8b.encode(x)
    assert body is not None and len(body) == 2 + 10 * 8
    assert all(body[2 + 8 * k + 7] >> 4 == 0 for k in range(10))


def test_simple8b_declines_deltas_past_60_bits() -> None:
    assert simple8b.encode(np.array([0, 2**62], np.int64)) is None


def test_rle_is_tiny_on_constants_and_declines_noise() -> None:
    body = rle.encode(np.full(100_000, 7, np.int64))
    assert body is not None and len(body) < 8
    assert rle.encode(np.arange(100, dtype=np.int64)) is None


def test_rans_reaches_the_devops_target() -> None:
    """TSBS devops cpu fields: clamped N(0,1) walks truncated to int, 1,024-value blocks."""
    rng = np.random.default_rng(2016)
    total = 0
    n_blocks = 40
    for _ in range(n_blocks):
        x = np.empty(1024)
        state = rng.uniform(0, 100)
        for i, step in enumerate(rng.normal(0, 1, 1024)):
            state = min(max(state + step, 0.0), 100.0)
            x[i] = state
        total += len(encodings.encode(x.astype(np.int64), "int"))
    assert total / (n_blocks * 1024) <= 0.30


def test_rans_beats_bit_widths_on_noisy_gauges() -> None:
    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(0, 1, 1024)).astype(np.int64)
    r = rans.encode(x)
    s = simple8b.encode(x)
    assert r is not None and s is not None and len(r) < 0.85 * len(s)


def test_uint_codecs_use_the_bit_pattern() -> None:
    x = np.array([2**64 - 1, 0, 2**64 - 1, 1], np.uint64)
    for m in (dod, rans, simple8b, rle):
        body = m.encode(x)
        if body is not None:
            got = m.decode(memoryview(body), x.size)
            assert got.dtype == np.uint64 and same(got, x)


# --- booleans and strings -----------------------------------------------------------------------


def test_bits_cost_one_bit_for_random_and_little_for_runs() -> None:
    rng = np.random.default_rng(9)
    random = rng.random(1024) < 0.5
    body = bits.encode(random)
    assert body is not None and len(body) <= 1024 // 8 + 3
    runs = np.repeat([True, False, True], [10_000, 5_000, 20_000])
    body = bits.encode(runs)
    assert body is not None and len(body) <= 9


def test_dictionary_for_few_distinct_strings() -> None:
    rng = np.random.default_rng(4)
    hosts = _obj([f"host_{i}" for i in range(8)])[rng.integers(0, 8, 1024)]
    body = dictionary.encode(hosts)
    assert body is not None and len(body) < 1024 // 2
    assert same(dictionary.decode(memoryview(body), hosts.size), hosts)
    assert dictionary.encode(_obj([str(i) for i in range(100)])) is None


def test_zstd_strings_keep_lone_surrogates_and_nul() -> None:
    x = _obj(["\ud83d", "a\x00b", "", "\udfff\ud800"])
    body = zstd_strings.encode(x)
    assert body is not None and body[0] == zstd_strings.FLAG_SURROGATES
    assert same(zstd_strings.decode(memoryview(body), x.size), x)


def test_str_blocks_reject_non_strings() -> None:
    with pytest.raises(TypeError):
        encodings.encode(_obj(["a", None]), "str")  # type: ignore[list-item]
    with pytest.raises(TypeError):
        encodings.encode(np.array([1, "a"], dtype=object), "str")


# --- the entropy stage ----------------------------------------------------------------------------


def test_stage_wraps_and_unwraps_any_inner_codec() -> None:
    x = np.tile(np.array([1, 9, 300, -7, 123456], np.int64), 400)  # periodic: zstd finds the repeats
    inner_id, inner = 3, dod.encode(x)
    assert inner is not None
    wrapped = zstd_stage.wrap(inner_id, inner)
    assert wrapped is not None and len(wrapped) < len(inner)
    payload = bytes((STAGE_ID,)) + uvarint(x.size) + wrapped
    assert same(encodings.decode(payload), x)
    assert encodings.describe(payload) == "zstd-stage(dod)"
    assert encodings.describe(encodings.encode(x, "int")).startswith("zstd-stage(")


def test_stage_cannot_nest_itself() -> None:
    with pytest.raises(CorruptPayload):
        decode_nested(bytes((STAGE_ID,)) + b"\x00", 0)


# --- API errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x03",
        b"\xee\x00",
        b"\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
        b"\x03\x80\x80\x80\x80\x01\x00",
    ],
)
def test_malformed_headers_raise_corrupt_payload(payload: bytes) -> None:
    with pytest.raises(CorruptPayload):
        encodings.decode(payload)


def test_encode_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        encodings.encode(np.zeros(3), "decimal")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encodings.encode(np.zeros((2, 2), np.int64), "int")
    with pytest.raises(TypeError):
        encodings.encode(np.array([1.5]), "int")
    with pytest.raises(TypeError):
        encodings.encode(np.array([-1], np.int64), "uint")


def test_encode_widens_safely_and_accepts_datetime64() -> None:
    small = np.array([1, -2, 3], np.int16)
    assert same(encodings.decode(encodings.encode(small, "int")), small.astype(np.int64))
    t = np.array(["2016-01-01T00:00:00", "2016-01-01T00:00:10"], dtype="datetime64[s]")
    got = encodings.decode(encodings.encode(t, "time"))
    assert same(got, t.astype("datetime64[ns]").view(np.int64))


def test_decoded_arrays_are_writable_and_own_their_memory() -> None:
    for kind, values in [
        ("int", np.arange(5, dtype=np.int64)),
        ("float", np.array([1.5, 2.5])),
        ("bool", np.array([True, False])),
        ("str", _obj(["a", "b"])),
    ]:
        out = encodings.decode(encodings.encode(values, kind))  # type: ignore[arg-type]
        assert out.flags.writeable


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 3),
    st.integers(1, 1500),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 1.0),
)
def test_rans_prefix_is_the_blocks_first_values(kind: int, n: int, seed: int, cut: float) -> None:
    """A scan whose time range ends inside a block decodes only the rows up to its end
    (rans._decode_prefix, for the aggregate kernel): they equal the whole block's first rows, for
    every order of the integer front end (values, deltas, delta-of-deltas) and with extra bits."""
    rng = np.random.default_rng(seed)
    v = [
        rng.integers(0, 100, n),
        np.cumsum(rng.normal(0, 3, n)).astype(np.int64),
        rng.integers(-(2**40), 2**40, n),
        (np.arange(n) * 10_000_000_000 + T0).astype(np.int64),
    ][kind]
    body = rans.encode(v)
    if body is None:
        return
    need = max(1, round(cut * n))
    out = np.zeros(n, np.uint64)
    assert rans._decode_prefix(np.frombuffer(body, np.uint8), len(body), out, need) == len(body)
    assert (out[:need].view(np.int64) == v[:need]).all()
    assert not out[need:].any() or need == n or need <= 2  # (nothing written past the prefix)
