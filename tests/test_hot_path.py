"""The hot path (fastinit._core.fill_cached serving a call from the validated
request of an earlier call like it) gives the full path's bits and errors:
a call that differs from a cached one in a type (1 vs 1.0 vs True, -0.0 vs
0.0), in out=, or in FASTINIT_NUM_THREADS is checked in full again."""
import numpy as np
import pytest

import fastinit
from fastinit import _core

F = fastinit


@pytest.fixture
def cold():
    """Run a call with an empty request cache (the full path)."""
    def run(call):
        _core.REQUESTS.clear()
        return call()
    return run


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


CALLS = [
    lambda: F.he_normal((64, 64), 7),
    lambda: F.he_normal((64, 64), 7, stream=3, mode="fan_out", nonlinearity="leaky_relu", a=0.2),
    lambda: F.glorot_uniform((3, 3, 16, 32), 2**64 - 1, dtype=np.float64),
    lambda: F.variance_scaling((37, 129), 5, 0.5, "fan_avg", "truncated_normal", dtype="float16"),
    lambda: F.lecun_normal((300, 20), 1, index=(slice(10, 200), slice(3, None))),
    lambda: F.truncated_normal(1000, 4, 1.0, 2.0, 0.5, 3.0, index=slice(-500, None)),
    lambda: F.uniform((5, 7), 9, -3.0, 5.0, dtype=np.dtype(">f4")),
    lambda: F.normal((2, 3, 4), 0, 1.0, 2.0),
    lambda: F.bits((64, 64), 123, 5),
    lambda: F.he_uniform((0, 5), 1),
]


@pytest.mark.parametrize("call", CALLS)
def test_cached_call_gives_the_full_paths_bits(call, cold):
    """Catches a cached request that drops a parameter, the dtype, the byte
    order, the block or the seed/stream of a later call."""
    full = cold(call)
    _same_bits(call(), full)     # served by the cached request
    _same_bits(call(), full)


def test_seed_and_stream_are_not_cached():
    a = F.he_normal((64, 64), 1)
    b = F.he_normal((64, 64), 2)
    c = F.he_normal((64, 64), 1, stream=1)
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    _same_bits(F.he_normal((64, 64), np.uint64(2)), b)       # full path for a NumPy seed
    _same_bits(F.he_normal((64, 64), 2, stream=np.int8(0)), b)


def test_out_is_filled_in_place_from_the_cache():
    first = F.normal((8, 9), 3)
    out = np.full((8, 9), 7.0, np.float32)
    assert F.normal((8, 9), 3, out=out) is out
    _same_bits(out, first)


# (call that caches a request, a call that differs only in what the key or
# the request's checks must catch, the exception it must still raise)
AFTER_WARM_UP = [
    (lambda: F.he_normal((4, 4), 0, in_axis=-2), lambda: F.he_normal((4, 4), 0, in_axis=-2.0), TypeError),
    (lambda: F.he_normal((4, 4), 0, gain=1), lambda: F.he_normal((4, 4), 0, gain=True), TypeError),
    (lambda: F.he_normal((4, 4), 0, threads=1), lambda: F.he_normal((4, 4), 0, threads=True), TypeError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((4.0, 4), 0), TypeError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((True, 4), 0), TypeError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((4, 4), 2**64), ValueError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((4, 4), -1), ValueError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((4, 4), 0, stream=-1), ValueError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((4, 4), 0, stream=1.0), TypeError),
    (lambda: F.normal((4, 4), 0), lambda: F.normal((4, 4), 0, out=np.zeros((4, 4), np.int32)), TypeError),
    (lambda: F.normal((4, 4), 0, out=np.zeros((4, 4), np.float32)),
     lambda: F.normal((4, 4), 0, out=np.zeros((4, 5), np.float32)), ValueError),
    (lambda: F.normal((4, 4), 0, out=np.zeros((4, 4), np.float32)),
     lambda: F.normal((4, 4), 0, out=np.zeros((4, 4), np.float32, order="F")), ValueError),
    (lambda: F.normal((4, 4), 0, dtype=np.float32, out=np.zeros((4, 4), np.float32)),
     lambda: F.normal((4, 4), 0, dtype=np.float32, out=np.zeros((4, 4), np.float64)), TypeError),
    (lambda: F.bits((4, 4), 0, out=np.zeros((4, 4), np.uint32)),
     lambda: F.bits((4, 4), 0, out=np.zeros((4, 4), np.float32)), TypeError),
    (lambda: F.normal(10, 0, index=slice(0, 3)), lambda: F.normal(10, 0, index=slice(0, 3, 2)), ValueError),
    (lambda: F.normal(10, 0, index=slice(0, 3)), lambda: F.normal(10, 0, index=slice(0.0, 3)), TypeError),
    (lambda: F.uniform(4, 0, 0.0, 1.0), lambda: F.uniform(4, 0, float("nan"), 1.0), ValueError),
]


@pytest.mark.parametrize("warm, bad, exc", AFTER_WARM_UP)
def test_a_cached_call_does_not_let_a_bad_one_through(warm, bad, exc):
    warm()
    warm()
    with pytest.raises(exc):
        bad()


def test_read_only_out_after_warm_up():
    F.he_normal((4, 5), 0, out=np.zeros((4, 5), np.float32))
    out = np.zeros((4, 5), np.float32)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        F.he_normal((4, 5), 0, out=out)


def test_negative_zero_is_not_zero(cold):
    """mean=-0.0 with std=0 gives -0.0 where mean=0.0 gives +0.0: the two
    must never share a cached request."""
    plus = F.normal(64, 0, mean=0.0, std=0.0)
    minus = cold(lambda: F.normal(64, 0, mean=-0.0, std=0.0))
    assert not np.signbit(plus).any() and np.signbit(minus).any()
    F.normal(64, 0, mean=0.0, std=0.0)
    _same_bits(F.normal(64, 0, mean=-0.0, std=0.0), minus)


def test_bad_thread_variable_after_warm_up(monkeypatch):
    F.normal(4, 0)
    F.normal(4, 0)
    monkeypatch.setenv("FASTINIT_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="FASTINIT_NUM_THREADS.*'two'"):
        F.normal(4, 0)


def test_a_stale_request_is_replaced(monkeypatch):
    _core.REQUESTS.clear()
    F.normal(5, 0)
    monkeypatch.setenv("FASTINIT_NUM_THREADS", "1")
    F.normal(5, 0)
    F.normal(5, 0)
    assert sum(map(len, _core.REQUESTS.values())) == 1


def test_cache_is_bounded():
    _core.REQUESTS.clear()
    for n in range(_core.MAX_REQUESTS + 10):
        F.normal(n % 97 + 1, 0, mean=float(n))
    assert sum(map(len, _core.REQUESTS.values())) <= _core.MAX_REQUESTS


def _misaligned_f4(shape):
    buf = np.zeros(int(np.prod(shape)) * 4 + 1, np.uint8)
    return buf[1:].view(np.float32).reshape(shape)


def _read_only(shape):
    out = np.zeros(shape, np.float32)
    out.setflags(write=False)
    return out


# every field of out= the cached request checks, each way off the warm-up's
# (4, 4) native aligned C-contiguous writable float32 array
OUT_VARIANTS = {
    "right": lambda: np.zeros((4, 4), np.float32),
    "dtype float64": lambda: np.zeros((4, 4), np.float64),
    "dtype float16": lambda: np.zeros((4, 4), np.float16),
    "dtype int32": lambda: np.zeros((4, 4), np.int32),
    "byte order": lambda: np.zeros((4, 4), ">f4"),
    "misaligned": lambda: _misaligned_f4((4, 4)),
    "Fortran order": lambda: np.zeros((4, 4), np.float32, order="F"),
    "strided": lambda: np.zeros((4, 8), np.float32)[:, ::2],
    "negative strides": lambda: np.zeros((4, 4), np.float32)[::-1],
    "read-only": lambda: _read_only((4, 4)),
    "shape (4, 5)": lambda: np.zeros((4, 5), np.float32),
    "shape (16,)": lambda: np.zeros(16, np.float32),
    "shape (4, 4, 1)": lambda: np.zeros((4, 4, 1), np.float32),
}
DTYPE_SPELLINGS = {"None": None, "str": "float32", "type": np.float32, "np.dtype": np.dtype("float32")}


def _outcome(call, make_out):
    """(the error's type and message, or the returned bits) and out's bytes after the call."""
    out = make_out()
    try:
        result = call(out)
    except (TypeError, ValueError) as e:
        return type(e), str(e), out.tobytes()
    assert result is out
    return result.dtype.str, result.shape, result.tobytes(), out.tobytes()


@pytest.mark.parametrize("variant", list(OUT_VARIANTS))
@pytest.mark.parametrize("spelling", list(DTYPE_SPELLINGS))
def test_every_field_of_out_after_a_warm_up(spelling, variant, cold):
    """After warm-up calls with out= and the dtype spelled each way, an out=
    that differs in one field gets exactly the full path's error (type and
    message, out untouched) or the full path's bits. Catches a cached check
    that skips a field (e.g. the byte order after an explicit dtype)."""
    dtype = DTYPE_SPELLINGS[spelling]

    def call(out):
        return F.he_normal((4, 4), 3, dtype=dtype, out=out)

    full = cold(lambda: _outcome(call, OUT_VARIANTS[variant]))
    for _ in range(2):
        call(np.zeros((4, 4), np.float32))
    assert _outcome(call, OUT_VARIANTS[variant]) == full
