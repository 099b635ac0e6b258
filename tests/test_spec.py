"""fastinit._spec is the one table of initializers: the public functions,
their aliases and the Dask versions must agree with it, and the distribution
it gives must be the one the public function draws from."""
import inspect
import math

import numpy as np
import pytest

import fastinit
from fastinit import _spec, initializers

@pytest.mark.parametrize("name", sorted(_spec.INITIALIZERS))
def test_public_signature_is_the_spec(name):
    """Every parameter of a public function, positional ones included, has
    the name, place, kind (positional-or-keyword or keyword-only) and
    default the spec entry gives (catches an option added, renamed,
    reordered, made positional or given another default in one place only)."""
    entry = _spec.INITIALIZERS[name]
    declared = [(p.name, p.kind, p.default) for p in inspect.signature(getattr(fastinit, name)).parameters.values()]
    assert declared == [(p.name, p.kind, p.default) for p in entry.signature().parameters.values()]
    assert [n for n, _, _ in declared[:2]] == ["shape", "seed"]
    assert {n for n, _, _ in declared[2:]} == set(entry.option_names) | {c for c, _ in _spec.COMMON} - (
        {"dtype"} if len(entry.dtypes) == 1 else set())
    for alias in entry.aliases:
        assert getattr(fastinit, alias) is getattr(fastinit, name)


@pytest.mark.parametrize("name", sorted(_spec.INITIALIZERS))
def test_public_body_passes_the_options_in_spec_order(name, monkeypatch):
    """The call a public function makes carries every argument in its place:
    each option given a distinct marker by keyword arrives at the spec's
    position of that option."""
    entry = _spec.INITIALIZERS[name]
    seen = []
    monkeypatch.setattr(initializers, "_fill_cached", lambda *args: seen.append(args))  # a miss: None
    monkeypatch.setattr(initializers, "_full_call", lambda *args: seen.append(args))
    markers = {option: f"<{option}>" for option in entry.option_names}
    common = {c: f"<{c}>" for c, _ in _spec.COMMON if c in inspect.signature(getattr(fastinit, name)).parameters}
    getattr(initializers, name)("<shape>", "<seed>", **markers, **common)
    lookup, args = seen
    assert lookup == args == (name, "<shape>", "<seed>", "<stream>", common.get("dtype"), "<out>", "<threads>", "<index>",
                    tuple(markers[o] for o in entry.option_names))


def test_a_signature_unlike_the_spec_is_refused():
    def he_normal(shape, seed=None, *, mode="fan_in", a=0.0):
        """a and mode swapped, most options missing"""
    with pytest.raises(TypeError, match="not the spec's signature"):
        initializers._from_spec(he_normal)


def test_every_public_initializer_is_in_the_spec():
    public = {n for n in fastinit.__all__ if list(inspect.signature(getattr(fastinit, n)).parameters)[:2]
              == ["shape", "seed"]}
    assert public == set(_spec.BY_NAME)


@pytest.mark.parametrize("name, options, expected", [
    ("glorot_uniform", {}, _spec.Uniform(-math.sqrt(6 / 5), math.sqrt(6 / 5))),   # shape (3, 2)
    ("glorot_normal", {}, _spec.Normal(0.0, math.sqrt(2 / 5))),
    ("he_normal", {}, _spec.Normal(0.0, math.sqrt(2 / 3))),
    ("he_uniform", {"mode": "fan_out"}, _spec.Uniform(-math.sqrt(3.0), math.sqrt(3.0))),
    ("lecun_normal", {}, _spec.Normal(0.0, math.sqrt(1 / 3))),
    ("variance_scaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "truncated_normal"},
     _spec.TruncatedNormal(0.0, math.sqrt(2 / 2.5) / _spec.TRUNCATED_2_STD,
                           -2 * math.sqrt(2 / 2.5) / _spec.TRUNCATED_2_STD, 2 * math.sqrt(2 / 2.5) / _spec.TRUNCATED_2_STD)),
])
def test_distribution_formulas(name, options, expected):
    """The worked example of docs/numpy.md, shape (3, 2): Glorot variance 0.4."""
    got = _spec.INITIALIZERS[name].distribution((3, 2), options)
    assert type(got) is type(expected)
    numbers = [f for f in expected._fields if f not in ("equal_ok", "scaled_from")]
    np.testing.assert_allclose([getattr(got, f) for f in numbers], [getattr(expected, f) for f in numbers],
                               rtol=1e-15)


def test_gain_zero_and_equal_bounds_are_constants():
    """gain 0 is all zeros (as torch.nn.init.xavier_uniform_(w, gain=0));
    an allowed point interval is that constant, the public uniform refuses it."""
    assert not fastinit.glorot_uniform((4, 5), 0, gain=0.0).any()
    f32 = np.dtype(np.float32)
    assert _spec.Uniform(1.0, 1.0, equal_ok=True).core(f32) == ("uniform", dict(low=1.0, span=0.0, high_below=1.0))
    with pytest.raises(ValueError, match="low must be < high"):
        _spec.Uniform(1.0, 1.0).core(f32)


def test_unknown_option_is_named():
    with pytest.raises(TypeError, match="'gian'"):
        _spec.INITIALIZERS["glorot_uniform"].distribution((3, 2), {"gian": 1.0})


@pytest.mark.parametrize("name", sorted(n for n, e in _spec.INITIALIZERS.items()
                                        if e.name not in ("bits", "orthogonal")))
def test_public_call_draws_the_spec_distribution(name):
    """The public function's bits are the C core's fill of the spec's
    distribution (so nothing else computes a parameter)."""
    shape = (37, 21)
    entry = _spec.INITIALIZERS[name]
    kernel, params = entry.distribution(shape).core(np.dtype(np.float32))
    expected = np.empty(shape, np.float32)
    fastinit._core.fill_array(expected, kernel, 5, 3, (1, expected.size, 0, (), ()), 1, **params)
    np.testing.assert_array_equal(getattr(fastinit, name)(shape, 5, stream=3), expected)
