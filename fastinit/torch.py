"""fastinit for PyTorch: drop-in replacements for ``torch.nn.init``.

Every function has ``torch.nn.init``'s name, signature, return value, fan
rules, warnings and errors, and fills the tensor in place with fastinit's
counter-based generator, plus two keyword-only arguments:

seed : int in [0, 2**64), optional
    Pins fastinit's bits. Without it a 64-bit seed is drawn from
    ``generator`` (or from PyTorch's default CPU generator), so
    ``torch.manual_seed(s)`` and ``torch.Generator().manual_seed(s)`` give the
    same tensor and successive calls give different tensors, as in PyTorch.
stream : int in [0, 2**64), default 0
    Independent stream under the same seed.

The values are fastinit's, not PyTorch's: the same distribution, different
bits. Each function is the core initializer of the same name with
``layout="torch"`` (``xavier_uniform_`` is ``fastinit.glorot_uniform``,
``kaiming_normal_`` is ``fastinit.he_normal``, ...): ``fastinit.torch.
normal_(t, seed=s, stream=k)`` equals ``torch.from_numpy(fastinit.normal(
t.shape, s, stream=k))`` bit for bit. Where ``torch.nn.init`` gives a
constant (``uniform_(t, 1.0, 1.0)``, ``trunc_normal_`` with ``a == b``,
``normal_`` with ``std=0``, gain 0), so does this module.

Writes are PyTorch in-place writes: each function runs under
``torch.no_grad()`` like ``torch.nn.init``, bumps the tensor's version
counter (so autograd refuses a backward through values saved before the
fill) and is refused where PyTorch refuses an in-place write (an inference
tensor outside ``inference_mode``, a view whose base was modified, ...).
CPU tensors that are contiguous and of a dtype fastinit generates (float32,
float64, float16, and bfloat16 when ml_dtypes is installed) are filled
through a zero-copy NumPy view; any other float tensor (another device,
non-contiguous, bfloat16 without ml_dtypes) is generated on the CPU and
copied in with ``Tensor.copy_``. The values are the same either way: without
ml_dtypes a bfloat16 tensor gets the float32 kernel's values rounded by
``copy_`` and then capped below ``high`` (uniform) or clamped into ``[a, b]``
(truncated normal) in bfloat16, which are the core's bfloat16 bits. Meta
tensors are left as they are, as PyTorch does.

Sharded tensors: a DTensor (any DeviceMesh; ``Shard(d)`` on any dim, uneven
shards, ``Replicate``, FSDP2's ``_StridedShard``) or a ``ShardedTensor`` is
filled shard by shard, each rank writing only its local tensor with the
values of the global tensor at the positions it holds (fans from the global
shape), with no communication: every rank's ``full_tensor()`` equals the
single-process tensor bit for bit. ``Partial`` placements raise.
``fill_block`` does the same for any local tensor given its offsets in a
global shape.

``init_module`` (and its context-manager form ``initializing``) runs a
module's own init code with every random fill routed through these functions,
under a stream per parameter name: reproducible, independent of construction
order and of which process builds which part.
"""
from __future__ import annotations

import itertools
import math
import numbers
import sys
import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn.init import calculate_gain

from fastinit import _core, _plan, _spec

__all__ = [
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "lecun_uniform_", "lecun_normal_",
    "fill_block", "init_module", "initializing", "stable_stream", "draw_seed",
]

ZERO_ELEMENT_WARNING = "Initializing zero-element tensors is a no-op"


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """The NumPy dtype fastinit generates for a tensor of dtype: the same one,
    except bfloat16 without ml_dtypes: float32, rounded by copy_ later (see
    _bfloat16_fallback for the bounds)."""
    if dtype == torch.float32:
        return np.dtype(np.float32)
    if dtype == torch.float64:
        return np.dtype(np.float64)
    if dtype == torch.float16:
        return np.dtype(np.float16)
    if dtype == torch.bfloat16:
        try:
            import ml_dtypes
        except ImportError:
            return np.dtype(np.float32)
        return np.dtype(ml_dtypes.bfloat16)
    raise TypeError(
        f"tensor dtype must be one of torch.float32, torch.float64, torch.float16, "
        f"torch.bfloat16, got {dtype}")


def _as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy array sharing tensor's memory (CPU, contiguous)."""
    t = tensor.detach()
    if t.dtype == torch.bfloat16:  # NumPy has no bfloat16: view the bits
        import ml_dtypes
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _from_numpy(array: np.ndarray) -> torch.Tensor:
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def draw_seed(generator: torch.Generator | None = None) -> int:
    """A 64-bit seed drawn from generator (default: PyTorch's default CPU
    generator), advancing it like any other draw."""
    device = generator.device if generator is not None else "cpu"
    word = torch.empty((), dtype=torch.int64, device=device).random_(-(2**63), None, generator=generator)
    return int(word) % 2**64


# PyTorch's own fan helpers validate the arguments, so errors and their
# messages are exactly those of torch.nn.init (the values come from the core
# initializers). They are private: looked up when called, and if a PyTorch
# release drops them, the same checks made here.
def _calculate_fan_in_and_fan_out(tensor):
    helper = getattr(nn.init, "_calculate_fan_in_and_fan_out", None)
    if helper is not None:
        return helper(tensor)
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    helper = getattr(nn.init, "_calculate_correct_fan", None)
    if helper is not None:
        return helper(tensor, mode)
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


def _scalars(*values):
    """values with each 0-d tensor as its Python number (torch.nn.init takes
    them wherever it takes a number)."""
    return tuple(v.item() if isinstance(v, torch.Tensor) and v.dim() == 0 else v for v in values)


def _check_key(generator, seed, stream) -> tuple:
    """(seed or None, stream) for one call, validated before the tensor is
    touched; a seed is drawn from the generator only once the write is
    known to be allowed."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"argument 'generator' must be torch.Generator, not {type(generator).__name__}")
    if seed is not None and generator is not None:
        raise ValueError("pass either generator= or seed=, not both")
    stream = _plan.check_uint64("stream", stream)
    return (None if seed is None else _plan.check_uint64("seed", seed)), stream


# ---------------------------------------------------------------- where the values go

class _Block(NamedTuple):
    """A local tensor and, along each dim, the global indices of its entries
    in local order (a range when they are consecutive)."""

    local: torch.Tensor
    indices: tuple


class _Target(NamedTuple):
    """What one call fills: the global shape (fans come from it), the local
    blocks this process writes, and the tensor whose version counter the
    fill bumps besides theirs (a DTensor; None otherwise)."""

    shape: tuple
    blocks: list
    wrapper: object


class _LocalBlock(NamedTuple):
    """fill_block's argument to an initializer: local holds the block
    [offsets, offsets + local.shape) of a tensor of shape global_shape."""

    local: torch.Tensor
    global_shape: tuple
    offsets: tuple


def _loaded_class(module: str, name: str):
    """module.name if module is already imported, else None: a tensor of a
    class whose module was never imported cannot exist, and importing
    torch.distributed on every call would cost more than a small fill."""
    return getattr(sys.modules.get(module), name, None)


def _whole(shape) -> tuple:
    return tuple(range(n) for n in shape)


def _target(tensor) -> _Target:
    if isinstance(tensor, _LocalBlock):
        blk = _Block(tensor.local, tuple(range(o, o + n) for o, n in zip(tensor.offsets, tensor.local.shape)))
        return _Target(tensor.global_shape, [blk], None)
    if type(_checked(tensor)) not in (torch.Tensor, nn.Parameter):
        dtensor = _loaded_class("torch.distributed.tensor", "DTensor")
        if dtensor is not None and isinstance(tensor, dtensor):
            return _Target(tuple(tensor.shape), _dtensor_blocks(tensor), tensor)
        sharded = _loaded_class("torch.distributed._shard.sharded_tensor.api", "ShardedTensor")
        if sharded is not None and isinstance(tensor, sharded):
            blocks = [_Block(s.tensor, tuple(range(o, o + n) for o, n in
                                             zip(s.metadata.shard_offsets, s.metadata.shard_sizes)))
                      for s in tensor.local_shards()]
            return _Target(tuple(tensor.size()), blocks, None)
    return _Target(tuple(tensor.shape), [_Block(tensor, _whole(tensor.shape))], None)


def _dtensor_blocks(dtensor) -> list:
    """The block of a DTensor's global tensor that this rank holds (none if
    the rank is outside the mesh). Offsets come from PyTorch's
    compute_local_shape_and_global_offset; with FSDP2's _StridedShard, whose
    local rows are not consecutive, from each placement's own
    local_shard_size_and_offset, applied left to right as PyTorch does."""
    from torch.distributed.tensor import Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    from torch.distributed.tensor.placement_types import _StridedShard, _StridedShardOffsetMode

    mesh, placements = dtensor.device_mesh, dtensor.placements
    for p in placements:
        if p.is_partial():
            raise ValueError(
                f"cannot initialize a DTensor with a Partial placement ({placements}): its global value "
                f"is a reduction over ranks; initialize it as Replicate or Shard, then redistribute")
    coordinate = mesh.get_coordinate()
    if coordinate is None:
        return []
    shape = tuple(dtensor.shape)
    if not any(isinstance(p, _StridedShard) for p in placements):
        local_shape, offsets = compute_local_shape_and_global_offset(shape, mesh, placements)
        indices = tuple(range(o, o + n) for o, n in zip(offsets, local_shape))
    else:
        held = list(_whole(shape))
        for mesh_dim, p in enumerate(placements):
            if isinstance(p, _StridedShard):
                size, picks = p.local_shard_size_and_offset(
                    len(held[p.dim]), mesh.size(mesh_dim), coordinate[mesh_dim], _StridedShardOffsetMode.ALL)
                held[p.dim] = [held[p.dim][i] for i in picks[:size]] if size else range(0)
            elif isinstance(p, Shard):
                size, start = Shard.local_shard_size_and_offset(
                    len(held[p.dim]), mesh.size(mesh_dim), coordinate[mesh_dim])
                held[p.dim] = held[p.dim][start:start + size]
        indices = tuple(held)
    with torch.no_grad():  # the local tensor itself, not an autograd view of it
        local = dtensor.to_local()
    if tuple(local.shape) != tuple(len(ix) for ix in indices):
        raise RuntimeError(f"DTensor with placements {placements}: local shape {tuple(local.shape)} does not "
                           f"match the computed block {tuple(len(ix) for ix in indices)}")
    return [_Block(local, indices)]


def _runs(ix) -> list:
    """(local start, global start, length) of each run of consecutive global
    indices in ix."""
    if isinstance(ix, range):
        return [(0, ix.start, len(ix))] if len(ix) else []
    runs = []
    for pos, g in enumerate(ix):
        if runs and runs[-1][1] + runs[-1][2] == g:
            runs[-1][2] += 1
        else:
            runs.append([pos, g, 1])
    return [tuple(r) for r in runs]


def _announce_inplace(tensor: torch.Tensor):
    """Let PyTorch see an in-place write into tensor before it happens: an
    in-place op on an empty view shares tensor's version counter and goes
    through every check PyTorch makes for an in-place write (inference
    tensors, views of modified bases, ...), at no cost per element."""
    tensor.as_strided((0,), (1,)).zero_()


def _direct(local: torch.Tensor, dtype: np.dtype) -> bool:
    """Whether fastinit can write local's memory through a NumPy view."""
    return (type(local) in (torch.Tensor, nn.Parameter) and local.device.type == "cpu" and local.dim() > 0
            and local.is_contiguous() and dtype.itemsize == local.element_size()
            and not local.is_conj() and not local.is_neg())


def _write(local: torch.Tensor, produce, index, dtype: np.dtype, finish):
    """local = produce(index, out) (the block index of the global tensor),
    through a NumPy view when _direct (the write announced beforehand), else
    copied in and finish(local) run (bfloat16 bounds without ml_dtypes)."""
    if _direct(local, dtype):
        produce(index, _as_numpy(local))
    else:
        local.copy_(_from_numpy(produce(index, None)))
        finish(local)


def _write_block(block: _Block, shape: tuple, produce, dtype: np.dtype, finish):
    """Fill block.local with the global tensor at block.indices: one core call
    for a box (Shard, Replicate), or for rows in any order over whole other
    dims (FSDP2's strided dim-0 shards); else one per box of runs."""
    local, indices = block
    if local.is_meta or local.numel() == 0:
        return
    runs = [_runs(ix) for ix in indices]
    if all(len(r) == 1 for r in runs):
        whole = all(g == 0 and n == size for ((_, g, n),), size in zip(runs, shape))
        _write(local, produce, None if whole else tuple(slice(g, g + n) for ((_, g, n),) in runs), dtype, finish)
    elif all(len(r) == 1 for r in runs[1:]) and all(ix == range(n) for ix, n in zip(indices[1:], local.shape[1:])):
        _write(local, produce, list(indices[0]), dtype, finish)
    else:
        for box in itertools.product(*runs):
            _write(local[tuple(slice(l, l + n) for l, _, n in box)], produce,
                   tuple(slice(g, g + n) for _, g, n in box), dtype, finish)


# ---------------------------------------------------------------- bfloat16 without ml_dtypes

def _bf16(x: float) -> torch.Tensor:
    """x rounded to bfloat16 as NumPy's ml_dtypes.bfloat16(x) rounds it
    (through float32)."""
    return torch.tensor(x, dtype=torch.float32).to(torch.bfloat16)


def _bf16_step(v: torch.Tensor, up: bool) -> torch.Tensor:
    return torch.nextafter(v, torch.tensor(math.inf if up else -math.inf, dtype=torch.bfloat16))


def _bf16_at_least(x: float) -> torch.Tensor:
    v = _bf16(x)
    return _bf16_step(v, True) if float(v) < x else v


def _bf16_at_most(x: float) -> torch.Tensor:
    v = _bf16(x)
    return _bf16_step(v, False) if float(v) > x else v


def _bfloat16_fallback(distribution, kernel: str, params: dict):
    """Without ml_dtypes, a bfloat16 tensor gets float32 values rounded by
    copy_, which is what the core's bfloat16 path computes (the float32
    kernel, then rounding) except for the parameters that depend on the
    dtype: the bounds. Returns (params, finish): the float32 kernel's
    parameters for bfloat16 and what to run on the rounded tensor, the
    bfloat16 bounds validated first (nothing written on error). Uniform is
    capped below high after rounding, the truncated normal clamped into the
    bfloat16 values of [a, b]: rounding is monotonic and the bounds are
    bfloat16 values, so this gives the core's bits."""
    if isinstance(distribution, _spec.Uniform):
        low, high = _bf16(distribution.low), _bf16(distribution.high)
        if distribution.equal_ok and bool(low == high):
            return params, lambda local: local.fill_(high)
        if not bool(low < high):
            raise ValueError(f"low must be < high in bfloat16, got low={distribution.low!r}, "
                             f"high={distribution.high!r}")
        top = _bf16_step(high, False)
        return params, lambda local: local.clamp_(max=top)
    if isinstance(distribution, _spec.TruncatedNormal):
        lo, hi = _bf16_at_least(distribution.a), _bf16_at_most(distribution.b)
        if not bool(lo <= hi):
            raise ValueError(f"no bfloat16 value lies in [a, b] = [{distribution.a!r}, {distribution.b!r}]")
        if kernel == "uniform":  # a window too flat for the inverse CDF: U over its dtype values
            params = dict(low=float(lo), span=float(hi) - float(lo), high_below=float(hi))
        return params, lambda local: local.clamp_(lo, hi)
    return params, lambda local: None  # normal, orthogonal: rounding is all


# ---------------------------------------------------------------- one fill

# Distributions (and C-core parameters) of calls validated before, by the
# core's plain-typed call key: a repeated call skips the spec's Python
# checks, as the core's own hot path does.
_VALIDATED = {}
_VALIDATED_MAX = 4096


def _validated(name: str, shape: tuple, dtype: np.dtype, values: tuple, equal_ok: bool) -> tuple:
    """(distribution, kernel, params) of initializer name with options
    values (in spec order) for a tensor of the global shape and dtype;
    raises on bad input (before anything is written)."""
    key = _core.hot_key(name, shape, dtype, None, None, None, values)
    if key is not None:
        key = (key, equal_ok)
        found = _VALIDATED.get(key)
        if found is not None:
            return found
    entry = _spec.INITIALIZERS[name]
    distribution = entry.distribution(shape, dict(zip(entry.option_names, values)))
    if equal_ok:
        distribution = distribution._replace(equal_ok=True)
    kernel, params = (None, None) if isinstance(distribution, _spec.Orthogonal) else distribution.core(dtype)
    if key is not None and len(_VALIDATED) < _VALIDATED_MAX:
        _VALIDATED[key] = distribution, kernel, params
    return distribution, kernel, params


def _fill(tensor, name, generator, seed, stream, *, equal_ok=False, **options):
    """Fill tensor (a tensor, DTensor, ShardedTensor or fill_block's block)
    with the core initializer ``name`` (its spec entry) and ``options``, the
    distribution computed from the global shape; equal_ok: equal bounds give
    the constant (PyTorch's U[a, a)). Everything is validated before the
    first write; the fill itself is the core's call (its hot path), except
    for the constants of equal_ok and bfloat16 without ml_dtypes (their own
    parameters); orthogonal, which cannot generate a block alone, is
    generated whole once and each block sliced from it."""
    target = _target(tensor)
    if all(b.local.is_meta for b in target.blocks):  # no storage: nothing to fill, nothing to draw
        _plan.check_uint64("stream", stream)
        return tensor
    seed, stream = _check_key(generator, seed, stream)
    shape = target.shape
    torch_dtype = target.blocks[0].local.dtype if target.blocks else torch.float32
    dtype = _numpy_dtype(torch_dtype)
    values = tuple(options.get(option, default) for option, default in _spec.INITIALIZERS[name].options)
    distribution, kernel, params = _validated(name, shape, dtype, values, equal_ok)
    whole = isinstance(distribution, _spec.Orthogonal)
    finish = lambda local: None  # noqa: E731
    as_called = not equal_ok  # the core's own call gives these values
    if torch_dtype == torch.bfloat16 and dtype.name != "bfloat16":
        params, finish = _bfloat16_fallback(distribution, kernel, params)
        as_called = False
    key = [0 if seed is None else seed]  # the drawn seed replaces 0 before the first write
    full = []

    def produce(index, out):
        if as_called and not whole:
            return _spec.generate(name, shape, key[0], stream, dtype, out, None, index, values)
        if not whole:
            p = _plan.plan(shape, key[0], stream, dtype, out, index, None, _spec.FLOAT_DTYPES)
            return _plan.run(p, kernel, **params)
        if not full:
            full.append(_spec.sample(distribution, _plan.plan(shape, key[0], stream, dtype, None, None, None,
                                                              _spec.FLOAT_DTYPES)))
        block = full[0] if index is None else full[0][index]
        if out is None:
            return block
        out[...] = block
        return out

    with torch.no_grad():
        for block in target.blocks:
            # the direct write announced; a copy_ is PyTorch's own write, but
            # an inference tensor outside inference_mode is refused now,
            # before the seed is drawn
            if _direct(block.local, dtype) or (block.local.is_inference() and not torch.is_inference_mode_enabled()):
                _announce_inplace(block.local)
        if seed is None:
            key[0] = draw_seed(generator)
        for block in target.blocks:
            _write_block(block, shape, produce, dtype, finish)
        if target.wrapper is not None and target.blocks:
            torch.autograd.graph.increment_version(target.wrapper)
    return tensor


def _checked(tensor):
    """tensor itself, or fill_block's local tensor; a TypeError for anything
    else (a NumPy array: use the core functions)."""
    if isinstance(tensor, _LocalBlock):
        return tensor.local
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__} "
                        f"(for NumPy arrays use fastinit's own functions with out=)")
    return tensor


def _shape(tensor) -> tuple:
    """The global shape of what a function fills."""
    return tensor.global_shape if isinstance(tensor, _LocalBlock) else tuple(_checked(tensor).shape)


def _probe(tensor):
    """A tensor of the global shape for PyTorch's fan helpers (a meta tensor
    for a sharded one: they index it)."""
    if type(tensor) in (torch.Tensor, nn.Parameter):
        return tensor
    return torch.empty(_shape(tensor), device="meta")


def _is_meta(tensor) -> bool:
    return _checked(tensor).is_meta


# ---------------------------------------------------------------- torch.nn.init


def uniform_(tensor, a=0.0, b=1.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with U(a, b) (``a`` included, ``b`` never returned); the
    constant ``a`` when ``a`` and ``b`` are equal in the tensor's dtype, as
    in PyTorch.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.uniform_(torch.empty(3, 5), -1.0, 1.0, seed=0)
    >>> bool(((w >= -1) & (w < 1)).all())
    True
    """
    a, b = _scalars(a, b)
    return _fill(tensor, "uniform", generator, seed, stream, equal_ok=True, low=a, high=b)


def normal_(tensor, mean=0.0, std=1.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with N(mean, std^2).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.normal_(torch.empty(1000, 1000), 0.0, 2.0, seed=0)
    >>> round(float(w.std()), 1)
    2.0
    """
    mean, std = _scalars(mean, std)
    return _fill(tensor, "normal", generator, seed, stream, mean=mean, std=std)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, seed=None, stream=0):
    """Fill tensor with N(mean, std^2) truncated to [a, b] (absolute bounds,
    as in PyTorch), by the inverse CDF (no rejection loop); the constant
    ``a`` when ``a == b``, as in PyTorch.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.trunc_normal_(torch.empty(100, 100), std=0.02, a=-0.04, b=0.04, seed=0)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    mean, std, a, b = _scalars(mean, std, a, b)
    if not _is_meta(tensor) and (mean < a - 2 * std or mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    if isinstance(a, numbers.Real) and a == b:  # the window is the point a
        return _fill(tensor, "uniform", generator, seed, stream, equal_ok=True, low=a, high=b)
    return _fill(tensor, "truncated_normal", generator, seed, stream, mean=mean, std=std, a=a, b=b)


def xavier_uniform_(tensor, gain=1.0, generator=None, *, seed=None, stream=0):
    """Glorot/Xavier uniform: U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``
    (``fastinit.glorot_uniform``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.xavier_uniform_(torch.empty(300, 100), seed=0)
    >>> bool(w.abs().max() < (6 / 400) ** 0.5)
    True
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return _fill(tensor, "glorot_uniform", generator, seed, stream, gain=_scalars(gain)[0], layout="torch")


def xavier_normal_(tensor, gain=1.0, generator=None, *, seed=None, stream=0):
    """Glorot/Xavier normal: N(0, s^2), ``s = gain * sqrt(2 / (fan_in + fan_out))``
    (``fastinit.glorot_normal``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.xavier_normal_(torch.empty(1000, 1000), seed=0)
    >>> round(float(w.std()), 3)
    0.032
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return _fill(tensor, "glorot_normal", generator, seed, stream, gain=_scalars(gain)[0], layout="torch")


def _kaiming(name, tensor, a, mode, nonlinearity, generator, seed, stream):
    """PyTorch's checks and zero-element warning, then the core He initializer."""
    if 0 in _shape(tensor):
        warnings.warn(ZERO_ELEMENT_WARNING, stacklevel=3)
        return tensor
    _calculate_correct_fan(_probe(tensor), mode)
    calculate_gain(nonlinearity, a)
    return _fill(tensor, name, generator, seed, stream, a=a, mode=mode, nonlinearity=nonlinearity,
                 layout="torch")


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *,
                     seed=None, stream=0):
    """He/Kaiming uniform: U(-b, b), ``b = gain * sqrt(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)``, fan = fan_in or fan_out (mode)
    (``fastinit.he_uniform``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.kaiming_uniform_(torch.empty(256, 512), nonlinearity="relu", seed=0)
    >>> bool(w.abs().max() < (6 / 512) ** 0.5)
    True
    """
    return _kaiming("he_uniform", tensor, a, mode, nonlinearity, generator, seed, stream)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *,
                    seed=None, stream=0):
    """He/Kaiming normal: N(0, s^2), ``s = gain / sqrt(fan)`` (``fastinit.he_normal``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.kaiming_normal_(torch.empty(512, 1024), nonlinearity="relu", seed=0)
    >>> round(float(w.std()) * 1024 ** 0.5, 1)
    1.4
    """
    return _kaiming("he_normal", tensor, a, mode, nonlinearity, generator, seed, stream)


def lecun_uniform_(tensor, generator=None, *, seed=None, stream=0):
    """LeCun uniform: U(-a, a), ``a = sqrt(3 / fan_in)`` (PyTorch lacks it;
    ``fastinit.lecun_uniform``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.lecun_uniform_(torch.empty(10, 300), seed=0)
    >>> bool(w.abs().max() < 0.1)
    True
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return _fill(tensor, "lecun_uniform", generator, seed, stream, layout="torch")


def lecun_normal_(tensor, generator=None, *, seed=None, stream=0):
    """LeCun normal: N(0, 1 / fan_in); with SELU, self-normalizing networks
    (``fastinit.lecun_normal``).

    >>> import torch, fastinit.torch as fi
    >>> w = fi.lecun_normal_(torch.empty(400, 400), seed=0)
    >>> round(float(w.std()) * 20, 2)
    1.0
    """
    _calculate_fan_in_and_fan_out(_probe(tensor))
    return _fill(tensor, "lecun_normal", generator, seed, stream, layout="torch")


def orthogonal_(tensor, gain=1, generator=None, *, seed=None, stream=0):
    """A (semi-)orthogonal matrix times gain, over ``(rows, numel / rows)``
    with rows = ``tensor.shape[0]`` as in PyTorch (Saxe et al., 2013;
    ``fastinit.orthogonal``). On a sharded tensor each rank computes the
    whole matrix once (a QR factorization cannot be split) and keeps its
    block, so the shards are exactly the single-process matrix.

    >>> import torch, fastinit.torch as fi
    >>> w = fi.orthogonal_(torch.empty(3, 5), seed=0)
    >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)
    True
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if math.prod(shape) == 0 or _is_meta(tensor):
        return tensor
    return _fill(tensor, "orthogonal", generator, seed, stream, gain=_scalars(gain)[0])


def fill_block(init, local, global_shape, offsets, *args, **kwargs):
    """Fill ``local`` with the block ``[offsets, offsets + local.shape)`` of
    the tensor of shape ``global_shape`` that ``init(global tensor, *args,
    **kwargs)`` would make, and return it; fans come from ``global_shape``.
    ``init`` is any function of this module. For shards that are neither a
    DTensor nor a ShardedTensor (which the functions take directly): every
    process fills its own block with the same seed and stream, and the
    blocks are the single-process tensor bit for bit.

    >>> import torch, fastinit.torch as fi
    >>> rows = fi.fill_block(fi.kaiming_uniform_, torch.empty(2, 8), (6, 8), (4, 0), a=5 ** 0.5, seed=0)
    >>> torch.equal(rows, fi.kaiming_uniform_(torch.empty(6, 8), a=5 ** 0.5, seed=0)[4:])
    True
    """
    if getattr(init, "__module__", None) == "torch.nn.init":
        raise TypeError(f"init must be a function of fastinit.torch (fastinit.torch.{init.__name__}), got "
                        f"torch.nn.init.{init.__name__}: PyTorch's functions cannot fill a block of a global tensor")
    if not isinstance(local, torch.Tensor):
        raise TypeError(f"local must be a torch.Tensor, got {type(local).__name__}")
    global_shape = _plan.check_shape(global_shape)
    if not isinstance(offsets, (tuple, list)) or len(offsets) != len(global_shape) or \
            not all(_plan.is_int(o) for o in offsets):
        raise TypeError(f"offsets must be a tuple of {len(global_shape)} ints (one per dim of global_shape "
                        f"{global_shape}), got {offsets!r}")
    offsets = tuple(int(o) for o in offsets)
    if local.dim() != len(global_shape) or any(
            o < 0 or o + n > g for o, n, g in zip(offsets, local.shape, global_shape)):
        raise ValueError(f"a local tensor of shape {tuple(local.shape)} at offsets {offsets} is not a block "
                         f"of global_shape {global_shape}")
    init(_LocalBlock(local, global_shape, offsets), *args, **kwargs)
    return local


# init_module lives in its own module (it runs each module's init code with
# the fills above); imported last, as it uses them.
from fastinit._torch_module import init_module, initializing, stable_stream  # noqa: E402
