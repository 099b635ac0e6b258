"""What the public API offers, discovered at run time, so the reliability
tests (properties, concurrency, huge indices, golden streams) cover every
initializer and dtype the installed fastinit has, including ones added after
these tests were written (truncated_normal, float16, bfloat16, ...)."""
from __future__ import annotations

import functools
import inspect

import numpy as np

import fastinit

# dtypes worth probing; bfloat16 exists only with ml_dtypes installed
CANDIDATE_DTYPES = ["float32", "float64", "float16", "bfloat16"]


def _is_initializer(fn) -> bool:
    if not callable(fn):
        return False
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return params[:2] == ["shape", "seed"]


def _initializers() -> dict:
    """Public generators taking (shape, seed, ...), by function name; aliases
    (xavier_*, kaiming_*) are the same function and appear once."""
    found = {}
    for name in fastinit.__all__:
        fn = getattr(fastinit, name)
        if _is_initializer(fn):
            found.setdefault(fn.__name__, fn)
    return dict(sorted(found.items()))


INITIALIZERS = _initializers()
# Generators that need the whole array: orthogonal's QR couples every element,
# so its index= slices a full generation. They are left out of the block,
# thread and huge-index tests, but are still pinned by the golden streams.
WHOLE_ARRAY = {"orthogonal"}
# Position-addressable generators (DESIGN.md): any block can be made alone via
# index=, with any thread count.
ADDRESSABLE = {n: f for n, f in INITIALIZERS.items()
               if n not in WHOLE_ARRAY and {"index", "threads"} <= set(inspect.signature(f).parameters)}
FLOAT_ADDRESSABLE = {n: f for n, f in ADDRESSABLE.items() if n != "bits"}


def dtype_named(name):
    """np.dtype(name), also for "bfloat16" (via ml_dtypes); None if unavailable."""
    try:
        return np.dtype(name)
    except TypeError:
        if name == "bfloat16":
            try:
                import ml_dtypes
            except ImportError:
                return None
            return np.dtype(ml_dtypes.bfloat16)
        return None


@functools.lru_cache(maxsize=None)
def dtypes_of(name: str) -> tuple:
    """The dtypes initializer ``name`` accepts (bits: uint32 only)."""
    if name == "bits":
        return (np.dtype(np.uint32),)
    fn = INITIALIZERS[name]
    ok = []
    for cand in CANDIDATE_DTYPES:
        dt = dtype_named(cand)
        if dt is None:
            continue
        try:
            fn((4, 4), 0, dtype=dt)
        except TypeError:
            continue
        ok.append(dt)
    return tuple(ok)


def generate(name: str, shape, seed, stream=0, dtype=None, **kw) -> np.ndarray:
    """Call initializer ``name``; ``dtype`` is ignored for bits."""
    fn = INITIALIZERS[name]
    if name != "bits":
        kw["dtype"] = dtype
    return fn(shape, seed, stream=stream, **kw)


def as_bytes(a: np.ndarray) -> bytes:
    """The array's values as little-endian bytes in C order (machine-independent)."""
    words = np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}")
    return words.astype(f"<u{a.dtype.itemsize}", copy=False).tobytes()
