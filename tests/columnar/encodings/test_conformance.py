"""One conformance suite over every codec in the registry and every kind it claims.

Each codec must round-trip every boundary block of its kinds exactly (or decline it with None), every
kind must round-trip through encode/decode for arbitrary data (hypothesis), and no damaged payload may
crash a decoder or raise anything but CorruptPayload.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from columnar import encodings
from columnar.encodings import CODECS, CorruptPayload
from columnar.encodings._select import STAGE_ID
from tests.columnar.encodings.blocks import BOUNDARY, same

PAIRS = [(cid, kind) for cid, m in sorted(CODECS.items()) for kind in m.KINDS]


def _ids(pair: tuple[int, str]) -> str:
    return f"{CODECS[pair[0]].NAME}-{pair[1]}"


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_codec_round_trips_boundary_blocks(pair: tuple[int, str]) -> None:
    cid, kind = pair
    m = CODECS[cid]
    applied = 0
    for name, values in BOUNDARY[kind].items():
        body = m.encode(encodings._coerce(values, kind))
        if body is None:
            continue
        applied += 1
        assert isinstance(body, bytes)
        got = m.decode(memoryview(body), values.size)
        want = values if kind != "time" else values.astype(np.int64)
        assert same(got, want), f"{m.NAME} on {kind} block {name!r}"
        # the same body inside a full payload
        payload = bytes((cid,)) + encodings._core.uvarint(values.size) + body
        assert encodings.decode_count(payload) == values.size
        assert same(encodings.decode(payload), want)
    assert applied, f"{m.NAME} declined every {kind} boundary block"


@pytest.mark.parametrize("kind", list(BOUNDARY))
def test_encode_picks_the_smallest_and_round_trips(kind: str) -> None:
    for name, values in BOUNDARY[kind].items():
        payload = encodings.encode(values, kind)  # type: ignore[arg-type]
        assert same(encodings.decode(payload), values), name
        assert encodings.decode_count(payload) == values.size
        coerced = encodings._coerce(values, kind)
        inner = [m for m in CODECS.values() if kind in m.KINDS and m.ID != STAGE_ID]
        sizes = [len(b) for m in inner if (b := m.encode(coerced)) is not None]
        assert len(payload) <= 1 + len(encodings._core.uvarint(values.size)) + min(sizes), name


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_damaged_payloads_raise_corrupt_payload(pair: tuple[int, str]) -> None:
    cid, kind = pair
    m = CODECS[cid]
    rng = np.random.default_rng(cid * 31 + len(kind))
    tried = 0
    for values in BOUNDARY[kind].values():
        if values.size > 3000:
            continue
        body = m.encode(encodings._coerce(values, kind))
        if body is None:
            continue
        payload = bytes((cid,)) + encodings._core.uvarint(values.size) + body
        variants: list[bytes] = [payload[:cut] for cut in range(len(payload))][:64]
        variants += [payload[: len(payload) - k] for k in (1, 2, 8) if k < len(payload)]
        variants.append(payload + b"\x00")
        for _ in range(24):
            damaged = bytearray(payload)
            pos = int(rng.integers(0, len(damaged)))
            damaged[pos] ^= 1 << int(rng.integers(0, 8))
            variants.append(bytes(damaged))
        for bad in variants:
            tried += 1
            try:
                out = encodings.decode(bad)
            except CorruptPayload:
                continue
            # a damaged payload may still be well-formed; then it must describe its own count
            assert isinstance(out, np.ndarray) and out.shape == (encodings.decode_count(bad),)
    assert tried


def test_corrupt_payload_is_a_value_error_and_a_storage_error() -> None:
    from columnar.errors import CorruptData

    with pytest.raises(ValueError):
        encodings.decode(b"\xee\x01\x00")
    with pytest.raises(CorruptData):
        encodings.decode(b"")


# --- property tests: every kind through encode/decode ---------------------------------------------

_LEN = st.integers(0, 300)
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _int_blocks(dtype: type, lo: int, hi: int) -> st.SearchStrategy[np.ndarray]:
    anything = hnp.arrays(dtype, _LEN, elements=st.integers(lo, hi))
    small = hnp.arrays(dtype, _LEN, elements=st.integers(max(lo, -50), min(hi, 50)))
    runs: st.SearchStrategy[np.ndarray] = st.lists(
        st.tuples(st.integers(lo, hi), st.integers(1, 400)), max_size=8
    ).map(lambda rs: np.array([v for v, k in rs for _ in range(k)], dtype=dtype))

    def walk(a: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.cumsum(a, dtype=dtype)

    return st.one_of(anything, small, runs, small.map(walk), small.map(walk).map(walk))


@given(_int_blocks(np.int64, -(2**63), 2**63 - 1), st.sampled_from(["time", "int"]))
@_SETTINGS
def test_ints_round_trip(values: np.ndarray, kind: str) -> None:
    assert same(encodings.decode(encodings.encode(values, kind)), values)  # type: ignore[arg-type]


@given(_int_blocks(np.uint64, 0, 2**64 - 1))
@_SETTINGS
def test_uints_round_trip(values: np.ndarray) -> None:
    assert same(encodings.decode(encodings.encode(values, "uint")), values)


_FLOATS = st.one_of(
    hnp.arrays(np.float64, _LEN, elements=st.floats(allow_nan=True, allow_infinity=True)),
    hnp.arrays(np.int64, _LEN, elements=st.integers(-(10**9), 10**9)).map(lambda a: a / 100.0),
    hnp.arrays(np.int64, _LEN, elements=st.integers(-(10**6), 10**6)).map(lambda a: np.round(a / 1000.0, 3)),
    hnp.arrays(np.uint64, _LEN, elements=st.integers(0, 2**64 - 1)).map(lambda a: a.view(np.float64)),
)


@given(_FLOATS)
@_SETTINGS
def test_floats_round_trip(values: np.ndarray) -> None:
    assert same(encodings.decode(encodings.encode(values, "float")), values)


@given(
    st.one_of(
        hnp.arrays(np.bool_, _LEN),
        st.lists(st.tuples(st.booleans(), st.integers(1, 500)), max_size=10).map(
            lambda rs: np.array([v for v, k in rs for _ in range(k)], dtype=np.bool_)
        ),
    )
)
@_SETTINGS
def test_bools_round_trip(values: np.ndarray) -> None:
    assert same(encodings.decode(encodings.encode(values, "bool")), values)


_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec=None), max_size=5),  # includes lone surrogates
    st.sampled_from(["host_1", "host_2", ""]),
)


def _obj(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


@given(st.lists(_TEXT, max_size=200).map(_obj))
@_SETTINGS
def test_strs_round_trip(values: np.ndarray) -> None:
    assert same(encodings.decode(encodings.encode(values, "str")), values)


_BY_KIND: dict[str, st.SearchStrategy[np.ndarray]] = {
    "time": _int_blocks(np.int64, -(2**63), 2**63 - 1),
    "int": _int_blocks(np.int64, -(2**63), 2**63 - 1),
    "uint": _int_blocks(np.uint64, 0, 2**64 - 1),
    "float": _FLOATS,
    "bool": hnp.arrays(np.bool_, _LEN),
    "str": st.lists(_TEXT, max_size=100).map(_obj),
}


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
@given(data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_codec_round_trips_arbitrary_blocks(pair: tuple[int, str], data: st.DataObject) -> None:
    cid, kind = pair
    m = CODECS[cid]
    values = data.draw(_BY_KIND[kind])
    body = m.encode(encodings._coerce(values, kind))
    if body is not None:
        assert same(m.decode(memoryview(body), values.size), values)
