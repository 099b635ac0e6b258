"""index= as row ids: exactly full[row_ids], without the full table."""
import numpy as np
import pytest

import fastinit


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


@pytest.mark.parametrize("index, err, match", [
    ([10], ValueError, "index row id 10"), ([-11], ValueError, "index row id -11"),
    (np.zeros((2, 2), int), ValueError, "index"), ([1.0, 2.0], TypeError, "index"),
    ([True, False], TypeError, "index"),
])
def test_bad_row_ids(index, err, match):
    out = np.full((len(index), 4), 7.0, dtype=np.float32)
    with pytest.raises(err, match=match):
        fastinit.normal((10, 4), seed=0, index=index, out=out if out.ndim == 2 and len(index) != 2 else None)
    assert np.all(out == 7.0)
