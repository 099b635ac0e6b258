"""Non-native byte order (``dtype=">f4"`` on a little-endian machine, or
``out=`` a big-endian array, as ``np.load`` gives for a ``.npy`` written
big-endian): the same numbers as native order, stored in the requested byte
order. The kernels write native order and the core swaps each chunk in place,
so these tests fail if a path forgets the swap (values like 1e17 instead of
0.01) or swaps twice."""
import sys

import numpy as np
import pytest

import fastinit
from support.api_cases import INITIALIZERS, dtypes_of, generate

SWAPPED = ">" if sys.byteorder == "little" else "<"
SHAPE = (37, 70)


def swapped(dtype) -> np.dtype:
    return np.dtype(dtype).newbyteorder(SWAPPED)


def non_native_dtypes(name):
    """The dtypes of initializer name that have a non-native variant
    (bfloat16, an ml_dtypes type, has none: NumPy turns it into raw bytes)."""
    return [dt for dt in dtypes_of(name) if dt.kind in "fu"]


def assert_same_values(swapped_array, native_array):
    assert swapped_array.dtype.byteorder == SWAPPED
    assert swapped_array.shape == native_array.shape
    native = swapped_array.astype(native_array.dtype)  # converts the byte order: values kept
    np.testing.assert_array_equal(native.view(f"u{native.itemsize}"), native_array.view(f"u{native.itemsize}"))


CASES = [(name, dt) for name in INITIALIZERS for dt in non_native_dtypes(name)]
IDS = [f"{name}-{dt}" for name, dt in CASES]


@pytest.mark.parametrize("name, dtype", CASES, ids=IDS)
def test_dtype_in_swapped_order_gives_native_values(name, dtype):
    """As a dtype object and as a string (">f4": the plain-argument fast
    path), twice (a cached plan must swap too)."""
    native = generate(name, SHAPE, 5, 1, dtype)
    if name == "bits":  # bits has no dtype=: only out= selects the byte order
        kws = [{"out": np.empty(SHAPE, swapped(dtype))}]
    else:
        kws = [{"dtype": swapped(dtype)}, {"dtype": swapped(dtype).str}, {"dtype": swapped(dtype).str}]
    for kw in kws:
        assert_same_values(INITIALIZERS[name](SHAPE, 5, stream=1, **kw), native)


@pytest.mark.parametrize("name, dtype", CASES, ids=IDS)
def test_out_and_index_in_swapped_order(name, dtype):
    full = generate(name, SHAPE, 5, 1, dtype)
    for index in [(slice(3, 30), slice(1, 69)), [36, 0, 5, 5, -1]]:
        expected = full[index]
        out = np.full(expected.shape, 7, swapped(dtype))
        result = generate(name, SHAPE, 5, 1, None, out=out, index=index)
        assert result is out
        assert_same_values(out, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_misaligned_swapped_out(dtype):
    """A view at an odd byte offset goes through the core's staging block."""
    n = 1000
    size = np.dtype(dtype).itemsize
    out = np.zeros(n * size + 1, np.uint8)[1:].view(swapped(dtype))
    assert not out.flags.aligned
    fastinit.normal(n, 3, out=out)
    assert_same_values(out, fastinit.normal(n, 3, dtype=dtype))


def test_swapped_fill_of_several_chunks():
    """The core fills large arrays in chunks (Ctrl-C is checked between them)
    and swaps each: every chunk, not only the first, must come out right."""
    n = 5_000_000  # the first chunk is 4 Mi elements per thread
    x = fastinit.uniform(n, 2, dtype=swapped("float32"), threads=1)
    assert_same_values(x, fastinit.uniform(n, 2, threads=1))


def test_dask_chunks_in_swapped_order():
    fdask = pytest.importorskip("fastinit.dask")
    lazy = fdask.he_normal((300, 50), seed=4, dtype=swapped("float32"), chunks=(64, 20))
    assert lazy.dtype == swapped("float32")
    assert_same_values(lazy.compute(), fastinit.he_normal((300, 50), 4))
