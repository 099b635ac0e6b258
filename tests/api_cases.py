"""What the public API offers, from fastinit's own table of initializers
(fastinit._spec), so the reliability tests (properties, concurrency, huge
indices, golden streams) cover every initializer and dtype, including ones
added after these tests were written."""
from __future__ import annotations

import functools

import numpy as np

import fastinit
from fastinit import _spec

# Public generators by their main name (aliases are the same function).
INITIALIZERS = {name: getattr(fastinit, name) for name in sorted(_spec.INITIALIZERS)}
# Generators that need the whole array: orthogonal's QR couples every element,
# so its index= slices a full generation. They are left out of the block,
# thread and huge-index tests, but are still pinned by the golden streams.
WHOLE_ARRAY = {name for name, entry in _spec.INITIALIZERS.items() if entry.whole_array}
# Position-addressable generators (docs/design.md): any block can be made
# alone via index=, with any thread count.
ADDRESSABLE = {n: f for n, f in INITIALIZERS.items() if n not in WHOLE_ARRAY}
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
    """The dtypes initializer ``name`` accepts that this environment has
    (bfloat16 needs ml_dtypes)."""
    return tuple(dt for dt in map(dtype_named, _spec.INITIALIZERS[name].dtypes) if dt is not None)


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
