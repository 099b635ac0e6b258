"""Parity with torch.nn.init, jax.nn.initializers and the Keras formulas.

For every initializer and several shapes (dense, conv 1-D/2-D/3-D, both
layouts) fastinit's parameter (std or bound) equals the peer's: the fastinit
initializer equals, element for element, fastinit.normal / uniform /
truncated_normal called with the peer's parameter under the same seed. Then,
on one shape per initializer, 1e6 samples of fastinit and of the peer: the
empirical std agrees within 1% and a two-sample KS test does not reject at
p = 1e-3. The peers are optional (pytest.importorskip)."""
import math

import numpy as np
import pytest

import fastinit

TRUNC = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]
N = 10**6
# (out, in, *kernel), about 1e6 elements each, for the empirical tests too
TORCH_SHAPES = [(1000, 1000), (256, 64, 64), (128, 64, 11, 11), (64, 32, 8, 8, 8)]
# (*kernel, in, out)
JAX_SHAPES = [(1000, 1000), (64, 64, 256), (11, 11, 64, 128), (8, 8, 8, 32, 64)]


def same_as(x, reference):
    np.testing.assert_allclose(x, reference, rtol=1e-12, atol=0)


def expect(kind, shape, seed, param, layout=None):
    """fastinit's plain generator with the peer's parameter."""
    if kind == "uniform":
        return fastinit.uniform(shape, seed, -param, param, dtype=np.float64)
    if kind == "normal":
        return fastinit.normal(shape, seed, 0.0, param, dtype=np.float64)
    return fastinit.truncated_normal(shape, seed, 0.0, param, -2 * param, 2 * param, dtype=np.float64)


def assert_same_distribution(x, peer):
    stats = pytest.importorskip("scipy.stats")
    x, peer = np.asarray(x, np.float64).ravel(), np.asarray(peer, np.float64).ravel()
    assert abs(x.std() / peer.std() - 1) < 0.01
    assert stats.ks_2samp(x, peer).pvalue > 1e-3


# ---- fan axes (the 3 -> 2 worked example: test_initializers.py) ----------

def test_fan_axes_as_tuples():
    """JAX's axes: in/out/batch axes may be tuples; receptive field = the
    other axes."""
    shape = (8, 3, 3, 16, 32)
    assert fastinit.compute_fans(shape, in_axis=(-3, -2), out_axis=-1, batch_axis=0) == (3 * 16 * 3, 32 * 3)
    assert fastinit.compute_fans(shape, in_axis=(1, 2, 3), out_axis=4, batch_axis=(0,)) == (144, 32)
    for kwargs, err in ((dict(in_axis=(0, 0)), ValueError), (dict(in_axis=-1), ValueError),
                        (dict(batch_axis=-2), ValueError), (dict(out_axis=5), ValueError),
                        (dict(in_axis=1.0), TypeError), (dict(batch_axis="0"), TypeError)):
        with pytest.raises(err, match="axis"):
            fastinit.compute_fans(shape, **kwargs)
    w = fastinit.variance_scaling(shape, 1, 2.0, "fan_in", in_axis=(-3, -2), batch_axis=0, dtype=np.float64)
    same_as(w, fastinit.normal(shape, 1, 0.0, math.sqrt(2.0 / 144), dtype=np.float64))


# ---- Keras (formulas written out from keras.initializers) ---------------

def keras_fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


KERAS = {  # name: (scale, mode, distribution) of VarianceScaling
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
}


def keras_param(name, shape):
    scale, mode, dist = KERAS[name]
    fan_in, fan_out = keras_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    if dist == "uniform":
        return "uniform", math.sqrt(3 * scale / n)
    return "truncated", math.sqrt(scale / n) / TRUNC


@pytest.mark.parametrize("name", sorted(KERAS))
@pytest.mark.parametrize("shape", [(7,), (30, 20)] + JAX_SHAPES[1:])
def test_keras_parameters(name, shape):
    kind, param = keras_param(name, shape)
    kw = {} if kind == "uniform" else dict(distribution="truncated_normal")
    x = getattr(fastinit, name)(shape, seed=2, dtype=np.float64, **kw)
    same_as(x, expect(kind, shape, 2, param))
    scale, mode, dist = KERAS[name]
    same_as(fastinit.variance_scaling(shape, 2, scale, mode, dist, dtype=np.float64), x)


# ---- PyTorch --------------------------------------------------------------

def torch_init():
    torch = pytest.importorskip("torch")
    return torch, torch.nn.init


TORCH_GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
               ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]


def test_torch_fans_and_gains():
    torch, init = torch_init()
    for shape in TORCH_SHAPES + [(5, 3), (4, 3, 2)]:
        assert fastinit.compute_fans(shape, layout="torch") == init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for name, param in TORCH_GAINS:
        assert fastinit.calculate_gain(name, param) == pytest.approx(init.calculate_gain(name, param), rel=1e-15)


def torch_params(name, shape, kwargs):
    """The peer's parameter from torch's own fan and gain functions and the
    formulas of torch.nn.init."""
    torch, init = torch_init()
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(shape))
    gain = kwargs.get("gain", 1.0)
    if name == "xavier_uniform":
        return "uniform", gain * math.sqrt(6.0 / (fan_in + fan_out))
    if name == "xavier_normal":
        return "normal", gain * math.sqrt(2.0 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
    gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    if name == "kaiming_uniform":
        return "uniform", gain * math.sqrt(3.0 / fan)
    return "normal", gain / math.sqrt(fan)


TORCH_CASES = [
    ("xavier_uniform", {}), ("xavier_normal", {}), ("xavier_uniform", dict(gain=5 / 3)),
    ("kaiming_uniform", {}), ("kaiming_normal", {}),
    ("kaiming_normal", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_uniform", dict(a=0.2, mode="fan_out")),
]


def fastinit_torch_kwargs(name, kwargs):
    if name.startswith("xavier"):
        return dict(gain=kwargs.get("gain", 1.0))
    # torch's kaiming default nonlinearity is leaky_relu with a=0 (gain sqrt 2)
    return dict(a=kwargs.get("a", 0.0), mode=kwargs.get("mode", "fan_in"),
                nonlinearity=kwargs.get("nonlinearity", "leaky_relu"))


@pytest.mark.parametrize("name, kwargs", TORCH_CASES)
@pytest.mark.parametrize("shape", TORCH_SHAPES + [(5, 3)])
def test_torch_parameters(name, kwargs, shape):
    kind, param = torch_params(name, shape, kwargs)
    x = getattr(fastinit, name)(shape, seed=3, layout="torch", dtype=np.float64, **fastinit_torch_kwargs(name, kwargs))
    same_as(x, expect(kind, shape, 3, param))


@pytest.mark.parametrize("case", range(len(TORCH_CASES)))
def test_torch_samples(case):
    torch, init = torch_init()
    name, kwargs = TORCH_CASES[case]
    shape = TORCH_SHAPES[case % len(TORCH_SHAPES)]
    torch.manual_seed(case)
    t = torch.empty(shape)
    getattr(init, name + "_")(t, **kwargs)
    x = getattr(fastinit, name)(shape, seed=case, layout="torch", **fastinit_torch_kwargs(name, kwargs))
    assert_same_distribution(x, t.numpy())


def test_torch_trunc_normal_and_orthogonal():
    torch, init = torch_init()
    torch.manual_seed(0)
    t = torch.empty(N)
    init.trunc_normal_(t, mean=0.1, std=0.5, a=-0.4, b=1.5)
    assert_same_distribution(fastinit.truncated_normal(N, seed=0, mean=0.1, std=0.5, a=-0.4, b=1.5), t.numpy())
    shape = (500, 20, 10)  # flattened to 500 x 200, as torch does
    t = torch.empty(shape)
    init.orthogonal_(t, gain=2.0)
    q = fastinit.orthogonal(shape, seed=0, gain=2.0)
    assert_same_distribution(q, t.numpy())
    m = q.reshape(500, -1).astype(np.float64)
    np.testing.assert_allclose(m.T @ m, 4.0 * np.eye(200), atol=1e-4)


# ---- JAX --------------------------------------------------------------------

def jax_modules():
    jax = pytest.importorskip("jax")
    from jax._src.nn.initializers import _compute_fans
    return jax, jax.nn.initializers, _compute_fans


JAX_AXES = [(-2, -1, ()), (0, -1, ()), ((-3, -2), -1, ()), (1, (2, 3), 0), (-2, -1, (0,))]


def test_jax_fans():
    _, _, jax_fans = jax_modules()
    for shape in JAX_SHAPES + [(3, 2), (6, 5, 4, 3)]:
        for in_axis, out_axis, batch_axis in JAX_AXES:
            axes = [a for group in (in_axis, out_axis, batch_axis)
                    for a in (group if isinstance(group, tuple) else (group,))]
            if not all(-len(shape) <= a < len(shape) for a in axes) or len({a % len(shape) for a in axes}) < len(axes):
                continue  # JAX does not check; fastinit raises
            ours = fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
            assert ours == tuple(int(f) for f in jax_fans(shape, in_axis, out_axis, batch_axis))


JAX_CASES = [  # (jax initializer name, fastinit name, fastinit kwargs, scale, mode, distribution)
    ("glorot_uniform", "glorot_uniform", {}, 1.0, "fan_avg", "uniform"),
    ("glorot_normal", "glorot_normal", dict(distribution="truncated_normal"), 1.0, "fan_avg", "truncated_normal"),
    ("he_uniform", "he_uniform", {}, 2.0, "fan_in", "uniform"),
    ("he_normal", "he_normal", dict(distribution="truncated_normal"), 2.0, "fan_in", "truncated_normal"),
    ("lecun_uniform", "lecun_uniform", {}, 1.0, "fan_in", "uniform"),
    ("lecun_normal", "lecun_normal", dict(distribution="truncated_normal"), 1.0, "fan_in", "truncated_normal"),
]


def jax_param(shape, scale, mode, distribution, axes=(-2, -1, ())):
    _, _, jax_fans = jax_modules()
    fan_in, fan_out = jax_fans(shape, *axes)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
         "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    if distribution == "uniform":
        return "uniform", math.sqrt(3 * scale / n)
    if distribution == "normal":
        return "normal", math.sqrt(scale / n)
    return "truncated", math.sqrt(scale / n) / TRUNC


@pytest.mark.parametrize("case", JAX_CASES, ids=[c[0] for c in JAX_CASES])
@pytest.mark.parametrize("shape", JAX_SHAPES)
def test_jax_parameters(case, shape):
    _, fi_name, fi_kwargs, scale, mode, dist = case
    kind, param = jax_param(shape, scale, mode, dist)
    same_as(getattr(fastinit, fi_name)(shape, seed=4, dtype=np.float64, **fi_kwargs), expect(kind, shape, 4, param))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
@pytest.mark.parametrize("dist", ["normal", "truncated_normal", "uniform"])
def test_jax_variance_scaling_parameters_with_axes(mode, dist):
    shape, axes = (4, 3, 3, 16, 32), ((-3, -2), -1, 0)
    kind, param = jax_param(shape, 0.7, mode, dist, axes)
    x = fastinit.variance_scaling(shape, 5, 0.7, mode, dist, in_axis=axes[0], out_axis=axes[1], batch_axis=axes[2],
                                  dtype=np.float64)
    same_as(x, expect(kind, shape, 5, param))


@pytest.mark.parametrize("case", range(len(JAX_CASES)))
def test_jax_samples(case):
    jax, inits, _ = jax_modules()
    jax_name, fi_name, fi_kwargs, *_ = JAX_CASES[case]
    shape = JAX_SHAPES[case % len(JAX_SHAPES)]
    peer = np.asarray(getattr(inits, jax_name)()(jax.random.key(case), shape))
    x = getattr(fastinit, fi_name)(shape, seed=case, **fi_kwargs)
    assert_same_distribution(x, peer)


def test_jax_orthogonal_and_variance_scaling_samples():
    jax, inits, _ = jax_modules()
    peer = np.asarray(inits.variance_scaling(0.5, "fan_geo_avg", "normal")(jax.random.key(7), (1000, 1000)))
    assert_same_distribution(fastinit.variance_scaling((1000, 1000), 7, 0.5, "fan_geo_avg", "normal"), peer)
    peer = np.asarray(inits.orthogonal(scale=1.5)(jax.random.key(8), (300, 200)))
    assert_same_distribution(fastinit.orthogonal((300, 200), 8, gain=1.5), peer)
