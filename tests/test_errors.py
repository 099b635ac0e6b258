"""Bad input: each case raises ValueError/TypeError whose message names the
argument and the value received, before any memory is written; zero-element
shapes are fine. Every bad argument of the NumPy API has its case here;
values beyond what a dtype or an array can hold are in test_limits.py."""
import numpy as np
import pytest

import fastinit

F = fastinit
NAN, INF = float("nan"), float("inf")
FLOAT_INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                      "lecun_uniform", "lecun_normal", "variance_scaling", "uniform", "normal"]
ALL = FLOAT_INITIALIZERS + ["bits"]

def _readonly(shape):
    a = np.zeros(shape, np.float32)
    a.setflags(write=False)
    return a


# (id, call, exception, regex the message must match: the argument and the value)
CASES = [
    # shape
    ("shape-negative", lambda: F.normal((3, -1), 0), ValueError, r"shape.*\(3, -1\)"),
    ("shape-negative-int", lambda: F.he_normal(-4, 0), ValueError, r"shape.*-4"),
    ("shape-float-dim", lambda: F.normal((3.0, 4), 0), TypeError, r"shape.*3\.0"),
    ("shape-bool-dim", lambda: F.glorot_uniform((True, 4), 0), TypeError, r"shape.*True"),
    ("shape-str", lambda: F.normal("34", 0), TypeError, r"shape.*'34'"),
    ("shape-float", lambda: F.bits(3.5, 0), TypeError, r"shape.*3\.5"),
    ("shape-none", lambda: F.uniform(None, 0), TypeError, r"shape.*None"),
    ("shape-overflow", lambda: F.normal((2**32, 2**32), 0), ValueError, r"shape.*4294967296.*2\*\*63"),
    ("shape-overflow-many-dims", lambda: F.bits((2**21,) * 3, 0), ValueError, r"shape.*elements"),
    # seed
    ("seed-negative", lambda: F.normal(4, -1), ValueError, r"seed.*-1"),
    ("seed-2**64", lambda: F.he_normal((4, 4), 2**64), ValueError, r"seed.*18446744073709551616"),
    ("seed-float", lambda: F.uniform(4, 1.0), TypeError, r"seed.*1\.0"),
    ("seed-str", lambda: F.bits(4, "42"), TypeError, r"seed.*'42'"),
    ("seed-bool", lambda: F.normal(4, True), TypeError, r"seed.*True"),
    ("seed-numpy-negative", lambda: F.normal(4, np.int64(-5)), ValueError, r"seed.*-5"),
    # stream
    ("stream-negative", lambda: F.normal(4, 0, stream=-1), ValueError, r"stream.*-1"),
    ("stream-2**64", lambda: F.bits(4, 0, 2**64), ValueError, r"stream.*18446744073709551616"),
    ("stream-float", lambda: F.glorot_normal((4, 4), 0, stream=0.5), TypeError, r"stream.*0\.5"),
    # dtype
    ("dtype-int", lambda: F.normal(4, 0, dtype=np.int32), TypeError, r"dtype.*int32"),
    ("dtype-int-python", lambda: F.he_normal((4, 4), 0, dtype=int), TypeError, r"dtype.*int64"),
    ("dtype-complex", lambda: F.uniform(4, 0, dtype=np.complex64), TypeError, r"dtype.*complex64"),
    ("dtype-int8", lambda: F.glorot_uniform((4, 4), 0, dtype=np.int8), TypeError, r"dtype.*int8"),
    ("dtype-unknown", lambda: F.lecun_normal((4, 4), 0, dtype="foo"), TypeError, r"dtype.*'foo'"),
    # out
    ("out-shape", lambda: F.normal((4, 5), 0, out=np.zeros((5, 4), np.float32)), ValueError, r"out.*\(5, 4\)"),
    ("out-shape-index", lambda: F.normal((4, 5), 0, index=(slice(1, 3),), out=np.zeros((4, 5), np.float32)),
     ValueError, r"out.*\(4, 5\).*\(2, 5\)"),
    ("out-dtype", lambda: F.normal(4, 0, dtype=np.float32, out=np.zeros(4)), TypeError, r"out.*float64"),
    ("out-dtype-bits", lambda: F.bits(4, 0, out=np.zeros(4, np.float32)), TypeError, r"out.*float32"),
    ("out-dtype-unsupported", lambda: F.normal(4, 0, out=np.zeros(4, np.int32)), TypeError, r"out.*int32"),
    ("out-noncontiguous", lambda: F.uniform((4, 5), 0, out=np.zeros((5, 4), np.float32).T), ValueError,
     r"out.*contiguous"),
    ("out-fortran", lambda: F.he_normal((4, 5), 0, out=np.zeros((4, 5), np.float32, order="F")), ValueError,
     r"out.*contiguous"),
    ("out-readonly", lambda: F.glorot_normal((4, 5), 0, out=_readonly((4, 5))), ValueError, r"out.*read-only"),
    ("out-list", lambda: F.normal(4, 0, out=[0.0] * 4), TypeError, r"out.*list"),
    # mode, distribution, nonlinearity, layout
    ("mode", lambda: F.variance_scaling((4, 4), 0, mode="avg"), ValueError, r"mode.*fan_in.*'avg'"),
    ("mode-he", lambda: F.he_uniform((4, 4), 0, mode="fan_sum"), ValueError, r"mode.*'fan_sum'"),
    ("distribution", lambda: F.variance_scaling((4, 4), 0, distribution="gauss"), ValueError,
     r"distribution.*normal.*'gauss'"),
    ("nonlinearity", lambda: F.he_normal((4, 4), 0, nonlinearity="gelu"), ValueError, r"nonlinearity.*relu.*'gelu'"),
    ("nonlinearity-gain", lambda: F.calculate_gain("swish"), ValueError, r"nonlinearity.*'swish'"),
    ("layout", lambda: F.he_normal((4, 4), 0, layout="tf"), ValueError, r"layout.*torch.*'tf'"),
    ("layout-fans", lambda: F.compute_fans((4, 4), layout="keras"), ValueError, r"layout.*'keras'"),
    # index
    ("index-stop-out-of-range", lambda: F.normal((10, 4), 0, index=(slice(0, 11),)), ValueError,
     r"index.*11.*size 10"),
    ("index-start-out-of-range", lambda: F.bits(10, 0, index=(slice(-11, None),)), ValueError, r"index.*-11"),
    ("index-step", lambda: F.normal((10, 4), 0, index=(slice(0, 10, 2),)), ValueError, r"index.*step.*2"),
    ("index-negative-step", lambda: F.uniform(10, 0, index=slice(None, None, -1)), ValueError, r"index.*step.*-1"),
    ("index-too-many-axes", lambda: F.normal(10, 0, index=(slice(0, 1), slice(0, 1))), ValueError, r"index.*2"),
    ("index-int-entry", lambda: F.normal((10, 4), 0, index=(3,)), TypeError, r"index.*3"),
    ("index-list-of-slices", lambda: F.normal((10, 4), 0, index=[slice(0, 3)]), TypeError, r"index row ids must be integers.*object"),
    ("index-float-bound", lambda: F.normal(10, 0, index=(slice(0.0, 3),)), TypeError, r"index.*0\.0"),
    # threads
    ("threads-0", lambda: F.normal(4, 0, threads=0), ValueError, r"threads.*0"),
    ("threads-negative", lambda: F.bits(4, 0, threads=-2), ValueError, r"threads.*-2"),
    ("threads-float", lambda: F.he_normal((4, 4), 0, threads=2.0), TypeError, r"threads.*2\.0"),
    # scale, gain, std, a, fans
    ("scale-negative", lambda: F.variance_scaling((4, 4), 0, scale=-1.0), ValueError, r"scale.*-1"),
    ("scale-zero", lambda: F.variance_scaling((4, 4), 0, scale=0.0), ValueError, r"scale.*0"),
    ("scale-nan", lambda: F.variance_scaling((4, 4), 0, scale=NAN), ValueError, r"scale.*nan"),
    ("scale-inf", lambda: F.variance_scaling((4, 4), 0, scale=INF), ValueError, r"scale.*inf"),
    ("scale-str", lambda: F.variance_scaling((4, 4), 0, scale="2"), TypeError, r"scale.*'2'"),
    ("gain-negative", lambda: F.glorot_uniform((4, 4), 0, gain=-1.0), ValueError, r"gain.*-1"),
    ("gain-nan", lambda: F.he_normal((4, 4), 0, gain=NAN), ValueError, r"gain.*nan"),
    ("gain-inf", lambda: F.glorot_normal((4, 4), 0, gain=INF), ValueError, r"gain.*inf"),
    ("std-negative", lambda: F.normal(4, 0, std=-0.5), ValueError, r"std.*-0\.5"),
    ("std-nan", lambda: F.normal(4, 0, std=NAN), ValueError, r"std.*nan"),
    ("std-inf", lambda: F.normal(4, 0, std=INF), ValueError, r"std.*inf"),
    ("mean-nan", lambda: F.normal(4, 0, mean=NAN), ValueError, r"mean.*nan"),
    ("a-str", lambda: F.he_normal((4, 4), 0, a="x", nonlinearity="leaky_relu"), TypeError, r"\ba\b.*'x'"),
    ("a-nan", lambda: F.kaiming_uniform((4, 4), 0, a=NAN, nonlinearity="leaky_relu"), ValueError, r"\ba\b.*nan"),
    ("fan_in-zero", lambda: F.he_normal((4, 4), 0, fan_in=0), ValueError, r"fan_in.*0"),
    ("fan_out-negative", lambda: F.glorot_normal((4, 4), 0, fan_out=-3), ValueError, r"fan_out.*-3"),
    ("fan_in-nan", lambda: F.lecun_uniform((4, 4), 0, fan_in=NAN), ValueError, r"fan_in.*nan"),
    # low / high
    ("low-equals-high", lambda: F.uniform(4, 0, 1.0, 1.0), ValueError, r"low.*high.*1\.0"),
    ("low-above-high", lambda: F.uniform(4, 0, 2.0, -1.0), ValueError, r"low.*2\.0.*high.*-1\.0"),
    ("low-equals-high-in-float32", lambda: F.uniform(4, 0, 1.0, 1.0 + 1e-12), ValueError, r"low.*high.*float32"),
    ("low-nan", lambda: F.uniform(4, 0, NAN, 1.0), ValueError, r"low.*nan"),
    ("high-inf", lambda: F.uniform(4, 0, 0.0, INF), ValueError, r"high.*inf"),
    ("span-overflows", lambda: F.uniform(4, 0, -3e38, 3e38), ValueError, r"high - low.*float32"),
    # axes
    ("in_axis-out-of-range", lambda: F.he_normal((4, 4), 0, in_axis=2), ValueError, r"in_axis.*2"),
    ("in_axis-equals-out_axis", lambda: F.compute_fans((4, 4, 4), in_axis=0, out_axis=-3), ValueError,
     r"in_axis.*out_axis"),
    ("layout-torch-1d", lambda: F.compute_fans((4,), layout="torch"), ValueError, r"fewer than 2 dimensions.*\(4,\)"),
    ("leaky-slope", lambda: F.calculate_gain("leaky_relu", NAN), ValueError, r"negative_slope.*nan"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_env_thread_count(monkeypatch, value):
    monkeypatch.setenv("FASTINIT_NUM_THREADS", value)
    with pytest.raises(ValueError, match=f"FASTINIT_NUM_THREADS.*'{value}'"):
        fastinit.normal(4, 0)


# Calls that fail after the shared arguments (shape, seed, out, ...) are
# checked, with a valid out= buffer: nothing may be written, and the message
# still names the argument and the value.
LATE_FAILURES = [
    ("glorot_uniform", dict(gain=-1.0), r"gain.*-1"), ("glorot_normal", dict(fan_in=0), r"fan_in.*0"),
    ("he_uniform", dict(mode="bad"), r"mode.*'bad'"), ("he_normal", dict(nonlinearity="bad"), r"nonlinearity.*'bad'"),
    ("he_normal", dict(a=NAN, nonlinearity="leaky_relu"), r"\ba\b.*nan"),
    ("he_normal", dict(layout="bad"), r"layout.*'bad'"),
    ("lecun_uniform", dict(fan_in=-1), r"fan_in.*-1"), ("lecun_normal", dict(in_axis=7), r"in_axis.*7"),
    ("variance_scaling", dict(scale=NAN), r"scale.*nan"), ("variance_scaling", dict(distribution="bad"), r"distribution.*'bad'"),
    ("uniform", dict(low=1.0, high=0.0), r"low.*1\.0.*high.*0\.0"), ("uniform", dict(high=INF), r"high.*inf"),
    ("normal", dict(std=-1.0), r"std.*-1"), ("normal", dict(mean=NAN), r"mean.*nan"),
    ("normal", dict(threads=0), r"threads.*0"), ("normal", dict(seed=-1), r"seed.*-1"),
    ("normal", dict(stream=2**64), r"stream.*18446744073709551616"),
    ("bits", dict(threads=0), r"threads.*0"), ("bits", dict(seed=2**64), r"seed.*18446744073709551616"),
    ("he_normal", dict(index=(slice(0, 2, 2),)), r"index.*step.*2"),
]


@pytest.mark.parametrize("name, kwargs, match", LATE_FAILURES, ids=[f"{n}-{next(iter(k))}" for n, k, _ in LATE_FAILURES])
def test_out_untouched_on_error(name, kwargs, match):
    kwargs = dict(kwargs)
    seed = kwargs.pop("seed", 0)
    dtype = np.uint32 if name == "bits" else np.float32
    out = np.full((64, 40), 7, dtype=dtype)
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(fastinit, name)((64, 40), seed, out=out, **kwargs)
    assert (out == 7).all()


ZERO_SHAPES = [(0,), (0, 5), (5, 0), (3, 0, 2), (0, 0, 3, 3)]
FAN_INITIALIZERS = [n for n in FLOAT_INITIALIZERS if n not in ("uniform", "normal")]


@pytest.mark.parametrize("name, shape, kwargs",
                         [(n, s, {}) for n in ALL for s in ZERO_SHAPES]
                         + [(n, s, {"layout": "torch"}) for n in FAN_INITIALIZERS for s in ZERO_SHAPES if len(s) >= 2])
def test_zero_element_shapes(name, shape, kwargs):
    x = getattr(fastinit, name)(shape, 0, **kwargs)
    assert x.shape == shape and x.size == 0
    assert x.dtype == (np.uint32 if name == "bits" else np.float32)


@pytest.mark.parametrize("name", ALL)
def test_zero_element_shapes_with_out_index_and_float64(name):
    f = getattr(fastinit, name)
    dtype = np.uint32 if name == "bits" else np.float64
    out = np.empty((0, 5), dtype)
    assert f((0, 5), 0, out=out) is out
    assert f((4, 5), 0, index=(slice(2, 2),)).shape == (0, 5)


def test_index_with_too_many_partial_axes_raises_before_allocating():
    """The C layout holds 32 partial axes: more is an error, raised while
    planning, before the 32 GiB block would be allocated."""
    with pytest.raises(ValueError, match="index leaves 33 partial axes; at most 32"):
        F.normal((3,) * 34, 0, index=(slice(0, 2),) * 34)


@pytest.mark.parametrize("index, err, match", [
    ([10], ValueError, "index row id 10"), ([-11], ValueError, "index row id -11"),
    (np.zeros((2, 2), int), ValueError, "index"), ([1.0, 2.0], TypeError, "index"),
    ([True, False], TypeError, "index"),
])
def test_bad_row_ids(index, err, match):
    out = np.full((len(index), 4), 7.0, dtype=np.float32)
    with pytest.raises(err, match=match):
        F.normal((10, 4), seed=0, index=index, out=out if out.ndim == 2 and len(index) != 2 else None)
    assert np.all(out == 7.0)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(a=1.0, b=1.0), ValueError, r"\ba\b.*\bb\b.*1\.0"), (dict(a=2.0, b=-2.0), ValueError, r"\ba\b.*2\.0.*\bb\b.*-2\.0"),
    (dict(std=0.0), ValueError, r"std.*0"), (dict(std=-1.0), ValueError, r"std.*-1"),
    (dict(a=float("nan")), TypeError, r"\ba\b.*nan"), (dict(b="2"), TypeError, r"\bb\b.*'2'"),
    (dict(a=40.0, b=np.inf), ValueError, r"a=40\.0.*b=inf.*probability"),
])
def test_truncated_normal_bad_arguments(kwargs, err, match):
    """The message names the argument and the value; out is left as it was."""
    out = np.full(10, 7.0, dtype=np.float32)
    with pytest.raises(err, match=match):
        F.truncated_normal(10, seed=0, out=out, **kwargs)
    assert np.all(out == 7.0)


@pytest.mark.parametrize("shape", [(5,), ()])
def test_orthogonal_needs_two_axes(shape):
    with pytest.raises(ValueError, match="2 axes"):
        F.orthogonal(shape, seed=0)


def test_integer_and_half_dtypes_where_not_allowed():
    with pytest.raises(TypeError, match="dtype"):
        F.normal(10, seed=0, dtype=np.int16)
    with pytest.raises(TypeError, match="out"):
        F.bits(10, seed=0, out=np.empty(10, np.float16))


@pytest.mark.parametrize("shape", [(), (5,), 5])
def test_compute_fans_torch_layout_needs_2_dims(shape):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        F.compute_fans(shape, layout="torch")


@pytest.mark.parametrize("name", FAN_INITIALIZERS)
def test_initializers_torch_layout_need_2_dims(name):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        getattr(F, name)((5,), 0, layout="torch")
