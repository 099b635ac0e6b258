"""Limits: parameters at and beyond what the output dtype can represent,
integer arguments of every NumPy integer dtype, and shapes at and beyond the
largest array (2**63 - 1 elements).

The rule: a distribution whose samples would leave the dtype's finite range
(uniform bounds that round to inf; normal or truncated normal samples that
can reach beyond the largest finite value) raises a ValueError naming the
arguments; a truncated normal whose mean or std float32 cannot hold but whose
window is flat is computed (it is U[a, b] to float32 precision there). Each
test fails on the old behaviour: -inf or a pile of 65504 from uniform, only
+-1 from truncated_normal(std=1e39), OverflowError for int32 row ids."""
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastinit
from support import philox_ref
from support.api_cases import INITIALIZERS, dtype_named, dtypes_of, generate

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=120,
                    suppress_health_check=[HealthCheck.too_slow])
LARGEST = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
           "float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}
DTYPES = [name for name in LARGEST if dtype_named(name) is not None]
# the largest |z| the samplers produce: Box-Muller's radius at u = 2**-24 / 2**-53
REACH = {"float64": math.sqrt(106 * math.log(2))}
REACH.update({name: math.sqrt(48 * math.log(2)) for name in ("float32", "float16", "bfloat16")})


def dt(name):
    return dtype_named(name)


# ---- uniform ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "float64"])  # float64 holds any finite bound
@pytest.mark.parametrize("arg", ["low", "high"])
def test_uniform_bound_beyond_dtype_raises(dtype, arg):
    """float16 low=-7e4 gave -inf; high=7e4 gave 6.5% of values 65504."""
    bounds = {"low": -1.0, "high": 1.0, arg: (-1.0 if arg == "low" else 1.0) * LARGEST[dtype] * 1.07}
    out = np.full(1000, 3, dt(dtype))
    with pytest.raises(ValueError, match=f"{arg} must be finite in {dtype}"):
        fastinit.uniform(1000, 0, out=out, **bounds)
    assert (out == 3).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_up_to_largest_value(dtype):
    """The largest finite value itself is a fine bound: no inf, never high."""
    top = LARGEST[dtype]
    x = fastinit.uniform(10**5, 0, low=-top / 2, high=top / 2, dtype=dt(dtype)).astype(np.float64)
    assert np.isfinite(x).all() and x.min() >= -top / 2 and x.max() < top / 2


@SETTINGS
@given(dtype=st.sampled_from(DTYPES), low=st.floats(-1e40, 1e40), width=st.floats(1e-3, 1e40))
def test_uniform_samples_finite_in_range_or_error(dtype, low, width):
    high = low + width
    try:
        x = fastinit.uniform(512, 1, low=low, high=high, dtype=dt(dtype))
    except ValueError as e:
        assert any(arg in str(e) for arg in ("low", "high")), e
        return
    x = x.astype(np.float64)
    assert np.isfinite(x).all()
    assert (x >= float(dt(dtype).type(low))).all() and (x < float(dt(dtype).type(high))).all()


# ---- normal -------------------------------------------------------------------

@SETTINGS
@given(dtype=st.sampled_from(DTYPES), mean=st.floats(-1e40, 1e40), log_std=st.floats(-5, 41))
def test_normal_finite_or_error_and_errors_only_when_needed(dtype, mean, log_std):
    """Accepted parameters give only finite samples; a ValueError comes only
    when the samplers' reach, |mean| + 5.77 std (8.57 in float64), really
    leaves the dtype (with a 1% margin)."""
    std = 10.0**log_std
    try:
        x = fastinit.normal(4096, 2, mean=mean, std=std, dtype=dt(dtype))
    except ValueError as e:
        assert "mean=" in str(e) and "std=" in str(e), e
        assert abs(mean) + REACH[dtype] * std > 0.99 * LARGEST[dtype]
        return
    assert np.isfinite(x.astype(np.float64)).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_at_the_edge_of_the_dtype(dtype):
    """std just under the limit works and reaches near the largest value
    (the first lane group of seed 0 has no extreme radius: use many)."""
    std = LARGEST[dtype] / REACH[dtype] * 0.999
    x = fastinit.normal(10**5, 0, std=std, dtype=dt(dtype)).astype(np.float64)
    assert np.isfinite(x).all()
    with pytest.raises(ValueError, match="beyond the largest finite"):
        fastinit.normal(10, 0, std=std * 1.01, dtype=dt(dtype))


@pytest.mark.parametrize("fn, kwargs", [
    (fastinit.he_normal, {}), (fastinit.he_normal, {"distribution": "truncated_normal"}),
    (fastinit.glorot_normal, {}), (fastinit.glorot_normal, {"distribution": "truncated_normal"}),
    (fastinit.he_uniform, {}), (fastinit.glorot_uniform, {}),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_derived_parameters_beyond_float16_raise(fn, kwargs):
    """gain 1e6 over a fan of 1: std 1e6 (uniform bound 1.7e6), beyond float16
    for every distribution (it gave inf or a pile of 65504)."""
    with pytest.raises(ValueError, match="float16"):
        fn((1, 1), 0, gain=1e6, dtype=np.float16, **kwargs)
    x = fn((64, 64), 0, gain=1.0, dtype=np.float16, **kwargs)
    assert np.isfinite(x.astype(np.float32)).all()


# ---- truncated normal ---------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mean", [0.0, 0.5, 1e39])
def test_truncated_normal_with_huge_std_is_uniform_on_the_window(dtype, mean):
    """std=1e39 on [-1, 1] is flat: float32 gave only -1 and 1. Every dtype
    must give the float64 answer, U[-1, 1] to far below an ulp."""
    n = 100_000
    x = fastinit.truncated_normal(n, 0, mean=mean, std=1e39, a=-1.0, b=1.0, dtype=dt(dtype)).astype(np.float64)
    assert (x >= -1).all() and (x <= 1).all()
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1 / math.sqrt(3)) < 0.01
    assert np.histogram(x, bins=10, range=(-1, 1))[0].min() > 0.09 * n
    assert len(np.unique(x)) > min(0.9 * n, 0.9 * len(np.unique(fastinit.uniform(n, 0, -1.0, 1.0, dtype=dt(dtype)))))


@pytest.mark.parametrize("std", [1e38, 3e38])
def test_truncated_normal_float32_between_subnormal_mass_and_overflow(std):
    """A window whose mass is below float32's normal range but whose std is
    still a float32 value: the same flat answer, not a subnormal-precision one."""
    x = fastinit.truncated_normal(100_000, 0, std=std, a=-1.0, b=1.0)
    assert abs(x.std() - 1 / math.sqrt(3)) < 0.01 and len(np.unique(x)) > 90_000


@pytest.mark.parametrize("dtype", DTYPES)
def test_far_window_is_not_taken_for_flat(dtype):
    """100 std wide, 2**61 std below the mean: alpha and beta round to the
    same double, yet the density is anything but flat (the mass sits at b).
    Judged from (b - a) and the distances to the mean, it is refused for its
    vanishing probability instead of sampled as U[0, 100)."""
    with pytest.raises(ValueError, match="probability"):
        fastinit.truncated_normal(10, 0, mean=2.0**61, std=1.0, a=0.0, b=100.0, dtype=dt(dtype))


def test_truncated_normal_non_flat_window_beyond_float32_raises():
    with pytest.raises(ValueError, match="mean and std must be finite in float32"):
        fastinit.truncated_normal(10, 0, std=1e39, a=-1e38, b=3e38)
    assert np.isfinite(fastinit.truncated_normal(10, 0, std=1e39, a=-1e38, b=3e38, dtype=np.float64)).all()


@pytest.mark.parametrize("a, b", [(-math.inf, math.inf), (-1e6, 1e6), (0.0, math.inf), (-math.inf, 0.0)])
def test_truncated_normal_reaching_beyond_float16_raises(a, b):
    """std=3e4 in float16 with a window wider than 65504: the old clamp made
    a pile of +-65504. A window inside the range is fine."""
    with pytest.raises(ValueError, match="beyond the largest finite float16"):
        fastinit.truncated_normal(10, 0, std=3e4, a=a, b=b, dtype=np.float16)
    x = fastinit.truncated_normal(10**4, 0, std=3e4, a=-6e4, b=6e4, dtype=np.float16).astype(np.float64)
    assert np.isfinite(x).all() and x.min() >= -6e4 and x.max() <= 6e4


@SETTINGS
@given(dtype=st.sampled_from(DTYPES), mean=st.floats(-1e39, 1e39), log_std=st.floats(-3, 42),
       a=st.floats(-1e39, 1e39), width=st.floats(1e-30, 1e39))
def test_truncated_normal_in_window_and_like_float64(dtype, mean, log_std, a, width):
    """Any accepted parameters: every sample finite and in [a, b]; where
    float64 takes the same parameters, the mean and spread agree with it
    (relative to the window, with a tolerance of many standard errors)."""
    std, b = 10.0**log_std, a + width
    try:
        x = fastinit.truncated_normal(2048, 3, mean=mean, std=std, a=a, b=b, dtype=dt(dtype)).astype(np.float64)
    except ValueError as e:
        assert any(arg in str(e) for arg in ("mean=", "a=", "[a, b]")), e
        return
    assert np.isfinite(x).all() and (x >= a).all() and (x <= b).all()
    ref = fastinit.truncated_normal(2048, 4, mean=mean, std=std, a=a, b=b, dtype=np.float64)
    # the spread is at most that of the window or of a few std; a narrow
    # window may hold few values of the dtype: allow one of its steps
    step = 2 * float(np.spacing(dt(dtype).type(min(max(abs(a), abs(b)), LARGEST[dtype] / 2))))
    tolerance = 0.1 * min(b - a, 4 * std) + 2 * step
    assert abs(x.mean() - ref.mean()) <= tolerance
    assert abs(x.std() - ref.std()) <= tolerance


# ---- the extreme values themselves ----------------------------------------------

SMALLEST_SUBNORMAL = {"float16": 2.0**-24, "bfloat16": 2.0**-133, "float32": 2.0**-149, "float64": 2.0**-1074}
TOP_STEP = {"float16": 2.0**5, "bfloat16": 2.0**120, "float32": 2.0**104, "float64": 2.0**971}  # spacing below LARGEST


@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_normal_produces_the_largest_finite_value(dtype):
    """A flat window of the dtype's 5 largest values: every one of them, the
    largest itself included, and nothing else (no inf: float16 rounding
    65504 + a little used to give inf or a pile at 65504)."""
    top = LARGEST[dtype]
    x = fastinit.truncated_normal(10**4, 0, mean=top, std=top / 4, a=top - 4 * TOP_STEP[dtype], b=top,
                                  dtype=dt(dtype)).astype(np.float64)
    assert set(np.unique(x)) == {top - k * TOP_STEP[dtype] for k in range(5)}
    assert 0.11 < np.mean(x == top) < 0.14  # half a step of the width 4 steps: 1/8


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("distribution", ["uniform", "truncated_normal", "truncated_normal_below", "normal"])
def test_smallest_subnormal_is_produced_exactly(dtype, distribution):
    """Windows hugging 0 (and a normal of std 2 subnormals) reach the smallest
    subnormal exactly, in each dtype; every value is a whole number of
    subnormals, finite, in the window (no flush to zero, no nan)."""
    tiny = SMALLEST_SUBNORMAL[dtype]
    n = 10**4
    x = {"uniform": lambda: fastinit.uniform(n, 0, 0.0, 8 * tiny, dtype=dt(dtype)),
         "truncated_normal": lambda: fastinit.truncated_normal(n, 0, 0.0, 1.0, 0.0, 8 * tiny, dtype=dt(dtype)),
         "truncated_normal_below": lambda: fastinit.truncated_normal(n, 0, 0.0, 1.0, -8 * tiny, 0.0,
                                                                     dtype=dt(dtype)),
         "normal": lambda: fastinit.normal(n, 0, 0.0, 2 * tiny, dtype=dt(dtype))}[distribution]().astype(np.float64)
    assert np.isfinite(x).all()
    units = x / tiny
    assert (units == np.round(units)).all() and np.abs(units).max() <= (8 if distribution != "normal" else 16)
    assert (np.abs(x) == tiny).sum() > n // 20
    if distribution != "normal":
        assert (units >= (-8 if distribution == "truncated_normal_below" else 0)).all()
        assert (units <= (0 if distribution == "truncated_normal_below" else 8)).all()


# ---- integer arguments of any NumPy integer dtype ----------------------------

INTEGER_DTYPES = sorted({np.dtype(c) for c in np.typecodes["AllInteger"]}, key=str)


@pytest.mark.parametrize("int_dtype", INTEGER_DTYPES, ids=str)
def test_row_ids_of_every_integer_dtype(int_dtype):
    """int32 ids on a 10**10-row table raised OverflowError (ids + n in int32)."""
    n = 10**10
    ids = np.array([7, 3, 0, 100], int_dtype)
    if int_dtype.kind == "i":
        ids = np.append(ids, np.array(-1, int_dtype))
    rows = fastinit.he_normal((n, 8), 0, index=ids)
    for r, i in zip(rows, ids.tolist()):
        i = i % n
        np.testing.assert_array_equal(r, fastinit.he_normal((n, 8), 0, index=(slice(i, i + 1),))[0])


@pytest.mark.parametrize("int_dtype", INTEGER_DTYPES, ids=str)
def test_row_ids_out_of_range_raise_value_error(int_dtype):
    big = np.iinfo(int_dtype).max
    with pytest.raises(ValueError, match=f"row id {big} is out of range"):
        fastinit.normal((5, 3), 0, index=np.array([1, big], int_dtype))
    if int_dtype.kind == "i":
        small = np.iinfo(int_dtype).min
        with pytest.raises(ValueError, match=f"row id {small} is out of range"):
            fastinit.normal((5, 3), 0, index=np.array([small], int_dtype))


@pytest.mark.parametrize("index", [[2**64], [-1, 2**63], [[1], [2, 3]], [1.0], [True, False], ["1"],
                                   np.array([[1, 2]]), [1 + 2j]], ids=repr)
def test_bad_row_ids_raise_only_value_or_type_error(index):
    out = np.full((4, 3), 7, np.float32)
    with pytest.raises((ValueError, TypeError), match="index"):
        fastinit.normal((4, 3), 0, index=index, out=out)
    assert (out == 7).all()


def test_row_ids_as_an_object_array_of_ints():
    """Python ints in an object array: in range they select rows (this raised
    StopIteration), beyond 64 bits they are out of range."""
    full = fastinit.normal((5, 3), 0)
    np.testing.assert_array_equal(fastinit.normal((5, 3), 0, index=np.array([4, -5, 1], dtype=object)),
                                  full[[4, -5, 1]])
    with pytest.raises(ValueError, match=f"row id {2**70} is out of range"):
        fastinit.normal((5, 3), 0, index=np.array([1, 2**70], dtype=object))


ANY_ITEM = st.one_of(st.integers(-2**70, 2**70), st.integers(-6, 6), st.floats(), st.booleans(), st.none(),
                    st.text(max_size=2), st.lists(st.integers(-6, 6), max_size=2))


@SETTINGS
@given(index=st.one_of(st.lists(ANY_ITEM, max_size=4), st.lists(st.integers(-6, 6), max_size=4)))
def test_any_list_as_row_ids_gives_rows_or_value_or_type_error(index):
    """Ints of any size, floats, bools, None, strings, nested lists: the
    rows, or ValueError/TypeError (an object array of in-range ints raised
    StopIteration)."""
    try:
        rows = fastinit.normal((5, 3), 0, index=index)
    except (ValueError, TypeError):
        return
    except Exception as e:  # anything else is a bug
        raise AssertionError(f"{type(e).__name__} for index={index!r}") from e
    np.testing.assert_array_equal(rows, fastinit.normal((5, 3), 0)[np.array(index, dtype=np.int64)])


@SETTINGS
@given(int_dtype=st.sampled_from(INTEGER_DTYPES), n=st.integers(1, 2**62 - 1), data=st.data())
def test_row_ids_any_dtype_any_axis_length(int_dtype, n, data):
    info = np.iinfo(int_dtype)
    ids = data.draw(st.lists(st.integers(max(info.min, -n - 2), min(info.max, n + 1)), min_size=1, max_size=4))
    index = np.array(ids, int_dtype)
    try:
        rows = fastinit.bits((n, 2), 0, index=index)
    except ValueError as e:
        assert "out of range" in str(e) and any(not -n <= i < n for i in ids)
        return
    assert all(-n <= i < n for i in ids)
    for r, i in zip(rows, ids):
        i %= n
        np.testing.assert_array_equal(r, fastinit.bits((n, 2), 0, index=(slice(i, i + 1),))[0])


@pytest.mark.parametrize("int_dtype", INTEGER_DTYPES, ids=str)
def test_shape_as_integer_array(int_dtype):
    expected = fastinit.he_normal((6, 5), 1)
    np.testing.assert_array_equal(fastinit.he_normal(np.array([6, 5], int_dtype), 1), expected)
    assert fastinit.uniform(np.array(7, int_dtype), 1).shape == (7,)


@pytest.mark.parametrize("shape", [np.array([2.0, 3.0]), np.array([True, False]), np.array([[2, 3]]),
                                   np.array([2, -3])], ids=repr)
def test_bad_shape_arrays(shape):
    with pytest.raises((ValueError, TypeError), match="shape"):
        fastinit.normal(shape, 0)


@pytest.mark.parametrize("dtype, value", [("float32", 1e39), ("float16", 1e5)])
@pytest.mark.parametrize("name", ["std", "mean"])
def test_normal_parameters_must_be_finite_in_the_output_dtype(dtype, value, name):
    """A parameter the output dtype cannot hold would make every sample inf:
    an error naming it, not a silent inf."""
    with pytest.raises(ValueError, match=re.escape(f"{name}={value!r}") + f".*beyond the largest finite {dtype}"):
        fastinit.normal(8, 0, dtype=dtype, **{name: value})
    assert np.isfinite(fastinit.normal(8, 0, dtype="float64", **{name: value})).all()


MAX_SHAPE = (2**63 - 1,)
TOO_BIG = [
    (2**63,),            # one more element than the largest flat index allows
    (2**62, 2),
    (2**21, 2**21, 2**21),
    (2**32, 2**32),      # 2**64 elements: wraps a 64-bit count to 0
    (2**32, 2**32, 3),   # wraps to a small nonzero count
    (10**12, 10**12),
    (2**64 + 1,),
    (0, 2**64),          # no elements, but no array can have such an axis
    (2**63, 0),
]


@pytest.mark.parametrize("shape", TOO_BIG, ids=str)
@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_too_large_shape_raises(name, shape):
    with pytest.raises(ValueError, match="shape"):
        generate(name, shape, 0, dtype=dtypes_of(name)[0])


def test_largest_shape_is_allowed():
    last = fastinit.bits(MAX_SHAPE, 7, index=slice(-3, None))
    assert last.tolist() == philox_ref.bits(7, 0, 2**63 - 4, 3).tolist()
