"""What the public API offers, from fastinit's own table of initializers
(fastinit._spec), so the reliability tests (properties, concurrency, huge
indices, golden streams) cover every initializer and dtype, including ones
added after these tests were written."""
from __future__ import annotations

import functools
import math

import numpy as np

import fastinit
from fastinit import _spec

# Public generators by their main name (aliases are the same function).
INITIALIZERS = {name: getattr(fastinit, name) for name in sorted(_spec.INITIALIZERS)}
# Generators that need the whole array: orthogonal's QR couples every element,
# so its index= slices a full generation. They are left out of the block,
# thread and huge-index tests; the golden streams pin their input (below).
WHOLE_ARRAY = {name for name, entry in _spec.INITIALIZERS.items() if entry.whole_array}


def orthogonal_input(shape, seed, stream=0) -> np.ndarray:
    """The N(0, 1) float64 matrix ``fastinit.orthogonal(shape, seed,
    stream=stream)`` factors (see its docstring): ``fastinit.normal`` of
    ``(rows, cols)``, or ``(cols, rows)`` when rows < cols."""
    rows, cols = shape[0], math.prod(shape[1:])
    return fastinit.normal((rows, cols) if rows >= cols else (cols, rows), seed, stream=stream, dtype=np.float64)


# For the whole-array generators the golden streams pin the bits of what
# fastinit generates and hands to LAPACK, not the result: LAPACK's last bits
# vary with the BLAS build and the kernel OpenBLAS picks for the CPU.
# tests/test_orthogonal.py checks, with tolerances, that the result is the
# factorization of exactly this input.
PINNED_INPUT = {"orthogonal": orthogonal_input}
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
