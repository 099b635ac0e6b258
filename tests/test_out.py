"""out=: filled in place, the same object returned, equal to a fresh result;
dtype=None takes out's dtype; works with index=."""
import numpy as np
import pytest

import fastinit

NAMES = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
         "lecun_normal", "variance_scaling", "uniform", "normal", "bits"]


def _dtypes(name):
    return [np.uint32] if name == "bits" else [np.float32, np.float64]


@pytest.mark.parametrize("name, dtype", [(n, d) for n in NAMES for d in _dtypes(n)])
def test_out_filled_in_place(name, dtype):
    f = getattr(fastinit, name)
    shape = (33, 70)
    out = np.full(shape, 3, dtype=dtype)
    fresh = f(shape, 12, stream=2) if name == "bits" else f(shape, 12, stream=2, dtype=dtype)
    got = f(shape, 12, stream=2, out=out)  # dtype=None: out's dtype
    assert got is out
    assert got.dtype == dtype
    np.testing.assert_array_equal(out, fresh)


@pytest.mark.parametrize("name", NAMES)
def test_out_with_explicit_matching_dtype(name):
    dtype = np.uint32 if name == "bits" else np.float64
    kwargs = {} if name == "bits" else {"dtype": np.float64}
    out = np.zeros((20, 9), dtype)
    f = getattr(fastinit, name)
    assert f((20, 9), 4, out=out, **kwargs) is out
    np.testing.assert_array_equal(out, f((20, 9), 4, **kwargs))


@pytest.mark.parametrize("name", NAMES)
def test_out_with_index(name):
    f = getattr(fastinit, name)
    shape, index = (50, 30, 4), (slice(10, 45), slice(3, 29))
    dtype = np.uint32 if name == "bits" else np.float64
    out = np.zeros((35, 26, 4), dtype)
    kwargs = {} if name == "bits" else {"dtype": np.float64}
    assert f(shape, 8, index=index, out=out) is out
    np.testing.assert_array_equal(out, f(shape, 8, **kwargs)[index])


def test_out_is_a_view_into_a_bigger_buffer():
    """A C-contiguous view (rows of a bigger array) is filled in place and the
    rest of the buffer is left alone."""
    buffer = np.full((10, 64), -1.0, np.float32)
    view = buffer[2:6]
    assert fastinit.he_normal((4, 64), 1, out=view) is view
    np.testing.assert_array_equal(buffer[2:6], fastinit.he_normal((4, 64), 1))
    assert (buffer[:2] == -1).all() and (buffer[6:] == -1).all()


def test_out_overwrites_every_element_with_threads():
    n = 2**18 + 5
    out = np.full(n, np.nan, np.float32)
    fastinit.normal(n, 3, out=out, threads=4)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, fastinit.normal(n, 3, threads=1))


def test_out_scalar_shape():
    out = np.zeros((), np.float32)
    assert fastinit.lecun_normal((), 5, out=out) is out
    assert out == fastinit.lecun_normal((), 5)
