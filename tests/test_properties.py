"""Property tests (hypothesis, derandomized so every run draws the same
examples): for random shapes (0-4 axes, zero-length axes included), seeds and
streams (including 0 and 2**64 - 1), dtypes, index blocks and thread counts,

* a block generated alone (slices, or a list of row ids as the index) equals
  the same block of the full array, with and without ``out=``;
* the result does not depend on the thread count;
* a non-native byte order gives the native values;
* every invalid argument raises ValueError/TypeError naming the argument
  and showing the value, with ``out=`` left byte for byte as it was.

Initializers and dtypes come from tests/support/api_cases.py, so ones added later are
covered without editing this file."""
from __future__ import annotations

import inspect
import math
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from support.api_cases import ADDRESSABLE, INITIALIZERS, as_bytes, dtypes_of, generate

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

EDGE_WORDS = [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1]
words = st.one_of(st.sampled_from(EDGE_WORDS), st.integers(0, 2**64 - 1))
names = st.sampled_from(list(ADDRESSABLE))


@st.composite
def shapes(draw, max_elements=40_000, max_dim=150):
    """0-4 axes; zero-length axes included; at most max_elements elements."""
    ndim = draw(st.integers(0, 4))
    dims = []
    for _ in range(ndim):
        room = max_elements // max(1, math.prod(d for d in dims if d))
        dims.append(draw(st.integers(0, max(0, min(max_dim, room)))))
    return tuple(dims)


@st.composite
def blocks(draw, shape):
    """An index: a step-1 tuple of slices over the leading axes, with None,
    negative and in-range bounds (fastinit rejects bounds outside [-n, n]);
    or, sometimes, a list of row ids for axis 0 as the whole index (any
    order, repeats and negative ids, as NumPy takes them)."""
    if shape and shape[0] and draw(st.booleans()):
        n = shape[0]
        return draw(st.lists(st.integers(-n, n - 1), max_size=min(2 * n, 40)))
    naxes = draw(st.integers(0, len(shape)))
    index = []
    for n in shape[:naxes]:
        bound = st.one_of(st.none(), st.integers(-n, n))
        index.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1]))))
    return tuple(index)


def _seed_stream_dtype(data, name):
    return (data.draw(words, label="seed"), data.draw(words, label="stream"),
            data.draw(st.sampled_from(dtypes_of(name)), label="dtype"))


@SETTINGS
@given(name=names, shape=shapes(), data=st.data())
def test_block_equals_slice_of_full(name, shape, data):
    seed, stream, dtype = _seed_stream_dtype(data, name)
    index = data.draw(blocks(shape), label="index")
    threads = data.draw(st.integers(1, 4), label="threads")
    full = generate(name, shape, seed, stream, dtype, threads=1)
    expected = full[index]
    block = generate(name, shape, seed, stream, dtype, index=index, threads=threads)
    assert block.shape == expected.shape and block.dtype == expected.dtype
    assert as_bytes(block) == as_bytes(expected)
    # the same into an existing buffer full of garbage
    out = np.frombuffer(np.random.default_rng(0).bytes(expected.nbytes), dtype=expected.dtype)
    out = out.reshape(expected.shape).copy()
    result = generate(name, shape, seed, stream, dtype, index=index, threads=threads, out=out)
    assert result is out
    assert as_bytes(out) == as_bytes(expected)


@SETTINGS
@given(name=names, shape=shapes(max_elements=5_000), data=st.data())
def test_non_native_byte_order_gives_native_values(name, shape, data):
    """A non-native dtype (">f4" on x86) or out= holds the native values in
    its byte order, for any block, with or without out= (bfloat16 has no
    non-native form: NumPy turns it into raw bytes)."""
    seed, stream, dtype = _seed_stream_dtype(data, name)
    assume(dtype.kind in "fu")
    index = data.draw(blocks(shape), label="index")
    swapped = dtype.newbyteorder(">" if sys.byteorder == "little" else "<")
    expected = generate(name, shape, seed, stream, dtype, index=index)
    if data.draw(st.booleans(), label="out") or name == "bits":
        result = generate(name, shape, seed, stream, None, index=index, out=np.empty(expected.shape, swapped))
    else:
        result = generate(name, shape, seed, stream, swapped, index=index)
    assert result.dtype == swapped
    assert as_bytes(result.astype(dtype)) == as_bytes(expected)


@SETTINGS
@given(name=names, data=st.data())
def test_independent_of_thread_count(name, data):
    # large enough that several threads really run (each gets >= 2**16 elements)
    rows = data.draw(st.integers(1_000, 3_000), label="rows")
    cols = data.draw(st.integers(97, 160), label="cols")
    shape = (rows, cols)
    seed, stream, dtype = _seed_stream_dtype(data, name)
    index = data.draw(st.sampled_from([
        (), (slice(1, None),), (slice(3, rows - 5), slice(1, cols - 2)), (slice(None), slice(7, None)),
    ]), label="index")
    results = {t: as_bytes(generate(name, shape, seed, stream, dtype, index=index, threads=t))
               for t in (1, 2, 3, 7)}
    assert len(set(results.values())) == 1, {t: hash(r) for t, r in results.items()}


# ---- invalid arguments ------------------------------------------------------

GENERIC_BAD = [
    ("seed", -1), ("seed", 2**64), ("seed", 1.5), ("seed", True), ("seed", "3"), ("seed", np.float64(2)),
    ("stream", -1), ("stream", 2**64), ("stream", 0.5), ("stream", False),
    ("threads", 0), ("threads", -2), ("threads", 1.5), ("threads", True), ("threads", "2"),
    ("index", slice(0, None, 2)), ("index", slice(None, None, -1)), ("index", 3), ("index", "a"),
    ("index", (slice(0, 1.5),)),
]
FLOAT_BAD = [("dtype", np.int32), ("dtype", "float8"), ("dtype", np.complex64), ("dtype", "not a dtype")]
# keyed by parameter name, so initializers added later get the checks that fit
# their signature; each entry: (argument named in the message, bad kwargs)
PARAMETER_BAD = {
    "gain": [("gain", dict(gain=-1.0)), ("gain", dict(gain=float("nan")))],
    "scale": [("scale", dict(scale=0.0)), ("scale", dict(scale=-1.0))],
    "mode": [("mode", dict(mode="fan_sideways"))],
    "distribution": [("distribution", dict(distribution="cauchy"))],
    "nonlinearity": [("nonlinearity", dict(nonlinearity="swoosh"))],
    "mean": [("mean", dict(mean=float("nan"))), ("mean", dict(mean=float("inf")))],
    "std": [("std", dict(std=-1.0)), ("std", dict(std=float("inf"))), ("std", dict(std="1"))],
    "low": [("low", dict(low=1.0, high=0.0)), ("low", dict(low=float("nan")))],
    "high": [("high", dict(high=float("inf")))],
    "fan_in": [("fan_in", dict(fan_in=0)), ("fan_in", dict(fan_in=-3.0))],
    "fan_out": [("fan_out", dict(fan_out=0))],
    "layout": [("layout", dict(layout="tf"))],
    "in_axis": [("in_axis", dict(in_axis=7))],
}


def _bad_cases(name, shape):
    params = inspect.signature(INITIALIZERS[name]).parameters
    cases = [(arg, {arg: value}) for arg, value in GENERIC_BAD]
    if "dtype" in params:
        cases += [(arg, {arg: value}) for arg, value in FLOAT_BAD]
    if shape:
        n = shape[0]
        cases += [("index", {"index": slice(n + 1)}), ("index", {"index": slice(-n - 1, None)})]
    cases.append(("index", {"index": (slice(None),) * (len(shape) + 1)}))
    for param, bad in PARAMETER_BAD.items():
        if param in params:
            cases += bad
    return cases


def _shown_value(value):
    """How a message may show a bad value: its str or repr (a dtype by its
    name); None for an index, whose message shows the offending bound."""
    if isinstance(value, (slice, tuple)):
        return None
    if isinstance(value, type):
        return (np.dtype(value).name,)
    return (str(value), repr(value))


@SETTINGS
@given(name=names, shape=shapes(max_elements=5_000).filter(lambda s: len(s) >= 2), data=st.data())
def test_invalid_argument_leaves_out_untouched(name, shape, data):
    seed, stream, dtype = _seed_stream_dtype(data, name)
    arg, bad = data.draw(st.sampled_from(_bad_cases(name, shape)), label="bad")
    out = generate(name, shape, seed, stream, dtype)
    out[...] = np.frombuffer(np.random.default_rng(1).bytes(out.nbytes), dtype=out.dtype).reshape(shape)
    before = as_bytes(out)
    kw = dict(seed=seed, stream=stream, dtype=dtype, out=out)
    kw.update(bad)
    if name == "bits":
        kw.pop("dtype")
    with pytest.raises((ValueError, TypeError)) as info:
        INITIALIZERS[name](shape, **kw)
    assert arg in str(info.value), f"message does not name {arg!r}: {info.value}"
    shown = _shown_value(bad[arg])
    assert shown is None or any(text in str(info.value) for text in shown), \
        f"message does not show the value {bad[arg]!r}: {info.value}"
    assert as_bytes(out) == before


BAD_SHAPES = [-1, (2, -3), 2.5, (2.0, 3), "3", None, (True, 2), (2**32, 2**32), (2**63,)]


@pytest.mark.parametrize("name", list(INITIALIZERS))
@pytest.mark.parametrize("shape", BAD_SHAPES, ids=repr)
def test_invalid_shape_leaves_out_untouched(name, shape):
    out = np.full((2, 3), 7, dtype=dtypes_of(name)[0])
    with pytest.raises((ValueError, TypeError), match="shape"):
        generate(name, shape, 0, dtype=out.dtype, out=out)
    assert (out == 7).all()


def _bad_outs(shape, dtype):
    wrong_dtype = np.float64 if dtype != np.float64 else np.float32
    read_only = np.zeros(shape, dtype)
    read_only.flags.writeable = False
    return [
        np.zeros(shape[::-1] + (1,), dtype),             # wrong shape
        np.zeros(shape, wrong_dtype),                    # wrong dtype
        np.zeros(shape, dtype, order="F"),               # not C-contiguous
        np.zeros((shape[0], 2 * shape[1]), dtype)[:, ::2],  # strided view
        read_only,
        np.zeros(shape, dtype).tolist(),                 # not an ndarray
    ]


@pytest.mark.parametrize("name", list(INITIALIZERS))
def test_bad_out_is_rejected_untouched(name):
    shape = (5, 7)
    dtype = dtypes_of(name)[0]
    for out in _bad_outs(shape, dtype):
        before = repr(out) if isinstance(out, list) else as_bytes(out)
        with pytest.raises((ValueError, TypeError), match="out"):
            generate(name, shape, 0, dtype=dtype, out=out)
        assert (repr(out) if isinstance(out, list) else as_bytes(out)) == before
