"""Accuracy of the polynomial log and sincos behind Box-Muller, over the whole
input range the kernels use (exhaustive for float32, 2**21 random inputs plus
edges for float64), against float64 / long double references. The bounds are
the figures documented in fastinit/src/transforms.h."""
import numpy as np
import pytest

from fastinit import _core

L = np.longdouble


def ulps(got, ref, dtype):
    """|got - ref| in units of the last place of ref rounded to dtype
    (computed in ref's precision: float64 for float32 results, else long double)."""
    wide = ref.dtype
    spacing = np.spacing(np.abs(ref).astype(dtype)).astype(wide)
    return np.asarray(np.abs(got.astype(wide) - ref) / spacing, dtype=np.float64)


def quarter_turn_reference(k, bits, wide):
    """sin, cos of 2*pi*k/2**bits with the exact reduction the kernels use
    (nearest quarter turn q, remainder f in [-1/2, 1/2)), then computed in
    the wide float type."""
    k = k.astype(np.uint64)
    half = np.uint64(1 << (bits - 3))
    q_full = (k + half) >> np.uint64(bits - 2)
    f = (k.astype(wide) - q_full.astype(wide) * wide(2.0) ** (bits - 2)) / wide(2.0) ** (bits - 2)
    phi = f * (np.arctan(wide(1)) * 2)
    sp, cp = np.sin(phi), np.cos(phi)
    q = (q_full & np.uint64(3)).astype(np.intp)
    return np.choose(q, [sp, cp, -sp, -cp]), np.choose(q, [cp, -sp, -cp, sp])


def test_log_f32_exhaustive():
    """Every input Box-Muller can give it: (k + 1) * 2**-24, k < 2**24."""
    x = (np.arange(1, 2**24 + 1, dtype=np.float64) * 2.0**-24).astype(np.float32)
    y = _core.eval_transform("log_f32", x)
    assert y[-1] == 0.0  # log(1) is exactly 0
    err = ulps(y[:-1], np.log(x[:-1].astype(np.float64)), np.float32)
    assert err.max() <= 1.0, err.max()


def test_log_f64_sampled():
    rng = np.random.default_rng(53)
    k = rng.integers(1, 2**53, 2**21, dtype=np.uint64)
    x = np.concatenate([k.astype(np.float64) * 2.0**-53,
                        2.0 ** -np.arange(0, 54), 1 - 2.0 ** -np.arange(1, 54),
                        [np.sqrt(0.5), np.nextafter(np.sqrt(0.5), 0), np.nextafter(np.sqrt(0.5), 1)]])
    y = _core.eval_transform("log_f64", x)
    ref = np.log(x.astype(L))
    assert (y[ref == 0] == 0).all()
    err = ulps(y[ref != 0], ref[ref != 0], np.float64)
    assert err.max() <= 1.0, err.max()


def test_sincos_f32_exhaustive():
    k = np.arange(2**24, dtype=np.uint32)
    s, c = _core.eval_transform("sincos_turn24_f32", k)
    rs, rc = quarter_turn_reference(k, 24, np.float64)
    for got, ref in ((s, rs), (c, rc)):
        assert (got[ref == 0] == 0).all()
        err = ulps(got[ref != 0], ref[ref != 0], np.float32)
        assert err.max() <= 2.0, err.max()


def test_sincos_f64_sampled():
    rng = np.random.default_rng(64)
    quarter = 2**51
    edges = np.array([q * quarter + d for q in range(4) for d in (-2, -1, 0, 1, 2) if 0 <= q * quarter + d],
                     dtype=np.uint64)
    k = np.concatenate([rng.integers(0, 2**53, 2**21, dtype=np.uint64), edges,
                        np.array([2**53 - 1, 2**50, 2**50 - 1], dtype=np.uint64)])
    s, c = _core.eval_transform("sincos_turn53_f64", k)
    rs, rc = quarter_turn_reference(k, 53, L)
    for got, ref in ((s, rs), (c, rc)):
        assert (got[ref == 0] == 0).all()
        err = ulps(got[ref != 0], ref[ref != 0], np.float64)
        assert err.max() <= 2.0, err.max()


@pytest.mark.parametrize("name, bad", [("log_f32", [0.0]), ("log_f32", [1.5]), ("log_f64", [-1.0]),
                                       ("sincos_turn24_f32", [2**24]), ("sincos_turn53_f64", [2**53]),
                                       ("exp_f32", [1.0])])
def test_eval_transform_rejects_inputs_outside_the_domain(name, bad):
    with pytest.raises(ValueError, match=name if name != "exp_f32" else "name must be"):
        _core.eval_transform(name, np.array(bad))
