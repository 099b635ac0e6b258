"""Huge logical arrays, reached through index= (nothing large is allocated):
flat indices beyond 2**31, 2**32 and where the Philox block number itself
passes 2**32 agree with an independent Philox, across different splits of a
block and across thread counts; shapes with more than 2**63 - 1 elements, or
an axis that no array can have, raise ValueError naming the shape."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit
from support.api_cases import ADDRESSABLE, FLOAT_ADDRESSABLE, INITIALIZERS, as_bytes, dtypes_of, generate
from support import philox_ref

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


TOO_BIG = [
    (2**63,),            # one more element than the largest flat index allows
    (2**62, 2),
    (2**21, 2**21, 2**21),
    (2**32, 2**32),      # 2**64 elements: wraps a 64-bit count to 0
    (2**32, 2**32, 3),   # wraps to a small nonzero count
    (10**12, 10**12),
    (2**64 + 1,),
    (0, 2**64),          # no elements, but no array can have such an axis
    (2**63, 0),
]


@pytest.mark.parametrize("shape", TOO_BIG, ids=str)
@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_too_large_shape_raises(name, shape):
    with pytest.raises(ValueError, match="shape"):
        generate(name, shape, 0, dtype=dtypes_of(name)[0])


def test_largest_shape_is_allowed():
    last = fastinit.bits(MAX_SHAPE, 7, index=slice(-3, None))
    assert last.tolist() == philox_ref.bits(7, 0, 2**63 - 4, 3).tolist()
