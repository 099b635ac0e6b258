"""Pure argument checks shared by every layer (shape, seed, stream, dtype,
out, index, row ids, threads, real options): each returns the value in its
canonical form or raises a ValueError/TypeError naming the argument. No
compiled import: fans, the spec table and the adapters use them freely."""
from __future__ import annotations

import math
import numbers
import os

import numpy as np

SEED_LIMIT = 2**64
# Logical element count limit: flat indices must fit an int64 (NumPy's own
# limit), which also keeps every Philox block number below 2**64.
MAX_ELEMENTS = 2**63 - 1


def is_int(x) -> bool:
    """An integer (Python or NumPy), not a bool."""
    # the exact-type test first: the ABC check costs a microsecond per call
    return type(x) is int or (isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_)))


def check_shape(shape) -> tuple:
    """An int, a sequence of ints >= 0 or a 1-D integer NumPy array, as a
    tuple of Python ints."""
    if type(shape) is tuple and all(type(d) is int and d >= 0 for d in shape):
        # the common case, already canonical: only the size limits are left
        if len(shape) < 2 or math.prod(shape) <= MAX_ELEMENTS:
            if not shape or max(shape) <= MAX_ELEMENTS:
                return shape
    if is_int(shape):
        dims = (shape,)
    elif isinstance(shape, (tuple, list)):
        dims = tuple(shape)
    elif isinstance(shape, np.ndarray) and shape.ndim <= 1 and shape.dtype.kind in "iu":
        dims = tuple(int(d) for d in shape.reshape(-1))
    else:
        raise TypeError(f"shape must be an int, a tuple of ints or a 1-D integer array, "
                        f"got {type(shape).__name__} {shape!r}")
    for d in dims:
        if not is_int(d):
            raise TypeError(f"shape must contain only ints (not bool or float), got {shape!r}")
        if d < 0:
            raise ValueError(f"shape must not contain negative dimensions, got {shape!r}")
    if not all(type(d) is int for d in dims):
        dims = tuple(int(d) for d in dims)
    # checked even when another axis is 0: NumPy cannot make an array with
    # such an axis and would fail later with a message naming no argument
    if max(dims, default=0) > MAX_ELEMENTS:
        raise ValueError(f"shape {dims} has an axis longer than 2**63 - 1")
    if math.prod(dims) > MAX_ELEMENTS:
        raise ValueError(f"shape {dims} has {math.prod(dims)} elements; at most 2**63 - 1 are allowed")
    return dims


def check_uint64(name: str, value) -> int:
    if not is_int(value):
        raise TypeError(f"{name} must be an int in [0, 2**64), got {type(value).__name__} {value!r}")
    value = int(value)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    return value


def check_seed(seed) -> int:
    """None draws 64 bits from the OS; otherwise an int in [0, 2**64)."""
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    return check_uint64("seed", seed)


def env_threads():
    """FASTINIT_NUM_THREADS as a positive int, or None if it is not set."""
    env = os.environ.get("FASTINIT_NUM_THREADS")
    if env is None or not env.strip():
        return None
    try:
        n = int(env)
    except ValueError:
        raise ValueError(f"FASTINIT_NUM_THREADS must be a positive int, got {env!r}") from None
    if n < 1:
        raise ValueError(f"FASTINIT_NUM_THREADS must be a positive int, got {env!r}")
    return n


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """FASTINIT_NUM_THREADS if set, else the CPUs this process may run on."""
    return env_threads() or available_cpus()


def check_threads(threads):
    """threads as a positive int; None if neither threads nor
    FASTINIT_NUM_THREADS says (then run() uses the available CPUs, counted
    only for arrays large enough to use them)."""
    if threads is None:
        return env_threads()
    if not is_int(threads):
        raise TypeError(f"threads must be a positive int or None, got {type(threads).__name__} {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return int(threads)


HALF_DTYPES = ("float16", "bfloat16")
_DTYPE_NAMES = {}


def dtype_name(dt: np.dtype) -> str:
    """dt.name, memoized: NumPy computes the name in Python on every access."""
    name = _DTYPE_NAMES.get(dt)
    if name is None:
        name = _DTYPE_NAMES[dt] = dt.name
    return name


def as_dtype(dtype) -> np.dtype:
    """np.dtype(dtype); the name 'bfloat16' imports ml_dtypes (optional) only
    when it is asked for."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError("dtype 'bfloat16' needs the ml_dtypes package: pip install 'fastinit[bf16]'") from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


def check_dtype(dtype, out, allowed) -> np.dtype:
    """dtype=None means out's dtype if out is given, else the first allowed.
    allowed holds dtype names; bfloat16 is recognized by name, so fastinit
    never imports ml_dtypes unless the caller uses it."""
    name = "dtype"
    if dtype is None:
        dtype = out.dtype if isinstance(out, np.ndarray) else allowed[0]
        name = "out.dtype" if isinstance(out, np.ndarray) else name
    try:
        dt = as_dtype(dtype)
    except TypeError as e:
        if "ml_dtypes" in str(e):
            raise
        raise TypeError(f"{name} must be one of {list(allowed)}, got {dtype!r}") from None
    if dtype_name(dt) not in allowed:
        raise TypeError(f"{name} must be one of {list(allowed)}, got {dt.name}")
    return dt


def check_rows(index, n: int) -> np.ndarray:
    """A 1-D sequence of integer row ids (any integer dtype) for axis 0 of
    size n, as uint64. Negative ids count from the end, as in NumPy; ids
    outside [-n, n) raise. Compared and offset in int64/uint64, never in the
    ids' own dtype (an int32 id + n would overflow for n >= 2**31)."""
    try:
        ids = np.asarray(index)
    except (ValueError, OverflowError) as e:  # ragged lists, ints beyond 64 bits
        raise ValueError(f"index row ids must be a 1-D array of integers: {e}") from None
    if ids.ndim != 1:
        raise ValueError(f"index as row ids must be 1-D, got an array of shape {ids.shape}")
    if ids.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if ids.dtype.kind == "O" and all(is_int(i) for i in ids):  # Python ints, some maybe beyond 64 bits
        first = next((i for i in ids if not -n <= i < n), None)
        if first is not None:
            raise ValueError(f"index row id {int(first)} is out of range for axis 0 of size {n}")
        ids = ids.astype(np.int64)  # all in [-n, n): they fit
    if ids.dtype == np.bool_ or ids.dtype.kind not in "iu":
        raise TypeError(f"index row ids must be integers, got dtype {ids.dtype}")
    if ids.dtype.kind == "u":
        ids = ids.astype(np.uint64)
        bad = ids >= np.uint64(n)
    else:
        ids = ids.astype(np.int64)
        bad = (ids < -n) | (ids >= n)
    if bad.any():
        first = ids[np.argmax(bad)]
        raise ValueError(f"index row id {int(first)} is out of range for axis 0 of size {n}")
    rows = ids.astype(np.uint64)
    if ids.dtype.kind == "i":
        negative = ids < 0
        rows[negative] = ids[negative] + n
    return rows


def is_row_ids(index) -> bool:
    """A list or a NumPy array (not a tuple or slice) selects rows by id."""
    return isinstance(index, (list, np.ndarray))


def check_index(index, shape: tuple) -> tuple:
    """index: None, a slice or a tuple of slices (step 1) over the leading axes.
    Returns (start, stop) per axis, normalized like NumPy but strict: a bound
    outside [-n, n] is an error rather than clipped."""
    if index is None:
        return tuple((0, n) for n in shape)
    if isinstance(index, slice):
        index = (index,)
    if not isinstance(index, tuple):
        raise TypeError(
            f"index must be a slice, a tuple of slices or a 1-D array of row ids, got {type(index).__name__} {index!r}"
        )
    if len(index) > len(shape):
        raise ValueError(f"index has {len(index)} entries but shape {shape} has only {len(shape)} axes")
    box = []
    for axis, (s, n) in enumerate(zip(index, shape)):
        if not isinstance(s, slice):
            raise TypeError(f"index entries must be slices, got {s!r} for axis {axis}")
        if s.step is not None and (not is_int(s.step) or s.step != 1):
            raise ValueError(f"index slices must have step 1, got step {s.step!r} for axis {axis}")
        bounds = []
        for name, b, default in (("start", s.start, 0), ("stop", s.stop, n)):
            if b is None:
                bounds.append(default)
                continue
            if not is_int(b):
                raise TypeError(f"index {name} must be an int or None, got {b!r} for axis {axis}")
            b = int(b)
            if not -n <= b <= n:
                raise ValueError(f"index {name} {b} is out of range for axis {axis} of size {n}")
            bounds.append(b + n if b < 0 else b)
        start, stop = bounds
        box.append((start, max(start, stop)))
    box.extend((0, n) for n in shape[len(index):])
    return tuple(box)


def check_out(out, shape: tuple, dtype: np.dtype):
    if out is None:
        return None
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, expected {shape}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype {out.dtype}, expected {dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


def as_float(name: str, value, *, positive=False, nonnegative=False, finite=True) -> float:
    """A real number (not bool, NumPy scalars alike) as a float: finite, or
    with ``finite=False`` possibly infinite (never nan); optionally > 0 or >= 0."""
    if type(value) is float and math.isfinite(value) and (value > 0 or not positive and
                                                           (value == 0 or not nonnegative)):
        return value  # the common case: a plain finite float that passes
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number{'' if finite else ' (inf allowed)'}, "
                        f"got {type(value).__name__} {value!r}")
    v = float(value)
    if not finite:
        if math.isnan(v):
            raise TypeError(f"{name} must be a real number (inf allowed), got {type(value).__name__} {value!r}")
    elif not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonnegative and v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v
