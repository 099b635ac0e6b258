"""float16 / bfloat16: each element is the float32 element at the same
position rounded to nearest even; bounds still hold after rounding."""
import numpy as np
import pytest

import fastinit

SHAPE = (257, 129)
INITIALIZERS = [
    (fastinit.uniform, dict(low=-0.3, high=0.7)),
    (fastinit.normal, dict(mean=0.5, std=3.0)),
    (fastinit.normal, dict(std=1e-5)),      # float16 subnormals
    (fastinit.normal, dict(std=1e4)),       # float16 near its largest value
    (fastinit.truncated_normal, dict(a=-1.5, b=2.0)),
    (fastinit.glorot_uniform, {}), (fastinit.glorot_normal, {}),
    (fastinit.he_uniform, {}), (fastinit.he_normal, dict(distribution="truncated_normal")),
    (fastinit.lecun_uniform, {}), (fastinit.lecun_normal, {}),
    (fastinit.variance_scaling, dict(scale=3.0, mode="fan_avg", distribution="uniform")),
    (fastinit.orthogonal, {}),
]


def bf16():
    return pytest.importorskip("ml_dtypes").bfloat16


def rounded_like(x32, dtype):
    with np.errstate(over="ignore"):
        return x32.astype(dtype)


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("fn, kwargs", INITIALIZERS)
def test_half_is_float32_rounded(fn, kwargs, half):
    dtype = np.float16 if half == "float16" else bf16()
    x32 = fn(SHAPE, seed=3, dtype=np.float32, **kwargs)
    x = fn(SHAPE, seed=3, dtype=dtype, **kwargs)
    assert x.dtype == np.dtype(dtype)
    expected = rounded_like(x32, dtype)
    differ = x.view(np.uint16) != expected.view(np.uint16)
    # the only exception: uniform values that round up to high (rounded to
    # the dtype) are capped to the value below it
    top = expected.max()
    assert np.all(expected[differ] == top)
    assert np.all(x[differ] == np.nextafter(top, dtype(-np.inf)))
    assert not differ.any() or "uniform" in fn.__name__ or kwargs.get("distribution") == "uniform"


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_uniform_never_returns_high_after_rounding(half):
    dtype = np.float16 if half == "float16" else bf16()
    x32 = fastinit.uniform(10**6, seed=1, dtype=np.float32)
    x = fastinit.uniform(10**6, seed=1, dtype=dtype)
    expected = rounded_like(x32, dtype)
    capped = expected >= 1  # float32 values just below 1 that round up to 1
    assert capped.any()  # the case this test is about occurs
    assert float(x.max()) < 1.0
    np.testing.assert_array_equal(x[~capped].view(np.uint16), expected[~capped].view(np.uint16))
    assert np.all(x[capped] == np.nextafter(dtype(1), dtype(0)))


def test_truncated_bounds_hold_after_rounding():
    # 0.1 and 0.3 are not float16 values: results stay inside [0.1, 0.3]
    x = fastinit.truncated_normal(10**5, seed=2, mean=0.2, std=0.1, a=0.1, b=0.3, dtype=np.float16)
    assert np.all((x >= 0.1) & (x <= 0.3))


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_out_and_index_in_half(half):
    dtype = np.float16 if half == "float16" else bf16()
    full = fastinit.he_normal((100, 70), seed=5, dtype=dtype)
    out = np.empty((40, 70), dtype=dtype)
    r = fastinit.he_normal((100, 70), seed=5, out=out, index=slice(30, 70))
    assert r is out
    np.testing.assert_array_equal(out.view(np.uint16), full[30:70].view(np.uint16))


def test_bfloat16_by_name():
    bf = bf16()
    x = fastinit.normal(10, seed=0, dtype="bfloat16")
    assert x.dtype == np.dtype(bf)


def test_half_independent_of_threads_and_chunks():
    x1 = fastinit.truncated_normal(500_001, seed=7, dtype=np.float16, threads=1)
    x3 = fastinit.truncated_normal(500_001, seed=7, dtype=np.float16, threads=3)
    np.testing.assert_array_equal(x1.view(np.uint16), x3.view(np.uint16))
    part = fastinit.truncated_normal(500_001, seed=7, dtype=np.float16, index=slice(12_345, 400_017))
    np.testing.assert_array_equal(part.view(np.uint16), x1[12_345:400_017].view(np.uint16))
