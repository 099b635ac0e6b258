"""Philox4x32 known answers (Random123) and the lane-group layout of bits():
the C core against the published vectors and against the NumPy reference."""
import os

import numpy as np
import pytest

import fastinit
from fastinit import _core

from support import philox_ref

DATA = os.path.join(os.path.dirname(__file__), "data")


def _kat_lines():
    with open(os.path.join(DATA, "random123_kat_vectors.txt")) as f:
        rows = [line.split() for line in f if line.strip() and not line.startswith("#")]
    return [(int(r[1]), [int(x, 16) for x in r[2:6]], [int(x, 16) for x in r[6:8]],
             tuple(int(x, 16) for x in r[8:12])) for r in rows if r[0] == "philox4x32"]


def _layout_lines():
    with open(os.path.join(DATA, "bits_layout_vectors.txt")) as f:
        rows = [line.split() for line in f if line.strip() and not line.startswith("#")]
    return [(int(s), int(t), int(i), int(w, 16)) for s, t, i, w in rows]


KATS = _kat_lines()
LAYOUT = _layout_lines()


def test_vector_files_are_complete():
    assert sorted(r for r, *_ in KATS) == [7, 7, 7, 10, 10, 10]
    assert len(LAYOUT) == 153


@pytest.mark.parametrize("rounds, ctr, key, expected", KATS)
def test_random123_kat_core(rounds, ctr, key, expected):
    assert _core.philox4x32(rounds, ctr, key) == expected


@pytest.mark.parametrize("rounds, ctr, key, expected", KATS)
def test_random123_kat_reference(rounds, ctr, key, expected):
    got = philox_ref.philox4x32([np.uint64(c) for c in ctr], key, rounds)
    assert tuple(int(w) for w in got) == expected


def test_bits_all_zero_kat_in_layout():
    """Elements 0, 16, 32, 48 of bits((64,), 0) are the 4 words of the all-zero
    counter and key (docs/design.md)."""
    expected = next(e for r, c, k, e in KATS if r == 10 and c == [0] * 4 and k == [0, 0])
    assert tuple(int(x) for x in fastinit.bits((64,), 0)[::16]) == expected


@pytest.mark.parametrize("seed, stream, index, word", LAYOUT)
def test_bits_layout_vectors(seed, stream, index, word):
    # a huge logical 1-D array; only the one element is generated
    got = fastinit.bits((2**63 - 1,), seed, stream, index=(slice(index, index + 1),))
    assert got.shape == (1,) and got.dtype == np.uint32
    assert int(got[0]) == word


@pytest.mark.parametrize("seed, stream, index, word", LAYOUT)
def test_reference_matches_layout_vectors(seed, stream, index, word):
    assert int(philox_ref.bits(seed, stream, index, 1)[0]) == word


def test_bits_first_groups_match_reference():
    """Whole array from position 0: several lane groups plus a partial one."""
    n = 64 * 5 + 23
    np.testing.assert_array_equal(fastinit.bits(n, 7, 3), philox_ref.bits(7, 3, 0, n))


def _random_cases(count, rng):
    edge = [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 2, 2**64 - 1]
    for _ in range(count):
        seed, stream = (edge[rng.integers(len(edge))] if rng.random() < 0.3
                        else int(rng.integers(0, 2**64, dtype=np.uint64)) for _ in range(2))
        # offsets anywhere, many beyond 2**32 (block numbers beyond one 32-bit word)
        start = int(rng.integers(0, 2**62)) >> int(rng.integers(0, 62))
        yield seed, stream, start, int(rng.integers(1, 300))


@pytest.mark.parametrize("seed, stream, start, count", list(_random_cases(40, np.random.default_rng(2))))
def test_bits_match_reference_at_random_offsets(seed, stream, start, count):
    got = fastinit.bits((2**63 - 1,), seed, stream, index=(slice(start, start + count),))
    np.testing.assert_array_equal(got, philox_ref.bits(seed, stream, start, count))


def test_bits_block_numbers_beyond_32_bits():
    """Counter word 1 (n >> 32) is used: positions 64 * 2**28 apart differ in
    n by 2**32 and must not repeat."""
    start = 64 * 2**28
    a = fastinit.bits((2**40,), 5, index=(slice(0, 64),))
    b = fastinit.bits((2**40,), 5, index=(slice(start, start + 64),))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(b, philox_ref.bits(5, 0, start, 64))


def test_seed_and_stream_use_all_64_bits():
    base = fastinit.bits(256, 1, 1)
    for seed, stream in [(1 + 2**32, 1), (1 + 2**63, 1), (1, 1 + 2**32), (1, 1 + 2**63)]:
        other = fastinit.bits(256, seed, stream)
        assert not np.array_equal(base, other)
        np.testing.assert_array_equal(other, philox_ref.bits(seed, stream, 0, 256))


def test_numpy_integer_seed_and_stream():
    np.testing.assert_array_equal(fastinit.bits(100, np.uint64(2**64 - 1), np.int64(3)),
                                  fastinit.bits(100, 2**64 - 1, 3))


def test_bits_shape_is_c_order_flat_layout():
    full = fastinit.bits((3, 5, 7), 11)
    np.testing.assert_array_equal(full.ravel(), philox_ref.bits(11, 0, 0, 105))
