"""The determinism contract: the same bits for every thread count, range
split, sub-block (index=) and environment, with the threads really used
checked through _core.last_fill_info(). (ISA paths: test_isa.py; golden
hashes of released outputs: test_golden.py.)"""

import numpy as np
import pytest

import fastinit
from fastinit import _core, _plan

from support import philox_ref
from support.pool_threads import reaches, threads_used

THREADED_N = 2**18 + 37  # enough that 4 threads are really used, plus a partial lane group

GENERATORS = [  # (name, call(shape, seed, **kw)), one per kernel
    ("bits", lambda shape, seed, **kw: fastinit.bits(shape, seed, 3, **kw)),
    ("uniform_f32", lambda shape, seed, **kw: fastinit.uniform(shape, seed, -2.0, 5.0, **kw)),
    ("uniform_f64", lambda shape, seed, **kw: fastinit.uniform(shape, seed, -2.0, 5.0, dtype=np.float64, **kw)),
    ("normal_f32", lambda shape, seed, **kw: fastinit.normal(shape, seed, 1.0, 0.5, **kw)),
    ("normal_f64", lambda shape, seed, **kw: fastinit.normal(shape, seed, 1.0, 0.5, dtype=np.float64, **kw)),
]
GEN_IDS = [name for name, _ in GENERATORS]
GENS = [f for _, f in GENERATORS]

INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                "lecun_uniform", "lecun_normal", "variance_scaling", "uniform", "normal"]


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


@pytest.mark.parametrize("gen", GENS, ids=GEN_IDS)
def test_thread_count_does_not_change_bits(gen):
    one = gen(THREADED_N, 77, threads=1)
    assert threads_used() == 1
    for threads in (2, 3, 4):
        _same_bits(gen(THREADED_N, 77, threads=threads), one)
        assert reaches(lambda: _same_bits(gen(THREADED_N, 77, threads=threads), one), threads)


def test_small_arrays_stay_on_the_calling_thread():
    """Below twice MIN_ELEMENTS_PER_THREAD no other thread takes part,
    whatever threads= says; from there, one thread per MIN_ELEMENTS_PER_THREAD."""
    per_thread = _plan.MIN_ELEMENTS_PER_THREAD
    for n in (1, 4097, 2 * per_thread - 1):
        fastinit.normal(n, 3, threads=8)
        assert threads_used() == 1
    assert reaches(lambda: fastinit.normal(2 * per_thread, 3, threads=8), 2)
    assert reaches(lambda: fastinit.normal(3 * per_thread, 3, threads=8), 3)


def test_threads_match_reference():
    np.testing.assert_array_equal(fastinit.bits(THREADED_N, 77, 3, threads=4),
                                  philox_ref.bits(77, 3, 0, THREADED_N))


@pytest.mark.parametrize("gen", GENS, ids=GEN_IDS)
def test_threads_with_index_runs(gen):
    """Many short runs (a column block) split over threads."""
    shape, index = (4096, 300), (slice(5, 4001), slice(17, 190))
    one = gen(shape, 5, index=index, threads=1)
    for threads in (2, 4):
        _same_bits(gen(shape, 5, index=index, threads=threads), one)
    _same_bits(one, gen(shape, 5)[index])


@pytest.mark.parametrize("threads", ["1", "3"])
def test_env_thread_count_does_not_change_bits(monkeypatch, threads):
    default = fastinit.normal(THREADED_N, 9)
    monkeypatch.setenv("FASTINIT_NUM_THREADS", threads)
    _same_bits(fastinit.normal(THREADED_N, 9), default)
    # the variable is honoured, not just read
    assert reaches(lambda: fastinit.normal(THREADED_N, 9), int(threads))
    _same_bits(fastinit.he_uniform((512, 513), 9), fastinit.he_uniform((512, 513), 9, threads=2))


@pytest.mark.parametrize("gen", GENS, ids=GEN_IDS)
def test_random_range_splits(gen):
    rng = np.random.default_rng(1)
    n = 10_000
    full = gen(n, 123)
    for _ in range(5):
        cuts = np.sort(rng.integers(0, n + 1, size=rng.integers(1, 12)))
        bounds = [0, *cuts.tolist(), n]
        pieces = [gen(n, 123, index=(slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]
        _same_bits(np.concatenate(pieces), full)


def _random_block(rng, shape):
    """A random basic-slice block of shape, with None, negative and empty
    bounds, over all or only the leading axes."""
    index = []
    for n in shape[: rng.integers(1, len(shape) + 1)]:
        a, b = sorted(rng.integers(0, n + 1, size=2).tolist())
        start = rng.choice([a, a - n, None]) if a == 0 else rng.choice([a, a - n])
        stop = rng.choice([b, b - n, None]) if b == n else rng.choice([b, b - n])
        index.append(slice(None if start is None else int(start), None if stop is None else int(stop)))
    return tuple(index)


BLOCK_SHAPES = [(1000,), (37, 41), (64, 3, 33), (5, 7, 9, 11), (3, 1, 130, 2)]


@pytest.mark.parametrize("shape", BLOCK_SHAPES)
@pytest.mark.parametrize("name", INITIALIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_index_block_equals_full_slice(name, dtype, shape):
    f = getattr(fastinit, name)
    rng = np.random.default_rng(len(shape) * 1000 + INITIALIZERS.index(name))
    full = f(shape, 2024, dtype=dtype, stream=6)
    for _ in range(6):
        index = _random_block(rng, shape)
        _same_bits(f(shape, 2024, dtype=dtype, stream=6, index=index), full[index])


@pytest.mark.parametrize("shape", BLOCK_SHAPES)
def test_bits_index_block_equals_full_slice(shape):
    rng = np.random.default_rng(len(shape))
    full = fastinit.bits(shape, 2024)
    for _ in range(10):
        index = _random_block(rng, shape)
        _same_bits(fastinit.bits(shape, 2024, index=index), full[index])


def test_single_slice_index_and_torch_layout():
    full = fastinit.kaiming_normal((64, 32, 3, 3), 1, layout="torch")
    _same_bits(fastinit.kaiming_normal((64, 32, 3, 3), 1, layout="torch", index=slice(8, 24)), full[8:24])


def test_same_call_same_bits_and_seed_none_differs():
    _same_bits(fastinit.he_normal((100, 100), 5), fastinit.he_normal((100, 100), 5))
    assert not np.array_equal(fastinit.he_normal((100, 100)), fastinit.he_normal((100, 100)))


def test_stream_and_seed_change_bits():
    base = fastinit.glorot_uniform((100, 100), 5)
    assert not np.array_equal(base, fastinit.glorot_uniform((100, 100), 5, stream=1))
    assert not np.array_equal(base, fastinit.glorot_uniform((100, 100), 6))
