"""Statistics of the outputs at 10**6 samples, fixed seeds: KS tests against
scipy.stats, the first four central moments within 5 standard errors, and the
uniform bounds [low, high)."""
import math

import numpy as np
import pytest

import fastinit

stats = pytest.importorskip("scipy.stats")

N = 10**6
DTYPES = [np.float32, np.float64]
KS_MIN_PVALUE = 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed, stream, low, high", [(0, 0, 0.0, 1.0), (2**64 - 1, 5, -3.0, 0.5)])
def test_uniform_ks(dtype, seed, stream, low, high):
    x = fastinit.uniform(N, seed, low, high, stream=stream, dtype=dtype)
    assert stats.kstest(x, stats.uniform(loc=low, scale=high - low).cdf, method="asymp").pvalue > KS_MIN_PVALUE


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed, stream, mean, std", [(0, 0, 0.0, 1.0), (123456789, 2**40, 2.0, 0.1)])
def test_normal_ks(dtype, seed, stream, mean, std):
    x = fastinit.normal(N, seed, mean, std, stream=stream, dtype=dtype)
    assert stats.kstest(x, stats.norm(loc=mean, scale=std).cdf, method="asymp").pvalue > KS_MIN_PVALUE


def test_ks_detects_a_wrong_distribution():
    """The KS threshold has power at this sample size: a 1% scale error fails."""
    x = fastinit.normal(N, 0, 0.0, 1.01)
    assert stats.kstest(x, "norm", method="asymp").pvalue < KS_MIN_PVALUE


def _check_central_moments(x, center, exact):
    """exact(k) = E[(X - center)^k] for k = 1..8. For k = 1..4 the mean of
    (x - center)^k is an average of iid terms whose standard error is
    sqrt((E[d^2k] - E[d^k]^2) / n); it must lie within 5 of them."""
    d = x.astype(np.float64) - center
    for k in range(1, 5):
        se = math.sqrt((exact(2 * k) - exact(k) ** 2) / d.size)
        got = np.mean(d**k)
        assert abs(got - exact(k)) < 5 * se, f"moment {k}: {got} vs {exact(k)} (se {se})"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed, low, high", [(1, 0.0, 1.0), (2, -0.25, 0.25), (3, 10.0, 12.0)])
def test_uniform_moments(dtype, seed, low, high):
    half = (high - low) / 2
    # centered U(-h, h): E[d^k] = h^k / (k + 1) for even k, 0 for odd k
    _check_central_moments(fastinit.uniform(N, seed, low, high, dtype=dtype), (low + high) / 2,
                           lambda k: half**k / (k + 1) if k % 2 == 0 else 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed, mean, std", [(4, 0.0, 1.0), (5, -1.0, 0.05), (6, 3.0, 2.0)])
def test_normal_moments(dtype, seed, mean, std):
    # N(0, s^2): E[d^k] = s^k (k - 1)!! for even k, 0 for odd k
    def exact(k):
        return std**k * math.prod(range(k - 1, 0, -2)) if k % 2 == 0 else 0.0
    _check_central_moments(fastinit.normal(N, seed, mean, std, dtype=dtype), mean, exact)


def test_streams_are_uncorrelated():
    a = fastinit.normal(N, 7, stream=0, dtype=np.float64)
    b = fastinit.normal(N, 7, stream=1, dtype=np.float64)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(N)


def test_cos_and_sin_halves_are_uncorrelated():
    """Box-Muller's two outputs of one pair are independent normals."""
    x = fastinit.normal(N, 8, dtype=np.float64).reshape(-1, 2, 16)
    assert abs(np.corrcoef(x[:, 0].ravel(), x[:, 1].ravel())[0, 1]) < 5 / math.sqrt(N / 2)


UNIFORM_BOUNDS = [
    (np.float32, 0.0, 1.0), (np.float32, -1.0, 1.0), (np.float32, 1.0, 2.0),
    # 16 float32 values in [1e6, 1e6 + 1]: low + span * u rounds to high for
    # about 3% of u, so the cap below high is exercised
    (np.float32, 1e6, 1e6 + 1),
    # two float32 values in the range: 1 and 1 + eps
    (np.float32, 1.0, 1.0 + 2 * 2.0**-23),
    (np.float32, -1e-38, 1e-38),
    (np.float64, 0.0, 1.0), (np.float64, -5.0, -4.999999),
    (np.float64, 2.0**52, 2.0**52 + 4),  # 4 float64 values: most sums round up
    (np.float64, 1.0, 1.0 + 2 * 2.0**-52),
]


@pytest.mark.parametrize("dtype, low, high", UNIFORM_BOUNDS)
def test_uniform_bounds(dtype, low, high):
    x = fastinit.uniform(N, 11, low, high, dtype=dtype)
    lo, hi = dtype(low), dtype(high)
    assert x.min() >= lo
    assert x.max() < hi
    below = np.nextafter(hi, dtype(-np.inf))
    values_in_range = np.unique(x)
    if len(values_in_range) < 100:
        # a small set of representable values: every one of them occurs,
        # including low and the largest value below high, and nothing else
        expected = [lo]
        while expected[-1] < below:
            expected.append(np.nextafter(expected[-1], hi))
        np.testing.assert_array_equal(values_in_range, np.array(expected, dtype=dtype))


def test_uniform_tiny_range_rounds_to_nearest():
    """low=1, high=1+2*eps in float32: 1 + 2*eps*u rounds to 1 for u <= 1/4,
    to 1+eps for 1/4 < u < 3/4 and to high (capped to 1+eps) above: the
    documented min(low + span*u, below(high)), as NumPy's low + (high-low)*u
    rounds, gives low a quarter of the samples here, not half."""
    x = fastinit.uniform(N, 12, 1.0, 1.0 + 2 * 2.0**-23)
    share = np.mean(x == np.float32(1.0))
    assert abs(share - 0.25) < 5 * math.sqrt(0.25 * 0.75 / N)
