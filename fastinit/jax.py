"""fastinit for JAX and Flax: ``jax.nn.initializers``' factories, filled by
fastinit, on any device mesh.

Every factory has the name, arguments and defaults of its
``jax.nn.initializers`` counterpart and returns ``init(key, shape,
dtype=..., out_sharding=None)`` returning a ``jax.Array``, so it plugs into
Flax (``nnx.Linear(..., kernel_init=fastinit.jax.he_normal())``, linen's
``nn.Dense(kernel_init=...)``) and anything else that takes a JAX
initializer. The variance-scaling family defaults to the truncated normal,
as in JAX. The values are fastinit's, not JAX's: the same distribution,
different bits, and bits that never depend on the mesh.

The key
-------
A JAX PRNG key maps to fastinit's ``(seed, stream)`` through its key data
(``jax.random.key_data``: 32-bit words ``w``), see :func:`seed_stream`:

* a threefry key (the default; typed ``jax.random.key(s)`` or raw
  ``jax.random.PRNGKey(s)``, 2 words): ``seed = w[0] * 2**32 + w[1]``,
  ``stream = 0``. So ``jax.random.key(s)`` gives ``seed = s`` for
  ``0 <= s < 2**32``;
* an rbg / unsafe_rbg key (4 words): the same seed from ``w[0], w[1]``, and
  ``stream = w[2] * 2**32 + w[3]``.

The same key gives the same array; distinct keys (those of
``jax.random.split`` or ``fold_in``) give distinct Philox keys, that is
independent streams. ``init(key, shape)`` equals
``fastinit.<name>(shape, seed, stream=stream, ...)`` of the NumPy API bit for
bit (``he_normal`` with ``distribution="truncated_normal"``, etc.; see
each factory).

Sharding
--------
``init(key, shape, dtype, out_sharding=NamedSharding(mesh, spec))`` (or a
``PartitionSpec`` inside ``jax.set_mesh(mesh)``, as JAX takes it) builds
the array with ``jax.make_array_from_callback``: each block an addressable
device holds is generated on its own with ``index=`` (fans always from the
global shape), once per distinct block, so a process of a multi-host job
makes only its own blocks, nothing is materialized whole, and the values do
not depend on the mesh or the partition spec. :func:`make_array` does the
same for any fastinit NumPy initializer.

Under ``jax.jit``
-----------------
Inside a traced function (``jax.jit(model.init)``, ``nnx.jit``, ``vmap``)
the key is not known until run time, and ``init`` becomes a
``jax.pure_callback`` that generates on the host when the compiled function
runs, with the same values as eagerly:

* with ``out_sharding=NamedSharding(...)`` in the call: a ``shard_map`` in
  which each device's callback makes only its own block (its start from its
  mesh coordinates), so memory stays about the table plus a block;
* without it (``jax.jit(model.init, out_shardings=...)`` never tells the
  initializer): one callback makes the whole array on one device, which XLA
  then replicates to every device before slicing (measured: 16 times the
  table's memory at the peak on 8 CPU devices). XLA cannot fuse or elide a callback either.

For a large model, initialize eagerly with ``out_sharding`` (no compile, each
block generated straight into the memory its CPU device adopts), or pass
``out_sharding`` inside the jitted function.

Dtypes: float32 (the default, as JAX's without x64), float64 (with
``jax_enable_x64``), float16 and bfloat16 (ml_dtypes), rounded as in the
NumPy API.

>>> import jax, fastinit, fastinit.jax
>>> w = fastinit.jax.he_normal()(jax.random.key(0), (256, 128))
>>> bool((w == fastinit.he_normal((256, 128), 0, distribution="truncated_normal")).all())
True
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

import fastinit
from fastinit import _checks, _spec
from fastinit._prepare import OrthogonalColumns, orthogonal_columns, prepare
from fastinit._spec import FLOAT_DTYPES

__all__ = [
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform",
    "lecun_normal", "lecun_uniform", "make_array", "normal", "orthogonal", "seed_stream",
    "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform",
]

# Words of key data: threefry2x32 keys have 2, rbg and unsafe_rbg keys 4.
KEY_WORDS = (2, 4)


def _key_data(key):
    """The uint32 words of one PRNG key (typed or raw), maybe traced."""
    if jnp.issubdtype(getattr(key, "dtype", None), jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key, got a key array of shape {key.shape}")
        return jax.random.key_data(key)
    shape = getattr(key, "shape", None)
    if getattr(key, "dtype", None) != np.uint32 or shape is None or len(shape) != 1 or shape[0] not in KEY_WORDS:
        raise TypeError(f"key must be a typed JAX PRNG key or a raw uint32 key of shape (2,) or (4,), got {key!r}")
    return key


def seed_stream(key) -> tuple[int, int]:
    """fastinit's ``(seed, stream)`` of a concrete JAX PRNG key (see the module
    doc): ``seed = w[0] * 2**32 + w[1]`` of its key data words ``w``;
    ``stream = w[2] * 2**32 + w[3]`` for a 4-word (rbg) key, else 0.

    >>> import jax, fastinit.jax
    >>> fastinit.jax.seed_stream(jax.random.key(7)), fastinit.jax.seed_stream(jax.random.PRNGKey(7))
    ((7, 0), (7, 0))
    """
    words = [int(w) for w in np.asarray(_key_data(key), dtype=np.uint32)]
    seed = words[0] << 32 | words[1]
    stream = words[2] << 32 | words[3] if len(words) == 4 else 0
    return seed, stream


def _dtype(dtype) -> np.dtype:
    """JAX's dtype for the request (the default float when None; float64
    becomes float32 without x64), one fastinit generates."""
    dt = np.dtype(jax.dtypes.canonicalize_dtype(float if dtype is None else dtype))
    if dt.name not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be one of {list(FLOAT_DTYPES)}, got {dt.name}")
    return dt


# The CPU client adopts a host buffer with this alignment as the device
# buffer instead of copying it (measured: 64 is adopted, 16 and 32 copied).
DEVICE_ALIGNMENT = 64


def _aligned_empty(shape, dtype) -> np.ndarray:
    """An uninitialized C-contiguous array starting on a DEVICE_ALIGNMENT
    boundary, so that handing it to a CPU device costs no copy (the peak
    memory of a sharded initialization is then the array itself)."""
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + DEVICE_ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % DEVICE_ALIGNMENT
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def _check_call(initializer, shape, dtype, kwargs):
    """Check every argument of a call of a fastinit NumPy initializer (or a
    functools.partial of one) with kwargs here, not in a device callback
    (prepare). Another callable is only called, block by block."""
    while isinstance(initializer, functools.partial):
        kwargs = {**initializer.keywords, **kwargs}
        initializer = initializer.func
    if initializer is orthogonal_columns:
        OrthogonalColumns(shape, dtype=dtype, **kwargs)
        return
    name = getattr(initializer, "__name__", "")
    if name in _spec.BY_NAME and getattr(fastinit, name) is initializer:
        _checks.check_threads(kwargs.get("threads"))
        prepare(name, shape, dtype=dtype, **{k: v for k, v in kwargs.items() if k != "threads"})


def _box(index, shape) -> tuple:
    """A device index of make_array_from_callback (slices with None ends) as
    concrete slices."""
    return tuple(slice(*s.indices(n)[:2]) for s, n in zip(index, shape))


def make_array(initializer, shape, seed, sharding=None, *, stream=0, dtype=None, **kwargs) -> jax.Array:
    """``initializer(shape, seed, stream=stream, dtype=dtype, **kwargs)`` (a
    fastinit NumPy initializer) as a ``jax.Array``, placed by ``sharding``.

    With a ``jax.sharding.Sharding``, each distinct block the addressable
    devices hold is generated alone with ``index=`` (fans come from the
    global shape), so the array equals the unsharded one bit for bit on any
    mesh. Blocks are generated into 64-byte aligned memory, which a CPU
    device adopts without a copy: the peak memory is the array itself.
    Without a sharding, the array goes to JAX's default device.

    >>> import jax, numpy as np, fastinit, fastinit.jax
    >>> from jax.sharding import NamedSharding, PartitionSpec as P
    >>> n = len(jax.devices())
    >>> mesh = jax.make_mesh((n,), ("x",))
    >>> e = fastinit.jax.make_array(fastinit.normal, (8 * n, 8), 0, NamedSharding(mesh, P("x")), std=0.02)
    >>> bool((np.asarray(e) == fastinit.normal((8 * n, 8), 0, std=0.02)).all())
    True
    """
    shape = _checks.check_shape(shape)
    dtype = _dtype(dtype)
    seed = _checks.check_seed(seed)
    make = functools.partial(initializer, shape, seed, stream=stream, dtype=dtype, **kwargs)
    if sharding is None:
        return jax.device_put(make(out=_aligned_empty(shape, dtype)))
    if not isinstance(sharding, jax.sharding.Sharding):
        raise TypeError(f"sharding must be a jax.sharding.Sharding (e.g. NamedSharding), got {sharding!r}")
    _checks.check_uint64("stream", stream)
    _check_call(initializer, shape, dtype, kwargs)
    blocks = {}  # replicated devices share one block

    def block(index):
        box = _box(index, shape)
        key = tuple((s.start, s.stop) for s in box)
        if key not in blocks:
            blocks[key] = make(index=box, out=_aligned_empty(tuple(s.stop - s.start for s in box), dtype))
        return blocks[key]

    return jax.make_array_from_callback(shape, sharding, block)


def _host_block(make, shape, dtype, data):
    """The pure_callback body: the whole array for one key's data."""
    seed, stream = seed_stream(np.asarray(data, np.uint32))
    return make(shape, seed, stream=stream, dtype=dtype)


def _host_block_at(make, shape, dtype, block_shape, data, starts):
    """The pure_callback body of one device: its block, at starts."""
    seed, stream = seed_stream(np.asarray(data, np.uint32))
    index = tuple(slice(int(a), int(a) + n) for a, n in zip(np.asarray(starts), block_shape))
    return make(shape, seed, stream=stream, dtype=dtype, index=index)


def _split_axes(spec, ndim) -> list:
    """The mesh axis names splitting each array axis under a PartitionSpec."""
    entries = tuple(spec) + (None,) * (ndim - len(spec))
    return [() if e is None else tuple(e) if isinstance(e, (tuple, list)) else (e,) for e in entries]


def _traced_sharded(make, shape, dtype, data, sharding):
    """Under jit with a NamedSharding: a shard_map in which each device's
    pure_callback makes only its own block (its start from its mesh
    coordinates), so no device ever holds the whole array."""
    block_shape = sharding.shard_shape(shape)
    axes = _split_axes(sharding.spec, len(shape))

    def local(data):
        starts = jnp.stack([jax.lax.axis_index(names) * n if names else jnp.int32(0)
                            for names, n in zip(axes, block_shape)]) if shape else jnp.zeros(0, jnp.int32)
        return jax.pure_callback(functools.partial(_host_block_at, make, shape, dtype, block_shape),
                                 jax.ShapeDtypeStruct(block_shape, dtype), data, starts, vmap_method="sequential")

    return jax.shard_map(local, mesh=sharding.mesh, in_specs=jax.sharding.PartitionSpec(),
                         out_specs=sharding.spec, check_vma=False)(data)


def _named_sharding(sharding, traced: bool):
    """out_sharding as JAX reads it: a Sharding, or a PartitionSpec over the
    mesh that ``jax.set_mesh`` set."""
    if not isinstance(sharding, jax.sharding.PartitionSpec):
        return sharding
    mesh = jax.sharding.get_abstract_mesh() if traced else jax.sharding.get_mesh()
    if mesh.empty:
        raise ValueError(f"out_sharding={sharding} needs a mesh: call inside jax.set_mesh(mesh) "
                         f"or pass a NamedSharding")
    return jax.sharding.NamedSharding(mesh, sharding)


def _factory(make, default_dtype, fans=False):
    """init(key, shape, dtype, out_sharding) over make(shape, seed, *, stream,
    dtype, index), a fastinit NumPy initializer with its parameters bound;
    with ``fans``, a shape of fewer than 2 axes is refused, as JAX refuses
    to compute its fans."""
    def init(key, shape, dtype=default_dtype, out_sharding=None):
        shape = _checks.check_shape(shape)
        if fans and len(shape) < 2:
            raise ValueError(f"shape must have at least 2 axes to compute fans (as jax.nn.initializers), "
                             f"got {len(shape)}-dimensional shape {shape}")
        dtype = _dtype(dtype)
        data = _key_data(key)
        if isinstance(data, jax.core.Tracer):
            _check_call(make, shape, dtype, {})  # checks the arguments now, not at run time
            if out_sharding is not None:
                out_sharding = _named_sharding(out_sharding, traced=True)
                if not isinstance(out_sharding, jax.sharding.NamedSharding):
                    raise TypeError(f"out_sharding must be a jax.sharding.NamedSharding under jit, got {out_sharding!r}")
                return _traced_sharded(make, shape, dtype, data, out_sharding)
            return jax.pure_callback(functools.partial(_host_block, make, shape, dtype),
                                     jax.ShapeDtypeStruct(shape, dtype), data, vmap_method="sequential")
        seed, stream = seed_stream(data)
        return make_array(make, shape, seed, _named_sharding(out_sharding, traced=False), stream=stream, dtype=dtype)
    return init


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """``jax.nn.initializers.variance_scaling``: ``fastinit.variance_scaling``
    with variance ``scale / n`` (``n`` the ``mode`` fan from the axes);
    ``distribution`` is ``"truncated_normal"``, ``"normal"`` or ``"uniform"``.

    >>> import jax, fastinit.jax
    >>> init = fastinit.jax.variance_scaling(2.0, "fan_in", "truncated_normal")
    >>> init(jax.random.key(0), (3, 3, 16, 32)).shape
    (3, 3, 16, 32)
    """
    return _factory(functools.partial(fastinit.variance_scaling, scale=scale, mode=mode, distribution=distribution,
                                      in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis), dtype,
                    fans=True)


def _scaled_family(entry: _spec.Initializer):
    """JAX's factory for a glorot/he/lecun entry of fastinit's table: its
    NumPy initializer, truncated normal where it has a distribution option
    (JAX's default), its JAX name."""
    numpy_fn = getattr(fastinit, entry.name)
    extra = dict(distribution="truncated_normal") if "distribution" in entry.option_names else {}

    def factory(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
        return _factory(functools.partial(numpy_fn, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                                          **extra), dtype, fans=True)

    factory.__name__ = factory.__qualname__ = entry.jax
    factory.__doc__ = (f"``jax.nn.initializers.{entry.jax}``: ``init(key, shape)`` equals "
                       f"``fastinit.{entry.name}(shape, seed, stream=stream"
                       + "".join(f", {k}={v!r}" for k, v in extra.items()) + ", ...)`` for the key's "
                       f"``seed_stream``; axes as in JAX.")
    return factory


glorot_uniform = _scaled_family(_spec.INITIALIZERS["glorot_uniform"])
glorot_normal = _scaled_family(_spec.INITIALIZERS["glorot_normal"])
he_uniform = _scaled_family(_spec.INITIALIZERS["he_uniform"])
he_normal = _scaled_family(_spec.INITIALIZERS["he_normal"])
lecun_uniform = _scaled_family(_spec.INITIALIZERS["lecun_uniform"])
lecun_normal = _scaled_family(_spec.INITIALIZERS["lecun_normal"])
# JAX's aliases, as fastinit's
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def normal(stddev=1e-2, dtype=None):
    """``jax.nn.initializers.normal``: N(0, stddev^2), ``fastinit.normal(shape,
    seed, 0.0, stddev)``."""
    return _factory(functools.partial(fastinit.normal, mean=0.0, std=stddev), dtype)


def uniform(scale=1e-2, dtype=None):
    """``jax.nn.initializers.uniform``: U[0, scale), ``fastinit.uniform(shape,
    seed, 0.0, scale)``."""
    return _factory(functools.partial(fastinit.uniform, low=0.0, high=scale), dtype)


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """``jax.nn.initializers.truncated_normal``: ``stddev`` times a standard
    normal truncated to [lower, upper] (no variance correction, as in JAX),
    ``fastinit.truncated_normal(shape, seed, 0.0, stddev, lower * stddev,
    upper * stddev)``."""
    return _factory(functools.partial(fastinit.truncated_normal, mean=0.0, std=stddev,
                                      a=lower * stddev, b=upper * stddev), dtype)


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """``jax.nn.initializers.orthogonal``: orthonormal columns along
    ``column_axis`` (rows if there are fewer), times ``scale``; for a 2-D shape
    with ``column_axis=-1`` it equals ``fastinit.orthogonal(shape, seed,
    gain=scale)``. The QR factorization needs the whole matrix: a sharded
    call factors it once per distinct block."""
    return _factory(functools.partial(orthogonal_columns, scale=scale, column_axis=column_axis), dtype)
