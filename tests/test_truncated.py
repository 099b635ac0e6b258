"""truncated_normal: distribution (KS against scipy and torch), bounds,
accuracy of the inverse CDF, layout and variance_scaling's truncation."""
import math

import numpy as np
import pytest

import fastinit

WINDOWS = [(-2.0, 2.0), (0.0, np.inf), (3.0, 4.0), (6.0, np.inf), (-np.inf, -6.0),
           (-1e-3, 1e-3), (-8.0, 9.0), (10.0, 10.5)]


def reference_std(u, alpha, beta):
    """Exact (double precision) quantile of the same uniforms, with the
    window orientation fastinit uses (mirrored when alpha + beta < 0)."""
    special = pytest.importorskip("scipy.special")
    sign = 1.0
    if alpha + beta < 0:
        alpha, beta, sign = -beta, -alpha, -1.0
    q_alpha, q_beta = special.ndtr(-alpha), special.ndtr(-beta)
    mass = q_alpha - q_beta if alpha >= 0 else 0.5 * (special.erf(beta / math.sqrt(2)) - special.erf(alpha / math.sqrt(2)))
    q = q_beta + (1.0 - u) * mass
    p = special.ndtr(alpha) + u * mass
    c = 0.5 * math.erf(alpha / math.sqrt(2)) + u * mass
    x = np.where(q < 0.25, -special.ndtri(q),
                 np.where(p < 0.25, special.ndtri(p), math.sqrt(2) * special.erfinv(2 * c)))
    return sign * x


def f32_uniforms(n, seed):
    words = fastinit.bits(n, seed=seed)
    return ((words >> 9).astype(np.float64) * 2 + 1) * 2.0**-24


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


@pytest.mark.parametrize("a, b", WINDOWS)
def test_float32_inverse_cdf_accuracy(a, b):
    """Every sample within 8 float32 ulp (plus 2^-24 absolute near 0, where
    P itself is only known to float32 precision) of the exact quantile of
    its own uniform."""
    n = 200_000
    x = fastinit.truncated_normal(n, seed=5, a=a, b=b).astype(np.float64)
    ref = np.clip(reference_std(f32_uniforms(n, 5), a, b), a, b)
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(x - ref) <= 8 * ulp + 2.0**-24)


@pytest.mark.parametrize("a, b", [(-2.0, 2.0), (6.0, np.inf), (-np.inf, -30.0), (-1e-3, 1e-3)])
def test_float64_inverse_cdf_accuracy(a, b):
    """float64 against the double reference: within 1e-13 relative (the
    reference itself is only good to a few double ulp), 1e-18 absolute (P - 1/2
    of a window around the mean is known to ~ulp(Phi(a) - 1/2))."""
    n = 4096
    words = fastinit.bits(2 * n, seed=9).astype(np.uint64).reshape(-1, 4, 16)
    # element 32g + 16h + l from words (2h, 2h+1) of counter l
    lo, hi = words[:, 0::2, :], words[:, 1::2, :]
    k = ((hi >> np.uint64(12)) << np.uint64(32)) | lo
    u = (k.reshape(-1).astype(np.float64) * 2 + 1) * 2.0**-53
    x = fastinit.truncated_normal(n, seed=9, a=a, b=b, dtype=np.float64)
    ref = np.clip(reference_std(u, a, b), a, b)
    np.testing.assert_allclose(x, ref, rtol=1e-13, atol=1e-18)


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


@pytest.mark.parametrize("kwargs, err", [
    (dict(a=1.0, b=1.0), ValueError), (dict(a=2.0, b=-2.0), ValueError),
    (dict(std=0.0), ValueError), (dict(std=-1.0), ValueError),
    (dict(a=float("nan")), TypeError), (dict(b="2"), TypeError),
    (dict(a=40.0, b=np.inf), ValueError),
])
def test_bad_arguments(kwargs, err):
    out = np.full(10, 7.0, dtype=np.float32)
    with pytest.raises(err, match="a|b|std"):
        fastinit.truncated_normal(10, seed=0, out=out, **kwargs)
    assert np.all(out == 7.0)


def test_against_torch_trunc_normal():
    torch = pytest.importorskip("torch")
    stats = pytest.importorskip("scipy.stats")
    torch.manual_seed(0)
    for mean, std, a, b in ((0.0, 1.0, -2.0, 2.0), (1.0, 0.5, 1.2, 3.0)):
        t = torch.empty(10**6)
        torch.nn.init.trunc_normal_(t, mean=mean, std=std, a=a, b=b)
        x = fastinit.truncated_normal(10**6, seed=4, mean=mean, std=std, a=a, b=b)
        assert stats.ks_2samp(x, t.numpy()).pvalue > 1e-3
        assert abs(x.std() / t.numpy().std() - 1) < 0.01


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
