"""truncated_normal: distribution (KS against scipy; against torch:
test_parity.py), bounds, accuracy of the inverse CDF against stored exact
quantiles, errors, layout and variance_scaling's truncation."""
import math
import pathlib

import numpy as np
import pytest

import fastinit

WINDOWS = [(-2.0, 2.0), (0.0, np.inf), (3.0, 4.0), (6.0, np.inf), (-np.inf, -6.0),
           (-1e-3, 1e-3), (-8.0, 9.0), (10.0, 10.5)]


def window_cdf(a, b):
    """The CDF of the standard normal truncated to [a, b], from complements
    in the upper tail (scipy.stats.truncnorm's own cdf is exact but ~5x
    slower; the test checks that the two agree)."""
    special = pytest.importorskip("scipy.special")
    if a + b >= 0:
        qa, qb = special.ndtr(-a), special.ndtr(-b)
        return lambda x: (qa - special.ndtr(-np.asarray(x))) / (qa - qb)
    pa, pb = special.ndtr(a), special.ndtr(b)
    return lambda x: (special.ndtr(np.asarray(x)) - pa) / (pb - pa)


@pytest.mark.parametrize("a, b", WINDOWS)
def test_ks_against_scipy_truncnorm(a, b):
    stats = pytest.importorskip("scipy.stats")
    mean, std = 0.5, 2.0
    x = fastinit.truncated_normal(10**6, seed=11, mean=mean, std=std, a=mean + a * std, b=mean + b * std)
    assert x.dtype == np.float32
    z = (x.astype(np.float64) - mean) / std
    cdf = window_cdf(a, b)
    grid = np.quantile(z, np.linspace(0, 1, 257))
    np.testing.assert_allclose(cdf(grid), stats.truncnorm(a, b).cdf(grid), rtol=1e-9, atol=1e-12)
    assert stats.kstest(z, cdf).pvalue > 1e-3


# Exact quantiles (mpmath, 200 bits, rounded to float64) of the uniforms behind
# the first elements of truncated_normal(n, seed, a=a, b=b, dtype) on windows
# through every branch of the inverse CDF, far tails included; made once by
# tools/make_truncnormal_refs.py.
REFS = np.load(pathlib.Path(__file__).parent / "data" / "truncnormal_refs.npz")
# The documented bounds (docs/reliability.md, transforms.h): ulp where |x| >= 1/2; nearer
# the mean P - 1/2 is only known to ~ulp(1/2), so there the same number of
# ulp of 1/2, absolute.
ULP_BOUND = {"float32": 5.1, "float64": 8.0}
ACCURACY_CASES = [(name, float(a), float(b), i) for name in ULP_BOUND
                  for i, (a, b) in enumerate(REFS[f"windows_{name}"])]


@pytest.mark.parametrize("dtype, a, b, i", ACCURACY_CASES, ids=[f"{c[0]}-[{c[1]},{c[2]}]" for c in ACCURACY_CASES])
def test_inverse_cdf_accuracy_against_stored_references(dtype, a, b, i):
    ref = REFS[f"refs_{dtype}"][i]
    x = fastinit.truncated_normal(ref.size, seed=int(REFS["seed"]), a=a, b=b, dtype=dtype).astype(np.float64)
    bound = ULP_BOUND[dtype]
    ulp = np.spacing(np.maximum(np.abs(ref), 0.5).astype(dtype)).astype(np.float64)
    err_ulp = np.abs(x - ref) / ulp
    worst = int(np.argmax(err_ulp))
    assert err_ulp[worst] <= bound, f"element {worst}: {x[worst]!r} vs exact {ref[worst]!r}: {err_ulp[worst]:.1f} ulp"


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("a, b", [(0.1, 0.3), (-0.3, -0.1), (1.0, 1.0 + 1e-6), (-np.inf, 0.0)])
def test_results_lie_in_window(dtype, a, b):
    half = dtype in ("float16", "bfloat16")
    if dtype == "bfloat16":
        dtype = pytest.importorskip("ml_dtypes").bfloat16
    if half and b - a < 1e-3:
        b = a + 2e-2  # no half-precision value lies in a window this narrow
    x = fastinit.truncated_normal(100_000, seed=3, mean=0.2, std=0.05, a=a, b=b, dtype=dtype)
    assert x.dtype == np.dtype(dtype)
    x = x.astype(np.float64)
    assert np.all((x >= a) & (x <= b))


def test_index_and_threads_match_the_full_array():
    full = fastinit.truncated_normal((300, 77), seed=1, a=-1.0, b=2.5)
    part = fastinit.truncated_normal((300, 77), seed=1, a=-1.0, b=2.5, index=(slice(13, 200), slice(5, 70)))
    np.testing.assert_array_equal(part, full[13:200, 5:70])
    big = fastinit.truncated_normal(300_000, seed=2, dtype=np.float64, threads=1)
    np.testing.assert_array_equal(big, fastinit.truncated_normal(300_000, seed=2, dtype=np.float64, threads=3))


def test_same_uniforms_as_uniform_layout():
    """float32 element i comes from bits element i: a window far below the
    mean maps larger words to smaller values monotonically."""
    w = fastinit.bits(4096, seed=8).astype(np.int64) >> 9
    x = fastinit.truncated_normal(4096, seed=8, a=1.0, b=1.5)
    order = np.argsort(w, kind="stable")
    assert np.all(np.diff(x[order]) >= 0)


@pytest.mark.parametrize("mode, n", [("fan_in", 400), ("fan_out", 300), ("fan_avg", 350)])
def test_variance_scaling_truncated_normal(mode, n):
    scale = 2.0
    w = fastinit.variance_scaling((400, 300), seed=6, scale=scale, mode=mode, distribution="truncated_normal",
                                  dtype=np.float64)
    s = math.sqrt(scale / n)
    assert np.abs(w).max() <= 2 * s / 0.87962566103423978
    assert abs(w.std() / s - 1) < 0.01
    # the exact constant: a standard normal truncated to [-2, 2] has this std
    z = math.exp(-2) * 4 / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2))
    assert math.isclose(math.sqrt(1 - z), 0.87962566103423978, rel_tol=1e-15)


def test_normal_initializers_accept_truncated():
    shape = (64, 3, 3, 32)
    for fn, scale, mode in ((fastinit.he_normal, 2.0, "fan_in"), (fastinit.lecun_normal, 1.0, "fan_in"),
                            (fastinit.glorot_normal, 1.0, "fan_avg")):
        w = fn(shape, seed=1, distribution="truncated_normal")
        v = fastinit.variance_scaling(shape, seed=1, scale=scale, mode=mode, distribution="truncated_normal")
        np.testing.assert_array_equal(w, v)
        np.testing.assert_array_equal(fn(shape, seed=1), fn(shape, seed=1, distribution="normal"))
        with pytest.raises(ValueError, match="distribution"):
            fn(shape, seed=1, distribution="uniform")
