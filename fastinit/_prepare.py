"""The prepared call: ``prepare(name, shape, dtype=..., **options)``
validates an initializer's shape, dtype and options once against the spec
table (fastinit._spec) and returns a ``Prepared``, which holds the
distribution, its C-core parameters (``.core``) and fills any block of the
array for any seed and stream (``.fill``). Every consumer goes through it:
the public functions (``full_call``, with the hot path), the adapters, the
CLI and the benchmarks.

The hot path: a public function first asks the C core for a cached Request
of the same call (``fill_cached``: ``_core.fill_cached``, a lookup that
fills on a hit and returns None on a miss); on a miss it takes the full
path, ``full_call``, which validates, fills and caches the Request the
call's plain key (``_core.hot_key``) allows. ``_core`` never calls back up.
"""
from __future__ import annotations

import math

import numpy as np

from . import _core, _plan, _spec
from ._checks import check_dtype, check_shape, dtype_name
from ._core import fill_cached  # the hot path's lookup (also the public functions')

# Prepared calls by their plain key (_core.hot_key of the call without a
# seed, out, threads or index), so a repeated prepare() skips the checks.
_PREPARED = {}
MAX_PREPARED = 4096


class Prepared:
    """One initializer for one full shape and dtype, validated: ``name``
    (the canonical name), ``shape`` (the full logical shape: fans come from
    it), ``dtype`` (np.dtype), ``distribution`` (a fastinit._spec value),
    ``whole_array`` (needs the whole array: orthogonal) and ``core``, the
    C-core request ``(kernel, parameters)`` (None for orthogonal)."""

    __slots__ = ("name", "shape", "dtype", "distribution", "core", "_values", "_cached")

    def __init__(self, name, shape, dtype, distribution, core, values, cached=True):
        self.name, self.shape, self.dtype, self.distribution, self.core = name, shape, dtype, distribution, core
        self._values = values  # the options in spec order, for the hot path's key
        self._cached = cached  # its fills may share the hot path's Requests (its core is the spec's)

    @property
    def whole_array(self) -> bool:
        return isinstance(self.distribution, _spec.Orthogonal)

    def __repr__(self):
        return f"Prepared({self.name!r}, {self.shape}, {self.dtype}, {self.distribution})"

    def fill(self, seed, stream=0, *, index=None, out=None, threads=None) -> np.ndarray:
        """The block ``index`` (a slice, a tuple of slices or 1-D row ids,
        as in the public functions; None: the whole array) under seed and
        stream, into ``out`` (a NumPy array of the block's shape and this
        dtype) or a new array; ``threads`` as in the public functions."""
        if self._cached:
            array = fill_cached(self.name, self.shape, seed, stream, self.dtype, out, threads, index, self._values)
            if array is not None:
                return array
        p = _plan.plan(self.shape, seed, stream, self.dtype, out, index, threads, (dtype_name(self.dtype),))
        key = None
        if self._cached:
            key = _core.hot_key(self.name, self.shape, self.dtype, out, threads, index, self._values)
        return self._fill_plan(p, key, threads is None)

    def _fill_plan(self, p: _plan.Plan, key, threads_from_env: bool) -> np.ndarray:
        """p's block; with a hot-path key (None: not cacheable) its Request
        cached for the next call like it."""
        if self.whole_array:
            return _orthogonal_block(self.distribution.gain, p)
        if key is None or p.rows is not None:
            kernel, params = self.core
            return _plan.run(p, kernel, **params)
        request = self._request(p, threads_from_env)
        _core.cache_request(key, request)
        return request.run(p.seed, p.stream, p.out)

    def _request(self, p: _plan.Plan, threads_from_env: bool):
        kernel, params = self.core
        return _core.Request(p.out_shape, p.dtype, kernel, p.layout, _plan.thread_count(p.size, p.threads),
                             threads_from_env, params)

    def request(self, *, index=None, threads=None):
        """The bare C request of the block ``index`` (None, a slice or a
        tuple of slices): ``.run(seed, stream, out=None)`` fills it with no
        argument handling at all (``out`` must fit it). For benchmarks."""
        if self.whole_array:
            raise ValueError(f"{self.name} needs the whole array: it has no C request")
        p = _plan.plan(self.shape, 0, 0, self.dtype, None, index, threads, (dtype_name(self.dtype),))
        if p.rows is not None:
            raise TypeError("index must be None, a slice or a tuple of slices for a request")
        return self._request(p, threads is None)

    def rounded_to_bfloat16(self) -> tuple:
        """For bfloat16 made by rounding this float32 call's values (torch
        without ml_dtypes): ``(prepared, clamp)``, the Prepared to fill
        float32 values with and the bfloat16 bounds ``(lo, hi)`` to clamp the
        rounded values into (None: none); see _spec.bfloat16_by_rounding."""
        if dtype_name(self.dtype) != "float32":
            raise TypeError(f"rounded_to_bfloat16 needs a float32 call, got {self.dtype}")
        if self.core is None:
            return self, None
        params, clamp = _spec.bfloat16_by_rounding(self.distribution, *self.core)
        if params is self.core[1]:
            return self, clamp
        return Prepared(self.name, self.shape, self.dtype, self.distribution, (self.core[0], params), self._values,
                        cached=False), clamp


def _entry(name_or_spec) -> _spec.Initializer:
    if isinstance(name_or_spec, _spec.Initializer):
        return name_or_spec
    entry = _spec.BY_NAME.get(name_or_spec) if isinstance(name_or_spec, str) else None
    if entry is None:
        raise ValueError(f"initializer must be one of {sorted(_spec.BY_NAME)} or a fastinit._spec.Initializer, "
                         f"got {name_or_spec!r}")
    return entry


def prepare(name_or_spec, shape, *, dtype=None, **options) -> Prepared:
    """The initializer ``name_or_spec`` (a name, aliases included, or a spec
    entry) for the full ``shape`` and ``dtype`` (None: its default) with
    ``options`` (its keyword options; absent ones take their defaults),
    validated: a ValueError/TypeError naming the argument, else a Prepared.

    >>> import numpy as np, fastinit
    >>> from fastinit._prepare import prepare
    >>> p = prepare("he_normal", (256, 128), mode="fan_out")
    >>> p.core
    ('normal', {'loc': 0.0, 'scale': 0.125})
    >>> bool((p.fill(7, index=slice(0, 2)) == fastinit.he_normal((256, 128), 7, mode="fan_out")[:2]).all())
    True
    """
    entry = _entry(name_or_spec)
    values = entry.values(options)
    return _prepared(entry, shape, check_dtype(dtype, None, entry.dtypes), values)


def _prepared(entry: _spec.Initializer, shape, dtype: np.dtype, values: tuple) -> Prepared:
    """prepare() of options given in spec order (values), the dtype checked."""
    key = _core.hot_key(entry.name, shape, dtype, None, None, None, values)
    found = None if key is None else _PREPARED.get(key)
    if found is not None:
        return found
    shape = check_shape(shape)
    distribution = entry.rule(shape, dict(zip(entry.option_names, values)))
    core = None if isinstance(distribution, _spec.Orthogonal) else distribution.core(dtype)
    prepared = Prepared(entry.name, shape, dtype, distribution, core, values)
    if key is not None:
        if len(_PREPARED) >= MAX_PREPARED:
            _PREPARED.clear()
        _PREPARED[key] = prepared
    return prepared


def full_call(name, shape, seed, stream, dtype, out, threads, index, values):
    """A call of the public initializer ``name`` that fill_cached did not
    serve, ``values`` its options' values in the order of its spec
    ``options``: validated in full (common arguments first, then the
    options) before anything is written, filled, and its Request cached when
    the call has a plain key."""
    entry = _spec.INITIALIZERS[name]
    p = _plan.plan(shape, seed, stream, dtype, out, index, threads, entry.dtypes)
    prepared = _prepared(entry, p.shape, p.dtype, values)
    key = None if prepared.whole_array else _core.hot_key(name, shape, dtype, out, threads, index, values)
    return prepared._fill_plan(p, key, threads is None)


def _orthogonal_block(gain: float, p: _plan.Plan) -> np.ndarray:
    """p's block of the orthogonal matrix: QR of a fastinit N(0, 1) float64
    matrix (see fastinit.orthogonal), computed whole."""
    rows, cols = p.shape[0], math.prod(p.shape[1:])
    if p.size == 0:  # an empty block (or shape): nothing to factor (and no memory for the full shape)
        full = np.broadcast_to(0.0, p.shape)
    else:
        normal = prepare("normal", (rows, cols) if rows >= cols else (cols, rows), dtype=np.float64)
        z = normal.fill(p.seed, p.stream, threads=p.threads)
        q, r = np.linalg.qr(z)
        d = np.sign(np.diagonal(r))
        q *= np.where(d == 0, 1.0, d)
        full = (q if rows >= cols else q.T).reshape(p.shape) * gain
    # C order like every other initializer (LAPACK returns Fortran order)
    block = _plan.select(p, full).astype(_spec.compute_type(p.dtype)).astype(p.dtype, order="C")
    if p.out is None:
        return block
    p.out[...] = block
    return p.out


class OrthogonalColumns:
    """JAX's and Keras' layout of an orthogonal initializer, prepared:
    orthonormal along ``column_axis`` against the product of the other axes,
    the orthogonal initializer of that 2-D matrix moved into place."""

    def __init__(self, shape, *, scale, column_axis, dtype=None):
        shape = check_shape(shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal needs a shape with at least 2 axes, got {shape}")
        if not -len(shape) <= column_axis < len(shape):
            raise ValueError(f"column_axis={column_axis!r} is out of range for a shape with {len(shape)} axes")
        self.shape, self.axis = shape, column_axis % len(shape)
        self.rest = shape[:self.axis] + shape[self.axis + 1:]
        self.matrix = prepare("orthogonal", (math.prod(self.rest), shape[self.axis]), dtype=dtype, gain=scale)
        self.dtype = self.matrix.dtype

    def fill(self, seed, stream=0, *, index=None, out=None):
        """The block ``index`` (None: all) under seed and stream; an empty
        block needs no QR."""
        if index is not None:
            block_shape = np.broadcast_to(np.empty((), np.uint8), self.shape)[index].shape  # no allocation
            if 0 in block_shape:
                return np.empty(block_shape, self.dtype) if out is None else out
        q = self.matrix.fill(seed, stream)
        full = np.moveaxis(q.reshape(self.rest + (self.shape[self.axis],)), -1, self.axis)
        block = full if index is None else full[index]
        if out is None:
            return np.ascontiguousarray(block)
        out[...] = block
        return out


def orthogonal_columns(shape, seed, *, scale, column_axis, stream=0, dtype=None, index=None, out=None):
    """OrthogonalColumns(shape, ...).fill(seed, stream, index=, out=): the
    call the JAX and Keras adapters make."""
    return OrthogonalColumns(shape, scale=scale, column_axis=column_axis, dtype=dtype).fill(
        seed, stream, index=index, out=out)
