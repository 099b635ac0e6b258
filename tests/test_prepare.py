"""fastinit._prepare.prepare: the one validated call every consumer makes.
A Prepared's fill must be the public call's values for any block, seed,
stream and out; its .core must be the spec's C request; and its hot-path
requests must never serve another call (a Prepared whose core is not the
spec's, bfloat16 by rounding, has its own)."""
import numpy as np
import pytest

import fastinit
from fastinit import _spec
from fastinit._prepare import Prepared, prepare

SHAPE = (37, 21)


@pytest.mark.parametrize("name", sorted(_spec.BY_NAME))
@pytest.mark.parametrize("index", [None, slice(3, 9), (slice(1, 30), slice(5, 6)), [36, 0, 0, -1]])
def test_fill_is_the_public_call(name, index):
    """Each block, with and without out=, twice (the second from the hot
    path's cached request), equals the public function's call."""
    p = prepare(name, SHAPE)
    want = getattr(fastinit, name)(SHAPE, 11, stream=4, index=index)
    for _ in range(2):
        np.testing.assert_array_equal(p.fill(11, 4, index=index), want)
    out = np.full_like(want, 7)
    assert p.fill(11, 4, index=index, out=out) is out
    np.testing.assert_array_equal(out, want)


def test_interface():
    p = prepare("kaiming_normal", [8, 3], dtype="float64", mode="fan_out")
    assert isinstance(p, Prepared) and p.name == "he_normal" and p.shape == (8, 3)
    assert p.dtype == np.dtype(np.float64) and not p.whole_array
    assert p.distribution == _spec.INITIALIZERS["he_normal"].distribution((8, 3), {"mode": "fan_out"})
    assert p.core == p.distribution.core(np.dtype(np.float64)) and p.core[0] == "normal"
    q = prepare("orthogonal", (4, 6), gain=2.0)
    assert q.whole_array and q.core is None and q.dtype == np.dtype(np.float32)
    assert prepare("bits", 5).dtype == np.dtype(np.uint32)


@pytest.mark.parametrize("call, error, match", [
    (lambda: prepare("he_normal", (3, 2), gian=1.0), TypeError, "'gian'"),
    (lambda: prepare("he_normal", (3, -2)), ValueError, "negative"),
    (lambda: prepare("he_normal", (3, 2), dtype=np.int32), TypeError, "dtype"),
    (lambda: prepare("he_normal", (3, 2), mode="fan_sideways"), ValueError, "mode"),
    (lambda: prepare("no_such_initializer", (3, 2)), ValueError, "initializer"),
    (lambda: prepare("orthogonal", (3,)), ValueError, "at least 2 axes"),
    (lambda: prepare("normal", 4).fill(-1), ValueError, "seed"),
    (lambda: prepare("normal", 4).fill(0, out=np.empty(4, np.float64)), TypeError, "out has dtype"),
])
def test_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_request_is_the_bare_fill():
    p = prepare("glorot_uniform", SHAPE, dtype=np.float64)
    request = p.request(index=(slice(2, 9),))
    np.testing.assert_array_equal(request.run(3, 1), p.fill(3, 1, index=slice(2, 9)))
    with pytest.raises(ValueError, match="whole array"):
        prepare("orthogonal", SHAPE).request()


def test_bfloat16_by_rounding_keeps_its_own_requests():
    """A window the float32 kernel draws flat (mean beyond float32) gets the
    uniform over its bfloat16 values when rounded to bfloat16: parameters
    that are not the spec's float32 ones, so its cached request must not
    serve the plain float32 call with the same key, nor the other way."""
    options = dict(mean=1e39, std=1e39, a=1.001, b=1.999)
    plain = prepare("truncated_normal", (64, 8), dtype=np.float32, **options)
    rounded, clamp = plain.rounded_to_bfloat16()
    assert rounded.core != plain.core and clamp == (1.0078125, 1.9921875)
    want = fastinit.truncated_normal((64, 8), 2, **options)
    for _ in range(2):
        got = rounded.fill(2)
        assert got.min() >= clamp[0] and got.max() <= clamp[1]
        np.testing.assert_array_equal(plain.fill(2), want)
