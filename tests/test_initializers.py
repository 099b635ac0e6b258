"""Initializers against the formulas in docs/numpy.md: the exact parameter (the
output equals fastinit.normal / fastinit.uniform with the formula's std or
bound, bit for bit) and the empirical std and bound; fans and gains."""
import math

import numpy as np
import pytest

import fastinit
from fastinit import compute_fans, calculate_gain

SQRT2 = math.sqrt(2.0)

# (shape, layout, fan_in, fan_out), fans worked out by hand
SHAPES = [
    ((256, 128), None, 256, 128),
    ((128, 256), "torch", 256, 128),               # torch Linear weight (out, in)
    ((3, 3, 64, 32), None, 3 * 3 * 64, 3 * 3 * 32),  # Keras/JAX conv2d (kh, kw, in, out)
    ((32, 64, 3, 3), "torch", 64 * 3 * 3, 32 * 3 * 3),  # torch conv2d (out, in, kh, kw)
    ((5, 20, 30), None, 5 * 20, 5 * 30),           # conv1d (k, in, out)
    ((30, 20, 5), "torch", 20 * 5, 30 * 5),
    ((2, 3, 3, 16, 8), None, 18 * 16, 18 * 8),     # conv3d
    ((4000,), None, 4000, 4000),                   # 1-D: Keras rule
]

# name -> (distribution, parameter(fan_in, fan_out)): std for normal, bound for uniform
FORMULAS = {
    "glorot_uniform": ("uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    "glorot_normal": ("normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    "he_uniform": ("uniform", lambda fi, fo: SQRT2 * math.sqrt(3 / fi)),
    "he_normal": ("normal", lambda fi, fo: SQRT2 / math.sqrt(fi)),
    "lecun_uniform": ("uniform", lambda fi, fo: math.sqrt(3 / fi)),
    "lecun_normal": ("normal", lambda fi, fo: 1 / math.sqrt(fi)),
}


def _same_as_base(got, dist, param, shape, seed, dtype, **common):
    """got equals fastinit.normal(0, param) / uniform(-param, param) with the
    same seed: exactly in float32 (the C rounds the parameter to float32), to
    a few ulp of the parameter in float64 (it may differ in its last bit
    depending on how the formula is evaluated, and -a + 2a*u cancels)."""
    if dist == "normal":
        want = fastinit.normal(shape, common.pop("seed", seed), 0.0, param, dtype=dtype, **common)
    else:
        want = fastinit.uniform(shape, common.pop("seed", seed), -param, param, dtype=dtype, **common)
    if dtype == np.float32:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(np.float64).eps, atol=4 * np.spacing(param))


def _check_empirical(x, dist, param):
    """Sample std within 5 standard errors of the formula; uniform: every
    |x| < bound and the largest close to it."""
    x = x.astype(np.float64).ravel()
    n = x.size
    if dist == "normal":
        std, se = param, param / math.sqrt(2 * n)
    else:
        # U(-a, a): var = a^2/3, var of x^2 = a^4 (1/5 - 1/9)
        std, se = param / math.sqrt(3), param**2 * math.sqrt(4 / 45 / n) / (2 * param / math.sqrt(3))
        assert np.abs(x).max() <= param * (1 + 1e-7)
        assert np.abs(x).max() > param * (1 - 20 / n)
    assert abs(x.std() - std) < 5 * se, f"std {x.std()} vs formula {std} (se {se})"


@pytest.mark.parametrize("name", sorted(FORMULAS))
@pytest.mark.parametrize("shape, layout, fan_in, fan_out", SHAPES)
def test_initializer_matches_formula(name, shape, layout, fan_in, fan_out):
    assert compute_fans(shape, layout=layout) == (fan_in, fan_out)
    dist, formula = FORMULAS[name]
    param = formula(fan_in, fan_out)
    got = getattr(fastinit, name)(shape, 17, layout=layout)
    assert got.shape == shape and got.dtype == np.float32
    _same_as_base(got, dist, param, shape, 17, np.float32)
    _check_empirical(got, dist, param)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_initializer_float64(name):
    dist, formula = FORMULAS[name]
    shape = (300, 200)
    got = getattr(fastinit, name)(shape, 3, dtype=np.float64, stream=4)
    assert got.dtype == np.float64
    _same_as_base(got, dist, formula(300, 200), shape, 3, np.float64, stream=4)
    _check_empirical(got, dist, formula(300, 200))


# ---- the worked example: 3 inputs -> 2 outputs --------------------------------

WORKED = [  # name, variance
    ("glorot_normal", 0.4), ("glorot_uniform", 0.4),
    ("he_normal", 2 / 3), ("he_uniform", 2 / 3),
    ("lecun_normal", 1 / 3), ("lecun_uniform", 1 / 3),
]


@pytest.mark.parametrize("name, variance", WORKED)
@pytest.mark.parametrize("shape, layout", [((3, 2), None), ((2, 3), "torch")])
def test_worked_example_parameter(name, variance, shape, layout):
    """Dense 3 -> 2: the exact parameter (std sqrt(var), bound sqrt(3 var))."""
    assert compute_fans(shape, layout=layout) == (3, 2)
    dist = FORMULAS[name][0]
    param = math.sqrt(variance) if dist == "normal" else math.sqrt(3 * variance)
    got = getattr(fastinit, name)(shape, 5, layout=layout)
    _same_as_base(got, dist, param, shape, 5, np.float32)


@pytest.mark.parametrize("name, variance", WORKED)
def test_worked_example_variance_over_many_seeds(name, variance):
    """The 6 weights a user gets for a 3 -> 2 layer, over 5000 seeds: the
    sample variance is the formula's (and not e.g. Glorot's mistaken 1/5)."""
    f = getattr(fastinit, name)
    x = np.concatenate([f((3, 2), seed).ravel() for seed in range(5000)]).astype(np.float64)
    dist = FORMULAS[name][0]
    # se of the sample variance: sqrt((mu4 - var^2) / n); mu4 = 3 var^2 (normal), 9/5 var^2 (uniform)
    kurt = 3.0 if dist == "normal" else 9 / 5
    se = variance * math.sqrt((kurt - 1) / x.size)
    assert abs(np.mean(x**2) - variance) < 5 * se


@pytest.mark.parametrize("name, variance", WORKED)
def test_worked_example_variance_via_fan_overrides(name, variance):
    kw = {"fan_in": 3} if name.startswith(("he", "lecun")) else {"fan_in": 3, "fan_out": 2}
    x = getattr(fastinit, name)((1000, 1000), 9, **kw).astype(np.float64)
    kurt = 3.0 if FORMULAS[name][0] == "normal" else 9 / 5
    assert abs(np.mean(x**2) - variance) < 5 * variance * math.sqrt((kurt - 1) / x.size)


# ---- gain, a, nonlinearity, mode, overrides ----------------------------------

@pytest.mark.parametrize("kwargs, std", [
    ({}, SQRT2 / math.sqrt(400)),
    ({"mode": "fan_out"}, SQRT2 / math.sqrt(100)),
    ({"nonlinearity": "tanh"}, 5 / 3 / math.sqrt(400)),
    ({"nonlinearity": "linear"}, 1 / math.sqrt(400)),
    # a defaults to 0 as in torch's kaiming_*_, so plain leaky_relu has gain sqrt(2)
    ({"nonlinearity": "leaky_relu"}, SQRT2 / math.sqrt(400)),
    ({"nonlinearity": "leaky_relu", "a": 0.2}, math.sqrt(2 / 1.04) / math.sqrt(400)),
    ({"nonlinearity": "leaky_relu", "a": math.sqrt(5)}, math.sqrt(2 / 6) / math.sqrt(400)),
    # the default nonlinearity is PyTorch's leaky_relu, so a is honoured (nn.Linear's a = sqrt(5))
    ({"a": math.sqrt(5)}, math.sqrt(2 / 6) / math.sqrt(400)),
    ({"nonlinearity": "selu"}, 0.75 / math.sqrt(400)),
    ({"gain": 0.5}, 0.5 / math.sqrt(400)),
    ({"gain": 0.5, "nonlinearity": "tanh"}, 0.5 / math.sqrt(400)),  # gain wins
    ({"fan_in": 25}, SQRT2 / 5),
    ({"mode": "fan_out", "fan_out": 16}, SQRT2 / 4),
    ({"mode": "fan_avg"}, SQRT2 / math.sqrt(250)),
])
@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_he_options(kwargs, std, dist):
    shape = (400, 100)
    got = getattr(fastinit, f"he_{dist}")(shape, 21, **kwargs)
    param = std if dist == "normal" else std * math.sqrt(3)
    _same_as_base(got, dist, param, shape, 21, np.float32)


@pytest.mark.parametrize("kwargs, variance", [
    ({"gain": 2.0}, 4 * 2 / 500),
    ({"gain": 0.0}, 0.0),
    ({"fan_in": 10}, 2 / 110),
    ({"fan_in": 10, "fan_out": 30}, 2 / 40),
    ({"in_axis": 0, "out_axis": 1}, 2 / 500),
    ({"in_axis": 1, "out_axis": 0}, 2 / 500),
])
@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_glorot_options(kwargs, variance, dist):
    shape = (400, 100)
    got = getattr(fastinit, f"glorot_{dist}")(shape, 22, **kwargs)
    if variance == 0:
        assert not got.any()
        return
    param = math.sqrt(variance) if dist == "normal" else math.sqrt(3 * variance)
    _same_as_base(got, dist, param, shape, 22, np.float32)


def test_lecun_fan_in_override():
    _same_as_base(fastinit.lecun_normal((400, 100), 2, fan_in=49), "normal", 1 / 7, (400, 100), 2, np.float32)


def test_in_axis_out_axis_select_fans():
    shape = (7, 50, 3, 20)  # in on axis 1, out on axis 3: fans 50*21, 20*21
    got = fastinit.he_normal(shape, 1, in_axis=1, out_axis=3)
    _same_as_base(got, "normal", SQRT2 / math.sqrt(50 * 21), shape, 1, np.float32)


# ---- variance_scaling ----------------------------------------------------------

FANS = {"fan_in": 576, "fan_out": 288, "fan_avg": 432, "fan_geo_avg": math.sqrt(576 * 288)}


@pytest.mark.parametrize("mode", sorted(FANS))
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
@pytest.mark.parametrize("scale", [1.0, 2.0, 1 / 3])
@pytest.mark.parametrize("shape, layout", [((3, 3, 64, 32), None), ((32, 64, 3, 3), "torch")])
def test_variance_scaling(mode, distribution, scale, shape, layout):
    got = fastinit.variance_scaling(shape, 31, scale, mode, distribution, layout=layout)
    variance = scale / FANS[mode]
    param = math.sqrt(variance) if distribution == "normal" else math.sqrt(3 * variance)
    _same_as_base(got, distribution, param, shape, 31, np.float32)
    _check_empirical(got, distribution, param)


def test_variance_scaling_defaults_are_lecun_normal():
    np.testing.assert_array_equal(fastinit.variance_scaling((50, 60), 3), fastinit.lecun_normal((50, 60), 3))


@pytest.mark.parametrize("scale, mode, distribution, same_as", [
    (2.0, "fan_in", "normal", "he_normal"),
    (2.0, "fan_in", "uniform", "he_uniform"),
    (1.0, "fan_avg", "normal", "glorot_normal"),
    (1.0, "fan_avg", "uniform", "glorot_uniform"),
    (1.0, "fan_in", "uniform", "lecun_uniform"),
])
def test_variance_scaling_equivalences(scale, mode, distribution, same_as):
    a = fastinit.variance_scaling((70, 30), 8, scale, mode, distribution, dtype=np.float64)
    b = getattr(fastinit, same_as)((70, 30), 8, dtype=np.float64)
    np.testing.assert_allclose(a, b, rtol=4 * np.finfo(np.float64).eps, atol=4 * np.spacing(np.abs(b).max()))


def test_fans_come_from_full_shape_with_index():
    full = fastinit.he_normal((1000, 10), 4)
    part = fastinit.he_normal((1000, 10), 4, index=(slice(0, 10),))
    np.testing.assert_array_equal(part, full[:10])
    _same_as_base(part, "normal", SQRT2 / math.sqrt(1000), (1000, 10), 4, np.float32,
                  index=(slice(0, 10),))


# ---- compute_fans ----------------------------------------------------------------

@pytest.mark.parametrize("shape, kwargs, fans", [
    ((), {}, (1, 1)),
    (7, {}, (7, 7)),
    ((7,), {}, (7, 7)),
    ((3, 2), {}, (3, 2)),
    ((2, 3), {"layout": "torch"}, (3, 2)),
    ((3, 3, 64, 32), {}, (576, 288)),
    ((32, 64, 3, 3), {"layout": "torch"}, (576, 288)),
    ((32, 64), {"in_axis": 1, "out_axis": 0}, (64, 32)),
    ((4, 3, 5, 2), {"in_axis": 1, "out_axis": -1}, (60, 40)),
    ((8, 3, 3, 16, 4), {"batch_axis": 0}, (144, 36)),
    ((3, 3, 16, 4, 8), {"in_axis": 2, "out_axis": 3, "batch_axis": -1}, (144, 36)),
    ((0, 5), {}, (0, 5)),
    ((6, 0, 3), {"layout": "torch"}, (0, 18)),
])
def test_compute_fans(shape, kwargs, fans):
    got = compute_fans(shape, **kwargs)
    assert got == fans
    assert all(type(f) is int for f in got)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_initializers_0d_and_1d_follow_keras(name):
    dist, formula = FORMULAS[name]
    scalar = getattr(fastinit, name)((), 3)
    assert scalar.shape == ()
    _same_as_base(scalar, dist, formula(1, 1), (), 3, np.float32)
    _same_as_base(getattr(fastinit, name)(50, 3), dist, formula(50, 50), (50,), 3, np.float32)


def test_compute_fans_matches_torch():
    torch = pytest.importorskip("torch")
    for shape in [(2, 3), (32, 64, 3, 3), (30, 20, 5), (4, 3, 2, 2, 2), (0, 5)]:
        expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert compute_fans(shape, layout="torch") == tuple(expected)


# ---- calculate_gain: PyTorch's table --------------------------------------------

GAINS = [
    ("linear", None, 1.0), ("conv1d", None, 1.0), ("conv2d", None, 1.0), ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0), ("conv_transpose2d", None, 1.0),
    ("conv_transpose3d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.2**2))),
    ("leaky_relu", 0, math.sqrt(2)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75),
]


@pytest.mark.parametrize("nonlinearity, param, gain", GAINS)
def test_calculate_gain(nonlinearity, param, gain):
    assert calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize("nonlinearity, param, gain", GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param, gain):
    torch = pytest.importorskip("torch")
    assert calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


# ---- aliases ---------------------------------------------------------------------

@pytest.mark.parametrize("alias, name", [("xavier_uniform", "glorot_uniform"), ("xavier_normal", "glorot_normal"),
                                         ("kaiming_uniform", "he_uniform"), ("kaiming_normal", "he_normal")])
def test_aliases_are_the_same_objects(alias, name):
    assert getattr(fastinit, alias) is getattr(fastinit, name)


def test_public_names():
    assert sorted(fastinit.__all__) == sorted([
        "bits", "calculate_gain", "compute_fans", "glorot_normal", "glorot_uniform", "he_normal",
        "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform",
        "normal", "orthogonal", "show_config", "truncated_normal", "uniform", "variance_scaling",
        "xavier_normal", "xavier_uniform"])
    for name in fastinit.__all__:
        assert getattr(fastinit, name).__doc__


@pytest.mark.parametrize("name, torch_name, kwargs", [
    ("xavier_uniform", "xavier_uniform_", {"gain": 1.5}),
    ("xavier_normal", "xavier_normal_", {}),
    ("kaiming_uniform", "kaiming_uniform_", {"a": math.sqrt(5), "nonlinearity": "leaky_relu"}),
    ("kaiming_normal", "kaiming_normal_", {"mode": "fan_out"}),
    ("kaiming_normal", "kaiming_normal_", {"nonlinearity": "tanh"}),
])
def test_same_distribution_as_torch(name, torch_name, kwargs):
    """With layout='torch', the torch initializer of the same name draws from
    the same distribution: equal std (within 5 standard errors of the
    difference) and, for uniform, the same bound."""
    torch = pytest.importorskip("torch")
    shape = (128, 64, 3, 3)
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, torch_name)(torch.empty(shape, dtype=torch.float64), **kwargs).numpy()
    ours = getattr(fastinit, name)(shape, 0, layout="torch", dtype=np.float64, **kwargs)
    # se of the difference of two independent std estimates: sqrt(2) * s / sqrt(2n)
    # for normal samples (smaller for uniform ones)
    se = ours.std() / math.sqrt(ours.size)
    assert abs(ours.std() - theirs.std()) < 5 * se
    if "uniform" in name:
        assert abs(ours).max() == pytest.approx(abs(theirs).max(), rel=1e-3)
