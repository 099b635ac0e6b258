"""index=: a block of the full array made alone. Row ids give exactly
full[row_ids] without the full table; huge logical arrays are reached
through index= (nothing large is allocated): flat indices beyond 2**31,
2**32 and where the Philox block number itself passes 2**32 agree with an
independent Philox, across different splits of a block and across thread
counts. (Slices against full arrays: test_determinism.py, test_properties.py;
bad index= arguments: test_errors.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import fastinit
from fastinit import _core
from support import philox_ref
from support.api_cases import ADDRESSABLE, FLOAT_ADDRESSABLE, as_bytes, dtypes_of, generate


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("fn, kwargs", [
    (fastinit.normal, {}), (fastinit.uniform, {}), (fastinit.truncated_normal, dict(a=0.0, b=3.0)),
    (fastinit.he_normal, {}), (fastinit.glorot_uniform, {}), (fastinit.orthogonal, {}),
])
def test_rows_equal_full_rows(fn, kwargs, dtype):
    shape = (500, 3, 7)
    full = fn(shape, seed=9, dtype=dtype, **kwargs)
    ids = [17, 3, 3, 499, -1, -500, 0, 250]
    rows = fn(shape, seed=9, dtype=dtype, index=ids, **kwargs)
    np.testing.assert_array_equal(rows, full[ids])
    arr = np.array(ids, dtype=np.int32)
    np.testing.assert_array_equal(fn(shape, seed=9, dtype=dtype, index=arr, **kwargs), full[arr])


def test_bits_rows_and_threads():
    shape = (40_000, 33)  # rows of 33 words: runs cut lane groups everywhere
    full = fastinit.bits(shape, seed=1)
    ids = np.random.default_rng(0).integers(0, shape[0], size=30_000)  # enough work for 3 threads
    np.testing.assert_array_equal(fastinit.bits(shape, seed=1, index=ids, threads=3), full[ids])
    np.testing.assert_array_equal(fastinit.bits(shape, seed=1, index=ids.astype(np.uint64), threads=1), full[ids])


def test_huge_table_rows_on_demand():
    """A (10**12, 64) table: rows by id equal the same rows cut by slices
    (the slice path was checked against full arrays above and in the core
    tests), fans come from the full shape, nothing big is allocated."""
    V, D = 10**12, 64
    ids = np.array([V - 1, 0, 123_456_789_012, 5, 123_456_789_012], dtype=np.int64)
    rows = fastinit.he_normal((V, D), seed=4, index=ids, dtype=np.float64)
    assert rows.shape == (5, D)
    for r, i in zip(rows, ids):
        np.testing.assert_array_equal(r, fastinit.he_normal((V, D), seed=4, index=slice(i, i + 1),
                                                            dtype=np.float64)[0])
    # std = sqrt(2 / fan_in), fan_in = V for a (V, D) matrix in the (in, out) layout
    assert 0.5 < rows.std() / np.sqrt(2 / V) < 1.5
    emb = fastinit.normal((V, D), seed=4, index=[V - 1])
    np.testing.assert_array_equal(emb, fastinit.normal((V, D), seed=4, index=slice(V - 1, V)))


def test_empty_rows():
    x = fastinit.normal((10, 4), seed=0, index=[])
    assert x.shape == (0, 4)


MAX_SHAPE = (2**63 - 1,)

# Flat indices just around the places an int32/uint32 index or block number
# would wrap: 2**31, 2**32 elements, 2**38 elements (block number 2**32 for
# 32-bit outputs), 2**40, 2**62 and the last element of the largest array.
STARTS = [2**31 - 300, 2**32 - 500, 2**37 - 613, 2**38 - 250, 2**40 + 3, 2**62 + 17, 2**63 - 1 - 1000]


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("seed, stream", [(0, 0), (2**64 - 1, 2**64 - 1), (0x123456789, 2**40 + 7)])
def test_bits_at_huge_index_match_reference(start, seed, stream):
    got = fastinit.bits(MAX_SHAPE, seed, stream, index=slice(start, start + 70))
    want = philox_ref.bits(seed, stream, start, 70).tolist()
    assert got.tolist() == want


# Flat starts beyond 2**34 elements where the Philox counter n crosses 2**32
# (n = 16 g + lane: element 2**34 of a 32-bit output, 2**33 of a float64 one)
# and further out, each block straddling the crossing or a 2**k boundary.
ACROSS_COUNTER_2_32 = {"bits": [2**34 - 40, 2**36 - 7, 2**62 + 9], "uniform_f32": [2**34 - 40, 2**40 - 3],
                       "uniform_f64": [2**33 - 20, 2**34 - 5, 2**41 + 1]}


@pytest.fixture(params=_core.supported_isas())
def forced_isa(request):
    """Every ISA path this CPU has, scalar included (the path non-x86 builds run)."""
    before = _core.get_isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(before)


@pytest.mark.parametrize("kind", list(ACROSS_COUNTER_2_32))
@pytest.mark.parametrize("seed, stream", [(0, 0), (2**64 - 1, 2**64 - 1), (0x123456789, 2**40 + 7)])
def test_huge_positions_match_reference_on_every_path(forced_isa, kind, seed, stream):
    """Catches a path that keeps the counter or the position in 32 bits:
    blocks beyond 2**34 elements, across counter 2**32, equal the
    independent reference bit for bit on that path."""
    n = 150
    for start in ACROSS_COUNTER_2_32[kind]:
        if kind == "bits":
            got, want = fastinit.bits(MAX_SHAPE, seed, stream, index=slice(start, start + n)), \
                philox_ref.bits(seed, stream, start, n)
        else:
            dtype = np.float32 if kind == "uniform_f32" else np.float64
            got = fastinit.uniform(MAX_SHAPE, seed, -2.0, 3.0, stream=stream, dtype=dtype,
                                   index=slice(start, start + n))
            want = philox_ref.uniform(seed, stream, start, n, -2.0, 3.0, dtype)
        assert _core.last_fill_info()["isa"] == forced_isa
        assert got.tobytes() == want.astype(got.dtype).tobytes(), (start, forced_isa)


def _splits(a, n):
    """Split points inside [a, a + n): the middle, just after a, lane-group
    edges of both group sizes and an odd point."""
    return sorted({a + n // 2, a + 1, a + 63, a + (-a) % 64 + 64, a + (-a) % 32 + 32, a + n - 1})


@pytest.mark.parametrize("name", list(ADDRESSABLE))
def test_block_at_huge_index_equals_any_split(name):
    n = 1000
    for dtype in dtypes_of(name):
        for a in STARTS:
            whole = generate(name, MAX_SHAPE, 2026, 9, dtype, index=slice(a, a + n))
            for cut in _splits(a, n):
                left = generate(name, MAX_SHAPE, 2026, 9, dtype, index=slice(a, cut))
                right = generate(name, MAX_SHAPE, 2026, 9, dtype, index=slice(cut, a + n))
                assert as_bytes(np.concatenate([left, right])) == as_bytes(whole), (dtype, a, cut)


@pytest.mark.parametrize("name", list(ADDRESSABLE))
def test_block_at_huge_index_independent_of_threads(name):
    n = 300_000  # several threads really run
    a = 2**38 - 12_345
    for dtype in dtypes_of(name):
        runs = {as_bytes(generate(name, (2**40,), 5, 2**33, dtype, index=slice(a, a + n), threads=t))
                for t in (1, 2, 3)}
        assert len(runs) == 1, dtype


@pytest.mark.parametrize("name", ["bits", "uniform", "normal"])
def test_rows_of_huge_matrix_equal_flat_blocks(name):
    """Position-only generators: element (r, c) of a (10**12, 128) array is
    flat element 128 r + c, whatever the shape."""
    rows, cols = 10**12, 128
    for dtype in dtypes_of(name):
        for r in (2**25 - 1, 2**31 // cols + 3, rows - 3):
            block = generate(name, (rows, cols), 1, 2, dtype, index=(slice(r, r + 3), slice(5, 100)))
            flat = generate(name, (rows * cols,), 1, 2, dtype, index=slice(r * cols, (r + 3) * cols))
            assert as_bytes(block) == as_bytes(flat.reshape(3, cols)[:, 5:100]), (dtype, r)


@pytest.mark.parametrize("name", list(FLOAT_ADDRESSABLE))
def test_shards_of_huge_table_equal_the_block(name):
    """A block of a huge embedding table made at once equals the same block
    made as row shards and as column shards (fans from the full shape)."""
    shape = (10**12, 128)
    r = 2**33 + 11
    for dtype in dtypes_of(name):
        whole = generate(name, shape, 3, 4, dtype, index=(slice(r, r + 6), slice(3, 120)))
        by_rows = [generate(name, shape, 3, 4, dtype, index=(slice(r + i, r + i + 2), slice(3, 120)))
                   for i in range(0, 6, 2)]
        by_cols = [generate(name, shape, 3, 4, dtype, index=(slice(r, r + 6), slice(c, c + 39)))
                   for c in range(3, 120, 39)]
        assert as_bytes(np.concatenate(by_rows, axis=0)) == as_bytes(whole), dtype
        assert as_bytes(np.concatenate(by_cols, axis=1)) == as_bytes(whole), dtype


def test_large_fill_equals_separately_generated_blocks():
    """A fill long enough to be split into several GIL-free chunks (their size
    depends on timing) equals blocks generated one by one."""
    n = 2**23 + 12_345
    for dtype in (np.float32, np.float64):
        whole = fastinit.normal(n, 11, stream=3, dtype=dtype, threads=2)
        edges = list(range(0, n, 1_000_003)) + [n]
        parts = [fastinit.normal(n, 11, stream=3, dtype=dtype, index=slice(a, b), threads=1)
                 for a, b in zip(edges, edges[1:])]
        assert as_bytes(np.concatenate(parts)) == as_bytes(whole), dtype
