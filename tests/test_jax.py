"""fastinit.jax: the key map, every factory against the NumPy API and against
jax.nn.initializers, sharded output on 8 host devices (tests/conftest.py
sets XLA_FLAGS), jit/vmap, dtypes, and Flax (nnx and linen)."""
import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy
from jax.sharding import NamedSharding, PartitionSpec as P  # noqa: E402

import fastinit  # noqa: E402
import fastinit.jax as fj  # noqa: E402

TRUNC = 0.87962566103423978
SHAPE = (64, 48)  # both axes divisible by every mesh axis below


def needs_8_devices():
    if len(jax.devices()) < 8:
        pytest.skip(f"needs 8 devices (XLA_FLAGS=--xla_force_host_platform_device_count=8), "
                    f"have {len(jax.devices())}")


def same(x, reference):
    x = np.asarray(x)
    assert x.dtype == reference.dtype and x.shape == reference.shape
    assert np.array_equal(x.view(np.uint8), np.ascontiguousarray(reference).view(np.uint8))


# ---- the key ------------------------------------------------------------------

def test_key_to_seed_and_stream():
    for s in (0, 1, 7, 2**31, 2**32 - 1):
        assert fj.seed_stream(jax.random.key(s)) == (s, 0)
        assert fj.seed_stream(jax.random.PRNGKey(s)) == (s, 0)
    assert fj.seed_stream(np.array([1, 2], np.uint32)) == (2**32 + 2, 0)
    assert fj.seed_stream(jnp.array([1, 2, 3, 4], jnp.uint32)) == (2**32 + 2, 3 * 2**32 + 4)
    rbg = jax.random.key(5, impl="rbg")
    words = [int(w) for w in jax.random.key_data(rbg)]
    assert fj.seed_stream(rbg) == (words[0] << 32 | words[1], words[2] << 32 | words[3])
    # split keys: distinct (seed, stream) pairs
    keys = np.asarray(jax.random.key_data(jax.random.split(jax.random.key(0), 100)))
    assert len({fj.seed_stream(k) for k in keys}) == 100


def test_same_key_same_array_split_keys_independent():
    init = fj.normal(1.0)
    k0, k1 = jax.random.split(jax.random.key(3))
    same(init(k0, (1000, 100)), np.asarray(init(k0, (1000, 100))))
    a, b = np.asarray(init(k0, (10**5,))), np.asarray(init(k1, (10**5,)))
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(a.size)


@pytest.mark.parametrize("make_key, err", [
    # made in the test: a JAX array at collection would start JAX's threads
    # before tests/test_concurrency.py forks
    (lambda: jax.random.split(jax.random.key(0), 2), ValueError),  # a batch of keys
    (lambda: np.array([1, 2, 3], np.uint32), TypeError),
    (lambda: np.array([1, 2], np.int32), TypeError),
    (lambda: 5, TypeError),
])
def test_bad_keys(make_key, err):
    with pytest.raises(err, match="key"):
        fj.normal()(make_key(), (3,))


# ---- each factory: the NumPy API, and jax.nn.initializers' parameters --------

CONV = (3, 3, 16, 32)
# (factory, its JAX arguments, the equal NumPy call for (shape, seed, stream))
FACTORIES = [
    ("glorot_uniform", {}, lambda s, seed, st: fastinit.glorot_uniform(s, seed, stream=st)),
    ("glorot_normal", {}, lambda s, seed, st: fastinit.glorot_normal(s, seed, stream=st,
                                                                     distribution="truncated_normal")),
    ("he_uniform", {}, lambda s, seed, st: fastinit.he_uniform(s, seed, stream=st)),
    ("he_normal", {}, lambda s, seed, st: fastinit.he_normal(s, seed, stream=st, distribution="truncated_normal")),
    ("lecun_uniform", {}, lambda s, seed, st: fastinit.lecun_uniform(s, seed, stream=st)),
    ("lecun_normal", {}, lambda s, seed, st: fastinit.lecun_normal(s, seed, stream=st,
                                                                   distribution="truncated_normal")),
    ("he_normal", dict(in_axis=(-3, -2), out_axis=-1, batch_axis=0),
     lambda s, seed, st: fastinit.he_normal(s, seed, stream=st, distribution="truncated_normal",
                                            in_axis=(-3, -2), batch_axis=0)),
    ("variance_scaling", dict(scale=0.5, mode="fan_geo_avg", distribution="normal"),
     lambda s, seed, st: fastinit.variance_scaling(s, seed, 0.5, "fan_geo_avg", "normal", stream=st)),
    ("variance_scaling", dict(scale=3.0, mode="fan_out", distribution="uniform"),
     lambda s, seed, st: fastinit.variance_scaling(s, seed, 3.0, "fan_out", "uniform", stream=st)),
    ("normal", dict(stddev=0.3), lambda s, seed, st: fastinit.normal(s, seed, 0.0, 0.3, stream=st)),
    ("uniform", dict(scale=2.0), lambda s, seed, st: fastinit.uniform(s, seed, 0.0, 2.0, stream=st)),
    ("truncated_normal", dict(stddev=0.5, lower=-1.0, upper=3.0),
     lambda s, seed, st: fastinit.truncated_normal(s, seed, 0.0, 0.5, -0.5, 1.5, stream=st)),
    ("orthogonal", dict(scale=2.0), lambda s, seed, st: fastinit.orthogonal(s, seed, 2.0, stream=st)),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(FACTORIES)]


@pytest.mark.parametrize("case", FACTORIES, ids=IDS)
def test_factory_equals_numpy_api(case):
    name, kwargs, numpy_call = case
    shape = CONV if name != "orthogonal" else (48, 32)
    same(getattr(fj, name)(**kwargs)(jax.random.key(11), shape), numpy_call(shape, 11, 0))
    rbg = jax.random.key(2, impl="rbg")
    same(getattr(fj, name)(**kwargs)(rbg, shape), numpy_call(shape, *fj.seed_stream(rbg)))


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
@pytest.mark.parametrize("case", FACTORIES, ids=IDS)
def test_raises_where_jax_raises(case, shape):
    """0-d and 1-d shapes: a factory that needs fans (or a matrix) raises
    where JAX's raises (ours a ValueError; JAX's is an IndexError for some
    explicit axes), and returns an array of the shape where JAX's does;
    eagerly and under jit."""
    name, kwargs, _ = case

    def outcome(init, refusal):
        try:
            return init(jax.random.key(3), shape).shape
        except refusal:
            return "raises"

    theirs = outcome(getattr(jax.nn.initializers, name)(**kwargs), (ValueError, IndexError))
    assert outcome(getattr(fj, name)(**kwargs), ValueError) == theirs
    assert outcome(jax.jit(getattr(fj, name)(**kwargs), static_argnums=1), ValueError) == theirs


def jax_parameter(name, kwargs, shape):
    """(kind, parameter) of jax.nn.initializers.<name>(**kwargs), from JAX's
    own fans (as tests/test_parity.py)."""
    from jax._src.nn.initializers import _compute_fans
    if name in ("normal", "uniform"):
        return name, kwargs["stddev" if name == "normal" else "scale"]
    if name == "truncated_normal":
        return name, kwargs["stddev"]
    scale, mode, dist = {
        "glorot_uniform": (1.0, "fan_avg", "uniform"), "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
        "he_uniform": (2.0, "fan_in", "uniform"), "he_normal": (2.0, "fan_in", "truncated_normal"),
        "lecun_uniform": (1.0, "fan_in", "uniform"), "lecun_normal": (1.0, "fan_in", "truncated_normal"),
    }.get(name) or (kwargs["scale"], kwargs["mode"], kwargs["distribution"])
    axes = [kwargs.get(a, d) for a, d in (("in_axis", -2), ("out_axis", -1), ("batch_axis", ()))]
    fan_in, fan_out = (float(f) for f in _compute_fans(shape, *axes))
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
         "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    if dist == "uniform":
        return "symmetric_uniform", math.sqrt(3 * scale / n)
    return dist, math.sqrt(scale / n) / (TRUNC if dist == "truncated_normal" else 1.0)


@pytest.mark.parametrize("case", [c for c in FACTORIES if c[0] != "orthogonal"],
                         ids=[i for i, c in zip(IDS, FACTORIES) if c[0] != "orthogonal"])
def test_parameters_match_jax(case):
    """The same fans, scale and truncation as JAX: our array equals fastinit's
    plain generator with JAX's parameter."""
    name, kwargs, _ = case
    kind, param = jax_parameter(name, kwargs, CONV)
    x = np.asarray(getattr(fj, name)(**kwargs)(jax.random.key(4), CONV))
    if kind == "symmetric_uniform":
        expected = fastinit.uniform(CONV, 4, -param, param)
    elif kind == "uniform":
        expected = fastinit.uniform(CONV, 4, 0.0, param)
    elif kind == "normal":
        expected = fastinit.normal(CONV, 4, 0.0, param)
    else:
        lo, hi = (kwargs.get("lower", -2.0), kwargs.get("upper", 2.0))
        expected = fastinit.truncated_normal(CONV, 4, 0.0, param, lo * param, hi * param)
    np.testing.assert_allclose(x, expected, rtol=2e-6, atol=0)


def sample_shape(name):
    return (400, 250) if name == "orthogonal" else (5, 5, 64, 64)


@pytest.fixture(scope="module")
def jax_samples():
    """Every peer's sample in one jitted program (one XLA compilation instead
    of one per initializer)."""
    def peers(key):
        return [getattr(jax.nn.initializers, name)(**kwargs)(key, sample_shape(name)) for name, kwargs, _ in FACTORIES]
    return [np.asarray(x, np.float64).ravel() for x in jax.jit(peers)(jax.random.key(9))]


@pytest.mark.parametrize("case", range(len(FACTORIES)), ids=IDS)
def test_same_distribution_as_jax(case, jax_samples):
    stats = pytest.importorskip("scipy.stats")
    name, kwargs, _ = FACTORIES[case]
    ours = np.asarray(getattr(fj, name)(**kwargs)(jax.random.key(9), sample_shape(name)), np.float64).ravel()
    peer = jax_samples[case]
    assert abs(ours.std() / peer.std() - 1) < 0.02
    assert stats.ks_2samp(ours, peer).pvalue > 1e-3


def test_orthogonal_column_axis_as_jax():
    init = fj.orthogonal(column_axis=0)
    q = np.asarray(init(jax.random.key(1), (6, 4, 3)), np.float64)
    m = np.moveaxis(q, 0, -1).reshape(12, 6)  # JAX: columns along axis 0 against the other axes
    np.testing.assert_allclose(m.T @ m, np.eye(6), atol=1e-5)
    with pytest.raises(ValueError, match="column_axis"):
        fj.orthogonal(column_axis=2)(jax.random.key(1), (6, 4))
    with pytest.raises(ValueError, match="2 axes"):
        init(jax.random.key(1), (6,))


# ---- sharding -------------------------------------------------------------------

MESHES = [((8,), ("x",)), ((2, 4), ("a", "b")), ((4, 2), ("a", "b")), ((1, 8), ("a", "b"))]


def specs(names):
    if len(names) == 1:
        (x,) = names
        return [P(x, None), P(None, x), P()]
    a, b = names
    return [P(a, None), P(None, b), P(a, b), P(b, a), P((a, b), None), P()]


@pytest.mark.parametrize("mesh_shape, names", MESHES, ids=[str(m) for m, _ in MESHES])
def test_sharded_equals_unsharded_and_numpy(mesh_shape, names):
    needs_8_devices()
    mesh = jax.make_mesh(mesh_shape, names)
    key = jax.random.key(21)
    expected = fastinit.he_normal(SHAPE, 21, distribution="truncated_normal")
    unsharded = fj.he_normal()(key, SHAPE)
    same(unsharded, expected)
    for spec in specs(names):
        sharding = NamedSharding(mesh, spec)
        x = fj.he_normal()(key, SHAPE, out_sharding=sharding)
        assert x.sharding == sharding
        same(x, expected)
        for shard in x.addressable_shards:  # each device holds its block of the global array
            same(shard.data, expected[shard.index])


def test_sharded_fans_from_global_shape_and_blocks_made_once():
    needs_8_devices()
    mesh = jax.make_mesh((2, 4), ("a", "b"))
    conv = (3, 3, 16, 32)
    x = fj.glorot_normal()(jax.random.key(2), conv, out_sharding=NamedSharding(mesh, P(None, None, "a", "b")))
    same(x, fastinit.glorot_normal(conv, 2, distribution="truncated_normal"))
    calls = []

    def counting_normal(shape, seed, **kwargs):
        calls.append(kwargs.get("index"))
        return fastinit.normal(shape, seed, **kwargs)

    for spec, blocks in ((P(), 1), (P("a"), 2), (P("a", "b"), 8)):
        calls.clear()
        y = fj.make_array(counting_normal, SHAPE, 5, NamedSharding(mesh, spec), std=2.0)
        same(y, fastinit.normal(SHAPE, 5, std=2.0))
        assert len(calls) == blocks  # each distinct block once


def test_make_array_errors_before_any_device_work():
    needs_8_devices()
    mesh = jax.make_mesh((8,), ("x",))
    with pytest.raises(TypeError, match="sharding"):
        fj.make_array(fastinit.normal, SHAPE, 0, P("x"))
    with pytest.raises(ValueError, match="std"):
        fj.make_array(fastinit.normal, SHAPE, 0, NamedSharding(mesh, P("x")), std=-1.0)
    with pytest.raises(TypeError, match="dtype"):
        fj.normal()(jax.random.key(0), SHAPE, jnp.int32)


# ---- jit, vmap, dtypes ----------------------------------------------------------

def test_partition_spec_over_the_set_mesh():
    """out_sharding=PartitionSpec, as JAX takes it, means the jax.set_mesh mesh."""
    needs_8_devices()
    expected = fastinit.he_normal(SHAPE, 3, distribution="truncated_normal")
    init = fj.he_normal()
    mesh = jax.make_mesh((2, 4), ("a", "b"))
    with jax.set_mesh(mesh):
        x = init(jax.random.key(3), SHAPE, out_sharding=P("a", "b"))
        y = jax.jit(lambda k: init(k, SHAPE, out_sharding=P("b", None)))(jax.random.key(3))
    assert x.sharding == NamedSharding(mesh, P("a", "b"))
    assert y.sharding.is_equivalent_to(NamedSharding(mesh, P("b", None)), 2)
    same(x, expected)
    same(y, expected)
    with pytest.raises(ValueError, match="set_mesh"):
        init(jax.random.key(3), SHAPE, out_sharding=P("a"))


def test_jit_with_out_sharding_makes_only_device_blocks():
    """Under jit each device's callback makes its own block: the blocks asked
    for are the shards, never the whole array."""
    needs_8_devices()
    calls = []

    def counting_normal(shape, seed, **kwargs):
        calls.append(kwargs.get("index"))
        return fastinit.normal(shape, seed, **kwargs)

    init = fj._factory(counting_normal, None)
    mesh = jax.make_mesh((2, 4), ("a", "b"), axis_types=(jax.sharding.AxisType.Auto,) * 2)
    y = jax.jit(lambda k: init(k, SHAPE, out_sharding=NamedSharding(mesh, P("b", "a"))))(jax.random.key(3))
    same(y, fastinit.normal(SHAPE, 3))
    blocks = {tuple((s.start, s.stop) for s in index) for index in calls}
    assert blocks == {((16 * i, 16 * (i + 1)), (24 * j, 24 * (j + 1))) for i in range(4) for j in range(2)}


def test_jit_and_vmap_equal_eager():
    needs_8_devices()
    init = fj.lecun_normal()
    key = jax.random.key(8)
    eager = np.asarray(init(key, SHAPE))
    same(jax.jit(lambda k: init(k, SHAPE))(key), eager)
    same(jax.jit(lambda k: init(k, SHAPE))(jax.random.key_data(key)), eager)  # raw uint32 key
    for axis_type in (jax.sharding.AxisType.Explicit, jax.sharding.AxisType.Auto):
        mesh = jax.make_mesh((2, 4), ("a", "b"), axis_types=(axis_type,) * 2)
        for spec in specs(("a", "b")):
            sharding = NamedSharding(mesh, spec)
            with jax.set_mesh(mesh):  # jit over an Explicit mesh needs it, as for JAX's own initializers
                y = jax.jit(lambda k: init(k, SHAPE, out_sharding=sharding))(key)
            assert y.sharding.is_equivalent_to(sharding, len(SHAPE)), (y.sharding, sharding)
            same(y, eager)
    keys = jax.random.split(key, 3)
    batched = jax.jit(jax.vmap(lambda k: init(k, SHAPE)))(keys)
    for k, b in zip(keys, batched):
        same(b, np.asarray(init(k, SHAPE)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_dtypes_round_as_numpy_api(dtype):
    pytest.importorskip("ml_dtypes")
    key = jax.random.key(6)
    x = fj.glorot_uniform()(key, SHAPE, jnp.dtype(dtype))
    assert x.dtype == jnp.dtype(dtype)
    same(x, fastinit.glorot_uniform(SHAPE, 6, dtype=dtype))
    same(jax.jit(lambda k: fj.he_normal(dtype=jnp.dtype(dtype))(k, SHAPE))(key),
         fastinit.he_normal(SHAPE, 6, dtype=dtype, distribution="truncated_normal"))


def test_float64_follows_jax_x64():
    x = fj.normal()(jax.random.key(0), (5,), jnp.float64)
    assert x.dtype == jax.dtypes.canonicalize_dtype(np.float64)  # float32 unless jax_enable_x64


# ---- Flax -------------------------------------------------------------------------

def recording(init, seen):
    """init, noting each concrete key's (seed, stream) and the array made."""
    def wrapped(key, shape, dtype=None, **kwargs):
        out = init(key, shape, dtype, **kwargs)
        seen.append((fj.seed_stream(key), np.asarray(out)))
        return out
    return wrapped


def test_flax_nnx_mlp():
    nnx = pytest.importorskip("flax.nnx")

    class MLP(nnx.Module):
        def __init__(self, rngs, hidden_init=fj.he_normal(), out_init=fj.glorot_uniform()):
            self.hidden = nnx.Linear(8, 16, kernel_init=hidden_init, rngs=rngs)
            self.out = nnx.Linear(16, 4, kernel_init=out_init, rngs=rngs)

    seen = []
    model = MLP(nnx.Rngs(0), recording(fj.he_normal(), seen), recording(fj.glorot_uniform(), seen))
    (s1, k1), (s2, k2) = seen
    assert s1 != s2
    same(model.hidden.kernel[...], fastinit.he_normal((8, 16), s1[0], stream=s1[1], distribution="truncated_normal"))
    same(model.out.kernel[...], fastinit.glorot_uniform((16, 4), s2[0], stream=s2[1]))
    jitted = nnx.jit(lambda: MLP(nnx.Rngs(0)))()  # traced keys: the callback path
    same(jitted.hidden.kernel[...], k1)
    same(jitted.out.kernel[...], k2)


def test_flax_linen_mlp():
    nn = pytest.importorskip("flax.linen")
    seen = []

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Dense(16, kernel_init=recording(fj.he_normal(), seen))(x))
            return nn.Dense(4, kernel_init=recording(fj.lecun_normal(), seen))(x)

    x = jnp.ones((2, 8))
    params = MLP().init(jax.random.key(0), x)["params"]
    (s1, _), (s2, _) = seen
    same(params["Dense_0"]["kernel"], fastinit.he_normal((8, 16), s1[0], stream=s1[1],
                                                          distribution="truncated_normal"))
    same(params["Dense_1"]["kernel"], fastinit.lecun_normal((16, 4), s2[0], stream=s2[1],
                                                            distribution="truncated_normal"))

    class Plain(nn.Module):  # the same model without the recorder, initialized under jit as usual
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Dense(16, kernel_init=fj.he_normal())(x))
            return nn.Dense(4, kernel_init=fj.lecun_normal())(x)

    jitted = jax.jit(Plain().init)(jax.random.key(0), x)["params"]
    same(jitted["Dense_0"]["kernel"], np.asarray(params["Dense_0"]["kernel"]))
    same(jitted["Dense_1"]["kernel"], np.asarray(params["Dense_1"]["kernel"]))


def test_every_jax_counterpart_in_the_table_has_a_factory():
    """fastinit's table (fastinit._spec) names the JAX counterpart of each
    initializer: fastinit.jax has a factory of that name (and the aliases)."""
    from fastinit import _spec
    for entry in _spec.INITIALIZERS.values():
        if entry.jax:
            assert callable(getattr(fj, entry.jax)), entry.jax
            assert entry.jax in fj.__all__
            for alias in entry.aliases:
                assert getattr(fj, alias) is getattr(fj, entry.name)
